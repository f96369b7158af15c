//! Generator tests: determinism, labelled attacks, rhythm, record fields, options.
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use serde_json::Value;

use super::*;

fn opts(out: &Path, days: u32, seed: u64, scale: f64) -> GenerateOptions {
    GenerateOptions {
        out: out.to_path_buf(),
        days,
        seed,
        end: NaiveDate::from_ymd_opt(2024, 3, 31).unwrap(),
        scale,
    }
}

/// Every object under `dir`, sorted by path.
fn objects(dir: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else if p.to_string_lossy().ends_with(".json.gz") {
                out.push(p)
            }
        }
    }
    let mut v = Vec::new();
    walk(&dir.join("AWSLogs"), &mut v);
    v.sort();
    v
}

fn records(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc.as_object().unwrap().len(), 1, "only a Records key");
    match doc["Records"].take() {
        Value::Array(v) => v,
        _ => panic!("Records is not an array"),
    }
}

fn all_records(dir: &Path) -> Vec<Value> {
    objects(dir).iter().flat_map(|p| records(p)).collect()
}

fn labels(dir: &Path) -> Vec<AttackLabel> {
    std::fs::read_to_string(dir.join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `actor_uid` as the design defines it for CloudTrail.
fn actor_uid(r: &Value) -> String {
    let u = &r["userIdentity"];
    match u["type"].as_str().unwrap() {
        "AssumedRole" => u["sessionContext"]["sessionIssuer"]["arn"]
            .as_str()
            .unwrap()
            .to_string(),
        "AWSService" => u["invokedBy"].as_str().unwrap().to_string(),
        _ => u["arn"]
            .as_str()
            .or(u["principalId"].as_str())
            .unwrap()
            .to_string(),
    }
}

fn time(r: &Value) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(r["eventTime"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[test]
fn same_seed_gives_identical_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let sa = generate(&opts(a.path(), 2, 5, 0.05), &|_| {}).unwrap();
    let sb = generate(&opts(b.path(), 2, 5, 0.05), &|_| {}).unwrap();
    assert_eq!(sa, sb);
    let (oa, ob) = (objects(a.path()), objects(b.path()));
    assert_eq!(oa.len() as u64, sa.objects);
    assert_eq!(
        oa.iter()
            .map(|p| p.strip_prefix(a.path()).unwrap().to_path_buf())
            .collect::<Vec<_>>(),
        ob.iter()
            .map(|p| p.strip_prefix(b.path()).unwrap().to_path_buf())
            .collect::<Vec<_>>()
    );
    for (x, y) in oa.iter().zip(&ob).step_by(7) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    assert_eq!(
        std::fs::read(a.path().join("labels.jsonl")).unwrap(),
        std::fs::read(b.path().join("labels.jsonl")).unwrap()
    );
    // Another seed gives another corpus.
    generate(&opts(c.path(), 2, 6, 0.05), &|_| {}).unwrap();
    assert_ne!(
        std::fs::read(&oa[0]).ok(),
        objects(c.path())
            .first()
            .and_then(|p| std::fs::read(p).ok())
    );
}

#[test]
fn every_record_has_the_cloudtrail_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&opts(dir.path(), 3, 1, 0.1), &|_| {}).unwrap();
    let mut types = BTreeMap::new();
    let mut n = 0u64;
    let key_re = |p: &Path| {
        let rel = p
            .strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts.len(), 8, "{rel}");
        assert_eq!((parts[0], parts[2]), ("AWSLogs", "CloudTrail"));
        let (acct, region) = (parts[1], parts[3]);
        let name = parts[7];
        let prefix = format!(
            "{acct}_CloudTrail_{region}_{}{}{}T",
            parts[4], parts[5], parts[6]
        );
        assert!(name.starts_with(&prefix), "{name} vs {prefix}");
        let rest = &name[prefix.len()..];
        assert_eq!(rest.len(), 4 + 2 + 16 + ".json.gz".len(), "{name}");
        assert!(rest[..4].bytes().all(|b| b.is_ascii_digit()) && &rest[4..6] == "Z_");
        assert!(rest[6..22].bytes().all(|b| b.is_ascii_alphanumeric()));
        (acct.to_string(), region.to_string())
    };
    for p in objects(dir.path()) {
        let (acct, region) = key_re(&p);
        for r in records(&p) {
            n += 1;
            for k in [
                "eventVersion",
                "userIdentity",
                "eventTime",
                "eventSource",
                "eventName",
                "awsRegion",
                "sourceIPAddress",
                "userAgent",
                "requestParameters",
                "responseElements",
                "requestID",
                "eventID",
                "readOnly",
                "eventType",
                "managementEvent",
                "recipientAccountId",
                "eventCategory",
            ] {
                assert!(r.get(k).is_some(), "{k} missing in {r}");
            }
            assert_eq!(r["recipientAccountId"].as_str().unwrap(), acct);
            assert_eq!(r["awsRegion"].as_str().unwrap(), region);
            let t = r["eventTime"].as_str().unwrap();
            assert!(t.len() == 20 && t.ends_with('Z'), "{t}");
            time(&r);
            uuid::Uuid::parse_str(r["eventID"].as_str().unwrap()).unwrap();
            assert!(r["readOnly"].is_boolean() && r["managementEvent"].is_boolean());
            assert!(r["eventSource"]
                .as_str()
                .unwrap()
                .ends_with(".amazonaws.com"));
            let u = &r["userIdentity"];
            let ty = u["type"].as_str().unwrap().to_string();
            match ty.as_str() {
                "IAMUser" => assert!(
                    u["arn"].is_string()
                        && u["userName"].is_string()
                        && u["principalId"].is_string()
                ),
                "AssumedRole" => {
                    assert!(u["sessionContext"]["sessionIssuer"]["arn"]
                        .as_str()
                        .unwrap()
                        .starts_with("arn:aws:iam::"));
                    assert!(u["arn"].as_str().unwrap().starts_with("arn:aws:sts::"));
                }
                "AWSService" => assert_eq!(u["invokedBy"], r["sourceIPAddress"]),
                "Root" => assert!(u["arn"].as_str().unwrap().ends_with(":root")),
                "WebIdentityUser" => assert!(u["userName"].is_string()),
                other => panic!("unexpected identity type {other}"),
            }
            *types.entry(ty).or_insert(0u64) += 1;
            let ip = r["sourceIPAddress"].as_str().unwrap();
            match ip.parse::<std::net::IpAddr>() {
                Ok(addr) => assert_eq!(addr.to_string(), ip, "canonical address text"),
                Err(_) => assert!(
                    ip.ends_with(".amazonaws.com") || ip == "AWS Internal",
                    "{ip}"
                ),
            }
        }
    }
    assert_eq!(n, s.events);
    for ty in ["IAMUser", "AssumedRole", "AWSService", "WebIdentityUser"] {
        assert!(types.contains_key(ty), "no {ty} in {types:?}");
    }
}

