//! What the volume analytics read: the tagged events of the window as rows, and hourly
//! aggregates of any selection grouped by any key columns.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;

use super::super::DetectContext;
use crate::profiles::{self, TaggedOperation, HOUR_US, T};
use crate::schema as s;
use crate::Result;

/// Columns of a [`Row`].
pub const ROW_COLUMNS: [&str; 14] = [
    s::EVENT_UID,
    s::PROVIDER,
    s::LOG_FORMAT,
    s::ACCOUNT_UID,
    s::REGION,
    s::ACTOR_UID,
    s::ACTOR_TYPE,
    s::SRC_IP,
    s::USER_AGENT,
    s::SERVICE,
    s::OPERATION,
    s::STATUS,
    s::RESOURCE_UID,
    s::REQUEST_PARAMS,
];

/// One event of the scoring window, owned.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// `time`, µs since the epoch (UTC).
    pub t: i64,
    /// `event_uid`.
    pub event_uid: String,
    /// `provider`.
    pub provider: String,
    /// `log_format`.
    pub log_format: String,
    /// `account_uid`.
    pub account: String,
    /// `region`.
    pub region: Option<String>,
    /// `actor_uid`; `None` when the record names no principal.
    pub actor: Option<String>,
    /// `actor_type`.
    pub actor_type: Option<String>,
    /// `src_ip`.
    pub src_ip: Option<String>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `service`.
    pub service: String,
    /// `operation`.
    pub operation: String,
    /// `status` is `failure`.
    pub failed: bool,
    /// `resource_uid`.
    pub resource: Option<String>,
    /// `request_params` (JSON text).
    pub request: Option<String>,
}

impl Row {
    /// The hour index `floor(t / HOUR_US)`.
    pub fn hour(&self) -> i64 {
        self.t.div_euclid(HOUR_US)
    }
}

/// What a volume analytic reads from `lookback_start` to `scan_end`: the operations that
/// carry its catalogue tag, the profile store's summary (first-seen times, routine days),
/// and, on demand and one day at a time, the tagged events themselves.
pub struct Selection {
    /// The tagged operations present in the range (with their catalogue entries); empty
    /// when no operation of the range carries the tag.
    pub ops: Vec<TaggedOperation>,
    /// The profile store's operation groups over the range
    /// ([`DetectContext::summary`]): first-seen times and routine days come from it.
    pub summary: LazyFrame,
    /// Start of the history.
    pub lookback_start: DateTime<Utc>,
    /// Start of the scoring window (= end of the history).
    pub window_start: DateTime<Utc>,
    /// End of the scoring window (exclusive).
    pub as_of: DateTime<Utc>,
    /// End of the scanned range (exclusive): `as_of` plus the analytic's look-ahead.
    pub scan_end: DateTime<Utc>,
}

impl Selection {
    /// Scans `history_days` before the window, the window, and `after` beyond it (for
    /// analytics that look for later data; zero for the others). `None` when no lake file
    /// covers the range. Errors: [`crate::Error::Lake`] for unreadable files.
    pub fn load(ctx: &DetectContext, tag: &str, history_days: u32, after: Duration) -> Result<Option<Selection>> {
        let window_start = ctx.window_start();
        let lookback_start = window_start - Duration::days(i64::from(history_days));
        if profiles::event_files(ctx.lake_root, lookback_start.date_naive(), (ctx.as_of + after).date_naive())?.is_empty() {
            return Ok(None);
        }
        let summary = ctx.summary(lookback_start, ctx.as_of + after)?;
        let ops = tagged_operations(ctx.lake_root, summary.clone(), ctx.catalog, tag)?;
        Ok(Some(Selection { ops, summary, lookback_start, window_start, as_of: ctx.as_of, scan_end: ctx.as_of + after }))
    }

