//! Unit tests of the M365 normaliser on the shared cases and the real public samples.
//! Tests that read `../shared` return early when it is absent.


use serde_json::{json, Value};

use super::*;
use crate::event::dedup_key;
use crate::sources::testing::{params, run_file as run, run_named as run_bytes};

const M365: Option<LogFormat> = Some(LogFormat::M365Audit);

fn one(record: &str) -> Value {
    let c = run_bytes("t.json", record.as_bytes(), M365);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    c.events.into_iter().next().unwrap()
}

fn reject_of(record: &str) -> String {
    let c = run_bytes("t.json", record.as_bytes(), M365);
    assert!(c.events.is_empty());
    c.rejects[0].1.clone()
}

#[test]
fn management_api_record() {
    let e = one(r#"{"CreationTime":"2024-03-04T10:30:00","Id":"x1","Operation":"MailItemsAccessed","Workload":"Exchange","RecordType":50,"UserId":"Alice@Example.com","UserType":0,"OrganizationId":"tenant-1","ResultStatus":"Succeeded","ClientIPAddress":"[2001:DB8::1]:4433","AppAccessContext":{"AADSessionId":"s-1"}}"#);
    assert_eq!(e["time"], "2024-03-04T10:30:00Z");
    assert_eq!(e["event_uid"], "x1");
    assert_eq!(e["provider"], "m365");
    assert_eq!(e["log_format"], "m365_audit");
    assert_eq!(e["account_uid"], "tenant-1");
    assert_eq!(e["actor_uid"], "alice@example.com");
    assert_eq!(e["actor_name"], "Alice@Example.com");
    assert_eq!(e["actor_type"], "user");
    assert_eq!(e["actor_session_uid"], "s-1");
    assert_eq!(e["src_ip"], "2001:db8::1");
    assert_eq!(e["src_port"], 4433);
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("Exchange"), Some("MailItemsAccessed")));
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("Succeeded")));
    assert!(e["request_params"].is_null());
    assert!(e["raw_event"].as_str().unwrap().contains("\"x1\""));
}

#[test]
fn status_table_and_user_types() {
    for (raw, want) in [("Succeeded", Status::Success), ("TRUE", Status::Success), ("Failed", Status::Failure), ("False", Status::Failure), ("PartiallySucceeded", Status::Partial), ("Queued", Status::Unknown)] {
        assert_eq!(status_of(raw), want, "{raw}");
    }
    let ty = |v: Value| UserType::parse(&v);
    assert_eq!(ty(json!(6)), Some(UserType::ServicePrincipal));
    assert_eq!(ty(json!("4")), Some(UserType::System));
    assert_eq!(ty(json!("DcAdmin")), Some(UserType::DcAdmin));
    assert_eq!(ty(json!(42)), None);
    assert_eq!(classify_actor("ServicePrincipal_AB-12", Some(UserType::System)), (ActorType::ServicePrincipal, "ab-12".into()));
    assert_eq!(classify_actor("i:0#.f|membership|Bob@Contoso.com", None), (ActorType::User, "bob@contoso.com".into()));
    assert_eq!(classify_actor("S-1-5-18", Some(UserType::Admin)).0, ActorType::System);
    assert_eq!(classify_actor("Microsoft Teams Sync", Some(UserType::Application)).0, ActorType::Application);
    assert_eq!(classify_actor("deadbeef", None).0, ActorType::Unknown);
    assert_eq!(workload_of_record_type("15"), Some("AzureActiveDirectory"));
    assert_eq!(workload_of_record_type("SharePointSharingOperation"), Some("SharePoint"));
}

