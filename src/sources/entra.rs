//! `entra_audit` and `entra_signin`: Microsoft Entra ID (Azure AD) audit and sign-in logs
//! (provider `entra`).
//!
//! # Shapes read
//! - **Diagnostic-setting records** (storage blobs, Event Hub, Panther's copies with
//!   lower-cased keys): `time, resourceId (/tenants/<id>/providers/Microsoft.aadiam),
//!   operationName, category (AuditLogs, SignInLogs, NonInteractiveUserSignInLogs,
//!   ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, …), tenantId, resultType,
//!   resultSignature, resultDescription, callerIpAddress, correlationId, identity,
//!   properties{…}` where `properties` holds the Graph object below.
//! - **Microsoft Graph** `auditLogs/directoryAudits` (`activityDateTime,
//!   activityDisplayName, category, correlationId, id, initiatedBy{user, app},
//!   targetResources[{id, displayName, type, userPrincipalName, modifiedProperties}], result,
//!   resultReason, loggedByService`) and `auditLogs/signIns` (`createdDateTime, id,
//!   userPrincipalName, userId, appDisplayName, appId, ipAddress, clientAppUsed,
//!   status{errorCode, failureReason}, location, deviceDetail, conditionalAccessStatus,
//!   servicePrincipalId, …`), alone or in `{"value":[…]}` pages.
//! - **Sentinel `AuditLogs` / `SigninLogs` (and `AAD…SignInLogs`) exports**, CSV or JSON
//!   lines: PascalCase columns, nested values as JSON strings (`InitiatedBy`,
//!   `TargetResources`, `Status`, `LocationDetails`, `DeviceDetail`; the portal's CSV adds
//!   `_dynamic` / `_string` variants and `… [UTC]` times such as `4/28/2021, 2:08:45.221 PM`).
//!
//! A field is looked up in `properties` first (diagnostic records), then at the top level,
//! with its exact spelling, then ASCII case-insensitively, then as Sentinel's
//! `<name>_dynamic` / `<name>_string`; strings holding JSON are decoded once.
//!
//! Each of the two normalisers hands a record of the other kind to it (one diagnostic
//! stream often mixes `AuditLogs` and `SignInLogs`), and Azure Activity / Key Vault records
//! to theirs ([`super::azure_activity`], "family").
//!
//! # Field mapping — both formats
//! | column | from (first present wins) |
//! |---|---|
//! | `event_uid` (dedup key) | `id` / `Id` (Graph id, also in `properties.id`) → `sha256:` + 32 hex of the record's canonical JSON |
//! | `account_uid` | the tenant: `AADTenantId` (Sentinel) → `tenantId` (diagnostic; not in Sentinel rows, whose `TenantId` is the Log Analytics workspace) → `properties.tenantId` → `/tenants/<id>/` of `resourceId` / `ResourceId` → `resourceTenantId`; lower-cased. The Graph API writes no tenant into its records (the collector knows which tenant it queried): a record in the bare Graph shape (no diagnostic wrapper, no Sentinel columns) gets the literal `unknown`, so a Graph export is not lost; collectors should add `tenantId` to each record. Any other record without a tenant is quarantined `missing_tenant_id`. |
//! | `region` | NULL (Entra is not regional; a sign-in's country is in `request_params.location`) |
//!
//! # `entra_audit`
//! | column | from |
//! |---|---|
//! | `time` | `activityDateTime` → `ActivityDateTime [UTC]` → `time` → `TimeGenerated` → `TimeGenerated [UTC]` (7 digits truncated to µs) |
//! | `operation` | `activityDisplayName` → `operationName` (trailing blanks trimmed); none → `missing_operation` |
//! | `service` | `loggedByService` (`Core Directory`, `Conditional Access`, `PIM`, `Invited Users`, …) → `AzureActiveDirectory` |
//! | actor | `initiatedBy.user`: `userPrincipalName` (lower-cased) → `id` → `user`, name `displayName` → UPN; else `initiatedBy.app`: `servicePrincipalId` → `appId` → `displayName` → `service_principal`, name `displayName`; else Sentinel `InitiatingUserOrApp`; else `none` |
//! | `src_ip` | `initiatedBy.user.ipAddress` → `callerIpAddress` → `InitiatingIpAddress` → `ipAddress` |
//! | `user_agent` | `userAgent` → `additionalDetails[key = User-Agent].value` |
//! | `status`, `status_raw` | `result` (→ `resultType`) through [`audit_status_of`]; failures: `error_message` = `resultReason` → `resultDescription` |
//! | `resource_uid` | first target: `userPrincipalName` (lower-cased, so it joins `actor_uid`) → `id` → `displayName` (case P28: the target, never the actor) |
//! | `request_params` | every target's `modifiedProperties` as one JSON object `{displayName: {"old": …, "new": …}}`; each `oldValue` / `newValue` string holding JSON is decoded exactly once (`"[\"Engineer\"]"` → `["Engineer"]`, a policy object → the object), one that will not decode stays a string; `Included Updated Properties` (`"\"JobTitle, Department\""`) becomes the list of names; a name repeated by a later target gets ` (2)`, ` (3)`; NULL without modified properties |
//!
//! # `entra_signin`
//! | column | from |
//! |---|---|
//! | `time` | `createdDateTime` → `CreatedDateTime [UTC]` → `time` → `TimeGenerated` → `TimeGenerated [UTC]` → the first `authenticationDetails[].authenticationStepDateTime` (some Sentinel projections drop every time column but keep this step time, which Entra stamps when it checks the credential) |
//! | `operation` | `operationName` (`Sign-in activity`) → `Sign-in activity` |
//! | `service` | the sign-in log: `category` → Sentinel `Type` (`SigninLogs` → `SignInLogs`, `AADNonInteractiveUserSignInLogs` → `NonInteractiveUserSignInLogs`, `AADServicePrincipalSignInLogs` → `ServicePrincipalSignInLogs`, `AADManagedIdentitySignInLogs` → `ManagedIdentitySignInLogs`); Graph records: `ServicePrincipalSignInLogs` when there is a `servicePrincipalId` and no user, `NonInteractiveUserSignInLogs` when `isInteractive` is false, else `SignInLogs` |
//! | actor | managed-identity log or `managedIdentityType` other than `none` → `managed_identity`; service-principal log, or a `servicePrincipalId` without a user → `service_principal` (key `servicePrincipalId` → `appId`, name `servicePrincipalName` → `appDisplayName`); else `userPrincipalName` (lower-cased) → `userId` → `user` (name `userDisplayName` → `Identity` → UPN); else `none` |
//! | `actor_session_uid` | `sessionId` |
//! | `actor_account_uid` | `homeTenantId` (the user's home tenant; differs from `account_uid` for guests) |
//! | `src_ip` | `ipAddress` / `IPAddress` → `callerIpAddress` |
//! | `user_agent` | `userAgent` |
//! | `status`, `status_raw`, `error_code`, `error_message` | `status.errorCode` → `resultType` through [`signin_status_of`]; `error_code` = the code and `error_message` = `status.failureReason` → `resultDescription` on failures |
//! | `resource_uid` | users: `appDisplayName` → `appId` → `resourceDisplayName` → `resourceId`; service principals and managed identities (the app is the actor): `resourceDisplayName` → `resourceId` |
//! | `request_params` | the sign-in context as one JSON object (present fields only, JSON strings decoded once): `appId`, `appDisplayName`, `resourceDisplayName`, `resourceId`, `clientAppUsed`, `isInteractive`, `authenticationProtocol`, `authenticationRequirement`, `conditionalAccessStatus`, `location` (`LocationDetails`), `deviceDetail`, `userType`, `crossTenantAccessType`, `incomingTokenType`, `riskLevelDuringSignIn`, `riskLevelAggregated`, `riskState`, `riskDetail`, `riskEventTypes`, `signInEventTypes`, `clientCredentialType`, `correlationId` |
//!
//! # Status tables
//! Audit ([`audit_status_of`]): `success` → `success`; `failure`, `timeout` → `failure`;
//! anything else → `unknown`. Sign-in ([`signin_status_of`]): error code `0` → `success`,
//! any other number → `failure` (interrupts such as 50074 "MFA required" included: the
//! sign-in did not complete); words `Success` / `Succeeded` → `success`, `Failure` /
//! `Failed` / `Interrupted` → `failure`; else `unknown`.
//!
//! # Quarantine reasons
//! `invalid_json`, `missing_event_time` (e.g. Sentinel hunting projections that dropped
//! every time column), `invalid_event_time`, `missing_operation`, `missing_tenant_id`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::azure_activity::shared::{self, as_array, as_object, get, text, Actor, Obj};
use super::{NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

#[cfg(test)]
mod tests;

/// Normaliser for `LogFormat::EntraAudit`.
pub struct EntraAudit;

/// Normaliser for `LogFormat::EntraSignin`.
pub struct EntraSignin;

impl Normaliser for EntraAudit {
    fn format(&self) -> LogFormat {
        LogFormat::EntraAudit
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        shared::normalise_family(self.format(), record, opts, out)
    }
}

impl Normaliser for EntraSignin {
    fn format(&self) -> LogFormat {
        LogFormat::EntraSignin
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        shared::normalise_family(self.format(), record, opts, out)
    }
}

/// An audit record (see the module docs).
pub(crate) fn audit_record(top: &Obj) -> Result<Event<'static>, Reject> {
    audit(&View::new(top))
}

