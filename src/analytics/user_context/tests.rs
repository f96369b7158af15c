//! Tests of the user directory, local time and novelty.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::testing::{at, file, m365, signin, utc, write_lake, DAY_US, TENANT};
use super::*;
use crate::schema::ActorType;

#[test]
fn local_hour_follows_dst_not_a_fixed_offset() {
    let ny: Tz = "America/New_York".parse().unwrap();
    // 13:00Z is 08:00 EST before the 2024-03-10 change and 09:00 EDT after it.
    assert_eq!(local_slot(at(2024, 3, 8, 13, 0), ny).hour, 8);
    assert_eq!(local_slot(at(2024, 3, 11, 13, 0), ny).hour, 9);
    // P38: 12:00Z on Monday 2024-03-11 is 08:00 EDT, 07:00Z is 03:00 EDT.
    let s = local_slot(at(2024, 3, 11, 12, 0), ny);
    assert_eq!((s.hour, s.weekday, s.weekend), (8, 0, false));
    assert_eq!(local_slot(at(2024, 3, 11, 7, 0), ny).hour, 3);
    // 03:00Z Monday is still Sunday 23:00 in New York: the weekend follows the zone.
    let s = local_slot(at(2024, 3, 11, 3, 0), ny);
    assert_eq!((s.hour, s.weekday, s.weekend), (23, 6, true));
    // Half-hour zones: 02:45Z is 08:15 in Kolkata.
    assert_eq!(local_slot(at(2024, 3, 11, 2, 45), "Asia/Kolkata".parse().unwrap()).hour, 8);
    assert_eq!(local_slot(at(2024, 3, 11, 2, 45), Tz::UTC).hour, 2);
}

fn settings<'a>(file: Option<&'a std::path::Path>, zones: &'a BTreeMap<String, String>, default: Option<&'a str>) -> DirectorySettings<'a> {
    DirectorySettings { directory: file, time_zones: zones, default_time_zone: default }
}

#[test]
fn directory_file_table_and_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.csv");
    std::fs::write(
        &path,
        "\u{feff}user_principal_name,time_zone,peer_group,title\n\
         Alice@Example.com,America/New_York,Finance,CFO\n\
         bob@example.com,,Engineering,dev\n\
         \n\
         carol@example.com,Europe/Paris,,\n",
    )
    .unwrap();
    let mut zones = BTreeMap::new();
    zones.insert("carol@example.com".to_string(), "Asia/Tokyo".to_string());
    let d = Directory::load(&settings(Some(&path), &zones, Some("Europe/London")), "analytics.x").unwrap();
    assert_eq!(d.zone("alice@example.com"), UserZone { tz: "America/New_York".parse().unwrap(), source: ZoneSource::User });
    // The config table wins over the file.
    assert_eq!(d.zone("carol@example.com").tz.name(), "Asia/Tokyo");
    assert_eq!(d.zone("bob@example.com"), UserZone { tz: "Europe/London".parse().unwrap(), source: ZoneSource::Default });
    assert_eq!(d.peer_group("alice@example.com"), Some("Finance"));
    assert_eq!(d.peer_group("carol@example.com"), None);
    assert_eq!(peer_key(&d, "bob@example.com"), "Engineering");
    assert_eq!(peer_key(&d, "nobody@example.com"), "");
    let empty = BTreeMap::new();
    let utc_only = Directory::load(&settings(None, &empty, None), "analytics.x").unwrap();
    let z = utc_only.zone("alice@example.com");
    assert_eq!((z.tz, z.source), (Tz::UTC, ZoneSource::Utc));
    assert_eq!(z.describe(), "UTC (no time zone configured for this user)");
    assert_eq!(d.zone("alice@example.com").describe(), "America/New_York (the user's zone)");
}

