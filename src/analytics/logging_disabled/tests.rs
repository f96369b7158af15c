//! Tests of `logging_disabled` on small lakes written with the real schema.

use super::*;
use crate::analytics::testlake::{ev, write_lake, Ctx};
use crate::schema::{ActorType, Status};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const TF: &str = "arn:aws:iam::111122223333:role/github-actions-terraform";
const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main";
const CT: &str = "cloudtrail.amazonaws.com";
const DAY: i64 = 24 * HOUR_US;

fn on_trail(uid: &str, t: i64, actor: &str, operation: &str) -> crate::event::Event<'static> {
    let mut e = ev(uid, t, actor, ActorType::IamUser, CT, operation);
    e.resource_uid = Some(TRAIL.into());
    e.region = Some("us-east-1".into());
    e
}

#[test]
fn first_time_is_critical_repeat_is_high() {
    let ctx = Ctx::new();
    let start = ctx.window_start_us();
    let mut events = vec![
        // Bob stopped the trail successfully 30 days ago; Alice only failed 10 days ago.
        on_trail("old-bob", start - 30 * DAY, BOB, "StopLogging"),
        ev(
            "noise",
            start + HOUR_US,
            ALICE,
            ActorType::IamUser,
            "ec2.amazonaws.com",
            "DescribeInstances",
        ),
    ];
    let mut e = on_trail("old-alice", start - 10 * DAY, ALICE, "StopLogging");
    e.status = Status::Failure;
    events.push(e);
    for (uid, actor, minute) in [("a1", ALICE, 5), ("a2", ALICE, 6), ("b1", BOB, 7)] {
        events.push(on_trail(
            uid,
            start + 3 * HOUR_US + minute * 60_000_000,
            actor,
            "StopLogging",
        ));
    }
    write_lake(ctx.dir.path(), &events);

    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by(|a, b| a.actor_uid.cmp(&b.actor_uid));
    assert_eq!(found.len(), 2);
    let (a, b) = (&found[0], &found[1]);
    assert_eq!(a.actor_uid.as_deref(), Some(ALICE));
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.title, "StopLogging by a first-time initiator");
    assert_eq!(a.risk_score, 90.0);
    assert_eq!(a.observed, 2.0);
    assert_eq!(a.evidence_event_uids, vec!["a1", "a2"]);
    assert_eq!(a.evidence_count, 2);
    assert_eq!(a.account_uid, "111122223333");
    assert_eq!(a.resource_uid.as_deref(), Some(TRAIL));
    assert_eq!(a.region.as_deref(), Some("us-east-1"));
    assert_eq!(a.service.as_deref(), Some(CT));
    assert_eq!(a.operation.as_deref(), Some("StopLogging"));
    assert_eq!(
        a.window_start.timestamp_micros(),
        start + 3 * HOUR_US + 5 * 60_000_000
    );
    assert_eq!(
        a.window_end.timestamp_micros(),
        start + 3 * HOUR_US + 6 * 60_000_000
    );
    assert_eq!(a.attack_techniques, vec!["T1562.008", "T1685.002"]);
    assert_eq!(a.attack_version, "19");
    assert_eq!(a.data_component, "disable");
    assert_eq!(a.baseline_days, 30);
    assert!(!a.suppressed);
    assert!(
        a.description.contains("First logging-disable operation"),
        "{}",
        a.description
    );
    assert_eq!(b.actor_uid.as_deref(), Some(BOB));
    assert_eq!(b.severity, Severity::High);
    assert_eq!(b.risk_score, 75.0);
    assert_eq!(b.evidence_event_uids, vec!["b1"]);
    // Same inputs, same ids: a re-run replaces.
    let mut ids: Vec<_> = run(&ctx.ctx())
        .unwrap()
        .into_iter()
        .map(|f| f.finding_uid)
        .collect();
    ids.sort();
    let mut want: Vec<_> = found.iter().map(|f| f.finding_uid.clone()).collect();
    want.sort();
    assert_eq!(ids, want);
}