/// A sign-in record (see the module docs).
pub(crate) fn signin_record(top: &Obj) -> Result<Event<'static>, Reject> {
    signin(&View::new(top))
}

/// The two levels of a record: the diagnostic wrapper and its `properties` (the Graph
/// object). Graph and Sentinel records have one level.
struct View<'m> {
    top: &'m Obj,
    props: Option<Cow<'m, Obj>>,
    /// A Sentinel / Log Analytics row (its `TenantId` is the workspace).
    sentinel: bool,
    /// The bare Graph API shape: no wrapper, no Sentinel columns.
    graph: bool,
}

impl<'m> View<'m> {
    fn new(top: &'m Obj) -> Self {
        let props = get(top, "properties").and_then(as_object);
        let sentinel = ["Type", "SourceSystem", "AADTenantId", "TimeGenerated", "TimeGenerated [UTC]"].iter().any(|k| get(top, k).is_some());
        let graph = props.is_none() && !sentinel && get(top, "time").is_none();
        View { top, props, sentinel, graph }
    }

    /// A field from `properties`, else the top level (Sentinel `_dynamic` / `_string`
    /// variants included); `null` and empty text count as absent.
    fn value(&self, key: &str) -> Option<&Value> {
        let present = |v: &&Value| !(v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()));
        if let Some(v) = self.props.as_deref().and_then(|p| get(p, key)).filter(present) {
            return Some(v);
        }
        [key.to_string(), format!("{key}_dynamic"), format!("{key}_string")]
            .iter()
            .filter_map(|k| get(self.top, k))
            .find(present)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.value(key).and_then(text)
    }

    fn first(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.text(k))
    }

    fn obj(&self, key: &str) -> Option<Cow<'_, Obj>> {
        self.value(key).and_then(as_object)
    }

    fn arr(&self, key: &str) -> Option<Cow<'_, Vec<Value>>> {
        self.value(key).and_then(as_array)
    }

    fn top_text(&self, keys: &[&str]) -> Option<String> {
        shared::first(self.top, keys)
    }

    /// Event time from the first present of `fields` (each looked up with [`View::text`]).
    fn time(&self, fields: &[&str]) -> Result<Option<i64>, Reject> {
        match fields.iter().find_map(|k| self.text(k).map(|v| (*k, v))) {
            Some((name, v)) => shared::parse_time(&v)
                .map(Some)
                .ok_or_else(|| Reject::quarantine("invalid_event_time", format!("`{name}` is not a time: {v:?}"))),
            None => Ok(None),
        }
    }

    /// Account precedence of the module docs.
    fn tenant(&self) -> Result<String, Reject> {
        let lower = |s: String| s.to_ascii_lowercase();
        let found = shared::field(self.top, "AADTenantId")
            .or_else(|| if self.sentinel { None } else { shared::field(self.top, "tenantId") })
            .or_else(|| self.props.as_deref().and_then(|p| shared::field(p, "tenantId")))
            .or_else(|| self.top_text(&["resourceId"]).as_deref().and_then(shared::tenant_of))
            .or_else(|| self.text("resourceTenantId"));
        match found {
            Some(t) => Ok(lower(t)),
            None if self.graph => Ok("unknown".to_string()),
            None => Err(Reject::missing("missing_tenant_id", "tenantId")),
        }
    }

    fn event_uid(&self) -> String {
        self.text("id").unwrap_or_else(|| shared::content_uid(self.top))
    }
}

