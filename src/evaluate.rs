//! Precision and recall of the analytics against the generator's labelled attacks
//! (DESIGN.md "Quality bars": `cloudsift evaluate`).
//!
//! # What counts
//! - An **alert** is an unsuppressed finding at or above the alert severity (default
//!   medium: the level a detection engineer routes to a queue). Info and low findings are
//!   learning notes and context, reported apart as "findings, all severities".
//! - An alert **points at** a label when it names the label's principal (`actor_uid`, or
//!   the label's account when the finding names no principal) and lists at least one of
//!   the label's events among its evidence; it **detects** the label when it also comes
//!   from the label's analytic (or one of the analytics in its `also` list, which are
//!   scored for it as well).
//! - **Recall** = labels detected by at least one alert of their analytic / labels.
//!   **Precision** = alerts pointing at some label (of any analytic: a second analytic
//!   that reports the same attack is right, not a false alarm) / alerts. Several alerts for
//!   one attack (one per hour of a long burst) all count as true; an alert pointing at no
//!   label is a false alert.
//! - **False alerts per 1,000 active principal-days**: false alerts / (distinct
//!   (account, principal, UTC day) with at least one event in the lake) × 1,000 — the
//!   analyst's cost per unit of monitored activity, comparable across tenants of any size.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::findings::{Finding, Severity};
use crate::generate::AttackLabel;
use crate::profiles;
use crate::schema as s;
use crate::Result;

pub mod naive;

/// The scores of one analytic.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalyticScore {
    /// `analytic_uid`.
    pub analytic: String,
    /// Labelled attacks for this analytic.
    pub attacks: usize,
    /// Labelled attacks matched by at least one alert.
    pub detected: usize,
    /// Unsuppressed findings at or above the alert severity.
    pub alerts: usize,
    /// Alerts that point at some label (see the module docs).
    pub true_alerts: usize,
    /// Every finding of the analytic (all severities, suppressed included).
    pub findings: usize,
}

impl AnalyticScore {
    /// `detected / attacks`; `None` without labelled attacks.
    pub fn recall(&self) -> Option<f64> {
        (self.attacks > 0).then(|| self.detected as f64 / self.attacks as f64)
    }

    /// `true_alerts / alerts`; `None` without alerts.
    pub fn precision(&self) -> Option<f64> {
        (self.alerts > 0).then(|| self.true_alerts as f64 / self.alerts as f64)
    }

    /// Alerts matching no label.
    pub fn false_alerts(&self) -> usize {
        self.alerts - self.true_alerts
    }
}

/// Whether `f` names the attack `l`'s principal and some of its events (any analytic).
pub fn points_at(f: &Finding, l: &AttackLabel) -> bool {
    let who = match &f.actor_uid {
        Some(a) => a.eq_ignore_ascii_case(&l.actor_uid),
        None => f.account_uid == l.account_uid,
    };
    who && f.evidence_event_uids.iter().any(|u| l.event_uids.contains(u))
}

/// The analytics that should find `l`: its own, then those of [`AttackLabel::also`].
fn expected_by(l: &AttackLabel) -> impl Iterator<Item = &str> {
    std::iter::once(l.analytic.as_str()).chain(l.also.iter().map(String::as_str))
}

/// Whether `f` detects the attack `l`: it points at it and comes from one of the
/// analytics that should find it.
pub fn matches(f: &Finding, l: &AttackLabel) -> bool {
    expected_by(l).any(|a| a == f.analytic_uid) && points_at(f, l)
}

/// Scores per analytic, sorted by analytic id: every analytic with labels or findings.
pub fn score(labels: &[AttackLabel], findings: &[Finding], alert_at: Severity) -> Vec<AnalyticScore> {
    let mut by: BTreeMap<&str, AnalyticScore> = BTreeMap::new();
    for l in labels {
        for a in expected_by(l) {
            by.entry(a).or_insert_with(|| AnalyticScore { analytic: a.to_string(), ..Default::default() }).attacks += 1;
        }
    }
    let is_alert = |f: &Finding| !f.suppressed && f.severity >= alert_at;
    for f in findings {
        let e = by.entry(&f.analytic_uid).or_insert_with(|| AnalyticScore { analytic: f.analytic_uid.clone(), ..Default::default() });
        e.findings += 1;
        if is_alert(f) {
            e.alerts += 1;
            if labels.iter().any(|l| points_at(f, l)) {
                e.true_alerts += 1;
            }
        }
    }
    for l in labels {
        for a in expected_by(l) {
            if findings.iter().any(|f| is_alert(f) && f.analytic_uid == a && points_at(f, l)) {
                by.get_mut(a).expect("inserted above").detected += 1;
            }
        }
    }
    by.into_values().collect()
}

