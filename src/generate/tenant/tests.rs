//! Tenant generator tests: determinism, normalisation with nothing quarantined, labels,
//! local hours across daylight-saving changes; `tests/side.rs`: the CSV side tables, benign
//! look-alikes and volume.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Timelike};
use serde_json::Value;

use super::people::{Tenant, ATTACK_IPS, TENANT_ID};
use super::*;
use crate::event::Event;
use crate::schema::{ActorType, LogFormat};
use crate::sources::{collect_file, ReadOptions};

fn day_num(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days()
}

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
}

/// Writes the tenant for `days` days ending `end` into a fresh folder.
fn gen(
    days: i64,
    seed: u64,
    scale: f64,
    end: NaiveDate,
) -> (tempfile::TempDir, TenantSummary, Vec<AttackLabel>) {
    let dir = tempfile::tempdir().unwrap();
    let last = day_num(end);
    let (s, labels) = write(
        dir.path(),
        seed,
        scale,
        last - days + 1,
        last,
        &AtomicU64::new(0),
    )
    .unwrap();
    (dir, s, labels)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Every tenant record normalised, in file order; panics on any rejection.
fn events(dir: &Path) -> Vec<Event<'static>> {
    let mut out = Vec::new();
    for folder in FOLDERS {
        for p in files(&dir.join(folder)) {
            let sink = collect_file(&p, &ReadOptions::default()).unwrap();
            assert!(
                sink.rejects.is_empty(),
                "{}: {:?}",
                p.display(),
                sink.rejects
            );
            out.extend(sink.events.into_iter().map(|(e, _)| e));
        }
    }
    out
}

fn actor<'a>(e: &'a Event<'_>) -> &'a str {
    e.actor_uid.as_deref().unwrap_or("")
}

fn params(e: &Event<'_>) -> Value {
    serde_json::from_str(e.request_params.as_deref().unwrap_or("null")).unwrap()
}

