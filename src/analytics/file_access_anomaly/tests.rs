//! Tests of `file_access_anomaly` on small synthetic lakes.

use chrono::{DateTime, Datelike, Weekday};

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::user_context::testing::{file, write_lake, DAY_US, TENANT};
use crate::event::Event;
use crate::findings::Severity;
use crate::schema::ActorType;

const HOUR: i64 = profiles::HOUR_US;
const OFFICE: &str = "198.51.100.1";
const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36";
const ALICE: &str = "alice@example.com";

/// `n` FileAccessed rows of distinct files `{tag}-k` from `t0`, 30 s apart.
fn reads(evs: &mut Vec<Event<'static>>, actor: &str, t0: i64, n: i64, ip: &str, agent: &str, tag: &str) {
    for k in 0..n {
        let f = format!("https://contoso.sharepoint.com/sites/s/{tag}-{k}.docx");
        evs.push(file(&format!("{actor}-{tag}-{k}"), t0 + k * 30_000_000, actor, ip, &f, agent));
    }
}

fn weekday(us: i64) -> bool {
    !matches!(DateTime::<chrono::Utc>::from_timestamp_micros(us).unwrap().weekday(), Weekday::Sat | Weekday::Sun)
}

/// 21 days of weekday reads for the tenant's four people, and their usual window.
fn tenant(ctx: &Ctx, alice_daily: i64, others_daily: [i64; 3]) -> Vec<Event<'static>> {
    let ws = ctx.window_start_us();
    let people = [(ALICE, alice_daily), ("bob@example.com", others_daily[0]), ("carol@example.com", others_daily[1]), ("dave@example.com", others_daily[2])];
    let mut evs = Vec::new();
    for (who, n) in people {
        for d in 1..=21 {
            let day = ws - d * DAY_US;
            if weekday(day) {
                reads(&mut evs, who, day + 9 * HOUR, n, OFFICE, BROWSER, &format!("d{d}"));
            }
        }
        if who != ALICE {
            reads(&mut evs, who, ws + 9 * HOUR, n, OFFICE, BROWSER, "w");
        }
    }
    evs
}

fn run_on(ctx: &Ctx, evs: &[Event<'static>]) -> Vec<Finding> {
    write_lake(ctx.dir.path(), evs);
    run(&ctx.ctx()).unwrap()
}

#[test]
fn usual_day_gives_nothing() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 10, [8, 12, 6]);
    reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 10, OFFICE, BROWSER, "w");
    assert!(run_on(&ctx, &evs).is_empty());
}

#[test]
fn burst_far_from_own_history_and_peers_is_medium() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 10, [8, 12, 6]);
    reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 120, OFFICE, BROWSER, "w");
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.observed, 120.0);
    // History from alice's first read 21 days back at 09:00: 20 whole days, 14 of them
    // weekdays with 10 files; the counts are over-dispersed (negative binomial, mean 7).
    assert_eq!(f.expected, Some(7.0));
    assert_eq!(f.baseline_days, 20);
    let p = f.p_value.unwrap();
    assert!(p > 0.0 && p < 1e-12, "{p}");
    // Four people tested (bob, carol and dave at their usual level): BH ≤ 4p.
    assert!(f.p_value_adjusted.unwrap() <= 4.0 * p);
    assert_eq!(f.evidence_count, 120);
    assert_eq!(f.attack_techniques[..2], ["T1213.002".to_string(), "T1530".to_string()]);
    assert_eq!(f.data_component, "application_log_content");
    assert_eq!(f.finding_uid, crate::findings::finding_uid(ID, &[TENANT, ALICE, "person"], ctx.as_of - Duration::hours(24), ctx.as_of));
    let d = &f.description;
    assert!(d.contains("negative_binomial / negative_binomial models") && d.contains("across 4 person entities"), "{d}");
    assert!(d.contains("0.9-quantile 12 distinct files") && d.contains("far above them (≥ 36"), "{d}");
}

#[test]
fn burst_with_new_ip_or_script_is_high() {
    for (ip, agent, what) in [("203.0.113.50", BROWSER, "new IP 203.0.113.50"), (OFFICE, "rclone/v1.66.0", "scripted agent rclone/v1.66.0")] {
        let ctx = Ctx::new();
        let mut evs = tenant(&ctx, 10, [8, 12, 6]);
        reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 120, ip, agent, "w");
        let found = run_on(&ctx, &evs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::High, "{}", found[0].description);
        assert!(found[0].title.contains(what), "{}", found[0].title);
    }
}

