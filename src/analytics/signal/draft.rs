//! Grouping window rows and turning a graded group into a [`Finding`], with the
//! description template: what happened, who, from where, how often before, why the
//! severity, the catalogue's explanation and the method.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{grade, ActorClass, Grade, Params, Profile, Row, Scan, Standing, Weight};
use crate::analytics::{most_common, union_techniques, DetectContext};
use crate::catalog::Entry;
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::HOUR_US;

/// Window rows reported together: one initiator, one operation, one target, one UTC hour.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// What the finding is about (resource, enabled service, quota ...), if anything.
    pub target: Option<String>,
    /// Hour bucket, `floor(t / HOUR_US)`.
    pub hour: i64,
    /// The rows, by time.
    pub rows: Vec<&'a Row>,
}

impl<'a> Group<'a> {
    /// The first row.
    pub fn head(&self) -> &'a Row {
        self.rows[0]
    }

    /// Failed rows.
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| r.failed).count()
    }

    /// Every row failed.
    pub fn all_failed(&self) -> bool {
        self.failed() == self.rows.len()
    }
}

/// Groups `rows` (window rows, by time) by (provider, account, actor, service, operation,
/// `target(row)`) and UTC hour, in key order.
pub fn group_hourly<'a>(
    rows: impl IntoIterator<Item = &'a Row>,
    target: impl Fn(&Row) -> Option<String>,
) -> Vec<Group<'a>> {
    type Key = (String, String, Option<String>, String, String, Option<String>, i64);
    let mut groups: BTreeMap<Key, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let key = (
            r.provider.clone(),
            r.account.clone(),
            r.actor.clone(),
            r.service.clone(),
            r.operation.clone(),
            target(r),
            r.t.div_euclid(HOUR_US),
        );
        groups.entry(key).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((.., target, hour), rows)| Group { target, hour, rows })
        .collect()
}

/// UTC time of a µs timestamp.
pub fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// "who (class) called service operation on target N time(s) between A and B from IP
/// (k of N attempts failed) [errors: …]."
pub fn describe_calls(rows: &[&Row], class: ActorClass, target: Option<&str>) -> String {
    let r0 = rows[0];
    let n = rows.len();
    let failed = rows.iter().filter(|r| r.failed).count();
    let who = r0.actor.as_deref().unwrap_or("An unidentified principal");
    let on = target.map_or(String::new(), |t| format!(" on {t}"));
    let ip = most_common(rows.iter().map(|r| r.src_ip.as_deref()))
        .map_or(String::new(), |ip| format!(" from {ip}"));
    let outcome = match failed {
        0 => String::new(),
        f if f == n => " (attempt failed)".to_string(),
        f => format!(" ({f} of {n} attempts failed)"),
    };
    let mut errors: Vec<&str> = rows.iter().filter_map(|r| r.error_code.as_deref()).collect();
    errors.sort_unstable();
    errors.dedup();
    let errors = if errors.is_empty() { String::new() } else { format!(" [errors: {}]", errors.join(", ")) };
    format!(
        "{who} ({}) called {} {}{on} {n} time(s) between {} and {}{ip}{outcome}{errors}.",
        class.noun(),
        r0.service,
        r0.operation,
        time(r0.t).to_rfc3339(),
        time(rows[n - 1].t).to_rfc3339(),
    )
}

/// A finding being assembled by an analytic; [`Draft::finish`] makes the [`Finding`].
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// Analytic id.
    pub id: &'static str,
    /// Entity parts of the finding id (besides analytic and window).
    pub key: Vec<String>,
    /// Start of the id's window bucket (µs); the bucket's length is `bucket_len` µs.
    pub bucket: i64,
    /// Length of the id's window bucket, µs (an hour for hourly groups).
    pub bucket_len: i64,
    /// Evidence rows, by time.
    pub rows: Vec<&'a Row>,
    /// One-line title.
    pub title: String,
    /// What happened (first sentence(s)).
    pub what: String,
    /// History sentence.
    pub history: String,
    /// Severity and reasons.
    pub grade: Grade,
    /// Catalogue entries behind the evidence (techniques, data component, explanation).
    pub entries: Vec<&'a Entry>,
    /// Techniques added by the analytic (e.g. T1485 for mass deletion).
    pub extra_techniques: Vec<&'static str>,
    /// Data component when no entry gives one.
    pub default_component: &'static str,
    /// Method and anchor rules, one sentence.
    pub method: &'static str,
    /// The target, when the evidence has one.
    pub resource: Option<String>,
    /// Account history, days.
    pub baseline_days: u32,
    /// Observed count (default: number of rows).
    pub observed: Option<f64>,
    /// Expected count under a baseline.
    pub expected: Option<f64>,
    /// Raw p-value of a statistical test.
    pub p_value: Option<f64>,
    /// BH-adjusted p-value.
    pub p_value_adjusted: Option<f64>,
}