#[test]
fn same_seed_gives_identical_bytes() {
    let (a, sa, la) = gen(3, 5, 0.05, end());
    let (b, sb, lb) = gen(3, 5, 0.05, end());
    assert_eq!((sa, &la), (sb, &lb));
    let (fa, fb) = (files(a.path()), files(b.path()));
    let rel = |v: &[PathBuf], root: &Path| {
        v.iter()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect::<Vec<_>>()
    };
    assert_eq!(rel(&fa, a.path()), rel(&fb, b.path()));
    assert_eq!(
        fa.len() as u64,
        sa.m365_blobs + sa.entra_files + 2,
        "blobs, hourly files, two CSVs"
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    let (c, _, _) = gen(3, 6, 0.05, end());
    let entra = |d: &Path| {
        files(&d.join("EntraID"))
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect::<Vec<_>>()
    };
    assert_ne!(
        entra(a.path()),
        entra(c.path()),
        "another seed, another corpus"
    );
}

#[test]
fn every_record_normalises_with_the_tenant_and_actor_types() {
    // Monday to Friday before the attacks.
    let last = NaiveDate::from_ymd_opt(2024, 3, 22).unwrap();
    let (dir, s, _) = gen(5, 1, 0.05, last);
    let evs = events(dir.path());
    assert_eq!(evs.len() as u64, s.m365_records + s.entra_records);
    let mut by_format: BTreeMap<&str, u64> = BTreeMap::new();
    let mut types: HashMap<String, ActorType> = HashMap::new();
    for e in &evs {
        assert_eq!(e.account_uid, TENANT_ID);
        *by_format.entry(e.log_format.as_str()).or_default() += 1;
        if let Some(a) = &e.actor_uid {
            let prev = types.insert(a.to_string(), e.actor_type);
            assert!(
                prev.is_none_or(|p| p == e.actor_type),
                "{a} typed {prev:?} and {:?}",
                e.actor_type
            );
        }
        if e.log_format == LogFormat::EntraSignin {
            assert!(e.src_ip.is_some(), "sign-ins name the address");
        }
        if e.service == "SharePoint" || e.service == "OneDrive" {
            assert!(e.src_ip.is_some() && e.user_agent.is_some() && e.resource_uid.is_some());
        }
    }
    for f in ["m365_audit", "entra_signin", "entra_audit"] {
        assert!(
            by_format.get(f).copied().unwrap_or(0) > 0,
            "{f}: {by_format:?}"
        );
    }
    let t = Tenant::build(1, 0.05, day_num(last) - 4, day_num(last));
    assert_eq!(types["app@sharepoint"], ActorType::Application);
    assert_eq!(
        types[&t.flow_sp],
        ActorType::ServicePrincipal,
        "Power Automate flow, in M365 and Entra"
    );
    assert_eq!(
        types[&t.backup_sp],
        ActorType::ServicePrincipal,
        "backup's own sign-ins"
    );
    assert_eq!(
        types["nt authority\\system (microsoft.exchange.servicehost)"],
        ActorType::System
    );
    for (i, p) in t.people.iter().enumerate() {
        if t.is_active(i as u16, day_num(last)) {
            assert_eq!(types.get(&p.upn), Some(&ActorType::User), "{}", p.upn);
        }
    }
    // UPN case variants and every ClientIP form normalise to one key and a canonical address.
    let raw: Vec<String> = files(&dir.path().join("Microsoft365"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let all = raw.concat();
    assert!(all.contains("\"UserId\":\"Maria.Gonzalez@fabrikam-sift.com\""));
    assert!(
        all.contains("\"ClientIPAddress\":\"[2001:db8:"),
        "bracketed IPv6 with a port"
    );
    assert!(all.contains("\"ClientIP\":\"2001:db8:"), "plain IPv6");
    assert!(evs
        .iter()
        .any(|e| e.src_port.is_some() && e.src_ip.as_deref().is_some_and(|ip| ip.contains(':'))));
}

#[test]
fn labels_point_at_records_of_the_labelled_actor() {
    let (dir, _, labels) = gen(10, 7, 0.05, end());
    let evs = events(dir.path());
    let by_id: HashMap<&str, &Event<'_>> = evs.iter().map(|e| (e.event_uid.as_ref(), e)).collect();
    assert_eq!(by_id.len(), evs.len(), "event ids are unique");
    let ids: Vec<&str> = labels.iter().map(|l| l.attack_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "M4-admin-sets-mailbox-forwarding",
            "M1-session-new-ip-night",
            "M2-sharepoint-mass-download",
            "M3-inbox-rule-external-forward",
            "M5-ca-policy-weakened",
            "M5-ca-policy-deleted"
        ]
    );
    let last_six = (day_num(end()) - 5) * 86_400 * 1_000_000;
    for l in &labels {
        assert_eq!(l.account_uid, TENANT_ID);
        let start = chrono::DateTime::parse_from_rfc3339(&l.start)
            .unwrap()
            .timestamp_micros();
        let stop = chrono::DateTime::parse_from_rfc3339(&l.end)
            .unwrap()
            .timestamp_micros();
        assert!(start >= last_six, "{} in the last six days", l.attack_id);
        let ops: &[&str] = match l.analytic.as_str() {
            "session_anomaly" => &["Sign-in activity", "UserLoggedIn", "TeamsSessionStarted"],
            "file_access_anomaly" => &["FileDownloaded"],
            "mail_forwarding_rule" => &["New-InboxRule", "Set-Mailbox"],
            "conditional_access_change" => &[
                "Update conditional access policy",
                "Delete conditional access policy",
            ],
            other => panic!("unknown analytic {other}"),
        };
        let mine: Vec<&Event<'_>> = l
            .event_uids
            .iter()
            .map(|u| {
                *by_id
                    .get(u.as_str())
                    .unwrap_or_else(|| panic!("{} {u} missing", l.attack_id))
            })
            .collect();
        let ip = mine[0].src_ip.clone().unwrap();
        for e in &mine {
            assert_eq!(actor(e), l.actor_uid, "{}", l.attack_id);
            assert!(
                ops.contains(&e.operation.as_ref()),
                "{} {}",
                l.attack_id,
                e.operation
            );
            assert!((start..=stop).contains(&e.time), "{}", l.attack_id);
            assert_eq!(e.src_ip.as_ref(), Some(&ip), "one attacker address");
        }
        assert!(ATTACK_IPS.contains(&ip.as_ref()));
        // Nobody else ever uses the attacker's address, and it appears at most minutes before
        // the attack (the attacker's own sign-in).
        let from_ip: Vec<&Event<'_>> = evs
            .iter()
            .filter(|e| e.src_ip.as_ref() == Some(&ip))
            .collect();
        assert!(
            from_ip
                .iter()
                .all(|e| actor(e) == l.actor_uid && e.time > start - 1_800_000_000),
            "{}",
            l.attack_id
        );
        // Before the attacker's session (the M5 delete follows the disable by minutes).
        let before = |e: &&Event<'_>| e.time < start - 3_600_000_000 && actor(e) == l.actor_uid;
        match l.analytic.as_str() {
            "session_anomaly" => {
                let signins = mine
                    .iter()
                    .filter(|e| e.operation == "Sign-in activity")
                    .count();
                let teams = mine
                    .iter()
                    .filter(|e| e.operation == "TeamsSessionStarted")
                    .count();
                assert!(
                    (15..=25).contains(&signins) && teams >= 3,
                    "{signins} sign-ins, {teams} Teams"
                );
                assert!(stop - start < 2 * 3_600_000_000);
                let ny = |us: i64| {
                    chrono_tz::America::New_York
                        .timestamp_micros(us)
                        .unwrap()
                        .hour()
                };
                assert!(
                    mine.iter().all(|e| (2..4).contains(&ny(e.time))),
                    "02:00–04:00 local"
                );
            }
            "file_access_anomaly" => {
                let distinct: HashSet<&str> = mine
                    .iter()
                    .map(|e| e.resource_uid.as_deref().unwrap())
                    .collect();
                assert!(distinct.len() >= 300 && stop - start <= 3_600_000_000);
                assert!(mine
                    .iter()
                    .all(|e| e.user_agent.as_deref() == Some("python-requests/2.31.0")));
                // History: about 20 file operations per workday.
                let history = evs
                    .iter()
                    .filter(before)
                    .filter(|e| e.service == "SharePoint" || e.service == "OneDrive")
                    .count();
                assert!(
                    (60..=250).contains(&history),
                    "{history} file operations in the week before"
                );
            }
            "mail_forwarding_rule" => {
                // Never forwarded mail before (the help desk does other mailbox chores).
                let forwards = |e: &&Event<'_>| {
                    let params = e.request_params.as_deref().unwrap_or("{}");
                    !crate::sources::m365::forwarding_targets(params).is_empty()
                };
                assert!(
                    !evs.iter().filter(before).any(|e| forwards(&e)),
                    "first time"
                );
                if l.attack_id.starts_with("M4") {
                    let chores = evs
                        .iter()
                        .filter(before)
                        .filter(|e| e.operation == "Set-Mailbox");
                    assert!(
                        chores.count() >= 1,
                        "the help desk's routine mailbox changes"
                    );
                }
                for e in &mine {
                    let targets = crate::sources::m365::forwarding_targets(
                        e.request_params.as_deref().unwrap(),
                    );
                    assert_eq!(targets.len(), 1);
                    assert!(!targets[0].ends_with("@fabrikam-sift.com"), "external");
                }
                if l.attack_id.starts_with("M3") {
                    let p = params(mine[0]);
                    assert_eq!(
                        (
                            p["DeleteMessage"].as_str(),
                            p["StopProcessingRules"].as_str()
                        ),
                        (Some("True"), Some("True"))
                    );
                } else {
                    let owners: HashSet<String> = mine
                        .iter()
                        .map(|e| params(e)["Identity"].as_str().unwrap().to_string())
                        .collect();
                    assert_eq!(owners.len(), 2);
                    assert!(
                        owners.contains("margaret.olsen@fabrikam-sift.com")
                            && !owners.contains(&l.actor_uid)
                    );
                }
            }
            _ => {
                assert!(
                    !evs.iter()
                        .filter(before)
                        .any(|e| e.service == "Conditional Access"),
                    "first time"
                );
                let p = params(mine[0]);
                let policy = &p["ConditionalAccessPolicy"];
                if l.attack_id.ends_with("weakened") {
                    assert_eq!(
                        (
                            policy["old"]["state"].as_str(),
                            policy["new"]["state"].as_str()
                        ),
                        (Some("enabled"), Some("disabled"))
                    );
                    assert_eq!(policy["new"]["displayName"], "Require MFA for all users");
                } else {
                    assert_eq!(mine[0].operation, "Delete conditional access policy");
                    assert!(
                        policy["new"].is_null()
                            && policy["old"]["grantControls"]["builtInControls"][0] == "mfa"
                    );
                }
            }
        }
    }
    // Context the attacker leaves is there but unlabelled: the sign-in before the M3 rule.
    let m3 = &labels[3];
    let rule_time = by_id[m3.event_uids[0].as_str()].time;
    assert!(evs.iter().any(|e| e.operation == "Sign-in activity"
        && actor(e) == m3.actor_uid
        && e.time < rule_time
        && e.src_ip.as_deref() == Some(ATTACK_IPS[2])));
}

/// Interactive activity (UTC µs, local hour) of everyone in zone `tz`, attacks left out.
fn local_hours(evs: &[Event<'_>], t: &Tenant, tz: chrono_tz::Tz) -> Vec<(i64, u32)> {
    let people: HashSet<&str> = t
        .people
        .iter()
        .filter(|p| p.tz() == tz)
        .map(|p| p.upn.as_str())
        .collect();
    evs.iter()
        .filter(|e| {
            people.contains(actor(e)) && !ATTACK_IPS.contains(&e.src_ip.as_deref().unwrap_or(""))
        })
        .filter(|e| {
            matches!(
                e.operation.as_ref(),
                "Sign-in activity" | "TeamsSessionStarted" | "FileAccessed" | "FilePreviewed"
            )
        })
        .map(|e| (e.time, tz.timestamp_micros(e.time).unwrap().hour()))
        .collect()
}

#[test]
fn people_keep_local_hours_across_daylight_saving_changes() {
    // (zone, last day, the change, a UTC hour at which nobody there works: hours are counted
    // from it so that evenings past UTC midnight do not wrap around). Each period has about
    // two working weeks on either side of the change.
    let cases = [
        (
            chrono_tz::America::New_York,
            "2024-03-22",
            "2024-03-10T07:00:00Z",
            8,
        ),
        (
            chrono_tz::Europe::Berlin,
            "2024-04-12",
            "2024-03-31T01:00:00Z",
            2,
        ),
    ];
    for (tz, last, switch, quiet) in cases {
        let last = NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap();
        let (dir, _, _) = gen(24, 3, 0.05, last);
        let t = Tenant::build(3, 0.05, day_num(last) - 23, day_num(last));
        let hours = local_hours(&events(dir.path()), &t, tz);
        let switch = chrono::DateTime::parse_from_rfc3339(switch)
            .unwrap()
            .timestamp_micros();
        assert!(hours.len() > 1000, "{tz}: {}", hours.len());
        let office =
            hours.iter().filter(|(_, h)| (8..18).contains(h)).count() as f64 / hours.len() as f64;
        assert!(
            office > 0.85,
            "{tz}: {office:.2} of activity in local office hours"
        );
        assert!(hours.iter().all(|(_, h)| *h >= 5), "{tz}: nothing at night");
        let mean = |after: bool, f: &dyn Fn(i64, u32) -> f64| {
            let v: Vec<f64> = hours
                .iter()
                .filter(|(t, _)| (*t >= switch) == after)
                .map(|(t, h)| f(*t, *h))
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let utc = |t: i64, _: u32| {
            (chrono::DateTime::from_timestamp_micros(t).unwrap().hour() as i64 - quiet)
                .rem_euclid(24) as f64
        };
        let local = |_: i64, h: u32| h as f64;
        // The same local rhythm lands one UTC hour earlier after the change.
        let shift = mean(false, &utc) - mean(true, &utc);
        assert!((0.7..1.3).contains(&shift), "{tz}: UTC shift {shift:.2}");
        let drift = mean(false, &local) - mean(true, &local);
        assert!(drift.abs() < 0.3, "{tz}: local rhythm moved by {drift:.2}");
    }
}

mod side;
