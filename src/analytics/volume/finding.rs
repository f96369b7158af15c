//! Finding assembly shared by the volume analytics: what the evidence rows say (most
//! common fields, per-operation breakdown, catalogue techniques) and the common fields of
//! a [`Finding`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::super::{most_common, union_techniques};
use super::Row;
use crate::catalog::Entry;
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::TaggedOperation;

/// A time as a `DateTime` (µs since the epoch; out-of-range values give the epoch).
pub fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS` of a µs time, for descriptions.
pub fn stamp(us: i64) -> String {
    time(us).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The evidence of a finding: rows sorted by time then `event_uid`.
pub struct Evidence<'a> {
    /// The rows, sorted.
    pub rows: Vec<&'a Row>,
}

impl<'a> Evidence<'a> {
    /// Sorts `rows` (time, then `event_uid`).
    pub fn new(mut rows: Vec<&'a Row>) -> Evidence<'a> {
        rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
        Evidence { rows }
    }

    /// Most common provider (empty when there are no rows).
    pub fn provider(&self) -> String {
        most_common(self.rows.iter().map(|r| Some(r.provider.as_str()))).unwrap_or_default()
    }

    /// Most common account.
    pub fn account(&self) -> String {
        most_common(self.rows.iter().map(|r| Some(r.account.as_str()))).unwrap_or_default()
    }

    /// Events per (service, operation).
    pub fn by_operation(&self) -> BTreeMap<(&'a str, &'a str), usize> {
        let mut m = BTreeMap::new();
        for r in &self.rows {
            *m.entry((r.service.as_str(), r.operation.as_str())).or_default() += 1;
        }
        m
    }

    /// `Op ×n` per operation, most frequent first (ties by name), at most `max` listed.
    pub fn breakdown(&self, max: usize) -> String {
        let mut v: Vec<((&str, &str), usize)> = self.by_operation().into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let more = v.len().saturating_sub(max);
        let mut parts: Vec<String> = v.iter().take(max).map(|((_, op), n)| format!("{op} ×{n}")).collect();
        if more > 0 {
            parts.push(format!("+{more} more operations"));
        }
        parts.join(", ")
    }

    /// The most frequent (service, operation); ties go to the smallest.
    pub fn top_operation(&self) -> Option<(&'a str, &'a str)> {
        self.by_operation().into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(k, _)| k)
    }

    /// The catalogue entries of the evidence's operations.
    pub fn entries<'o>(&self, ops: &'o [TaggedOperation]) -> Vec<&'o Entry> {
        let by_op = self.by_operation();
        ops.iter()
            .filter(|o| by_op.contains_key(&(o.service.as_str(), o.operation.as_str())))
            .flat_map(|o| o.entries.iter())
            .collect()
    }

    /// Failed events.
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.failed).count()
    }

    /// (first, last) time in µs; `(0, 0)` when empty.
    pub fn span(&self) -> (i64, i64) {
        match (self.rows.first(), self.rows.last()) {
            (Some(a), Some(b)) => (a.t, b.t),
            _ => (0, 0),
        }
    }
}

/// What the analytic decided; [`Draft::finish`] adds the evidence's common fields.
pub struct Draft {
    /// `analytic_uid`.
    pub analytic: &'static str,
    /// Entity key parts for [`finding_uid`].
    pub entity: Vec<String>,
    /// The scored bucket (also the id's window).
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// [`Finding::title`].
    pub title: String,
    /// [`Finding::description`].
    pub description: String,
    /// [`Finding::severity`].
    pub severity: Severity,
    /// [`Finding::risk_score`] (0–100).
    pub risk_score: f64,
    /// Raw p-value; `None` for learning and first-use findings.
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg adjusted p-value.
    pub p_value_adjusted: Option<f64>,
    /// Observed count (the analytic's unit, e.g. events per hour).
    pub observed: f64,
    /// Expected count, same unit; `None` without a baseline.
    pub expected: Option<f64>,
    /// Whole days of history behind `expected`.
    pub baseline_days: u32,
    /// The principal, when the finding is about one.
    pub actor: Option<String>,
    /// The one target, when there is exactly one.
    pub resource: Option<String>,
}

impl Draft {
    /// The finding, with provider, account, region, source, agent, top operation,
    /// techniques and evidence (at most `max_evidence` ids) from `evidence`;
    /// `default_component` when no catalogue entry names a data component.
    pub fn finish(self, evidence: &Evidence, ops: &[TaggedOperation], max_evidence: usize, default_component: &str, run_uid: &str) -> Finding {
        let entries = evidence.entries(ops);
        let (attack_techniques, attack_version) = union_techniques(&entries);
        let entity: Vec<&str> = self.entity.iter().map(String::as_str).collect();
        let top = evidence.top_operation();
        let rows = &evidence.rows;
        Finding {
            finding_uid: finding_uid(self.analytic, &entity, self.window.0, self.window.1),
            analytic_uid: self.analytic.into(),
            title: self.title,
            description: self.description,
            severity: self.severity,
            risk_score: self.risk_score,
            p_value: self.p_value,
            p_value_adjusted: self.p_value_adjusted,
            observed: self.observed,
            expected: self.expected,
            baseline_days: self.baseline_days,
            window_start: self.window.0,
            window_end: self.window.1,
            provider: evidence.provider(),
            account_uid: evidence.account(),
            region: most_common(rows.iter().map(|r| r.region.as_deref())),
            actor_uid: self.actor,
            src_ip: most_common(rows.iter().map(|r| r.src_ip.as_deref())),
            user_agent: most_common(rows.iter().map(|r| r.user_agent.as_deref())),
            service: top.map(|(s, _)| s.to_string()),
            operation: top.map(|(_, o)| o.to_string()),
            resource_uid: self.resource,
            data_component: entries.first().map_or(default_component.into(), |e| e.data_component.clone()),
            attack_techniques,
            attack_version,
            evidence_event_uids: rows.iter().take(max_evidence).map(|r| r.event_uid.clone()).collect(),
            evidence_count: rows.len() as u64,
            suppressed: false,
            suppression_reason: None,
            run_uid: run_uid.to_string(),
        }
    }
}
