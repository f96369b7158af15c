//! Unit tests of the Entra normalisers on case P28 and the real public samples (tests that
//! read `../shared` return early when it is absent).

use serde_json::{json, Value};

use super::*;
use crate::sources::testing::{params, run_bytes, run_file};

const AUDIT: Option<LogFormat> = Some(LogFormat::EntraAudit);
const SIGNIN: Option<LogFormat> = Some(LogFormat::EntraSignin);

fn one(record: &str, format: Option<LogFormat>) -> Value {
    let c = run_bytes(record.as_bytes(), format);
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    c.events.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------------------
// Case P28 and audit behaviours.

#[test]
fn p28_modified_properties_decoded_once() {
    let Some(c) = run_file("cases/P28-entra-modified-properties-json-strings/input.jsonl", AUDIT) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    let (a, b) = (&c.events[0], &c.events[1]);
    assert_eq!(a["event_uid"], "Directory_CA_0000000001");
    assert_eq!(a["time"], "2024-08-01T12:00:00.123456Z");
    assert_eq!(a["operation"], "Update conditional access policy");
    assert_eq!(a["service"], "Conditional Access");
    assert_eq!((a["actor_type"].as_str(), a["actor_uid"].as_str()), (Some("user"), Some("admin@example.com")));
    assert_eq!(a["src_ip"], "203.0.113.30");
    assert_eq!(a["resource_uid"], "cccccccc-0000-4000-8000-00000000cccc");
    assert_eq!(a["status"], "success");
    // Graph records carry no tenant.
    assert_eq!(a["account_uid"], "unknown");
    let p = params(a);
    assert_eq!(p["ConditionalAccessPolicy"]["old"]["state"], "enabled");
    assert_eq!(p["ConditionalAccessPolicy"]["new"]["state"], "disabled");

    assert_eq!(b["event_uid"], "Directory_UM_0000000002");
    assert_eq!(b["operation"], "Update user");
    assert_eq!(b["actor_uid"], "admin@example.com");
    assert_eq!(b["resource_uid"], "carol@example.com");
    let p = params(b);
    assert_eq!(p["JobTitle"], json!({"old": ["Engineer"], "new": ["Manager"]}));
    assert_eq!(p["Included Updated Properties"], json!({"old": null, "new": ["JobTitle"]}));
}

#[test]
fn undecodable_values_stay_strings_and_repeats_are_kept() {
    let rec = r#"{"id":"x1","activityDateTime":"2024-08-01T12:00:00Z","activityDisplayName":"Update application","loggedByService":"Core Directory","result":"failure","resultReason":"Insufficient privileges","initiatedBy":{"app":{"appId":"A1","displayName":"Automation","servicePrincipalId":"SP-1"}},"targetResources":[{"id":"t1","modifiedProperties":[{"displayName":"Notes","oldValue":"not {json","newValue":"\"ok\""}]},{"id":"t2","modifiedProperties":[{"displayName":"Notes","oldValue":null,"newValue":"[1]"}]}]}"#;
    let e = one(rec, AUDIT);
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str(), e["actor_name"].as_str()), (Some("service_principal"), Some("sp-1"), Some("Automation")));
    assert_eq!((e["status"].as_str(), e["error_message"].as_str()), (Some("failure"), Some("Insufficient privileges")));
    assert_eq!(e["src_ip"], Value::Null);
    let p = params(&e);
    assert_eq!(p["Notes"], json!({"old": "not {json", "new": "ok"}));
    assert_eq!(p["Notes (2)"], json!({"old": null, "new": [1]}));
}