#[test]
fn quarantine_reasons_name_the_field() {
    assert_eq!(reject_of(r#"{"Id":"a","Operation":"X","Workload":"Exchange","OrganizationId":"t"}"#), "missing_creation_time");
    assert_eq!(reject_of(r#"{"CreationTime":"2024-01-01T00:00:00","Operation":"X","Workload":"Exchange","OrganizationId":"t"}"#), "missing_id");
    assert_eq!(reject_of(r#"{"CreationTime":"yesterday","Id":"a","Operation":"X","Workload":"Exchange","OrganizationId":"t"}"#), "invalid_creation_time");
    assert_eq!(reject_of(r#"{"CreationTime":"2024-01-01T00:00:00","Id":"a","Operation":"X","Workload":"Exchange"}"#), "missing_organization_id");
    assert_eq!(reject_of(r#"{"CreationTime":"2024-01-01T00:00:00","Id":"a","Workload":"Exchange","OrganizationId":"t"}"#), "missing_operation");
    assert_eq!(reject_of(r#"{"CreationDate":"x","AuditData":"{\"CreationTime\":\"2024"}"#), "auditdata_truncated");
    assert_eq!(reject_of(r#"{"CreationDate":"x","AuditData":"{\"a\":1 \"b\":2}"}"#), "auditdata_invalid_json");
    assert_eq!(reject_of(r#"{"CreationDate":"x","AuditData":"[1]"}"#), "auditdata_invalid_json");
}

#[test]
fn logon_error_forces_failure_and_workload_from_record_type() {
    let e = one(r#"{"CreationTime":"2022-12-12 15:57:57","Id":"a","Operation":"UserLoginFailed","RecordType":15,"OrganizationId":"t","ResultStatus":"Success","LogonError":"InvalidUserNameOrPassword","UserId":"u@x.com","UserType":0}"#);
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("failure"), Some("Success")));
    assert_eq!(e["error_code"], "InvalidUserNameOrPassword");
    assert_eq!(e["service"], "AzureActiveDirectory");
}

#[test]
fn portal_time_format() {
    assert_eq!(parse_portal_time("4/28/2021, 3:05:26.000 PM"), time::parse_iso("2021-04-28T15:05:26Z"));
    assert_eq!(parse_portal_time("7/1/2024 11:30:15 PM"), time::parse_iso("2024-07-01T23:30:15Z"));
    assert_eq!(parse_portal_time("12/1/2024, 12:00:00.000 AM"), time::parse_iso("2024-12-01T00:00:00Z"));
}

#[test]
fn forwarding_targets_by_name() {
    let p = r#"{"Identity":"bob","ForwardTo":"a@x.net; SMTP:B@y.net","RedirectTo":"a@x.net","StopProcessingRules":"True"}"#;
    assert_eq!(forwarding_targets(p), vec!["a@x.net".to_string(), "b@y.net".to_string()]);
    assert!(forwarding_targets("{}").is_empty());
}

#[test]
fn case_p13_client_ip_forms() {
    let Some(c) = run("cases/P13-m365-client-ip-formats/input.jsonl", M365) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let got: Vec<(Value, Value, Value)> = c.events.iter().map(|e| (e["src_ip"].clone(), e["src_port"].clone(), e["src_host"].clone())).collect();
    let n = Value::Null;
    let want = vec![
        (json!("203.0.113.7"), n.clone(), n.clone()),
        (json!("203.0.113.7"), json!(51234), n.clone()),
        (json!("203.0.113.7"), json!(51234), n.clone()),
        (json!("2001:db8::1"), json!(4433), n.clone()),
        (json!("2001:db8::1"), n.clone(), n.clone()),
        (json!("2001:db8::1"), n.clone(), n.clone()),
        (json!("198.51.100.20"), n.clone(), n.clone()),
        (n.clone(), n.clone(), n.clone()),
        (n.clone(), n.clone(), json!("not-an-ip")),
    ];
    assert_eq!(got, want);
}

#[test]
fn case_p14_creation_time_without_zone() {
    let Some(c) = run("cases/P14-m365-creation-time-without-zone/input.jsonl", M365) else { return };
    let times: Vec<&str> = c.events.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert_eq!(times, ["2024-07-01T23:30:15Z", "2024-07-01T23:30:15.123456Z", "2024-07-01T21:30:15Z", "2024-07-01T23:30:15Z"]);
}

#[test]
fn case_p16_export_variants_agree() {
    let dir = "cases/P16-m365-csv-export-variants/input/";
    let mut keys = Vec::new();
    for f in ["a_purview_export.csv", "b_search_unifiedauditlog.csv", "c_json_export_auditdata_object.json"] {
        let Some(c) = run(&format!("{dir}{f}"), M365) else { return };
        assert!(c.rejects.is_empty(), "{f}: {:?}", c.rejects);
        assert_eq!(c.events.len(), 1, "{f}");
        let e = &c.events[0];
        assert_eq!(e["time"], "2024-07-01T23:30:15Z", "{f}");
        assert_eq!(e["event_uid"], "5b2c7e10-0000-4000-8000-000000000001");
        assert_eq!(e["account_uid"], "aaaaaaaa-1111-2222-3333-444444444444");
        assert_eq!(e["actor_uid"], "alice@example.com");
        assert_eq!(e["src_ip"], "203.0.113.7");
        assert_eq!(e["user_agent"], "Mozilla/5.0, (Windows NT 10.0)", "{f}");
        assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("AzureActiveDirectory"), Some("UserLoggedIn")));
        assert_eq!(e["status"], "success");
        keys.push(dedup_key("m365", e["account_uid"].as_str().unwrap(), e["event_uid"].as_str().unwrap()));
        // Auto-detection finds the format too.
        let Some(auto) = run(&format!("{dir}{f}"), None) else { return };
        assert_eq!(auto.events.len(), 1, "{f} auto: {:?}", auto.rejects);
    }
    keys.dedup();
    assert_eq!(keys.len(), 1);
}

#[test]
fn case_p18_truncated_auditdata() {
    let Some(c) = run("cases/P18-m365-auditdata-truncated/input.csv", M365) else { return };
    let reasons: Vec<&str> = c.rejects.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(reasons, ["auditdata_truncated", "auditdata_invalid_json"]);
    assert!(c.rejects.iter().all(|r| !r.0 && r.2.starts_with("row:")));
    // The two rejected rows are the first and third data rows.
    let rows: Vec<usize> = c.rejects.iter().map(|r| r.2[4..].parse().unwrap()).collect();
    assert_eq!(rows[1] - rows[0], 2);
    assert_eq!(c.events.len(), 1);
    let e = &c.events[0];
    assert_eq!(e["event_uid"], "5b2c7e10-0000-4000-8000-000000000003");
    assert_eq!(e["time"], "2024-07-02T09:05:00Z");
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("Exchange"), Some("Set-Mailbox")));
    assert_eq!(e["actor_uid"], "bob@example.com");
    assert_eq!(e["resource_uid"], "carol@example.com");
    assert_eq!(params(e), json!({"Identity": "carol@example.com", "HiddenFromAddressListsEnabled": "True"}));
}

#[test]
fn case_p19_name_value_parameters() {
    let Some(c) = run("cases/P19-m365-name-value-parameters/input.jsonl", M365) else { return };
    assert_eq!(c.events.len(), 2);
    let (a, b) = (&c.events[0], &c.events[1]);
    assert_eq!((a["src_ip"].as_str(), a["src_port"].as_u64(), a["status"].as_str()), (Some("203.0.113.8"), Some(50123), Some("success")));
    assert_eq!(params(a), json!({"Identity": "bob@example.com", "Name": "fwd-all", "ForwardTo": "ext.partner@example.net", "StopProcessingRules": "True"}));
    assert_eq!(params(b), json!({"StopProcessingRules": "False", "RedirectTo": "ext.partner@example.net", "Identity": "bob@example.com\\fwd-all"}));
    assert_eq!(b["src_port"], 50124);
    for e in [a, b] {
        assert_eq!(forwarding_targets(e["request_params"].as_str().unwrap()), ["ext.partner@example.net"]);
        assert_eq!(e["resource_uid"], "bob@example.com\\fwd-all");
    }
}

#[test]
fn case_p21_system_identities() {
    let Some(c) = run("cases/P21-m365-system-identities-and-case/input.jsonl", M365) else { return };
    let got: Vec<(&str, &str)> = c.events.iter().map(|e| (e["actor_type"].as_str().unwrap(), e["actor_uid"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            ("system", "nt authority\\system (microsoft.exchange.servicehost)"),
            ("system", "nt authority\\system (microsoft.exchange.servicehost)"),
            ("application", "app@sharepoint"),
            ("system", "sharepoint\\system"),
            ("user", "alice@example.com"),
            ("user", "alice@example.com"),
            ("system", "securitycompliancealerts"),
        ]
    );
    assert_eq!(c.events[1]["actor_name"], "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.Servicehost)");
    assert_eq!(c.events[4]["actor_name"], "Alice@Example.com");
}

#[test]
fn cases_p10_p23_content_blobs() {
    for rel in [
        "cases/P10-duplicate-deliveries/input/m365/Audit.Exchange/2024-03-04/content-blob-0001.json",
        "cases/P23-m365-late-arrival-redelivery/input/run2-2024-07-06T0000Z/Audit.Exchange/content-blob-0001.json",
    ] {
        let Some(c) = run(rel, None) else { return };
        assert!(c.rejects.is_empty(), "{rel}: {:?}", c.rejects);
        assert_eq!(c.events.len(), 1);
        assert_eq!(c.events[0]["account_uid"], "aaaaaaaa-1111-2222-3333-444444444444");
        assert_eq!(c.events[0]["source_locator"], "record:0");
    }
    let Some(c) = run(
        "cases/P23-m365-late-arrival-redelivery/input/run3-2024-07-08T0000Z/Audit.Exchange/content-blob-0001.json",
        None,
    ) else {
        return;
    };
    let e = &c.events[0];
    assert_eq!((e["time"].as_str(), e["event_uid"].as_str()), (Some("2024-07-03T22:10:00Z"), Some("d0d0d0d0-0000-4000-8000-000000000001")));
    assert_eq!(e["resource_uid"], "bob@example.com\\archive");
    assert_eq!(forwarding_targets(e["request_params"].as_str().unwrap()), ["ext.partner@example.net"]);
}

#[test]
fn real_plaso_management_api() {
    let Some(c) = run("data/real/m365_audit/plaso_microsoft_audit_log.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 4);
    let e = &c.events[0];
    assert_eq!(e["time"], "2022-05-07T12:55:53Z");
    assert_eq!(e["event_uid"], "c9d2d808-0efe-48cb-eaec-08da3028eb80");
    assert_eq!(e["account_uid"], "5a0f38c6-710b-4503-92c0-3a9f6e00f726");
    assert_eq!(e["operation"], "Install-DefaultSharingPolicy");
    assert_eq!(e["actor_type"], "system");
    assert_eq!(e["actor_uid"], "nt authority\\system (microsoft.exchange.servicehost)");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("True")));
    assert_eq!(params(e), json!({"DomainController": "", "Organization": "sst5f.onmicrosoft.com"}));
    let audit = &c.events[2];
    assert_eq!(audit["operation"], "Set-AdminAuditLogConfig");
    assert_eq!(params(audit)["AdminAuditLogEnabled"], "True");
    let login = &c.events[3];
    assert_eq!((login["service"].as_str(), login["actor_type"].as_str()), (Some("AzureActiveDirectory"), Some("user")));
    assert_eq!(login["actor_uid"], "piet@sst5f.onmicrosoft.com");
    assert_eq!(login["src_ip"], "0.0.0.0");
    assert_eq!(login["resource_uid"], "00000003-0000-0000-c000-000000000000");
}

#[test]
fn real_panther_lower_case_keys() {
    let Some(c) = run("data/real/m365_audit/panther_rule_tests.events.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 19);
    let e = &c.events[0];
    assert_eq!(e["time"], "2022-12-12T22:19:00Z");
    assert_eq!((e["event_uid"].as_str(), e["account_uid"].as_str()), (Some("111-22-33"), Some("11-aa-bb")));
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("Exchange"), Some("Set-Mailbox")));
    assert_eq!((e["actor_uid"].as_str(), e["actor_type"].as_str()), (Some("homer.simpson@simpsons.onmicrosoft.com"), Some("user")));
    assert_eq!(e["src_ip"], "1.2.3.4");
    assert_eq!(forwarding_targets(e["request_params"].as_str().unwrap()), ["peter.griffin@familyguy.com"]);
    let multi = &c.events[3];
    assert_eq!(forwarding_targets(multi["request_params"].as_str().unwrap()).len(), 3);
    let late = &c.events[9];
    assert_eq!((late["time"].as_str(), late["src_port"].as_u64()), (Some("2025-07-07T09:11:11Z"), Some(10736)));
    let share = &c.events[10];
    assert_eq!((share["service"].as_str(), share["operation"].as_str()), (Some("OneDrive"), Some("AddedToSecureLink")));
    assert!(share["user_agent"].as_str().unwrap().starts_with("Mozilla/5.0 (Macintosh"));
    let failed = &c.events[15];
    assert_eq!((failed["operation"].as_str(), failed["status"].as_str()), (Some("UserLoginFailed"), Some("failure")));
    assert_eq!(failed["actor_account_uid"], "123-abc-xyz-567");
    let no_workload = &c.events[16];
    assert_eq!(no_workload["service"], "AzureActiveDirectory");
    let mfa = &c.events[17];
    assert_eq!((mfa["actor_type"].as_str(), mfa["actor_uid"].as_str()), (Some("service_principal"), Some("aa-bb-ccc")));
    assert_eq!(params(mfa)["StrongAuthenticationMethod"], json!({"NewValue": "[{\"Default\": true,\"MethodType\": 7}]", "OldValue": "[]"}));
}

#[test]
fn real_sentinel_office_activity_json() {
    let Some(c) = run("data/real/m365_audit/otrf_goldensaml_OfficeActivityEvents.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!(e["time"], "2021-08-02T13:32:07Z");
    assert_eq!(e["event_uid"], "699e0b10-1c53-403e-976f-ce0847a92b44");
    assert_eq!(e["account_uid"], "00000000-0000-0000-0000-000000000000");
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("Exchange"), Some("MailItemsAccessed")));
    assert_eq!((e["actor_uid"].as_str(), e["actor_type"].as_str()), (Some("pgustavo@simulandlabs.com"), Some("user")));
    assert_eq!(e["src_ip"], "1.2.3.4");
    assert_eq!(e["user_agent"], "Client=REST;;");
    assert_eq!(e["resource_uid"], "pgustavo@simulandlabs.com");
    assert_eq!(params(e), json!({"MailAccessType": "Bind", "IsThrottled": "False"}));
}

#[test]
fn real_sentinel_office_activity_csv() {
    let Some(c) = run("data/real/m365_audit/sentinel_lab_OfficeActivity.csv", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 266);
    let e = &c.events[0];
    assert_eq!(e["time"], "2021-04-28T15:05:26Z");
    assert_eq!(e["event_uid"], "84365963-570a-4424-38da-08d90a570e02");
    assert_eq!(e["account_uid"], "2ad3fc79-1859-42fa-9011-6f8df2251b22");
    assert_eq!((e["service"].as_str(), e["operation"].as_str()), (Some("SharePoint"), Some("PageViewed")));
    assert_eq!(e["actor_uid"], "admin@m365x816222.onmicrosoft.com");
    assert_eq!(e["src_ip"], "175.45.176.99");
    assert!(e["user_agent"].as_str().unwrap().contains("Edg/90.0.818.49"));
    let adele = c
        .events
        .iter()
        .filter(|e| e["actor_uid"] == "adelev@m365x816222.onmicrosoft.com" && e["src_ip"] == "175.45.176.99")
        .count();
    // 132 plain, 1 with a port, 2 from Exchange's `Client_IPAddress`.
    assert_eq!(adele, 135);
    let by_uid = |uid: &str| c.events.iter().find(|e| e["actor_uid"] == uid).map(|e| e["actor_type"].as_str().unwrap().to_string());
    assert_eq!(by_uid("app@sharepoint").as_deref(), Some("application"));
    assert_eq!(by_uid("sharepoint\\system").as_deref(), Some("system"));
    assert_eq!(by_uid("s-1-5-18").as_deref(), Some("system"));
    assert_eq!(by_uid("dlppolicyeventbasedassistantonedriveforbusiness").as_deref(), Some("system"));
    assert!(c.events.iter().all(|e| e["actor_uid"].as_str().is_some_and(|u| !u.is_empty())));
}

#[test]
fn real_sentinel_inbox_rule_csv_without_time_generated() {
    let Some(c) = run("data/real/m365_audit/sentinel_lab_OfficeActivity_inbox_rule.csv", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 2);
    let e = &c.events[0];
    assert_eq!(e["operation"], "New-InboxRule");
    // No TimeGenerated column: `Start_Time [UTC]` (module docs).
    assert_eq!(e["time"], "2021-04-26T07:17:10Z");
    assert_eq!((e["src_ip"].as_str(), e["src_port"].as_u64()), (Some("2a01:110:8068:7:9bf8:aa87:e00a:5f1f"), Some(36185)));
    assert_eq!((e["actor_uid"].as_str(), e["actor_type"].as_str()), (Some("adelev@contoso.onmicrosoft.com"), Some("user")));
    assert_eq!(e["status"], "success");
    let p = params(e);
    assert_eq!((p["Name"].as_str(), p["MoveToFolder"].as_str()), (Some("rule2"), Some("Junk Email")));
    assert!(e["resource_uid"].as_str().unwrap().ends_with("AdeleV\\rule2"));
    let second = params(&c.events[1]);
    assert_eq!((second["BodyContainsWords"].as_str(), second["DeleteMessage"].as_str()), (Some("covid-19"), Some("True")));
}