#[test]
fn significant_for_the_user_but_usual_for_peers_is_low() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 2, [40, 45, 50]);
    reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 30, OFFICE, BROWSER, "w");
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Low);
    assert!(found[0].description.contains("within their usual range"), "{}", found[0].description);
}

#[test]
fn a_busy_day_of_the_whole_group_is_low() {
    // Month-end: bob, carol and dave read 3× their usual files; alice reads 40 (4×).
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 10, [8, 12, 6]);
    evs.retain(|e| !e.event_uid.contains("-w-"));
    let ws = ctx.window_start_us();
    for (who, n) in [("bob@example.com", 24), ("carol@example.com", 36), ("dave@example.com", 18), (ALICE, 40)] {
        reads(&mut evs, who, ws + 9 * HOUR, n, OFFICE, BROWSER, "w");
    }
    let found: Vec<Finding> = run_on(&ctx, &evs).into_iter().filter(|f| f.actor_uid.as_deref() == Some(ALICE)).collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Low);
    assert!(found[0].description.contains("Own history (significant)"), "{}", found[0].description);
    assert!(found[0].description.contains("above their quantile but below 108"), "{}", found[0].description);
}

#[test]
fn new_user_is_judged_by_peers_only() {
    let eve = "eve@example.com";
    let mk = |n: i64, agent: &str| {
        let ctx = Ctx::new();
        let mut evs = tenant(&ctx, 10, [8, 12, 6]);
        reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 10, OFFICE, BROWSER, "w");
        reads(&mut evs, eve, ctx.window_start_us() + 10 * HOUR, n, "203.0.113.77", agent, "e");
        run_on(&ctx, &evs)
    };
    // Like the peers: nothing.
    assert!(mk(11, BROWSER).is_empty());
    let found = mk(100, BROWSER);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some(eve));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!((f.p_value, f.expected), (None, None));
    assert!(f.title.ends_with("(learning)") && f.title.contains("far above 4 peers"), "{}", f.title);
    assert!(f.description.contains("first seen in the tenant on this user"), "{}", f.description);
    assert_eq!(f.src_ip.as_deref(), Some("203.0.113.77"));
    assert_eq!(mk(100, "python-requests/2.31.0")[0].severity, Severity::Medium);
}

#[test]
fn scripted_reads_alone_are_low() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 10, [8, 12, 6]);
    reads(&mut evs, ALICE, ctx.window_start_us() + 9 * HOUR, 12, OFFICE, "python-requests/2.31.0", "w");
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Low);
    assert_eq!(found[0].user_agent.as_deref(), Some("python-requests/2.31.0"));
    assert!(found[0].description.contains("Scripted agent: 12 accesses to 12 files"), "{}", found[0].description);
}

#[test]
fn sync_and_automation_are_profiled_apart() {
    let ctx = Ctx::new();
    let mut evs = tenant(&ctx, 10, [8, 12, 6]);
    let ws = ctx.window_start_us();
    reads(&mut evs, ALICE, ws + 9 * HOUR, 10, OFFICE, BROWSER, "w");
    // alice's first OneDrive sync: 300 files, a population of its own.
    let sync = "Microsoft SkyDriveSync 24.010.0114.0003 ship; Windows NT 10.0 (19045)";
    let mut s = Vec::new();
    reads(&mut s, ALICE, ws + 11 * HOUR, 300, OFFICE, sync, "sync");
    evs.extend(s.into_iter().map(|mut e| {
        e.operation = "FileSyncDownloadedFull".into();
        e
    }));
    // A backup application reads 500 files every day: its usual volume.
    let app = "backup-app@contoso";
    let mut a = Vec::new();
    for d in 0..=21 {
        reads(&mut a, app, ws - d * DAY_US + 2 * HOUR, 500, "192.0.2.9", "okhttp/4.9", &format!("a{d}"));
    }
    evs.extend(a.into_iter().map(|mut e| {
        e.actor_type = ActorType::Application;
        e
    }));
    let found = run_on(&ctx, &evs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.finding_uid, crate::findings::finding_uid(ID, &[TENANT, ALICE, "sync"], ctx.as_of - Duration::hours(24), ctx.as_of));
    assert_eq!((f.severity, f.observed), (Severity::Medium, 300.0));
    assert!(f.description.contains("(sync)") && !f.description.contains("Peers ("), "{}", f.description);
    assert_eq!(f.operation.as_deref(), Some("FileSyncDownloadedFull"));
}

