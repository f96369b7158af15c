//! Tests of the export forms and the lake lookups behind `export` and `explain`.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::analytics::testlake::{ev, write_lake};
use crate::schema::ActorType;

/// 2024-03-04 10:00:00 UTC in µs.
const T0: i64 = 1_709_546_400_000_000;

/// A statistical finding over 10:00–11:00 with two evidence events (`e1`, `e2`).
fn finding(uid: &str) -> Finding {
    let start = Utc.timestamp_micros(T0).unwrap();
    Finding {
        finding_uid: uid.into(),
        analytic_uid: "secret_access_volume".into(),
        title: "=HYPERLINK(\"http://x\") read 12 secrets".into(),
        description: "GetSecretValue ×12 in one hour; expected 2.5 from 14 days".into(),
        severity: Severity::High,
        risk_score: 81.6,
        p_value: Some(1e-9),
        p_value_adjusted: Some(4e-8),
        observed: 12.0,
        expected: Some(2.5),
        baseline_days: 14,
        window_start: start,
        window_end: start + Duration::hours(1),
        provider: "aws".into(),
        account_uid: "111122223333".into(),
        region: Some("us-east-1".into()),
        actor_uid: Some("arn:aws:iam::111122223333:user/alice".into()),
        src_ip: Some("203.0.113.7".into()),
        user_agent: Some("-aws-cli/2".into()),
        service: Some("secretsmanager.amazonaws.com".into()),
        operation: Some("GetSecretValue".into()),
        resource_uid: None,
        data_component: "metadata".into(),
        attack_techniques: vec!["T1555.006".into()],
        attack_version: "19".into(),
        evidence_event_uids: vec!["e1".into(), "e2".into()],
        evidence_count: 2,
        suppressed: false,
        suppression_reason: None,
        run_uid: "run-1".into(),
    }
}

/// A lake holding `e1` (10:05) and `e2` (10:20) by alice, and `e3` by bob.
fn lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let alice = "arn:aws:iam::111122223333:user/alice";
    let mut e1 = ev("e1", T0 + 300_000_000, alice, ActorType::IamUser, "secretsmanager.amazonaws.com", "GetSecretValue");
    e1.src_ip = Some("203.0.113.7".into());
    e1.actor_name = Some("alice".into());
    let mut e2 = ev("e2", T0 + 1_200_000_000, alice, ActorType::IamUser, "secretsmanager.amazonaws.com", "GetSecretValue");
    e2.resource_uid = Some("prod/db".into());
    let e3 = ev("e3", T0 + 600_000_000, "arn:aws:iam::111122223333:user/bob", ActorType::IamUser, "s3.amazonaws.com", "ListBuckets");
    write_lake(dir.path(), &[e1, e2, e3]);
    dir
}