/// Distinct (account, principal, UTC day) with at least one event in the lake: the
/// denominator of "false alerts per 1,000 active principal-days". Rows without a
/// principal are not counted.
///
/// # Errors
/// [`crate::Error::Lake`] when the lake's Parquet cannot be read.
pub fn active_principal_days(lake_root: &Path) -> Result<u64> {
    let from = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).expect("epoch");
    let to = chrono::DateTime::<chrono::Utc>::from_timestamp(4_102_444_800, 0).expect("2100");
    let Some(lf) = profiles::scan_events(lake_root, from, to)? else {
        return Ok(0);
    };
    let df = profiles::collect(
        lake_root,
        lf.filter(col(s::ACTOR_UID).is_not_null())
            .select([col(s::ACCOUNT_UID), col(s::ACTOR_UID), col(s::DATE)])
            .unique(None, UniqueKeepStrategy::Any)
            .select([len().alias("n")]),
    )?;
    let n = df
        .column("n")
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| crate::Error::lake("n", e))?;
    Ok(n.u64().map_err(|e| crate::Error::lake("n", e))?.get(0).unwrap_or(0))
}

/// The score table as text: one row per analytic plus the per-1,000-principal-day rate.
pub fn render(scores: &[AnalyticScore], principal_days: u64, alert_at: Severity) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    let mut out = format!(
        "{:<36} {:>7} {:>8} {:>6} {:>7} {:>9} {:>6} {:>11} {:>14}\n",
        "analytic", "attacks", "detected", "recall", "alerts", "precision", "false", "false/1k-pd", "findings (all)"
    );
    for s in scores {
        let rate = if principal_days > 0 { s.false_alerts() as f64 * 1000.0 / principal_days as f64 } else { 0.0 };
        out.push_str(&format!(
            "{:<36} {:>7} {:>8} {:>6} {:>7} {:>9} {:>6} {:>11.2} {:>14}\n",
            s.analytic,
            s.attacks,
            s.detected,
            pct(s.recall()),
            s.alerts,
            pct(s.precision()),
            s.false_alerts(),
            rate,
            s.findings
        ));
    }
    out.push_str(&format!(
        "\nalerts = unsuppressed findings at {} or above; {principal_days} active principal-days in the lake\n",
        alert_at.as_str()
    ));
    out
}

