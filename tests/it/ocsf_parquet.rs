//! Amazon Security Lake OCSF Parquet end to end: real CloudTrail records, converted to OCSF
//! the way Security Lake's CloudTrail mapping does, written as Security Lake Parquet objects
//! (source version 1 / OCSF 1.0.0-rc.2 and version 2 / OCSF 1.1) beside the raw records, then
//! ingested and normalised through the binary. Skipped cleanly when
//! `../shared/data/real/aws_cloudtrail` is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use serde_json::{json, Map, Value};

use crate::{real, run};

#[path = "../../src/sources/ocsf/testkit.rs"]
mod testkit;

/// Stratus Red Team detonations: IAM users, assumed roles, an `AccessDenied`, AWS-internal
/// source addresses, several accounts and regions.
const FILES: &[&str] = &[
    "aws.defense-evasion.cloudtrail-stop.json",
    "aws.defense-evasion.organizations-leave.json",
    "aws.credential-access.secretsmanager-retrieve-secrets.json",
    "aws.credential-access.ec2-steal-instance-credentials.json",
    "aws.persistence.lambda-overwrite-code.json",
    "aws.persistence.iam-create-admin-user.json",
];

fn cloudtrail_records() -> Option<Vec<Value>> {
    let dir = real("aws_cloudtrail/stratus_detonation_logs")?;
    let mut out = Vec::new();
    for f in FILES {
        let text = std::fs::read_to_string(dir.join(f)).ok()?;
        out.extend(serde_json::from_str::<Vec<Value>>(&text).expect("a JSON array of CloudTrail records"));
    }
    Some(out)
}

fn epoch_ms(t: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t.as_str().expect("eventTime")).expect("RFC 3339").timestamp_millis()
}

/// OCSF `activity_id` from the API verb (Security Lake: Create 1, Read 2, Update 3, Delete 4).
fn activity(op: &str) -> (i64, &'static str) {
    let verb = |p: &[&str]| p.iter().any(|v| op.starts_with(v));
    if verb(&["Create", "Run", "Put", "Add"]) {
        (1, "Create")
    } else if verb(&["Get", "Describe", "List", "Lookup"]) {
        (2, "Read")
    } else if verb(&["Update", "Modify", "Stop", "Start", "Attach", "Set"]) {
        (3, "Update")
    } else if verb(&["Delete", "Remove", "Leave", "Terminate"]) {
        (4, "Delete")
    } else {
        (99, "Other")
    }
}

/// `sourceIPAddress` → (`src_endpoint.ip`, `src_endpoint.domain`): Security Lake keeps a
/// service host name (`lambda.amazonaws.com`, `AWS Internal`) as the domain.
fn endpoint(ct: &Value) -> (Value, Value) {
    let src = ct["sourceIPAddress"].as_str().unwrap_or_default();
    if src.parse::<std::net::IpAddr>().is_ok() {
        (json!(src), Value::Null)
    } else {
        (Value::Null, json!(src))
    }
}

