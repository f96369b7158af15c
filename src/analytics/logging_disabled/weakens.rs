//! Whether a logging *configuration change* weakens logging, read from its request.
//!
//! The same API both weakens and restores logging (PutEventSelectors, PutBucketLogging), so
//! a finding that pages on every call pages on the repair too. Panther's
//! `AWS.CloudTrail.EventSelectorsDisabled` and `AWS.S3.DisableBucketLogging` rules inspect
//! the request the same way; their labelled test events are the regression set
//! (`tests/it/pipeline.rs`).

use serde_json::Value;

/// `Some(true)` when the request weakens logging, `Some(false)` when it keeps or enables it,
/// `None` when the operation is not one this module knows or the request cannot tell.
pub fn weakens(operation: &str, request_params: Option<&str>) -> Option<bool> {
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
        _ => None,
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

    #[test]
    fn update_trail_only_when_a_guard_is_turned_off() {
        assert_eq!(weakens("UpdateTrail", Some(r#"{"name":"t","isMultiRegionTrail":false}"#)), Some(true));
        assert_eq!(weakens("UpdateTrail", Some(r#"{"name":"t","s3BucketName":"b"}"#)), None);
        assert_eq!(weakens("StopLogging", Some(r#"{"name":"t"}"#)), None);
    }
}
