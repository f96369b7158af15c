//! `azure_activity`: the Azure Activity log and other Azure Monitor resource-log records
//! delivered with it (provider `azure`).
//!
//! # Shapes read
//! - **Diagnostic-setting records** (storage `{"records":[…]}` blobs, `PT1H.json` JSON lines,
//!   Event Hub bodies): `time, resourceId, operationName, category, resultType,
//!   resultSignature, callerIpAddress, correlationId, identity{authorization, claims}, level,
//!   location, properties, tenantId`. `identity` and `properties` may be objects or strings
//!   holding JSON (decoded once; case P24). Resource logs of other categories that ride the
//!   same pipe are read with the same rules: `StorageRead/Write/Delete` (`statusCode`,
//!   `statusText`, `identity{type, tokenHash, requester}`, `uri`) and AKS `kube-audit`
//!   (`properties.log` holds a Kubernetes audit event).
//! - **REST / `az monitor activity-log list --output json`**: camelCase `eventTimestamp`,
//!   `operationName{value, localizedValue}`, `caller`, `claims`, `authorization`,
//!   `subscriptionId`, `eventDataId`, `operationId`, `status{value}`, `subStatus{value}`,
//!   `httpRequest{clientIpAddress}`, `resourceProviderName{value}`.
//! - **CLI / Python SDK snake_case**: `event_timestamp`, `operation_name{value}`,
//!   `event_data_id`, `subscription_id`, `http_request{client_ip_address}`, ...
//! - **Sentinel `AzureActivity` exports** (CSV or JSON): `TimeGenerated [UTC]` (portal format
//!   `4/28/2021, 2:32:14.029 PM`, read as UTC), `OperationNameValue`, `Caller`,
//!   `CallerIpAddress`, `ActivityStatusValue`, `ActivitySubstatusValue`, `Properties_d`,
//!   `Claims_d`, `Authorization_d`, `HTTPRequest`, `SubscriptionId`, `_ResourceId`,
//!   `CorrelationId`, `EventDataId`, `ResourceProviderValue`. Sentinel's `TenantId` is the
//!   Log Analytics *workspace* and is never read.
//!
//! Keys are matched exactly, then ASCII case-insensitively.
//!
//! The four Microsoft-cloud formats (`azure_activity`, `keyvault_audit`, `entra_audit`,
//! `entra_signin`) share one entry point ([`shared::normalise_family`]): a record that
//! format detection gives to a sibling (a Key Vault `AuditEvent` in an Event Hub stream of
//! Activity records, a sign-in after audit records) is normalised by that sibling and keeps
//! its own `log_format`, also under `--format`.
//!
//! # Field mapping
//! | column | from (first present wins) |
//! |---|---|
//! | `time` | `eventTimestamp` → `event_timestamp` → `time` → `TimeGenerated` → `TimeGenerated [UTC]`; `kube-audit` records without any of them: the audit event's `stageTimestamp` → `requestReceivedTimestamp`. Never `submissionTimestamp` / `EventSubmissionTimestamp` (ingest side). 7 fraction digits truncated to µs. |
//! | `event_uid` (dedup key) | `eventDataId` / `event_data_id` / `EventDataId` → `properties.eventDataId` → `<correlationId>:<operationId>:<status_raw>` when an `operationId` is logged (the status keeps an operation's Started and Succeeded records apart) → `sha256:` + 32 hex of the record's canonical JSON (keys sorted, no white space). Diagnostic-setting records carry no `eventDataId`: byte-different copies of one record (pretty `{"records":[…]}` blob and `PT1H.json` line) still get one id, while two records that differ in any field stay two events. |
//! | `account_uid` | `subscriptionId` / `subscription_id` / `SubscriptionId` → the `/subscriptions/<id>/` of `resourceId` / `resource_id` / `_ResourceId` / `ResourceId` → `properties.subscriptionId` → `properties.entity` → `authorization.scope`; lower-cased. Tenant-scope operations (`/providers/Microsoft.Authorization/elevateAccess/action`, management groups) name no subscription: the record's `tenantId` / `tenant_id` is used. Nothing → quarantined `missing_subscription_id`. |
//! | `region` | `location` (`eastus`, `global`) as logged |
//! | actor | see [`shared::claims_actor`] for `caller` + claims (`claims`, `Claims_d`, `identity.claims`); then a storage `identity.requester` (`upn` → `user`, `objectId` → `service_principal`) or `identity.type` (`SAS`, `AccountKey`: `unknown`, key = `tokenHash`); then `authorization.evidence.principalId` by `principalType`; then the `kube-audit` user (`system:serviceaccount:…` → `service_account`, other `system:…` → `system`, with `@` → `user`, else `unknown`); else `none` (ResourceHealth, Advisor and Policy events name no caller) |
//! | `actor_account_uid` | the caller's home tenant (`tid` claim) |
//! | `src_ip` / `src_port` / `src_host` | `callerIpAddress` → `httpRequest.clientIpAddress` / `http_request.client_ip_address` / `HTTPRequest` → `ipaddr` claim → `kube-audit` `sourceIPs[0]`, through [`net::split_src`](super::net::split_src) (storage logs add a port) |
//! | `user_agent` | `properties.userAgentHeader` (storage) → `kube-audit` `userAgent`; ARM records log none |
//! | `service` | the resource-provider namespace: head of the operation name (`MICROSOFT.KEYVAULT/…`) → `resourceProviderName` / `ResourceProviderValue` → last `/providers/<ns>` of the resource id → `Microsoft.Storage` for `Storage*` categories → `unknown`; one spelling whatever the logged case ([`shared::canonical_provider`]: `Microsoft.KeyVault`) |
//! | `operation` | `OperationNameValue` (Sentinel; its `OperationName` column is the localized display name, read only when there is no value column) → `operationName` (string or `{value}`) → `operation_name`, **upper-cased**: the diagnostic and Sentinel shapes log `MICROSOFT.KEYVAULT/VAULTS/DELETE`, REST logs `Microsoft.KeyVault/vaults/delete`, Panther copies both; upper case is Microsoft's own spelling in two of the three, so it is the canonical one (storage operations too: `GetBlob` → `GETBLOB`) |
//! | `status`, `status_raw` | `status` (`{value}` or text) → `ActivityStatusValue` / `ActivityStatus` → `resultType` → `properties.activityStatusValue` → first part of `resultSignature` (`Succeeded.OK`) → storage `statusCode` (`status_raw` = `statusText` when logged) → storage `properties.metricResponseType` (`…Success` → `success`, `…Error` / `…Failure` → `failure`) → `kube-audit` `responseStatus.code`, through [`status_of`]; `status_raw` is that text as logged |
//! | `error_code`, `error_message` | failures only: `properties.statusMessage.error.code` → `subStatus` / `ActivitySubstatusValue` → `properties.statusCode` → `resultSignature` (after the `.`) → storage `statusText` / `statusCode` / `properties.metricResponseType`; message: `statusMessage.error.message` → `resultDescription` → `kube-audit` `responseStatus.message` |
//! | `resource_uid` | storage categories: `properties.objectKey` → `uri` without its query (SAS signatures are not copied) → the resource id; else `resourceId` / `resource_id` / `_ResourceId` / `ResourceId` → `properties.entity` → `authorization.scope`. ARM ids are case-insensitive and every shape spells them differently, so they are lower-cased. |
//! | `request_params` | `Properties_d` / `properties` / `Properties`: an object as JSON text; a string holding JSON decoded once (case P24); a string that is not JSON kept as a JSON string literal (the record is kept). Nested strings (`responseBody`, `requestbody`, `statusMessage`, `log`) stay strings. |
//! | `response_elements` | NULL (`responseBody` stays inside `request_params`) |
//!
//! # Status table ([`status_of`], case-insensitive)
//! `Succeeded`, `Success` → `success`; `Failed`, `Failure`, `Canceled`, `Cancelled` →
//! `failure` (the change did not take effect); `PartiallySucceeded` → `partial`; `Started`,
//! `Start`, `Accepted`, `Accept`, `Active`, `Resolved`, `In Progress`, `Updated` and anything
//! else → `unknown`; an HTTP status code: 1xx–3xx `success`, 4xx–5xx `failure`.
//!
//! # One operation, several records
//! ARM logs a write as `Started` (sometimes `Accepted`) and then `Succeeded` / `Failed`
//! records with one `correlationId` and distinct `eventDataId`s. Each stays its own event
//! (the Started one has `status` `unknown`). An analytic that counts operations must count
//! distinct `(correlationId, operation)` pairs (the `correlationId` is in `raw_event`), or
//! only records whose status is not `unknown`; counting rows counts each operation two or
//! three times.
//!
//! # Quarantine reasons
//! `invalid_json`, `missing_event_time`, `invalid_event_time`, `missing_operation_name`,
//! `missing_subscription_id`.

