//! `m365_audit`: the Microsoft 365 unified audit log (provider `m365`).
//!
//! # Shapes read
//! - **Management Activity API** records (`Audit.Exchange`, `Audit.SharePoint`, ... content
//!   blobs): PascalCase keys (`CreationTime`, `Id`, `Operation`, `Workload`, ...).
//! - **Panther**'s variant with lower-cased keys (`creationtime`, `userid`, ...): every
//!   top-level key is looked up ASCII case-insensitively (exact spelling first).
//! - **Purview / `Search-UnifiedAuditLog` exports** (CSV rows or JSON): `RecordId`,
//!   `CreationDate`, `UserIds`, `Operations`, `AuditData`. Everything is taken from `AuditData`
//!   (a JSON string, or an object in JSON exports); the wrapper's locale-formatted
//!   `CreationDate` is never read. Only the id falls back to the wrapper's `RecordId` /
//!   `Identity` (the same value) when `AuditData` has no `Id`.
//! - **Sentinel `OfficeActivity`** table exports (CSV or JSON): `TimeGenerated`,
//!   `OfficeWorkload`, `OfficeId`, `OfficeObjectId`, `UserType` as a name, Name/Value bags
//!   as JSON strings.
//!
//! # Field mapping
//! | column | from (first present wins) |
//! |---|---|
//! | `time` | `CreationTime` (no zone = UTC; 7 fraction digits truncated to µs) → `TimeGenerated` / `TimeGenerated [UTC]` (Sentinel sets it to `CreationTime`; `M/D/YYYY, h:mm:ss.fff AM/PM` portal format read as UTC) → `Start_Time [UTC]` (see below) |
//! | `event_uid` (dedup key) | `Id` → `OfficeId` → `SourceRecordId` → wrapper `RecordId` / `Identity` |
//! | `account_uid` | `OrganizationId` (tenant id) → `OrganizationId_` → `OfficeTenantId` (placeholders such as `$RestApiTenantId$` ignored). Sentinel's `TenantId` is the *workspace*, never used. |
//! | `actor_uid` | `UserId` (→ `UserKey`): SharePoint claims prefix (`i:0#.f\|membership\|`) removed, `ServicePrincipal_<id>` → `<id>`, then lower-cased (UPNs and system names alike, so case variants share one key) |
//! | `actor_name` | `UserId` exactly as logged (parenthesised process part included) |
//! | `actor_type` | see [`classify_actor`]: name rules first (`NT AUTHORITY\…`, `<svc>\system`, `S-1-5-18/19/20`, `SecurityComplianceAlerts` → `system`; `app@sharepoint` → `application`; `ServicePrincipal_…` → `service_principal`), then `UserType` (0 Regular, 2 Admin, 9 PartnerTechnician, 10 Guest → `user`; 1 Reserved → `unknown`; 3 DcAdmin, 4 System, 7 CustomPolicy, 8 SystemPolicy → `system`; 5 Application → `application`; 6 ServicePrincipal → `service_principal`), then `user` for a UPN-like value, else `unknown`; `none` without `UserId`/`UserKey` |
//! | `actor_session_uid` | `AppAccessContext.AADSessionId` → `SessionId` |
//! | `actor_account_uid` | `ActorContextId` (the actor's home tenant, Azure AD records) |
//! | `src_ip` / `src_port` / `src_host` | first non-empty of `ClientIP`, `ClientIPAddress`, `ActorIpAddress`, `Client_IPAddress`, `ClientIP_` through [`net::split_src`] |
//! | `user_agent` | `UserAgent` → `ExtendedProperties[UserAgent]` → `ClientInfoString` (Exchange) |
//! | `service` | `Workload` → `OfficeWorkload` → `EventSource` → workload of `RecordType` ([`workload_of_record_type`]) → `unknown` |
//! | `operation` | `Operation` (required) |
//! | `status`, `status_raw` | `ResultStatus` through [`status_of`]; a non-empty `LogonError` forces `failure` |
//! | `error_code` | `LogonError` |
//! | `resource_uid` | `ObjectId` → `OfficeObjectId` → parameter `Identity` → `Mailbox` → `MailboxOwnerUPN` |
//! | `request_params` | one JSON object keyed by `Name` built from `Parameters`, `ModifiedProperties` (value `{"NewValue","OldValue"}`), `ExtendedProperties`, `OperationProperties`, in that order; the first bag to use a name keeps it; values kept as logged (`"True"` stays a string); NULL when there is no bag |
//! | `response_elements`, `region` | NULL (the UAL has neither) |
//!
//! # Status table ([`status_of`], case-insensitive)
//! `Succeeded`, `Success`, `True` → `success`; `Failed`, `Failure`, `False` → `failure`;
//! `PartiallySucceeded` → `partial`; anything else (or absent) → `unknown`.
//!
//! # Quarantine reasons
//! `invalid_json`, `auditdata_truncated` (the string ends before its JSON closes: an exporter
//! cut it), `auditdata_invalid_json` (complete but not a JSON object), `missing_creation_time`,
//! `invalid_creation_time`, `missing_id`, `missing_organization_id`, `missing_operation`.
//!
//! # Choice: `Start_Time [UTC]`
//! Sentinel fills `Start_Time` on every `OfficeActivity` row; in the public lab exports it
//! trails `TimeGenerated` by 6–14 minutes. It is read only when the export dropped every
//! event-time column (the lab's inbox-rule export has none), so those records are kept at a
//! time at most minutes late instead of being quarantined.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::{net, time, NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

