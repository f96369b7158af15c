//! Baselines read from the lake with polars: the event files of a time range, which
//! operations carry a catalogue tag, first-seen times and hourly counts per principal.
//!
//! The queries here take any `LazyFrame` with the lake's column names: the raw events of
//! a range ([`scan_events`], for the window's rows and the tagged rows an analytic reads
//! one by one), or the persisted daily aggregates of [`store`] (for first-seen times,
//! routine days, the operations present and hourly counts over the whole lookback, so
//! that the lookback's events are not re-read by every analytic on every run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;

use crate::catalog::{Catalog, Entry};
use crate::schema as s;
use crate::{Error, Result};

pub mod store;

/// Microseconds in one hour: the bucket of hourly counts.
pub const HOUR_US: i64 = 3_600_000_000;

/// User-agent fragments (lower-case) of infrastructure-as-code and deployment tools. A
/// principal whose calls carry them is automation even when its `actor_type` is a role
/// (AWS workloads and CI pipelines are assumed roles, like SSO people), so it is profiled
/// apart from people (DESIGN.md "Statistics"; case P40). The list follows the agents that
/// Elastic's and Splunk's AWS rules exclude as deployment noise.
pub const IAC_USER_AGENTS: &[&str] = &[
    "terraform",
    "hashicorp",
    "opentofu",
    "pulumi",
    "aws-cdk",
    "cloudformation",
    "aws-sam-cli",
    "ansible",
    "crossplane",
    "serverless/",
];

/// True when `user_agent` names an infrastructure-as-code or deployment tool.
pub fn is_iac_user_agent(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    IAC_USER_AGENTS.iter().any(|f| ua.contains(f))
}

/// Name of the `Int64` microsecond copy of `time` that queries built here select.
pub const T: &str = "t";

/// `time` as Int64 microseconds since the epoch (UTC), aliased [`T`].
pub fn time_us() -> Expr {
    col(s::TIME).cast(DataType::Int64).alias(T)
}

fn lake_err(lake_root: &Path, e: impl std::fmt::Display) -> Error {
    Error::lake(lake_root.join("events").display().to_string(), e)
}

