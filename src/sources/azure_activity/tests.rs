//! Unit tests of the Azure Activity normaliser on the shared cases and the real public
//! samples (tests that read `../shared` return early when it is absent), plus the helpers
//! the Key Vault and Entra tests use.


use serde_json::{json, Value};

use super::*;
use crate::sources::testing::{params, run_bytes, run_file, shared};

const AZ: Option<LogFormat> = Some(LogFormat::AzureActivity);

fn one(record: &str) -> Value {
    let c = run_bytes(record.as_bytes(), AZ);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    c.events.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------------------
// Cases.

#[test]
fn p24_json_encoded_properties_and_identity() {
    let Some(c) = run_file("cases/P24-azure-json-encoded-properties/input.jsonl", AZ) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 3);
    for e in &c.events {
        assert_eq!(e["provider"], "azure");
        assert_eq!(e["account_uid"], "11111111-2222-3333-4444-555555555555");
        assert_eq!(e["actor_uid"], "alice@example.com");
        assert_eq!(e["actor_type"], "user");
        assert_eq!(e["status"], "success");
        assert_eq!(e["service"].as_str().unwrap().split('.').next(), Some("Microsoft"));
    }
    let p = params(&c.events[0]);
    assert_eq!(p["statusCode"], "OK");
    assert_eq!(p["serviceRequestId"], Value::Null);
    assert_eq!(p["responseBody"], "{\"kind\":\"StorageV2\",\"sku\":{\"name\":\"Standard_LRS\"}}");
    assert_eq!(c.events[0]["service"], "Microsoft.Storage");
    assert_eq!(c.events[0]["operation"], "MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE");
    assert_eq!(c.events[0]["time"], "2024-05-09T17:11:48.506970Z");
    assert_eq!(c.events[0]["src_ip"], "203.0.113.9");
    // The whole record is kept as logged (its JSON strings undecoded).
    let line2 = std::fs::read_to_string(shared("cases/P24-azure-json-encoded-properties/input.jsonl").unwrap()).unwrap();
    assert_eq!(c.events[1]["raw_event"].as_str(), line2.lines().nth(1));
    // Decoded once: the string `identity` and `properties` of record 2.
    assert_eq!(params(&c.events[1]), json!({"statusCode": "OK", "serviceRequestId": null}));
    assert_eq!(c.events[1]["time"], "2024-05-09T17:12:10Z");
    // Not JSON: kept as a JSON string, record kept.
    assert_eq!(params(&c.events[2]), json!("not json {"));
    assert_eq!(c.events[2]["resource_uid"], "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-app");
    // No eventDataId: content ids, all distinct.
    let uids: std::collections::BTreeSet<&str> = c.events.iter().map(|e| e["event_uid"].as_str().unwrap()).collect();
    assert_eq!(uids.len(), 3);
    assert!(uids.iter().all(|u| u.starts_with("sha256:")));
}

#[test]
fn p27_caller_guid_or_absent() {
    let Some(c) = run_file("cases/P27-azure-caller-guid-or-absent/input.jsonl", AZ) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events;
    assert_eq!((e[0]["actor_type"].as_str(), e[0]["actor_uid"].as_str()), (Some("user"), Some("alice@example.com")));
    assert_eq!(e[0]["status"], "success");
    assert_eq!(e[1]["actor_type"], "service_principal");
    assert_eq!(e[1]["actor_uid"], "5f1e2d3c-0000-4000-8000-000000000abc");
    // The application id is kept as the name (no column of its own).
    assert_eq!(e[1]["actor_name"], "a1a1a1a1-0000-4000-8000-00000000a1a1");
    assert_eq!(e[2]["actor_type"], "none");
    assert_eq!(e[2]["actor_uid"], Value::Null);
    assert_eq!(e[2]["actor_name"], Value::Null);
    assert_eq!((e[2]["status"].as_str(), e[2]["status_raw"].as_str()), (Some("unknown"), Some("Active")));
    assert_eq!(e[2]["service"], "Microsoft.ResourceHealth");
    assert_eq!(e[2]["operation"], "MICROSOFT.RESOURCEHEALTH/HEALTHEVENT/ACTIVATED/ACTION");
    assert!(e.iter().all(|x| x["account_uid"] == "11111111-2222-3333-4444-555555555555"));
}

