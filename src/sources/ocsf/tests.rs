//! OCSF normaliser tests on the hand-written fixtures of `tests/fixtures/ocsf/`.

use serde_json::{json, Value};

use super::Ocsf;
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};
use crate::sources::testing::{params, run_bytes};
use crate::sources::{cloudtrail::CloudTrail, NormaliseOptions, Normaliser};

const V1_1: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ocsf/security_lake_1_1.json"));
const V1_0: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ocsf/security_lake_1_0.json"));
const MIXED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ocsf/mixed.jsonl"));

/// The raw CloudTrail record that `security_lake_1_1.json` is the Security Lake copy of.
const CLOUDTRAIL_TWIN: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:alice-session","arn":"arn:aws:sts::111122223333:assumed-role/AdminRole/alice-session","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID","arn":"arn:aws:iam::111122223333:role/AdminRole","accountId":"111122223333","userName":"AdminRole"}}},"eventTime":"2024-03-04T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:111122223333:trail/main"},"responseElements":null,"eventID":"3f1c5b2e-8a7d-4c1e-9f00-0123456789ab","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;

fn one<'a>(n: &dyn Normaliser, record: &'a str) -> Event<'a> {
    let mut out = Vec::new();
    n.normalise(record, &NormaliseOptions { keep_raw: true }, &mut out).expect("record normalises");
    assert_eq!(out.len(), 1);
    out.pop().unwrap()
}

