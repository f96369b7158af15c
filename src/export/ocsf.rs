//! A finding as an OCSF 1.8.0 Detection Finding (class 2004, category 2 Findings), one
//! JSON object per finding, with the `cloud` and `security_control` profiles.
//!
//! Attribute names, types and enum ids are those of the schema sources in
//! `ocsf-schema-1.8.0/` (`events/findings/detection_finding.json`, `finding.json`,
//! `objects/*.json`, `dictionary.json`); `scripts/ocsf/validate.py` checks the output
//! against a schema compiled from them (`tests/it/export.rs`). Mapping:
//!
//! | OCSF | from |
//! |---|---|
//! | `time`, `end_time` / `start_time` (ms) | `window_end` / `window_start` |
//! | `severity_id` | info 1, low 2, medium 3, high 4, critical 5 |
//! | `risk_score`, `risk_level_id` | `risk_score` rounded; its band ([`Severity::from_risk_score`]: info 0 … critical 4) |
//! | `status_id` | 1 New, or 3 Suppressed (`status_detail` = reason); `is_alert` = not suppressed |
//! | `finding_info.analytic.type_id` | 3 Statistical with a p-value or expected value, 2 Behavioral with history but no test (first-seen), else 1 Rule (signal) |
//! | `finding_info.attacks[]` | one per technique id: `technique` (the parent for a sub-technique) + `sub_technique`, `tactic` from [`super::attack`] (one object per tactic: `tactics` is deprecated), `version` = `attack_version` |
//! | `finding_info.related_events[]` | evidence `event_uid`s, `type_uid` 600300 (API Activity: Unknown: the lake keeps no activity id), `created_time` = event time when read back from the lake |
//! | `evidences[]` | one per distinct (actor, service, operation, source IP) among the evidence events, with their distinct `resources` (at most [`MAX_EVIDENCES`] × [`MAX_RESOURCES`]), else one from the finding's columns |
//! | `anomaly_analyses[]` | target = principal (or account); anomaly = `observed` over the window; baseline = `expected` over `baseline_days` days |
//! | `unmapped` | p-values, observed/expected, baseline days, data component, technique ids, run uid, user agent |
//!
//! `confidence_id` is left out: OCSF defines it as the accuracy of the rule, which a
//! finding does not carry (precision per analytic is measured by `cloudsift evaluate`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::{attack, EvidenceEvent};
use crate::findings::{Finding, Severity};

/// OCSF schema version of the records.
pub const OCSF_VERSION: &str = "1.8.0";
/// Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// Findings.
pub const CATEGORY_UID: u32 = 2;
/// Create: every exported finding is reported as created (re-runs replace it by uid).
pub const ACTIVITY_ID: u32 = 1;
/// Most evidence objects per record; the rest are counted in `unmapped.evidence_count`.
pub const MAX_EVIDENCES: usize = 20;
/// Most distinct resources listed per evidence object.
pub const MAX_RESOURCES: usize = 50;

/// `(severity_id, severity caption)` of OCSF for a cloudsift severity.
pub fn severity_id(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// `(risk_level_id, caption)` of a risk-score band ([`Severity::from_risk_score`]): an
/// analytic may set a severity other than its score's band, the level follows the score.
fn risk_level(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Info => (0, "Info"),
        Severity::Low => (1, "Low"),
        Severity::Medium => (2, "Medium"),
        Severity::High => (3, "High"),
        Severity::Critical => (4, "Critical"),
    }
}

/// `(analytic type_id, caption)` from what the finding says about its method.
pub fn analytic_type(f: &Finding) -> (u8, &'static str) {
    if f.p_value.is_some() || f.expected.is_some() {
        (3, "Statistical")
    } else if f.baseline_days > 0 {
        (2, "Behavioral")
    } else {
        (1, "Rule")
    }
}