#[test]
fn peer_quantile_is_nearest_rank() {
    use crate::analytics::user_context::{nearest_rank, peer_spread};
    assert_eq!(nearest_rank(&[6, 0], 0.9), 6);
    assert_eq!(nearest_rank(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.9), 9);
    assert_eq!(nearest_rank(&[5], 0.5), 5);
    let s = peer_spread(vec![("a".into(), 0), ("b".into(), 0)], 2, 0.9, 3.0).unwrap();
    assert_eq!((s.quantile, s.threshold), (0, 3.0));
    assert_eq!(peer_spread(vec![("a".into(), 4)], 2, 0.9, 3.0), None);
}

#[test]
fn directory_peer_groups_split_the_comparison() {
    // new@ (no history) reads 60 files. Among the tenant's people, where heavy@ reads 100,
    // that is not far above the 0.9-quantile; in the directory's "records" group, whose
    // members read 5 and 6, it is.
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    std::fs::write(&users, "user_principal_name,time_zone,peer_group\nnew@example.com,,records\nrec1@example.com,,records\nrec2@example.com,,records\n").unwrap();
    let mk = |with_directory: bool| {
        let mut ctx = Ctx::new();
        if with_directory {
            ctx.config.file_access_anomaly.directory = Some(users.clone());
        }
        let ws = ctx.window_start_us();
        let mut evs = tenant(&ctx, 10, [8, 12, 6]);
        reads(&mut evs, ALICE, ws + 9 * HOUR, 10, OFFICE, BROWSER, "w");
        reads(&mut evs, "heavy@example.com", ws + 9 * HOUR, 100, OFFICE, BROWSER, "h");
        reads(&mut evs, "rec1@example.com", ws + 9 * HOUR, 5, OFFICE, BROWSER, "r1");
        reads(&mut evs, "rec2@example.com", ws + 9 * HOUR, 6, OFFICE, BROWSER, "r2");
        reads(&mut evs, "new@example.com", ws + 10 * HOUR, 60, OFFICE, BROWSER, "n");
        run_on(&ctx, &evs).into_iter().filter(|f| f.actor_uid.as_deref() == Some("new@example.com")).collect::<Vec<_>>()
    };
    assert!(mk(false).is_empty());
    let found = mk(true);
    assert_eq!(found.len(), 1);
    assert!(found[0].description.contains("peer group 'records', 2 people active"), "{}", found[0].description);
}

#[test]
fn config_keys_are_validated() {
    let c: FileAccessAnomalyConfig = toml::from_str("min_files = 5\n").unwrap();
    assert_eq!((c.min_files, c.min_peers, c.peer_quantile), (5, 2, 0.9));
    assert!(c.validate().is_ok());
    assert!(toml::from_str::<FileAccessAnomalyConfig>("peers = 3\n").is_err());
    for (toml, key) in [
        ("fdr_q = 1.5", "fdr_q"),
        ("peer_quantile = 0.0", "peer_quantile"),
        ("peer_factor = -1.0", "peer_factor"),
        ("min_peers = 0", "min_peers"),
        ("max_history_days = 0", "max_history_days"),
        ("default_time_zone = \"CEST\"", "default_time_zone"),
    ] {
        let c: FileAccessAnomalyConfig = toml::from_str(toml).unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("analytics.file_access_anomaly.{key}")), "{toml}: {e}");
    }
}

#[test]
fn population_in_polars_matches_rust() {
    let rows: [(&str, &str, Option<&str>); 6] = [
        ("user", "FileAccessed", Some(BROWSER)),
        ("user", "FileSyncDownloadedFull", None),
        ("user", "FileDownloaded", Some("Microsoft SkyDriveSync 24.010 ship; Windows NT 10.0")),
        ("application", "FileDownloaded", Some("okhttp/4.9")),
        ("service_principal", "FileSyncDownloadedFull", None),
        ("user", "FileDownloaded", None),
    ];
    let df = df!(
        s::ACTOR_TYPE => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        s::OPERATION => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        s::USER_AGENT => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    )
    .unwrap();
    let out = df.lazy().select([Population::expr()]).collect().unwrap();
    let got = profiles::strings(&out, "population").unwrap();
    for (r, g) in rows.iter().zip(got) {
        let want = Population::of(ActorType::parse(r.0), r.1, r.2).as_str();
        assert_eq!(g.as_deref(), Some(want), "{r:?}");
    }
}