/// Event Parquet files under `<lake_root>/events/provider=*/date=D/` with `from ≤ D ≤ to`
/// (dates of `time`, UTC), sorted. A missing lake gives an empty list. Dot-files
/// (writes in progress) are skipped.
pub fn event_files(lake_root: &Path, from: NaiveDate, to: NaiveDate) -> Result<Vec<PathBuf>> {
    let read = |dir: &Path| -> Result<Vec<PathBuf>> {
        match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .map(|e| {
                    e.map(|e| e.path()).map_err(|source| Error::Io {
                        path: dir.into(),
                        source,
                    })
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(Error::Io {
                path: dir.into(),
                source,
            }),
        }
    };
    let mut files = Vec::new();
    for provider_dir in read(&lake_root.join("events"))? {
        let is_provider = provider_dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("provider="));
        if !is_provider || !provider_dir.is_dir() {
            continue;
        }
        for date_dir in read(&provider_dir)? {
            let name = date_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(date) = name
                .strip_prefix("date=")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            if date < from || date > to || !date_dir.is_dir() {
                continue;
            }
            for f in read(&date_dir)? {
                let n = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if n.ends_with(".parquet") && !n.starts_with('.') {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A lazy scan of the Parquet `files` (no globbing; hive partition parsing off, so
/// `provider` and `date` are the files' own columns).
pub(crate) fn scan_files(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    let paths: Vec<PlRefPath> = files.iter().map(|p| PlRefPath::from(p.to_string_lossy().as_ref())).collect();
    let mut args = ScanArgsParquet { glob: false, ..Default::default() };
    args.hive_options.enabled = Some(false);
    LazyFrame::scan_parquet_files(paths.into(), args)
}

/// A lazy scan of the events with `from ≤ time < to`, or `None` when no file covers the
/// range. Hive partition parsing is off: `provider` and `date` are real columns.
pub fn scan_events(
    lake_root: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<LazyFrame>> {
    let files = event_files(lake_root, from.date_naive(), to.date_naive())?;
    if files.is_empty() || from >= to {
        return Ok(None);
    }
    let lf = scan_files(&files).map_err(|e| lake_err(lake_root, e))?;
    let t = col(s::TIME).cast(DataType::Int64);
    let range = t
        .clone()
        .gt_eq(lit(from.timestamp_micros()))
        .and(t.lt(lit(to.timestamp_micros())));
    Ok(Some(lf.filter(range)))
}

/// Runs a query, mapping polars errors to [`Error::Lake`] at the lake's events folder.
pub fn collect(lake_root: &Path, lf: LazyFrame) -> Result<DataFrame> {
    lf.collect().map_err(|e| lake_err(lake_root, e))
}

/// A string column as owned optional values.
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let c = df
        .column(name)
        .and_then(|c| c.str())
        .map_err(|e| Error::lake(name, e))?;
    Ok(c.iter().map(|v| v.map(str::to_string)).collect())
}

/// An Int64 column (nulls as `i64::MIN`, which no query here produces).
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
    let c = df
        .column(name)
        .and_then(|c| c.i64())
        .map_err(|e| Error::lake(name, e))?;
    Ok(c.iter().map(|v| v.unwrap_or(i64::MIN)).collect())
}

/// One (provider, service, operation) seen in the lake whose catalogue entries carry a
/// tag, with the request condition that must also hold.
#[derive(Debug, Clone)]
pub struct TaggedOperation {
    /// `provider` as written in the lake.
    pub provider: String,
    /// `service` as written in the lake.
    pub service: String,
    /// `operation` as written in the lake.
    pub operation: String,
    /// Keys that must be JSON `true` in `request_params`; empty when any winning entry is
    /// unconditional.
    pub request_true: Vec<String>,
    /// The winning catalogue entries carrying the tag.
    pub entries: Vec<Entry>,
}

/// The operations present in `lf` whose catalogue lookup carries `tag` (exact-beats-prefix
/// semantics of [`Catalog::lookup`]). A coarse polars filter on the tagged services keeps
/// the scan small; the exact decision is made per distinct triple in Rust.
pub fn tagged_operations(
    lake_root: &Path,
    lf: LazyFrame,
    catalog: &Catalog,
    tag: &str,
) -> Result<Vec<TaggedOperation>> {
    let entries = catalog.entries_with_tag(tag);
    let mut services: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e.provider.to_ascii_lowercase(),
                e.service.to_ascii_lowercase(),
            )
        })
        .collect();
    services.sort();
    services.dedup();
    let Some(coarse) = services
        .iter()
        .map(|(p, sv)| {
            let provider = col(s::PROVIDER).str().to_lowercase().eq(lit(p.as_str()));
            // `service = "*"` entries apply to every service of the provider.
            if sv == "*" {
                provider
            } else {
                provider.and(col(s::SERVICE).str().to_lowercase().eq(lit(sv.as_str())))
            }
        })
        .reduce(|a, b| a.or(b))
    else {
        return Ok(Vec::new());
    };
    let df = collect(
        lake_root,
        lf.filter(coarse)
            .group_by([col(s::PROVIDER), col(s::SERVICE), col(s::OPERATION)])
            .agg([len().alias("n")]),
    )?;
    let (p, sv, op) = (
        strings(&df, s::PROVIDER)?,
        strings(&df, s::SERVICE)?,
        strings(&df, s::OPERATION)?,
    );
    let mut out = Vec::new();
    for ((p, sv), op) in p.into_iter().zip(sv).zip(op) {
        let (Some(p), Some(sv), Some(op)) = (p, sv, op) else {
            continue;
        };
        let winners = catalog.lookup_tagged(&p, &sv, &op, tag);
        if winners.is_empty() {
            continue;
        }
        let request_true = if winners.iter().any(|e| e.request_true.is_empty()) {
            Vec::new()
        } else {
            winners[0].request_true.clone()
        };
        let entries = winners.into_iter().cloned().collect();
        out.push(TaggedOperation {
            provider: p,
            service: sv,
            operation: op,
            request_true,
            entries,
        });
    }
    out.sort_by(|a, b| {
        (&a.provider, &a.service, &a.operation).cmp(&(&b.provider, &b.service, &b.operation))
    });
    Ok(out)
}

/// Escapes regex metacharacters of a catalogue key.
fn regex_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn triple(o: &TaggedOperation) -> Expr {
    col(s::PROVIDER)
        .eq(lit(o.provider.as_str()))
        .and(col(s::SERVICE).eq(lit(o.service.as_str())))
        .and(col(s::OPERATION).eq(lit(o.operation.as_str())))
}

/// The tagged events of `lf`: rows of one of `ops` whose request conditions hold, with
/// `columns` (and `time`) selected; `None` when `ops` is empty.
///
/// A `request_true` key is tested as the JSON text `"key"\s*:\s*true`, the decision of
/// [`Entry::matches_request`] for the flat objects CloudTrail logs. When any operation has
/// such a condition the rows of the tagged operations are collected first, so that the
/// regex and the wide `request_params` column are only read for those rows, not for
/// the whole lookback.
pub fn tagged_events(
    lake_root: &Path,
    lf: LazyFrame,
    ops: &[TaggedOperation],
    columns: &[&str],
) -> Result<Option<LazyFrame>> {
    let Some(any) = ops.iter().map(triple).reduce(|a, b| a.or(b)) else {
        return Ok(None);
    };
    let mut names: Vec<&str> = columns.to_vec();
    names.extend([s::TIME, s::PROVIDER, s::SERVICE, s::OPERATION]);
    if ops.iter().all(|o| o.request_true.is_empty()) {
        names.sort_unstable();
        names.dedup();
        let select: Vec<Expr> = names.iter().map(|c| col(*c)).collect();
        return Ok(Some(lf.filter(any).select(select)));
    }
    names.push(s::REQUEST_PARAMS);
    names.sort_unstable();
    names.dedup();
    let select: Vec<Expr> = names.iter().map(|c| col(*c)).collect();
    let rows = collect(lake_root, lf.filter(any).select(select))?;
    let exact = ops
        .iter()
        .map(|o| {
            let mut e = triple(o);
            for key in &o.request_true {
                let pattern = format!(r#""{}"\s*:\s*true"#, regex_escape(key));
                let has = col(s::REQUEST_PARAMS)
                    .str()
                    .count_matches(lit(pattern), false)
                    .gt(lit(0u32));
                e = e.and(has.fill_null(lit(false)));
            }
            e
        })
        .reduce(|a, b| a.or(b))
        .expect("ops is not empty");
    Ok(Some(rows.lazy().filter(exact)))
}

/// One tagged record read by [`tagged_records`]: its `time` and the text of the columns
/// asked for.
#[derive(Debug, Clone)]
pub struct Record<'c> {
    /// `time`, µs since the epoch (UTC).
    pub t: i64,
    cols: &'c [&'c str],
    cells: Vec<Option<String>>,
}

impl Record<'_> {
    fn at(&self, name: &str) -> usize {
        self.cols.iter().position(|c| *c == name).unwrap_or_else(|| panic!("column {name} was not selected"))
    }

    /// The column's text (`None` for NULL). Panics when `name` was not selected: a
    /// programming error, not a data one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cells[self.at(name)].as_deref()
    }

    /// Moves the column's text out (later reads give `None`).
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.at(name);
        self.cells[i].take()
    }
}