/// A CloudTrail record as Security Lake source version 2 writes it (OCSF 1.1 API Activity).
fn to_ocsf_1_1(ct: &Value) -> Value {
    let ui = &ct["userIdentity"];
    let ms = epoch_ms(&ct["eventTime"]);
    let failed = !ct["errorCode"].is_null();
    let (ip, domain) = endpoint(ct);
    let (activity_id, activity_name) = activity(ct["eventName"].as_str().unwrap_or_default());
    let resources: Vec<Value> = ct["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| json!({"uid": r["ARN"], "owner": {"account": {"uid": r["accountId"]}}, "type": r["type"]}))
        .collect();
    let issuer = &ui["sessionContext"]["sessionIssuer"];
    json!({
        "metadata": {
            "product": {"version": ct["eventVersion"], "name": "CloudTrail", "vendor_name": "AWS", "feature": {"name": "Management"}},
            "event_code": ct["eventType"], "uid": ct["eventID"], "profiles": ["cloud", "datetime"], "version": "1.1.0"
        },
        "time": ms,
        "time_dt": ms,
        "cloud": {"region": ct["awsRegion"], "provider": "AWS", "account": {"uid": ct["recipientAccountId"]}},
        "api": {
            "response": {"error": ct["errorCode"], "message": ct["errorMessage"], "data": ct["responseElements"]},
            "operation": ct["eventName"], "version": ct["apiVersion"], "service": {"name": ct["eventSource"]},
            "request": {"data": ct["requestParameters"], "uid": ct["requestID"]}
        },
        "actor": {
            "user": {
                "type": ui["type"],
                "name": if ui["userName"].is_null() { &issuer["userName"] } else { &ui["userName"] },
                "uid": ui["arn"], "uid_alt": ui["principalId"], "account": {"uid": ui["accountId"]},
                "credential_uid": ui["accessKeyId"]
            },
            "session": {"issuer": issuer["arn"]},
            "invoked_by": ui["invokedBy"]
        },
        "http_request": {"user_agent": ct["userAgent"]},
        "src_endpoint": {"ip": ip, "domain": domain},
        "resources": resources,
        "class_name": "API Activity", "class_uid": 6003, "category_name": "Application Activity", "category_uid": 6,
        "severity_id": 1, "severity": "Informational",
        "activity_id": activity_id, "activity_name": activity_name, "type_uid": 600300 + activity_id,
        "status": if failed { "Failure" } else { "Success" }, "status_id": if failed { 2 } else { 1 },
        "unmapped": {"recipientAccountId": ct["recipientAccountId"], "eventType": ct["eventType"], "readOnly": ct["readOnly"], "managementEvent": ct["managementEvent"]}
    })
}

/// `prefix.key.sub` → text, as Security Lake version 1 flattened unmapped CloudTrail fields.
fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| flatten(&format!("{prefix}.{k}"), x, out)),
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), json!(s));
        }
        other => {
            out.insert(prefix.to_owned(), json!(other.to_string()));
        }
    }
}

