//! Ingest through the CLI into a lake: counts, idempotency, partitions.

use crate::{real, run, samples};

#[test]
fn ingest_bundled_samples_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let input = samples("aws_cloudtrail");
    let out = run(&["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--summary-json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 2,900 invictus + 310 Stratus + 103 OTRF + 2 trailscraper + 6 plaso + 2 quota docs.
    assert_eq!(s["records_read"], 3323);
    assert_eq!(s["written"].as_u64().unwrap() + s["duplicates"].as_u64().unwrap(), 3323);
    assert_eq!(s["quarantined"], 0);
    assert!(lake.join("events/provider=aws/date=2023-07-10").is_dir());

    let out = run(&["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--summary-json", "-q"]);
    let s2: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s2["objects_read"].as_u64(), s2["written"].as_u64()), (Some(0), Some(0)));
    assert_eq!(s2["objects_already_ingested"], s["objects_listed"]);
}

#[test]
fn real_cloudtrail_folder_has_no_quarantine_outside_fixtures() {
    let Some(dir) = real("aws_cloudtrail/invictus_stratus_2023-07-10") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&["ingest", dir.to_str().unwrap(), "--lake", tmp.path().join("lake").to_str().unwrap(), "--summary-json", "-q"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s["records_read"].as_u64(), s["written"].as_u64(), s["quarantined"].as_u64()), (Some(2900), Some(2900), Some(0)));
}