    fn between(&self, lf: LazyFrame, from: DateTime<Utc>, to: DateTime<Utc>) -> LazyFrame {
        let t = col(s::TIME).cast(DataType::Int64);
        lf.filter(t.clone().gt_eq(lit(from.timestamp_micros())).and(t.lt(lit(to.timestamp_micros()))))
    }

    /// The profile store's operation groups that start before the window.
    pub fn summary_history(&self) -> LazyFrame {
        self.between(self.summary.clone(), self.lookback_start, self.window_start)
    }

    /// First activity (µs) per value of `key` (`actor_uid`, `account_uid`) over the
    /// scanned range, from the profile store.
    ///
    /// # Errors
    /// [`crate::Error::Lake`] for unreadable profile files.
    pub fn first_seen(&self, lake_root: &Path, key: &str) -> Result<HashMap<String, i64>> {
        profiles::first_seen(lake_root, self.summary.clone(), key)
    }

    /// The tagged events of the window, sorted by time then `event_uid`.
    pub fn window_rows(&self, lake_root: &Path) -> Result<Vec<Row>> {
        self.tagged_rows(lake_root, self.window_start, self.as_of)
    }

    /// The tagged events with `from ≤ time < to` (within the scanned range), sorted by
    /// time then `event_uid`. Only the event files of `from..to`'s days are opened, not
    /// the whole lookback's.
    pub fn tagged_rows(&self, lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Row>> {
        let Some(raw) = profiles::scan_events(lake_root, from, to)? else {
            return Ok(Vec::new());
        };
        let Some(lf) = profiles::tagged_events(lake_root, raw.filter(one_record_per_operation()), &self.ops, &ROW_COLUMNS)? else {
            return Ok(Vec::new());
        };
        let mut select: Vec<Expr> = ROW_COLUMNS.iter().map(|c| col(*c)).collect();
        select.push(profiles::time_us());
        let df = profiles::collect(lake_root, lf.select(select))?;
        rows_of(&df)
    }

    /// [`hourly_by`] over the tagged events with `from ≤ time < to` that pass `filter`,
    /// a few UTC days at a time: consecutive days are queried together while their event
    /// files hold at most [`CHUNK_BYTES`], so a small lake is one query and a large one a
    /// day or two per query. An hour never spans two days, so the merged result is that of
    /// one query over the range, while memory holds one chunk's rows, not the lookback's.
    ///
    /// # Errors
    /// [`crate::Error::Lake`] / [`crate::Error::Io`] for unreadable files.
    pub fn tagged_hourly(&self, lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>, filter: Option<Expr>, keys: &[&str], distinct: &[&str]) -> Result<Hourly> {
        let mut columns: Vec<&str> = keys.iter().chain(distinct).copied().collect();
        columns.push(s::ACTOR_UID);
        let mut out: Hourly = HashMap::new();
        for (lo, hi) in chunks(lake_root, from, to)? {
            let Some(raw) = profiles::scan_events(lake_root, lo, hi)? else {
                continue;
            };
            let Some(mut lf) = profiles::tagged_events(lake_root, raw.filter(one_record_per_operation()), &self.ops, &columns)? else {
                continue;
            };
            if let Some(f) = &filter {
                lf = lf.filter(f.clone());
            }
            for (key, hours) in hourly_by(lake_root, lf, keys, distinct)? {
                out.entry(key).or_default().extend(hours);
            }
        }
        Ok(out)
    }
}

/// Most bytes of event files (compressed Parquet) one [`Selection::tagged_hourly`] query
/// reads: about 1.5 days of the 4.3 M-row benchmark lake, which its queries hold in
/// ≈ 200 MB (benches/README.md).
pub const CHUNK_BYTES: u64 = 64 << 20;

/// `[from, to)` cut at UTC midnights into runs of consecutive days whose event files hold
/// at most [`CHUNK_BYTES`] together (a larger day is a run of its own).
fn chunks(lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut sizes: std::collections::BTreeMap<chrono::NaiveDate, u64> = std::collections::BTreeMap::new();
    for f in profiles::event_files(lake_root, from.date_naive(), to.date_naive())? {
        let date = f.parent().and_then(|d| d.file_name()).and_then(|n| n.to_str()?.strip_prefix("date=")?.parse().ok());
        let len = std::fs::metadata(&f).map_err(|source| crate::Error::Io { path: f.clone(), source })?.len();
        if let Some(d) = date {
            *sizes.entry(d).or_default() += len;
        }
    }
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut acc = 0u64;
    for (day, size) in sizes {
        let start = day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().max(from);
        let end = (day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() + Duration::days(1)).min(to);
        match out.last_mut() {
            Some(last) if last.1 == start && acc + size <= CHUNK_BYTES => {
                last.1 = end;
                acc += size;
            }
            _ => {
                out.push((start, end));
                acc = size;
            }
        }
    }
    Ok(out)
}

/// Keeps one record per operation. Azure Resource Manager logs an action as `Started`
/// (sometimes also `Accepted`) and then `Succeeded` / `Failed`, each its own event with one
/// `correlationId`; Google logs a long-running operation's first and last entries
/// (`operation.first` / `.last`, normalised to `status_raw` =
/// [`crate::sources::gcp_audit::OPERATION_FIRST`] for the first). Counting rows would count
/// one `listKeys` or one Cloud Functions deploy two or three times, so the interim records
/// are dropped and the terminal one counted; other rows all pass (a NULL `status_raw`
/// included). Sources: Azure Monitor activity log schema, "status" / "subStatus"
/// (<https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema>);
/// Cloud Logging `LogEntryOperation`
/// (<https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#logentryoperation>).
pub fn one_record_per_operation() -> Expr {
    use crate::schema::LogFormat;
    let raw = col(s::STATUS_RAW).str().to_lowercase();
    let azure_interim = ["started", "start", "accepted", "accept"].into_iter().map(|v| raw.clone().eq(lit(v))).reduce(|a, b| a.or(b)).expect("four states");
    let azure = col(s::LOG_FORMAT).eq(lit(LogFormat::AzureActivity.as_str())).and(azure_interim);
    let gcp = col(s::LOG_FORMAT).eq(lit(LogFormat::GcpAudit.as_str())).and(col(s::STATUS_RAW).eq(lit(crate::sources::gcp_audit::OPERATION_FIRST)));
    azure.or(gcp).fill_null(lit(false)).not()
}

/// Tagged operations: the profile's query, which honours `service = "*"` entries.
pub use crate::profiles::tagged_operations;

fn rows_of(df: &DataFrame) -> Result<Vec<Row>> {
    let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for name in ROW_COLUMNS {
        c.insert(name, profiles::strings(df, name)?);
    }
    let ts = profiles::ints(df, T)?;
    let mut get = |n: &str, i: usize| c.get_mut(n).and_then(|v| v[i].take());
    let mut rows: Vec<Row> = (0..ts.len())
        .map(|i| Row {
            t: ts[i],
            event_uid: get(s::EVENT_UID, i).unwrap_or_default(),
            provider: get(s::PROVIDER, i).unwrap_or_default(),
            log_format: get(s::LOG_FORMAT, i).unwrap_or_default(),
            account: get(s::ACCOUNT_UID, i).unwrap_or_default(),
            region: get(s::REGION, i),
            actor: get(s::ACTOR_UID, i),
            actor_type: get(s::ACTOR_TYPE, i),
            src_ip: get(s::SRC_IP, i),
            user_agent: get(s::USER_AGENT, i),
            service: get(s::SERVICE, i).unwrap_or_default(),
            operation: get(s::OPERATION, i).unwrap_or_default(),
            failed: get(s::STATUS, i).as_deref() == Some(s::Status::Failure.as_str()),
            resource: get(s::RESOURCE_UID, i),
            request: get(s::REQUEST_PARAMS, i),
        })
        .collect();
    rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    Ok(rows)
}

/// Events of one hour: the count and the number of distinct values of each requested
/// column (in the order asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourAgg {
    /// Events in the hour.
    pub count: u64,
    /// Distinct non-NULL values per column of the `distinct` argument of [`hourly_by`].
    pub distinct: Vec<u64>,
}

