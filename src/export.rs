//! Findings leaving cloudsift: `cloudsift export` (OCSF Detection Finding, CSV, JSON lines)
//! and the lookups `cloudsift explain` shares with it — selecting findings from the lake
//! and reading their evidence events back from `events/`.
//!
//! Everything here reads only the lake (findings Parquet + event Parquet), so an export or
//! an explanation can be made long after the run, on another machine, from a copy of the
//! lake folder.

pub mod attack;
mod csv_out;
pub mod ocsf;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use serde::Serialize;

use crate::findings::{self, Finding, Severity};
use crate::profiles;
use crate::schema as s;
use crate::{Error, Result};

pub use csv_out::{neutralise_formula, write_csv, CSV_COLUMNS};

/// Which findings to export (all conditions must hold; `None` / empty = no condition).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only findings whose `window_end` is at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only findings whose `window_end` is before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Only findings at or above this severity.
    pub min_severity: Option<Severity>,
    /// Only findings of these analytic ids (exact `analytic_uid`).
    pub analytics: Vec<String>,
}

impl Selection {
    /// True when `f` passes every condition.
    pub fn matches(&self, f: &Finding) -> bool {
        self.since.is_none_or(|t| f.window_end >= t)
            && self.until.is_none_or(|t| f.window_end < t)
            && self.min_severity.is_none_or(|m| f.severity >= m)
            && (self.analytics.is_empty() || self.analytics.contains(&f.analytic_uid))
    }
}

/// The findings of `lake_root` that `sel` selects, sorted by `window_end` then
/// `finding_uid` (the order of [`findings::read_findings`]).
///
/// # Errors
/// [`Error::Io`] / [`Error::Lake`] for an unreadable findings file.
pub fn select(lake_root: &Path, sel: &Selection) -> Result<Vec<Finding>> {
    let mut found = findings::read_findings(lake_root, sel.since)?;
    found.retain(|f| sel.matches(f));
    Ok(found)
}

/// The one finding whose `finding_uid` is `uid` or starts with it (case-insensitive hex).
///
/// # Errors
/// [`Error::Input`] naming the lake when no finding matches, or when the prefix matches
/// several (the first few are listed); both exit with code 2 (a usage error: the user
/// named something that is not there).
pub fn find_by_uid(lake_root: &Path, uid: &str) -> Result<Finding> {
    let want = uid.trim().to_ascii_lowercase();
    if want.is_empty() {
        return Err(Error::config("<finding_uid>", "is empty"));
    }
    let mut hits: Vec<Finding> = findings::read_findings(lake_root, None)?
        .into_iter()
        .filter(|f| f.finding_uid.to_ascii_lowercase().starts_with(&want))
        .collect();
    let path = lake_root.join("findings").display().to_string();
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => Err(Error::Input { path, message: format!("no finding has a uid starting with `{uid}`; list them with `cloudsift findings --lake {}`", lake_root.display()) }),
        n => {
            let shown: Vec<String> = hits.iter().take(5).map(|f| format!("{} ({})", f.finding_uid, f.analytic_uid)).collect();
            Err(Error::Input { path, message: format!("`{uid}` is the start of {n} finding uids ({}{}); give more characters", shown.join(", "), if n > 5 { ", ..." } else { "" }) })
        }
    }
}

/// One evidence event as read back from the lake (the columns export and explain show).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceEvent {
    /// Event time, UTC.
    pub time: DateTime<Utc>,
    pub event_uid: String,
    pub provider: String,
    pub log_format: String,
    pub account_uid: String,
    pub region: Option<String>,
    pub actor_uid: Option<String>,
    pub actor_name: Option<String>,
    /// Lake vocabulary (`iam_user`, `assumed_role`, `service_principal`, ...).
    pub actor_type: Option<String>,
    pub src_ip: Option<String>,
    pub user_agent: Option<String>,
    pub service: String,
    pub operation: String,
    pub status: String,
    pub error_code: Option<String>,
    pub resource_uid: Option<String>,
    /// Object key and locator of the raw record (`line:N`, `record:N`, ...).
    pub source_object: String,
    pub source_locator: String,
}

