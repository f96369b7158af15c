//! Unit tests of the Key Vault normaliser on case P34 and the real public samples (tests
//! that read `../shared` return early when it is absent).

use serde_json::Value;

use super::*;
use crate::sources::testing::{run_bytes, run_file};

const KV: Option<LogFormat> = Some(LogFormat::KeyVaultAudit);
const P34: &str = "cases/P34-keyvault-shapes-and-claims/input";

fn one(record: &str) -> Value {
    let c = run_bytes(record.as_bytes(), KV);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    c.events.into_iter().next().unwrap()
}

#[test]
fn p34_storage_and_log_analytics_shapes_agree() {
    let (Some(a), Some(b)) = (run_file(&format!("{P34}/a_storage_secretget.json"), KV), run_file(&format!("{P34}/b_log_analytics_secretget.json"), KV))
    else {
        return;
    };
    assert!(a.rejects.is_empty() && b.rejects.is_empty(), "{:?} {:?}", a.rejects, b.rejects);
    let (a, b) = (&a.events[0], &b.events[0]);
    for e in [a, b] {
        assert_eq!(e["provider"], "azure");
        assert_eq!(e["log_format"], "keyvault_audit");
        assert_eq!(e["actor_uid"], "bob@example.com");
        assert_eq!(e["actor_type"], "user");
        assert_eq!(e["operation"], "SecretGet");
        assert_eq!(e["service"], "Microsoft.KeyVault");
        assert_eq!(e["resource_uid"], "https://kv-example.vault.azure.net/secrets/db-password");
        assert_eq!(e["status"], "success");
        assert_eq!(e["time"], "2024-06-01T10:20:30.123456Z");
        assert_eq!(e["account_uid"], "11111111-2222-3333-4444-555555555555");
        assert_eq!(e["src_ip"], "203.0.113.50");
        assert_eq!(e["actor_name"], "live.com#bob@example.com");
    }
    // One request, two exports: one id, so the lake keeps it once.
    assert_eq!(a["event_uid"], b["event_uid"]);
    assert_eq!(a["user_agent"], "azsdk-python-keyvault-secrets/4.7.0");
    let pa: Value = serde_json::from_str(a["request_params"].as_str().unwrap()).unwrap();
    let pb: Value = serde_json::from_str(b["request_params"].as_str().unwrap()).unwrap();
    assert_eq!(pa["id"], pb["id"]);
    assert_eq!(pa["httpStatusCode"], pb["httpStatusCode"]);
}

#[test]
fn p34_app_only_short_claim_names() {
    let Some(c) = run_file(&format!("{P34}/c_storage_secretlist.json"), KV) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!(e["actor_type"], "service_principal");
    assert_eq!(e["actor_uid"], "44444444-aaaa-4bbb-8ccc-000000000004");
    assert_eq!(e["actor_name"], "55555555-aaaa-4bbb-8ccc-000000000005");
    assert_eq!(e["operation"], "SecretList");
    assert_eq!(e["status"], "success");
    // No secret id: the vault.
    assert_eq!(
        e["resource_uid"],
        "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-sec/providers/microsoft.keyvault/vaults/kv-example"
    );
}

#[test]
fn p34_shapes_detected_without_format() {
    for f in ["a_storage_secretget.json", "b_log_analytics_secretget.json", "c_storage_secretlist.json"] {
        let Some(c) = run_file(&format!("{P34}/{f}"), None) else { return };
        assert!(c.rejects.is_empty(), "{f}: {:?}", c.rejects);
        assert_eq!(c.events[0]["log_format"], "keyvault_audit", "{f}");
    }
}

