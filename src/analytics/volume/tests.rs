//! Tests of the volume engine: seasonal models, hour scoring, families, floors, the
//! population split, and hourly aggregation on a lake written with the real schema.

use std::collections::BTreeMap;

use super::testkit::{at, event, lake, DAY_US, HOUR_US};
use super::*;
use crate::schema::{ActorType, Provider};

/// Hour index of a UTC date-time.
fn hour_of(y: i32, mo: u32, d: u32, h: u32) -> i64 {
    at(y, mo, d, h, 0).div_euclid(HOUR_US)
}

#[test]
fn slots_follow_the_utc_calendar() {
    // 2024-03-11 was a Monday, 2024-03-16 a Saturday.
    let monday_9 = hour_of(2024, 3, 11, 9);
    assert_eq!(weekday_hour(monday_9), (0, 9));
    assert_eq!(Seasonality::HourOfWeek.slot(monday_9), 9);
    assert_eq!(Seasonality::HourOfWeek.slot(hour_of(2024, 3, 16, 2)), 5 * 24 + 2);
    assert_eq!(Seasonality::DayKindHour.slot(monday_9), 9);
    assert_eq!(Seasonality::DayKindHour.slot(hour_of(2024, 3, 17, 9)), 24 + 9);
    assert_eq!(Seasonality::choose(SeasonalMode::Auto, 20 * 24), Seasonality::DayKindHour);
    assert_eq!(Seasonality::choose(SeasonalMode::Auto, 21 * 24), Seasonality::HourOfWeek);
    assert_eq!(Seasonality::choose(SeasonalMode::Auto, 6 * 24), Seasonality::Flat);
    assert_eq!(Seasonality::choose(SeasonalMode::Flat, 90 * 24), Seasonality::Flat);
}

/// 100 events every weekday hour, none at weekends: `weeks` weeks starting on a Monday.
fn office_history(weeks: i64) -> (i64, Vec<u64>) {
    let first = hour_of(2024, 2, 5, 0); // a Monday
    let hist = (0..weeks * 168).map(|i| if weekday_hour(first + i).0 < 5 { 100 } else { 0 }).collect();
    (first, hist)
}

#[test]
fn seasonal_model_expects_quiet_weekends() {
    let (first, hist) = office_history(3);
    let m = SeasonalModel::fit(&hist, first, Seasonality::HourOfWeek, 0.05);
    let saturday = first + 3 * 168 + 5 * 24 + 10;
    let monday = first + 3 * 168 + 10;
    // Jeffreys means: (3·100 + ½)/3 on weekday slots, ½/3 at weekends.
    assert!((m.expected(monday) - 300.5 / 3.0).abs() < 1e-12);
    assert!((m.expected(saturday) - 0.5 / 3.0).abs() < 1e-12);
    assert!(!m.is_negative_binomial(), "{m:?}");
    // A silent Saturday is expected (p ≈ e^{-8}); a silent Monday is not.
    let (e_sat, p_sat) = m.lower_tail_sum(saturday - 10..saturday + 14, 0);
    assert!((e_sat - 4.0).abs() < 1e-9 && (p_sat - (-4.0f64).exp()).abs() < 1e-12, "{e_sat} {p_sat}");
    let (e_mon, p_mon) = m.lower_tail_sum(monday - 10..monday + 14, 0);
    assert!(e_mon > 2400.0 && p_mon < 1e-300, "{e_mon} {p_mon}");
    // The flat model of the same history would call the Saturday silent (and a busy Monday hour normal).
    let flat = SeasonalModel::fit(&hist, first, Seasonality::Flat, 0.05);
    assert!(flat.lower_tail_sum(saturday - 10..saturday + 14, 0).0 > 1000.0);
    assert!(flat.upper_tail(monday, 100) > m.upper_tail(saturday, 100));
}

#[test]
fn flat_model_is_the_count_model_of_the_history() {
    let hist: Vec<u64> = (0..336).map(|i| [1, 2, 3, 2][i % 4]).collect();
    let m = SeasonalModel::fit(&hist, 0, Seasonality::Flat, 0.05);
    let c = crate::scoring::CountModel::fit(&hist, 0.05);
    assert_eq!(m.mean(), c.mean());
    assert_eq!(m.upper_tail(17, 60), c.upper_tail(60));
    assert!(m.describe().starts_with("poisson model, flat"), "{}", m.describe());
    // Bursty history: negative binomial, and a sum's lower tail under it is heavier.
    let bursty: Vec<u64> = (0..336).map(|i| if i % 4 == 3 { 8 } else { 0 }).collect();
    let nb = SeasonalModel::fit(&bursty, 0, Seasonality::Flat, 0.05);
    assert!(nb.is_negative_binomial());
    let (e, p) = nb.lower_tail_sum(0..4, 0);
    assert!((e - 8.0).abs() < 1e-9);
    assert!(p > 100.0 * crate::scoring::poisson_lower_tail(0, 8.0), "{p}");
}

