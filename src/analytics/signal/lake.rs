//! Reading the lake for a signal analytic: which operations the selection covers, their
//! rows over history + window, and when each account, region and service first appears.
//!
//! Two polars queries per run, whatever the lookback:
//! 1. one aggregate over the narrow columns (`provider`, `account_uid`, `region`,
//!    `service`, `operation`, `time`): the distinct operations present (resolved against the
//!    catalogue in Rust, with [`Catalog::lookup`]'s exact-beats-prefix semantics and
//!    `service = "*"` entries) and the first time each account, (account, region) and
//!    (account, service) appears;
//! 2. the selected rows only, `request_params` / `response_elements` read for window rows
//!    (history rows need who, what and when, not the request body).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::Duration;
use polars::prelude::*;

use super::DAY_US;
use crate::analytics::DetectContext;
use crate::catalog::{Catalog, Entry};
use crate::profiles::{self, T};
use crate::schema::{self as s, ActorType, Status};
use crate::Result;

/// Which catalogue entries an analytic selects.
#[derive(Debug, Clone, Copy)]
pub enum Select<'a> {
    /// Entries carrying any of these tags.
    Tags(&'a [&'a str]),
    /// Entries whose `data_component` is one of `components`, except entries carrying any
    /// of `exclude_tags` (what another analytic already reports).
    Components {
        /// `disable`, `modification`, ...
        components: &'a [&'a str],
        /// Tags whose entries are left out.
        exclude_tags: &'a [&'a str],
    },
}

impl Select<'_> {
    /// Whether one catalogue entry is selected.
    pub fn accepts(&self, e: &Entry) -> bool {
        match self {
            Select::Tags(tags) => tags.iter().any(|t| e.has_tag(t)),
            Select::Components { components, exclude_tags } => {
                components.iter().any(|c| e.data_component.eq_ignore_ascii_case(c))
                    && !exclude_tags.iter().any(|t| e.has_tag(t))
            }
        }
    }
}

/// An operation an analytic selects by name, outside the catalogue (a critical resource
/// deletion): `operation` of any service of `provider`, compared ASCII case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraOp {
    /// Lake `provider` (`aws`, `azure`, `gcp`, ...).
    pub provider: String,
    /// The `operation` value.
    pub operation: String,
    /// Caller's index (which configured resource type this belongs to).
    pub tag: usize,
}

/// One (provider, service, operation) present in the lake and selected.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `provider` as written in the lake.
    pub provider: String,
    /// `service` as written in the lake.
    pub service: String,
    /// `operation` as written in the lake.
    pub operation: String,
    /// The winning catalogue entries the selection accepts (empty for an extra-only op).
    pub entries: Vec<Entry>,
    /// Every winning catalogue entry, selected or not (to see which other tags it carries).
    pub all_entries: Vec<Entry>,
    /// The [`ExtraOp::tag`] of the matching extra operation, if any.
    pub extra: Option<usize>,
}

impl Operation {
    /// True when any winning entry (selected or not) carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.all_entries.iter().any(|e| e.has_tag(tag))
    }
}

/// One selected event.
#[derive(Debug, Clone)]
pub struct Row {
    /// `time` in µs since the epoch (UTC).
    pub t: i64,
    /// `event_uid`.
    pub event_uid: String,
    /// `provider`.
    pub provider: String,
    /// `account_uid`.
    pub account: String,
    /// `region`.
    pub region: Option<String>,
    /// `actor_uid` (NULL when the record names no actor).
    pub actor: Option<String>,
    /// `actor_type` ([`ActorType::Unknown`] for text outside the vocabulary).
    pub actor_type: ActorType,
    /// `src_ip`.
    pub src_ip: Option<String>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `service`.
    pub service: String,
    /// `operation`.
    pub operation: String,
    /// `status = failure`.
    pub failed: bool,
    /// `error_code`.
    pub error_code: Option<String>,
    /// `resource_uid`.
    pub resource: Option<String>,
    /// `request_params` (window rows only; NULL for history rows).
    pub request: Option<String>,
    /// `response_elements` (window rows only).
    pub response: Option<String>,
    /// Index into [`Scan::ops`].
    pub op: usize,
}

/// Everything one analytic run reads.
#[derive(Debug, Default)]
pub struct Scan {
    /// Selected operations present over history + window, sorted by (provider, service, operation).
    pub ops: Vec<Operation>,
    /// Selected rows before the window (within `history_days`), by time.
    pub history: Vec<Row>,
    /// Selected rows in the window, by time then `event_uid`.
    pub window: Vec<Row>,
    /// Window start (inclusive), µs.
    pub window_start: i64,
    /// Window end (exclusive), µs.
    pub as_of: i64,
    /// Days of history searched before the window.
    pub history_days: u32,
    account_first: HashMap<(String, String), i64>,
    region_first: HashMap<(String, String, String), i64>,
    service_first: HashMap<(String, String, String), i64>,
}

