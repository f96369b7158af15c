//! Tests of [`super::Location`]: stores, listing, names, options, date-range listing.

use super::*;

#[test]
fn memory_put_list_get() {
    let loc = Location::memory();
    loc.put("events/provider=aws/date=2024-01-01/part-1.parquet", Bytes::from_static(b"x")).unwrap();
    loc.put("state/manifest.jsonl", Bytes::from_static(b"y")).unwrap();
    let keys: Vec<String> = loc.list_rel("events").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, vec!["events/provider=aws/date=2024-01-01/part-1.parquet"]);
    assert_eq!(loc.get_rel("state/manifest.jsonl").unwrap().unwrap(), Bytes::from_static(b"y"));
    assert_eq!(loc.get_rel("state/missing").unwrap(), None);
}

#[test]
fn local_folder_and_single_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/c.json"), b"{}").unwrap();
    std::fs::write(dir.path().join("a/d.json"), b"{}").unwrap();
    let root = dir.path().join("a");
    let loc = Location::parse(root.to_str().unwrap(), &[]).unwrap();
    let shown: Vec<String> = loc.list().unwrap().iter().map(|m| loc.display_key(&m.location)).collect();
    assert_eq!(shown, vec![format!("{}/b/c.json", root.display()), format!("{}/d.json", root.display())]);
    let file = Location::parse(root.join("d.json").to_str().unwrap(), &[]).unwrap();
    let metas = file.list().unwrap();
    assert_eq!(metas.len(), 1);
    assert_eq!(file.display_key(&metas[0].location), root.join("d.json").display().to_string());
    assert_eq!(file.get(&metas[0].location).unwrap(), Bytes::from_static(b"{}"));
}

/// Regression: a folder holding `ünï.jsonl`, `a#b`, `plain%41` aborted with "not found"
/// because the listed key was percent-encoded and read back encoded.
#[test]
fn local_names_with_special_characters_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["ünï.jsonl", "a#b?.json", "plain%41.json", "sp ace+[1].json"];
    for n in names {
        std::fs::write(dir.path().join(n), n.as_bytes()).unwrap();
    }
    let loc = Location::parse(dir.path().to_str().unwrap(), &[]).unwrap();
    let listing = loc.list_shown().unwrap();
    assert_eq!(listing.objects.len(), 4);
    for (meta, shown) in &listing.objects {
        let name = shown.rsplit('/').next().unwrap();
        assert!(names.contains(&name), "{shown}");
        assert_eq!(loc.get(&meta.location).unwrap(), Bytes::copy_from_slice(name.as_bytes()));
    }
}

#[test]
fn unknown_scheme_is_a_config_error() {
    let err = Location::parse("ftp://x/y", &[]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    // A misspelt option is refused before any request is made.
    let opts = vec![("aws_endpiont".to_string(), "http://127.0.0.1:9".to_string())];
    let err = Location::parse("s3://bucket/prefix", &opts).unwrap_err();
    assert!(err.to_string().contains("aws_endpiont"), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err = Location::parse("/nonexistent/cloudsift/input", &[]).unwrap_err();
    assert!(err.to_string().contains("no such file or folder"), "{err}");
}

/// The keys of a CloudTrail organisation trail over three days, a GCS sink day, a key
/// outside any date folder and a digest; a one-day range lists only that day's keys (and
/// the undated one), on an object store and on a local folder alike.
#[test]
fn date_range_listing_skips_other_days_on_stores_and_folders() {
    let keys = [
        "AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2024/03/30/a.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2024/03/31/b.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2024/03/31/c.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2024/04/01/d.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2023/03/31/e.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail-Digest/eu-west-1/2024/03/31/f.json.gz",
        "cloudaudit.googleapis.com/activity/2024/03/31/00:00:00_00:59:59_S0.json",
        "README.txt",
    ];
    let day = chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
    let want = vec![
        "AWSLogs/o-1/111122223333/CloudTrail-Digest/eu-west-1/2024/03/31/f.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2024/03/31/b.json.gz",
        "AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2024/03/31/c.json.gz",
        "README.txt",
        "cloudaudit.googleapis.com/activity/2024/03/31/00:00:00_00:59:59_S0.json",
    ];
    let mem = Location::memory();
    let dir = tempfile::tempdir().unwrap();
    for k in keys {
        mem.put(k, Bytes::from_static(b"{}")).unwrap();
        let p = dir.path().join(k);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"{}").unwrap();
    }
    let local = Location::parse(dir.path().to_str().unwrap(), &[]).unwrap();
    for loc in [mem, local] {
        assert_eq!(loc.list().unwrap().len(), keys.len());
        let dated = loc.clone().with_date_range(DateRange::new(day, day));
        let got: Vec<String> = dated.list().unwrap().iter().map(|m| m.location.as_ref().to_string()).collect();
        let got: Vec<String> = got.iter().map(|k| decode_key(k)).collect();
        assert_eq!(got, want, "{loc}");
        // A location inside the year folder keeps the range too.
        let march = loc.join("AWSLogs/o-1/111122223333/CloudTrail/eu-west-1/2024/03").with_date_range(DateRange::new(day, day.succ_opt().unwrap()));
        let n: Vec<String> = march.list().unwrap().iter().map(|m| m.location.as_ref().rsplit('/').next().unwrap().to_string()).collect();
        assert_eq!(n, vec!["b.json.gz"], "{loc}");
    }
}

/// Options reach the builder of each cloud (an unknown one was refused before), and the
/// URL's path is the prefix. (The environment half of the chain is exercised against real
/// servers by `tests/it/storage.rs`, which passes the keys as `AWS_*` variables.)
#[test]
fn cloud_store_builders_take_the_options() {
    let s3 = vec![("aws_endpoint".to_string(), "http://127.0.0.1:9".to_string()), ("aws_allow_http".into(), "true".into()), ("aws_region".into(), "eu-west-1".into())];
    let (store, prefix) = cloud_store(&Url::parse("s3://bucket/AWSLogs/1").unwrap(), &s3).unwrap();
    assert_eq!(prefix.as_ref(), "AWSLogs/1");
    assert!(store.to_string().contains("bucket"), "{store}");
    let az = vec![("azure_storage_account_name".to_string(), "devstoreaccount1".to_string()), ("azure_storage_account_key".into(), "a2V5".into()), ("azure_storage_endpoint".into(), "http://127.0.0.1:9/devstoreaccount1".into()), ("azure_allow_http".into(), "true".into())];
    let (store, prefix) = cloud_store(&Url::parse("az://logs/insights-activity-logs").unwrap(), &az).unwrap();
    assert_eq!(prefix.as_ref(), "insights-activity-logs");
    assert!(store.to_string().contains("logs"), "{store}");
    // An https URL still goes through object_store's own URL parser.
    let (_, prefix) = cloud_store(&Url::parse("https://s3.eu-west-1.amazonaws.com/bucket/k").unwrap(), &s3).unwrap();
    assert_eq!(prefix.as_ref(), "k");
}
