//! Matching, validation and expiry of pipeline exceptions.

use super::*;
use chrono::TimeZone;

const IDS: [&str; 3] = ["logging_disabled", "session_anomaly", "secret_access_volume"];

fn finding(analytic: &str, actor: &str, ip: Option<&str>, severity: Severity) -> Finding {
    let end = Utc.with_ymd_and_hms(2024, 3, 4, 12, 0, 0).unwrap();
    Finding {
        finding_uid: format!("{analytic}-{actor}"),
        analytic_uid: analytic.into(),
        title: "t".into(),
        description: "d".into(),
        severity,
        risk_score: 50.0,
        p_value: None,
        p_value_adjusted: None,
        observed: 1.0,
        expected: None,
        baseline_days: 0,
        window_start: end,
        window_end: end,
        provider: "aws".into(),
        account_uid: "318273645560".into(),
        region: None,
        actor_uid: Some(actor.into()),
        src_ip: ip.map(Into::into),
        user_agent: Some("aws-cli/2.15.0".into()),
        service: Some("cloudtrail.amazonaws.com".into()),
        operation: Some("StopLogging".into()),
        resource_uid: None,
        data_component: "disable".into(),
        attack_techniques: vec!["T1562.008".into()],
        attack_version: "19".into(),
        evidence_event_uids: vec!["e1".into()],
        evidence_count: 1,
        suppressed: false,
        suppression_reason: None,
        run_uid: "r".into(),
    }
}

fn config(toml_text: &str) -> SuppressionConfig {
    toml::from_str(toml_text).unwrap()
}

const DRILL: &str = r#"
id = "dr-drill"
analytic = "logging_disabled"
actor = "arn:aws:sts::*:assumed-role/dr-drill-*"
max_severity = "high"
owner = "secops@example.com"
reason = "quarterly DR drill, CHG-1042"
expires = "2024-03-31"
"#;

const RUNNERS: &str = r#"
id = "ci-runners"
analytic = "*"
src_ip = "203.0.113.0/24"
owner = "platform@example.com"
reason = "self-hosted runners' NAT"
expires = "2024-03-10T00:00:00Z"
"#;

fn build_two() -> Vec<Suppression> {
    build("p.toml", &[config(DRILL)], &[config(RUNNERS)], &IDS).unwrap()
}

#[test]
fn glob_cidr_and_severity_cap_decide_a_match() {
    let s = build_two();
    let drill = "arn:aws:sts::318273645560:assumed-role/dr-drill-eu/alice";
    assert!(s[0].matches(&finding("logging_disabled", drill, None, Severity::High)));
    // Above max_severity: a critical finding is never hidden by this entry.
    assert!(!s[0].matches(&finding("logging_disabled", drill, None, Severity::Critical)));
    assert!(!s[0].matches(&finding("session_anomaly", drill, None, Severity::Low)));
    assert!(!s[0].matches(&finding("logging_disabled", "arn:aws:sts::318273645560:assumed-role/admin/alice", None, Severity::Low)));
    // CIDR: inside, outside, no address, and an unparsable address.
    assert!(s[1].matches(&finding("session_anomaly", "bob", Some("203.0.113.77"), Severity::Medium)));
    assert!(!s[1].matches(&finding("session_anomaly", "bob", Some("203.0.114.1"), Severity::Medium)));
    assert!(!s[1].matches(&finding("session_anomaly", "bob", None, Severity::Medium)));
    assert!(!s[1].matches(&finding("session_anomaly", "bob", Some("AWS Internal"), Severity::Medium)));
}

#[test]
fn a_date_expiry_covers_that_whole_day_and_warns_before() {
    let s = build_two();
    assert_eq!(s[0].expires_at, Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap());
    assert_eq!(s[0].state(Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()), State::Active);
    assert_eq!(s[0].state(Utc.with_ymd_and_hms(2024, 3, 31, 23, 59, 59).unwrap()), State::Expiring);
    assert_eq!(s[0].state(Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap()), State::Expired);
}

#[test]
fn apply_hides_while_in_force_and_counts_after_expiry() {
    let s = build_two();
    let make = || {
        vec![
            finding("session_anomaly", "bob", Some("203.0.113.5"), Severity::Medium),
            finding("session_anomaly", "eve", Some("198.51.100.9"), Severity::High),
        ]
    };
    let mut found = make();
    let reports = apply(&s, &mut found, Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap());
    assert!(found[0].suppressed && !found[1].suppressed);
    let reason = found[0].suppression_reason.as_deref().unwrap();
    assert!(reason.contains("`ci-runners`") && reason.contains("platform@example.com") && reason.contains("2024-03-10"), "{reason}");
    assert_eq!((reports[1].matched, reports[1].state), (1, State::Expiring));
    assert_eq!(reports[0].matched, 0);

    let mut found = make();
    let reports = apply(&s, &mut found, Utc.with_ymd_and_hms(2024, 3, 12, 0, 0, 0).unwrap());
    assert!(!found[0].suppressed, "an expired entry must not suppress");
    assert_eq!((reports[1].matched, reports[1].state), (1, State::Expired));
}

#[test]
fn an_analytic_suppression_keeps_its_own_reason() {
    let s = build_two();
    let mut f = finding("session_anomaly", "bob", Some("203.0.113.5"), Severity::Medium);
    f.suppressed = true;
    f.suppression_reason = Some("change request CHG-7".into());
    let mut found = vec![f];
    let reports = apply(&s, &mut found, Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap());
    assert_eq!(found[0].suppression_reason.as_deref(), Some("change request CHG-7"));
    assert_eq!(reports[1].matched, 0);
}

#[test]
fn validation_names_the_key() {
    let err = |text: &str| build("p.toml", &[config(text)], &[], &IDS).unwrap_err().to_string();
    let e = err(&DRILL.replace("owner = \"secops@example.com\"", "owner = \" \""));
    assert!(e.contains("p.toml: suppressions[0].owner"), "{e}");
    let e = err(&DRILL.replace("\"logging_disabled\"", "\"logging_disabld\""));
    assert!(e.contains("suppressions[0].analytic") && e.contains("session_anomaly"), "{e}");
    let e = err(&DRILL.replace("2024-03-31", "next month"));
    assert!(e.contains("suppressions[0].expires"), "{e}");
    let e = err(&format!("{DRILL}src_ip = \"10.0.0.0/33\"\n"));
    assert!(e.contains("suppressions[0].src_ip"), "{e}");
    let e = err(&DRILL.replace("\"high\"", "\"severe\""));
    assert!(e.contains("suppressions[0].max_severity"), "{e}");
    let e = build("p.toml", &[config(DRILL)], &[config(&DRILL.replace("analytic = \"logging_disabled\"", "analytic = \"*\""))], &IDS).unwrap_err().to_string();
    assert!(e.contains("allowlist[0].id") && e.contains("twice"), "{e}");
    // A missing expiry is a TOML error naming the field: expiry is mandatory.
    let missing: std::result::Result<SuppressionConfig, _> = toml::from_str(&DRILL.replace("expires = \"2024-03-31\"", ""));
    assert!(missing.unwrap_err().to_string().contains("expires"));
}

#[test]
fn a_bare_address_is_a_single_host_block() {
    let s = build("p.toml", &[], &[config(&RUNNERS.replace("203.0.113.0/24", "2001:db8::7"))], &IDS).unwrap();
    assert!(s[0].matches(&finding("session_anomaly", "bob", Some("2001:db8::7"), Severity::Low)));
    assert!(!s[0].matches(&finding("session_anomaly", "bob", Some("2001:db8::8"), Severity::Low)));
}
