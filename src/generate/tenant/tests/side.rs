//! The side tables (`directory.csv`, `change_requests.csv`), the benign look-alikes and
//! the volume per weekday at both scales.
use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use super::super::people::{self, Tenant, HOTEL_IP};
use super::{actor, day_num, end, events, gen};
use crate::event::Event;

#[test]
fn directory_and_change_requests_parse() {
    let (dir, _, _) = gen(30, 7, 0.05, end());
    let mut r = csv::Reader::from_path(dir.path().join("directory.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["user_principal_name", "time_zone", "peer_group"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 30);
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        assert!(row[0].ends_with("@fabrikam-sift.com") && row[0] == row[0].to_lowercase());
        row[1].parse::<chrono_tz::Tz>().unwrap();
        *groups.entry(row[2].to_string()).or_default() += 1;
    }
    assert_eq!(
        groups.into_iter().collect::<Vec<_>>(),
        [
            ("Engineering".into(), 9),
            ("Finance".into(), 6),
            ("HR".into(), 3),
            ("IT".into(), 4),
            ("Sales".into(), 8)
        ]
    );

    let evs = events(dir.path());
    let mut r = csv::Reader::from_path(dir.path().join("change_requests.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["ticket_id", "actor", "target", "start", "end"]
    );
    let tickets: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(tickets.len(), 3);
    let ca: Vec<&Event<'_>> = evs
        .iter()
        .filter(|e| e.service == "Conditional Access")
        .collect();
    assert_eq!(ca.len(), 5, "three planned changes and two attacks");
    for k in &tickets {
        let (start, stop) = (
            chrono::DateTime::parse_from_rfc3339(&k[3])
                .unwrap()
                .timestamp_micros(),
            chrono::DateTime::parse_from_rfc3339(&k[4])
                .unwrap()
                .timestamp_micros(),
        );
        assert!(start < stop);
        let covered: Vec<_> = ca
            .iter()
            .filter(|e| {
                actor(e) == &k[1]
                    && e.resource_uid.as_deref() == Some(&k[2])
                    && (start..=stop).contains(&e.time)
            })
            .collect();
        assert_eq!(covered.len(), 1, "ticket {} covers one change", &k[0]);
    }
}

#[test]
fn benign_look_alikes_are_there() {
    let (dir, _, _) = gen(30, 7, 0.05, end());
    let evs = events(dir.path());
    let t = Tenant::build(7, 0.05, day_num(end()) - 29, day_num(end()));
    let day_of = |us: i64| us.div_euclid(86_400_000_000);
    // The new employee: nothing before the first day, then peer-like, from the office only.
    let newcomer = &t.people[t.newcomer as usize];
    let theirs: Vec<&Event<'_>> = evs.iter().filter(|e| actor(e) == newcomer.upn).collect();
    let first_day = theirs.iter().map(|e| day_of(e.time)).min().unwrap();
    assert_eq!(
        first_day, newcomer.active.0,
        "no history before the first day"
    );
    assert!(theirs
        .iter()
        .all(|e| e.src_ip.as_deref() == Some(people::OFFICES[newcomer.office as usize].egress)));
    assert!(
        theirs
            .iter()
            .filter(|e| e.service == "SharePoint" || e.service == "OneDrive")
            .count()
            >= 40
    );
    // The traveller: the hotel address on two days only, used by nobody else.
    let hotel: Vec<&Event<'_>> = evs
        .iter()
        .filter(|e| e.src_ip.as_deref() == Some(HOTEL_IP))
        .collect();
    assert!(hotel.len() > 20);
    assert!(hotel
        .iter()
        .all(|e| actor(e) == t.people[t.traveller as usize].upn
            && t.travel_days.contains(&day_of(e.time))));
    // Month-end: the whole Finance group reads about three times as many files.
    let finance: HashSet<&str> = t
        .people
        .iter()
        .filter(|p| p.dept == people::Dept::Finance)
        .map(|p| p.upn.as_str())
        .collect();
    let files_on = |days: &[i64]| {
        evs.iter()
            .filter(|e| {
                finance.contains(actor(e))
                    && e.service != "Exchange"
                    && e.operation.starts_with("File")
                    && days.contains(&day_of(e.time))
            })
            .count() as f64
            / days.len() as f64
    };
    let d = |s: &str| day_num(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
    let peak = files_on(&[d("2024-03-27"), d("2024-03-28"), d("2024-03-29")]);
    let usual = files_on(&[
        d("2024-03-12"),
        d("2024-03-13"),
        d("2024-03-14"),
        d("2024-03-19"),
        d("2024-03-20"),
        d("2024-03-21"),
    ]);
    assert!(
        peak > 2.2 * usual && usual > 50.0,
        "peak {peak}/day vs {usual}/day"
    );
    // Internal forwarding by an admin on a colleague's mailbox, and by a user's rule.
    let internal: Vec<Vec<String>> = evs
        .iter()
        .filter(|e| matches!(e.operation.as_ref(), "Set-Mailbox" | "New-InboxRule"))
        .map(|e| {
            crate::sources::m365::forwarding_targets(e.request_params.as_deref().unwrap_or("{}"))
        })
        .filter(|t| !t.is_empty())
        .collect();
    assert!(
        internal
            .iter()
            .filter(|t| t[0].ends_with("@fabrikam-sift.com"))
            .count()
            >= 3
    );
    // The backup's nightly sweep: thousands × scale distinct files, by an application.
    let backup = evs.iter().filter(|e| actor(e) == "app@sharepoint").count();
    assert!(backup > 30 * 90, "{backup}");
}

#[test]
fn volume_per_weekday_at_both_scales() {
    for (scale, range) in [(1.0, 5_000.0..10_000.0), (0.05, 700.0..2_000.0)] {
        // Wednesday 2024-03-13 and Thursday 2024-03-14.
        let (dir, s, _) = gen(2, 7, scale, NaiveDate::from_ymd_opt(2024, 3, 14).unwrap());
        let per_day = (s.m365_records + s.entra_records) as f64 / 2.0;
        assert!(
            range.contains(&per_day),
            "scale {scale}: {per_day} records per weekday"
        );
        if scale < 0.1 {
            // People's own activity does not vanish at small scale.
            let evs = events(dir.path());
            for p in &Tenant::build(7, scale, 0, 0).people {
                let n = evs.iter().filter(|e| actor(e) == p.upn).count();
                if p.handle != "jordan.reyes" && p.handle != "tom.becker" {
                    assert!(n >= 15, "{}: {n} records in two weekdays", p.handle);
                }
            }
        }
    }
}

#[test]
fn generate_refuses_a_folder_with_tenant_logs() {
    let dir = tempfile::tempdir().unwrap();
    let opts = super::super::super::GenerateOptions {
        days: 1,
        scale: 0.02,
        ..super::super::super::GenerateOptions::new(dir.path())
    };
    let s = super::super::super::generate(&opts, &|_| {}).unwrap();
    assert!(s.tenant.m365_records > 0 && s.tenant.entra_records > 0 && s.events > 0);
    assert_eq!(s.attacks, 23, "seven AWS, six tenant and ten Azure / GCP labels");
    // Without the AWS logs, the tenant's folders alone still make the folder taken.
    std::fs::remove_dir_all(dir.path().join("AWSLogs")).unwrap();
    assert!(matches!(
        super::super::super::generate(&opts, &|_| {}),
        Err(crate::Error::Config { .. })
    ));
    std::fs::remove_dir_all(dir.path().join("Microsoft365")).unwrap();
    assert!(
        super::super::super::generate(&opts, &|_| {}).is_err(),
        "EntraID/ too"
    );
}
