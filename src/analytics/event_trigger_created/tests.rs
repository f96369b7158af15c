//! Tests of `event_trigger_created` on small lakes written with the real schema.

use super::*;
use crate::analytics::signal::testkit::{ev, Lab, DAY, MIN};
use crate::findings::Severity;
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, Provider};

const EVENTS: &str = "events.amazonaws.com";

fn bob() -> Option<(&'static str, ActorType)> {
    Some(("arn:aws:iam::111122223333:user/bob", ActorType::IamUser))
}

#[test]
fn request_weights() {
    let lab = Lab::new();
    let s = lab.start();
    let mut cross = ev(Provider::Aws, "x", s, bob(), EVENTS, "PutTargets");
    cross.request_params = Some(r#"{"rule":"r","targets":[{"id":"1","arn":"arn:aws:lambda:us-east-1:999988887777:function:f"}]}"#.into());
    let mut own = ev(Provider::Aws, "o", s, bob(), EVENTS, "PutTargets");
    own.request_params = Some(r#"{"rule":"r","targets":[{"id":"1","arn":"arn:aws:lambda:us-east-1:111122223333:function:f"}]}"#.into());
    let mut iam = ev(Provider::Aws, "i", s, bob(), EVENTS, "PutRule");
    iam.request_params = Some(r#"{"name":"r","eventPattern":"{\"source\":[\"aws.iam\"],\"detail\":{\"eventName\":[\"CreateUser\"]}}"}"#.into());
    let mut push = ev(Provider::Gcp, "p", s, None, "pubsub.googleapis.com", "google.pubsub.v1.Subscriber.CreateSubscription");
    push.request_params = Some(r#"{"name":"projects/p/subscriptions/s","pushConfig":{"pushEndpoint":"https://evil.example/hook"}}"#.into());
    let hook = ev(Provider::Azure, "h", s, None, "Microsoft.Automation", "MICROSOFT.AUTOMATION/AUTOMATIONACCOUNTS/WEBHOOKS/WRITE");
    lab.write(&[cross, own, iam, push, hook]);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&[TAG]), &[], 90).unwrap();
    let w = |uid: &str| weight(scan.window.iter().find(|r| r.event_uid == uid).unwrap());
    assert_eq!(w("x"), (Weight::Sensitive, Some("target in another account (arn:aws:lambda:us-east-1:999988887777:function:f)".into())));
    assert_eq!(w("o"), (Weight::Change, None));
    assert_eq!(w("i").0, Weight::Sensitive);
    assert_eq!(w("p"), (Weight::Sensitive, Some("pushes messages to https://evil.example/hook".into())));
    assert_eq!(w("h").0, Weight::Sensitive);
}

/// A person with a 30-day baseline: the first trigger change (cross-account target) is
/// critical, their next one an hour later low (no longer the first).
#[test]
fn first_time_person_then_repeat() {
    let lab = Lab::new();
    let s = lab.start();
    let mut targets = ev(Provider::Aws, "t1", s + HOUR_US, bob(), EVENTS, "PutTargets");
    targets.request_params = Some(r#"{"rule":"r","targets":[{"id":"1","arn":"arn:aws:lambda:us-east-1:999988887777:function:f"}]}"#.into());
    let mut rule = ev(Provider::Aws, "r1", s + 3 * HOUR_US, bob(), EVENTS, "PutRule");
    rule.request_params = Some(r#"{"name":"nightly","scheduleExpression":"rate(1 day)"}"#.into());
    lab.write(&[ev(Provider::Aws, "seed", s - 30 * DAY, bob(), "s3.amazonaws.com", "ListBuckets"), targets, rule]);
    let mut found = run(&lab.ctx()).unwrap();
    found.sort_by_key(|f| f.window_start);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].severity, Severity::Critical);
    assert_eq!(found[0].resource_uid.as_deref(), Some("r"));
    assert!(found[0].description.contains("target in another account"), "{}", found[0].description);
    assert_eq!(found[0].attack_techniques, vec!["T1546"]);
    assert_eq!(found[1].severity, Severity::Low);
    assert_eq!(found[1].resource_uid.as_deref(), Some("nightly"));
    assert!(found[1].description.contains("already made an earlier event-trigger change in the window"), "{}", found[1].description);
}

/// A deployment role (Terraform agent) re-applying the same schedule daily is routine:
/// info and suppressed; while learning it is info, not suppressed.
#[test]
fn infrastructure_as_code_is_routine() {
    let lab = Lab::new();
    let s = lab.start();
    let ci = Some(("arn:aws:iam::111122223333:role/ci", ActorType::AssumedRole));
    let ua = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5";
    let mut events = Vec::new();
    for d in 0..=8 {
        let mut e = ev(Provider::Aws, &format!("d{d}"), s - d * DAY + 10 * MIN, ci, EVENTS, "PutRule");
        e.user_agent = Some(ua.into());
        events.push(e);
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].severity, found[0].suppressed), (Severity::Info, true));
    assert!(found[0].description.contains("(automation) called events.amazonaws.com PutRule"), "{}", found[0].description);
}

/// Panther's Automation schedule fixture shape: no initiator in the record, no history.
#[test]
fn azure_schedule_without_initiator_is_medium() {
    let lab = Lab::new();
    let s = lab.start();
    lab.write(&[ev(Provider::Azure, "s", s + HOUR_US, None, "Microsoft.Automation", "MICROSOFT.AUTOMATION/AUTOMATIONACCOUNTS/SCHEDULES/WRITE")]);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[0].title, "MICROSOFT.AUTOMATION/AUTOMATIONACCOUNTS/SCHEDULES/WRITE by an unidentified principal");
    assert!(found[0].description.contains("The record names no initiator"), "{}", found[0].description);
}
