//! Tests of `quota_increase` on small lakes written with the real schema, and on the AWS
//! documentation's Service Quotas records.

use super::*;
use crate::analytics::signal::testkit::{ev, run_alone, Lab, DAY, MIN};
use crate::event::Event;
use crate::findings::Severity;
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, Provider};

const SQ: &str = "servicequotas.amazonaws.com";

fn request(uid: &str, t: i64, who: Option<(&'static str, ActorType)>, region: &str, quota: &str) -> Event<'static> {
    let mut e = ev(Provider::Aws, uid, t, who, SQ, "RequestServiceQuotaIncrease");
    e.region = Some(region.to_string().into());
    e.request_params = Some(format!(r#"{{"serviceCode":"ec2","quotaCode":"{quota}","desiredValue":256}}"#).into());
    e
}

fn admin() -> Option<(&'static str, ActorType)> {
    Some(("arn:aws:iam::111122223333:user/admin", ActorType::IamUser))
}

/// The request and the `AwsServiceEvent` that approves it: one finding, one request.
#[test]
fn aws_documentation_sample_counts_once() {
    let Some(p) = crate::sources::testing::shared("data/real/aws_cloudtrail/awsdocs_servicequotas_examples.jsonl") else {
        return;
    };
    let sink = crate::sources::collect_file(&p, &crate::sources::ReadOptions::default()).unwrap();
    let events: Vec<Event> = sink.events.into_iter().map(|(e, _)| e).collect();
    assert_eq!(events.len(), 2);
    let found = run_alone(&events, run);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.operation.as_deref(), Some("RequestServiceQuotaIncrease"));
    assert_eq!((f.observed, f.evidence_count), (1.0, 1));
    assert_eq!(f.evidence_event_uids, vec!["0cb51588-e460-4e00-bc48-a9d4820cad83"]);
    assert_eq!(f.resource_uid.as_deref(), Some("ec2/L-CEED54BB"));
    assert_eq!(f.actor_uid.as_deref(), Some("arn:aws:iam::123456789012:user/admin"));
    assert_eq!(f.severity, Severity::Medium, "a person while learning: {}", f.description);
    assert_eq!(f.attack_techniques, vec!["T1578.005", "T1496.004"]);
}

/// With a 30-day baseline in us-east-1 and one request a week: three GPU quota requests
/// in 20 minutes across us-east-1 and two regions the account never used. Each is raised
/// for the burst, the spread and the count; the two in new regions once more (capped).
#[test]
fn burst_across_new_regions() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = Vec::new();
    for w in 1..=4 {
        events.push(request(&format!("h{w}"), s - 7 * w * DAY, admin(), "us-east-1", "L-1216C47A"));
    }
    let mut seed = ev(Provider::Aws, "seed", s - 30 * DAY, admin(), "ec2.amazonaws.com", "DescribeInstances");
    seed.region = Some("us-east-1".into());
    events.push(seed);
    events.push(request("a", s + HOUR_US, admin(), "us-east-1", "L-DB2E81BA"));
    events.push(request("b", s + HOUR_US + 10 * MIN, admin(), "ap-south-2", "L-DB2E81BA"));
    events.push(request("c", s + HOUR_US + 20 * MIN, admin(), "me-central-1", "L-DB2E81BA"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 3);
    let by = |uid: &str| found.iter().find(|f| f.evidence_event_uids[0] == uid).unwrap();
    let a = by("a");
    // A person who did this before: low, +1 burst, +1 regions, +1 count → critical.
    assert_eq!(a.severity, Severity::Critical);
    assert!(a.description.contains("3 quota requests in the account within 60 minutes"), "{}", a.description);
    assert!(a.description.contains("requests in 3 regions in the window (ap-south-2, me-central-1, us-east-1)"), "{}", a.description);
    assert!(!a.description.contains("first-seen region us-east-1"), "{}", a.description);
    assert!(a.p_value_adjusted.unwrap() <= 0.01, "{:?}", a.p_value_adjusted);
    assert_eq!(a.resource_uid.as_deref(), Some("ec2/L-DB2E81BA"));
    assert!(by("b").description.contains("first-seen region ap-south-2"), "{}", by("b").description);
    // Without the burst and the spread, one more request by the same person is low.
    let lab2 = Lab::new();
    let mut calm: Vec<Event> = events.iter().filter(|e| !["b", "c"].contains(&e.event_uid.as_ref())).cloned().collect();
    calm.retain(|e| e.event_uid != "a");
    calm.push(request("a", s + HOUR_US, admin(), "us-east-1", "L-DB2E81BA"));
    lab2.write(&calm);
    let found = run(&lab2.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Low, "{}", found[0].description);
}

/// The organisation's account factory applies a quota template every day: routine.
#[test]
fn routine_template_is_suppressed() {
    let lab = Lab::new();
    let s = lab.start();
    let bot = Some(("arn:aws:iam::111122223333:role/account-factory", ActorType::AssumedRole));
    let mut events = Vec::new();
    for d in 0..=6 {
        let mut e = ev(Provider::Aws, &format!("t{d}"), s - d * DAY + 3 * HOUR_US, bot, SQ, "PutServiceQuotaIncreaseRequestIntoTemplate");
        e.user_agent = Some("aws-cdk/2.130.0".into());
        events.push(e);
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].severity, found[0].suppressed), (Severity::Info, true));
}

#[test]
fn densest_stretch() {
    let m = 60_000_000;
    assert_eq!(densest(&[0, 10 * m, 70 * m, 75 * m, 80 * m], 60 * m), (3, 70 * m, 80 * m));
    assert_eq!(densest(&[5], 60 * m), (1, 5, 5));
    assert_eq!(densest(&[], 60 * m), (0, 0, 0));
}

#[test]
fn config_errors_name_the_key() {
    let c: QuotaIncreaseConfig = toml::from_str("min_regions = 1").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.quota_increase.min_regions"));
    let c: QuotaIncreaseConfig = toml::from_str("burst_minutes = 0").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.quota_increase.burst_minutes"));
}