#[test]
fn attacks_are_in_the_files_with_the_labelled_ids() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&opts(dir.path(), 8, 3, 0.05), &|_| {}).unwrap();
    let recs = all_records(dir.path());
    let all_labels = labels(dir.path());
    assert_eq!(all_labels.len() as u64, s.attacks);
    // The Microsoft tenant's labels (M1–M5) are checked in `tenant/tests.rs`.
    let labels: Vec<AttackLabel> = all_labels
        .into_iter()
        .filter(|l| l.attack_id.starts_with('A'))
        .collect();
    assert_eq!(labels.len(), 7);
    let by_id: HashMap<&str, &Value> = recs
        .iter()
        .map(|r| (r["eventID"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_id.len(), recs.len(), "event ids are unique");
    for l in &labels {
        let (start, end) = (
            DateTime::parse_from_rfc3339(&l.start).unwrap(),
            DateTime::parse_from_rfc3339(&l.end).unwrap(),
        );
        let ops: &[&str] = match l.analytic.as_str() {
            "logging_disabled" => &["StopLogging", "DeleteTrail", "PutEventSelectors"],
            "secret_access_volume" => &["GetSecretValue"],
            "model_invocation_volume" => &["InvokeModel"],
            "log_source_silence" => &["StopLogging", "StartLogging"],
            other => panic!("unknown analytic {other}"),
        };
        for id in &l.event_uids {
            let r = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{} event {id} not in the files", l.attack_id));
            assert_eq!(r["recipientAccountId"].as_str().unwrap(), l.account_uid);
            assert_eq!(actor_uid(r), l.actor_uid, "{}", l.attack_id);
            assert!(ops.contains(&r["eventName"].as_str().unwrap()));
            assert!(time(r) >= start && time(r) <= end);
        }
        // Before the attack the principal never made these calls ...
        let earlier = recs
            .iter()
            .filter(|r| actor_uid(r) == l.actor_uid && time(r) < start);
        let earlier: Vec<&Value> = earlier.collect();
        if l.analytic == "logging_disabled" {
            assert!(
                !earlier
                    .iter()
                    .any(|r| ops.contains(&r["eventName"].as_str().unwrap())),
                "{}",
                l.attack_id
            );
            assert!(!earlier.is_empty(), "{} actor has history", l.attack_id);
        }
        // ... and the burst stands out against the principal's own history.
        if l.attack_id.starts_with("A4") {
            assert_eq!(l.event_uids.len(), 60);
            let reads = earlier
                .iter()
                .filter(|r| r["eventName"] == "GetSecretValue")
                .count() as f64;
            let hours = (start.timestamp() - (s_first_day(&recs))) as f64 / 3600.0;
            let rate = reads / hours;
            assert!((0.6..1.5).contains(&rate), "history rate {rate}/h");
        }
        if l.attack_id.starts_with("A7") {
            // The trail is stopped: nothing of the account between StopLogging and
            // StartLogging, a steady stream on either side.
            let staging = |r: &&Value| r["recipientAccountId"] == l.account_uid;
            let (from, to) = (start.timestamp(), end.timestamp());
            assert!((to - from) / 3600 >= 7, "{} {}", l.start, l.end);
            let inside = recs.iter().filter(staging).filter(|r| (from + 1..to).contains(&time(r).timestamp())).count();
            assert_eq!(inside, 0, "records while the trail was stopped");
            let names: Vec<&str> = l.event_uids.iter().map(|id| by_id[id.as_str()]["eventName"].as_str().unwrap()).collect();
            assert_eq!(names, ["StopLogging", "StartLogging"]);
            let next_day: Vec<i64> = recs.iter().filter(staging).map(|r| time(r).timestamp()).filter(|t| (from + 86_400 - 3600..to + 86_400).contains(t)).collect();
            assert!(next_day.len() >= 7 * 5, "the same hours of the next day hold {} staging records", next_day.len());
            assert!(earlier.iter().all(|r| (start.to_utc() - time(r)).num_minutes() < 5), "a dormant key: only its own recon before");
        }
        if l.attack_id.starts_with("A5") {
            // Brand-new: nothing before the attack but its own recon minutes earlier.
            assert!(
                earlier
                    .iter()
                    .all(|r| (start.to_utc() - time(r)).num_minutes() < 10),
                "brand-new principal"
            );
            assert!(l.event_uids.len() >= 40);
        }
    }
    // The benign look-alike: the CI role updates trails every night (02:20), except in
    // staging the night A7 had stopped its trail (then nothing of staging is recorded).
    let ci_updates = recs
        .iter()
        .filter(|r| {
            r["eventName"] == "UpdateTrail"
                && actor_uid(r).ends_with(":role/github-actions-terraform")
        })
        .count();
    assert_eq!(ci_updates, 8 * 4 - 1);
}

fn s_first_day(recs: &[Value]) -> i64 {
    recs.iter().map(|r| time(r).timestamp()).min().unwrap()
}

#[test]
fn people_work_office_hours_on_weekdays() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(dir.path(), 14, 2, 0.1), &|_| {}).unwrap();
    // Ordinary activity only: the attacks (A6 runs all night) are labelled.
    let attack: std::collections::HashSet<String> = labels(dir.path()).into_iter().flat_map(|l| l.event_uids).collect();
    let recs: Vec<Value> = all_records(dir.path()).into_iter().filter(|r| !attack.contains(r["eventID"].as_str().unwrap())).collect();
    use chrono::{Datelike, Timelike};
    let mut weekday_office = 0u64; // Mon–Fri 09:00–16:59 UTC
    let mut weekday_night = 0u64; // Mon–Fri 01:00–04:59 UTC
    let mut weekend = 0u64; // Sat–Sun, all day
    let mut automation_night = 0u64;
    for r in &recs {
        let u = &r["userIdentity"];
        let person = match u["type"].as_str().unwrap() {
            "IAMUser" => !u["userName"].as_str().unwrap().starts_with("svc-"),
            "AssumedRole" => u["arn"].as_str().unwrap().contains("AWSReservedSSO_"),
            _ => false,
        };
        let t = time(r);
        let (wd, h) = (t.weekday().num_days_from_monday(), t.hour());
        if !person {
            automation_night += (wd < 5 && (1..5).contains(&h)) as u64;
            continue;
        }
        if wd >= 5 {
            weekend += 1;
        } else if (9..17).contains(&h) {
            weekday_office += 1;
        } else if (1..5).contains(&h) {
            weekday_night += 1;
        }
    }
    // Per hour: 10 weekdays × 8 h, 10 weekdays × 4 h, 4 weekend days × 24 h.
    let office = weekday_office as f64 / 80.0;
    let night = weekday_night as f64 / 40.0;
    let wkend = weekend as f64 / 96.0;
    assert!(
        office > 20.0 * night.max(0.5),
        "office {office}/h night {night}/h"
    );
    assert!(
        office > 10.0 * wkend.max(0.5),
        "office {office}/h weekend {wkend}/h"
    );
    assert!(
        automation_night as f64 / 40.0 > office / 2.0,
        "automation runs around the clock"
    );
}

#[test]
fn scale_one_is_20_to_40_mb_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&opts(dir.path(), 7, 1, 1.0), &|_| {}).unwrap();
    let per_day = s.uncompressed_bytes as f64 / 7.0 / 1e6;
    assert!(
        (20.0..40.0).contains(&per_day),
        "{per_day} MB/day, {} events",
        s.events
    );
}

#[test]
fn refuses_a_folder_with_logs_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(dir.path(), 1, 1, 0.02), &|_| {}).unwrap();
    assert!(matches!(
        generate(&opts(dir.path(), 1, 1, 0.02), &|_| {}),
        Err(Error::Config { .. })
    ));
    let other = tempfile::tempdir().unwrap();
    assert!(matches!(
        generate(&opts(other.path(), 0, 1, 1.0), &|_| {}),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        generate(&opts(other.path(), 1, 1, f64::NAN), &|_| {}),
        Err(Error::Config { .. })
    ));
}
