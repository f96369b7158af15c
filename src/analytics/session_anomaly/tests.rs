//! Tests of `session_anomaly` on small synthetic lakes (one view at a time).

use chrono::{Datelike, Weekday};

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::user_context::testing::{at, signin, utc, write_lake, DAY_US, TENANT};
use crate::event::Event;
use crate::findings::Severity;

const HOUR: i64 = profiles::HOUR_US;
const OFFICE: &str = "198.51.100.1";
const HOME: &str = "192.0.2.10";
const ALICE: &str = "alice@example.com";

/// Sign-ins of `actor` from `ip` at each UTC hour of `hours`, on every weekday of the
/// `days` days before the window.
fn routine(ctx: &Ctx, evs: &mut Vec<Event<'static>>, actor: &str, ip: &str, days: i64, hours: &[i64]) {
    let ws = ctx.window_start_us();
    for d in 1..=days {
        let day = ws - d * DAY_US;
        let wd = DateTime::<chrono::Utc>::from_timestamp_micros(day).unwrap().weekday();
        if matches!(wd, Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for &h in hours {
            evs.push(signin(&format!("{actor}-{d}-{h}"), day + h * HOUR, actor, ip, true));
        }
    }
}

use chrono::DateTime;

/// bob and carol from the office, alice from home at 09:00 and 14:00 UTC, `days` days.
fn tenant(ctx: &Ctx, days: i64) -> Vec<Event<'static>> {
    let mut evs = Vec::new();
    routine(ctx, &mut evs, "bob@example.com", OFFICE, days, &[8, 13]);
    routine(ctx, &mut evs, "carol@example.com", OFFICE, days, &[9, 15]);
    routine(ctx, &mut evs, ALICE, HOME, days, &[9, 14]);
    evs
}

fn window(ctx: &Ctx, evs: &mut Vec<Event<'static>>, tag: &str, n: i64, ip: &str, hour: i64) {
    for k in 0..n {
        evs.push(signin(&format!("{tag}{k}"), ctx.window_start_us() + hour * HOUR + k * 60_000_000, ALICE, ip, true));
    }
}

fn run_on(ctx: &Ctx, evs: &[Event<'static>]) -> Vec<Finding> {
    write_lake(ctx.dir.path(), evs);
    run(&ctx.ctx()).unwrap()
}

#[test]
fn usual_day_gives_nothing() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "w9-", 1, HOME, 9);
    window(&ctx, &mut evs, "w14-", 1, HOME, 14);
    assert!(run_on(&ctx, &evs).is_empty());
}

#[test]
fn new_rare_ip_alone_is_low_whatever_the_count() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "n", 3, "203.0.113.66", 9);
    // A failed attempt from elsewhere is context, not a session.
    evs.push(signin("fail", ctx.window_start_us() + 10 * HOUR, ALICE, "203.0.113.99", false));
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.src_ip.as_deref(), Some("203.0.113.66"));
    assert_eq!(f.evidence_count, 3);
    assert_eq!(f.observed, 3.0);
    assert_eq!(f.baseline_days, 20);
    assert_eq!(f.attack_techniques[0], "T1078.004");
    assert_eq!(f.data_component, "logon_session_creation");
    assert_eq!(f.finding_uid, crate::findings::finding_uid(ID, &[TENANT, ALICE], ctx.as_of - Duration::hours(24), ctx.as_of));
    assert!(f.description.contains("and 1 failed") && f.description.contains("other people who used it before the user: none"), "{}", f.description);
    assert!(!f.description.contains("Volume:") && !f.description.contains("Unusual time:"), "{}", f.description);

    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "n", 12, "203.0.113.66", 9);
    let many = run_on(&ctx, &evs);
    // A full day from a hotel looks the same: still low, ranked higher.
    assert_eq!(many[0].severity, Severity::Low, "{}", many[0].description);
    assert!(many[0].risk_score > f.risk_score && many[0].risk_score < 40.0);
}

#[test]
fn office_ip_of_colleagues_is_not_rare_but_one_colleague_is_allowed() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "o", 2, OFFICE, 9);
    assert!(run_on(&ctx, &evs).is_empty());
    // Only bob used 203.0.113.5 before (≤ max_tenant_users_for_rare_ip = 1): still rare.
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    evs.push(signin("b-x", ctx.window_start_us() - 2 * DAY_US + 8 * HOUR, "bob@example.com", "203.0.113.5", true));
    window(&ctx, &mut evs, "o", 2, "203.0.113.5", 9);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1);
    assert!(found[0].description.contains("before the user: bob@example.com from"), "{}", found[0].description);
}

