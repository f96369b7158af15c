//! Whether a logging *configuration change* weakens logging, read from its request.
//!
//! The same API both weakens and restores logging (PutEventSelectors, PutBucketLogging), so
//! a finding that pages on every call pages on the repair too. Panther's
//! `AWS.CloudTrail.EventSelectorsDisabled` and `AWS.S3.DisableBucketLogging` rules inspect
//! the request the same way; their labelled test events are the regression set
//! (`tests/it/pipeline.rs`). Azure and GCP follow Panther's `GCP.VPC.Flow.Logs.Disabled`,
//! `GCP.Logging.Sink.Modified` / `GCP.Logging.Settings.Modified` (exclusions) and Microsoft's
//! diagnostic-setting schema (a setting whose log categories are all disabled sends nothing).

use serde_json::Value;

use crate::analytics::signal::json;

/// `Some(true)` when the request weakens logging, `Some(false)` when it keeps or enables it,
/// `None` when the operation is not one this module knows or the request cannot tell.
pub fn weakens(operation: &str, request_params: Option<&str>) -> Option<bool> {
    // A Defender for Cloud suppression rule hides alerts by definition (Elastic "Azure
    // Alert Suppression Rule Created or Modified"); only one written disabled does not.
    if operation.to_ascii_lowercase().ends_with("/alertssuppressionrules/write") {
        let state = json::parse(request_params).and_then(|r| json::find(&r, "state")).map(|s| json::text(&s));
        return Some(!state.is_some_and(|s| s.eq_ignore_ascii_case("disabled")));
    }
    let req: Value = serde_json::from_str(request_params?).ok()?;
    match operation {
        "PutEventSelectors" => event_selectors(&req),
        "PutBucketLogging" => {
            // An empty BucketLoggingStatus turns server access logging off.
            let status = req.get("BucketLoggingStatus")?;
            Some(status.get("LoggingEnabled").is_none())
        }
        "UpdateTrail" => {
            let off = |k: &str| req.get(k).and_then(Value::as_bool) == Some(false);
            let weakened = off("isMultiRegionTrail") || off("includeGlobalServiceEvents") || off("enableLogFileValidation");
            weakened.then_some(true)
        }
        // Exchange cmdlet parameters arrive as strings ("False", "$false", "True").
        "Set-AdminAuditLogConfig" => {
            let ingestion = ps_bool(req.get("UnifiedAuditLogIngestionEnabled"));
            let admin = ps_bool(req.get("AdminAuditLogEnabled"));
            match (ingestion, admin) {
                (Some(false), _) | (_, Some(false)) => Some(true),
                (Some(true), _) | (_, Some(true)) => Some(false),
                _ => None,
            }
        }
        "Set-MailboxAuditBypassAssociation" => ps_bool(req.get("AuditBypassEnabled")),
        _ => cloud(operation, &req),
    }
}

/// Azure and GCP operations, whose names vary in case and API version.
fn cloud(operation: &str, req: &Value) -> Option<bool> {
    let op = operation.to_ascii_lowercase();
    if op.ends_with("diagnosticsettings/write") {
        return diagnostic_setting(req);
    }
    if op.ends_with("compute.subnetworks.patch") {
        return Some(flow_logs_off(req));
    }
    let method = op.rsplit('.').next().unwrap_or("");
    let disabled = |v: Option<Value>| v.as_ref().and_then(json::as_bool);
    match method {
        "updatesink" | "createsink" => {
            let sink = req.get("sink").unwrap_or(req);
            if disabled(sink.get("disabled").cloned()) == Some(true) {
                return Some(true);
            }
            let excludes = sink.get("exclusions").and_then(Value::as_array).is_some_and(|x| {
                x.iter().any(|e| disabled(e.get("disabled").cloned()) != Some(true))
            });
            excludes.then_some(true)
        }
        // An exclusion drops every matching entry, unless it is created or set disabled.
        "createexclusion" | "updateexclusion" => {
            let ex = req.get("exclusion").unwrap_or(req);
            match disabled(ex.get("disabled").cloned()) {
                Some(true) => Some(false),
                Some(false) => Some(true),
                None if method == "createexclusion" || ex.get("filter").is_some() => Some(true),
                None => None,
            }
        }
        "updatesettings" => {
            let settings = req.get("settings").unwrap_or(req);
            disabled(settings.get("disableDefaultSink").cloned())
        }
        _ => None,
    }
}