#[test]
fn seasonal_overdispersion_uses_negative_binomial() {
    // Weekday hours alternate 20 and 180 around a slot mean of 100: far more spread than Poisson.
    let first = hour_of(2024, 2, 5, 0);
    let hist: Vec<u64> = (0..21 * 24).map(|i| if weekday_hour(first + i).0 < 5 { if (i / 24) % 2 == 0 { 20 } else { 180 } } else { 0 }).collect();
    let m = SeasonalModel::fit(&hist, first, Seasonality::DayKindHour, 0.05);
    assert!(m.is_negative_binomial());
    let h = first + 21 * 24 + 10;
    assert!(m.upper_tail(h, 200) > 1e-3, "{}", m.upper_tail(h, 200));
}

#[test]
fn most_surprising_hour_prefers_the_unusual_over_the_busy() {
    let (first, hist) = office_history(3);
    let m = SeasonalModel::fit(&hist, first, Seasonality::HourOfWeek, 0.05);
    let monday = first + 3 * 168 + 10;
    let saturday = first + 3 * 168 + 5 * 24 + 10;
    let observed: BTreeMap<i64, u64> = [(monday, 120), (saturday, 40)].into();
    let best = most_surprising_hour(&m, &observed, |_, _, _| true).unwrap();
    assert_eq!((best.hour, best.observed), (saturday, 40));
    // A floor can exclude it.
    let best = most_surprising_hour(&m, &observed, |_, n, _| n >= 50).unwrap();
    assert_eq!(best.hour, monday);
    assert!(most_surprising_hour(&m, &observed, |_, _, _| false).is_none());
}

#[test]
fn families_floors_and_quantiles() {
    let adj = bh_by_family(&["a", "b", "a", "a"], &[0.01, 0.01, 0.04, 0.5]);
    // Family a: p = 0.01, 0.04, 0.5 → 0.03, 0.06, 0.5; family b alone keeps 0.01.
    let want = [0.03, 0.01, 0.06, 0.5];
    for (a, w) in adj.iter().zip(want) {
        assert!((a - w).abs() < 1e-12, "{adj:?}");
    }
    assert_eq!(family_sizes(&["a", "b", "a"]), [("a", 2), ("b", 1)].into());
    let f = Floors { min_count: 10, min_ratio: 3.0 };
    assert!(f.pass(10, 3.0) && !f.pass(9, 0.1) && !f.pass(20, 7.0));
    assert_eq!(quantile(&[5, 1, 3, 2, 4], 0.8), Some(4));
    assert_eq!(quantile(&[5, 1, 3, 2, 4], 1.0), Some(5));
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(window_hours(chrono::Duration::minutes(90)), 2);
    assert_eq!(history_span(Some(5 * HOUR_US + 1), 2, 100), (5, 95));
    assert_eq!(history_span(Some(0), 2, 100), (2, 98));
    assert_eq!(history_span(None, 2, 100), (100, 0));
}

#[test]
fn populations_from_types_roles_and_agents() {
    let human = population_of("arn:aws:iam::1:role/dev", [Some("assumed_role")].into_iter(), [Some("aws-cli/2.15")].into_iter());
    assert_eq!(human, Population::Human);
    let typed = population_of("sp-1", [Some("service_principal")].into_iter(), [None].into_iter());
    assert_eq!(typed, Population::Automation);
    let linked = population_of("arn:aws:iam::1:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", [Some("assumed_role")].into_iter(), [None].into_iter());
    assert_eq!(linked, Population::Automation);
    let scanner = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux Botocore/1.34.54 prowler/3.15.0";
    assert!(is_scanner_user_agent(scanner) && !is_scanner_user_agent("aws-cli/2.15.30 Python/3.11.8 exe/x86_64.kali.2024"));
    let scan = population_of("arn:aws:iam::1:role/security-audit", [Some("assumed_role"); 3].into_iter(), [Some(scanner), Some(scanner), None].into_iter());
    assert_eq!(scan, Population::Automation);
    let lambda = "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12 Botocore/1.34.34";
    assert_eq!(population_of("arn:aws:iam::1:role/service-role/billing-worker-role", [Some("assumed_role")].into_iter(), [Some(lambda)].into_iter()), Population::Automation);
}