#[test]
fn audit_quarantine_reasons() {
    let reason = |r: &str| run_bytes(r.as_bytes(), AUDIT).rejects[0].1.clone();
    assert_eq!(reason(r#"{"id":"x","activityDisplayName":"Add user"}"#), "missing_event_time");
    assert_eq!(reason(r#"{"id":"x","activityDateTime":"2024-08-01T12:00:00Z"}"#), "missing_operation");
    // A diagnostic record must name its tenant.
    assert_eq!(
        reason(r#"{"time":"2024-08-01T12:00:00Z","operationName":"Add user","category":"AuditLogs","properties":{"id":"x"}}"#),
        "missing_tenant_id"
    );
    assert_eq!(reason(r#"{"activityDateTime":"soon","activityDisplayName":"Add user"}"#), "invalid_event_time");
}

#[test]
fn status_tables() {
    assert_eq!(audit_status_of("success"), Status::Success);
    assert_eq!(audit_status_of("SUCCESS"), Status::Success);
    assert_eq!(audit_status_of("timeout"), Status::Failure);
    assert_eq!(audit_status_of("unknownFutureValue"), Status::Unknown);
    assert_eq!(signin_status_of("0"), Status::Success);
    assert_eq!(signin_status_of("50126"), Status::Failure);
    assert_eq!(signin_status_of("Success"), Status::Success);
    assert_eq!(signin_status_of("Failure"), Status::Failure);
    assert_eq!(signin_status_of("whatever"), Status::Unknown);
}

// ---------------------------------------------------------------------------------------
// Sign-ins.

#[test]
fn graph_signin_and_service_principal_signin() {
    let e = one(
        r#"{"id":"s1","createdDateTime":"2024-05-01T08:00:00Z","userPrincipalName":"Bob@Example.com","userId":"U1","userDisplayName":"Bob","appDisplayName":"Azure Portal","appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","ipAddress":"2001:DB8::1","clientAppUsed":"Browser","isInteractive":true,"status":{"errorCode":50074,"failureReason":"Strong Authentication is required."},"location":{"city":"Oslo","countryOrRegion":"NO"},"sessionId":"sess-1"}"#,
        SIGNIN,
    );
    assert_eq!(e["log_format"], "entra_signin");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str(), e["actor_name"].as_str()), (Some("user"), Some("bob@example.com"), Some("Bob")));
    assert_eq!(e["actor_session_uid"], "sess-1");
    assert_eq!(e["src_ip"], "2001:db8::1");
    assert_eq!(e["operation"], "Sign-in activity");
    assert_eq!(e["service"], "SignInLogs");
    assert_eq!((e["status"].as_str(), e["error_code"].as_str()), (Some("failure"), Some("50074")));
    assert_eq!(e["error_message"], "Strong Authentication is required.");
    assert_eq!(e["resource_uid"], "Azure Portal");
    assert_eq!(params(&e)["location"]["countryOrRegion"], "NO");

    let e = one(
        r#"{"id":"s2","createdDateTime":"2024-05-01T08:00:00Z","servicePrincipalId":"SP-9","servicePrincipalName":"backup-job","appId":"A9","ipAddress":"198.51.100.7","resourceDisplayName":"Azure Storage","status":{"errorCode":0}}"#,
        SIGNIN,
    );
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str(), e["actor_name"].as_str()), (Some("service_principal"), Some("sp-9"), Some("backup-job")));
    assert_eq!(e["service"], "ServicePrincipalSignInLogs");
    assert_eq!(e["resource_uid"], "Azure Storage");
    assert_eq!(e["status"], "success");
}

#[test]
fn managed_identity_signin() {
    let e = one(
        r#"{"time":"2024-05-01T08:00:00Z","category":"ManagedIdentitySignInLogs","tenantId":"T","operationName":"Sign-in activity","resultType":"0","properties":{"id":"m1","servicePrincipalId":"MI-1","servicePrincipalName":"vm-identity","managedIdentityType":"systemAssigned","resourceDisplayName":"Azure Key Vault"}}"#,
        SIGNIN,
    );
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("managed_identity"), Some("mi-1")));
    assert_eq!(e["service"], "ManagedIdentitySignInLogs");
    assert_eq!(e["account_uid"], "t");
    assert_eq!(e["resource_uid"], "Azure Key Vault");
}

// ---------------------------------------------------------------------------------------
// Real samples.

#[test]
fn real_sentinel_signin_csv() {
    let Some(c) = run_file("data/real/entra_id/sentinel_lab_SigninLogs_adele.csv", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 56);
    let e = c.at("row:2");
    assert_eq!(e["log_format"], "entra_signin");
    assert_eq!(e["provider"], "entra");
    assert_eq!(e["time"], "2021-04-28T14:08:45.221000Z");
    assert_eq!(e["event_uid"], "cfb68155-70f5-4e28-b046-0a3a7086c401");
    // AADTenantId, not the workspace in TenantId.
    assert_eq!(e["account_uid"], "2ad3fc79-1859-42fa-9011-6f8df2251b22");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str(), e["actor_name"].as_str()), (Some("user"), Some("adelev@m365x816222.onmicrosoft.com"), Some("Adele Vance")));
    assert_eq!(e["actor_account_uid"], "2ad3fc79-1859-42fa-9011-6f8df2251b22");
    assert_eq!(e["src_ip"], "175.45.176.99");
    assert_eq!(e["service"], "SignInLogs");
    assert_eq!(e["operation"], "Sign-in activity");
    assert_eq!((e["status"].as_str(), e["status_raw"].as_str()), (Some("success"), Some("0")));
    assert_eq!(e["resource_uid"], "Azure Portal");
    assert!(e["user_agent"].as_str().unwrap().contains("Edg/90.0.818.49"));
    let p = params(e);
    assert_eq!(p["location"]["countryOrRegion"], "IL");
    assert_eq!(p["deviceDetail"]["browser"], "Edge 90.0.818");
    assert_eq!(p["clientAppUsed"], "Browser");
    // Every sign-in is Adele's, from the one unusual address; some are interrupted.
    assert!(c.events.iter().all(|e| e["actor_uid"] == "adelev@m365x816222.onmicrosoft.com" && e["src_ip"] == "175.45.176.99"));
    let codes: std::collections::BTreeSet<&str> = c.events.iter().map(|e| e["status_raw"].as_str().unwrap()).collect();
    assert_eq!(codes, ["0", "16000", "50058"].into_iter().collect());
    assert!(c.events.iter().filter(|e| e["status_raw"] != "0").all(|e| e["status"] == "failure" && e["error_code"] == e["status_raw"]));
}