/// A subnet patch turns flow logs off (`enableFlowLogs: false`, `logConfig.enable: false`);
/// one that does not mention them leaves them as they were.
fn flow_logs_off(req: &Value) -> bool {
    let off = |v: Option<&Value>| v.and_then(json::as_bool) == Some(false);
    off(req.get("enableFlowLogs")) || off(req.get("logConfig").and_then(|l| l.get("enable")))
}

/// An Azure diagnostic setting (Activity `properties`, with the body in `requestbody`):
/// every log category disabled (or none) weakens, every one enabled keeps logging, a mix
/// or no `logs` list cannot be told from one record.
fn diagnostic_setting(req: &Value) -> Option<bool> {
    let mut found = Vec::new();
    json::find_all(req, "logs", &mut found);
    let logs = found.into_iter().find_map(|v| v.as_array().cloned())?;
    let enabled: Vec<Option<bool>> = logs.iter().map(|l| l.get("enabled").and_then(json::as_bool)).collect();
    if enabled.iter().all(|e| *e == Some(false)) {
        Some(true)
    } else if enabled.iter().all(|e| *e == Some(true)) {
        Some(false)
    } else {
        None
    }
}

/// A PowerShell boolean as the unified audit log writes cmdlet parameters: JSON bools or
/// the strings `True` / `False` / `$true` / `$false` (any case).
fn ps_bool(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().trim_start_matches('$').to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Basic selectors weaken a trail when any drops management events or records only reads
/// or only writes, or when there are none; advanced selectors are not judged (`None`).
fn event_selectors(req: &Value) -> Option<bool> {
    if req.get("advancedEventSelectors").is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty())) {
        return None;
    }
    let selectors = req.get("eventSelectors")?.as_array()?;
    if selectors.is_empty() {
        return Some(true);
    }
    Some(selectors.iter().any(|s| {
        s.get("includeManagementEvents").and_then(Value::as_bool) == Some(false)
            || s.get("readWriteType").and_then(Value::as_str).is_some_and(|t| t != "All")
    }))
}

#[cfg(test)]
mod tests {
    use super::weakens;