#[test]
fn directory_errors_name_key_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let empty = BTreeMap::new();
    let load = |text: &str| {
        let path = dir.path().join("u.csv");
        std::fs::write(&path, text).unwrap();
        Directory::load(&settings(Some(&path), &empty, None), "analytics.session_anomaly")
            .unwrap_err()
            .to_string()
    };
    let e = load("user_principal_name,time_zone,peer_group\na@x.com,UTC,\nb@x.com,Mars/Olympus,\n");
    assert!(e.contains("analytics.session_anomaly.directory") && e.contains("row 3") && e.contains("Mars/Olympus"), "{e}");
    let e = load("user_principal_name,time_zone\na@x.com,UTC\nA@x.com,UTC\n");
    assert!(e.contains("row 3") && e.contains("already listed on row 2"), "{e}");
    let e = load("upn,time_zone\na@x.com,UTC\n");
    assert!(e.contains("user_principal_name"), "{e}");
    let e = load("user_principal_name,time_zone\n,UTC\n");
    assert!(e.contains("row 2: empty user_principal_name"), "{e}");
    let missing = dir.path().join("nope.csv");
    let e = Directory::load(&settings(Some(&missing), &empty, None), "analytics.f").unwrap_err().to_string();
    assert!(e.contains("analytics.f.directory") && e.contains("nope.csv"), "{e}");

    let mut zones = BTreeMap::new();
    zones.insert("bob@x.com".to_string(), "EST5EDT-ish".to_string());
    let e = settings(None, &zones, None).validate("analytics.f").unwrap_err().to_string();
    assert!(e.contains("analytics.f.time_zones.\"bob@x.com\""), "{e}");
    let e = settings(None, &empty, Some("Nowhere")).validate("analytics.f").unwrap_err().to_string();
    assert!(e.contains("analytics.f.default_time_zone"), "{e}");
}

