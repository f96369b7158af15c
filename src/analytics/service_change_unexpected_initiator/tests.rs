//! Tests of `service_change_unexpected_initiator` on small lakes written with the real
//! schema (the Sentinel lab's mass deletion is in `signal/real_tests.rs`).

use super::*;
use crate::analytics::signal::testkit::{account, ev, Lab, DAY, MIN};
use crate::event::Event;
use crate::schema::{ActorType, Provider};

const LAMBDA: &str = "lambda.amazonaws.com";

fn alice() -> Option<(&'static str, ActorType)> {
    Some(("arn:aws:iam::111122223333:user/alice", ActorType::IamUser))
}

fn seeded(lab: &Lab, days: i64) -> Vec<Event<'static>> {
    vec![ev(Provider::Aws, "seed", lab.start() - days * DAY, alice(), "ec2.amazonaws.com", "DescribeInstances")]
}

/// Alice changed Lambda before; her first EventBridge change is a first-seen (initiator,
/// service) finding, her Lambda change is not; a CloudTrail change is left to
/// logging_disabled.
#[test]
fn first_change_of_a_service_by_an_initiator() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = seeded(&lab, 30);
    events.push(ev(Provider::Aws, "old", s - 10 * DAY, alice(), LAMBDA, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "l", s + HOUR_US, alice(), LAMBDA, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "e1", s + 2 * HOUR_US, alice(), "events.amazonaws.com", "PutRule"));
    events.push(ev(Provider::Aws, "e2", s + 2 * HOUR_US + MIN, alice(), "events.amazonaws.com", "PutTargets"));
    events.push(ev(Provider::Aws, "ct", s + 3 * HOUR_US, alice(), "cloudtrail.amazonaws.com", "StopLogging"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.title, "First change of events.amazonaws.com by arn:aws:iam::111122223333:user/alice");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence_event_uids, vec!["e1", "e2"]);
    assert!(f.description.contains("2 event(s) (PutRule, PutTargets)"), "{}", f.description);
    assert_eq!(f.baseline_days, 30);
    // While the account is learned there is no first-seen finding at all.
    let mut young = Lab::new();
    young.config.service_change_unexpected_initiator.min_history_days = 31;
    young.write(&events);
    assert!(run(&young.ctx()).unwrap().is_empty());
}

/// Three KMS keys scheduled for deletion within half an hour by a shared role: one high
/// finding listing them; a lone Key Vault deletion by a person elsewhere is its own
/// finding; a lone trail deletion is left to logging_disabled.
#[test]
fn critical_deletions_burst_and_singles() {
    let lab = Lab::new();
    let s = lab.start();
    let role = Some(("arn:aws:iam::111122223333:role/ops", ActorType::AssumedRole));
    let mut events = Vec::new();
    for k in 0..3 {
        let mut e = ev(Provider::Aws, &format!("k{k}"), s + HOUR_US + k * 10 * MIN, role, "kms.amazonaws.com", "ScheduleKeyDeletion");
        e.resource_uid = Some(format!("arn:aws:kms:us-east-1:111122223333:key/{k}").into());
        events.push(e);
    }
    let adele = Some(("adele@contoso.com", ActorType::User));
    let mut kv = ev(Provider::Azure, "kv", s + 2 * HOUR_US, adele, "Microsoft.KeyVault", "MICROSOFT.KEYVAULT/VAULTS/DELETE");
    kv.resource_uid = Some(format!("/subscriptions/{}/resourcegroups/rg/providers/microsoft.keyvault/vaults/v1", account(Provider::Azure)).into());
    events.push(kv);
    let mut trail = ev(Provider::Aws, "t", s + 4 * HOUR_US, alice(), "cloudtrail.amazonaws.com", "DeleteTrail");
    trail.resource_uid = Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/main".into());
    events.push(trail);
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 2, "{found:#?}");
    let burst = found.iter().find(|f| f.title.contains("critical resources deleted")).unwrap();
    assert_eq!(burst.severity, Severity::High);
    assert_eq!(burst.title, "3 critical resources deleted within 60 minutes by arn:aws:iam::111122223333:role/ops");
    assert!(burst.description.contains("3 KMS key(s): 0, 1, 2"), "{}", burst.description);
    assert_eq!(burst.evidence_event_uids, vec!["k0", "k1", "k2"]);
    assert!(burst.attack_techniques.contains(&"T1485".to_string()));
    let single = found.iter().find(|f| f.evidence_event_uids == ["kv"]).unwrap();
    assert_eq!(single.severity, Severity::High, "a person while learning, sensitive: {}", single.description);
    assert!(single.description.contains("deletes a Key Vault"), "{}", single.description);
    // Below the burst bar the keys are singles: a shared role while learning, medium.
    let mut lab = lab;
    lab.config.service_change_unexpected_initiator.critical_min_deletions = 4;
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 4);
    assert_eq!(found.iter().filter(|f| f.severity == Severity::Medium).count(), 3);
}

/// A person who never deleted a critical resource, in an account with a baseline, deleting
/// three: critical.
#[test]
fn critical_burst_by_a_first_time_person_is_critical() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = seeded(&lab, 20);
    for k in 0..3 {
        let mut e = ev(Provider::Aws, &format!("k{k}"), s + HOUR_US + k * MIN, alice(), "kms.amazonaws.com", "DisableKey");
        e.resource_uid = Some(format!("key-{k}").into());
        events.push(e);
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    let burst = found.iter().find(|f| f.title.contains("critical resources deleted")).unwrap();
    assert_eq!(burst.severity, Severity::Critical);
    assert!(burst.description.contains("a person who deleted no critical resource before"), "{}", burst.description);
}