use std::borrow::Cow;

use serde_json::Value;

use super::{NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

pub(crate) mod shared;
#[cfg(test)]
mod tests;

use shared::{
    as_object, claims_actor, evidence_actor, field, first, get, get_any, json_column, object, Actor, Claims, Obj,
};

/// Normaliser for `LogFormat::AzureActivity`.
pub struct AzureActivity;

impl Normaliser for AzureActivity {
    fn format(&self) -> LogFormat {
        LogFormat::AzureActivity
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        shared::normalise_family(self.format(), record, opts, out)
    }
}

/// Event-time fields, in precedence order.
const TIME_FIELDS: [&str; 5] = ["eventTimestamp", "event_timestamp", "time", "TimeGenerated", "TimeGenerated [UTC]"];

pub(crate) fn normalise_record(rec: &Obj) -> Result<Event<'static>, Reject> {
    let props_value = get_any(rec, &["Properties_d", "properties"]);
    let props = props_value.and_then(as_object);
    let category = first(rec, &["category", "CategoryValue"]).unwrap_or_default().to_ascii_lowercase();
    let kube = (category == "kube-audit")
        .then(|| props.as_deref().and_then(|p| get(p, "log")).and_then(as_object).map(Cow::into_owned))
        .flatten();

    let time = match shared::event_time(rec, &TIME_FIELDS) {
        Err(r) if r.reason == "missing_event_time" => match &kube {
            Some(log) => shared::event_time(log, &["stageTimestamp", "requestReceivedTimestamp"]).map_err(|_| r)?,
            None => return Err(r),
        },
        other => other?,
    };
    // Sentinel's `OperationName` is the localized display name (`Delete Key Vault`): its
    // `OperationNameValue` comes first (a case-insensitive `operationName` would find it).
    let operation_raw = first(rec, &["OperationNameValue", "operationName", "operation_name"])
        .ok_or_else(|| Reject::missing("missing_operation_name", "operationName"))?;
    let operation = operation_raw.to_ascii_uppercase();
    let resource_id = first(rec, &["resourceId", "resource_id", "_ResourceId", "ResourceId"]);
    let prop = |k: &str| props.as_deref().and_then(|p| field(p, k));
    let identity = object(rec, &["identity"]);
    let authorization = object(rec, &["Authorization_d", "authorization"])
        .or_else(|| identity.as_deref().and_then(|i| object(i, &["authorization"])));

    let account = account_of(rec, resource_id.as_deref(), &prop, authorization.as_deref())
        .ok_or_else(|| Reject::missing("missing_subscription_id", "subscriptionId"))?;

    // Status first: the fallback event id needs its raw text.
    let (status, status_raw) = status(rec, &prop, kube.as_ref());

    let event_uid = first(rec, &["eventDataId", "event_data_id"])
        .or_else(|| prop("eventDataId"))
        .or_else(|| {
            let op_id = first(rec, &["operationId", "operation_id"])?;
            let corr = first(rec, &["correlationId", "correlation_id"])?;
            Some(format!("{corr}:{op_id}:{}", status_raw.as_deref().unwrap_or("")))
        })
        .unwrap_or_else(|| shared::content_uid(rec));

    let service = service_of(rec, &operation_raw, resource_id.as_deref(), &category);
    let mut e = Event::new(time, event_uid.into(), Provider::Azure, LogFormat::AzureActivity, account.into(), service.into(), operation.into());
    e.region = field(rec, "location").map(Cow::Owned);
    e.status = status;
    e.status_raw = status_raw.map(Cow::Owned);

    // Actor.
    let claims = object(rec, &["Claims_d", "claims"])
        .or_else(|| identity.as_deref().and_then(|i| object(i, &["claims", "claim"])))
        .map(|c| Claims::from_object(&c))
        .unwrap_or_default();
    let caller = first(rec, &["caller"]).or_else(|| prop("caller"));
    let mut actor = claims_actor(&claims, caller.as_deref());
    if actor.kind == ActorType::None {
        actor = identity
            .as_deref()
            .and_then(storage_actor)
            .or_else(|| authorization.as_deref().and_then(evidence_actor))
            .or_else(|| kube.as_ref().and_then(kube_actor))
            .unwrap_or_else(Actor::none);
    }
    actor.apply(&mut e);

    // Source address and user agent.
    let http = object(rec, &["httpRequest", "http_request", "HTTPRequest"]);
    let kube_ip = kube.as_ref().and_then(|l| get(l, "sourceIPs")).and_then(|v| v.as_array()?.first().and_then(shared::text));
    let addr = first(rec, &["callerIpAddress"])
        .or_else(|| http.as_deref().and_then(|h| first(h, &["clientIpAddress", "client_ip_address"])))
        .or_else(|| claims.get(&["ipaddr"]).map(str::to_string))
        .or(kube_ip);
    shared::set_src(&mut e, addr.as_deref());
    e.user_agent = prop("userAgentHeader").or_else(|| kube.as_ref().and_then(|l| field(l, "userAgent"))).map(Cow::Owned);

    if e.status == Status::Failure {
        let (code, message) = error_of(rec, &prop, kube.as_ref());
        e.error_code = code.map(Cow::Owned);
        e.error_message = message.map(Cow::Owned);
    }

    e.resource_uid = resource_of(rec, resource_id.as_deref(), &prop, authorization.as_deref(), &category).map(Cow::Owned);
    e.request_params = props_value.and_then(json_column).map(Cow::Owned);
    Ok(e)
}