/// Key values in the order of the `keys` argument; NULL becomes `""`.
pub type Key = Vec<String>;

/// Hourly aggregates per key.
pub type Hourly = HashMap<Key, BTreeMap<i64, HourAgg>>;

/// Per combination of the string columns `keys` and hour (`floor(time_us / HOUR_US)`): the
/// event count and the distinct counts of the `distinct` columns. Hours without events
/// are absent (callers add the zeros).
pub fn hourly_by(lake_root: &Path, lf: LazyFrame, keys: &[&str], distinct: &[&str]) -> Result<Hourly> {
    let hour = col(s::TIME).cast(DataType::Int64).floor_div(lit(HOUR_US)).alias(profiles::store::HOUR);
    let mut by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    by.push(hour);
    let mut aggs = vec![len().cast(DataType::Int64).alias(profiles::store::N)];
    for (i, d) in distinct.iter().enumerate() {
        aggs.push(col(*d).drop_nulls().n_unique().cast(DataType::Int64).alias(format!("d{i}")));
    }
    let df = profiles::collect(lake_root, lf.group_by(by).agg(aggs))?;
    hourly_of(&df, keys, distinct.len())
}

/// Per combination of the string columns `keys` and hour: the summed `n` of the profile
/// store's hourly rows `lf` ([`DetectContext::hourly_profile`]), as [`hourly_by`] gives
/// for the raw events (no distinct counts: the store keeps none per hour).
pub fn hourly_sum(lake_root: &Path, lf: LazyFrame, keys: &[&str]) -> Result<Hourly> {
    use profiles::store::{HOUR, N};
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).chain([col(HOUR)]).collect();
    let df = profiles::collect(lake_root, lf.group_by(by).agg([col(N).sum().alias(N)]))?;
    hourly_of(&df, keys, 0)
}

