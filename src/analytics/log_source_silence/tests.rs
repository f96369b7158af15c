//! `log_source_silence`: real stops, quiet weekends, late delivery, the learning period,
//! CloudTrail services, drops, and other providers.

use std::ops::Range;

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{event, lake, utc};
use crate::event::Event;
use crate::schema::{ActorType, Provider};

const ACCT: &str = "111122223333";
const EC2: &str = "ec2.amazonaws.com";

/// Events per hour of an office-hours source: 30 from 08:00 to 18:00 UTC on weekdays,
/// 5 in the other weekday hours, none at weekends.
fn rate(hour: i64) -> u64 {
    let (weekday, hod) = crate::analytics::volume::weekday_hour(hour);
    match (weekday < 5, (8..18).contains(&hod)) {
        (false, _) => 0,
        (true, true) => 30,
        (true, false) => 5,
    }
}

/// A source's events from `days_before` days before the window to `days_after` days after
/// its start, except in the `silent` hours (hour indexes) — scaled by `scale`.
#[allow(clippy::too_many_arguments)]
fn traffic(ctx: &Ctx, provider: Provider, account: &str, service: &str, days_before: i64, days_after: i64, silent: Range<i64>, scale: f64) -> Vec<Event<'static>> {
    let ws_hour = ctx.window_start_us() / HOUR_US;
    let mut ev = Vec::new();
    for h in ws_hour - days_before * 24..ws_hour + days_after * 24 {
        if silent.contains(&h) {
            continue;
        }
        let n = (rate(h) as f64 * scale).round() as i64;
        for k in 0..n {
            let t = h * HOUR_US + k * (HOUR_US / n.max(1));
            ev.push(event(provider, account, &format!("{service}-{h}-{k}"), t, Some("arn:aws:iam::111122223333:role/app"), ActorType::AssumedRole, service, "DescribeInstances"));
        }
    }
    ev
}

fn ws_hour(ctx: &Ctx) -> i64 {
    ctx.window_start_us() / HOUR_US
}

/// Regression (the generator's A7, a trail stopped 01:38–08:57): a silence that ends
/// inside the window was described as "still silent at the window end".
#[test]
fn a_silence_that_ends_in_the_window_says_delivery_resumed() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    lake(ctx.dir.path(), &traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, w + 9..w + 17, 1.0));
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.window_start.timestamp_micros(), f.window_end.timestamp_micros()), ((w + 9) * HOUR_US, (w + 17) * HOUR_US));
    let resumed = chrono::DateTime::<chrono::Utc>::from_timestamp_micros((w + 17) * HOUR_US).unwrap();
    assert!(f.description.contains(&format!("(8 hours; delivery resumed at {} UTC)", resumed.format("%Y-%m-%d %H:00"))), "{}", f.description);
}

/// Thursday's trail goes quiet at 10:00 and delivers again on Friday.
#[test]
fn a_stop_is_medium_and_high_after_stoplogging() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, w + 10..w + 24, 1.0);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.severity, f.observed, f.baseline_days), (Severity::Medium, 0.0, 28));
    assert_eq!(f.title, format!("Log source stopped delivering: cloudtrail of aws account {ACCT}"));
    assert_eq!((f.window_start.timestamp_micros(), f.window_end.timestamp_micros()), ((w + 10) * HOUR_US, (w + 24) * HOUR_US));
    // 8 office hours × 30 + 6 evening hours × 5, each (4·n + ½)/4 in its hour-of-week slot.
    let want = 8.0 * (120.5 / 4.0) + 6.0 * (20.5 / 4.0);
    assert!((f.expected.unwrap() - want).abs() < 1e-9, "{:?} vs {want}", f.expected);
    assert!(f.p_value_adjusted.unwrap() < 1e-50);
    assert!(f.description.contains("(14 hours; still silent at the window end; the lake holds later events from"), "{}", f.description);
    assert!(f.description.contains("across 1 log sources tested"), "{}", f.description);
    assert_eq!(f.attack_techniques, vec!["T1562.008", "T1685.002"]);

    // The same, preceded by StopLogging: high, with the event as evidence.
    let ctx = Ctx::new();
    let mut ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, w + 10..w + 24, 1.0);
    ev.push(event(Provider::Aws, ACCT, "stop", (w + 9) * HOUR_US + 58 * 60_000_000, Some("arn:aws:iam::111122223333:user/mallory"), ActorType::IamUser, "cloudtrail.amazonaws.com", "StopLogging"));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.severity, f.actor_uid.as_deref(), f.operation.as_deref()), (Severity::High, Some("arn:aws:iam::111122223333:user/mallory"), Some("StopLogging")));
    assert_eq!(f.evidence_event_uids, vec!["stop"]);
    assert!(f.description.contains("StopLogging by arn:aws:iam::111122223333:user/mallory at"), "{}", f.description);
}

