use std::collections::HashMap;

use chrono::TimeZone;

use super::*;
use crate::analytics::testlake::{append_lake, ev, write_lake};
use crate::event::Event;
use crate::profiles::{self, scan_events};
use crate::progress::Silent;
use crate::schema::ActorType;

fn us(d: u32, h: u32, m: u32) -> i64 {
    Utc.with_ymd_and_hms(2024, 3, d, h, m, 0).unwrap().timestamp_micros()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, d, h, 0, 0).unwrap()
}

/// Alice reads a secret at 09:00, 09:30 and 14:00 of March 1–10 from 198.51.100.7; Bob
/// (a role) lists buckets at 03:00 from March 5 on, without an IP.
fn lake() -> (tempfile::TempDir, Vec<Event<'static>>) {
    let dir = tempfile::tempdir().unwrap();
    let mut evs = Vec::new();
    for d in 1..=10 {
        for (i, (h, m)) in [(9, 0), (9, 30), (14, 0)].into_iter().enumerate() {
            let mut e = ev(&format!("a-{d}-{i}"), us(d, h, m), "alice", ActorType::User, "secretsmanager.amazonaws.com", "GetSecretValue");
            e.src_ip = Some("198.51.100.7".into());
            e.region = Some("eu-west-1".into());
            evs.push(e);
        }
        if d >= 5 {
            evs.push(ev(&format!("b-{d}"), us(d, 3, 0), "arn:aws:iam::111122223333:role/bob", ActorType::AssumedRole, "s3.amazonaws.com", "ListBuckets"));
        }
    }
    write_lake(dir.path(), &evs);
    (dir, evs)
}

fn sum_n(lf: LazyFrame, root: &Path) -> i64 {
    let df = collect(root, lf.select([col(N).sum()])).unwrap();
    profiles::ints(&df, N).unwrap()[0]
}

#[test]
fn each_day_is_built_once_then_only_changed_days_are_rebuilt() {
    let (dir, _) = lake();
    let root = dir.path();
    let first = ensure(root, day(1), day(10), &Silent).unwrap();
    assert_eq!(first.built, (1..=10).map(day).collect::<Vec<_>>());
    assert_eq!(first.current, 0);
    let again = ensure(root, day(1), day(10), &Silent).unwrap();
    assert!(again.built.is_empty(), "{again:?}");
    assert_eq!(again.current, 10);

    // A late record for March 3 arrives in a later run's part file.
    let mut late = ev("late-1", us(3, 22, 0), "alice", ActorType::User, "secretsmanager.amazonaws.com", "GetSecretValue");
    late.src_ip = Some("203.0.113.9".into());
    append_lake(root, &[late]);
    let third = ensure(root, day(1), day(10), &Silent).unwrap();
    assert_eq!(third.built, vec![day(3)]);
    assert_eq!(third.current, 9);
    let ops = operations(root, at(3, 0), at(4, 0)).unwrap();
    assert_eq!(sum_n(ops, root), 4, "three reads and the late one, not the day counted twice");
    let ips = values(root, s::SRC_IP, at(3, 0), at(4, 0)).unwrap();
    let df = collect(root, ips.sort([VALUE], Default::default())).unwrap();
    assert_eq!(profiles::strings(&df, VALUE).unwrap(), vec![Some("198.51.100.7".into()), Some("203.0.113.9".into())]);
    assert_eq!(profiles::ints(&df, FIRST_US).unwrap(), vec![us(3, 9, 0), us(3, 22, 0)]);
    assert_eq!(profiles::ints(&df, LAST_US).unwrap(), vec![us(3, 14, 0), us(3, 22, 0)]);
}

#[test]
fn a_day_killed_mid_build_is_rebuilt_with_the_same_content() {
    let (dir, _) = lake();
    let root = dir.path();
    ensure(root, day(1), day(10), &Silent).unwrap();
    let table = day_dir(root, day(6)).join(OPERATIONS);
    let before = std::fs::read(&table).unwrap();
    // What a kill between the tables and the marker leaves: tables, no marker.
    std::fs::remove_file(day_dir(root, day(6)).join(MARKER)).unwrap();
    let after = ensure(root, day(1), day(10), &Silent).unwrap();
    assert_eq!(after.built, vec![day(6)]);
    assert_eq!(std::fs::read(&table).unwrap(), before, "a rebuild of the same events writes the same file");
}

