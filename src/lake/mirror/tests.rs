use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
}

fn ev(provider: &str, d: u32, part: &str) -> String {
    format!("events/provider={provider}/date={}/part-{part}.parquet", day(d))
}

fn prof(d: u32, file: &str) -> String {
    format!("{STORE_DIR}/date={}/{file}", day(d))
}

fn put(lake: &Location, key: &str, text: &str) {
    lake.put(key, Bytes::from(text.to_string())).unwrap();
}

/// Keys below `dir` of the mirror, sorted.
fn local(m: &Mirror, dir: &str) -> Vec<String> {
    let mut k = local_keys(m.root(), &m.root().join(dir));
    k.sort();
    k
}

fn remote(lake: &Location, dir: &str) -> Vec<String> {
    lake.list_rel(dir).unwrap().into_iter().map(|(k, _)| k).collect()
}

/// A remote lake: events of 1-5 March on two providers, profiles of the 2nd and 3rd, a
/// findings file of the 3rd.
fn lake() -> Location {
    let lake = Location::memory();
    for d in 1..=5 {
        put(&lake, &ev("aws", d, "r1-0"), &format!("aws {d}"));
        put(&lake, &ev("azure", d, "r1-0"), &format!("azure {d}"));
    }
    for d in [2, 3] {
        put(&lake, &prof(d, "operations.parquet"), "ops");
        put(&lake, &prof(d, MARKER), &format!("marker {d}"));
    }
    put(&lake, "findings/date=2024-03-03/part-a.parquet", "f3");
    lake
}

#[test]
fn pull_copies_the_range_then_only_what_changed() {
    let cache = tempfile::tempdir().unwrap();
    let lake = lake();
    let mut m = Mirror::open(&lake, cache.path()).unwrap();
    let first = m.pull(day(2)..=day(4)).unwrap();
    let want: Vec<String> = [2, 3, 4].iter().flat_map(|d| [ev("aws", *d, "r1-0"), ev("azure", *d, "r1-0")]).collect::<BTreeSet<_>>().into_iter().collect();
    assert_eq!(local(&m, "events"), want);
    assert_eq!(local(&m, STORE_DIR), vec![prof(2, MARKER), prof(2, "operations.parquet"), prof(3, MARKER), prof(3, "operations.parquet")]);
    assert_eq!(local(&m, "findings"), vec!["findings/date=2024-03-03/part-a.parquet".to_string()]);
    assert_eq!(std::fs::read_to_string(m.root().join(ev("aws", 3, "r1-0"))).unwrap(), "aws 3");
    assert_eq!((first.downloaded, first.current, first.deleted), (6 + 4 + 1, 0, 0));

    // Nothing changed: nothing downloaded, also by a new Mirror reading mirror.json.
    let mut m = Mirror::open(&lake, cache.path()).unwrap();
    let again = m.pull(day(2)..=day(4)).unwrap();
    assert_eq!((again.downloaded, again.current, again.deleted), (0, 11, 0));

    // A new part, a compacted-away part, a rewritten findings file of the same size (new
    // ETag) and a rebuilt profile day: exactly those are copied or deleted.
    put(&lake, &ev("aws", 3, "r2-0"), "aws 3 late");
    lake.delete(&ev("azure", 4, "r1-0")).unwrap();
    put(&lake, "findings/date=2024-03-03/part-a.parquet", "F3");
    put(&lake, &prof(2, MARKER), "marker 2b");
    let third = m.pull(day(2)..=day(4)).unwrap();
    assert_eq!((third.downloaded, third.deleted), (1 + 1 + 2, 1));
    assert!(!m.root().join(ev("azure", 4, "r1-0")).exists());
    assert_eq!(std::fs::read_to_string(m.root().join("findings/date=2024-03-03/part-a.parquet")).unwrap(), "F3");
    assert_eq!(std::fs::read_to_string(m.root().join(prof(2, MARKER))).unwrap(), "marker 2b");

    // A local profile file rewritten (same size) by a run that died before pushing it is
    // not the remote one: the pull restores the store's copy.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(m.root().join(prof(3, "operations.parquet")), "OPS").unwrap();
    let fourth = m.pull(day(2)..=day(4)).unwrap();
    assert_eq!(fourth.downloaded, 2, "the day's table and marker");
    assert_eq!(std::fs::read_to_string(m.root().join(prof(3, "operations.parquet"))).unwrap(), "ops");
}

#[test]
fn pushes_rebuilt_and_deleted_profile_days_and_findings() {
    let cache = tempfile::tempdir().unwrap();
    let lake = lake();
    let mut m = Mirror::open(&lake, cache.path()).unwrap();
    m.pull(day(2)..=day(4)).unwrap();
    assert_eq!(m.push_profiles().unwrap(), (0, 0), "nothing rebuilt, nothing pushed");

    // As profiles::store::update would: day 3 rebuilt, day 4 built, day 2 forgotten.
    let root = m.root().to_path_buf();
    std::fs::write(root.join(prof(3, "operations.parquet")), "ops v2").unwrap();
    std::fs::write(root.join(prof(3, MARKER)), "marker 3 v2").unwrap();
    std::fs::create_dir_all(root.join(prof(4, ""))).unwrap();
    std::fs::write(root.join(prof(4, "operations.parquet")), "ops 4").unwrap();
    std::fs::write(root.join(prof(4, MARKER)), "marker 4").unwrap();
    std::fs::remove_dir_all(root.join(prof(2, ""))).unwrap();
    assert_eq!(m.push_profiles().unwrap(), (2, 1));
    assert_eq!(remote(&lake, STORE_DIR), vec![prof(3, MARKER), prof(3, "operations.parquet"), prof(4, MARKER), prof(4, "operations.parquet")]);
    assert_eq!(lake.get_rel(&prof(3, MARKER)).unwrap().unwrap(), Bytes::from_static(b"marker 3 v2"));

    // As findings::write_findings would: day 3's findings merged into day 4's file.
    let f4 = root.join("findings/date=2024-03-04/part-b.parquet");
    std::fs::create_dir_all(f4.parent().unwrap()).unwrap();
    std::fs::write(&f4, "f4").unwrap();
    std::fs::remove_file(root.join("findings/date=2024-03-03/part-a.parquet")).unwrap();
    assert_eq!(m.push_findings(std::slice::from_ref(&f4)).unwrap(), (1, 1));
    assert_eq!(remote(&lake, "findings"), vec!["findings/date=2024-03-04/part-b.parquet".to_string()]);
    assert!(m.push_findings(&[PathBuf::from("/elsewhere/x.parquet")]).is_err());

    // What was pushed is known: the next pull downloads nothing.
    let mut m = Mirror::open(&lake, cache.path()).unwrap();
    let s = m.pull(day(2)..=day(4)).unwrap();
    assert_eq!((s.downloaded, s.deleted), (0, 0));
}

#[test]
fn mirror_folder_is_per_lake_url() {
    let root = Path::new("/cache");
    assert_eq!(mirror_dir(root, "s3://b/lake"), mirror_dir(root, "s3://b/lake/"));
    assert_ne!(mirror_dir(root, "s3://b/lake"), mirror_dir(root, "s3://b/lake2"));
    assert!(mirror_dir(root, "s3://b/lake").starts_with("/cache/lakes"));
    assert_eq!(mirror_dir(root, "s3://b/lake").file_name().unwrap().len(), 16);
}