// ---------------------------------------------------------------------------------------
// Audit.

fn audit(v: &View<'_>) -> Result<Event<'static>, Reject> {
    let time = v
        .time(&["activityDateTime", "ActivityDateTime [UTC]", "time", "TimeGenerated", "TimeGenerated [UTC]"])?
        .ok_or_else(|| Reject::missing("missing_event_time", "activityDateTime"))?;
    let operation = v
        .first(&["activityDisplayName", "operationName"])
        .ok_or_else(|| Reject::missing("missing_operation", "activityDisplayName"))?;
    let account = v.tenant()?;
    let service = v.text("loggedByService").unwrap_or_else(|| "AzureActiveDirectory".to_string());
    let mut e = Event::new(time, v.event_uid().into(), Provider::Entra, LogFormat::EntraAudit, account.into(), service.into(), operation.into());

    let initiated = v.obj("initiatedBy");
    let user = initiated.as_deref().and_then(|i| get(i, "user")).and_then(as_object);
    let app = initiated.as_deref().and_then(|i| get(i, "app")).and_then(as_object);
    audit_actor(v, user.as_deref(), app.as_deref()).apply(&mut e);

    let ip = user
        .as_deref()
        .and_then(|u| shared::field(u, "ipAddress"))
        .or_else(|| v.first(&["callerIpAddress", "InitiatingIpAddress", "ipAddress"]));
    shared::set_src(&mut e, ip.as_deref());
    e.user_agent = v.text("userAgent").or_else(|| additional_detail(v, "User-Agent")).map(Cow::Owned);

    let raw = v.first(&["result", "resultType"]);
    e.status = raw.as_deref().map_or(Status::Unknown, audit_status_of);
    if e.status == Status::Failure {
        e.error_message = v.first(&["resultReason", "resultDescription"]).map(Cow::Owned);
    }
    e.status_raw = raw.map(Cow::Owned);

    let targets = v.arr("targetResources").map(Cow::into_owned).unwrap_or_default();
    e.resource_uid = targets.iter().filter_map(as_object).next().and_then(|t| {
        shared::field(&t, "userPrincipalName")
            .map(|u| u.to_lowercase())
            .or_else(|| shared::first(&t, &["id", "displayName"]))
    })
    .map(Cow::Owned);
    e.request_params = modified_properties(&targets).map(Cow::Owned);
    Ok(e)
}

fn audit_actor(v: &View<'_>, user: Option<&Obj>, app: Option<&Obj>) -> Actor {
    if let Some(u) = user {
        let upn = shared::field(u, "userPrincipalName");
        if let Some(key) = upn.clone().or_else(|| shared::field(u, "id")) {
            let name = shared::field(u, "displayName").or(upn);
            return Actor { kind: ActorType::User, uid: Some(key.to_lowercase()), name, home_tenant: None };
        }
    }
    if let Some(a) = app {
        if let Some(key) = shared::first(a, &["servicePrincipalId", "appId", "displayName"]) {
            let name = shared::first(a, &["displayName", "servicePrincipalName"]);
            return Actor { kind: ActorType::ServicePrincipal, uid: Some(key.to_lowercase()), name, home_tenant: None };
        }
    }
    if let Some(who) = v.text("InitiatingUserOrApp") {
        let kind = if who.contains('@') { ActorType::User } else { ActorType::ServicePrincipal };
        return Actor { kind, uid: Some(who.to_lowercase()), name: Some(who), home_tenant: None };
    }
    Actor::none()
}

/// `additionalDetails[key = name].value`.
fn additional_detail(v: &View<'_>, name: &str) -> Option<String> {
    v.arr("additionalDetails")?
        .iter()
        .filter_map(Value::as_object)
        .find(|d| shared::field(d, "key").is_some_and(|k| k.eq_ignore_ascii_case(name)))
        .and_then(|d| shared::field(d, "value"))
}

/// The audit status table (module docs).
pub fn audit_status_of(raw: &str) -> Status {
    match raw.trim().to_ascii_lowercase().as_str() {
        "success" | "succeeded" => Status::Success,
        "failure" | "failed" | "timeout" => Status::Failure,
        _ => Status::Unknown,
    }
}

/// `modifiedProperties` of every target as one object (module docs); `None` without any.
fn modified_properties(targets: &[Value]) -> Option<String> {
    let mut out = Map::new();
    for t in targets.iter().filter_map(as_object) {
        let Some(props) = get(&t, "modifiedProperties").and_then(as_array) else { continue };
        for p in props.iter().filter_map(Value::as_object) {
            let Some(name) = shared::field(p, "displayName") else { continue };
            let decode = |k: &str| get(p, k).map_or(Value::Null, shared::decode_once);
            let (mut old, mut new) = (decode("oldValue"), decode("newValue"));
            if name.eq_ignore_ascii_case("Included Updated Properties") {
                old = name_list(old);
                new = name_list(new);
            }
            let mut key = name.clone();
            let mut n = 1;
            while out.contains_key(&key) {
                n += 1;
                key = format!("{name} ({n})");
            }
            out.insert(key, serde_json::json!({"old": old, "new": new}));
        }
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

/// `"JobTitle, Department"` → `["JobTitle", "Department"]`; other values unchanged.
fn name_list(v: Value) -> Value {
    match v {
        Value::String(s) => {
            Value::Array(s.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| Value::String(p.to_string())).collect())
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// Sign-ins.

/// Sign-in context copied into `request_params` (output name, then source names).
const SIGNIN_CONTEXT: &[(&str, &[&str])] = &[
    ("appId", &["appId"]),
    ("appDisplayName", &["appDisplayName"]),
    ("resourceDisplayName", &["resourceDisplayName"]),
    ("resourceId", &["ResourceIdentity"]),
    ("clientAppUsed", &["clientAppUsed"]),
    ("isInteractive", &["isInteractive"]),
    ("authenticationProtocol", &["authenticationProtocol"]),
    ("authenticationRequirement", &["authenticationRequirement"]),
    ("conditionalAccessStatus", &["conditionalAccessStatus"]),
    ("location", &["LocationDetails", "location"]),
    ("deviceDetail", &["deviceDetail"]),
    ("userType", &["userType"]),
    ("crossTenantAccessType", &["crossTenantAccessType"]),
    ("incomingTokenType", &["incomingTokenType"]),
    ("riskLevelDuringSignIn", &["riskLevelDuringSignIn"]),
    ("riskLevelAggregated", &["riskLevelAggregated"]),
    ("riskState", &["riskState"]),
    ("riskDetail", &["riskDetail"]),
    ("riskEventTypes", &["riskEventTypes_v2", "riskEventTypes"]),
    ("signInEventTypes", &["signInEventTypes"]),
    ("clientCredentialType", &["clientCredentialType"]),
    ("correlationId", &["correlationId"]),
];

fn signin(v: &View<'_>) -> Result<Event<'static>, Reject> {
    let time = match v.time(&["createdDateTime", "CreatedDateTime [UTC]", "time", "TimeGenerated", "TimeGenerated [UTC]"])? {
        Some(t) => t,
        None => step_time(v).ok_or_else(|| Reject::missing("missing_event_time", "createdDateTime"))?,
    };
    let account = v.tenant()?;
    let operation = v.top_text(&["operationName"]).unwrap_or_else(|| "Sign-in activity".to_string());
    let log = signin_log(v);
    let mut e = Event::new(time, v.event_uid().into(), Provider::Entra, LogFormat::EntraSignin, account.into(), log.into(), operation.into());

    let (actor, app_is_actor) = signin_actor(v, log);
    actor.apply(&mut e);
    e.actor_session_uid = v.text("sessionId").map(Cow::Owned);
    e.actor_account_uid = v.text("homeTenantId").map(|t| Cow::Owned(t.to_ascii_lowercase()));

    shared::set_src(&mut e, v.first(&["ipAddress", "callerIpAddress"]).as_deref());
    e.user_agent = v.text("userAgent").map(Cow::Owned);

    let status = v.obj("status");
    let code = status.as_deref().and_then(|s| shared::field(s, "errorCode")).or_else(|| v.first(&["resultType"]));
    e.status = code.as_deref().map_or(Status::Unknown, signin_status_of);
    if e.status == Status::Failure {
        e.error_code = code.clone().filter(|c| c.parse::<i64>().is_ok()).map(Cow::Owned);
        e.error_message = status
            .as_deref()
            .and_then(|s| shared::field(s, "failureReason"))
            .or_else(|| v.first(&["resultDescription"]))
            .map(Cow::Owned);
    }
    e.status_raw = code.map(Cow::Owned);

    let resource_id = v.text("resourceId").filter(|r| !shared::is_arm_id(r)).or_else(|| v.text("ResourceIdentity"));
    let resource = if app_is_actor {
        v.text("resourceDisplayName").or(resource_id)
    } else {
        v.first(&["appDisplayName", "appId", "resourceDisplayName"]).or(resource_id)
    };
    e.resource_uid = resource.map(Cow::Owned);
    e.request_params = signin_context(v).map(Cow::Owned);
    Ok(e)
}

/// The first `authenticationDetails[].authenticationStepDateTime`.
fn step_time(v: &View<'_>) -> Option<i64> {
    v.arr("authenticationDetails")?
        .iter()
        .filter_map(Value::as_object)
        .find_map(|d| shared::field(d, "authenticationStepDateTime"))
        .and_then(|t| shared::parse_time(&t))
}

/// Which sign-in log a record belongs to (module docs: `service`).
fn signin_log(v: &View<'_>) -> &'static str {
    let named = v.top_text(&["category"]).or_else(|| v.top_text(&["Type"])).unwrap_or_default().to_ascii_lowercase();
    let named = named.strip_prefix("aad").unwrap_or(&named);
    match named {
        "signinlogs" => return "SignInLogs",
        "noninteractiveusersigninlogs" => return "NonInteractiveUserSignInLogs",
        "serviceprincipalsigninlogs" => return "ServicePrincipalSignInLogs",
        "managedidentitysigninlogs" => return "ManagedIdentitySignInLogs",
        "adfssigninlogs" => return "ADFSSignInLogs",
        _ => {}
    }
    let user = v.first(&["userPrincipalName", "userId"]).is_some();
    if v.text("servicePrincipalId").is_some() && !user {
        return "ServicePrincipalSignInLogs";
    }
    if v.text("isInteractive").is_some_and(|i| i.eq_ignore_ascii_case("false")) {
        return "NonInteractiveUserSignInLogs";
    }
    "SignInLogs"
}

/// The principal of a sign-in, and whether it is the application itself.
fn signin_actor(v: &View<'_>, log: &str) -> (Actor, bool) {
    let upn = v.text("userPrincipalName");
    let user_id = v.text("userId");
    let sp_id = v.first(&["servicePrincipalId", "appId"]);
    let sp_name = v.first(&["servicePrincipalName", "appDisplayName"]);
    let mi = log == "ManagedIdentitySignInLogs"
        || v.text("managedIdentityType").is_some_and(|t| !t.eq_ignore_ascii_case("none"));
    let sp = log == "ServicePrincipalSignInLogs" || (v.text("servicePrincipalId").is_some() && upn.is_none() && user_id.is_none());
    if mi || sp {
        if let Some(id) = sp_id {
            let kind = if mi { ActorType::ManagedIdentity } else { ActorType::ServicePrincipal };
            return (Actor { kind, uid: Some(id.to_lowercase()), name: sp_name, home_tenant: None }, true);
        }
    }
    if let Some(key) = upn.clone().or(user_id) {
        let name = v.first(&["userDisplayName", "Identity"]).or(upn);
        return (Actor { kind: ActorType::User, uid: Some(key.to_lowercase()), name, home_tenant: None }, false);
    }
    (Actor::none(), false)
}

/// The sign-in status table (module docs).
pub fn signin_status_of(raw: &str) -> Status {
    let t = raw.trim();
    if let Ok(n) = t.parse::<i64>() {
        return if n == 0 { Status::Success } else { Status::Failure };
    }
    match t.to_ascii_lowercase().as_str() {
        "success" | "succeeded" => Status::Success,
        "failure" | "failed" | "interrupted" => Status::Failure,
        _ => Status::Unknown,
    }
}

fn signin_context(v: &View<'_>) -> Option<String> {
    let mut out = Map::new();
    for (name, sources) in SIGNIN_CONTEXT {
        let value = sources.iter().filter_map(|k| v.value(k)).find(|x| match x {
            // Sentinel's `Location` is a country code: only objects are a location.
            _ if *name == "location" => as_object(x).is_some(),
            _ => true,
        });
        if let Some(x) = value {
            out.insert((*name).to_string(), decode_structured(x));
        }
    }
    // Graph's own `resourceId` (a GUID) when no Sentinel `ResourceIdentity`.
    if !out.contains_key("resourceId") {
        if let Some(r) = v.text("resourceId").filter(|r| !shared::is_arm_id(r)) {
            out.insert("resourceId".to_string(), Value::String(r));
        }
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

/// A string holding a JSON object or array decoded once (Sentinel's `DeviceDetail`,
/// `LocationDetails`); other values unchanged (`"TRUE"` stays text).
fn decode_structured(x: &Value) -> Value {
    if let Some(o) = as_object(x) {
        return Value::Object(o.into_owned());
    }
    if let Some(a) = as_array(x) {
        return Value::Array(a.into_owned());
    }
    x.clone()
}
