//! Security Lake Parquet tests: Parquet objects are built from the OCSF JSON fixtures with
//! the Security Lake table schemas (`super::super::testkit`), read through
//! [`crate::sources::read_object`], and compared with the JSON path field by field.

use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Value};

use crate::schema::LogFormat;
use crate::sources::ocsf::testkit::{parquet, security_lake_v1_schema, security_lake_v2_schema};
use crate::sources::testing::{params, run_named, Collect};

const V1_1: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ocsf/security_lake_1_1.json"));
const V1_0: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ocsf/security_lake_1_0.json"));

/// A Security Lake object key (`ext/<source>/region=/accountId=/eventDay=/…`).
const KEY: &str = "ext/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/accountId=111122223333/eventDay=20240304/a1b2.gz.parquet";

fn zstd() -> Compression {
    Compression::ZSTD(ZstdLevel::default())
}

fn read(data: &[u8], format: Option<LogFormat>) -> Collect {
    run_named(KEY, data, format)
}

/// The event the JSON path gives for `record`, minus the columns that name the source text.
fn json_event(record: &str) -> Value {
    let c = run_named("t.json", record.as_bytes(), Some(LogFormat::Ocsf));
    assert_eq!(c.events.len(), 1, "{:?}", c.rejects);
    comparable(&c.events[0])
}

fn comparable(e: &Value) -> Value {
    let mut e = e.clone();
    let m = e.as_object_mut().unwrap();
    for k in ["raw_event", "source_locator"] {
        m.remove(k);
    }
    e
}

#[test]
fn security_lake_1_0_rc2_parquet_with_unmapped_map() {
    let rec: Value = serde_json::from_str(V1_0).unwrap();
    let data = parquet(&security_lake_v1_schema(), std::slice::from_ref(&rec), zstd(), 1000);
    assert!(data.starts_with(b"PAR1"));
    for format in [None, Some(LogFormat::Ocsf)] {
        let c = read(&data, format);
        assert_eq!(c.rejects, vec![], "format {format:?}");
        let e = c.at("record:0");
        assert_eq!(e["time"], "2024-03-04T10:45:00.123000Z");
        assert_eq!(e["event_uid"], "9b2d0c1a-1111-4e2f-8a3b-abcdefabcdef");
        assert_eq!(e["provider"], "aws");
        assert_eq!(e["log_format"], "ocsf");
        // The v1 table has no `cloud.account_uid`: the account comes from the map.
        assert_eq!(e["account_uid"], "444455556666");
        assert_eq!(e["region"], "eu-west-1");
        assert_eq!((&e["actor_type"], &e["actor_uid"]), (&json!("iam_user"), &json!("arn:aws:iam::444455556666:user/bob")));
        assert_eq!((&e["actor_name"], &e["actor_session_uid"]), (&json!("bob"), &json!("AKIAEXAMPLEBOB")));
        assert_eq!(e["src_ip"], "2001:db8::5");
        assert_eq!(e["user_agent"], "[Boto3/1.34.0]");
        assert_eq!((&e["service"], &e["operation"]), (&json!("s3.amazonaws.com"), &json!("PutBucketPolicy")));
        assert_eq!((&e["status"], &e["status_raw"]), (&json!("failure"), &json!("Failure")));
        assert_eq!((&e["error_code"], &e["error_message"]), (&json!("AccessDenied"), &json!("Access Denied")));
        assert_eq!(e["resource_uid"], "arn:aws:s3:::examplebucket");
        assert_eq!(params(e), json!({"bucketName": "examplebucket", "Host": "examplebucket.s3.eu-west-1.amazonaws.com", "policy": ""}));
        // Every column but the source text agrees with the JSON record's event (whose
        // `cloud.account_uid` the v1 table does not carry, but the map gives the same).
        assert_eq!(comparable(e), json_event(V1_0.trim_end()));
        // raw_event is the row as JSON: the map as an object of strings.
        let raw: Value = serde_json::from_str(e["raw_event"].as_str().unwrap()).unwrap();
        assert_eq!(raw["unmapped"]["requestParameters.bucketName"], "examplebucket");
        assert_eq!(raw["class_uid"], 3005);
    }
}