#[cfg(test)]
mod tests;

/// Normaliser for `LogFormat::M365Audit`.
pub struct M365Audit;

type Obj = Map<String, Value>;

impl Normaliser for M365Audit {
    fn format(&self) -> LogFormat {
        LogFormat::M365Audit
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        let outer: Obj = serde_json::from_str(record)
            .map_err(|e| Reject::quarantine("invalid_json", format!("M365 record is not a JSON object: {e}")))?;
        let inner;
        let (rec, wrapper) = match get(&outer, "AuditData") {
            Some(Value::String(s)) => {
                inner = parse_audit_data(s)?;
                (&inner, Some(&outer))
            }
            Some(Value::Object(m)) => (m, Some(&outer)),
            Some(other) => {
                return Err(Reject::quarantine(
                    "auditdata_invalid_json",
                    format!("`AuditData` is neither a JSON object nor a string holding one: {other}"),
                ))
            }
            None => (&outer, None),
        };
        let mut e: Event<'a> = normalise_record(rec, wrapper)?;
        if opts.keep_raw {
            e.raw_event = Some(Cow::Borrowed(record));
        }
        out.push(e);
        Ok(())
    }
}

/// Parses `AuditData` text; tells an exporter's cut (JSON that never closes) from other
/// broken JSON.
fn parse_audit_data(s: &str) -> Result<Obj, Reject> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Reject::quarantine("auditdata_invalid_json", "`AuditData` holds JSON that is not an object")),
        Err(e) if e.is_eof() => Err(Reject::quarantine(
            "auditdata_truncated",
            format!("`AuditData` ({} characters) ends before its JSON closes: {e}", s.chars().count()),
        )),
        Err(e) => Err(Reject::quarantine(
            "auditdata_invalid_json",
            format!("`AuditData` ({} characters) is not valid JSON: {e}", s.chars().count()),
        )),
    }
}

