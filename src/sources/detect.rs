//! Format detection from content (DESIGN.md: "never from the file name alone").
//!
//! Each rule names the keys that identify a record shape; rules are checked in order and the
//! first match wins. Keys are compared case-insensitively because exporters differ
//! (Panther lower-cases M365 Exchange keys; Sentinel exports use PascalCase columns).

use serde_json::{Map, Value};

use crate::schema::LogFormat;

/// Top-level keys of one record, lower-cased, with a few values kept for the rules.
pub struct Probe<'m> {
    map: &'m Map<String, Value>,
    lower: Vec<String>,
}

impl<'m> Probe<'m> {
    pub fn new(map: &'m Map<String, Value>) -> Self {
        Probe { map, lower: map.keys().map(|k| k.to_ascii_lowercase()).collect() }
    }

    /// True when a key equal to `key` (ASCII case-insensitive) is present.
    pub fn has(&self, key: &str) -> bool {
        self.lower.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// The string value of `key` (case-insensitive), if it is a string.
    pub fn str(&self, key: &str) -> Option<&'m str> {
        self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str())
    }

    fn any(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.has(k))
    }
}

/// Detects the format of one record given as a JSON object.
pub fn detect_record(map: &Map<String, Value>) -> Option<LogFormat> {
    let p = Probe::new(map);
    detect_probe(&p)
}

/// Detects the format from a parsed probe; `None` when no rule matches.
pub fn detect_probe(p: &Probe<'_>) -> Option<LogFormat> {
    // OCSF (Security Lake): every event carries class_uid.
    if p.has("class_uid") && p.any(&["metadata", "activity_id", "category_uid"]) {
        return Some(LogFormat::Ocsf);
    }
    // CloudTrail: S3/EventBridge/Lake record, LookupEvents shape, Insights event.
    if (p.has("eventsource") && p.has("eventname"))
        || p.has("cloudtrailevent")
        || (p.has("detail-type") && p.has("detail") && p.str("source").is_some_and(|s| s.starts_with("aws.")))
        || p.str("eventType") == Some("AwsCloudTrailInsight")
        || (p.has("eventid") && p.has("recipientaccountid"))
    {
        return Some(LogFormat::CloudTrail);
    }
    // GCP LogEntry.
    // A sink may also carry jsonPayload/textPayload entries: they are GCP too (and skipped
    // by the normaliser as `not_cloud_audit`).
    if p.any(&["protopayload", "protopayload_auditlog"])
        || (p.has("logname") && p.any(&["insertid", "resource", "jsonpayload", "textpayload", "timestamp"]))
    {
        return Some(LogFormat::GcpAudit);
    }
    // Microsoft 365 unified audit log: Management API record, Purview CSV row, Sentinel
    // OfficeActivity row.
    if (p.has("creationtime") && p.has("operation") && p.any(&["workload", "recordtype", "organizationid"]))
        || p.has("officeworkload")
        || p.str("Type") == Some("OfficeActivity")
        || (p.has("auditdata")
            && p.any(&["creationdate", "operations", "operation", "recordtype", "recordid", "userids", "userid", "identity"]))
    {
        return Some(LogFormat::M365Audit);
    }
    // Entra ID: diagnostic-setting record (category), Graph API, Sentinel export.
    let category = p.str("category").unwrap_or_default().to_ascii_lowercase();
    let type_col = p.str("Type").unwrap_or_default();
    // Sentinel tables: SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, ...
    let type_lower = type_col.to_ascii_lowercase();
    let resource_id = p.str("resourceId").or_else(|| p.str("_ResourceId")).unwrap_or_default().to_ascii_uppercase();
    if category.contains("signinlogs")
        || type_lower.contains("signinlogs")
        || (p.has("createddatetime") && p.has("userprincipalname") && p.any(&["appdisplayname", "ipaddress"]))
        || (p.has("createddatetime")
            && p.any(&["serviceprincipalid", "serviceprincipalname"])
            && p.any(&["appid", "ipaddress", "status"]))
        || (p.has("resulttype") && p.has("appdisplayname") && p.has("userprincipalname"))
    {
        return Some(LogFormat::EntraSignin);
    }
    // Entra diagnostic records name the tenant as `/tenants/<id>/providers/Microsoft.aadiam`;
    // some exporters put the Graph category (`Policy`, `ApplicationManagement`, ...) in
    // `category` instead of `AuditLogs`. (Activity-log records about Entra's own diagnostic
    // settings use `/providers/microsoft.aadiam/diagnosticSettings/...`, without `/tenants/`.)
    if category == "auditlogs"
        || type_col == "AuditLogs"
        || (p.has("activitydisplayname") && p.has("activitydatetime"))
        || (p.has("initiatedby") && p.has("targetresources"))
        || (resource_id.starts_with("/TENANTS/") && resource_id.contains("/PROVIDERS/MICROSOFT.AADIAM"))
    {
        return Some(LogFormat::EntraAudit);
    }
    // Key Vault resource log: AuditEvent on a vault (storage / Event Hub record, a Log
    // Analytics `AzureDiagnostics` row naming the provider, an `AZKVAuditLogs` row).
    if (category == "auditevent"
        && (resource_id.contains("/PROVIDERS/MICROSOFT.KEYVAULT/")
            || p.str("ResourceProvider").is_some_and(|r| r.eq_ignore_ascii_case("MICROSOFT.KEYVAULT"))))
        || type_lower == "azkvauditlogs"
    {
        return Some(LogFormat::KeyVaultAudit);
    }
    // Azure Activity: diagnostic record, REST / CLI shapes, Sentinel AzureActivity; other
    // Azure Monitor resource logs (`operationName` + `category`) travel with it.
    if (p.has("operationname") && p.any(&["resourceid", "resourceuri", "eventtimestamp", "callerippaddress", "category"]))
        || (p.has("operation_name") && p.has("event_timestamp"))
        || p.has("operationnamevalue")
        || type_col == "AzureActivity"
    {
        return Some(LogFormat::AzureActivity);
    }
    None
}