    #[test]
    fn event_selectors_from_the_stratus_and_invictus_runs() {
        let off = r#"{"trailName":"t","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":[]}]}"#;
        let on = r#"{"trailName":"t","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true,"dataResources":[],"excludeManagementEventSources":[]}]}"#;
        assert_eq!(weakens("PutEventSelectors", Some(off)), Some(true));
        assert_eq!(weakens("PutEventSelectors", Some(on)), Some(false));
        assert_eq!(weakens("PutEventSelectors", Some(r#"{"eventSelectors":[]}"#)), Some(true));
        assert_eq!(weakens("PutEventSelectors", Some(r#"{"advancedEventSelectors":[{"name":"x"}]}"#)), None);
    }

    #[test]
    fn bucket_logging_off_and_on() {
        assert_eq!(weakens("PutBucketLogging", Some(r#"{"BucketLoggingStatus":{"xmlns":"x"}}"#)), Some(true));
        assert_eq!(weakens("PutBucketLogging", Some(r#"{"BucketLoggingStatus":{"LoggingEnabled":{"TargetBucket":"b"}}}"#)), Some(false));
        assert_eq!(weakens("PutBucketLogging", Some(r#"{"bucketName":"b"}"#)), None);
        assert_eq!(weakens("PutBucketLogging", None), None);
    }

    #[test]
    fn exchange_audit_configuration() {
        let set = |p: &str| weakens("Set-AdminAuditLogConfig", Some(p));
        assert_eq!(set(r#"{"UnifiedAuditLogIngestionEnabled":"False"}"#), Some(true));
        assert_eq!(set(r#"{"UnifiedAuditLogIngestionEnabled":"$true"}"#), Some(false));
        assert_eq!(set(r#"{"AdminAuditLogEnabled":"True","UnifiedAuditLogIngestionEnabled":"false"}"#), Some(true));
        assert_eq!(set(r#"{"AdminAuditLogAgeLimit":"90.00:00:00"}"#), None);
        assert_eq!(weakens("Set-MailboxAuditBypassAssociation", Some(r#"{"Identity":"svc","AuditBypassEnabled":"True"}"#)), Some(true));
    }

    /// Panther `GCP.VPC.Flow.Logs.Disabled`, `GCP.Logging.Sink.Modified` and
    /// `GCP.Logging.Settings.Modified` test requests.
    #[test]
    fn gcp_flow_logs_sinks_exclusions_and_settings() {
        let patch = |r: &str| weakens("v1.compute.subnetworks.patch", Some(r));
        assert_eq!(patch(r#"{"enableFlowLogs":false,"fingerprint":"x"}"#), Some(true));
        assert_eq!(patch(r#"{"logConfig":{"enable":false}}"#), Some(true));
        assert_eq!(patch(r#"{"fingerprint":"x","logConfig":{"enable":true}}"#), Some(false));
        assert_eq!(patch(r#"{"secondaryIpRanges":[]}"#), Some(false));
        let sink = |r: &str| weakens("google.logging.v2.ConfigServiceV2.UpdateSink", Some(r));
        assert_eq!(sink(r#"{"sink":{"name":"s","exclusions":[{"filter":"*","name":"excludeall"}]}}"#), Some(true));
        assert_eq!(sink(r#"{"sink":{"name":"s","disabled":true}}"#), Some(true));
        assert_eq!(sink(r#"{"sink":{"name":"s","destination":"d"}}"#), None);
        let ex = |op: &str, r: &str| weakens(op, Some(r));
        assert_eq!(ex("google.logging.v2.ConfigServiceV2.CreateExclusion", r#"{"exclusion":{"filter":"severity<ERROR"}}"#), Some(true));
        assert_eq!(ex("google.logging.v2.ConfigServiceV2.UpdateExclusion", r#"{"exclusion":{"disabled":true}}"#), Some(false));
        assert_eq!(ex("google.logging.v2.ConfigServiceV2.UpdateSettings", r#"{"settings":{"disableDefaultSink":true}}"#), Some(true));
    }

    #[test]
    fn azure_alert_suppression_rules_weaken_unless_disabled() {
        let op = "MICROSOFT.SECURITY/ALERTSSUPPRESSIONRULES/WRITE";
        assert_eq!(weakens(op, None), Some(true));
        assert_eq!(weakens(op, Some(r#"{"requestbody":"{\"properties\":{\"state\":\"Disabled\"}}"}"#)), Some(false));
        assert_eq!(weakens(op, Some(r#"{"properties":{"state":"Enabled"}}"#)), Some(true));
    }

    #[test]
    fn azure_diagnostic_setting_that_drops_every_category() {
        let op = "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE";
        let body = |logs: &str| {
            let inner = format!(r#"{{"properties":{{"workspaceId":"w","logs":{logs}}}}}"#);
            serde_json::json!({ "requestbody": inner }).to_string()
        };
        assert_eq!(weakens(op, Some(&body(r#"[{"category":"A","enabled":false},{"category":"B","enabled":false}]"#))), Some(true));
        assert_eq!(weakens(op, Some(&body("[]"))), Some(true));
        assert_eq!(weakens(op, Some(&body(r#"[{"categoryGroup":"allLogs","enabled":true}]"#))), Some(false));
        assert_eq!(weakens(op, Some(&body(r#"[{"category":"A","enabled":true},{"category":"B","enabled":false}]"#))), None);
        assert_eq!(weakens(op, Some(r#"{"eventCategory":"Administrative"}"#)), None);
    }

    #[test]
    fn update_trail_only_when_a_guard_is_turned_off() {
        assert_eq!(weakens("UpdateTrail", Some(r#"{"name":"t","isMultiRegionTrail":false}"#)), Some(true));
        assert_eq!(weakens("UpdateTrail", Some(r#"{"name":"t","s3BucketName":"b"}"#)), None);
        assert_eq!(weakens("StopLogging", Some(r#"{"name":"t"}"#)), None);
    }
}
