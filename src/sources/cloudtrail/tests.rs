//! CloudTrail normaliser tests: each shape, each principal rule, and every real sample.

use std::path::{Path, PathBuf};

use crate::schema::{ActorType, Status};
use crate::sources::{collect_file, read_object, CollectSink, Locator, ReadOptions};
use crate::schema::LogFormat;

fn read(text: &str) -> CollectSink {
    let mut sink = CollectSink::default();
    let opts = ReadOptions { format: Some(LogFormat::CloudTrail), ..Default::default() };
    read_object("t.json", text.as_bytes(), &opts, &mut sink);
    sink
}

fn one(text: &str) -> crate::event::Event<'static> {
    let s = read(text);
    assert!(s.rejects.is_empty(), "{:?}", s.rejects);
    assert_eq!(s.events.len(), 1);
    s.events.into_iter().next().unwrap().0
}

#[test]
fn iam_user_with_everything() {
    let e = one(r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::123:user/bob","accountId":"123","accessKeyId":"AKIA1","userName":"bob"},"eventTime":"2023-07-10T11:42:36Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:123:trail/main"},"responseElements":null,"eventID":"e1","recipientAccountId":"123"}"#);
    assert_eq!(e.time, 1_688_989_356_000_000);
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::123:user/bob"));
    assert_eq!(e.actor_type, ActorType::IamUser);
    assert_eq!(e.actor_session_uid.as_deref(), Some("AKIA1"));
    assert_eq!(e.resource_uid.as_deref(), Some("arn:aws:cloudtrail:us-east-1:123:trail/main"));
    assert_eq!(e.src_ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(e.status, Status::Success);
    assert_eq!(e.response_elements, None);
    assert!(e.raw_event.as_deref().unwrap().contains("StopLogging"));
}

#[test]
fn assumed_role_rebuilt_from_sts_arn() {
    let e = one(r#"{"eventTime":"2024-03-06T09:20:00Z","eventID":"x","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111:assumed-role/WebServerRole/i-0f","accountId":"111","sessionContext":{"sessionIssuer":{}}}}"#);
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::111:role/WebServerRole"));
    assert_eq!(e.actor_session_uid.as_deref(), Some("i-0f"));
    assert_eq!(e.actor_name.as_deref(), Some("WebServerRole"));
}

#[test]
fn failed_console_login_and_masked_user() {
    let e = one(r#"{"eventTime":"2024-03-06T09:20:00Z","eventID":"x","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","recipientAccountId":"111","sourceIPAddress":"192.0.2.77","userIdentity":{"type":"IAMUser","accountId":"111","userName":"HIDDEN_DUE_TO_SECURITY_REASONS","principalId":"111"},"responseElements":{"ConsoleLogin":"Failure"},"errorMessage":"No username found in supplied account","requestParameters":null}"#);
    assert_eq!(e.status, Status::Failure);
    assert_eq!(e.status_raw.as_deref(), Some("Failure"));
    assert_eq!(e.error_code, None);
    assert_eq!(e.actor_uid, None);
    assert_eq!(e.actor_type, ActorType::Unknown);
    assert_eq!(e.src_ip.as_deref(), Some("192.0.2.77"));
    assert_eq!(e.request_params, None);
}

#[test]
fn lookup_events_shape_uses_inner_record() {
    let line = r#"{"EventId": "0828", "EventName": "DescribeInstances", "EventTime": "2022-02-08 09:23:37+11:00", "CloudTrailEvent": "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::012:user/u\",\"accountId\":\"012\"},\"eventTime\":\"2022-02-07T22:23:37Z\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"DescribeInstances\",\"awsRegion\":\"ap-southeast-2\",\"sourceIPAddress\":\"1.2.3.4\",\"eventID\":\"0828\",\"recipientAccountId\":\"012\"}"}"#;
    let e = one(line);
    assert_eq!(e.event_uid, "0828");
    assert_eq!(e.time, 1_644_272_617_000_000);
    assert_eq!(e.region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(e.raw_event.as_deref(), Some(line));
}

#[test]
fn logstash_timestamp_when_event_time_missing() {
    let e = one(r#"{"@timestamp":"2020-09-14T00:44:23.000Z","@version":"1","eventID":"fd","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstanceTypes","recipientAccountId":"123","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123:user/pedro","accountId":"123"}}"#);
    assert_eq!(e.time, 1_600_044_263_000_000);
}

#[test]
fn eventbridge_envelope() {
    let e = one(r#"{"version":"0","id":"ev","detail-type":"AWS API Call via CloudTrail","source":"aws.cloudtrail","account":"123","time":"2024-01-01T00:00:00Z","region":"us-east-1","detail":{"eventTime":"2024-01-01T00:00:00Z","eventID":"d1","eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","recipientAccountId":"123","userIdentity":{"type":"Root","accountId":"123"}}}"#);
    assert_eq!(e.event_uid, "d1");
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::123:root"));
}

#[test]
fn missing_time_is_quarantined_with_field() {
    let s = read(r#"{"eventID":"x","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#);
    assert_eq!(s.events.len(), 0);
    assert_eq!(s.rejects[0].0.reason, "missing_event_time");
    assert!(s.rejects[0].0.detail.contains("eventTime"));
}

#[test]
fn missing_event_id_gets_a_stable_content_id() {
    let rec = r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#;
    let a = one(rec);
    assert!(a.event_uid.starts_with("sha256:"));
    assert_eq!(a.event_uid, one(rec).event_uid);
}

#[test]
fn insights_event_has_no_actor_and_is_not_an_api_call() {
    let e = one(r#"{"Records":[{"eventVersion":"1.09","eventTime":"2024-03-04T09:55:00Z","awsRegion":"us-east-1","eventID":"i1","eventType":"AwsCloudTrailInsight","recipientAccountId":"1","insightDetails":{"state":"Start","eventSource":"iam.amazonaws.com","eventName":"ListUsers","insightType":"ApiCallRateInsight"}}]}"#);
    assert_eq!(e.actor_type, ActorType::None);
    assert_eq!(e.operation, "ApiCallRateInsight");
    assert_eq!(e.resource_uid.as_deref(), Some("iam.amazonaws.com:ListUsers"));
    assert_eq!(e.status_raw.as_deref(), Some("Start"));
}

/// Panther fixture line 110 carries `resources` as a list of Python-dict strings.
#[test]
fn wrongly_typed_nested_objects_do_not_lose_the_record() {
    let e = one(r#"{"eventTime":"2024-01-01T00:00:00Z","eventID":"r","eventSource":"iam.amazonaws.com","eventName":"AttachRolePolicy","recipientAccountId":"1","resources":["{'arn': 'x'}"],"userIdentity":"root","insightDetails":null}"#);
    assert_eq!(e.event_uid, "r");
    assert_eq!(e.actor_type, ActorType::None);
    assert_eq!(e.resource_uid, None);
}

#[test]
fn wrong_typed_scalars_do_not_lose_the_record() {
    let e = one(r#"{"eventTime":"2024-01-01T00:00:00Z","eventID":7,"eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":123456789012,"userAgent":{"x":1}}"#);
    assert_eq!(e.event_uid, "7");
    assert_eq!(e.account_uid, "123456789012");
}

fn real_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real/aws_cloudtrail");
    p.is_dir().then_some(p)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Records in a real sample, counted independently of the reader (serde_json::Value).
fn count_records(path: &Path) -> usize {
    let data = std::fs::read(path).unwrap();
    let text = if data.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&data[..]), &mut s).unwrap();
        s
    } else {
        String::from_utf8(data).unwrap()
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(a)) => a.len(),
        Ok(v) => v.get("Records").and_then(|r| r.as_array()).map_or(1, Vec::len),
        Err(_) => text.lines().filter(|l| !l.trim().is_empty()).count(),
    }
}

#[test]
fn every_real_sample_normalises_with_matching_counts() {
    let Some(dir) = real_dir() else {
        eprintln!("skipped: ../shared/data/real not present");
        return;
    };
    let mut total = 0;
    for path in files_under(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".csv") || name.starts_with("panther_") {
            continue; // derived CSV; Panther fixtures are checked apart below
        }
        let sink = collect_file(&path, &ReadOptions { format: None, ..Default::default() }).unwrap();
        assert!(sink.rejects.is_empty(), "{name}: {:?}", &sink.rejects[..sink.rejects.len().min(3)]);
        assert_eq!(sink.events.len(), count_records(&path), "{name}");
        assert!(sink.events.iter().all(|(e, _)| e.log_format == LogFormat::CloudTrail));
        total += sink.events.len();
    }
    // 2,900 invictus + 310 Stratus + 103 OTRF + 2 trailscraper + 6 plaso + 2 quota docs.
    assert_eq!(total, 3323);
}

#[test]
fn invictus_run_has_the_recorded_attack_operations() {
    let Some(dir) = real_dir() else { return };
    let mut ops = std::collections::BTreeMap::<String, usize>::new();
    for path in files_under(&dir.join("invictus_stratus_2023-07-10")) {
        for (e, loc) in collect_file(&path, &ReadOptions::default()).unwrap().events {
            assert!(matches!(loc, Locator::Record(_)));
            *ops.entry(e.operation.to_string()).or_default() += 1;
        }
    }
    assert_eq!(ops["StopLogging"], 3);
    assert_eq!(ops["DeleteTrail"], 3);
    assert_eq!(ops["GetSecretValue"], 60);
    assert_eq!(ops["GetPasswordData"], 29);
}

#[test]
fn panther_fixtures_quarantine_only_records_without_a_usable_time_name_or_account() {
    let Some(dir) = real_dir() else { return };
    for name in ["panther_rule_tests.events.jsonl", "panther_scenarios_handbuilt.events.jsonl"] {
        let path = dir.join(name);
        let sink = collect_file(&path, &ReadOptions { format: Some(LogFormat::CloudTrail), ..Default::default() }).unwrap();
        assert_eq!(sink.events.len() + sink.rejects.len(), count_records(&path), "{name}");
        for (r, loc) in &sink.rejects {
            assert!(matches!(loc, Locator::Line(_)));
            assert!(
                ["missing_event_time", "invalid_event_time", "missing_event_name", "missing_event_source", "missing_account"].contains(&r.reason),
                "{name} {loc}: {r:?}"
            );
        }
    }
}

/// Regression: one byte that is not UTF-8 on line 3 of a JSON-lines file quarantined the
/// whole file (`1 = 0 + 0 + 1 + 0`) and lost the four good records.
#[test]
fn a_bad_byte_costs_its_line_not_the_file() {
    let rec = |id: &str| format!(r#"{{"eventID":"{id}","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}}"#);
    let mut data = Vec::new();
    for id in ["a", "b"] {
        data.extend(rec(id).into_bytes());
        data.push(b'\n');
    }
    data.extend(rec("c").replace("GetObject", "Get\u{0}").into_bytes().into_iter().map(|b| if b == 0 { 0xff } else { b }));
    data.push(b'\n');
    for id in ["d", "e"] {
        data.extend(rec(id).into_bytes());
        data.push(b'\n');
    }
    let mut sink = CollectSink::default();
    read_object("t.jsonl", &data, &ReadOptions::default(), &mut sink);
    let ids: Vec<String> = sink.events.iter().map(|(e, _)| e.event_uid.to_string()).collect();
    assert_eq!(ids, ["a", "b", "d", "e"]);
    assert_eq!(sink.rejects.len(), 1);
    assert_eq!((sink.rejects[0].0.reason, sink.rejects[0].1), ("invalid_encoding", Locator::Line(3)));
}

/// UTF-8 text with a BOM re-saved as UTF-16 LE keeps the first BOM as a character; it was
/// read as a CSV header line and the record lost (found by the proptest fuzzer).
#[test]
fn a_second_byte_order_mark_inside_utf16_is_not_content() {
    let doc = "\u{feff}{\"Records\":[{\"eventTime\":\"2024-03-06T09:20:00Z\",\"eventID\":\"x\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"recipientAccountId\":\"111\",\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws:iam::111:root\",\"accountId\":\"111\"}}]}";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
    let mut sink = CollectSink::default();
    read_object("t.json", &bytes, &ReadOptions::default(), &mut sink);
    assert!(sink.rejects.is_empty(), "{:?}", sink.rejects);
    assert_eq!(sink.events.len(), 1);
    assert_eq!(sink.events[0].0.operation.as_ref(), "GetObject");
}

#[test]
fn damaged_parquet_objects_are_quarantined_as_invalid_parquet() {
    let mut sink = CollectSink::default();
    read_object("part-0.parquet", b"PAR1\x15\x04\x15\x00PAR1", &ReadOptions::default(), &mut sink);
    assert!(sink.events.is_empty());
    assert_eq!((sink.rejects[0].0.reason, sink.rejects[0].1), ("invalid_parquet", Locator::File));
}