/// What a whole JSON document (one top-level object) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `{"Records":[...]}`: a CloudTrail log object (API calls or Insights events).
    CloudTrailRecords,
    /// `{"records":[...]}`: an Azure Monitor blob or Event Hub body.
    AzureRecords,
    /// `{"value":[...]}`: a Microsoft Graph / ARM REST page.
    GraphPage,
    /// A CloudTrail digest file (integrity data, no events).
    CloudTrailDigest,
    /// An AWS Config snapshot or history file.
    AwsConfig,
    /// A single record.
    Single,
}

/// Classifies a top-level JSON object by its keys.
pub fn classify_document(map: &Map<String, Value>) -> Document {
    let is_array = |k: &str| map.get(k).is_some_and(Value::is_array);
    if is_array("Records") {
        Document::CloudTrailRecords
    } else if is_array("records") {
        Document::AzureRecords
    } else if is_array("value") && !map.contains_key("operationName") {
        Document::GraphPage
    } else if map.contains_key("digestStartTime") || map.contains_key("digestPublicKeyFingerprint") {
        Document::CloudTrailDigest
    } else if map.contains_key("configurationItems") || map.contains_key("configSnapshotId") {
        Document::AwsConfig
    } else {
        Document::Single
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(json: &str) -> Option<LogFormat> {
        detect_record(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn recognises_each_shape() {
        assert_eq!(detect(r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}"#), Some(LogFormat::CloudTrail));
        assert_eq!(detect(r#"{"EventId":"x","CloudTrailEvent":"{}"}"#), Some(LogFormat::CloudTrail));
        assert_eq!(detect(r#"{"insertId":"t1","protoPayload":{}}"#), Some(LogFormat::GcpAudit));
        assert_eq!(
            detect(r#"{"CreationTime":"2024-03-04T10:30:00","Id":"a","Operation":"MailItemsAccessed","Workload":"Exchange"}"#),
            Some(LogFormat::M365Audit)
        );
        assert_eq!(detect(r#"{"creationtime":"x","operation":"Set-Mailbox","workload":"Exchange"}"#), Some(LogFormat::M365Audit));
        assert_eq!(detect(r#"{"time":"x","operationName":"Update policy","category":"AuditLogs"}"#), Some(LogFormat::EntraAudit));
        assert_eq!(detect(r#"{"time":"x","operationName":"Sign-in activity","category":"SignInLogs"}"#), Some(LogFormat::EntraSignin));
        assert_eq!(
            detect(r#"{"time":"x","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V","operationName":"SecretGet","category":"AuditEvent"}"#),
            Some(LogFormat::KeyVaultAudit)
        );
        assert_eq!(
            detect(r#"{"time":"x","resourceId":"/subscriptions/s","operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","category":"Administrative"}"#),
            Some(LogFormat::AzureActivity)
        );
        assert_eq!(detect(r#"{"logName":"projects/p/logs/syslog","jsonPayload":{}}"#), Some(LogFormat::GcpAudit));
        // Azure family: other spellings of the same shapes.
        assert_eq!(
            detect(r#"{"TimeGenerated":"x","Category":"AuditEvent","ResourceProvider":"MICROSOFT.KEYVAULT","OperationName":"SecretGet"}"#),
            Some(LogFormat::KeyVaultAudit)
        );
        assert_eq!(
            detect(r#"{"time":"x","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Add member to role","category":"RoleManagement"}"#),
            Some(LogFormat::EntraAudit)
        );
        assert_eq!(detect(r#"{"Type":"AADNonInteractiveUserSignInLogs","UserPrincipalName":"a@b.c"}"#), Some(LogFormat::EntraSignin));
        assert_eq!(
            detect(r#"{"createdDateTime":"x","servicePrincipalId":"s","appId":"a","ipAddress":"1.2.3.4"}"#),
            Some(LogFormat::EntraSignin)
        );
        assert_eq!(detect(r#"{"eventTimestamp":"x","operationName":{"value":"Microsoft.Compute/virtualMachines/write"}}"#), Some(LogFormat::AzureActivity));
        assert_eq!(detect(r#"{"operation_name":{"value":"v"},"event_timestamp":"x"}"#), Some(LogFormat::AzureActivity));
        assert_eq!(detect(r#"{"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read"}"#), Some(LogFormat::AzureActivity));
        assert_eq!(detect(r#"{"OperationNameValue":"MICROSOFT.WEB/SITES/DELETE","Type":"AzureActivity"}"#), Some(LogFormat::AzureActivity));
        assert_eq!(
            detect(r#"{"time":"x","resourceId":"/providers/microsoft.aadiam/diagnosticSettings/d","operationName":"microsoft.aadiam/diagnosticSettings/delete","category":"Administrative"}"#),
            Some(LogFormat::AzureActivity)
        );
        assert_eq!(detect(r#"{"Identity":"x","AuditData":"{}"}"#), Some(LogFormat::M365Audit));
        assert_eq!(detect(r#"{"class_uid":6003,"metadata":{}}"#), Some(LogFormat::Ocsf));
        assert_eq!(detect(r#"{"hello":"world"}"#), None);
    }

    #[test]
    fn classifies_documents() {
        let c = |j: &str| classify_document(&serde_json::from_str(j).unwrap());
        assert_eq!(c(r#"{"Records":[]}"#), Document::CloudTrailRecords);
        assert_eq!(c(r#"{"records":[]}"#), Document::AzureRecords);
        assert_eq!(c(r#"{"digestStartTime":"x","logFiles":[]}"#), Document::CloudTrailDigest);
        assert_eq!(c(r#"{"fileVersion":"1.0","configurationItems":[]}"#), Document::AwsConfig);
        assert_eq!(c(r#"{"message":"x","items":[]}"#), Document::Single);
    }
}