type Key3 = (String, String, String);

impl Scan {
    /// Reads the lake over `history_days` before `ctx`'s window and the window itself.
    /// An empty or missing lake gives an empty scan. Errors: [`crate::Error::Lake`] /
    /// [`crate::Error::Io`] for unreadable lake files.
    pub fn read(
        ctx: &DetectContext,
        select: Select,
        extra: &[ExtraOp],
        history_days: u32,
    ) -> Result<Scan> {
        let window_start = ctx.window_start();
        let history_start = window_start - Duration::days(i64::from(history_days));
        let mut scan = Scan {
            window_start: window_start.timestamp_micros(),
            as_of: ctx.as_of.timestamp_micros(),
            history_days,
            ..Scan::default()
        };
        let Some(lf) = profiles::scan_events(ctx.lake_root, history_start, ctx.as_of)? else {
            return Ok(scan);
        };
        let summary = ctx.summary(history_start, ctx.as_of)?;
        let ops = scan.first_seen_and_operations(ctx.lake_root, summary, ctx.catalog, select, extra)?;
        scan.ops = ops;
        if scan.ops.is_empty() {
            return Ok(scan);
        }
        scan.read_rows(ctx.lake_root, lf)?;
        Ok(scan)
    }

    fn first_seen_and_operations(
        &mut self,
        lake_root: &Path,
        lf: LazyFrame,
        catalog: &Catalog,
        select: Select,
        extra: &[ExtraOp],
    ) -> Result<Vec<Operation>> {
        let keys = [s::PROVIDER, s::ACCOUNT_UID, s::REGION, s::SERVICE, s::OPERATION];
        let df = profiles::collect(
            lake_root,
            lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
                .agg([col(s::TIME).cast(DataType::Int64).min().alias(T)]),
        )?;
        let mut cols: Vec<Vec<Option<String>>> = Vec::new();
        for k in keys {
            cols.push(profiles::strings(&df, k)?);
        }
        let firsts = profiles::ints(&df, T)?;
        let mut triples: BTreeMap<(String, String, String), ()> = BTreeMap::new();
        let keep_min = |m: &mut HashMap<Key3, i64>, k: Key3, t: i64| {
            m.entry(k).and_modify(|v| *v = (*v).min(t)).or_insert(t);
        };
        for (i, &t) in firsts.iter().enumerate() {
            let get = |c: usize| cols[c][i].clone();
            let (Some(p), Some(a), Some(sv), Some(op)) = (get(0), get(1), get(3), get(4)) else {
                continue;
            };
            self.account_first
                .entry((p.clone(), a.clone()))
                .and_modify(|v| *v = (*v).min(t))
                .or_insert(t);
            if let Some(r) = get(2) {
                keep_min(&mut self.region_first, (p.clone(), a.clone(), r), t);
            }
            keep_min(&mut self.service_first, (p.clone(), a, sv.to_ascii_lowercase()), t);
            triples.insert((p, sv, op), ());
        }
        let mut out = Vec::new();
        for (p, sv, op) in triples.into_keys() {
            let all: Vec<&Entry> = catalog.lookup(&p, &sv, &op);
            let entries: Vec<Entry> = all.iter().filter(|e| select.accepts(e)).map(|e| (*e).clone()).collect();
            let extra_tag = extra
                .iter()
                .find(|x| x.provider.eq_ignore_ascii_case(&p) && x.operation.eq_ignore_ascii_case(&op))
                .map(|x| x.tag);
            if entries.is_empty() && extra_tag.is_none() {
                continue;
            }
            out.push(Operation {
                provider: p,
                service: sv,
                operation: op,
                entries,
                all_entries: all.into_iter().cloned().collect(),
                extra: extra_tag,
            });
        }
        Ok(out)
    }