#[test]
fn real_sentinel_signin_without_time_column_uses_step_time() {
    let Some(c) = run_file("data/real/entra_id/sentinel_lab_SigninLogs_disabled_accounts.csv", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 4);
    let e = c.at("row:2");
    assert_eq!(e["time"], "2021-04-19T12:13:19.483475Z");
    assert_eq!(e["event_uid"], "698711b3-cf4e-45f4-ae04-d4e340f06b00");
    assert_eq!(e["account_uid"], "2ad3fc79-1859-42fa-9011-6f8df2251b22");
    assert_eq!(e["actor_uid"], "johns@m365x816222.onmicrosoft.com");
    assert_eq!(e["src_ip"], "175.45.176.99");
    assert_eq!((e["status"].as_str(), e["error_code"].as_str()), (Some("failure"), Some("50057")));
    assert_eq!(e["error_message"], "User account is disabled. The account has been disabled by an administrator.");
    assert_eq!(params(e)["location"]["countryOrRegion"], "KP");
}

#[test]
fn real_sentinel_audit_projection_without_time_is_quarantined() {
    let Some(c) = run_file("data/real/entra_id/sentinel_lab_AuditLogs_app_credentials.csv", None) else { return };
    // A hunting-query projection that dropped every time column: nothing to date it by.
    assert!(c.events.is_empty());
    assert_eq!(c.reasons(), vec![("missing_event_time".to_string(), 5)]);
    // With a time it would be read (the row is otherwise complete).
    let row = r#"{"OperationName":"Update application – Certificates and secrets management ","Category":"ApplicationManagement","Id":"Directory_9cee","Type":"AuditLogs","AADTenantId":"T","TimeGenerated":"2021-08-01T00:00:00Z","InitiatedBy":"{\"user\":{\"userPrincipalName\":\"Victim@x.onmicrosoft.com\",\"ipAddress\":\"45.153.160.2\"}}","Result":"success","LoggedByService":"Core Directory","TargetResources":"[{\"id\":\"020c\",\"displayName\":\"purview-spn-user099\",\"type\":\"Application\",\"modifiedProperties\":[{\"displayName\":\"KeyDescription\",\"oldValue\":\"[]\",\"newValue\":\"[\\\"[KeyIdentifier=11ca,KeyType=Password]\\\"]\"}]}]"}"#;
    let e = one(row, None);
    assert_eq!(e["operation"], "Update application – Certificates and secrets management");
    assert_eq!(e["actor_uid"], "victim@x.onmicrosoft.com");
    assert_eq!(e["src_ip"], "45.153.160.2");
    assert_eq!(params(&e)["KeyDescription"]["new"], json!(["[KeyIdentifier=11ca,KeyType=Password]"]));
}

