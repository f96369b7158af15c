//! Lake ingest: partitions, dedup across files and runs, manifest, quarantine, accounting.

use std::io::Write;

use super::*;
use crate::storage::Location;

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn rec(id: &str, time: &str, account: &str) -> String {
    format!(
        r#"{{"eventID":"{id}","eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"{account}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/a","accountId":"{account}"}}}}"#
    )
}

fn object(records: &[String]) -> Vec<u8> {
    gz(&format!(r#"{{"Records":[{}]}}"#, records.join(",")))
}

fn opts() -> IngestOptions {
    IngestOptions { run_uid: "r1".into(), ..Default::default() }
}

#[test]
fn ingest_partitions_dedups_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.json.gz"), object(&[rec("e1", "2024-02-29T23:59:59Z", "1"), rec("e2", "2024-03-01T00:00:01Z", "1")])).unwrap();
    // e1 again (org-trail copy) and the same id in another account (a different event).
    std::fs::write(src.join("b.json.gz"), object(&[rec("e1", "2024-02-29T23:59:59Z", "1"), rec("e1", "2024-02-29T23:59:59Z", "2")])).unwrap();
    std::fs::write(src.join("bad.json"), b"{\"Records\":[{\"eventID\":").unwrap();
    let lake_dir = dir.path().join("lake");
    let s = ingest_paths(std::slice::from_ref(&src), &lake_dir, &opts()).unwrap();
    assert_eq!((s.records_read, s.written, s.duplicates, s.quarantined, s.skipped), (5, 3, 1, 1, 0));
    assert_eq!(s.records_read, s.written + s.duplicates + s.quarantined + s.skipped);
    let mut parts = s.parts.clone();
    parts.sort();
    assert_eq!(parts, vec!["events/provider=aws/date=2024-02-29/part-r1-0000.parquet", "events/provider=aws/date=2024-03-01/part-r1-0000.parquet"]);
    let qdir = lake_dir.join("quarantine/run=r1");
    let qfile = std::fs::read_dir(&qdir).unwrap().next().unwrap().unwrap().path();
    let q = std::fs::read_to_string(qfile).unwrap();
    assert!(q.contains("\"reason\":\"invalid_json\"") && q.contains("bad.json"), "{q}");

    // Second run over the same objects: the manifest skips them all.
    let s2 = ingest_paths(std::slice::from_ref(&src), &lake_dir, &IngestOptions { run_uid: "r2".into(), ..Default::default() }).unwrap();
    assert_eq!((s2.objects_already_ingested, s2.objects_read, s2.written), (3, 0, 0));

    // Reprocessing (or a changed object) finds the rows already in the lake.
    let s3 = ingest_paths(&[src], &lake_dir, &IngestOptions { run_uid: "r3".into(), reprocess: true, ..Default::default() }).unwrap();
    assert_eq!((s3.written, s3.duplicates), (0, 4));
}

#[test]
fn parts_are_sorted_by_time_and_follow_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.json.gz"), object(&[rec("e2", "2024-03-01T10:00:00Z", "1"), rec("e1", "2024-03-01T09:00:00Z", "1")])).unwrap();
    let lake_dir = dir.path().join("lake");
    let s = ingest_paths(&[src], &lake_dir, &opts()).unwrap();
    let file = std::fs::File::open(lake_dir.join(&s.parts[0])).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    assert_eq!(batches[0].schema(), crate::schema::event_schema());
    let uids = batches[0].column_by_name("event_uid").unwrap().as_any().downcast_ref::<arrow::array::StringArray>().unwrap().clone();
    assert_eq!((uids.value(0), uids.value(1)), ("e1", "e2"));
}

#[test]
fn memory_store_skips_directory_markers() {
    let input = Location::memory();
    input.put("AWSLogs/1/CloudTrail/", Bytes::new()).unwrap();
    input.put("AWSLogs/1/CloudTrail/x.json.gz", Bytes::from(object(&[rec("e1", "2024-03-01T10:00:00Z", "1")]))).unwrap();
    let lake = Location::memory();
    let s = ingest(&[input], &lake, &opts(), &Silent).unwrap();
    assert_eq!((s.written, s.skipped, s.quarantined), (1, 1, 0));
}