/// A CloudTrail record as Security Lake source version 1 wrote it (OCSF 1.0.0-rc.2, API
/// Activity class 3005, no `cloud.account_uid`, the rest in the `unmapped` string map).
fn to_ocsf_1_0_rc2(ct: &Value) -> Value {
    let ui = &ct["userIdentity"];
    let failed = !ct["errorCode"].is_null();
    let (ip, domain) = endpoint(ct);
    let (activity_id, activity_name) = activity(ct["eventName"].as_str().unwrap_or_default());
    let mut unmapped = Map::new();
    for k in ["recipientAccountId", "eventType", "readOnly", "managementEvent"] {
        flatten(k, &ct[k], &mut unmapped);
    }
    flatten("requestParameters", &ct["requestParameters"], &mut unmapped);
    flatten("responseElements", &ct["responseElements"], &mut unmapped);
    let resources: Vec<Value> = ct["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| json!({"uid": r["ARN"], "account_uid": r["accountId"], "type": r["type"]}))
        .collect();
    json!({
        "metadata": {"product": {"version": ct["eventVersion"], "name": "CloudTrail", "vendor_name": "AWS"}, "uid": ct["eventID"], "version": "1.0.0-rc.2"},
        "time": epoch_ms(&ct["eventTime"]),
        "cloud": {"region": ct["awsRegion"], "provider": "AWS"},
        "api": {"response": {"error": ct["errorCode"], "message": ct["errorMessage"]}, "operation": ct["eventName"], "service": {"name": ct["eventSource"]}, "request": {"uid": ct["requestID"]}},
        "resources": resources,
        "actor": {
            "user": {"type": ui["type"], "name": ui["userName"], "uid": ui["principalId"], "uuid": ui["arn"], "account_uid": ui["accountId"], "credential_uid": ui["accessKeyId"]},
            "session": {"issuer": ui["sessionContext"]["sessionIssuer"]["arn"]},
            "invoked_by": ui["invokedBy"]
        },
        "http_request": {"user_agent": ct["userAgent"]},
        "src_endpoint": {"ip": ip, "domain": domain},
        "class_name": "API Activity", "class_uid": 3005, "category_name": "Audit Activity", "category_uid": 3,
        "activity_id": activity_id, "activity_name": activity_name, "type_uid": 300500 + activity_id,
        "status": if failed { "Failure" } else { "Success" },
        "unmapped": unmapped
    })
}

/// Writes the raw records and both Security Lake copies under `root`, one object per
/// (source version, region, account) as Security Lake partitions them. Returns the paths
/// of the raw file and of every Parquet object.
fn write_inputs(root: &Path, records: &[Value]) -> (PathBuf, Vec<PathBuf>) {
    let raw = root.join("cloudtrail/records.json");
    std::fs::create_dir_all(raw.parent().unwrap()).unwrap();
    std::fs::write(&raw, json!({ "Records": records }).to_string()).unwrap();
    let mut parts: BTreeMap<(String, String, String), Vec<&Value>> = BTreeMap::new();
    for r in records {
        let day = r["eventTime"].as_str().unwrap()[..10].replace('-', "");
        let key = (r["awsRegion"].as_str().unwrap().to_owned(), r["recipientAccountId"].as_str().unwrap().to_owned(), day);
        parts.entry(key).or_default().push(r);
    }
    let mut objects = Vec::new();
    for ((region, account, day), recs) in parts {
        let v2: Vec<Value> = recs.iter().map(|r| to_ocsf_1_1(r)).collect();
        let v1: Vec<Value> = recs.iter().map(|r| to_ocsf_1_0_rc2(r)).collect();
        let dir = |v: &str| root.join(format!("ext/CLOUD_TRAIL_MGMT/{v}/region={region}/accountId={account}/eventDay={day}"));
        let files = [
            (dir("2.0").join("5c1f0e.gz.parquet"), testkit::parquet(&testkit::security_lake_v2_schema(true), &v2, Compression::GZIP(GzipLevel::default()), 8)),
            (dir("1.0").join("a7d2b9.parquet"), testkit::parquet(&testkit::security_lake_v1_schema(), &v1, Compression::ZSTD(ZstdLevel::default()), 8)),
        ];
        for (path, data) in files {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, data).unwrap();
            objects.push(path);
        }
    }
    (raw, objects)
}

/// `(event_uid, log_format)` of every row under `lake/events`.
fn lake_rows(lake: &Path) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for entry in walkdir::WalkDir::new(lake.join("events")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(entry.path()).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = |name: &str| arrow::compute::cast(batch.column_by_name(name).unwrap(), &arrow::datatypes::DataType::Utf8).unwrap();
            let (uid, format) = (col("event_uid"), col("log_format"));
            let (uid, format) = (uid.as_any().downcast_ref::<arrow::array::StringArray>().unwrap(), format.as_any().downcast_ref::<arrow::array::StringArray>().unwrap());
            rows.extend((0..batch.num_rows()).map(|i| (uid.value(i).to_owned(), format.value(i).to_owned())));
        }
    }
    rows
}