/// A Terraform teardown (the Stratus clean-up in the Invictus recording deletes two trails
/// and a log group in four seconds) is a burst too, but medium.
#[test]
fn infrastructure_as_code_teardown_is_medium() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = Vec::new();
    for (k, (svc, op)) in [("cloudtrail.amazonaws.com", "DeleteTrail"), ("cloudtrail.amazonaws.com", "DeleteTrail"), ("logs.amazonaws.com", "DeleteLogGroup")]
        .iter()
        .enumerate()
    {
        let mut e = ev(Provider::Aws, &format!("d{k}"), s + HOUR_US + k as i64 * 1_000_000, alice(), svc, op);
        e.resource_uid = Some(format!("r{k}").into());
        e.user_agent = Some("APN/1.0 HashiCorp/1.0 Terraform/1.5.2 terraform-provider-aws/5.7.0".into());
        events.push(e);
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(found[0].description.contains("2 CloudTrail trail(s): r0, r1; 1 CloudWatch log group(s): r2"), "{}", found[0].description);
}

/// A role making 40 modifications in an hour against a baseline of about one a day.
#[test]
fn frequent_modifications_are_a_count_finding() {
    let lab = Lab::new();
    let s = lab.start();
    let bot = Some(("arn:aws:iam::111122223333:role/bot", ActorType::AssumedRole));
    let mut events = seeded(&lab, 20);
    for d in 1..=19 {
        events.push(ev(Provider::Aws, &format!("h{d}"), s - d * DAY + 9 * HOUR_US, bot, "events.amazonaws.com", "PutRule"));
    }
    for k in 0..40 {
        events.push(ev(Provider::Aws, &format!("w{k:02}"), s + 6 * HOUR_US + k * MIN, bot, "events.amazonaws.com", "PutTargets"));
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.title, "40 service changes in one hour by arn:aws:iam::111122223333:role/bot");
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.p_value_adjusted.unwrap() < 1e-10);
    assert!((f.expected.unwrap() - 19.5 / 480.0).abs() < 1e-9, "{:?}", f.expected);
}

#[test]
fn critical_resources_come_from_the_pipeline_toml() {
    let c: ServiceChangeUnexpectedInitiatorConfig = toml::from_str(
        "critical_min_deletions = 2\n[[critical_resources]]\nname = 'Storage account'\nprovider = 'azure'\noperations = ['Microsoft.Storage/storageAccounts/delete']\n",
    )
    .unwrap();
    assert_eq!(c.critical_resources.len(), 1);
    assert_eq!(c.extra_ops()[0].operation, "Microsoft.Storage/storageAccounts/delete");
    c.validate().unwrap();
    let bad: ServiceChangeUnexpectedInitiatorConfig =
        toml::from_str("[[critical_resources]]\nname = 'x'\nprovider = 'oracle'\noperations = ['d']\n").unwrap();
    assert!(bad.validate().unwrap_err().to_string().contains("critical_resources[0].provider"));
    assert!(toml::from_str::<ServiceChangeUnexpectedInitiatorConfig>("[[critical_resources]]\nname='x'\n").is_err());
    assert_eq!(ServiceChangeUnexpectedInitiatorConfig::default().critical_resources.len(), 9);
}

/// A first change covered by a change request (initiator, time, target = the service) is
/// written suppressed with the ticket; the same change outside the ticket's hours is an
/// alert. Found by `cloudsift evaluate --days 60`: the tenant's ticketed conditional-access
/// changes were medium "first change" alerts.
#[test]
fn a_ticketed_first_change_is_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let tickets = dir.path().join("cr.csv");
    let mut lab = Lab::new();
    let s = lab.start();
    let at = |us: i64| signal::time(us).to_rfc3339();
    std::fs::write(&tickets, format!("ticket_id,actor,target,start,end\nCHG-7,arn:aws:iam::111122223333:user/alice,events.amazonaws.com,{},{}\n", at(s + HOUR_US), at(s + 3 * HOUR_US))).unwrap();
    lab.config.service_change_unexpected_initiator.change_requests = Some(tickets.clone());
    let mut events = seeded(&lab, 30);
    events.push(ev(Provider::Aws, "e1", s + 2 * HOUR_US, alice(), "events.amazonaws.com", "PutRule"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].suppressed, "{:#?}", found[0]);
    assert!(found[0].suppression_reason.as_deref().unwrap().starts_with("change request CHG-7"));

    let mut late = Lab::new();
    late.config.service_change_unexpected_initiator.change_requests = Some(tickets);
    let mut events = seeded(&late, 30);
    events.push(ev(Provider::Aws, "e1", late.start() + 5 * HOUR_US, alice(), "events.amazonaws.com", "PutRule"));
    late.write(&events);
    let found = run(&late.ctx()).unwrap();
    assert_eq!((found.len(), found[0].suppressed, found[0].severity), (1, false, Severity::Medium));

    // A missing table is an error naming this analytic's key.
    let mut bad = Lab::new();
    bad.config.service_change_unexpected_initiator.change_requests = Some(dir.path().join("nope.csv"));
    bad.write(&seeded(&bad, 30));
    let e = run(&bad.ctx()).unwrap_err().to_string();
    assert!(e.contains("analytics.service_change_unexpected_initiator.change_requests") && e.contains("nope.csv"), "{e}");
}