/// Evidence events of each finding, keyed by `finding_uid`, sorted by time. One scan of
/// the event files between the earliest `window_start` and the latest `window_end` (date
/// partitions outside are not opened), filtered on the listed `evidence_event_uids`; an
/// event belongs to a finding when its `event_uid` and `account_uid` match. Events no
/// longer in the lake (a lake rebuilt without them) are simply absent: callers fall back
/// to the finding's own columns.
///
/// # Errors
/// [`Error::Lake`] / [`Error::Io`] when the event files cannot be read.
pub fn evidence_events(lake_root: &Path, found: &[Finding]) -> Result<HashMap<String, Vec<EvidenceEvent>>> {
    let mut out: HashMap<String, Vec<EvidenceEvent>> = HashMap::new();
    let with_uids: Vec<&Finding> = found.iter().filter(|f| !f.evidence_event_uids.is_empty()).collect();
    let (Some(from), Some(to)) = (with_uids.iter().map(|f| f.window_start).min(), with_uids.iter().map(|f| f.window_end).max()) else {
        return Ok(out);
    };
    // Some analytics put the scored bucket's bounds in the window; an evidence event is
    // inside them, but a day of margin costs little and survives an off-by-one bucket.
    let Some(lf) = profiles::scan_events(lake_root, from - Duration::days(1), to + Duration::days(1))? else {
        return Ok(out);
    };
    let mut uids: Vec<&str> = with_uids.iter().flat_map(|f| f.evidence_event_uids.iter().map(String::as_str)).collect();
    uids.sort_unstable();
    uids.dedup();
    let cols = [
        s::EVENT_UID, s::PROVIDER, s::LOG_FORMAT, s::ACCOUNT_UID, s::REGION, s::ACTOR_UID, s::ACTOR_NAME, s::ACTOR_TYPE, s::SRC_IP, s::USER_AGENT,
        s::SERVICE, s::OPERATION, s::STATUS, s::ERROR_CODE, s::RESOURCE_UID, s::SOURCE_OBJECT, s::SOURCE_LOCATOR,
    ];
    let mut select: Vec<Expr> = vec![profiles::time_us()];
    select.extend(cols.iter().map(|c| col(*c).cast(DataType::String)));
    let lf = lf.filter(col(s::EVENT_UID).is_in(lit(Series::new("uids".into(), uids)).implode(true), false)).select(select);
    let df = profiles::collect(lake_root, lf)?;
    let times = profiles::ints(&df, profiles::T)?;
    let c: Vec<Vec<Option<String>>> = cols.iter().map(|n| profiles::strings(&df, n)).collect::<Result<_>>()?;
    let get = |i: usize, row: usize| c[i][row].clone();
    let req = |i: usize, row: usize| c[i][row].clone().unwrap_or_default();
    let mut by_key: HashMap<(String, String), Vec<EvidenceEvent>> = HashMap::new();
    for (row, &us) in times.iter().enumerate() {
        let time = DateTime::<Utc>::from_timestamp_micros(us).ok_or_else(|| Error::lake(lake_root.join("events").display().to_string(), format!("event time out of range: {us}")))?;
        let e = EvidenceEvent {
            time,
            event_uid: req(0, row),
            provider: req(1, row),
            log_format: req(2, row),
            account_uid: req(3, row),
            region: get(4, row),
            actor_uid: get(5, row),
            actor_name: get(6, row),
            actor_type: get(7, row),
            src_ip: get(8, row),
            user_agent: get(9, row),
            service: req(10, row),
            operation: req(11, row),
            status: req(12, row),
            error_code: get(13, row),
            resource_uid: get(14, row),
            source_object: req(15, row),
            source_locator: req(16, row),
        };
        by_key.entry((e.account_uid.clone(), e.event_uid.clone())).or_default().push(e);
    }
    for f in with_uids {
        let mut evs: Vec<EvidenceEvent> = f
            .evidence_event_uids
            .iter()
            .filter_map(|u| by_key.get(&(f.account_uid.clone(), u.clone())))
            .flat_map(|v| v.iter().cloned())
            .collect();
        evs.sort_by(|a, b| (a.time, &a.event_uid).cmp(&(b.time, &b.event_uid)));
        evs.dedup_by(|a, b| a.event_uid == b.event_uid && a.provider == b.provider);
        out.insert(f.finding_uid.clone(), evs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