#[test]
fn security_lake_1_1_parquet_with_time_as_int64_and_as_timestamp() {
    let rec: Value = serde_json::from_str(V1_1).unwrap();
    for time_as_timestamp in [false, true] {
        let data = parquet(&security_lake_v2_schema(time_as_timestamp), std::slice::from_ref(&rec), Compression::SNAPPY, 1000);
        let c = read(&data, None);
        assert_eq!(c.rejects, vec![]);
        let e = c.at("record:0");
        assert_eq!(e["time"], "2024-03-04T10:00:00Z", "time as timestamp: {time_as_timestamp}");
        assert_eq!(e["event_uid"], "3f1c5b2e-8a7d-4c1e-9f00-0123456789ab");
        assert_eq!((&e["provider"], &e["account_uid"], &e["region"]), (&json!("aws"), &json!("111122223333"), &json!("us-east-1")));
        assert_eq!(e["actor_type"], "assumed_role");
        assert_eq!(e["actor_uid"], "arn:aws:iam::111122223333:role/AdminRole");
        assert_eq!(e["actor_session_uid"], "alice-session");
        assert_eq!(e["actor_account_uid"], "111122223333");
        assert_eq!((&e["src_ip"], &e["user_agent"]), (&json!("198.51.100.7"), &json!("aws-cli/2.15.0")));
        assert_eq!((&e["service"], &e["operation"]), (&json!("cloudtrail.amazonaws.com"), &json!("StopLogging")));
        assert_eq!((&e["status"], &e["error_code"]), (&json!("success"), &Value::Null));
        assert_eq!(e["resource_uid"], "arn:aws:cloudtrail:us-east-1:111122223333:trail/main");
        // `api.request.data` is JSON text in the 1.1 table; `response.data` was null.
        assert_eq!(params(e), json!({"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}));
        assert_eq!(e["response_elements"], Value::Null);
        assert_eq!(comparable(e), json_event(V1_1.trim_end()));
    }
}

/// 2,500 rows in row groups of 1,000 (batches of 1,024 cross the group edge) under each
/// codec: one event per row, in order, with `record:N` the row of the object; another class
/// is skipped and a row without time quarantined, each naming its row group.
#[test]
fn row_groups_codecs_skips_and_row_rejects() {
    let base: Value = serde_json::from_str(V1_1).unwrap();
    let rows: Vec<Value> = (0..2500)
        .map(|i| {
            let mut r = base.clone();
            r["metadata"]["uid"] = json!(format!("evt-{i}"));
            r["time"] = json!(1_709_546_400_000_i64 + i);
            match i {
                1500 => r["class_uid"] = json!(4001),
                2100 => {
                    r["time"] = Value::Null;
                    r["time_dt"] = Value::Null;
                }
                _ => {}
            }
            r
        })
        .collect();
    let schema = security_lake_v2_schema(false);
    for codec in [Compression::UNCOMPRESSED, Compression::SNAPPY, Compression::GZIP(GzipLevel::default()), zstd()] {
        let data = parquet(&schema, &rows, codec, 1000);
        let groups = SerializedFileReader::new(bytes::Bytes::from(data.clone())).unwrap().metadata().num_row_groups();
        assert_eq!(groups, 3, "{codec:?}");
        let c = read(&data, None);
        assert_eq!(c.events.len(), 2498, "{codec:?}");
        assert_eq!(c.rejects, vec![(true, "not_api_activity".into(), "record:1500".into()), (false, "missing_time".into(), "record:2100".into())]);
        for i in [0usize, 999, 1000, 1023, 1024, 2499] {
            let e = c.at(&format!("record:{i}"));
            assert_eq!(e["event_uid"], format!("evt-{i}"));
            assert_eq!(e["time"], crate::event::format_time((1_709_546_400_000 + i as i64) * 1000));
        }
    }
    // The reject details name the row group (rows 1000..1999 are group 1, 2000.. group 2).
    let r = details(&parquet(&schema, &rows, zstd(), 1000), KEY, None);
    assert_eq!(r.len(), 2);
    assert!(r[0].2.starts_with("row group 1: OCSF class_uid 4001"), "{r:?}");
    assert!(r[1].2.starts_with("row group 2: field `time`"), "{r:?}");
}

/// (reason, locator, detail) of each rejection.
fn details(data: &[u8], name: &str, format: Option<LogFormat>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let opts = crate::sources::ReadOptions { format, ..Default::default() };
    struct S<'o>(&'o mut Vec<(String, String, String)>);
    impl crate::sources::Sink for S<'_> {
        fn event(&mut self, _: &crate::event::Event<'_>, _: crate::sources::Locator) {}
        fn reject(&mut self, r: &crate::sources::Reject, l: crate::sources::Locator, _: Option<&str>) {
            self.0.push((r.reason.to_string(), l.to_string(), r.detail.clone()));
        }
    }
    crate::sources::read_object(name, data, &opts, &mut S(&mut out));
    out
}

#[test]
fn corrupt_truncated_and_non_ocsf_objects_are_quarantined_by_name() {
    let rec: Value = serde_json::from_str(V1_1).unwrap();
    let good = parquet(&security_lake_v2_schema(true), std::slice::from_ref(&rec), zstd(), 1000);

    // Cut in half: the footer is gone.
    let r = details(&good[..good.len() / 2], KEY, None);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("invalid_parquet", "file"));
    assert!(r[0].2.contains(KEY) && r[0].2.contains("footer"), "{}", r[0].2);

    // A `.parquet` whose head magic was overwritten is still read as Parquet (the footer
    // holds the layout), and one that is all damage is reported as Parquet, not as text.
    let mut headless = good.clone();
    headless[..4].copy_from_slice(b"\0\0\0\0");
    assert_eq!(read(&headless, None).events.len(), 1);
    let r = details(&good[good.len() / 2..], KEY, None);
    assert_eq!((r.len(), r[0].0.as_str()), (1, "invalid_parquet"));

    // Parquet that is not OCSF (no class_uid column).
    let other = arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new("eventName", arrow::datatypes::DataType::Utf8, true)]);
    let data = parquet(&std::sync::Arc::new(other), &[json!({"eventName": "GetObject"})], zstd(), 10);
    let r = details(&data, "plain.parquet", None);
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("not_ocsf", "file"));
    assert!(r[0].2.contains("plain.parquet") && r[0].2.contains("eventName"), "{}", r[0].2);

    // A forced format other than ocsf.
    let r = details(&good, KEY, Some(LogFormat::CloudTrail));
    assert_eq!(r[0].0, "format_not_supported");
    assert!(r[0].2.contains("`cloudtrail`"), "{}", r[0].2);

    // A gzip-wrapped Parquet object is read like the plain one.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &good).unwrap();
    let c = read(&gz.finish().unwrap(), None);
    assert_eq!((c.events.len(), c.rejects.len()), (1, 0));
}