#[test]
fn hourly_aggregates_and_window_rows_from_a_lake() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = at(2024, 3, 14, 10, 0);
    let mut events = Vec::new();
    for (i, (svc, op)) in [("ec2.amazonaws.com", "DescribeInstances"), ("ec2.amazonaws.com", "DescribeVpcs"), ("iam.amazonaws.com", "ListUsers"), ("iam.amazonaws.com", "ListUsers")].iter().enumerate() {
        events.push(event(Provider::Aws, "111122223333", &format!("a{i}"), t0 + i as i64, Some("arn:aws:iam::111122223333:user/a"), ActorType::IamUser, svc, op));
    }
    events.push(event(Provider::Gcp, "proj-1", "g0", t0 - DAY_US, Some("a@x.com"), ActorType::User, "compute.googleapis.com", "v1.compute.instances.list"));
    lake(dir.path(), &events);
    let catalog = crate::catalog::Catalog::load_builtin().unwrap();
    let config = crate::analytics::AnalyticsConfig::default();
    let ctx = crate::analytics::DetectContext {
        lake_root: dir.path(),
        as_of: utc_of(at(2024, 3, 15, 0, 0)),
        window: chrono::Duration::hours(24),
        catalog: &catalog,
        config: &config,
        run_uid: "r",
    };
    let sel = Selection::load(&ctx, "discovery", 7, chrono::Duration::zero()).unwrap().unwrap();
    let rows = sel.window_rows(dir.path()).unwrap();
    assert_eq!(rows.iter().map(|r| r.event_uid.as_str()).collect::<Vec<_>>(), ["a0", "a1", "a2", "a3"]);
    assert_eq!(rows[0].log_format, "cloudtrail");
    let hist = sel.tagged_hourly(dir.path(), sel.lookback_start, sel.window_start, None, &[crate::schema::PROVIDER, crate::schema::ACCOUNT_UID], &[crate::schema::SERVICE]).unwrap();
    let g = &hist[&vec!["gcp".to_string(), "proj-1".to_string()]];
    assert_eq!(g.len(), 1);
    let both = sel.tagged_hourly(dir.path(), sel.lookback_start, sel.scan_end, None, &[crate::schema::ACTOR_UID], &[crate::schema::SERVICE, crate::schema::OPERATION]).unwrap();
    let a = &both[&vec!["arn:aws:iam::111122223333:user/a".to_string()]];
    assert_eq!(a.values().next().unwrap(), &HourAgg { count: 4, distinct: vec![2, 3] });
    assert_eq!(both.values().flat_map(|h| h.values()).map(|a| a.count).sum::<u64>(), 5);
    assert_eq!(series(Some(a), t0 / HOUR_US - 1, t0 / HOUR_US + 2, |x| x.count), vec![0, 4, 0]);
}

/// One Azure `listKeys` logged as Started, Accepted and Succeeded (three events, one
/// correlationId) counts once; a CloudTrail event whose `status_raw` is unset still counts.
#[test]
fn azure_started_accepted_succeeded_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = at(2024, 3, 14, 10, 0);
    let sub = "8f1c2b3a-0000-4000-8000-000000000001";
    let mut events = Vec::new();
    for (i, state) in ["Started", "Accepted", "Succeeded", "Start", "Success"].iter().enumerate() {
        let mut e = event(Provider::Azure, sub, &format!("z{i}"), t0 + i as i64, Some("eve@contoso.com"), ActorType::User, "Microsoft.Storage", "Microsoft.Storage/storageAccounts/listKeys/action");
        e.status_raw = Some(state.to_string().into());
        events.push(e);
    }
    events.push(event(Provider::Aws, "111122223333", "a0", t0, Some("arn:aws:iam::111122223333:user/a"), ActorType::IamUser, "secretsmanager.amazonaws.com", "GetSecretValue"));
    lake(dir.path(), &events);
    let catalog = crate::catalog::Catalog::load_builtin().unwrap();
    let config = crate::analytics::AnalyticsConfig::default();
    let ctx = crate::analytics::DetectContext { lake_root: dir.path(), as_of: utc_of(at(2024, 3, 15, 0, 0)), window: chrono::Duration::hours(24), catalog: &catalog, config: &config, run_uid: "r" };
    let sel = Selection::load(&ctx, "secret_read", 7, chrono::Duration::zero()).unwrap().unwrap();
    let rows = sel.window_rows(dir.path()).unwrap();
    assert_eq!(rows.iter().map(|r| r.event_uid.as_str()).collect::<Vec<_>>(), ["a0", "z2", "z4"]);
}

/// A GCP long-running operation's first entry (`status_raw` `operation.first`) is not
/// counted; its last entry is.
#[test]
fn gcp_long_running_operation_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = at(2024, 3, 14, 10, 0);
    let mut first = event(Provider::Gcp, "p1", "g-first", t0, Some("ci@p1.iam.gserviceaccount.com"), ActorType::ServiceAccount, "compute.googleapis.com", "v1.compute.instances.list");
    first.status = crate::schema::Status::Unknown;
    first.status_raw = Some(crate::sources::gcp_audit::OPERATION_FIRST.into());
    let last = event(Provider::Gcp, "p1", "g-last", t0 + 1, Some("ci@p1.iam.gserviceaccount.com"), ActorType::ServiceAccount, "compute.googleapis.com", "v1.compute.instances.list");
    lake(dir.path(), &[first, last]);
    let catalog = crate::catalog::Catalog::load_builtin().unwrap();
    let config = crate::analytics::AnalyticsConfig::default();
    let ctx = crate::analytics::DetectContext { lake_root: dir.path(), as_of: utc_of(at(2024, 3, 15, 0, 0)), window: chrono::Duration::hours(24), catalog: &catalog, config: &config, run_uid: "r" };
    let sel = Selection::load(&ctx, "discovery", 7, chrono::Duration::zero()).unwrap().unwrap();
    let rows = sel.window_rows(dir.path()).unwrap();
    assert_eq!(rows.iter().map(|r| r.event_uid.as_str()).collect::<Vec<_>>(), ["g-last"]);
}

fn utc_of(us: i64) -> chrono::DateTime<chrono::Utc> {
    time(us)
}