/// DESIGN.md dedup rule across sources: the raw CloudTrail records, their Security Lake
/// 1.1 copies (`*.gz.parquet`) and their 1.0-rc.2 copies (`*.parquet`), ingested into one
/// lake, keep one row each; the raw record, first in sorted key order, is the one kept.
#[test]
fn security_lake_parquet_and_raw_cloudtrail_keep_one_row_each() {
    let Some(records) = cloudtrail_records() else { return };
    let n = records.len();
    assert!(n >= 30, "{n} records");
    let dir = tempfile::tempdir().unwrap();
    let (_, objects) = write_inputs(&dir.path().join("in"), &records);
    assert!(objects.len() >= 8, "several regions / accounts: {objects:?}");
    let lake = dir.path().join("lake");
    let out = run(&["ingest", dir.path().join("in").to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--summary-json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["records_read"].as_u64(), Some(3 * n as u64), "{s}");
    assert_eq!((s["written"].as_u64(), s["duplicates"].as_u64()), (Some(n as u64), Some(2 * n as u64)), "{s}");
    assert_eq!((s["quarantined"].as_u64(), s["skipped"].as_u64()), (Some(0), Some(0)), "{s}");

    let rows = lake_rows(&lake);
    assert_eq!(rows.len(), n);
    let uids: std::collections::BTreeSet<&str> = rows.iter().map(|(u, _)| u.as_str()).collect();
    let want: std::collections::BTreeSet<&str> = records.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    assert_eq!(uids, want);
    assert!(rows.iter().all(|(_, f)| f == "cloudtrail"), "{rows:?}");
}

fn normalize(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = run(&[&["normalize"], args].concat());
    let events = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), events, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `cloudsift normalize` on Security Lake objects (auto-detected and `--format ocsf`) gives,
/// for every real record, the columns the raw CloudTrail record gives.
#[test]
fn normalize_reads_security_lake_parquet_like_the_raw_records() {
    let Some(records) = cloudtrail_records() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (raw, objects) = write_inputs(dir.path(), &records);
    let (code, raw_events, err) = normalize(&[raw.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let by_uid: BTreeMap<String, &Value> = raw_events.iter().map(|e| (e["event_uid"].as_str().unwrap().to_owned(), e)).collect();
    assert_eq!(by_uid.len(), records.len());
    let columns = [
        "time", "provider", "account_uid", "region", "actor_type", "actor_uid", "actor_name", "actor_session_uid",
        "actor_account_uid", "src_ip", "src_host", "user_agent", "service", "operation", "status", "error_code",
    ];
    for (i, object) in objects.iter().enumerate() {
        let format: &[&str] = if i % 2 == 0 { &[] } else { &["--format", "ocsf"] };
        let (code, events, err) = normalize(&[&[object.to_str().unwrap()], format].concat());
        assert_eq!(code, Some(0), "{}: {err}", object.display());
        assert!(!events.is_empty());
        for (row, e) in events.iter().enumerate() {
            assert_eq!(e["log_format"], "ocsf");
            assert_eq!(e["source_locator"], format!("record:{row}"));
            let twin = by_uid[e["event_uid"].as_str().unwrap()];
            for c in columns {
                assert_eq!(e[c], twin[c], "{c} of {} in {}", e["event_uid"], object.display());
            }
        }
    }
}

/// A truncated Security Lake object is quarantined with a reason naming it; the objects
/// beside it are read and the run ends with exit code 3.
#[test]
fn normalize_quarantines_a_truncated_parquet_object() {
    let Some(records) = cloudtrail_records() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (_, objects) = write_inputs(&dir.path().join("in"), &records[..3]);
    let cut = &objects[0];
    let data = std::fs::read(cut).unwrap();
    std::fs::write(cut, &data[..data.len() * 2 / 3]).unwrap();
    let q = dir.path().join("q.jsonl");
    let (code, events, err) = normalize(&[dir.path().join("in").to_str().unwrap(), "--quarantine-out", q.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{err}");
    // The raw records are read first; the other Parquet copies are duplicates of them.
    assert_eq!(events.len(), 3);
    let lines: Vec<Value> = std::fs::read_to_string(&q).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((&lines[0]["kind"], &lines[0]["reason"], &lines[0]["source_locator"]), (&json!("quarantined"), &json!("invalid_parquet"), &json!("file")));
    let name = cut.file_name().unwrap().to_str().unwrap();
    assert!(lines[0]["source_object"].as_str().unwrap().ends_with(name), "{}", lines[0]);
    assert!(lines[0]["detail"].as_str().unwrap().contains(name), "{}", lines[0]);
    assert!(err.contains("invalid_parquet"), "{err}");
}