#[test]
fn volume_burst_has_raw_and_adjusted_p() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 15);
    window(&ctx, &mut evs, "v", 40, HOME, 9);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    // History starts at the first session 15 days back at 08:00 → 14 whole days; 10 of
    // them weekdays with 2 sessions: Jeffreys rate (20 + ½) / 14 (variance < mean: Poisson).
    let lambda = 20.5 / 14.0;
    assert!((f.expected.unwrap() - lambda).abs() < 1e-12, "{:?}", f.expected);
    let p = scoring::poisson_upper_tail(40, lambda);
    assert!((f.p_value.unwrap() / p - 1.0).abs() < 1e-9);
    // Alone in its BH family (bob and carol had no window sessions): adjusted = raw.
    assert_eq!(f.p_value_adjusted, f.p_value);
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence_count, 40);
    assert!(f.description.contains("all days; poisson model"), "{}", f.description);
    assert!(f.risk_score >= 40.0 && f.risk_score < 70.0);
}

#[test]
fn seasonal_model_uses_weekend_buckets_for_a_saturday() {
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 3, 17, 0); // window = Saturday 2024-03-16
    let mut evs = tenant(&ctx, 30);
    window(&ctx, &mut evs, "s", 25, HOME, 10);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    // The 28-day lookback starts on Saturday 2024-02-17; alice's first session in it is
    // Monday 02-19 09:00, so her history is 25 whole days (02-20 .. 03-15) holding 6
    // weekend days, all without sessions: (0 + ½) / 6.
    assert!((f.expected.unwrap() - 0.5 / 6.0).abs() < 1e-12, "{:?}", f.expected);
    assert!(f.description.contains("weekend buckets only"), "{}", f.description);
    // Saturday 10:00 borrows the weekday routine (09:00): not an unusual hour.
    assert!(!f.description.contains("Unusual time:"), "{}", f.description);
    assert_eq!(f.severity, Severity::Medium);
}

#[test]
fn unusual_hour_in_utc_says_so_and_combines_with_a_new_ip() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "day", 1, HOME, 9);
    window(&ctx, &mut evs, "night", 1, HOME, 2);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(f.evidence_event_uids, vec!["night0".to_string()]);
    assert!(f.description.contains("1 at 02:00 on a weekday") && f.description.contains("UTC (no time zone configured for this user)"), "{}", f.description);

    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "night", 2, "203.0.113.66", 3);
    let f = &run_on(&ctx, &evs)[0];
    assert_eq!(f.severity, Severity::High, "{}", f.description);
    assert!(f.title.contains("new IP 203.0.113.66") && f.title.contains("2 at unusual hours"), "{}", f.title);
}

#[test]
fn learning_finding_only_for_a_tenant_new_ip_with_many_sessions() {
    let eve = "eve@example.com";
    let mk_with = |n: i64, ip: &str, bob_first: bool, peer_sessions: i64| {
        let ctx = Ctx::new();
        let mut evs = tenant(&ctx, 10);
        // The peers' usual day in the window.
        for (who, ip) in [("bob@example.com", OFFICE), ("carol@example.com", OFFICE), (ALICE, HOME)] {
            for k in 0..peer_sessions {
                evs.push(signin(&format!("{who}-w{k}"), ctx.window_start_us() + (9 + k) * HOUR, who, ip, true));
            }
        }
        if bob_first {
            evs.push(signin("b-x", ctx.window_start_us() + HOUR, "bob@example.com", ip, true));
        }
        for k in 0..n {
            evs.push(signin(&format!("e{k}"), ctx.window_start_us() + 2 * HOUR + k * 60_000_000, eve, ip, true));
        }
        let all = run_on(&ctx, &evs);
        let (eves, others): (Vec<Finding>, Vec<Finding>) = all.into_iter().partition(|f| f.actor_uid.as_deref() == Some(eve));
        (eves, others)
    };
    let mk = |n: i64, ip: &str, bob_first: bool| mk_with(n, ip, bob_first, 2);
    let (found, _) = mk(12, "203.0.113.9", false);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Low);
    assert_eq!((f.p_value, f.expected, f.baseline_days), (None, None, 0));
    assert!(f.title.contains("12 sessions from tenant-new IP 203.0.113.9 (learning)"), "{}", f.title);
    assert!(f.description.contains("not that the address is new to the user"), "{}", f.description);
    assert!(f.description.contains("The 3 peers active in the window had a 0.9-quantile of 2 sessions"), "{}", f.description);
    assert!(mk(5, "203.0.113.9", false).0.is_empty());
    // A new employee as busy as the peers (8 sessions each: 12 < 3 × 8) stays quiet.
    assert!(mk_with(12, "203.0.113.9", false, 8).0.is_empty());
    // bob used it first (bob himself gets an unusual-IP finding: new for him, with history).
    let (found, others) = mk(12, "203.0.113.9", true);
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(others.iter().filter_map(|f| f.actor_uid.as_deref()).collect::<Vec<_>>(), ["bob@example.com"]);
}