impl<'a> Draft<'a> {
    /// A draft for `rows` with everything optional empty; the caller sets the rest.
    pub fn new(id: &'static str, rows: Vec<&'a Row>, grade: Grade, method: &'static str) -> Draft<'a> {
        Draft {
            id,
            key: Vec::new(),
            bucket: 0,
            bucket_len: HOUR_US,
            rows,
            title: String::new(),
            what: String::new(),
            history: String::new(),
            grade,
            entries: Vec::new(),
            extra_techniques: Vec::new(),
            default_component: "modification",
            method,
            resource: None,
            baseline_days: 0,
            observed: None,
            expected: None,
            p_value: None,
            p_value_adjusted: None,
        }
    }

    /// The finding. Risk: info 10, low 30, medium 50, high 75, critical 90, or
    /// [`crate::scoring::risk_score`] when a p-value is set (whichever is higher).
    pub fn finish(self, ctx: &DetectContext, max_evidence: usize) -> Finding {
        let rows = &self.rows;
        let n = rows.len();
        let r0 = rows[0];
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<&Entry> =
            self.entries.iter().copied().filter(|e| seen.insert((e.origin.as_str(), e.index))).collect();
        let (mut techniques, attack_version) = union_techniques(&entries);
        for t in &self.extra_techniques {
            if !techniques.iter().any(|x| x == t) {
                techniques.push(t.to_string());
            }
        }
        let data_component = entries
            .first()
            .map_or(self.default_component.to_string(), |e| e.data_component.clone());
        let explain: Vec<&str> = {
            let mut v: Vec<&str> = entries.iter().map(|e| e.description.as_str()).filter(|d| !d.is_empty()).collect();
            v.dedup();
            v
        };
        let description = format!(
            "{} {} Severity {}: {}.{}{} Method: {}",
            self.what,
            self.history,
            self.grade.severity,
            self.grade.reasons.join("; "),
            if explain.is_empty() { String::new() } else { format!(" Entry: {}", explain.join(" / ")) },
            self.grade.suppressed.as_ref().map_or(String::new(), |s| format!(" Suppressed ({s}).")),
            self.method,
        );
        let observed = self.observed.unwrap_or(n as f64);
        let flat: f64 = match self.grade.severity {
            Severity::Info => 10.0,
            Severity::Low => 30.0,
            Severity::Medium => 50.0,
            Severity::High => 75.0,
            Severity::Critical => 90.0,
        };
        let risk = match self.p_value_adjusted.or(self.p_value) {
            Some(p) => flat.max(crate::scoring::risk_score(Some(p), observed, self.expected)),
            None => flat,
        };
        let key: Vec<&str> = self.key.iter().map(String::as_str).collect();
        let start = time(self.bucket);
        let uid = finding_uid(self.id, &key, start, start + Duration::microseconds(self.bucket_len));
        let mut services: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
        services.dedup();
        Finding {
            finding_uid: uid,
            analytic_uid: self.id.into(),
            title: self.title,
            description,
            severity: self.grade.severity,
            risk_score: risk,
            p_value: self.p_value,
            p_value_adjusted: self.p_value_adjusted,
            observed,
            expected: self.expected,
            baseline_days: self.baseline_days,
            window_start: time(r0.t),
            window_end: time(rows[n - 1].t),
            provider: r0.provider.clone(),
            account_uid: r0.account.clone(),
            region: most_common(rows.iter().map(|r| r.region.as_deref())),
            actor_uid: r0.actor.clone(),
            src_ip: most_common(rows.iter().map(|r| r.src_ip.as_deref())),
            user_agent: most_common(rows.iter().map(|r| r.user_agent.as_deref())),
            service: most_common(rows.iter().map(|r| Some(r.service.as_str()))),
            operation: most_common(rows.iter().map(|r| Some(r.operation.as_str()))),
            resource_uid: self.resource,
            data_component,
            attack_techniques: techniques,
            attack_version,
            evidence_event_uids: rows.iter().take(max_evidence).map(|r| r.event_uid.clone()).collect(),
            evidence_count: n as u64,
            suppressed: self.grade.suppressed.is_some(),
            suppression_reason: self.grade.suppressed,
            run_uid: ctx.run_uid.to_string(),
        }
    }
}

/// The standard signal finding for one group: grade from class, standing and `weight`,
/// then `adjust` (the analytic's own raises), then the draft. `scope` names the
/// operations "first time" is about in the description ("event-trigger operation").
#[allow(clippy::too_many_arguments)]
pub fn group_draft<'a>(
    id: &'static str,
    scan: &'a Scan,
    profile: &Profile,
    params: &Params,
    group: &Group<'a>,
    scope_key: &str,
    scope: &str,
    weight: Weight,
    method: &'static str,
) -> Draft<'a> {
    let rows = &group.rows;
    let r0 = group.head();
    let class = ActorClass::of(rows);
    let standing = profile.standing(scan, params, rows, scope_key);
    let g = grade(class, &standing, weight, group.all_failed());
    let mut d = Draft::new(id, rows.clone(), g, method);
    let op = scan.op(r0);
    d.entries = op.entries.iter().collect();
    d.key = vec![
        r0.provider.clone(),
        r0.account.clone(),
        r0.actor.clone().unwrap_or_default(),
        r0.service.clone(),
        r0.operation.clone(),
        group.target.clone().unwrap_or_default(),
    ];
    d.bucket = group.hour * HOUR_US;
    d.resource = group.target.clone().or_else(|| r0.resource.clone());
    d.what = describe_calls(rows, class, d.resource.as_deref());
    d.history = standing.sentence(scope, params);
    d.baseline_days = standing.days();
    let who = if d.grade.severity == Severity::Critical && matches!(standing, Standing::FirstTime { .. }) {
        "a first-time initiator".to_string()
    } else {
        r0.actor.clone().unwrap_or_else(|| "an unidentified principal".into())
    };
    let outcome = if group.all_failed() { " (attempt failed)" } else { "" };
    d.title = format!("{}{outcome} by {who}", r0.operation);
    d
}