/// The tagged events of `lf` (see [`tagged_events`]) as records of the string columns
/// `cols` plus `time`, in scan order.
///
/// # Errors
/// [`Error::Lake`] for unreadable lake files or a column that is not text.
pub fn tagged_records<'c>(lake_root: &Path, lf: LazyFrame, ops: &[TaggedOperation], cols: &'c [&'c str]) -> Result<Vec<Record<'c>>> {
    let Some(tagged) = tagged_events(lake_root, lf, ops, cols)? else {
        return Ok(Vec::new());
    };
    let mut select: Vec<Expr> = cols.iter().map(|c| col(*c)).collect();
    select.push(time_us());
    let df = collect(lake_root, tagged.select(select))?;
    let mut columns = Vec::with_capacity(cols.len());
    for name in cols {
        columns.push(strings(&df, name)?.into_iter());
    }
    Ok(ints(&df, T)?
        .into_iter()
        .map(|t| Record { t, cols, cells: columns.iter_mut().map(|c| c.next().flatten()).collect() })
        .collect())
}

/// Earliest `time` (µs) per value of the string column `key` (`actor_uid`,
/// `account_uid`, ...) among the rows of `lf`; NULL keys are skipped.
pub fn first_seen(lake_root: &Path, lf: LazyFrame, key: &str) -> Result<HashMap<String, i64>> {
    let df = collect(
        lake_root,
        lf.filter(col(key).is_not_null())
            .group_by([col(key)])
            .agg([col(s::TIME).cast(DataType::Int64).min().alias(T)]),
    )?;
    Ok(strings(&df, key)?
        .into_iter()
        .zip(ints(&df, T)?)
        .filter_map(|(a, t)| Some((a?, t)))
        .collect())
}

/// Distinct UTC days (`date` column) per combination of the string columns `keys` among
/// the rows of `lf`: how routinely something happens. NULLs are part of the key.
pub fn distinct_days(
    lake_root: &Path,
    lf: LazyFrame,
    keys: &[&str],
) -> Result<HashMap<Vec<Option<String>>, u32>> {
    let by: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let df = collect(
        lake_root,
        lf.group_by(by)
            .agg([col(s::DATE).n_unique().cast(DataType::Int64).alias("days")]),
    )?;
    let mut columns = Vec::with_capacity(keys.len());
    for k in keys {
        columns.push(strings(&df, k)?);
    }
    let days = ints(&df, "days")?;
    Ok((0..df.height())
        .map(|i| {
            let key = columns.iter_mut().map(|c| c[i].take()).collect();
            (key, days[i].max(0) as u32)
        })
        .collect())
}

/// Event counts per (`actor_uid`, hour) among the rows of `lf`; the hour is
/// `floor(time_us / HOUR_US)`. Hours without events are absent (callers add the zeros).
pub fn hourly_counts(
    lake_root: &Path,
    lf: LazyFrame,
) -> Result<HashMap<String, HashMap<i64, u64>>> {
    let hour = col(s::TIME)
        .cast(DataType::Int64)
        .floor_div(lit(HOUR_US))
        .alias("hour");
    let df = collect(
        lake_root,
        lf.filter(col(s::ACTOR_UID).is_not_null())
            .group_by([col(s::ACTOR_UID), hour])
            .agg([len().cast(DataType::Int64).alias("n")]),
    )?;
    let mut out: HashMap<String, HashMap<i64, u64>> = HashMap::new();
    let (actors, hours, counts) = (
        strings(&df, s::ACTOR_UID)?,
        ints(&df, "hour")?,
        ints(&df, "n")?,
    );
    for ((a, h), n) in actors.into_iter().zip(hours).zip(counts) {
        if let Some(a) = a {
            out.entry(a).or_default().insert(h, n.max(0) as u64);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_tools_are_recognised_by_their_agents() {
        assert!(is_iac_user_agent("APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0"));
        assert!(is_iac_user_agent("cloudformation.amazonaws.com"));
        assert!(is_iac_user_agent("aws-cdk/2.130.0"));
        assert!(!is_iac_user_agent("aws-cli/2.15.0 Python/3.11.6 Linux/6.1"));
        assert!(!is_iac_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"));
    }

    #[test]
    fn regex_escape_keeps_word_keys() {
        assert_eq!(regex_escape("withDecryption"), "withDecryption");
        assert_eq!(regex_escape("a.b"), "a\\.b");
    }

    #[test]
    fn missing_lake_has_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap();
        assert!(event_files(dir.path(), d, d).unwrap().is_empty());
        let t = DateTime::<Utc>::from_timestamp(1_709_510_400, 0).unwrap();
        assert!(scan_events(dir.path(), t, t + chrono::Duration::hours(1))
            .unwrap()
            .is_none());
    }
}
