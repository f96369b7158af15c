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
    let s = ingest_paths(&[src.clone()], &lake_dir, &opts()).unwrap();
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
    let s2 = ingest_paths(&[src.clone()], &lake_dir, &IngestOptions { run_uid: "r2".into(), ..Default::default() }).unwrap();
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
