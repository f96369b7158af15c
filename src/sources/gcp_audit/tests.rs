//! Unit tests of the GCP normaliser on the shared cases and the real public samples.
//! Tests that read `../shared` return early when it is absent.

use serde_json::{json, Value};

use super::*;
use crate::sources::testing::{run_file as run, run_named as run_bytes};

const GCP: Option<LogFormat> = Some(LogFormat::GcpAudit);

fn one(record: &str) -> Value {
    let c = run_bytes("t.json", record.as_bytes(), GCP);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    c.events.into_iter().next().unwrap()
}

fn reject_of(record: &str) -> (bool, String) {
    let c = run_bytes("t.json", record.as_bytes(), GCP);
    assert!(c.events.is_empty());
    (c.rejects[0].0, c.rejects[0].1.clone())
}

#[test]
fn audit_entry_fields() {
    let e = one(r#"{"insertId":"i1","logName":"projects/p1/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"Deployer@P1.iam.gserviceaccount.com","serviceAccountDelegationInfo":[{"firstPartyPrincipal":{"principalEmail":"alice@example.com"}}]},"requestMetadata":{"callerIp":"::ffff:198.51.100.4","callerSuppliedUserAgent":"terraform/1.7"},"serviceName":"iam.googleapis.com","methodName":"google.iam.admin.v1.CreateServiceAccountKey","resourceName":"projects/-/serviceAccounts/x","request":{"b": 1, "a": null},"response":null,"status":{"code":7,"message":"denied"}},"resource":{"type":"service_account","labels":{"project_id":"p1"}},"timestamp":"2024-01-15T08:02:00.123456789Z","receiveTimestamp":"2024-01-15T09:00:00Z"}"#);
    assert_eq!(e["time"], "2024-01-15T08:02:00.123456Z");
    assert_eq!((e["event_uid"].as_str(), e["account_uid"].as_str()), (Some("i1"), Some("p1")));
    assert_eq!((e["provider"].as_str(), e["log_format"].as_str()), (Some("gcp"), Some("gcp_audit")));
    assert_eq!((e["actor_uid"].as_str(), e["actor_name"].as_str()), (Some("deployer@p1.iam.gserviceaccount.com"), Some("Deployer@P1.iam.gserviceaccount.com")));
    assert_eq!((e["actor_type"].as_str(), e["actor_account_uid"].as_str()), (Some("service_account"), Some("p1")));
    assert_eq!(e["actor_session_uid"], "alice@example.com");
    assert_eq!((e["src_ip"].as_str(), e["user_agent"].as_str()), (Some("198.51.100.4"), Some("terraform/1.7")));
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("failure"), Some("7")));
    assert_eq!((e["error_code"].as_str(), e["error_message"].as_str()), (Some("7"), Some("denied")));
    // Request text exactly as logged; JSON null response is NULL.
    assert_eq!(e["request_params"], r#"{"b": 1, "a": null}"#);
    assert!(e["response_elements"].is_null());
    assert!(e["region"].is_null());
}