fn normalise_record(rec: &Obj, wrapper: Option<&Obj>) -> Result<Event<'static>, Reject> {
    let time = event_time(rec)?;
    let id = first(rec, &["Id", "OfficeId", "SourceRecordId"])
        .or_else(|| wrapper.and_then(|w| first(w, &["RecordId", "Identity"])))
        .ok_or_else(|| Reject::missing("missing_id", "Id"))?;
    let org = ["OrganizationId", "OrganizationId_", "OfficeTenantId"]
        .iter()
        .filter_map(|k| field(rec, k))
        .find(|v| !v.starts_with('$'))
        .ok_or_else(|| Reject::missing("missing_organization_id", "OrganizationId"))?;
    let operation = field(rec, "Operation").ok_or_else(|| Reject::missing("missing_operation", "Operation"))?;
    let service = first(rec, &["Workload", "OfficeWorkload", "EventSource"])
        .or_else(|| field(rec, "RecordType").and_then(|t| workload_of_record_type(&t)).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());

    let mut e = Event::new(time, id.into(), Provider::M365, LogFormat::M365Audit, org.into(), service.into(), operation.into());

    // Actor.
    if let Some(user) = first(rec, &["UserId", "UserId_", "UserKey"]) {
        let user_type = get(rec, "UserType").and_then(UserType::parse);
        let (actor_type, uid) = classify_actor(&user, user_type);
        e.actor_type = actor_type;
        e.actor_uid = Some(uid.into());
        e.actor_name = Some(user.into());
    }
    e.actor_session_uid = object(rec, "AppAccessContext")
        .and_then(|c| field(&c, "AADSessionId"))
        .or_else(|| field(rec, "SessionId"))
        .map(Cow::Owned);
    e.actor_account_uid = field(rec, "ActorContextId").map(Cow::Owned);

    // Source address.
    if let Some(ip) = first(rec, &["ClientIP", "ClientIPAddress", "ActorIpAddress", "Client_IPAddress", "ClientIP_"]) {
        let s = net::split_src(&ip);
        e.src_ip = s.ip.map(Cow::Owned);
        e.src_port = s.port;
        e.src_host = s.host.map(Cow::Owned);
    }

    // Name/Value bags → one object keyed by Name.
    let params = name_value_object(rec);
    let param = |name: &str| params.as_ref().and_then(|p| p.get(name)).and_then(text);

    e.user_agent = field(rec, "UserAgent")
        .or_else(|| bag(rec, "ExtendedProperties").and_then(|b| bag_value(&b, "UserAgent")))
        .or_else(|| field(rec, "ClientInfoString"))
        .map(Cow::Owned);

    // Outcome.
    let raw_status = field(rec, "ResultStatus");
    e.status = raw_status.as_deref().map_or(Status::Unknown, status_of);
    let logon_error = field(rec, "LogonError");
    if logon_error.is_some() {
        e.status = Status::Failure;
    }
    e.status_raw = raw_status.map(Cow::Owned);
    e.error_code = logon_error.map(Cow::Owned);

    e.resource_uid = first(rec, &["ObjectId", "OfficeObjectId"])
        .or_else(|| param("Identity"))
        .or_else(|| param("Mailbox"))
        .or_else(|| field(rec, "MailboxOwnerUPN"))
        .map(Cow::Owned);
    e.request_params = params.map(|p| Cow::Owned(Value::Object(p).to_string()));
    Ok(e)
}

/// Event time by the precedence documented in the module docs.
fn event_time(rec: &Obj) -> Result<i64, Reject> {
    const FIELDS: [&str; 5] = ["CreationTime", "TimeGenerated", "TimeGenerated [UTC]", "Start_Time [UTC]", "Start_Time"];
    let Some((name, value)) = FIELDS.iter().find_map(|k| field(rec, k).map(|v| (*k, v))) else {
        return Err(Reject::missing("missing_creation_time", "CreationTime"));
    };
    time::parse_iso(&value).or_else(|| parse_portal_time(&value)).ok_or_else(|| {
        Reject::quarantine("invalid_creation_time", format!("`{name}` is not a time: {value:?}"))
    })
}

/// Log Analytics portal CSV time (`4/28/2021, 3:05:26.000 PM`), US order, as UTC (the
/// exports mark these columns `[UTC]`).
fn parse_portal_time(text: &str) -> Option<i64> {
    ["%m/%d/%Y, %I:%M:%S%.f %p", "%m/%d/%Y %I:%M:%S%.f %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .map(|t| t.and_utc().timestamp_micros())
}

/// `UserType` of the Management Activity API (number, numeric text, or Sentinel's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    Regular,
    Reserved,
    Admin,
    DcAdmin,
    System,
    Application,
    ServicePrincipal,
    CustomPolicy,
    SystemPolicy,
    PartnerTechnician,
    Guest,
}