/// An aggregate frame (the `keys` columns, `hour`, `n` and `d0..d{distinct}`) as [`Hourly`].
fn hourly_of(df: &DataFrame, keys: &[&str], distinct: usize) -> Result<Hourly> {
    use profiles::store::{HOUR, N};
    let mut key_cols = Vec::with_capacity(keys.len());
    for k in keys {
        key_cols.push(profiles::strings(df, k)?);
    }
    let (hours, counts) = (profiles::ints(df, HOUR)?, profiles::ints(df, N)?);
    let mut distinct_cols = Vec::with_capacity(distinct);
    for i in 0..distinct {
        distinct_cols.push(profiles::ints(df, &format!("d{i}"))?);
    }
    let mut out: Hourly = HashMap::new();
    for i in 0..df.height() {
        let key: Key = key_cols.iter_mut().map(|c| c[i].take().unwrap_or_default()).collect();
        let agg = HourAgg { count: counts[i].max(0) as u64, distinct: distinct_cols.iter().map(|c| c[i].max(0) as u64).collect() };
        out.entry(key).or_default().insert(hours[i], agg);
    }
    Ok(out)
}

/// The counts of hours `from..to` (zeros filled in) from one key's aggregates; `pick`
/// chooses the figure (the count, or one of the distinct counts).
pub fn series(hours: Option<&BTreeMap<i64, HourAgg>>, from: i64, to: i64, pick: impl Fn(&HourAgg) -> u64) -> Vec<u64> {
    let mut out = vec![0u64; (to - from).max(0) as usize];
    if let Some(h) = hours {
        for (&hour, agg) in h.range(from..to) {
            out[(hour - from) as usize] = pick(agg);
        }
    }
    out
}