#[test]
fn days_without_events_and_days_past_the_forget_window_are_removed() {
    let (dir, _) = lake();
    let root = dir.path();
    let settings = ProfileSettings { forget_days: 4 };
    // As of March 11 00:00 the store keeps March 6..=11 (four days before the window of
    // March 10, whose baseline may start on March 6).
    let up = update(root, at(11, 0), at(11, 0), &settings, &Silent).unwrap();
    assert_eq!(up.built, (6..=10).map(day).collect::<Vec<_>>());
    assert!(up.removed.is_empty());
    ensure(root, day(1), day(5), &Silent).unwrap();
    let up = update(root, at(11, 0), at(11, 0), &settings, &Silent).unwrap();
    assert_eq!(up.removed, (1..=5).map(day).collect::<Vec<_>>());
    assert_eq!(up.current, 5);
    assert!(!day_dir(root, day(5)).exists() && day_dir(root, day(6)).exists());
    // Readers clamp to the window too: the baseline of March 10 from March 1 starts on March 6.
    let ops = operations(root, settings.clamp(at(1, 0), at(10, 0)), at(11, 0)).unwrap();
    let first = profiles::first_seen(root, ops, s::ACTOR_UID).unwrap();
    assert_eq!(first["alice"], us(6, 9, 0), "first read inside the window, as a raw scan from March 6 gives");
    assert!(!day_dir(root, day(5)).exists(), "reading does not rebuild forgotten days");

    // A backfill scoring March 3 as of March 11 builds the days its baseline reads
    // (February 27 on, i.e. March 1 in this lake), and the next plain run forgets them.
    let up = update(root, at(3, 0), at(11, 0), &settings, &Silent).unwrap();
    assert_eq!(up.built, (1..=5).map(day).collect::<Vec<_>>());
    let up = update(root, at(11, 0), at(11, 0), &settings, &Silent).unwrap();
    assert_eq!(up.removed, (1..=5).map(day).collect::<Vec<_>>());

    std::fs::remove_dir_all(root.join("events/provider=aws/date=2024-03-08")).unwrap();
    let up = ensure(root, day(6), day(10), &Silent).unwrap();
    assert_eq!(up.removed, vec![day(8)]);
    let err = ProfileSettings { forget_days: 0 }.validate().unwrap_err().to_string();
    assert!(err.contains("profiles.forget_days"), "{err}");
}

#[test]
fn first_seen_and_routine_days_from_the_store_equal_those_of_the_events() {
    let (dir, _) = lake();
    let root = dir.path();
    // Ranges that start at midnight (run's windows) and end mid-day (`detect --as-of`).
    for (from, to) in [(at(1, 0), at(11, 0)), (at(5, 0), at(9, 12)), (at(2, 0), at(2, 10))] {
        let raw = scan_events(root, from, to).unwrap().unwrap();
        let ops = operations(root, from, to).unwrap();
        for key in [s::ACTOR_UID, s::ACCOUNT_UID, s::REGION] {
            let want = profiles::first_seen(root, raw.clone(), key).unwrap();
            let got = profiles::first_seen(root, ops.clone(), key).unwrap();
            assert_eq!(got, want, "{key} over {from}..{to}");
        }
        let keys = [s::ACTOR_UID, s::SERVICE, s::OPERATION];
        assert_eq!(
            profiles::distinct_days(root, ops.clone(), &keys).unwrap(),
            profiles::distinct_days(root, raw.clone(), &keys).unwrap(),
            "{from}..{to}"
        );
    }
    // A start mid-day: routine days are still exact; a group straddling the start counts
    // from the start (10:00), not from its first event inside the range (14:00).
    let (from, to) = (at(5, 10), at(9, 12));
    let raw = scan_events(root, from, to).unwrap().unwrap();
    let ops = operations(root, from, to).unwrap();
    let keys = [s::ACTOR_UID, s::SERVICE, s::OPERATION];
    assert_eq!(profiles::distinct_days(root, ops.clone(), &keys).unwrap(), profiles::distinct_days(root, raw, &keys).unwrap());
    assert_eq!(profiles::first_seen(root, ops, s::ACTOR_UID).unwrap()["alice"], us(5, 10, 0));
}

#[test]
fn hourly_counts_from_the_store_equal_those_of_the_events() {
    let (dir, evs) = lake();
    let root = dir.path();
    let lf = hourly(root, at(4, 0), at(9, 0)).unwrap();
    let df = collect(root, lf.group_by([col(s::ACTOR_UID), col(HOUR)]).agg([col(N).sum()])).unwrap();
    let mut got: HashMap<(String, i64), i64> = HashMap::new();
    for ((a, h), n) in profiles::strings(&df, s::ACTOR_UID).unwrap().into_iter().zip(profiles::ints(&df, HOUR).unwrap()).zip(profiles::ints(&df, N).unwrap()) {
        got.insert((a.unwrap(), h), n);
    }
    let mut want: HashMap<(String, i64), i64> = HashMap::new();
    for e in evs.iter().filter(|e| e.time >= at(4, 0).timestamp_micros() && e.time < at(9, 0).timestamp_micros()) {
        *want.entry((e.actor_uid.as_deref().unwrap().to_string(), e.time.div_euclid(HOUR_US))).or_default() += 1;
    }
    assert_eq!(got, want);
    assert_eq!(got[&("alice".to_string(), us(4, 9, 0) / HOUR_US)], 2);
}

#[test]
fn an_empty_or_missing_lake_has_no_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let ops = operations(dir.path(), at(1, 0), at(5, 0)).unwrap();
    assert!(profiles::first_seen(dir.path(), ops, s::ACTOR_UID).unwrap().is_empty());
    let h = hourly(dir.path(), at(1, 0), at(5, 0)).unwrap();
    assert_eq!(collect(dir.path(), h).unwrap().height(), 0);
    let up = update(dir.path(), at(5, 0), at(5, 0), &ProfileSettings::default(), &Silent).unwrap();
    assert_eq!(up, UpdateSummary::default());
}