#[test]
fn real_otrf_golden_saml_audit_events() {
    let Some(c) = run_file("data/real/entra_id/otrf_goldensaml_AADAuditEvents.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 4);
    assert!(c.events.iter().all(|e| e["log_format"] == "entra_audit" && e["account_uid"] == "00000000-0000-0000-0000-000000000000"));
    let e = c.at("line:1");
    assert_eq!(e["time"], "2021-08-02T13:29:25.983000Z");
    assert_eq!(e["event_uid"], "Directory_10065ffb-8199-48bc-8ff5-912cb5b8295a_AUMVX_13992832");
    assert_eq!(e["operation"], "Update application – Certificates and secrets management");
    assert_eq!(e["service"], "Core Directory");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("user"), Some("pgustavo@simulandlabs.com")));
    assert_eq!(e["resource_uid"], "11b49e19-2326-4be6-93cb-7f37439bbd81");
    assert_eq!(e["user_agent"], "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.17763.1971");
    assert_eq!(e["status"], "success");
    let p = params(e);
    assert_eq!(p["KeyDescription"]["old"], json!([]));
    assert_eq!(p["KeyDescription"]["new"], json!(["[KeyIdentifier=59eaeebc-8a6b-44a6-9f24-7d55e64420c9,KeyType=Password,KeyUsage=Verify,DisplayName=SimuLandCreds]"]));
    assert_eq!(p["Included Updated Properties"]["new"], json!(["KeyDescription"]));
    // The hunting query repeated one audit record per modified property: same id.
    assert_eq!(c.at("line:2")["event_uid"], e["event_uid"]);
    assert_eq!(c.at("line:4")["operation"], "Add delegated permission grant");
}

#[test]
fn real_panther_diagnostic_records() {
    let Some(c) = run_file("data/real/entra_id/panther_rule_tests.events.jsonl", None) else { return };
    assert!(c.rejects.is_empty(), "{:?}", c.rejects);
    assert_eq!(c.events.len(), 48);
    let audits = c.events.iter().filter(|e| e["log_format"] == "entra_audit").count();
    assert_eq!((audits, c.events.len() - audits), (21, 27));

    // Graph category in `category`, tenant-scope resource id.
    let e = c.at("line:1");
    assert_eq!(e["log_format"], "entra_audit");
    assert_eq!(e["time"], "2025-01-15T14:20:35.456789Z");
    assert_eq!(e["account_uid"], "tenant-abc");
    assert_eq!(e["operation"], "Update authentication methods policy");
    assert_eq!(e["actor_uid"], "denethor@lotr.com");
    assert_eq!(e["resource_uid"], "policy-auth-methods-123");
    assert_eq!(params(e)["OpenIdConnectConfiguration"]["new"]["discoveryUrl"], "https://attacker-idp.evil.com/.well-known/openid-configuration");

    // Conditional Access policy update, properties with their own tenant and id.
    let e = c.at("line:26");
    assert_eq!(e["event_uid"], "IPCGraph_123456789");
    assert_eq!(e["service"], "Conditional Access");
    assert_eq!(e["account_uid"], "123456789");
    assert_eq!(e["time"], "2024-11-27T03:31:26.708849Z");

    // Service-principal sign-in, lower-cased Panther keys, numeric resultType.
    let e = c.at("line:12");
    assert_eq!(e["log_format"], "entra_signin");
    assert_eq!(e["time"], "2023-07-26T22:58:30.983201Z");
    assert_eq!(e["account_uid"], "a2aa49aa-2c0c-49d2-af87-f402c421df0b");
    assert_eq!((e["actor_type"].as_str(), e["actor_uid"].as_str()), (Some("service_principal"), Some("b1c34143-e405-4058-8e29-84596ad737b8")));
    assert_eq!(e["service"], "ServicePrincipalSignInLogs");
    assert_eq!((e["status"].as_str(), e["error_code"].as_str()), (Some("failure"), Some("7000215")));
    assert_eq!(e["resource_uid"], "Azure Storage");

    // Account lockout: the code from properties.status, message from failureReason.
    let e = c.at("line:9");
    assert_eq!((e["status"].as_str(), e["error_code"].as_str()), (Some("failure"), Some("50053")));
    assert_eq!(e["actor_uid"], "boromir@lotr.com");
    assert_eq!(e["user_agent"], "python-requests/2.28.0");

    // ROPC failure.
    let e = c.at("line:43");
    assert_eq!(e["time"], "2025-01-15T15:05:50.678901Z");
    assert_eq!((e["status_raw"].as_str(), e["error_message"].as_str()), (Some("50126"), Some("Invalid username or password")));
    assert_eq!(e["service"], "SignInLogs");
}