#[test]
fn http_status_decides_over_result_type() {
    let e = one(r#"{"time":"2024-06-01T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V","operationName":"SecretGet","category":"AuditEvent","resultType":"Success","resultSignature":"Forbidden","resultDescription":"Caller is not authorized","callerIpAddress":"198.51.100.1","properties":{"id":"https://v.vault.azure.net/secrets/s","httpStatusCode":403}}"#);
    assert_eq!(e["status"], "failure");
    assert_eq!(e["status_raw"], "Success");
    assert_eq!(e["error_code"], "Forbidden");
    assert_eq!(e["error_message"], "Caller is not authorized");
    // No identity at all (an unauthenticated call): no actor.
    assert_eq!(e["actor_type"], "none");
    assert_eq!(e["actor_uid"], Value::Null);
}

#[test]
fn managed_identity_and_json_string_identity() {
    let e = one(r#"{"time":"2024-06-01T10:00:00Z","resourceId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v","operationName":"SecretGet","resultType":"Success","identity":"{\"claim\":{\"oid\":\"O-1\",\"appid\":\"A-1\",\"xms_mirid\":\"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi\",\"http://schemas.microsoft.com/identity/claims/tenantid\":\"T-1\"}}"}"#);
    assert_eq!(e["actor_type"], "managed_identity");
    assert_eq!(e["actor_uid"], "o-1");
    assert_eq!(e["actor_account_uid"], "t-1");
}

#[test]
fn quarantine_reasons() {
    let reason = |r: &str| run_bytes(r.as_bytes(), KV).rejects[0].1.clone();
    assert_eq!(reason(r#"{"operationName":"SecretGet","resourceId":"/subscriptions/s"}"#), "missing_event_time");
    assert_eq!(reason(r#"{"time":"2024-06-01T10:00:00Z","resourceId":"/subscriptions/s"}"#), "missing_operation_name");
    assert_eq!(reason(r#"{"time":"2024-06-01T10:00:00Z","operationName":"SecretGet"}"#), "missing_subscription_id");
}

#[test]
fn status_table() {
    assert_eq!(status_of(Some("200"), Some("Failure")), Status::Success);
    assert_eq!(status_of(Some("401"), Some("Success")), Status::Failure);
    assert_eq!(status_of(None, Some("Success")), Status::Success);
    assert_eq!(status_of(None, Some("Failed")), Status::Failure);
    assert_eq!(status_of(None, None), Status::Unknown);
}

#[test]
fn real_msdocs_jsonlines_and_envelope_agree() {
    let (Some(lines), Some(env)) = (
        run_file("data/real/azure_keyvault/msdocs_resource_logs_PT1H_jsonlines_example.json", None),
        run_file("data/real/azure_keyvault/msdocs_resource_logs_records_envelope_example.json", None),
    ) else {
        return;
    };
    assert!(lines.rejects.is_empty() && env.rejects.is_empty(), "{:?} {:?}", lines.rejects, env.rejects);
    assert_eq!((lines.events.len(), env.events.len()), (2, 2));
    let e = lines.at("line:1");
    assert_eq!(e["log_format"], "keyvault_audit");
    assert_eq!(e["time"], "2016-01-05T01:32:01.269122Z");
    assert_eq!(e["account_uid"], "361da5d4-a47a-4c79-afdd-xxxxxxxxxxxx");
    assert_eq!(e["operation"], "VaultGet");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("user"), Some("username@outlook.com")));
    assert_eq!(e["src_ip"], "104.40.82.76");
    assert_eq!(e["user_agent"], "azure-resource-manager/2.0");
    assert_eq!(e["resource_uid"], "https://contosokeyvault.vault.azure.net/");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("Success")));
    // Same records in both envelopes: same ids; the two records of a file differ.
    for (a, b) in lines.events.iter().zip(&env.events) {
        assert_eq!(a["event_uid"], b["event_uid"]);
        assert_eq!(a["time"], b["time"]);
    }
    assert_ne!(lines.events[0]["event_uid"], lines.events[1]["event_uid"]);
}

#[test]
fn azkv_audit_logs_table_row() {
    let row = r#"{"TimeGenerated":"2024-06-01T10:20:30.1234567Z","Type":"AZKVAuditLogs","OperationName":"SecretGet","ResultType":"Success","CallerIpAddress":"203.0.113.50","Identity":"{\"claim\":{\"upn\":\"Bob@Example.com\",\"oid\":\"O\"}}","Id":"https://kv-example.vault.azure.net/secrets/db-password","ClientInfo":"az-cli","HttpStatusCode":"200","_ResourceId":"/subscriptions/S1/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-example"}"#;
    let c = run_bytes(row.as_bytes(), None);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let e = &c.events[0];
    assert_eq!(e["log_format"], "keyvault_audit");
    assert_eq!(e["actor_uid"], "bob@example.com");
    assert_eq!(e["resource_uid"], "https://kv-example.vault.azure.net/secrets/db-password");
    assert_eq!(e["user_agent"], "az-cli");
    assert_eq!(e["account_uid"], "s1");
    assert_eq!(e["status"], "success");
}
