//! The profile store beside the lake, end to end: built by `run`, rebuilt only for the days
//! whose events changed, never counting a day twice.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, Int64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::run;

/// Rows per `date=` folder of the lake's events.
fn event_rows(lake: &Path) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(lake.join("events")).into_iter().filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "parquet") {
            let date = p.parent().unwrap().file_name().unwrap().to_string_lossy().trim_start_matches("date=").to_string();
            let r = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
            *out.entry(date).or_default() += r.metadata().file_metadata().num_rows();
        }
    }
    out
}

/// Sum of `n` of each day's operations table.
fn profiled_rows(lake: &Path) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(lake.join("profiles")).unwrap() {
        let dir = e.unwrap().path();
        let date = dir.file_name().unwrap().to_string_lossy().trim_start_matches("date=").to_string();
        assert!(dir.join("_built.json").is_file(), "{} has no marker", dir.display());
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(dir.join("operations.parquet")).unwrap()).unwrap().build().unwrap();
        let mut n = 0;
        for batch in reader {
            let batch = batch.unwrap();
            let col = batch.column_by_name("n").unwrap().as_any().downcast_ref::<Int64Array>().unwrap();
            n += (0..col.len()).map(|i| col.value(i)).sum::<i64>();
        }
        out.insert(date, n);
    }
    out
}

fn summary(p: &Path) -> serde_json::Value {
    let out = run(&["run", p.to_str().unwrap(), "--as-of", "2024-04-01T00:00:00Z", "--summary-json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A generated week of an organisation trail with one day's objects delivered late: the
/// first run profiles every day it has, a re-run rebuilds nothing, and the late objects
/// rebuild (and re-score) only the days their events belong to, each counted once.
#[test]
fn late_objects_rebuild_only_their_days_and_nothing_is_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path().join("gen");
    let out = run(&["generate", "--out", gen.to_str().unwrap(), "--days", "7", "--end", "2024-03-31", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // CloudTrail's delivery folders: AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD.
    let late: Vec<std::path::PathBuf> = walkdir::WalkDir::new(gen.join("AWSLogs"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && e.path().ends_with("2024/03/28"))
        .map(|e| e.into_path())
        .collect();
    assert!(!late.is_empty());
    let held = dir.path().join("held");
    for (i, d) in late.iter().enumerate() {
        std::fs::create_dir_all(held.join(i.to_string())).unwrap();
        std::fs::rename(d, held.join(i.to_string()).join("28")).unwrap();
    }
    let p = dir.path().join("p.toml");
    std::fs::write(&p, "[[sources]]\nname = 'org'\nurl = 'gen/AWSLogs'\nformat = 'cloudtrail'\n[lake]\nurl = 'lake'\n").unwrap();
    let lake = dir.path().join("lake");

    let first = summary(&p);
    let days_before = event_rows(&lake);
    assert_eq!(first["profile_days_built"].as_u64(), Some(days_before.len() as u64), "{first}");
    assert_eq!(profiled_rows(&lake), days_before);
    let built_28 = lake.join("profiles/date=2024-03-28/_built.json");
    let marker_before = std::fs::read_to_string(&built_28).ok();

    let again = summary(&p);
    assert_eq!((again["objects_read"].as_u64(), again["profile_days_built"].as_u64(), again["days_scored"].as_u64()), (Some(0), Some(0), Some(0)), "{again}");

    for (i, d) in late.iter().enumerate() {
        std::fs::rename(held.join(i.to_string()).join("28"), d).unwrap();
    }
    let third = summary(&p);
    let days_after = event_rows(&lake);
    let changed: Vec<&String> = days_after.keys().filter(|d| days_before.get(*d) != days_after.get(*d)).collect();
    assert!(changed.iter().any(|d| d.as_str() == "2024-03-28"), "{changed:?}");
    assert_eq!(third["profile_days_built"].as_u64(), Some(changed.len() as u64), "only the changed days: {changed:?} {third}");
    assert_eq!(third["days_scored"].as_u64(), Some(changed.len() as u64), "{third}");
    assert_eq!(profiled_rows(&lake), days_after, "each day's profile counts its events once");
    assert_ne!(std::fs::read_to_string(&built_28).ok(), marker_before);
}