#[test]
fn security_lake_1_1_record() {
    let e = one(&Ocsf, V1_1.trim_end());
    assert_eq!(e.time, 1_709_546_400_000_000);
    assert_eq!(e.event_uid, "3f1c5b2e-8a7d-4c1e-9f00-0123456789ab");
    assert_eq!(e.provider, Provider::Aws);
    assert_eq!(e.log_format, LogFormat::Ocsf);
    assert_eq!(e.account_uid, "111122223333");
    assert_eq!(e.region.as_deref(), Some("us-east-1"));
    assert_eq!(e.actor_account_uid.as_deref(), Some("111122223333"));
    assert_eq!(e.src_ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(e.src_host, None);
    assert_eq!(e.user_agent.as_deref(), Some("aws-cli/2.15.0"));
    assert_eq!(e.service, "cloudtrail.amazonaws.com");
    assert_eq!(e.operation, "StopLogging");
    assert_eq!(e.status, Status::Success);
    assert_eq!(e.status_raw.as_deref(), Some("Success"));
    assert_eq!((e.error_code.as_deref(), e.error_message.as_deref()), (None, None));
    assert_eq!(e.resource_uid.as_deref(), Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/main"));
    assert_eq!(
        serde_json::from_str::<Value>(e.request_params.as_deref().unwrap()).unwrap(),
        json!({"name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"})
    );
    // `api.response.data: null` stays NULL.
    assert_eq!(e.response_elements, None);
    assert_eq!(e.raw_event.as_deref(), Some(V1_1.trim_end()));
}

#[test]
fn assumed_role_uses_session_issuer_and_session_name() {
    let e = one(&Ocsf, V1_1.trim_end());
    assert_eq!(e.actor_type, ActorType::AssumedRole);
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::111122223333:role/AdminRole"));
    assert_eq!(e.actor_name.as_deref(), Some("AdminRole"));
    assert_eq!(e.actor_session_uid.as_deref(), Some("alice-session"));

    // No issuer: the role ARN is rebuilt from the STS ARN; session name from it too.
    let rec = V1_1.replace(r#","issuer":"arn:aws:iam::111122223333:role/AdminRole""#, "");
    assert!(!rec.contains("\"issuer\""));
    let e = one(&Ocsf, rec.trim_end());
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::111122223333:role/AdminRole"));
    assert_eq!(e.actor_session_uid.as_deref(), Some("alice-session"));
}

#[test]
fn security_lake_1_0_record_with_flattened_unmapped() {
    let e = one(&Ocsf, V1_0.trim_end());
    assert_eq!(e.time, 1_709_549_100_123_000);
    assert_eq!(crate::event::format_time(e.time), "2024-03-04T10:45:00.123000Z");
    assert_eq!(e.event_uid, "9b2d0c1a-1111-4e2f-8a3b-abcdefabcdef");
    assert_eq!(e.provider, Provider::Aws);
    assert_eq!(e.account_uid, "444455556666");
    assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    assert_eq!(e.actor_type, ActorType::IamUser);
    assert_eq!(e.actor_uid.as_deref(), Some("arn:aws:iam::444455556666:user/bob"));
    assert_eq!(e.actor_name.as_deref(), Some("bob"));
    assert_eq!(e.actor_session_uid.as_deref(), Some("AKIAEXAMPLEBOB"));
    assert_eq!(e.actor_account_uid.as_deref(), Some("444455556666"));
    assert_eq!(e.src_ip.as_deref(), Some("2001:db8::5"));
    assert_eq!(e.user_agent.as_deref(), Some("[Boto3/1.34.0]"));
    assert_eq!((e.service.as_ref(), e.operation.as_ref()), ("s3.amazonaws.com", "PutBucketPolicy"));
    assert_eq!(e.status, Status::Failure);
    assert_eq!(e.status_raw.as_deref(), Some("Failure"));
    assert_eq!(e.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(e.error_message.as_deref(), Some("Access Denied"));
    assert_eq!(e.resource_uid.as_deref(), Some("arn:aws:s3:::examplebucket"));
    assert_eq!(
        serde_json::from_str::<Value>(e.request_params.as_deref().unwrap()).unwrap(),
        json!({"bucketName": "examplebucket", "Host": "examplebucket.s3.eu-west-1.amazonaws.com", "policy": ""})
    );
    assert_eq!(e.response_elements, None);
}

#[test]
fn nested_unmapped_and_dotted_keys_rebuild_objects() {
    let rec = r#"{"class_uid":6003,"metadata":{"uid":"n1","version":"1.0.0"},"time":1709546400000,"cloud":{"provider":"AWS","account_uid":"1"},"api":{"operation":"PutObject","service":{"name":"s3.amazonaws.com"}},"unmapped":{"requestParameters":{"bucketName":"b","key":"k"},"responseElements.x-amz-server-side-encryption":"AES256","responseElements.a.b":"c"}}"#;
    let e = one(&Ocsf, rec);
    assert_eq!(serde_json::from_str::<Value>(e.request_params.as_deref().unwrap()).unwrap(), json!({"bucketName": "b", "key": "k"}));
    assert_eq!(
        serde_json::from_str::<Value>(e.response_elements.as_deref().unwrap()).unwrap(),
        json!({"x-amz-server-side-encryption": "AES256", "a": {"b": "c"}})
    );
    assert_eq!(e.actor_type, ActorType::None);
    assert_eq!(e.status, Status::Unknown);
}

#[test]
fn ocsf_copy_deduplicates_with_raw_cloudtrail() {
    let ocsf = one(&Ocsf, V1_1.trim_end());
    let raw = one(&CloudTrail, CLOUDTRAIL_TWIN);
    assert_eq!(raw.log_format, LogFormat::CloudTrail);
    assert_eq!((ocsf.provider, &ocsf.account_uid, &ocsf.event_uid), (raw.provider, &raw.account_uid, &raw.event_uid));
    assert_eq!(ocsf.dedup_key(), raw.dedup_key());
    assert_eq!(ocsf.dedup_key(), crate::event::dedup_key("aws", "111122223333", "3f1c5b2e-8a7d-4c1e-9f00-0123456789ab"));
    // The principal columns agree too, so profiles built from either source match.
    assert_eq!(ocsf.time, raw.time);
    assert_eq!(ocsf.actor_uid, raw.actor_uid);
    assert_eq!(ocsf.actor_name, raw.actor_name);
    assert_eq!(ocsf.actor_session_uid, raw.actor_session_uid);
    assert_eq!(ocsf.actor_type, raw.actor_type);
    assert_eq!(ocsf.resource_uid, raw.resource_uid);
    assert_eq!(ocsf.request_params, raw.request_params);
}

#[test]
fn mixed_file_detected_skipped_and_quarantined() {
    // Auto-detection (no --format): OCSF is recognised by class_uid + metadata.
    let c = run_bytes(MIXED.as_bytes(), None);
    assert_eq!(c.events.len(), 2, "{:?}", c.rejects);
    assert_eq!(
        c.rejects,
        vec![(true, "not_api_activity".to_string(), "line:2".to_string()), (false, "missing_time".to_string(), "line:3".to_string())]
    );

    let svc = c.at("line:1");
    assert_eq!(svc["log_format"], "ocsf");
    assert_eq!(svc["time"], "2024-03-04T11:00:00Z");
    assert_eq!(svc["actor_type"], "aws_service");
    assert_eq!(svc["actor_uid"], "lambda.amazonaws.com");
    assert_eq!(svc["actor_account_uid"], Value::Null);
    assert_eq!(svc["src_ip"], Value::Null);
    assert_eq!(svc["src_host"], "lambda.amazonaws.com");
    assert_eq!(params(svc), json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}));

    let az = c.at("line:4");
    assert_eq!(az["provider"], "azure");
    assert_eq!(az["account_uid"], "sub-0001");
    assert_eq!(az["time"], "2024-03-04T11:00:00Z");
    assert_eq!(az["actor_type"], "user");
    assert_eq!(az["actor_uid"], "alice@contoso.com");
    assert_eq!(az["src_ip"], "203.0.113.10");
    assert_eq!(az["src_port"], 51234);
    assert_eq!(az["status"], "unknown");
    assert_eq!(az["status_raw"], "Accepted");
}

#[test]
fn other_class_is_skipped_and_missing_fields_are_named() {
    let mut out = Vec::new();
    let o = NormaliseOptions { keep_raw: false };
    let r = Ocsf
        .normalise(r#"{"class_uid":4001,"class_name":"Network Activity","metadata":{"uid":"x"},"time":1}"#, &o, &mut out)
        .unwrap_err();
    assert!(r.skip);
    assert_eq!(r.reason, "not_api_activity");

    let r = Ocsf.normalise(MIXED.lines().nth(2).unwrap(), &o, &mut out).unwrap_err();
    assert!(!r.skip);
    assert_eq!(r.reason, "missing_time");
    assert!(r.detail.contains("`time`"));

    let no_uid = V1_1.replace(r#""uid":"3f1c5b2e-8a7d-4c1e-9f00-0123456789ab","#, "");
    let r = Ocsf.normalise(no_uid.trim_end(), &o, &mut out).unwrap_err();
    assert_eq!(r.reason, "missing_metadata_uid");
    assert!(r.detail.contains("metadata.uid"));

    // 3005 in OCSF 1.0 final is User Access Management, not API Activity.
    let r = Ocsf.normalise(r#"{"class_uid":3005,"class_name":"User Access Management","metadata":{"uid":"x","version":"1.0.0"},"time":1}"#, &o, &mut out).unwrap_err();
    assert_eq!(r.reason, "not_api_activity");
    assert!(out.is_empty());
}