/// Account precedence of the module docs.
fn account_of(rec: &Obj, resource_id: Option<&str>, prop: &dyn Fn(&str) -> Option<String>, authorization: Option<&Obj>) -> Option<String> {
    if let Some(s) = first(rec, &["subscriptionId", "subscription_id"]) {
        return Some(s.to_ascii_lowercase());
    }
    resource_id
        .and_then(shared::subscription_of)
        .or_else(|| prop("subscriptionId").map(|s| s.to_ascii_lowercase()))
        .or_else(|| prop("entity").as_deref().and_then(shared::subscription_of))
        .or_else(|| authorization.and_then(|a| field(a, "scope")).as_deref().and_then(shared::subscription_of))
        .or_else(|| {
            // Sentinel's `TenantId` column is the workspace, not the tenant.
            let sentinel = get(rec, "Type").is_some() || get(rec, "SourceSystem").is_some();
            let tenant = if sentinel { first(rec, &["tenant_id"]) } else { first(rec, &["tenantId", "tenant_id"]) };
            tenant.map(|t| t.to_ascii_lowercase())
        })
}

/// Service precedence of the module docs.
fn service_of(rec: &Obj, operation: &str, resource_id: Option<&str>, category: &str) -> String {
    let from_op = operation.split_once('/').map(|(head, _)| head.trim()).filter(|h| h.contains('.'));
    if let Some(ns) = from_op {
        return shared::canonical_provider(ns);
    }
    if let Some(ns) = first(rec, &["resourceProviderName", "resource_provider_name", "ResourceProviderValue", "ResourceProvider"]) {
        return shared::canonical_provider(&ns);
    }
    if let Some(ns) = resource_id.and_then(shared::provider_of_resource) {
        return ns;
    }
    let storage_uri = field(rec, "uri").is_some_and(|u| u.contains(".core.windows.net"));
    if category.starts_with("storage") || storage_uri {
        return "Microsoft.Storage".to_string();
    }
    "unknown".to_string()
}