/// One damaged row group costs only its rows: the others are read and the detail names it.
#[test]
fn a_damaged_row_group_is_quarantined_and_the_others_read() {
    let base: Value = serde_json::from_str(V1_1).unwrap();
    let rows: Vec<Value> = (0..30)
        .map(|i| {
            let mut r = base.clone();
            r["metadata"]["uid"] = json!(format!("evt-{i}"));
            r
        })
        .collect();
    let mut data = parquet(&security_lake_v2_schema(false), &rows, Compression::UNCOMPRESSED, 10);
    let reader = SerializedFileReader::new(bytes::Bytes::from(data.clone())).unwrap();
    // Overwrite every column chunk of row group 1 (rows 10..20).
    for col in reader.metadata().row_group(1).columns() {
        let (start, len) = col.byte_range();
        data[start as usize..(start + len) as usize].fill(0xff);
    }
    let r = details(&data, KEY, None);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].0.as_str(), r[0].1.as_str()), ("invalid_parquet", "file"));
    assert!(r[0].2.contains("row group 1 of 3 (rows 10..20)") && r[0].2.contains(KEY), "{}", r[0].2);
    let c = read(&data, None);
    let uids: Vec<&str> = c.events.iter().map(|e| e["event_uid"].as_str().unwrap()).collect();
    let want: Vec<String> = (0..10).chain(20..30).map(|i| format!("evt-{i}")).collect();
    assert_eq!(uids, want);
    assert_eq!(c.at("record:20")["event_uid"], "evt-20");
}

#[test]
fn parquet_is_recognised_by_magic_or_name() {
    use super::is_parquet;
    assert!(is_parquet("x.json", b"PAR1\x15\x04"));
    assert!(is_parquet("a/b.gz.parquet", b"\0\0garbage"));
    assert!(is_parquet("A.PARQUET", b"junk"));
    // Text or gzip under a .parquet name is read as what it is.
    assert!(!is_parquet("a.parquet", b"  {\"class_uid\":6003}"));
    assert!(!is_parquet("a.parquet", &[0x1f, 0x8b, 8, 0]));
    assert!(!is_parquet("a.json", b"{}"));
}