#[test]
fn agent_classes() {
    assert!(is_scripted_user_agent("python-requests/2.31.0"));
    assert!(is_scripted_user_agent("rclone/v1.66.0"));
    assert!(is_scripted_user_agent("Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3570"));
    assert!(is_scripted_user_agent("curl/8.4.0"));
    assert!(is_scripted_user_agent("Go-http-client/2.0"));
    assert!(!is_scripted_user_agent("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"));
    assert!(!is_scripted_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.85 Safari/537.36 Edg/90.0.818.49"));
    assert!(is_service_user_agent("MSWAC"));
    assert!(is_service_user_agent("SkypeSpaces/1.0a$*+"));
    assert!(!is_service_user_agent("OneDriveMpc-Transform_Thumbnail/1.0"));
    assert!(!is_service_user_agent("OneDrive"));
    assert!(is_sync("FileSyncDownloadedFull", None));
    assert!(is_sync("FileDownloaded", Some("Microsoft SkyDriveSync 24.010.0114.0003 ship; Windows NT 10.0 (19045)")));
    assert!(!is_sync("FileDownloaded", Some("Mozilla/5.0")));
    assert_eq!(ip_key("2001:db8:1:2:a:b:c:d"), "2001:db8:1:2::/64");
    assert_eq!(ip_key("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
    assert_eq!(ip_key("::ffff:203.0.113.5"), "203.0.113.5");
    assert_eq!(ip_key("203.0.113.5"), "203.0.113.5");
    assert_eq!(ip_key("not-an-ip"), "not-an-ip");
    assert_eq!(short_list(&["a", "b", "c"], 2), "a, b, +1 more");
    assert_eq!(short_list(&["a"], 2), "a");
}

#[test]
fn novelty_and_prevalence() {
    let dir = tempfile::tempdir().unwrap();
    let ws = at(2024, 3, 14, 0, 0);
    let mut evs = vec![
        // The office IP: bob and carol for days.
        m365("b1", ws - 5 * DAY_US, "bob@x.com", Some("198.51.100.1"), "Exchange", "MailItemsAccessed"),
        m365("c1", ws - 4 * DAY_US, "carol@x.com", Some("198.51.100.1"), "Exchange", "MailItemsAccessed"),
        m365("a0", ws - 6 * DAY_US, "alice@x.com", Some("198.51.100.9"), "Exchange", "MailItemsAccessed"),
        m365("a6", ws - 6 * DAY_US, "alice@x.com", Some("2001:db8:7:7::1"), "Exchange", "MailItemsAccessed"),
        // In the window alice uses the office IP (not new to the tenant) and 203.0.113.5,
        // which bob uses two hours after her.
        signin("a1", ws + 3_600_000_000, "alice@x.com", "198.51.100.1", true),
        signin("a2", ws + 2 * 3_600_000_000, "alice@x.com", "203.0.113.5", true),
        signin("b2", ws + 4 * 3_600_000_000, "bob@x.com", "203.0.113.5", true),
        // Office for the web acting for alice from a Microsoft address: not her IP.
        file("a3", ws + 3_600_000_000, "alice@x.com", "52.232.229.242", "f", "MSWAC"),
    ];
    // carol's failed sign-ins from 203.0.113.5 before anyone (a spray) do not count.
    evs.push(signin("c-f", ws - DAY_US, "carol@x.com", "203.0.113.5", false));
    let mut sys = m365("s1", ws + 1, "sharepoint\\system", Some("203.0.113.5"), "SharePoint", "FileAccessed");
    sys.actor_type = ActorType::System;
    evs.push(sys);
    write_lake(dir.path(), &evs);
    let frame = scan(dir.path(), utc(2024, 3, 1, 0), utc(2024, 3, 15, 0)).unwrap().unwrap();
    assert_eq!(frame.height(), 10);
    let a = Activity::build(dir.path(), &frame, ws).unwrap();

    let office = a.ip(TENANT, "alice@x.com", "198.51.100.1");
    assert!(office.new_for_user);
    assert_eq!(office.prior_users.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["bob@x.com", "carol@x.com"]);
    assert_eq!(office.history_users, 2);
    let new = a.ip(TENANT, "alice@x.com", "203.0.113.5");
    assert!(new.new_for_user && new.prior_users.is_empty());
    assert_eq!(new.later_users, vec![("bob@x.com".to_string(), ws + 4 * 3_600_000_000)]);
    assert_eq!(new.user_first_us, Some(ws + 2 * 3_600_000_000));
    // For bob, alice came first; the system row does not count as a person.
    assert_eq!(a.ip(TENANT, "bob@x.com", "203.0.113.5").prior_users.len(), 1);
    assert_eq!(a.ip(TENANT, "alice@x.com", "52.232.229.242"), Novelty { new_for_user: true, ..Novelty::default() });
    assert!(!a.ip(TENANT, "alice@x.com", "198.51.100.9").new_for_user);
    // A rotated IPv6 interface id in the same /64 is not a new address.
    assert!(!a.ip(TENANT, "alice@x.com", "2001:db8:7:7:abcd::2").new_for_user);

    assert_eq!(a.people(TENANT), ["alice@x.com", "bob@x.com", "carol@x.com"]);
    assert_eq!(a.people_in_window(TENANT), ["alice@x.com", "bob@x.com"]);
    let alice = a.user(TENANT, "alice@x.com").unwrap();
    assert_eq!((alice.first_us, alice.history_events, alice.window_events), (ws - 6 * DAY_US, 2, 3));
    assert!(a.user(TENANT, "sharepoint\\system").unwrap().is_automation());
    let ua = a.user_agent(TENANT, "alice@x.com", "MSWAC");
    assert!(ua.new_for_user && ua.history_users == 0);
    // Only Microsoft partitions are read.
    assert!(scan(dir.path(), utc(2024, 1, 1, 0), utc(2024, 1, 2, 0)).unwrap().is_none());
}

/// Timing on a lake of ≈ 100k Microsoft 365 / Entra rows over 29 days (150 people: 4
/// sign-ins with their audit copies, 20 file reads and 5 mailbox reads per weekday).
/// Run with `cargo test --release --lib perf_ -- --ignored --nocapture`.
#[test]
#[ignore]
fn perf_session_and_file_runs_on_100k_rows() {
    let mut ctx = crate::analytics::testlake::Ctx::new();
    ctx.as_of = utc(2024, 3, 15, 0);
    let ws = ctx.window_start_us();
    let mut evs = Vec::new();
    for u in 0..150 {
        let who = format!("user{u}@example.com");
        let ip = format!("198.51.{}.{}", u % 4, u % 200);
        for d in 0..29 {
            let day = ws - (28 - d) * DAY_US;
            if local_slot(day, Tz::UTC).weekend {
                continue;
            }
            for k in 0..4 {
                let t = day + (8 + 2 * k) * 3_600_000_000 + u * 1_000_000;
                evs.push(signin(&format!("s{u}-{d}-{k}"), t, &who, &ip, true));
                evs.push(m365(&format!("c{u}-{d}-{k}"), t + 2_000_000, &who, Some(&ip), "AzureActiveDirectory", "UserLoggedIn"));
            }
            for k in 0..20 {
                let f = format!("https://contoso.sharepoint.com/sites/s/{}.docx", (u * 7 + d * 3 + k) % 400);
                evs.push(file(&format!("f{u}-{d}-{k}"), day + 9 * 3_600_000_000 + k * 60_000_000, &who, &ip, &f, "Mozilla/5.0"));
            }
            for k in 0..5 {
                evs.push(m365(&format!("m{u}-{d}-{k}"), day + 10 * 3_600_000_000 + k, &who, Some(&ip), "Exchange", "MailItemsAccessed"));
            }
        }
    }
    eprintln!("rows: {}", evs.len());
    write_lake(ctx.dir.path(), &evs);
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let s = crate::analytics::session_anomaly::run(&ctx.ctx()).unwrap();
        let t_s = t.elapsed();
        let t = std::time::Instant::now();
        let f = crate::analytics::file_access_anomaly::run(&ctx.ctx()).unwrap();
        eprintln!("session_anomaly {:?} ({} findings), file_access_anomaly {:?} ({} findings)", t_s, s.len(), t.elapsed(), f.len());
    }
}