    fn read_rows(&mut self, lake_root: &Path, lf: LazyFrame) -> Result<()> {
        // One predicate per (provider, service): its operations by `is_in`.
        let mut by_service: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for o in &self.ops {
            by_service.entry((&o.provider, &o.service)).or_default().push(&o.operation);
        }
        let filter = by_service
            .into_iter()
            .map(|((p, sv), ops)| {
                let ops: Vec<String> = ops.into_iter().map(str::to_string).collect();
                col(s::PROVIDER)
                    .eq(lit(p.to_string()))
                    .and(col(s::SERVICE).eq(lit(sv.to_string())))
                    .and(col(s::OPERATION).is_in(lit(Series::new("ops".into(), ops)).implode(true), false))
            })
            .reduce(|a, b| a.or(b))
            .expect("ops is not empty");
        let ws = self.window_start;
        let in_window = col(s::TIME).cast(DataType::Int64).gt_eq(lit(ws));
        let null_text = || lit(NULL).cast(DataType::String);
        let cols = [
            s::EVENT_UID,
            s::PROVIDER,
            s::ACCOUNT_UID,
            s::REGION,
            s::ACTOR_UID,
            s::ACTOR_TYPE,
            s::SRC_IP,
            s::USER_AGENT,
            s::SERVICE,
            s::OPERATION,
            s::STATUS,
            s::ERROR_CODE,
            s::RESOURCE_UID,
        ];
        let mut select: Vec<Expr> = cols.iter().map(|c| col(*c)).collect();
        for c in [s::REQUEST_PARAMS, s::RESPONSE_ELEMENTS] {
            select.push(when(in_window.clone()).then(col(c)).otherwise(null_text()).alias(c));
        }
        select.push(profiles::time_us());
        let df = profiles::collect(lake_root, lf.filter(filter).select(select))?;
        let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
        for name in cols.iter().chain(&[s::REQUEST_PARAMS, s::RESPONSE_ELEMENTS]) {
            c.insert(name, profiles::strings(&df, name)?);
        }
        let ts = profiles::ints(&df, T)?;
        let index: HashMap<(&str, &str, &str), usize> = self
            .ops
            .iter()
            .enumerate()
            .map(|(i, o)| ((o.provider.as_str(), o.service.as_str(), o.operation.as_str()), i))
            .collect();
        let mut take = |n: &str, i: usize| c.get_mut(n).and_then(|v| v[i].take());
        let mut rows = Vec::with_capacity(ts.len());
        for (i, &t) in ts.iter().enumerate() {
            let provider = take(s::PROVIDER, i).unwrap_or_default();
            let service = take(s::SERVICE, i).unwrap_or_default();
            let operation = take(s::OPERATION, i).unwrap_or_default();
            let Some(&op) = index.get(&(provider.as_str(), service.as_str(), operation.as_str())) else {
                continue;
            };
            let request = take(s::REQUEST_PARAMS, i);
            // An entry with request conditions (`request_true`) applies only when they hold;
            // history rows carry no request and are kept (their conditions are unknown).
            let o = &self.ops[op];
            if t >= ws
                && o.extra.is_none()
                && !o.entries.iter().any(|e| e.matches_request(request.as_deref()))
            {
                continue;
            }
            rows.push(Row {
                t,
                event_uid: take(s::EVENT_UID, i).unwrap_or_default(),
                provider,
                account: take(s::ACCOUNT_UID, i).unwrap_or_default(),
                region: take(s::REGION, i),
                actor: take(s::ACTOR_UID, i),
                actor_type: take(s::ACTOR_TYPE, i)
                    .and_then(|a| ActorType::parse(&a))
                    .unwrap_or(ActorType::Unknown),
                src_ip: take(s::SRC_IP, i),
                user_agent: take(s::USER_AGENT, i),
                service,
                operation,
                failed: take(s::STATUS, i).as_deref() == Some(Status::Failure.as_str()),
                error_code: take(s::ERROR_CODE, i),
                resource: take(s::RESOURCE_UID, i),
                request,
                response: take(s::RESPONSE_ELEMENTS, i),
                op,
            });
        }
        rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
        let split = rows.partition_point(|r| r.t < ws);
        self.window = rows.split_off(split);
        self.history = rows;
        Ok(())
    }

    /// Whole days the account has been in the lake before the window (capped at
    /// `history_days`); 0 when it first appears in the window.
    pub fn account_days(&self, provider: &str, account: &str) -> u32 {
        self.account_first
            .get(&(provider.to_string(), account.to_string()))
            .filter(|&&t0| t0 < self.window_start)
            .map_or(0, |&t0| (((self.window_start - t0) / DAY_US).max(0) as u32).min(self.history_days))
    }

    /// Whether the account had any event in `region` before the window (within history).
    pub fn region_seen_before(&self, provider: &str, account: &str, region: &str) -> bool {
        self.region_first
            .get(&(provider.to_string(), account.to_string(), region.to_string()))
            .is_some_and(|&t| t < self.window_start)
    }

    /// Whether the account had any event of `service` before the window (within history).
    pub fn service_seen_before(&self, provider: &str, account: &str, service: &str) -> bool {
        self.service_first
            .get(&(provider.to_string(), account.to_string(), service.to_ascii_lowercase()))
            .is_some_and(|&t| t < self.window_start)
    }

    /// The operation a row belongs to.
    pub fn op(&self, r: &Row) -> &Operation {
        &self.ops[r.op]
    }

    /// Every selected row (history then window), by time.
    pub fn all_rows(&self) -> impl Iterator<Item = &Row> {
        self.history.iter().chain(&self.window)
    }
}

/// Tagged operations: the profile's query, which honours `service = "*"` entries.
pub use crate::profiles::tagged_operations;