// ---------------------------------------------------------------------------------------
// Behaviours.

#[test]
fn guid_caller_without_claims_is_a_service_principal() {
    let e = one(r#"{"eventTimestamp":"2024-05-11T10:00:00Z","operationName":{"value":"Microsoft.Compute/virtualMachines/write"},"status":{"value":"Succeeded"},"caller":"5F1E2D3C-0000-4000-8000-000000000ABC","subscriptionId":"S1","eventDataId":"d1"}"#);
    assert_eq!(e["actor_type"], "service_principal");
    assert_eq!(e["actor_uid"], "5f1e2d3c-0000-4000-8000-000000000abc");
    assert_eq!(e["account_uid"], "s1");
    assert_eq!(e["event_uid"], "d1");
}

#[test]
fn operation_case_is_folded_and_provider_spelled_once() {
    let a = one(r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s/x","operationName":"microsoft.keyvault/vaults/delete","category":"Administrative","resultType":"Success"}"#);
    let b = one(r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/SUBSCRIPTIONS/S/X","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","category":"Administrative","resultType":"Success"}"#);
    assert_eq!(a["operation"], "MICROSOFT.KEYVAULT/VAULTS/DELETE");
    assert_eq!(a["operation"], b["operation"]);
    assert_eq!(a["service"], "Microsoft.KeyVault");
    assert_eq!(a["service"], b["service"]);
    assert_eq!(a["resource_uid"], b["resource_uid"]);
    assert_eq!(a["account_uid"], b["account_uid"]);
}

#[test]
fn started_and_succeeded_stay_apart() {
    let rec = |status: &str| {
        format!(
            r#"{{"eventTimestamp":"2024-01-01T00:00:00Z","operationName":{{"value":"Microsoft.Web/sites/delete"}},"status":{{"value":"{status}"}},"subscriptionId":"s","correlationId":"c1","operationId":"o1","caller":"a@b.c"}}"#
        )
    };
    let started = one(&rec("Started"));
    let done = one(&rec("Succeeded"));
    assert_eq!(started["status"], "unknown");
    assert_eq!(done["status"], "success");
    assert_eq!(started["event_uid"], "c1:o1:Started");
    assert_ne!(started["event_uid"], done["event_uid"]);
}

#[test]
fn content_id_ignores_layout() {
    let compact = r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s/x","operationName":"A/B","resultType":"Success","correlationId":"c"}"#;
    let pretty = "{\n  \"correlationId\": \"c\",\n  \"operationName\": \"A/B\",\n  \"resourceId\": \"/subscriptions/s/x\",\n  \"resultType\": \"Success\",\n  \"time\": \"2024-01-01T00:00:00Z\"\n}";
    assert_eq!(one(compact)["event_uid"], one(pretty)["event_uid"]);
}

#[test]
fn failures_carry_error_code_and_message() {
    let e = one(r#"{"eventTimestamp":"2024-01-01T00:00:00Z","operationName":{"value":"Microsoft.Storage/storageAccounts/write"},"status":{"value":"Failed"},"subStatus":{"value":"Conflict"},"subscriptionId":"s","eventDataId":"e","caller":"a@b.c","properties":{"statusCode":"Conflict","statusMessage":"{\"error\":{\"code\":\"StorageAccountAlreadyTaken\",\"message\":\"The storage account named x is already taken.\"}}"}}"#);
    assert_eq!(e["status"], "failure");
    assert_eq!(e["status_raw"], "Failed");
    assert_eq!(e["error_code"], "StorageAccountAlreadyTaken");
    assert_eq!(e["error_message"], "The storage account named x is already taken.");
}

#[test]
fn quarantine_reasons() {
    let reason = |r: &str| run_bytes(r.as_bytes(), AZ).rejects[0].1.clone();
    assert_eq!(reason(r#"{"operationName":"A/B","resourceId":"/subscriptions/s"}"#), "missing_event_time");
    assert_eq!(reason(r#"{"time":"later","operationName":"A/B","resourceId":"/subscriptions/s"}"#), "invalid_event_time");
    assert_eq!(reason(r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s"}"#), "missing_operation_name");
    assert_eq!(reason(r#"{"time":"2024-01-01T00:00:00Z","operationName":"GetBlob","category":"StorageRead"}"#), "missing_subscription_id");
    assert_eq!(reason(r#"[1]"#), "invalid_json");
}

#[test]
fn status_table() {
    for (raw, s) in [
        ("Succeeded", Status::Success),
        ("success", Status::Success),
        ("Failed", Status::Failure),
        ("Failure", Status::Failure),
        ("Canceled", Status::Failure),
        ("Started", Status::Unknown),
        ("Accept", Status::Unknown),
        ("Active", Status::Unknown),
        ("201", Status::Success),
        ("409", Status::Failure),
        ("PartiallySucceeded", Status::Partial),
    ] {
        assert_eq!(status_of(raw), s, "{raw}");
    }
}

// ---------------------------------------------------------------------------------------
// Real samples.

#[test]
fn real_plaso_cli_snake_case() {
    let Some(c) = run_file("data/real/azure_activity/plaso_azure_activity_log.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 4);
    let e = c.at("line:1");
    assert_eq!(e["log_format"], "azure_activity");
    assert_eq!(e["time"], "2022-02-09T03:04:54.297853Z");
    assert_eq!(e["event_uid"], "587eda65-125e-48c2-9b04-ab5e8d3a1d8e");
    assert_eq!(e["account_uid"], "12345678-9abc-defg-hijk-lmnopqrstuvw");
    assert_eq!(e["operation"], "MICROSOFT.COMPUTE/DISKS/DELETE");
    assert_eq!(e["service"], "Microsoft.Compute");
    assert_eq!(e["actor_type"], "service_principal");
    assert_eq!(e["actor_uid"], "12345678-9abc-defg-hijk-lmnopqrstuvw");
    assert_eq!(e["src_ip"], "1.2.3.4");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("unknown"), Some("Started")));
    let last = c.at("line:4");
    assert_eq!(last["actor_type"], "user");
    assert_eq!(last["actor_uid"], "fakeemail@fakedomain.com");
    assert_eq!(last["operation"], "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE");
}

#[test]
fn real_sentinel_azure_activity_csv() {
    let Some(c) = run_file("data/real/azure_activity/sentinel_lab_AzureActivity_adele.csv", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 23);
    let e = c.at("row:2");
    assert_eq!(e["log_format"], "azure_activity");
    assert_eq!(e["time"], "2021-04-28T14:32:14.029000Z");
    assert_eq!(e["event_uid"], "6f5ca24c-de95-451a-b91e-7a7ab209c28b");
    assert_eq!(e["account_uid"], "8f153238-e602-427e-a7c0-3043fbe50918");
    assert_eq!(e["actor_type"], "user");
    assert_eq!(e["actor_uid"], "adelev@m365x816222.onmicrosoft.com");
    assert_eq!(e["actor_name"], "Adele Vance");
    assert_eq!(e["actor_account_uid"], "2ad3fc79-1859-42fa-9011-6f8df2251b22");
    assert_eq!(e["src_ip"], "37.142.150.162");
    assert_eq!(e["service"], "Microsoft.Web");
    assert_eq!(e["operation"], "MICROSOFT.WEB/SITES/DELETE");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("Success")));
    assert_eq!(e["resource_uid"], "/subscriptions/8f153238-e602-427e-a7c0-3043fbe50918/resourcegroups/sentinel-mainrg/providers/microsoft.web/sites/okta-new");
    assert_eq!(params(e)["eventDataId"], "6f5ca24c-de95-451a-b91e-7a7ab209c28b");
    // Key Vault deletions: 6 records (Start + Success of each vault), 4 of them successes.
    let kv: Vec<&Value> = c.events.iter().filter(|e| e["operation"] == "MICROSOFT.KEYVAULT/VAULTS/DELETE").collect();
    assert_eq!(kv.len(), 6);
    assert!(kv.iter().all(|e| e["service"] == "Microsoft.KeyVault"));
    assert_eq!(kv.iter().filter(|e| e["status"] == "success").count(), 4);
    assert_eq!(c.events.iter().filter(|e| e["status_raw"] == "Accept").count(), 3);
}

#[test]
fn real_panther_diagnostic_records() {
    let Some(c) = run_file("data/real/azure_activity/panther_rule_tests.events.jsonl", None) else { return };
    // Fixtures with no time anywhere (kube-audit events cut down to `properties.log`, one
    // record with only category/operationName) and storage records without any resource id
    // or tenant are quarantined; every other record gives an event.
    assert_eq!(c.reasons(), vec![("missing_event_time".to_string(), 35), ("missing_subscription_id".to_string(), 5)]);
    assert_eq!(c.events.len(), 249 - 40);
    assert!(c.events.iter().all(|e| e["log_format"] == "azure_activity"));
    assert!(c.events.iter().all(|e| e["actor_uid"] != "" && e["account_uid"] != ""));

    // Tenant-scope elevateAccess: no subscription, the tenant is the account.
    let e = c.at("line:122");
    assert_eq!(e["operation"], "MICROSOFT.AUTHORIZATION/ELEVATEACCESS/ACTION");
    assert_eq!(e["account_uid"], "87654321-4321-4321-4321-111111111111");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("user"), Some("attacker@example.com")));
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("Succeeded")));

    // Azure Advisor acting on its own.
    let e = c.at("line:4");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("system"), Some("microsoft.advisor")));
    assert_eq!(e["status"], "unknown");
    assert_eq!(e["region"], "global");

    // App-only claims (appid only).
    let e = c.at("line:60");
    assert_eq!(e["actor_type"], "service_principal");
    assert_eq!(e["actor_uid"], "12345678-1234-1234-1234-123456789abc");
    assert_eq!(e["operation"], "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION");

    // Role assignment: the only principal named is the RBAC evidence.
    let e = c.at("line:119");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("user"), Some("6b6d44f0-b13a-46a0-bfde-161324d4c34d")));
    assert_eq!(params(e)["requestbody"].as_str().map(|s| s.starts_with("{\"Id\"")), Some(true));

    // Storage data plane: port split off, HTTP status decides, SAS token as the key.
    let e = c.at("line:164");
    assert_eq!((e["src_ip"].as_str(), e["src_port"].as_u64()), (Some("1.1.1.1"), Some(57485)));
    assert_eq!(e["status"], "failure");
    assert_eq!(e["error_code"], "BlobUsesCustomerSpecifiedEncryption");
    assert_eq!(e["service"], "Microsoft.Storage");
    assert_eq!(e["operation"], "GETBLOBMETADATA");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("unknown"), Some("key1(example_hash)")));
    assert_eq!(e["resource_uid"], "/mystorageaccount/corporate-files/documents/internal_doc_8.txt.ENCRYPTED");
    assert!(e["user_agent"].as_str().unwrap().starts_with("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"));
    let e = c.at("line:163");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("failure"), Some("AuthorizationFailure")));
    let e = c.at("line:173");
    assert_eq!((e["status"].as_str(), e["operation"].as_str()), (Some("success"), Some("PUTBLOB")));
    assert_eq!(e["actor_type"], "none");

    // `operationName` and `status` as ARM localizable objects in a diagnostic record.
    let kube_or_time_less: Vec<&str> = c.rejects.iter().filter(|r| r.1 == "missing_event_time").map(|r| r.2.as_str()).collect();
    assert!(kube_or_time_less.contains(&"line:215") && kube_or_time_less.contains(&"line:225"));
    let no_account: Vec<&str> = c.rejects.iter().filter(|r| r.1 == "missing_subscription_id").map(|r| r.2.as_str()).collect();
    assert_eq!(no_account, ["line:188", "line:189", "line:190", "line:191", "line:192"]);
}