impl UserType {
    const TABLE: [(UserType, &'static str); 11] = [
        (UserType::Regular, "Regular"),
        (UserType::Reserved, "Reserved"),
        (UserType::Admin, "Admin"),
        (UserType::DcAdmin, "DcAdmin"),
        (UserType::System, "System"),
        (UserType::Application, "Application"),
        (UserType::ServicePrincipal, "ServicePrincipal"),
        (UserType::CustomPolicy, "CustomPolicy"),
        (UserType::SystemPolicy, "SystemPolicy"),
        (UserType::PartnerTechnician, "PartnerTechnician"),
        (UserType::Guest, "Guest"),
    ];

    /// Reads `0`, `"0"` or `"Regular"` (case-insensitive).
    pub fn parse(v: &Value) -> Option<Self> {
        let t = text(v)?;
        match t.parse::<usize>() {
            Ok(n) => Self::TABLE.get(n).map(|(u, _)| *u),
            Err(_) => Self::TABLE.iter().find(|(_, s)| s.eq_ignore_ascii_case(&t)).map(|(u, _)| *u),
        }
    }

    fn actor_type(self) -> ActorType {
        match self {
            UserType::Regular | UserType::Admin | UserType::PartnerTechnician | UserType::Guest => ActorType::User,
            UserType::Reserved => ActorType::Unknown,
            UserType::DcAdmin | UserType::System | UserType::CustomPolicy | UserType::SystemPolicy => ActorType::System,
            UserType::Application => ActorType::Application,
            UserType::ServicePrincipal => ActorType::ServicePrincipal,
        }
    }
}

/// Actor type and stable key of a `UserId`. Name rules come before `UserType` because the
/// UAL marks several service identities `Regular` (`app@sharepoint`, `SHAREPOINT\system`).
pub fn classify_actor(user_id: &str, user_type: Option<UserType>) -> (ActorType, String) {
    let trimmed = user_id.trim();
    // SharePoint claims encoding: `i:0#.f|membership|alice@contoso.com`.
    let name = match trimmed.rsplit_once('|') {
        Some((prefix, rest)) if (prefix.starts_with("i:0") || prefix.starts_with("c:0")) && !rest.is_empty() => rest,
        _ => trimmed,
    };
    let lower = name.to_lowercase();
    if let Some(id) = lower.strip_prefix("serviceprincipal_") {
        if !id.is_empty() {
            return (ActorType::ServicePrincipal, id.to_string());
        }
    }
    let by_name = if lower.starts_with("nt authority\\")
        || (lower.ends_with("\\system") && !lower.contains('@'))
        || matches!(lower.as_str(), "s-1-5-18" | "s-1-5-19" | "s-1-5-20" | "securitycompliancealerts")
    {
        Some(ActorType::System)
    } else if lower == "app@sharepoint" {
        Some(ActorType::Application)
    } else {
        None
    };
    let actor_type = by_name.or_else(|| user_type.map(UserType::actor_type)).unwrap_or(if lower.contains('@') {
        ActorType::User
    } else {
        ActorType::Unknown
    });
    (actor_type, lower)
}

/// The status table (module docs).
pub fn status_of(raw: &str) -> Status {
    match raw.trim().to_ascii_lowercase().as_str() {
        "succeeded" | "success" | "true" => Status::Success,
        "failed" | "failure" | "false" => Status::Failure,
        "partiallysucceeded" => Status::Partial,
        _ => Status::Unknown,
    }
}

/// Workload of a `RecordType` (number or name) for records that lack `Workload`.
pub fn workload_of_record_type(t: &str) -> Option<&'static str> {
    let t = t.trim();
    Some(match t {
        "1" | "2" | "3" | "50" => "Exchange",
        "4" | "6" | "14" | "36" | "37" => "SharePoint",
        "8" | "9" | "15" => "AzureActiveDirectory",
        "25" | "26" | "27" => "MicrosoftTeams",
        "18" => "SecurityComplianceCenter",
        _ if t.starts_with("Exchange") => "Exchange",
        _ if t.starts_with("SharePoint") => "SharePoint",
        _ if t.starts_with("AzureActiveDirectory") => "AzureActiveDirectory",
        _ if t.starts_with("MicrosoftTeams") => "MicrosoftTeams",
        _ if t.starts_with("SecurityComplianceCenter") => "SecurityComplianceCenter",
        _ => return None,
    })
}