#[test]
fn principals() {
    let t = |p: &str| classify_principal(p).0;
    assert_eq!(t("service-123456@gcp-sa-pubsub.iam.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("service-1234567890@compute-system.iam.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("123456@cloudservices.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("0000@cloudbuild.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("service-agent-manager@system.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("service-111111111111-gs-project-accounts.iam.gserviceaccount.com"), ActorType::ServiceAgent);
    assert_eq!(t("123-compute@developer.gserviceaccount.com"), ActorType::ServiceAccount);
    assert_eq!(classify_principal("ci@my-proj.iam.gserviceaccount.com"), (ActorType::ServiceAccount, Some("my-proj".into())));
    assert_eq!(t("system:serviceaccount:kube-system:default"), ActorType::ServiceAccount);
    assert_eq!(t("system:kube-controller-manager"), ActorType::System);
    assert_eq!(t("system:anonymous"), ActorType::Unknown);
    assert_eq!(t("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/bob"), ActorType::User);
    assert_eq!(t("alice@example.com"), ActorType::User);
}

#[test]
fn regions_and_accounts() {
    let r = |s: &str| region_of(Cow::Borrowed(s)).into_owned();
    assert_eq!(r("us-central1-a"), "us-central1");
    assert_eq!(r("europe-west4"), "europe-west4");
    assert_eq!(r("us"), "us");
    assert_eq!(r("global"), "global");
    let none = |_: &str| -> Option<Cow<'static, str>> { None };
    assert_eq!(account_of(&none, Some("organizations/888/logs/cloudaudit.googleapis.com%2Factivity"), None).as_deref(), Some("organizations/888"));
    assert_eq!(account_of(&none, Some("folders/7/logs/x"), None).as_deref(), Some("folders/7"));
    assert_eq!(account_of(&none, None, Some("projects/p9/locations/us/keyRings/k")).as_deref(), Some("p9"));
    assert_eq!(account_of(&none, None, Some("projects/_/buckets/b")), None);
}

#[test]
fn skips_and_quarantines() {
    assert_eq!(reject_of(r#"{"insertId":"x","logName":"projects/p/logs/syslog","textPayload":"hi","timestamp":"2024-01-01T00:00:00Z"}"#), (true, "not_cloud_audit".into()));
    assert_eq!(reject_of(r#"{"insertId":"x","logName":"projects/p/logs/appengine.googleapis.com%2Frequest_log","protoPayload":{"@type":"type.googleapis.com/google.appengine.logging.v1.RequestLog"},"timestamp":"2024-01-01T00:00:00Z"}"#), (true, "not_cloud_audit".into()));
    assert_eq!(reject_of(r#"{"methodName":"v1.compute.firewalls.patch"}"#), (false, "not_a_log_entry".into()));
    assert_eq!(reject_of(r#"{"protoPayload":{"methodName":"m","serviceName":"s"},"resource":{"labels":{"project_id":"p"}}}"#), (false, "missing_timestamp".into()));
    assert_eq!(reject_of(r#"{"protoPayload":{"serviceName":"s"},"resource":{"labels":{"project_id":"p"}},"timestamp":"2024-01-01T00:00:00Z"}"#), (false, "missing_method_name".into()));
    assert_eq!(reject_of(r#"{"protoPayload":{"methodName":"m"},"timestamp":"2024-01-01T00:00:00Z"}"#), (false, "missing_project_id".into()));
    assert_eq!(reject_of(r#"{"protoPayload":{"methodName":"m"},"resource":{"labels":{"project_id":"p"}},"timestamp":"soon"}"#), (false, "invalid_timestamp".into()));
    assert_eq!(reject_of(r#"{"insertId":"#), (false, "invalid_json".into()));
}

#[test]
fn without_insert_id_the_uid_is_a_content_hash() {
    let rec = r#"{"protoPayload":{"methodName":"io.k8s.core.v1.pods.create","authenticationInfo":{"principalEmail":"u@x.com"},"requestMetadata":{"callerIP":"8.8.8.8","requestAttributes":{"time":"2024-05-01T10:00:00Z"}}},"resource":{"labels":{"project_id":"p"}}}"#;
    let e = one(rec);
    let uid = e["event_uid"].as_str().unwrap();
    assert!(uid.starts_with("sha256:") && uid.len() == 39, "{uid}");
    assert_eq!(one(rec)["event_uid"], uid);
    assert_eq!(e["time"], "2024-05-01T10:00:00Z");
    assert_eq!(e["service"], "k8s.io");
    assert_eq!(e["src_ip"], "8.8.8.8");
}

#[test]
fn bigquery_sink_row() {
    let rec = r#"{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","insertId":"b1","timestamp":"2021-10-19 02:57:47.339377 UTC","resource":{"type":"gce_instance","labels":{"project_id":"p","zone":"europe-west4-b"}},"protopayload_auditlog":{"serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.delete","authenticationInfo":{"principalEmail":"bob@example.com"}}}"#;
    let c = run_bytes("bq.json", rec.as_bytes(), None);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!((e["time"].as_str(), e["region"].as_str()), (Some("2021-10-19T02:57:47.339377Z"), Some("europe-west4")));
    assert_eq!(e["operation"], "v1.compute.instances.delete");
}

#[test]
fn case_p30_caller_ip_not_an_address() {
    let Some(c) = run("cases/P30-gcp-caller-ip-not-an-address/input.jsonl", GCP) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let (g1, g2, g3) = (&c.events[0], &c.events[1], &c.events[2]);
    assert_eq!((g1["src_ip"].clone(), g1["src_host"].as_str()), (Value::Null, Some("private")));
    assert_eq!((g1["service"].as_str(), g1["operation"].as_str()), (Some("k8s.io"), Some("io.k8s.core.v1.pods.delete")));
    assert_eq!((g1["account_uid"].as_str(), g1["region"].as_str()), (Some("example-proj"), Some("us-central1")));
    assert_eq!((g1["actor_uid"].as_str(), g1["actor_type"].as_str()), (Some("alice@example.com"), Some("user")));
    assert_eq!(g1["time"], "2024-01-15T08:00:00.123456Z");
    assert_eq!((g2["src_host"].as_str(), g2["region"].as_str()), (Some("gce-internal-ip"), Some("us-central1")));
    assert_eq!((g3["src_ip"].as_str(), g3["src_host"].clone()), (Some("2001:db8::7"), Value::Null));
    assert_eq!(g3["resource_uid"], "projects/-/serviceAccounts/deployer@example-proj.iam.gserviceaccount.com");
}

#[test]
fn case_p32_non_audit_entries() {
    for format in [GCP, None] {
        let Some(c) = run("cases/P32-gcp-non-audit-entries-and-log-name/input.jsonl", format) else { return };
        assert_eq!(c.rejects, vec![(true, "not_cloud_audit".to_string(), "line:3".to_string())]);
        let got: Vec<(&str, &str, &str)> = c
            .events
            .iter()
            .map(|e| (e["event_uid"].as_str().unwrap(), e["operation"].as_str().unwrap(), e["actor_type"].as_str().unwrap()))
            .collect();
        assert_eq!(got, [("h1", "storage.buckets.create", "user"), ("h2", "storage.objects.get", "user"), ("h4", "compute.instances.preempted", "none")]);
        assert!(c.events[2]["actor_uid"].is_null());
        assert_eq!(c.events[0]["region"], "us");
        assert_eq!(c.events[2]["region"], "us-west1");
    }
}

#[test]
fn case_p09_ndjson_with_cut_last_line() {
    let Some(c) = run("cases/P09-empty-and-truncated-files/input/t.ndjson", None) else { return };
    let uids: Vec<&str> = c.events.iter().map(|e| e["event_uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["t1", "t2"]);
    assert_eq!(c.events[1]["time"], "2024-01-15T11:02:00Z");
    assert_eq!(c.rejects, vec![(false, "invalid_json".to_string(), "line:3".to_string())]);
}

#[test]
fn real_google_cloudevents_samples() {
    let dir = "data/real/gcp_audit/";
    let Some(c) = run(&format!("{dir}google_cloudevents_LogEntryData-pubsubCreateTopic.json"), None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!((e["event_uid"].as_str(), e["account_uid"].as_str()), (Some("9frck8cf9j"), Some("test-project")));
    assert_eq!(e["time"], "2020-06-30T16:14:47.593398Z");
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("pubsub.googleapis.com"), Some("google.pubsub.v1.Publisher.CreateTopic")));
    assert_eq!(e["actor_type"], "service_account");
    assert!(e["actor_session_uid"].as_str().unwrap().ends_with("/keys/90f662482321f1ca8e82ea675b1a1c30c1fe681f"));
    assert_eq!(e["src_ip"], "192.168.0.1");
    assert_eq!(e["status"], "success");
    let resp: Value = serde_json::from_str(e["response_elements"].as_str().unwrap()).unwrap();
    assert_eq!(resp["name"], "projects/test-project/topics/test-auditlogs-source");

    let Some(c) = run(&format!("{dir}google_cloudevents_LogEntryData-bigqueryjobcompleted.json"), None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("bigquery.googleapis.com"), Some("jobservice.jobcompleted")));
    assert_eq!(e["src_ip"], "2620:15c:0:200:1a75:e914:115b:e970");
    let legacy: Value = serde_json::from_str(e["request_params"].as_str().unwrap()).unwrap();
    assert_eq!(legacy["jobCompletedEvent"]["eventName"], "query_job_completed");

    let Some(c) = run(&format!("{dir}google_cloudevents_LogEntryData-monitoringCreateTimeSeries.json"), None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events[0]["event_uid"], "1bqg3jae6l3gj");
    assert_eq!(serde_json::from_str::<Value>(c.events[0]["request_params"].as_str().unwrap()).unwrap()["name"], "projects/test-project");
}

#[test]
fn real_plaso_logging() {
    let Some(c) = run("data/real/gcp_audit/plaso_gcp_logging.jsonl", None) else { return };
    assert_eq!(c.events.len(), 9);
    assert_eq!(c.rejects, vec![(true, "not_cloud_audit".into(), "line:8".into()), (true, "not_cloud_audit".into(), "line:9".into())]);
    let e = &c.events[0];
    assert_eq!((e["event_uid"].as_str(), e["time"].as_str()), (Some("iv9wx9d16l2"), Some("2021-10-19T02:57:47.339377Z")));
    assert_eq!((e["account_uid"].as_str(), e["operation"].as_str()), (Some("fake-project"), Some("beta.compute.networks.insert")));
    assert_eq!((e["actor_uid"].as_str(), e["src_ip"].as_str()), (Some("fakeemailxyz@gmail.com"), Some("1.1.1.1")));
    let vm = c.events.iter().find(|e| e["event_uid"] == "mraniadjjli").unwrap();
    assert_eq!(vm["region"], "us-central1");
    let delegated = c.events.iter().find(|e| e["event_uid"] == "-duywnve29mpi").unwrap();
    assert_eq!(delegated["actor_session_uid"], "service-account-one@fake-project.com,service-account-two@fake-project.com");
    let denied = c.events.iter().find(|e| e["event_uid"] == "1awjxggeaxqgz").unwrap();
    assert_eq!((denied["status"].as_str(), denied["error_code"].as_str()), (Some("failure"), Some("7")));
    assert!(denied["error_message"].as_str().unwrap().starts_with("Permission \"iam.serviceAccounts.create\" denied"));
    assert_eq!((denied["actor_type"].as_str(), denied["actor_account_uid"].as_str()), (Some("service_account"), Some("ketchup")));
    assert_eq!(denied["actor_session_uid"], "service-1234567890@compute-system.iam.gserviceaccount.com");
    assert_eq!(denied["src_ip"], "34.72.217.225");
}

#[test]
fn real_panther_rule_tests() {
    let Some(c) = run("data/real/gcp_audit/panther_rule_tests.events.jsonl", Some(LogFormat::GcpAudit)) else { return };
    // Rule-test fragments are the only rejections: 49 without any event time, 8 that are no
    // LogEntry (`{"methodName": ...}`), 2 without methodName, 1 without any project.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in &c.rejects {
        *reasons.entry(r.1.clone()).or_default() += 1;
    }
    assert!(reasons.keys().all(|k| ["missing_timestamp", "not_a_log_entry", "missing_method_name", "missing_project_id"].contains(&k.as_str())), "{reasons:?}");
    let count = |r: &str| reasons.get(r).copied().unwrap_or(0);
    assert_eq!((count("missing_timestamp"), count("not_a_log_entry")), (49, 8));
    assert_eq!((count("missing_method_name"), count("missing_project_id")), (2, 1));
    assert!(c.rejects.iter().all(|r| !r.0));
    assert_eq!(c.events.len(), 146);
    // Lower-cased keys, `at_sign_type`, `callerIP`.
    let org = c.events.iter().find(|e| e["event_uid"] == "-yoga2udnx8s").unwrap();
    assert_eq!((org["account_uid"].as_str(), org["operation"].as_str()), (Some("organizations/888888888888"), Some("SetIamPolicy")));
    assert_eq!(org["src_ip"], "38.38.38.38");
    let policy: Value = serde_json::from_str(org["request_params"].as_str().unwrap()).unwrap();
    assert_eq!(policy["policy"]["bindings"][0]["role"], "roles/owner");
    let lower = c.events.iter().find(|e| e["event_uid"] == "abcdefghijklmn").unwrap();
    assert_eq!(lower["account_uid"], "gcp-project1");
    for e in &c.events {
        assert!(e["actor_uid"].as_str().is_none_or(|u| !u.is_empty()));
        assert_ne!(e["operation"], json!(""));
    }
}

/// A long-running operation's first entry has no outcome yet: `unknown` with
/// `status_raw` = `operation.first`; its last entry, a one-entry operation (first and
/// last) and a first entry that already failed keep their outcome.
#[test]
fn long_running_operation_entries() {
    let entry = |id: &str, op: &str, status: &str| {
        format!(r#"{{"insertId":"{id}","logName":"projects/p1/logs/cloudaudit.googleapis.com%2Factivity","operation":{{"id":"op-1","producer":"cloudfunctions.googleapis.com",{op}}},"protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{{"principalEmail":"ci@p1.iam.gserviceaccount.com"}},"serviceName":"cloudfunctions.googleapis.com","methodName":"google.cloud.functions.v2.FunctionService.CreateFunction"{status}}},"resource":{{"type":"cloud_function","labels":{{"project_id":"p1"}}}},"timestamp":"2024-01-15T08:02:00Z"}}"#)
    };
    let first = one(&entry("a", r#""first":true"#, ""));
    assert_eq!((first["status"].as_str(), first["status_raw"].as_str()), (Some("unknown"), Some(OPERATION_FIRST)));
    let last = one(&entry("b", r#""last":true"#, r#","status":{}"#));
    assert_eq!((last["status"].as_str(), last["status_raw"].as_str()), (Some("success"), None));
    let both = one(&entry("c", r#""first":true,"last":true"#, ""));
    assert_eq!(both["status"], "success");
    let failed = one(&entry("d", r#""first":true"#, r#","status":{"code":7}"#));
    assert_eq!((failed["status"].as_str(), failed["status_raw"].as_str()), (Some("failure"), Some("7")));
}