/// A source that never logs at weekends is silent all Saturday: expected, not a finding.
/// A flat expectation would have called it a stop.
#[test]
fn a_quiet_weekend_is_not_a_silence() {
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 3, 17, 0); // the window is Saturday 2024-03-16
    let ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 3, 0..0, 1.0);
    lake(ctx.dir.path(), &ev);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
    // Seasonality alone decides (past weekends, also silent, would excuse it anyway).
    ctx.config.log_source_silence.past_silence_factor = 0.0;
    assert!(run(&ctx.ctx()).unwrap().is_empty());
    ctx.config.log_source_silence.seasonality = SeasonalMode::Flat;
    let flat = run(&ctx.ctx()).unwrap();
    assert_eq!(flat.len(), 1, "{flat:#?}");
}

#[test]
fn the_first_days_never_fire() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 6, 2, w + 10..w + 24, 1.0);
    lake(ctx.dir.path(), &ev);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
}

/// Scored right after the day ended, with nothing later in the lake: three silent hours
/// at the end are a delivery delay, sixteen are a stop; the next day's run finds the
/// same silence again under the same id.
#[test]
fn late_delivery_is_not_a_silence_but_a_long_one_is() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    lake(ctx.dir.path(), &traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 1, w + 21..w + 24, 1.0));
    assert!(run(&ctx.ctx()).unwrap().is_empty());

    let mut ctx = Ctx::new();
    lake(ctx.dir.path(), &traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 1, w + 8..w + 24, 1.0));
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].description.contains("reported because the silence has lasted ≥ 12 hours"), "{}", found[0].description);
    let id = found[0].finding_uid.clone();
    ctx.as_of += chrono::Duration::days(1);
    let next = run(&ctx.ctx()).unwrap();
    assert_eq!(next.len(), 1, "{next:#?}");
    assert_eq!(next[0].finding_uid, id);
    assert_eq!(next[0].window_end.timestamp_micros(), (w + 48) * HOUR_US);
}

/// S3 data events stop at 06:00 while EC2 keeps logging: a service-level silence; the
/// account's trail as a whole lost 40 % and is not flagged.
#[test]
fn a_service_that_stops_alone() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let mut ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, 0..0, 1.0);
    ev.extend(traffic(&ctx, Provider::Aws, ACCT, "s3.amazonaws.com", 28, 2, w + 6..w + 24, 0.67));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.service.as_deref(), Some("s3.amazonaws.com"));
    assert_eq!(f.title, format!("CloudTrail service s3.amazonaws.com stopped logging in account {ACCT}"));
    assert!(f.description.contains("across 2 CloudTrail services tested"), "{}", f.description);
    let mut cfg = ctx.config.clone();
    cfg.log_source_silence.per_service = false;
    let c = crate::analytics::DetectContext { config: &cfg, ..ctx.ctx() };
    assert!(run(&c).unwrap().is_empty());
}