#[test]
fn evidence_events_are_read_back_per_finding() {
    let dir = lake();
    let f = finding("f1");
    let got = evidence_events(dir.path(), std::slice::from_ref(&f)).unwrap();
    let evs = &got["f1"];
    assert_eq!(evs.iter().map(|e| e.event_uid.as_str()).collect::<Vec<_>>(), ["e1", "e2"]);
    assert_eq!(evs[0].time, Utc.timestamp_micros(T0 + 300_000_000).unwrap());
    assert_eq!(evs[0].actor_name.as_deref(), Some("alice"));
    assert_eq!(evs[0].actor_type.as_deref(), Some("iam_user"));
    assert_eq!(evs[0].src_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(evs[1].resource_uid.as_deref(), Some("prod/db"));
    assert_eq!(evs[0].source_locator, "record:0");
    // Another account's event with the same uid is not this finding's evidence.
    let mut other = finding("f2");
    other.account_uid = "999".into();
    assert!(evidence_events(dir.path(), &[other]).unwrap()["f2"].is_empty());
}

#[test]
fn ocsf_record_maps_the_finding() {
    let dir = lake();
    let f = finding("f1");
    let events = evidence_events(dir.path(), std::slice::from_ref(&f)).unwrap().remove("f1").unwrap();
    let r = ocsf::to_ocsf(&f, &events);
    assert_eq!((r["class_uid"].as_u64(), r["category_uid"].as_u64(), r["type_uid"].as_u64()), (Some(2004), Some(2), Some(200401)));
    assert_eq!((r["severity_id"].as_u64(), r["severity"].as_str()), (Some(4), Some("High")));
    assert_eq!(r["time"], json!(1_709_550_000_000_i64));
    assert_eq!(r["risk_score"], json!(82));
    assert_eq!((r["status_id"].as_u64(), r["is_alert"].as_bool()), (Some(1), Some(true)));
    assert_eq!(r["metadata"]["version"], "1.8.0");
    assert_eq!(r["metadata"]["profiles"], json!(["cloud", "security_control"]));
    let fi = &r["finding_info"];
    assert_eq!(fi["uid"], "f1");
    assert_eq!(fi["analytic"], json!({"uid": "secret_access_volume", "name": "secret_access_volume", "type_id": 3, "type": "Statistical"}));
    assert_eq!(
        fi["attacks"],
        json!([{
            "technique": {"uid": "T1555", "name": "Credentials from Password Stores"},
            "sub_technique": {"uid": "T1555.006", "name": "Cloud Secrets Management Stores"},
            "tactic": {"uid": "TA0006", "name": "Credential Access"},
            "version": "19"
        }])
    );
    assert_eq!(fi["first_seen_time"], json!(1_709_546_400_000_i64));
    assert_eq!(fi["related_events"][1], json!({"uid": "e2", "type_uid": 600300, "type_name": "API Activity: Unknown", "created_time": 1_709_547_600_000_i64}));
    assert_eq!(fi["data_sources"], json!(["cloudtrail"]));
    // Two distinct (actor, operation, ip, resource) combinations → two evidences.
    let ev = r["evidences"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev.iter().find(|e| e["src_endpoint"].is_object()).unwrap(),
        &json!({
            "actor": {"user": {"uid": "arn:aws:iam::111122223333:user/alice", "name": "alice", "type_id": 1, "type": "User"}},
            "api": {"operation": "GetSecretValue", "service": {"name": "secretsmanager.amazonaws.com"}},
            "src_endpoint": {"ip": "203.0.113.7"}
        })
    );
    assert_eq!(ev.iter().find(|e| e["resources"].is_array()).unwrap()["resources"], json!([{"uid": "prod/db"}]));
    assert_eq!(r["cloud"], json!({"provider": "AWS", "region": "us-east-1", "account": {"uid": "111122223333", "type_id": 10, "type": "AWS Account"}}));
    let aa = &r["anomaly_analyses"][0];
    assert_eq!(aa["analysis_targets"], json!([{"name": "arn:aws:iam::111122223333:user/alice", "type": "Principal"}]));
    assert_eq!(aa["anomalies"][0]["observations"][0]["value"], "12");
    assert_eq!(aa["anomalies"][0]["observations"][0]["count"], 12);
    assert_eq!(aa["anomalies"][0]["observed_pattern"], "HIGH_VOLUME");
    assert_eq!(aa["baselines"][0]["observations"][0], json!({"value": "2.5", "timespan": {"duration_days": 14, "type_id": 5, "type": "Days"}}));
    assert_eq!((r["unmapped"]["p_value"].as_f64(), r["unmapped"]["p_value_adjusted"].as_f64()), (Some(1e-9), Some(4e-8)));
    // OCSF leaves unset attributes out rather than writing null.
    assert!(!serde_json::to_string(&r).unwrap().contains("null"));
}

#[test]
fn ocsf_signal_without_events_uses_the_finding_columns() {
    let mut f = finding("f3");
    f.analytic_uid = "logging_disabled".into();
    (f.p_value, f.p_value_adjusted, f.expected, f.baseline_days) = (None, None, None, 0);
    f.attack_techniques = vec!["T1562.008".into(), "T1685.002".into()];
    f.suppressed = true;
    f.suppression_reason = Some("change request CR-7".into());
    f.src_ip = Some("lambda.amazonaws.com".into());
    let r = ocsf::to_ocsf(&f, &[]);
    assert_eq!(r["finding_info"]["analytic"]["type_id"], 1);
    assert!(r.get("anomaly_analyses").is_none(), "a signal has no baseline");
    assert_eq!((r["status_id"].as_u64(), r["status"].as_str(), r["status_detail"].as_str()), (Some(3), Some("Suppressed"), Some("change request CR-7")));
    let attacks = r["finding_info"]["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 2);
    assert_eq!(attacks[1]["technique"], json!({"uid": "T1685"}));
    assert_eq!(attacks[1]["tactic"]["uid"], "TA0005");
    // A host name is not an IP: no src_endpoint.
    assert_eq!(r["evidences"], json!([{"actor": {"user": {"uid": "arn:aws:iam::111122223333:user/alice", "type_id": 0, "type": "Unknown"}}, "api": {"operation": "GetSecretValue", "service": {"name": "secretsmanager.amazonaws.com"}}}]));
    assert!(r["finding_info"]["related_events"][0].get("created_time").is_none());
}

#[test]
fn csv_neutralises_formulas_and_flattens() {
    assert_eq!(neutralise_formula("=1+2"), "'=1+2");
    assert_eq!(neutralise_formula("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(neutralise_formula("\tx"), "'\tx");
    assert_eq!(neutralise_formula("alice"), "alice");
    let mut buf = Vec::new();
    write_csv(&mut buf, &[finding("f1")]).unwrap();
    let mut r = csv::Reader::from_reader(buf.as_slice());
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS.to_vec());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let get = |name: &str| rows[0][CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].to_string();
    assert_eq!(get("title"), "'=HYPERLINK(\"http://x\") read 12 secrets");
    assert_eq!(get("user_agent"), "'-aws-cli/2");
    assert_eq!(get("window_end"), "2024-03-04T11:00:00Z");
    assert_eq!(get("expected"), "2.5");
    assert_eq!(get("evidence_event_uids"), "e1;e2");
    assert_eq!(get("resource_uid"), "");
}

#[test]
fn selection_and_uid_prefix_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let a = finding("abc123");
    let mut b = finding("abd456");
    b.analytic_uid = "enumeration_burst".into();
    b.severity = Severity::Low;
    b.window_end += Duration::days(1);
    crate::findings::write_findings(dir.path(), &[a.clone(), b.clone()]).unwrap();
    let uids = |sel: &Selection| select(dir.path(), sel).unwrap().into_iter().map(|f| f.finding_uid).collect::<Vec<_>>();
    assert_eq!(uids(&Selection::default()), ["abc123", "abd456"]);
    assert_eq!(uids(&Selection { min_severity: Some(Severity::Medium), ..Default::default() }), ["abc123"]);
    assert_eq!(uids(&Selection { analytics: vec!["enumeration_burst".into()], ..Default::default() }), ["abd456"]);
    assert_eq!(uids(&Selection { until: Some(b.window_end), ..Default::default() }), ["abc123"]);
    assert_eq!(find_by_uid(dir.path(), "ABC").unwrap().finding_uid, "abc123");
    let err = find_by_uid(dir.path(), "ab").unwrap_err();
    assert!(err.to_string().contains("start of 2 finding uids"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err = find_by_uid(dir.path(), "ffff").unwrap_err();
    assert!(err.to_string().contains("no finding has a uid starting with `ffff`"), "{err}");
    assert_eq!(err.exit_code(), 2);
}