/// OCSF `cloud.provider` and `account.type_id` / caption for a lake provider.
fn provider_of(p: &str) -> (String, Option<(u8, &'static str)>) {
    match p {
        "aws" => ("AWS".into(), Some((10, "AWS Account"))),
        "azure" => ("Azure".into(), Some((13, "Azure Subscription"))),
        "gcp" => ("GCP".into(), Some((11, "GCP Project"))),
        "m365" => ("Microsoft 365".into(), Some((17, "M365 Tenant"))),
        "entra" => ("Microsoft Entra ID".into(), Some((17, "M365 Tenant"))),
        other => (other.to_string(), None),
    }
}

/// OCSF `user.type_id` / `type` for a lake `actor_type` (99 Other keeps the lake's word).
fn user_type(actor_type: Option<&str>) -> (u8, String) {
    match actor_type.unwrap_or("unknown") {
        "iam_user" | "user" | "identity_center_user" => (1, "User".into()),
        "root" => (2, "Admin".into()),
        "aws_service" | "system" | "service_agent" => (3, "System".into()),
        "service_principal" | "application" | "managed_identity" | "service_account" => (4, "Service".into()),
        "unknown" | "none" => (0, "Unknown".into()),
        other => (99, other.to_string()),
    }
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// A number as OCSF observation text: integers without a fraction, others to 4 decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Removes `null` members at every level: OCSF leaves unset attributes out.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn attacks(f: &Finding) -> Vec<Value> {
    let mut out = Vec::new();
    for id in &f.attack_techniques {
        let known = attack::lookup(id);
        let (technique, sub) = match attack::parent(id) {
            Some(p) => (json!({"uid": p, "name": attack::lookup(p).map(|(n, _)| n)}), Some(json!({"uid": id, "name": known.map(|(n, _)| n)}))),
            None => (json!({"uid": id, "name": known.map(|(n, _)| n)}), None),
        };
        let tactics: Vec<Option<Value>> = match known {
            Some((_, t)) => t.iter().map(|(uid, name)| Some(json!({"uid": uid, "name": name}))).collect(),
            None => vec![None],
        };
        // `attack.tactics` is deprecated since OCSF 1.1: one object per tactic instead.
        for tactic in tactics {
            out.push(json!({"technique": technique, "sub_technique": sub, "tactic": tactic, "version": f.attack_version}));
        }
    }
    out
}

fn user(uid: &str, name: Option<&str>, actor_type: Option<&str>) -> Value {
    let (type_id, type_name) = user_type(actor_type);
    json!({"uid": uid, "name": name, "type_id": type_id, "type": type_name})
}

fn evidence(actor: Option<Value>, service: Option<&str>, operation: Option<&str>, src_ip: Option<&str>, resources: &[&str]) -> Option<Value> {
    let api = operation.map(|op| json!({"operation": op, "service": service.map(|s| json!({"name": s}))}));
    let ip = src_ip.filter(|ip| ip.parse::<IpAddr>().is_ok());
    let resources: Vec<Value> = resources.iter().map(|r| json!({"uid": r})).collect();
    let e = json!({
        "actor": actor.map(|u| json!({"user": u})),
        "api": api,
        "src_endpoint": ip.map(|ip| json!({"ip": ip})),
        "resources": (!resources.is_empty()).then_some(resources),
    });
    // `evidences` needs at least one of actor, api, src_endpoint ...
    (e["actor"].is_object() || e["api"].is_object() || e["src_endpoint"].is_object()).then_some(e)
}

fn evidences(f: &Finding, events: &[EvidenceEvent]) -> Vec<Value> {
    if events.is_empty() {
        let actor = f.actor_uid.as_deref().map(|a| user(a, None, None));
        let resources: Vec<&str> = f.resource_uid.as_deref().into_iter().collect();
        return evidence(actor, f.service.as_deref(), f.operation.as_deref(), f.src_ip.as_deref(), &resources).into_iter().collect();
    }
    // One evidence per (actor, service, operation, source IP), with its distinct targets.
    type Key<'a> = (Option<&'a str>, &'a str, &'a str, Option<&'a str>);
    let mut groups: BTreeMap<Key<'_>, (&EvidenceEvent, Vec<&str>)> = BTreeMap::new();
    for e in events {
        let g = groups.entry((e.actor_uid.as_deref(), &e.service, &e.operation, e.src_ip.as_deref())).or_insert((e, Vec::new()));
        if let Some(r) = e.resource_uid.as_deref() {
            if !g.1.contains(&r) && g.1.len() < MAX_RESOURCES {
                g.1.push(r);
            }
        }
    }
    groups
        .values()
        .take(MAX_EVIDENCES)
        .filter_map(|(e, resources)| {
            let actor = e.actor_uid.as_deref().map(|a| user(a, e.actor_name.as_deref(), e.actor_type.as_deref()));
            evidence(actor, Some(&e.service), Some(&e.operation), e.src_ip.as_deref(), resources)
        })
        .collect()
}

fn anomaly_analyses(f: &Finding) -> Option<Value> {
    if f.p_value.is_none() && f.expected.is_none() && f.baseline_days == 0 {
        return None;
    }
    let parameter = format!("{} per window ({})", f.operation.as_deref().unwrap_or("events"), f.analytic_uid);
    let (kind, pattern) = match f.expected {
        Some(e) if f.observed > e => ("Volume Analysis", Some("HIGH_VOLUME")),
        Some(_) => ("Volume Analysis", Some("NORMAL_VOLUME")),
        None => ("Frequency Analysis", None),
    };
    let window = json!({"start_time": ms(f.window_start), "end_time": ms(f.window_end), "type_id": 9, "type": "Time Interval"});
    let count = (f.observed.fract() == 0.0 && f.observed >= 0.0).then_some(f.observed as i64);
    let target = match &f.actor_uid {
        Some(a) => json!({"name": a, "type": "Principal"}),
        None => json!({"name": f.account_uid, "type": "Account"}),
    };
    let baselines = f.expected.map(|e| {
        json!([{
            "observation_parameter": parameter,
            "observation_type": kind,
            "observed_pattern": "NORMAL_VOLUME",
            "observations": [{"value": num(e), "timespan": {"duration_days": f.baseline_days, "type_id": 5, "type": "Days"}}],
        }])
    });
    Some(json!([{
        "analysis_targets": [target],
        "anomalies": [{
            "observation_parameter": parameter,
            "observation_type": kind,
            "observed_pattern": pattern,
            "observations": [{"value": num(f.observed), "count": count, "timespan": window}],
        }],
        "baselines": baselines,
    }]))
}

/// The OCSF Detection Finding of `f`; `events` are its evidence events read back from the
/// lake (may be empty: the finding's own columns are used then). `null`s are left out.
pub fn to_ocsf(f: &Finding, events: &[EvidenceEvent]) -> Value {
    let (sev_id, sev) = severity_id(f.severity);
    let (risk_id, risk) = risk_level(Severity::from_risk_score(f.risk_score));
    let (type_id, type_name) = analytic_type(f);
    let (provider, account_type) = provider_of(&f.provider);
    let times: BTreeMap<&str, i64> = events.iter().map(|e| (e.event_uid.as_str(), ms(e.time))).collect();
    let related: Vec<Value> = f
        .evidence_event_uids
        .iter()
        .map(|u| json!({"uid": u, "type_uid": 600300, "type_name": "API Activity: Unknown", "created_time": times.get(u.as_str())}))
        .collect();
    let mut data_sources: Vec<&str> = events.iter().map(|e| e.log_format.as_str()).collect();
    data_sources.sort_unstable();
    data_sources.dedup();
    let evidences = evidences(f, events);
    let mut unmapped = Map::new();
    for (k, v) in [
        ("p_value", json!(f.p_value)),
        ("p_value_adjusted", json!(f.p_value_adjusted)),
        ("observed", json!(f.observed)),
        ("expected", json!(f.expected)),
        ("baseline_days", json!(f.baseline_days)),
        ("data_component", json!(f.data_component)),
        ("attack_techniques", json!(f.attack_techniques)),
        ("evidence_count", json!(f.evidence_count)),
        ("user_agent", json!(f.user_agent)),
        ("run_uid", json!(f.run_uid)),
    ] {
        unmapped.insert(k.to_string(), v);
    }
    let record = json!({
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Detection Finding: Create",
        "severity_id": sev_id,
        "severity": sev,
        "status_id": if f.suppressed { 3 } else { 1 },
        "status": if f.suppressed { "Suppressed" } else { "New" },
        "status_detail": f.suppression_reason,
        "is_alert": !f.suppressed,
        "time": ms(f.window_end),
        "start_time": ms(f.window_start),
        "end_time": ms(f.window_end),
        "count": f.evidence_count,
        "message": f.title,
        "risk_score": f.risk_score.round().clamp(0.0, 100.0) as i64,
        "risk_level_id": risk_id,
        "risk_level": risk,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": f.finding_uid,
            "correlation_uid": f.run_uid,
            "profiles": ["cloud", "security_control"],
            "product": {"name": "cloudsift", "vendor_name": "cloudsift", "version": env!("CARGO_PKG_VERSION")},
        },
        "finding_info": {
            "uid": f.finding_uid,
            "title": f.title,
            "desc": f.description,
            "analytic": {"uid": f.analytic_uid, "name": f.analytic_uid, "type_id": type_id, "type": type_name},
            "attacks": attacks(f),
            "first_seen_time": ms(f.window_start),
            "last_seen_time": ms(f.window_end),
            "related_events": related,
            "related_events_count": f.evidence_count,
            "types": [f.data_component],
            "data_sources": (!data_sources.is_empty()).then_some(data_sources),
        },
        "evidences": (!evidences.is_empty()).then_some(evidences),
        "resources": f.resource_uid.as_ref().map(|r| json!([{"uid": r, "provider": provider, "region": f.region}])),
        "cloud": {
            "provider": provider,
            "region": f.region,
            "account": {"uid": f.account_uid, "type_id": account_type.map(|t| t.0), "type": account_type.map(|t| t.1)},
        },
        "anomaly_analyses": anomaly_analyses(f),
        "unmapped": unmapped,
    });
    strip_nulls(record)
}