/// Status and its raw text, by the precedence of the module docs.
fn status(rec: &Obj, prop: &dyn Fn(&str) -> Option<String>, kube: Option<&Obj>) -> (Status, Option<String>) {
    if let Some(raw) = first(rec, &["status", "ActivityStatusValue", "ActivityStatus", "resultType"]).or_else(|| prop("activityStatusValue")) {
        return (status_of(&raw), Some(raw));
    }
    if let Some(sig) = field(rec, "resultSignature") {
        let head = sig.split('.').next().unwrap_or(&sig).to_string();
        return (status_of(&head), Some(sig));
    }
    if let Some(code) = field(rec, "statusCode") {
        let s = status_of(&code);
        return (s, field(rec, "statusText").or(Some(code)));
    }
    if let Some(m) = prop("metricResponseType") {
        // Storage logs: `Success`, `SASSuccess`, `AnonymousSuccess`, `ClientOtherError`,
        // `AuthorizationError`, `NetworkError`, ...
        let l = m.to_ascii_lowercase();
        let s = if l.ends_with("success") {
            Status::Success
        } else if l.contains("error") || l.contains("failure") {
            Status::Failure
        } else {
            Status::Unknown
        };
        return (s, Some(m));
    }
    if let Some(code) = kube.and_then(|l| object(l, &["responseStatus"])).and_then(|r| field(&r, "code")) {
        return (status_of(&code), Some(code));
    }
    (Status::Unknown, None)
}