/// (event_uid, account_uid, source_object file name, source_locator) of every row of the
/// lake's parts, sorted; and whether each part is in time order.
fn lake_rows(lake_dir: &Path, parts: &[String]) -> (Vec<(String, String, String, String)>, bool) {
    let mut rows = Vec::new();
    let mut sorted = true;
    for p in parts {
        let file = std::fs::File::open(lake_dir.join(p)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let mut last = i64::MIN;
        for b in reader.map(Result::unwrap) {
            let s = |n: &str| b.column_by_name(n).unwrap().as_any().downcast_ref::<arrow::array::StringArray>().unwrap().clone();
            let t = b.column_by_name("time").unwrap().as_any().downcast_ref::<arrow::array::TimestampMicrosecondArray>().unwrap().clone();
            let (u, a, o, l) = (s("event_uid"), s("account_uid"), s("source_object"), s("source_locator"));
            for i in 0..b.num_rows() {
                sorted &= t.value(i) >= last;
                last = t.value(i);
                let name = o.value(i).rsplit('/').next().unwrap().to_string();
                rows.push((u.value(i).to_string(), a.value(i).to_string(), name, l.value(i).to_string()));
            }
        }
    }
    rows.sort();
    (rows, sorted)
}

#[test]
fn large_objects_stream_into_the_writers_with_the_same_rows_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    // Two days, out of time order, a duplicate inside the object and one across objects, a
    // record without a time.
    let mut big: Vec<String> = (0..3000).map(|i| rec(&format!("e{i}"), &format!("2024-03-0{}T{:02}:{:02}:00Z", 1 + i % 2, (i * 7) % 24, i % 60), "1")).collect();
    big.push(rec("e5", "2024-03-02T05:00:00Z", "1"));
    big.insert(1500, r#"{"eventID":"nt","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#.to_string());
    std::fs::write(src.join("a.json.gz"), object(&big)).unwrap();
    std::fs::write(src.join("b.json.gz"), object(&[rec("e7", "2024-03-02T07:00:00Z", "1"), rec("x1", "2024-03-02T07:00:00Z", "2")])).unwrap();
    let run = |name: &str, o: IngestOptions| {
        let lake_dir = dir.path().join(name);
        let s = ingest_paths(std::slice::from_ref(&src), &lake_dir, &o).unwrap();
        let (rows, sorted) = lake_rows(&lake_dir, &s.parts);
        (s, rows, sorted)
    };
    let (s_worker, rows_worker, sorted_worker) = run("worker", opts());
    // Every object "large", and a budget so small that the writers flush inside the object.
    let streamed = IngestOptions { large_object_bytes: 0, memory_budget_bytes: 256 << 10, ..opts() };
    let (s_stream, rows_stream, sorted_stream) = run("stream", streamed);
    assert_eq!((s_worker.records_read, s_worker.written, s_worker.duplicates, s_worker.quarantined), (3004, 3001, 2, 1));
    let counts = |s: &IngestSummary| (s.objects_read, s.records_read, s.written, s.duplicates, s.quarantined, s.skipped);
    assert_eq!(counts(&s_stream), counts(&s_worker));
    assert_eq!(rows_stream.len(), 3001);
    assert_eq!(rows_stream, rows_worker);
    assert!(sorted_worker && sorted_stream, "every part is in time order");
    assert_eq!(s_worker.parts.len(), 2, "one part per day");
    let day1 = s_stream.parts.iter().filter(|p| p.contains("date=2024-03-01")).count();
    assert!(day1 > 1, "flushed within the object: {:?}", s_stream.parts);
    let quarantine = |name: &str| {
        let q = dir.path().join(name).join("quarantine/run=r1");
        let f = std::fs::read_dir(q).unwrap().next().unwrap().unwrap().path();
        std::fs::read_to_string(f).unwrap().replace(&dir.path().join(name).to_string_lossy().to_string(), "")
    };
    assert_eq!(quarantine("stream"), quarantine("worker"));
    assert!(quarantine("worker").contains("\"source_locator\":\"record:1500\""));
}