#[test]
fn kube_audit_with_time_is_read() {
    let e = one(r#"{"time":"2024-01-01T00:00:00Z","category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","resourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c","properties":{"log":"{\"verb\":\"create\",\"user\":{\"username\":\"system:serviceaccount:kube-system:x\"},\"sourceIPs\":[\"10.0.0.1\"],\"userAgent\":\"kubectl/v1.28.0\",\"responseStatus\":{\"code\":403,\"message\":\"forbidden\"}}"}}"#);
    assert_eq!(e["actor_type"], "service_account");
    assert_eq!(e["actor_uid"], "system:serviceaccount:kube-system:x");
    assert_eq!(e["src_ip"], "10.0.0.1");
    assert_eq!(e["user_agent"], "kubectl/v1.28.0");
    assert_eq!((e["status"].as_str(), e["error_code"].as_str(), e["error_message"].as_str()), (Some("failure"), Some("403"), Some("forbidden")));
    assert_eq!(e["service"], "Microsoft.ContainerService");
}

#[test]
fn sentinel_operation_value_beats_display_name() {
    let e = one(r#"{"Type":"AzureActivity","TimeGenerated":"2024-01-01T00:00:00Z","OperationName":"Delete Key Vault","OperationNameValue":"Microsoft.KeyVault/vaults/delete","ActivityStatusValue":"Succeeded","SubscriptionId":"S","EventDataId":"E","TenantId":"WORKSPACE","Caller":"a@b.c"}"#);
    assert_eq!(e["operation"], "MICROSOFT.KEYVAULT/VAULTS/DELETE");
    assert_eq!(e["account_uid"], "s");
    // No subscription at all in a Sentinel row: its TenantId (the workspace) is not used.
    let c = run_bytes(br#"{"Type":"AzureActivity","TimeGenerated":"2024-01-01T00:00:00Z","OperationNameValue":"X/Y","TenantId":"WORKSPACE"}"#, AZ);
    assert_eq!(c.rejects[0].1, "missing_subscription_id");
}

#[test]
fn mixed_stream_goes_to_the_right_sibling() {
    let data = concat!(
        r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s/x","operationName":"MICROSOFT.WEB/SITES/DELETE","category":"Administrative","resultType":"Success"}"#, "\n",
        r#"{"time":"2024-01-01T00:00:01Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V","operationName":"SecretGet","category":"AuditEvent","resultType":"Success"}"#, "\n",
        r#"{"time":"2024-01-01T00:00:02Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","tenantId":"t","resultType":"0","properties":{"id":"i","userPrincipalName":"a@b.c"}}"#, "\n",
    );
    let c = run_bytes(data.as_bytes(), None);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let formats: Vec<&str> = c.events.iter().map(|e| e["log_format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["azure_activity", "keyvault_audit", "entra_signin"]);
    // Also under a forced format.
    let c = run_bytes(data.as_bytes(), AZ);
    let formats: Vec<&str> = c.events.iter().map(|e| e["log_format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["azure_activity", "keyvault_audit", "entra_signin"]);
}

#[test]
fn raw_event_only_when_asked() {
    let rec = r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s/x","operationName":"A/B","resultType":"Success"}"#;
    let mut out = Vec::new();
    AzureActivity.normalise(rec, &NormaliseOptions { keep_raw: false }, &mut out).unwrap();
    assert_eq!(out[0].raw_event, None);
    out.clear();
    AzureActivity.normalise(rec, &NormaliseOptions { keep_raw: true }, &mut out).unwrap();
    assert_eq!(out[0].raw_event.as_deref(), Some(rec));
}