/// The status table (module docs).
pub fn status_of(raw: &str) -> Status {
    let t = raw.trim().to_ascii_lowercase();
    match t.as_str() {
        "succeeded" | "success" => Status::Success,
        "failed" | "failure" | "canceled" | "cancelled" => Status::Failure,
        "partiallysucceeded" => Status::Partial,
        _ => match shared::http_status_ok(&t) {
            Some(true) => Status::Success,
            Some(false) => Status::Failure,
            None => Status::Unknown,
        },
    }
}

/// Error code and message of a failed record (module docs).
fn error_of(rec: &Obj, prop: &dyn Fn(&str) -> Option<String>, kube: Option<&Obj>) -> (Option<String>, Option<String>) {
    let status_message = prop("statusMessage").map(|s| shared::decode_once(&Value::String(s)));
    let err = status_message.as_ref().and_then(|m| {
        let o = m.as_object()?;
        Some(get(o, "error").and_then(Value::as_object).unwrap_or(o).clone())
    });
    let code = err
        .as_ref()
        .and_then(|e| field(e, "code"))
        .or_else(|| first(rec, &["subStatus", "sub_status", "ActivitySubstatusValue", "ActivitySubstatus"]))
        .or_else(|| prop("statusCode"))
        .or_else(|| field(rec, "resultSignature").map(|s| s.split_once('.').map_or(s.clone(), |(_, tail)| tail.to_string())))
        .or_else(|| first(rec, &["statusText", "statusCode"]))
        .or_else(|| prop("metricResponseType"))
        .or_else(|| kube.and_then(|l| object(l, &["responseStatus"])).and_then(|r| field(&r, "code")));
    let message = err
        .as_ref()
        .and_then(|e| field(e, "message"))
        .or_else(|| first(rec, &["resultDescription"]))
        .or_else(|| kube.and_then(|l| object(l, &["responseStatus"])).and_then(|r| field(&r, "message")))
        .or_else(|| status_message.as_ref().and_then(shared::text));
    (code, message)
}

/// Resource precedence of the module docs.
fn resource_of(
    rec: &Obj,
    resource_id: Option<&str>,
    prop: &dyn Fn(&str) -> Option<String>,
    authorization: Option<&Obj>,
    category: &str,
) -> Option<String> {
    let storage = category.starts_with("storage") || field(rec, "uri").is_some();
    let storage_object = || prop("objectKey").or_else(|| field(rec, "uri").map(|u| u.split('?').next().unwrap_or(&u).to_string()));
    let arm = || {
        resource_id
            .map(str::to_string)
            .or_else(|| prop("entity"))
            .or_else(|| authorization.and_then(|a| field(a, "scope")))
    };
    let r = if storage { storage_object().or_else(arm) } else { arm() };
    r.map(|r| shared::resource_key(&r))
}

/// Principal of a storage resource log's `identity` (`requester` for OAuth; the key or SAS
/// token hash otherwise).
fn storage_actor(identity: &Obj) -> Option<Actor> {
    if let Some(req) = object(identity, &["requester"]) {
        let home_tenant = field(&req, "tenantId").map(|t| t.to_ascii_lowercase());
        if let Some(upn) = field(&req, "upn") {
            let uid = shared::split_idp_prefix(&upn).1.to_lowercase();
            return Some(Actor { kind: ActorType::User, uid: Some(uid), name: Some(upn), home_tenant });
        }
        if let Some(id) = first(&req, &["objectId", "appId"]) {
            let name = field(&req, "appId");
            return Some(Actor { kind: ActorType::ServicePrincipal, uid: Some(id.to_lowercase()), name, home_tenant });
        }
    }
    let kind = field(identity, "type")?;
    let uid = field(identity, "tokenHash").map(|h| h.to_lowercase());
    Some(Actor { kind: ActorType::Unknown, uid, name: Some(kind), home_tenant: None })
}

/// Principal of an AKS `kube-audit` event (`user.username`).
fn kube_actor(log: &Obj) -> Option<Actor> {
    let user = object(log, &["user"])?;
    let name = field(&user, "username")?;
    let lower = name.to_lowercase();
    let kind = if lower.starts_with("system:serviceaccount:") {
        ActorType::ServiceAccount
    } else if lower.starts_with("system:") {
        ActorType::System
    } else if lower.contains('@') {
        ActorType::User
    } else {
        ActorType::Unknown
    };
    Some(Actor { kind, uid: Some(lower), name: Some(name), home_tenant: None })
}