#[test]
fn automation_is_not_judged_by_office_hours() {
    let ctx = Ctx::new();
    let svc = "svc-report@example.com";
    let mut evs = tenant(&ctx, 21);
    let scripted = |mut e: Event<'static>| {
        e.user_agent = Some("python-requests/2.31.0".into());
        e
    };
    let mut own = Vec::new();
    routine(&ctx, &mut own, svc, "192.0.2.200", 21, &[9]);
    evs.extend(own.into_iter().map(scripted));
    evs.push(scripted(signin("s-night", ctx.window_start_us() + 3 * HOUR, svc, "192.0.2.200", true)));
    assert!(run_on(&ctx, &evs).is_empty());
}

#[test]
fn benjamini_hochberg_across_users_in_the_run() {
    // alice: λ = (2·10 + 8 + ½)/14 ≈ 2.04 per day, 7 sessions today: raw p ≈ 0.005.
    let setup = |others: bool| {
        let mut ctx = Ctx::new();
        ctx.config.session_anomaly.min_sessions = 1;
        ctx.config.session_anomaly.min_ratio = 0.0;
        let mut evs = tenant(&ctx, 15);
        for d in [1, 2, 3, 6, 7, 8, 9, 10] {
            evs.push(signin(&format!("x{d}"), ctx.window_start_us() - d * DAY_US + 11 * HOUR, ALICE, HOME, true));
        }
        for k in 0..7 {
            evs.push(signin(&format!("w{k}"), ctx.window_start_us() + (9 + k) * HOUR, ALICE, HOME, true));
        }
        if others {
            for (who, ip, h) in [("bob@example.com", OFFICE, 8), ("carol@example.com", OFFICE, 9)] {
                evs.push(signin(&format!("{who}-w"), ctx.window_start_us() + h * HOUR, who, ip, true));
            }
        }
        (ctx, evs)
    };
    let (ctx, evs) = setup(false);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let p = found[0].p_value.unwrap();
    assert!((p / scoring::poisson_upper_tail(7, 28.5 / 14.0) - 1.0).abs() < 1e-9, "{p}");
    assert!(p < 0.01 && found[0].p_value_adjusted == Some(p));
    // With bob and carol tested too the family is 3: adjusted 3p > q, no finding.
    let (ctx, evs) = setup(true);
    assert!(3.0 * p > 0.01);
    assert!(run_on(&ctx, &evs).is_empty());
}

#[test]
fn config_keys_are_validated_and_paths_resolved() {
    let mut c: SessionAnomalyConfig = toml::from_str(
        "directory = \"users.csv\"\ndefault_time_zone = \"Europe/Paris\"\n[time_zones]\n\"alice@example.com\" = \"America/New_York\"\n",
    )
    .unwrap();
    assert_eq!(c.min_history_days, 7);
    assert_eq!(c.max_tenant_users_for_rare_ip, 1);
    c.resolve_paths(std::path::Path::new("/etc/cloudsift"));
    assert_eq!(c.directory.as_deref(), Some(std::path::Path::new("/etc/cloudsift/users.csv")));
    assert!(c.validate().is_ok());
    assert!(toml::from_str::<SessionAnomalyConfig>("min_hour_prob = 0.1\n").is_err());
    for (toml, key) in [
        ("fdr_q = 0.0", "fdr_q"),
        ("min_hour_probability = 0.05", "min_hour_probability"),
        ("max_history_days = 3", "max_history_days"),
        ("default_time_zone = \"Moon/Base\"", "default_time_zone"),
        ("[time_zones]\n\"bob@x\" = \"nope\"", "time_zones.\"bob@x\""),
    ] {
        let c: SessionAnomalyConfig = toml::from_str(toml).unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("analytics.session_anomaly.{key}")), "{toml}: {e}");
    }
    // A missing directory file is a configuration error at run time.
    let mut ctx = Ctx::new();
    ctx.config.session_anomaly.directory = Some(ctx.dir.path().join("missing.csv"));
    let e = run(&ctx.ctx()).unwrap_err().to_string();
    assert!(e.contains("analytics.session_anomaly.directory"), "{e}");
    let _ = at(2024, 1, 1, 0, 0);
}

#[test]
fn audit_copies_of_signins_are_not_counted_twice() {
    use crate::analytics::user_context::testing::m365;
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 21);
    window(&ctx, &mut evs, "n", 3, "203.0.113.66", 9);
    // The unified audit log's UserLoggedIn copy of every sign-in, two seconds later.
    let copies: Vec<Event<'static>> = evs
        .iter()
        .filter(|e| e.service == "SignInLogs")
        .map(|e| {
            let ip = e.src_ip.as_deref();
            m365(&format!("copy-{}", e.event_uid), e.time + 2_000_000, e.actor_uid.as_deref().unwrap(), ip, "AzureActiveDirectory", "UserLoggedIn")
        })
        .collect();
    evs.extend(copies);
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].observed, found[0].evidence_count), (3.0, 3));
    assert!(found[0].evidence_event_uids.iter().all(|u| u.starts_with('n')));
}