#[test]
/// A failed attempt changed nothing: recorded low, not paged (Panther's
/// `AWS.CloudTrail.Stopped` "Error Stopping CloudTrail" test is labelled false).
fn failed_attempt_is_recorded_low() {
    let ctx = Ctx::new();
    let start = ctx.window_start_us();
    let mut e = ev(
        "f1",
        start + HOUR_US,
        ALICE,
        ActorType::AssumedRole,
        "guardduty.amazonaws.com",
        "DeleteDetector",
    );
    e.status = Status::Failure;
    e.error_code = Some("AccessDenied".into());
    // At as_of, which is exclusive: ignored.
    let late = ev(
        "late",
        ctx.as_of_us(),
        BOB,
        ActorType::IamUser,
        "ec2.amazonaws.com",
        "DeleteFlowLogs",
    );
    write_lake(ctx.dir.path(), &[e, late]);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        f.title,
        format!("DeleteDetector (attempt failed) by {ALICE}")
    );
    assert!(f.description.contains("Every attempt failed"), "{}", f.description);
    assert!(
        f.description.contains("[errors: AccessDenied]"),
        "{}",
        f.description
    );
    assert_eq!(f.risk_score, 30.0);
    assert_eq!(f.baseline_days, 0);
}

#[test]
fn routine_modifications_are_suppressed_disables_never() {
    let ctx = Ctx::new();
    let start = ctx.window_start_us();
    let mut events = Vec::new();
    for d in 1..=10 {
        events.push(on_trail(
            &format!("u{d}"),
            start - d * DAY + 2 * HOUR_US,
            TF,
            "UpdateTrail",
        ));
        events.push(on_trail(
            &format!("s{d}"),
            start - d * DAY + 3 * HOUR_US,
            TF,
            "StopLogging",
        ));
    }
    events.push(on_trail("u-now", start + 2 * HOUR_US, TF, "UpdateTrail"));
    events.push(on_trail("s-now", start + 3 * HOUR_US, TF, "StopLogging"));
    write_lake(ctx.dir.path(), &events);
    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by(|a, b| a.operation.cmp(&b.operation));
    assert_eq!(found.len(), 2);
    let (stop, update) = (&found[0], &found[1]);
    assert_eq!(stop.operation.as_deref(), Some("StopLogging"));
    assert!(!stop.suppressed && stop.suppression_reason.is_none());
    assert_eq!(stop.severity, Severity::High);
    assert_eq!(update.data_component, "modification");
    assert!(update.suppressed);
    assert_eq!(update.severity, Severity::High);
    let reason = update.suppression_reason.as_deref().unwrap();
    assert!(
        reason.contains("on 10 distinct days in the 90 days before"),
        "{reason}"
    );

    let mut ctx = ctx;
    ctx.config.logging_disabled.routine_min_days = 0;
    assert!(run(&ctx.ctx()).unwrap().iter().all(|f| !f.suppressed));
}

#[test]
fn empty_lake_gives_nothing() {
    let ctx = Ctx::new();
    assert!(run(&ctx.ctx()).unwrap().is_empty());
}

/// The default pipeline's first run: the Terraform role's nightly UpdateTrail during the
/// first days of the lake paged as high (20 false findings on the generated tenant).
#[test]
fn configuration_change_while_learning_is_low_but_a_delete_stays_high() {
    let ctx = Ctx::new();
    let start = ctx.window_start_us();
    let update = on_trail("u1", start + HOUR_US, TF, "UpdateTrail");
    let delete = on_trail("d1", start + 2 * HOUR_US, BOB, "DeleteTrail");
    write_lake(ctx.dir.path(), &[update, delete]);
    let found = run(&ctx.ctx()).unwrap();
    let by_op = |op: &str| found.iter().find(|f| f.operation.as_deref() == Some(op)).unwrap();
    let u = by_op("UpdateTrail");
    assert_eq!((u.severity, u.risk_score), (Severity::Low, 30.0));
    assert!(u.description.contains("Learning:"), "{}", u.description);
    assert_eq!(by_op("DeleteTrail").severity, Severity::High);
}