/// The statistical analytics beside the naive mean + 3σ baseline ([`naive`]) on the same
/// data: recall, precision and false alerts per 1,000 active principal-days of each.
pub fn render_comparison(scores: &[AnalyticScore], naive: &[naive::NaiveScore], principal_days: u64) -> String {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    let rate = |n: usize| if principal_days > 0 { n as f64 * 1000.0 / principal_days as f64 } else { 0.0 };
    let mut out = format!(
        "{:<30} | {:>6} {:>9} {:>6} {:>11} | {:>6} {:>9} {:>6} {:>11}\n",
        "statistical analytic", "recall", "precision", "false", "false/1k-pd", "recall", "precision", "false", "false/1k-pd"
    );
    out.insert_str(0, &format!("{:<30} | {:^36} | {:^36}\n", "", "cloudsift", "naive mean ± 3σ per hour"));
    for n in naive {
        let c = scores.iter().find(|s| s.analytic == n.analytic).cloned().unwrap_or_else(|| AnalyticScore { analytic: n.analytic.clone(), attacks: n.attacks, ..Default::default() });
        let n_recall = (n.attacks > 0).then(|| n.detected as f64 / n.attacks as f64);
        let n_precision = (n.alerts > 0).then(|| n.true_alerts as f64 / n.alerts as f64);
        out.push_str(&format!(
            "{:<30} | {:>6} {:>9} {:>6} {:>11.2} | {:>6} {:>9} {:>6} {:>11.2}\n",
            n.analytic,
            pct(c.recall()),
            pct(c.precision()),
            c.false_alerts(),
            rate(c.false_alerts()),
            pct(n_recall),
            pct(n_precision),
            n.false_alerts(),
            rate(n.false_alerts())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn label(analytic: &str, actor: &str, uids: &[&str]) -> AttackLabel {
        AttackLabel {
            attack_id: format!("{analytic}-{actor}"),
            analytic: analytic.into(),
            technique: "T0000".into(),
            account_uid: "acct".into(),
            actor_uid: actor.into(),
            start: "2024-03-01T00:00:00Z".into(),
            end: "2024-03-01T00:00:00Z".into(),
            event_uids: uids.iter().map(|u| u.to_string()).collect(),
            also: Vec::new(),
        }
    }

    fn finding(analytic: &str, actor: &str, sev: Severity, uids: &[&str]) -> Finding {
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        Finding {
            finding_uid: format!("{analytic}-{actor}-{}", uids.join(",")),
            analytic_uid: analytic.into(),
            title: String::new(),
            description: String::new(),
            severity: sev,
            risk_score: 50.0,
            p_value: None,
            p_value_adjusted: None,
            observed: 1.0,
            expected: None,
            baseline_days: 0,
            window_start: t,
            window_end: t,
            provider: "m365".into(),
            account_uid: "acct".into(),
            region: None,
            actor_uid: Some(actor.into()),
            src_ip: None,
            user_agent: None,
            service: None,
            operation: None,
            resource_uid: None,
            data_component: "modification".into(),
            attack_techniques: vec![],
            attack_version: String::new(),
            evidence_event_uids: uids.iter().map(|u| u.to_string()).collect(),
            evidence_count: uids.len() as u64,
            suppressed: false,
            suppression_reason: None,
            run_uid: "r".into(),
        }
    }

    #[test]
    fn recall_precision_and_false_alerts() {
        let labels = [label("a", "alice", &["e1"]), label("a", "bob", &["e9"]), label("b", "carol", &["e5"])];
        let mut quiet = finding("a", "dave", Severity::High, &["e7"]);
        quiet.suppressed = true;
        let findings = [
            finding("a", "alice", Severity::High, &["e0", "e1"]),
            finding("a", "alice", Severity::Medium, &["e1"]),
            // Right principal, wrong events: not the attack.
            finding("a", "bob", Severity::High, &["e8"]),
            // Low: a learning note, not an alert, so bob's attack is missed.
            finding("a", "bob", Severity::Low, &["e9"]),
            quiet,
            finding("b", "CAROL", Severity::Critical, &["e5"]),
        ];
        let s = score(&labels, &findings, Severity::Medium);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].attacks, s[0].detected, s[0].alerts, s[0].true_alerts, s[0].findings),
            (2, 1, 3, 2, 5)
        );
        assert_eq!(s[0].recall(), Some(0.5));
        assert!((s[0].precision().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s[0].false_alerts(), 1);
        assert_eq!((s[1].recall(), s[1].precision()), (Some(1.0), Some(1.0)));
        // Another analytic reporting carol's attack is a true alert but detects nothing.
        let other = score(&labels, &[finding("c", "carol", Severity::High, &["e5"])], Severity::Medium);
        assert_eq!(other.iter().find(|s| s.analytic == "c").map(|s| (s.true_alerts, s.detected)), Some((1, 0)));
        assert_eq!(other.iter().find(|s| s.analytic == "b").map(|s| s.detected), Some(0));
        let text = render(&s, 500, Severity::Medium);
        assert!(text.contains("2.00"), "{text}");
        // Named in `also`, analytic c is expected to find carol's attack too: scored for both.
        let mut shared = label("b", "carol", &["e5"]);
        shared.also = vec!["c".into()];
        let both = score(&[shared], &[finding("c", "carol", Severity::High, &["e5"])], Severity::Medium);
        let get = |a: &str| both.iter().find(|s| s.analytic == a).map(|s| (s.attacks, s.detected, s.true_alerts)).unwrap();
        assert_eq!((get("b"), get("c")), ((1, 0, 0), (1, 1, 1)));
    }

    #[test]
    fn analytics_without_labels_or_alerts_have_no_ratio() {
        let s = score(&[], &[finding("c", "x", Severity::Info, &["e"])], Severity::Medium);
        assert_eq!((s[0].recall(), s[0].precision(), s[0].findings), (None, None, 1));
    }
}