/// A trail that keeps 2 % of its events all day (not one silent hour) is a drop, once the
/// next day's delivery shows the day is complete.
#[test]
fn a_drop_without_a_silent_hour() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let mut ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, w..w + 24, 1.0);
    for h in 0..24 {
        ev.push(event(Provider::Aws, ACCT, &format!("trickle{h}"), (w + h) * HOUR_US + 1, None, ActorType::None, "kms.amazonaws.com", "Decrypt"));
    }
    lake(ctx.dir.path(), &ev);
    let mut cfg = ctx.config.clone();
    cfg.log_source_silence.per_service = false;
    let c = crate::analytics::DetectContext { config: &cfg, ..ctx.ctx() };
    let found = run(&c).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.observed, 24.0);
    assert!(f.title.starts_with("Log source volume dropped"), "{}", f.title);
    // Without later delivery the same day is not judged.
    let ctx2 = Ctx::new();
    let ev2: Vec<_> = ev.into_iter().filter(|e| e.time < ctx2.as_of_us()).collect();
    lake(ctx2.dir.path(), &ev2);
    let c2 = crate::analytics::DetectContext { config: &cfg, ..ctx2.ctx() };
    assert!(run(&c2).unwrap().is_empty());
}

/// Microsoft 365's audit of a tenant and a GCP project: one stops, one does not.
#[test]
fn other_providers_and_the_family() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let mut ev = traffic(&ctx, Provider::M365, "tenant-1", "SharePoint", 28, 2, w + 9..w + 30, 1.0);
    ev.extend(traffic(&ctx, Provider::Gcp, "proj-1", "compute.googleapis.com", 28, 2, 0..0, 1.0));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.provider.as_str(), f.account_uid.as_str(), f.severity), ("m365", "tenant-1", Severity::Medium));
    assert!(f.title.contains("m365_audit of m365 account tenant-1"), "{}", f.title);
    assert!(f.description.contains("the lake holds later events from 2024-03-15 06:00 UTC") && f.description.contains("across 2 log sources tested"), "{}", f.description);
}

/// A service used in bursts (office hours every third day) is idle for two days at a
/// time: a two-day silence is like its past ones, not a stop — even though hour by hour
/// the model would call it improbable.
#[test]
fn a_bursty_service_idle_as_before_is_not_a_silence() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let mut ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, 0..0, 1.0);
    for h in w - 28 * 24..w + 48 {
        let day = h.div_euclid(24);
        if day.rem_euclid(3) == 0 && (8..18).contains(&h.rem_euclid(24)) {
            for k in 0..30 {
                ev.push(event(Provider::Aws, ACCT, &format!("org-{h}-{k}"), h * HOUR_US + k * 60_000_000, Some("arn:aws:iam::111122223333:user/admin"), ActorType::IamUser, "organizations.amazonaws.com", "ListAccounts"));
            }
        }
    }
    lake(ctx.dir.path(), &ev);
    assert_eq!((w / 24).rem_euclid(3), 2, "the window is the second idle day after a busy one");
    assert!(run(&ctx.ctx()).unwrap().is_empty());
    let mut cfg = ctx.config.clone();
    cfg.log_source_silence.past_silence_factor = 0.0;
    let c = crate::analytics::DetectContext { config: &cfg, ..ctx.ctx() };
    let found = run(&c).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].description.contains("its largest silence before was expected to hold"), "{}", found[0].description);
}

/// The deployment pipeline's nightly UpdateTrail explains nothing: the stop stays medium.
#[test]
fn a_routine_trail_update_does_not_raise_a_stop() {
    let ctx = Ctx::new();
    let w = ws_hour(&ctx);
    let mut ev = traffic(&ctx, Provider::Aws, ACCT, EC2, 28, 2, w + 10..w + 24, 1.0);
    for d in -28..=0 {
        ev.push(event(Provider::Aws, ACCT, &format!("upd{d}"), (w + d * 24 + 2) * HOUR_US, Some("arn:aws:iam::111122223333:role/github-actions-terraform"), ActorType::AssumedRole, "cloudtrail.amazonaws.com", "UpdateTrail"));
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].severity, found[0].evidence_count), (Severity::Medium, 0));
    assert!(found[0].description.contains("other than routine ones"), "{}", found[0].description);
}

#[test]
fn config_is_validated_by_key() {
    let mut c = LogSourceSilenceConfig::default();
    assert!(c.validate().is_ok());
    c.max_drop_ratio = 1.5;
    assert!(c.validate().unwrap_err().to_string().contains("analytics.log_source_silence.max_drop_ratio"));
    let c: LogSourceSilenceConfig = toml::from_str("min_silent_hours = 24\nper_service = false\n").unwrap();
    assert_eq!((c.min_silent_hours, c.per_service), (24, false));
}
