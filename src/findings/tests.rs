//! Tests of the findings schema: ids, Parquet round trip and replacement, renderers.

use super::*;
use chrono::TimeZone;

/// A complete finding for tests; `uid` and `end_hour` (2024-03-04 + hours) vary.
fn sample(uid: &str, end_hour: i64) -> Finding {
    let end =
        Utc.with_ymd_and_hms(2024, 3, 4, 0, 0, 0).unwrap() + chrono::Duration::hours(end_hour);
    Finding {
        finding_uid: uid.into(),
        analytic_uid: "logging_disabled".into(),
        title: "CloudTrail logging stopped".into(),
        description: "StopLogging on trail main".into(),
        severity: Severity::High,
        risk_score: 75.0,
        p_value: None,
        p_value_adjusted: Some(0.004),
        observed: 1.0,
        expected: None,
        baseline_days: 14,
        window_start: end - chrono::Duration::minutes(5),
        window_end: end,
        provider: "aws".into(),
        account_uid: "111122223333".into(),
        region: Some("us-east-1".into()),
        actor_uid: Some("arn:aws:iam::111122223333:user/alice".into()),
        src_ip: None,
        user_agent: Some("aws-cli/2".into()),
        service: Some("cloudtrail.amazonaws.com".into()),
        operation: Some("StopLogging".into()),
        resource_uid: None,
        data_component: "disable".into(),
        attack_techniques: vec!["T1562.008".into(), "T1685.002".into()],
        attack_version: "19".into(),
        evidence_event_uids: vec!["e1".into()],
        evidence_count: 1,
        suppressed: false,
        suppression_reason: None,
        run_uid: "run-1".into(),
    }
}

#[test]
fn severity_orders_and_parses() {
    assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    assert_eq!(Severity::parse("severe"), None);
    assert_eq!(Severity::from_risk_score(75.0), Severity::High);
    assert_eq!(Severity::from_risk_score(95.0), Severity::Critical);
}

#[test]
fn uid_is_deterministic_and_separates_fields() {
    let t0 = Utc.with_ymd_and_hms(2024, 3, 4, 0, 0, 0).unwrap();
    let t1 = t0 + chrono::Duration::hours(1);
    let a = finding_uid("x", &["a", "bc"], t0, t1);
    assert_eq!(a, finding_uid("x", &["a", "bc"], t0, t1));
    assert_eq!(a.len(), 32);
    assert_ne!(a, finding_uid("x", &["ab", "c"], t0, t1));
    assert_ne!(
        a,
        finding_uid("x", &["a", "bc"], t0, t1 + chrono::Duration::hours(1))
    );
}

#[test]
fn write_read_round_trip_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let a = sample("a", 10);
    let mut b = sample("b", 11);
    b.p_value = Some(1e-9);
    b.expected = Some(2.5);
    b.resource_uid = Some("trail".into());
    let written = write_findings(dir.path(), &[a.clone(), b.clone()]).unwrap();
    assert_eq!(written.len(), 1);
    assert!(written[0]
        .to_string_lossy()
        .contains("findings/date=2024-03-04/part-"));
    assert_eq!(
        read_findings(dir.path(), None).unwrap(),
        vec![a.clone(), b.clone()]
    );

    // Same uid again, now ending on the next day: replaced, not duplicated.
    let mut a2 = sample("a", 30);
    a2.severity = Severity::Critical;
    write_findings(dir.path(), &[a2.clone()]).unwrap();
    let all = read_findings(dir.path(), None).unwrap();
    assert_eq!(all, vec![b.clone(), a2.clone()]);
    let since = Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap();
    assert_eq!(read_findings(dir.path(), Some(since)).unwrap(), vec![a2]);
    // No temporaries left behind.
    let day = dir.path().join("findings/date=2024-03-04");
    assert_eq!(fs::read_dir(&day).unwrap().count(), 1);
    assert!(read_findings(&dir.path().join("nothing"), None)
        .unwrap()
        .is_empty());
}

#[test]
fn table_and_jsonl() {
    let f = sample("a", 10);
    let table = render_table(std::slice::from_ref(&f));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("SEVERITY  RISK  WINDOW_END"));
    assert!(lines[1].starts_with("high      75    2024-03-04 10:00  logging_disabled"));
    assert!(lines[1].contains("1/-") && lines[1].contains("4.00e-3"));
    let mut buf = Vec::new();
    write_jsonl(&mut buf, &[f.clone(), f]).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().count(), 2);
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["severity"], "high");
    assert_eq!(v["window_end"], "2024-03-04T10:00:00Z");
    assert_eq!(v["attack_techniques"][1], "T1685.002");
}