/// Mail-forwarding destinations named in `request_params` (a JSON object from
/// [`M365Audit`]), found by parameter name, never by position: `ForwardTo`,
/// `ForwardAsAttachmentTo`, `RedirectTo`, `ForwardingSmtpAddress`, `ForwardingAddress`.
/// Lists split on `;` or `,`, `smtp:` prefixes removed, lower-cased, de-duplicated.
pub fn forwarding_targets(request_params: &str) -> Vec<String> {
    const NAMES: [&str; 5] = ["ForwardTo", "ForwardAsAttachmentTo", "RedirectTo", "ForwardingSmtpAddress", "ForwardingAddress"];
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(request_params) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (k, v) in &m {
        if !NAMES.iter().any(|n| n.eq_ignore_ascii_case(k)) {
            continue;
        }
        let Some(t) = text(v) else { continue };
        for part in t.split([';', ',']) {
            let p = part.trim();
            let p = if p.len() > 5 && p[..5].eq_ignore_ascii_case("smtp:") { &p[5..] } else { p };
            let p = p.trim().to_lowercase();
            if !p.is_empty() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// `Parameters`, `ModifiedProperties`, `ExtendedProperties` and `OperationProperties` as one
/// object keyed by `Name` (module docs); `None` when the record has none of them.
fn name_value_object(rec: &Obj) -> Option<Obj> {
    let mut out = Obj::new();
    let mut any = false;
    for key in ["Parameters", "ModifiedProperties", "ExtendedProperties", "OperationProperties"] {
        let Some(items) = bag(rec, key) else { continue };
        any = true;
        for item in &items {
            let Some(entry) = item.as_object() else { continue };
            let Some(name) = get(entry, "Name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
            if out.contains_key(name) {
                continue;
            }
            let value = if key == "ModifiedProperties" {
                let mut m = Obj::new();
                for k in ["NewValue", "OldValue"] {
                    if let Some(v) = get(entry, k) {
                        m.insert(k.to_string(), v.clone());
                    }
                }
                Value::Object(m)
            } else {
                get(entry, "Value").cloned().unwrap_or(Value::Null)
            };
            out.insert(name.to_string(), value);
        }
    }
    any.then_some(out)
}

/// A Name/Value list, given as a JSON array or (CSV, Sentinel) as text holding one.
fn bag(rec: &Obj, key: &str) -> Option<Vec<Value>> {
    match get(rec, key)? {
        Value::Array(a) => Some(a.clone()),
        Value::String(s) if s.trim_start().starts_with('[') => match serde_json::from_str(s) {
            Ok(Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn bag_value(items: &[Value], name: &str) -> Option<String> {
    items
        .iter()
        .filter_map(Value::as_object)
        .find(|e| get(e, "Name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|e| get(e, "Value"))
        .and_then(text)
}

/// A nested object, given as JSON or as text holding one.
fn object(rec: &Obj, key: &str) -> Option<Obj> {
    match get(rec, key)? {
        Value::Object(m) => Some(m.clone()),
        Value::String(s) => serde_json::from_str(s).ok(),
        _ => None,
    }
}

/// Key lookup: exact spelling first, then ASCII case-insensitive (Panther lower-cases keys).
fn get<'m>(m: &'m Obj, key: &str) -> Option<&'m Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Scalar as text: trimmed non-empty string, number or boolean.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn field(m: &Obj, key: &str) -> Option<String> {
    get(m, key).and_then(text)
}

fn first(m: &Obj, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| field(m, k))
}
