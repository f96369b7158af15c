//! Helpers shared by the Microsoft-cloud normalisers: `azure_activity`, `keyvault_audit`,
//! `entra_audit` and `entra_signin`.
//!
//! Records are read as `serde_json::Value` objects. Every key is looked up with its exact
//! spelling first, then ASCII case-insensitively, because the same field is `resultType` in
//! a diagnostic record, `ResultType` in a Sentinel export and `resulttype` in Panther's copy.
//! Values that vendors send either as an object or as a string holding one (`properties`,
//! `identity`, Sentinel's `*_d` / `*_dynamic` columns) are decoded once with [`as_object`].

use std::borrow::Cow;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::super::{detect, entra, keyvault, net, time, NormaliseOptions, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat};

pub(crate) type Obj = Map<String, Value>;

/// Parses one record as a JSON object.
pub(crate) fn parse_record(record: &str, what: &str) -> Result<Obj, Reject> {
    match serde_json::from_str::<Value>(record) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Reject::quarantine("invalid_json", format!("{what} record is not a JSON object"))),
        Err(e) => Err(Reject::quarantine("invalid_json", format!("{what} record is not JSON: {e}"))),
    }
}

/// The Microsoft-cloud formats read by this family of normalisers.
const FAMILY: [LogFormat; 4] = [LogFormat::AzureActivity, LogFormat::KeyVaultAudit, LogFormat::EntraAudit, LogFormat::EntraSignin];

/// Normalises one record of the family. The record is given to the family member that
/// [`detect`] names for it, else to `own`: one Event Hub stream or diagnostic export can mix
/// categories (sign-ins after audit records, Key Vault `AuditEvent`s among Activity
/// records), and the reader keeps the first record's format while records succeed. A
/// record therefore keeps its own `log_format` even under `--format` of a sibling.
pub(crate) fn normalise_family<'a>(
    own: LogFormat,
    record: &'a str,
    opts: &NormaliseOptions,
    out: &mut Vec<Event<'a>>,
) -> Result<(), Reject> {
    let rec = parse_record(record, own.as_str())?;
    let format = detect::detect_record(&rec).filter(|f| FAMILY.contains(f)).unwrap_or(own);
    let mut e: Event<'a> = match format {
        LogFormat::KeyVaultAudit => keyvault::normalise_record(&rec)?,
        LogFormat::EntraAudit => entra::audit_record(&rec)?,
        LogFormat::EntraSignin => entra::signin_record(&rec)?,
        _ => super::normalise_record(&rec)?,
    };
    if opts.keep_raw {
        e.raw_event = Some(Cow::Borrowed(record));
    }
    out.push(e);
    Ok(())
}

/// Key lookup: exact spelling first, then ASCII case-insensitive.
pub(crate) fn get<'m>(m: &'m Obj, key: &str) -> Option<&'m Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The first of `keys` whose value is present and not `null` / empty text.
pub(crate) fn get_any<'m>(m: &'m Obj, keys: &[&str]) -> Option<&'m Value> {
    keys.iter().filter_map(|k| get(m, k)).find(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        _ => true,
    })
}

/// Scalar as text: a trimmed non-empty string, a number or a boolean. An ARM localizable
/// string (`{"value": "...", "localizedValue": "..."}`) gives its `value`.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(m) => get(m, "value").and_then(text),
        _ => None,
    }
}

pub(crate) fn field(m: &Obj, key: &str) -> Option<String> {
    get(m, key).and_then(text)
}

/// The first of `keys` that has text.
pub(crate) fn first(m: &Obj, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| field(m, k))
}

/// An object given as JSON or as text holding one (decoded once; text that is not an
/// object gives `None`).
pub(crate) fn as_object(v: &Value) -> Option<Cow<'_, Obj>> {
    match v {
        Value::Object(m) => Some(Cow::Borrowed(m)),
        Value::String(s) if s.trim_start().starts_with('{') => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Some(Cow::Owned(m)),
            _ => None,
        },
        _ => None,
    }
}

/// An array given as JSON or as text holding one.
pub(crate) fn as_array(v: &Value) -> Option<Cow<'_, Vec<Value>>> {
    match v {
        Value::Array(a) => Some(Cow::Borrowed(a)),
        Value::String(s) if s.trim_start().starts_with('[') => match serde_json::from_str(s) {
            Ok(Value::Array(a)) => Some(Cow::Owned(a)),
            _ => None,
        },
        _ => None,
    }
}

/// The first of `keys` holding an object (or text holding one).
pub(crate) fn object<'m>(m: &'m Obj, keys: &[&str]) -> Option<Cow<'m, Obj>> {
    keys.iter().filter_map(|k| get(m, k)).find_map(as_object)
}

/// Column text of a JSON-valued field (`request_params`): an object or array as compact
/// JSON; a string holding a JSON object or array decoded once; any other string as a JSON
/// string literal (so the column is always JSON text); `null` / absent → `None`.
pub(crate) fn json_column(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => match as_object(v) {
            Some(o) => Some(Value::Object(o.into_owned()).to_string()),
            None => match as_array(v) {
                Some(a) => Some(Value::Array(a.into_owned()).to_string()),
                None if s.trim().is_empty() => None,
                None => Some(Value::String(s.clone()).to_string()),
            },
        },
        other => Some(other.to_string()),
    }
}

/// A string holding JSON decoded once; anything else (or text that is not JSON) unchanged.
pub(crate) fn decode_once(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Time.

/// Event time of the first present field of `fields` (precedence is the caller's).
///
/// # Errors
/// `missing_event_time` when none is present, `invalid_event_time` when the first present
/// one is not a time.
pub(crate) fn event_time(m: &Obj, fields: &[&str]) -> Result<i64, Reject> {
    let Some((name, value)) = fields.iter().find_map(|k| field(m, k).map(|v| (*k, v))) else {
        return Err(Reject::quarantine(
            "missing_event_time",
            format!("none of the event-time fields {fields:?} is present"),
        ));
    };
    parse_time(&value).ok_or_else(|| Reject::quarantine("invalid_event_time", format!("`{name}` is not a time: {value:?}")))
}

/// RFC 3339 / ISO 8601 (no zone = UTC, 7 or 9 fraction digits truncated to µs), `... UTC`,
/// and the Log Analytics portal export format `4/28/2021, 2:32:14.029 PM` (US order, UTC:
/// the exports mark these columns `[UTC]`).
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let zoned = t.strip_suffix(" UTC").map(|r| format!("{r}Z"));
    time::parse_iso(zoned.as_deref().unwrap_or(t)).or_else(|| {
        ["%m/%d/%Y, %I:%M:%S%.f %p", "%m/%d/%Y %I:%M:%S%.f %p", "%m/%d/%Y, %H:%M:%S%.f", "%m/%d/%Y %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .map(|d| d.and_utc().timestamp_micros())
    })
}

// ---------------------------------------------------------------------------------------
// Identifiers.

/// True for a GUID in its 8-4-4-4-12 text form.
pub(crate) fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// The id after `/<segment>/` in an ARM path (`subscriptions`, `tenants`), lower-cased.
fn path_id(path: &str, segment: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let needle = format!("/{segment}/");
    let start = if lower.starts_with(&needle[1..]) { segment.len() + 1 } else { lower.find(&needle)? + needle.len() };
    let id = lower[start..].split('/').next()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// Subscription id of an ARM resource id (`/SUBSCRIPTIONS/<id>/...`), lower-cased.
pub(crate) fn subscription_of(resource_id: &str) -> Option<String> {
    path_id(resource_id, "subscriptions")
}

/// Tenant id of a tenant-scope ARM id (`/tenants/<id>/providers/Microsoft.aadiam`).
pub(crate) fn tenant_of(resource_id: &str) -> Option<String> {
    path_id(resource_id, "tenants")
}

/// True for an ARM id (`/subscriptions/...`, `/providers/...`, `/tenants/...`).
pub(crate) fn is_arm_id(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("/subscriptions/") || l.starts_with("/providers/") || l.starts_with("/tenants/")
}

/// An ARM id folded to lower case (ARM ids are case-insensitive and each export spells
/// them differently); anything else unchanged.
pub(crate) fn resource_key(s: &str) -> String {
    if is_arm_id(s) {
        s.trim().to_ascii_lowercase()
    } else {
        s.trim().to_string()
    }
}

/// The resource-provider namespace of the last `/providers/<ns>` segment of an ARM id.
pub(crate) fn provider_of_resource(resource_id: &str) -> Option<String> {
    let lower = resource_id.to_ascii_lowercase();
    let i = lower.rfind("/providers/")? + "/providers/".len();
    let ns = resource_id[i..].split('/').next()?.trim();
    ns.contains('.').then(|| canonical_provider(ns))
}

/// Well-known resource-provider namespaces in Microsoft's spelling.
const PROVIDERS: &[&str] = &[
    "Microsoft.AAD", "Microsoft.aadiam", "Microsoft.Advisor", "Microsoft.AlertsManagement", "Microsoft.ApiManagement",
    "Microsoft.App", "Microsoft.AppConfiguration", "Microsoft.Authorization", "Microsoft.Automation", "Microsoft.Batch",
    "Microsoft.Billing", "Microsoft.Blueprint", "Microsoft.BotService", "Microsoft.Cache", "Microsoft.Capacity",
    "Microsoft.Cdn", "Microsoft.ChangeAnalysis", "Microsoft.ClassicCompute", "Microsoft.ClassicNetwork",
    "Microsoft.ClassicStorage", "Microsoft.CognitiveServices", "Microsoft.Compute", "Microsoft.Consumption",
    "Microsoft.ContainerInstance", "Microsoft.ContainerRegistry", "Microsoft.ContainerService", "Microsoft.CostManagement",
    "Microsoft.Databricks", "Microsoft.DataFactory", "Microsoft.DataProtection", "Microsoft.DBforMariaDB",
    "Microsoft.DBforMySQL", "Microsoft.DBforPostgreSQL", "Microsoft.Devices", "Microsoft.DevTestLab",
    "Microsoft.DocumentDB", "Microsoft.EventGrid", "Microsoft.EventHub", "Microsoft.Features", "Microsoft.GuestConfiguration",
    "Microsoft.HDInsight", "Microsoft.HybridCompute", "Microsoft.Insights", "Microsoft.KeyVault", "Microsoft.Kusto",
    "Microsoft.Logic", "Microsoft.MachineLearningServices", "Microsoft.Maintenance", "Microsoft.ManagedIdentity",
    "Microsoft.Management", "Microsoft.Migrate", "Microsoft.Network", "Microsoft.NotificationHubs",
    "Microsoft.OperationalInsights", "Microsoft.OperationsManagement", "Microsoft.PolicyInsights", "Microsoft.Portal",
    "Microsoft.Quota", "Microsoft.RecoveryServices", "Microsoft.Relay", "Microsoft.ResourceGraph", "Microsoft.ResourceHealth",
    "Microsoft.Resources", "Microsoft.Search", "Microsoft.Security", "Microsoft.SecurityInsights", "Microsoft.ServiceBus",
    "Microsoft.ServiceFabric", "Microsoft.SignalRService", "Microsoft.Solutions", "Microsoft.Sql", "Microsoft.Storage",
    "Microsoft.StorageSync", "Microsoft.Subscription", "Microsoft.Support", "Microsoft.Synapse", "Microsoft.Web",
];

/// A resource-provider namespace in one spelling whatever case it was logged in: the
/// well-known ones as Microsoft writes them (`MICROSOFT.KEYVAULT` → `Microsoft.KeyVault`),
/// others with each dot-separated part capitalised (`MICROSOFT.FOO` → `Microsoft.Foo`).
pub(crate) fn canonical_provider(ns: &str) -> String {
    let ns = ns.trim();
    if let Some(p) = PROVIDERS.iter().find(|p| p.eq_ignore_ascii_case(ns)) {
        return (*p).to_string();
    }
    ns.split('.')
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut c = lower.chars();
            c.next().map_or_else(String::new, |f| f.to_ascii_uppercase().to_string() + c.as_str())
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `sha256:` + 32 hex digits of the record's canonical JSON (object keys sorted, no white
/// space): byte-different copies of the same content (pretty-printed `{"records":[…]}` blob
/// and `PT1H.json` line) get the same id.
pub(crate) fn content_uid(m: &Obj) -> String {
    let mut s = String::new();
    canonical_object(m, &mut s);
    hashed_uid(&s)
}

/// `sha256:` + 32 hex digits of `text`.
pub(crate) fn hashed_uid(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    format!("sha256:{}", hex::encode(&d[..16]))
}

fn canonical_object(m: &Obj, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(k.clone()).to_string());
        out.push(':');
        canonical_json(&m[k.as_str()], out);
    }
    out.push('}');
}

fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => canonical_object(m, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Sets `src_ip` / `src_port` / `src_host` from a vendor address.
pub(crate) fn set_src(e: &mut Event<'_>, addr: Option<&str>) {
    if let Some(a) = addr {
        let s = net::split_src(a);
        e.src_ip = s.ip.map(Cow::Owned);
        e.src_port = s.port;
        e.src_host = s.host.map(Cow::Owned);
    }
}

/// HTTP status class: 1xx–3xx success, 4xx–5xx failure.
pub(crate) fn http_status_ok(code: &str) -> Option<bool> {
    let f: f64 = code.trim().parse().ok()?;
    if f.fract() != 0.0 || !(0.0..=999.0).contains(&f) {
        return None;
    }
    match f as u16 {
        100..=399 => Some(true),
        400..=599 => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Token claims and principals.

/// Token claims from any of their spellings: full claim-type URIs
/// (`http://schemas.microsoft.com/identity/claims/objectidentifier`), short JWT names
/// (`oid`), and Log Analytics' flattened columns (`identity_claim_http_schemas_…_objectidentifier_g`).
/// Keys are compared after folding every run of non-alphanumeric characters to `_`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Claims {
    entries: Vec<(String, String)>,
}

/// Claim-type URIs and short names, in lookup order.
pub(crate) mod claim {
    pub const UPN: &[&str] = &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "upn"];
    /// Claims that hold a UPN-like name when `upn` is absent (only used when they contain `@`).
    pub const NAME_AS_UPN: &[&str] = &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "unique_name",
        "preferred_username",
        "name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email",
    ];
    pub const EMAIL: &[&str] = &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "email"];
    pub const DISPLAY_NAME: &[&str] = &["name"];
    pub const OID: &[&str] = &["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
    pub const APPID: &[&str] = &["appid", "azp", "http://schemas.microsoft.com/identity/claims/appid"];
    pub const IDTYP: &[&str] = &["idtyp", "http://schemas.microsoft.com/identity/claims/idtyp"];
    pub const TID: &[&str] = &["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
    pub const MIRID: &[&str] = &["xms_mirid", "http://schemas.microsoft.com/identity/claims/xms_mirid"];
}

fn fold_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    for c in k.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl Claims {
    /// Claims of an object (`identity.claim`, `identity.claims`, `claims`, `Claims_d`).
    pub(crate) fn from_object(m: &Obj) -> Self {
        let entries = m.iter().filter_map(|(k, v)| text(v).map(|t| (fold_key(k), t))).collect();
        Claims { entries }
    }

    /// Log Analytics' flattened `identity_claim_<claim>_<type suffix>` columns of a record.
    pub(crate) fn from_flattened(rec: &Obj) -> Self {
        let entries = rec
            .iter()
            .filter_map(|(k, v)| {
                let folded = fold_key(k);
                let rest = folded.strip_prefix("identity_claim_").or_else(|| folded.strip_prefix("identity_claims_"))?;
                let name = match rest.rsplit_once('_') {
                    Some((n, "s" | "g" | "d" | "b" | "t")) => n,
                    _ => rest,
                };
                text(v).map(|t| (name.to_string(), t))
            })
            .collect();
        Claims { entries }
    }

    pub(crate) fn merge(mut self, other: Claims) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// The first claim present among `names` (URIs or short names).
    pub(crate) fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            let f = fold_key(n);
            self.entries.iter().find(|(k, _)| *k == f).map(|(_, v)| v.as_str())
        })
    }

    /// The UPN: the `upn` claim, else a name or e-mail claim that looks like one.
    pub(crate) fn upn(&self) -> Option<&str> {
        self.get(claim::UPN).or_else(|| {
            claim::NAME_AS_UPN.iter().find_map(|n| self.get(&[n]).filter(|v| v.contains('@')))
        })
    }
}

/// Splits an identity-provider prefix off a UPN: `live.com#bob@example.com` →
/// (`Some("live.com")`, `bob@example.com`). Guest UPNs (`bob_example.com#EXT#@contoso.com`)
/// are left whole.
pub(crate) fn split_idp_prefix(upn: &str) -> (Option<&str>, &str) {
    let t = upn.trim();
    if let Some((prefix, rest)) = t.split_once('#') {
        let prefix_ok = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if prefix_ok && rest.contains('@') && !rest.contains('#') {
            return (Some(prefix), rest);
        }
    }
    (None, t)
}

/// A principal found in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Actor {
    pub kind: ActorType,
    /// Stable key, never empty.
    pub uid: Option<String>,
    pub name: Option<String>,
    /// The caller's home tenant (`tid` claim).
    pub home_tenant: Option<String>,
}

impl Actor {
    pub(crate) fn none() -> Self {
        Actor { kind: ActorType::None, uid: None, name: None, home_tenant: None }
    }

    fn new(kind: ActorType, uid: &str, name: Option<String>) -> Self {
        let uid = Some(uid.trim().to_lowercase()).filter(|u| !u.is_empty());
        Actor { kind, uid, name, home_tenant: None }
    }

    /// Writes the actor columns.
    pub(crate) fn apply(self, e: &mut Event<'_>) {
        e.actor_type = if self.uid.is_none() && self.kind != ActorType::Unknown { ActorType::None } else { self.kind };
        e.actor_uid = self.uid.map(Cow::Owned);
        e.actor_name = self.name.filter(|n| !n.trim().is_empty()).map(Cow::Owned);
        e.actor_account_uid = self.home_tenant.map(Cow::Owned);
    }
}

/// The principal of an Azure Resource Manager or Key Vault record from its token claims and
/// (Activity log) `caller`, by these rules, first match wins:
///
/// 1. a UPN (`caller` with `@`, else the `upn` claim, else a name / e-mail claim holding
///    `@`) → `user`, key = the UPN without an identity-provider prefix (`live.com#`),
///    lower-cased; name = the `name` claim (display name) or the UPN as logged;
/// 2. an `xms_mirid` claim (the managed identity's resource id) → `managed_identity`, key =
///    object id (`oid`), else the GUID `caller`, else `appid`;
/// 3. `idtyp` = `user` with an object id → `user`, key = the object id;
/// 4. an object id, an `appid`, `idtyp` = `app`, or a GUID `caller` → `service_principal`,
///    key = object id (`oid` claim, else the GUID `caller`), else `appid`; name = `appid`
///    (the claims carry no display name for applications). ARM writes the UPN in `caller`
///    for people and the object id for applications and managed identities, so a bare GUID
///    caller is a service principal (a managed identity is one too; it is only told apart
///    when its `xms_mirid` claim is there);
/// 5. other `caller` text, or an e-mail claim without `@` (`Microsoft.Advisor`) → `system`
///    (an Azure service acting on its own), key = the text lower-cased;
/// 6. nothing → `none`.
pub(crate) fn claims_actor(claims: &Claims, caller: Option<&str>) -> Actor {
    let caller = caller.map(str::trim).filter(|c| !c.is_empty());
    let mut a = claims_actor_inner(claims, caller);
    if a.uid.is_some() {
        a.home_tenant = claims.get(claim::TID).map(str::to_ascii_lowercase);
    }
    a
}

fn claims_actor_inner(claims: &Claims, caller: Option<&str>) -> Actor {
    let display = claims.get(claim::DISPLAY_NAME).filter(|n| !n.contains('@')).map(str::to_string);
    if let Some(upn) = caller.filter(|c| c.contains('@')).or_else(|| claims.upn()) {
        let (_, bare) = split_idp_prefix(upn);
        return Actor::new(ActorType::User, bare, display.or_else(|| Some(upn.to_string())));
    }
    let oid = claims.get(claim::OID);
    let appid = claims.get(claim::APPID);
    let idtyp = claims.get(claim::IDTYP).map(str::to_ascii_lowercase);
    let guid_caller = caller.filter(|c| is_guid(c));
    if claims.get(claim::MIRID).is_some() {
        if let Some(k) = oid.or(guid_caller).or(appid) {
            return Actor::new(ActorType::ManagedIdentity, k, appid.map(str::to_string));
        }
    }
    if idtyp.as_deref() == Some("user") {
        if let Some(k) = oid.or(guid_caller) {
            return Actor::new(ActorType::User, k, display);
        }
    }
    if let Some(k) = oid.or(guid_caller).or(appid) {
        return Actor::new(ActorType::ServicePrincipal, k, appid.map(str::to_string).or(display));
    }
    if let Some(c) = caller.or_else(|| claims.get(claim::EMAIL)) {
        return Actor::new(ActorType::System, c, Some(c.to_string()));
    }
    Actor::none()
}

/// Actor of an RBAC `authorization.evidence` block (`principalId`, `principalType`): the
/// principal whose role assignment allowed the call, used only when a record has no caller
/// and no claims. `Group` (the caller is some member) → `unknown`.
pub(crate) fn evidence_actor(authorization: &Obj) -> Option<Actor> {
    let ev = object(authorization, &["evidence"])?;
    let id = field(&ev, "principalId")?;
    let kind = match field(&ev, "principalType").unwrap_or_default().to_ascii_lowercase().as_str() {
        "user" => ActorType::User,
        "serviceprincipal" | "application" => ActorType::ServicePrincipal,
        "managedidentity" | "msi" => ActorType::ManagedIdentity,
        _ => ActorType::Unknown,
    };
    Some(Actor::new(kind, &id, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_paths() {
        assert!(is_guid("5f1e2d3c-0000-4000-8000-000000000abc"));
        assert!(!is_guid("alice@example.com"));
        let rid = "/SUBSCRIPTIONS/361DA5D4-A47A-4C79-AFDD-XXXXXXXXXXXX/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V";
        assert_eq!(subscription_of(rid).as_deref(), Some("361da5d4-a47a-4c79-afdd-xxxxxxxxxxxx"));
        assert_eq!(subscription_of("subscriptions/abc/x").as_deref(), Some("abc"));
        assert_eq!(subscription_of("/providers/Microsoft.Authorization"), None);
        assert_eq!(tenant_of("/tenants/t-1/providers/Microsoft.aadiam").as_deref(), Some("t-1"));
        assert_eq!(provider_of_resource(rid).as_deref(), Some("Microsoft.KeyVault"));
        assert_eq!(canonical_provider("microsoft.storage"), "Microsoft.Storage");
        assert_eq!(canonical_provider("MICROSOFT.NEWTHING"), "Microsoft.Newthing");
        assert_eq!(resource_key("/SUBSCRIPTIONS/A/B"), "/subscriptions/a/b");
        assert_eq!(resource_key("https://kv.vault.azure.net/secrets/X"), "https://kv.vault.azure.net/secrets/X");
    }

    #[test]
    fn times() {
        let base = 1_619_620_334_029_000; // 2021-04-28T14:32:14.029Z
        assert_eq!(parse_time("4/28/2021, 2:32:14.029 PM"), Some(base));
        assert_eq!(parse_time("2021-04-28T14:32:14.0290000Z"), Some(base));
        assert_eq!(parse_time("2021-04-28 14:32:14.029"), Some(base));
        assert_eq!(parse_time("2021-04-28 14:32:14.029000000"), Some(base));
        assert_eq!(parse_time("2021-04-28 14:32:14.029 UTC"), Some(base));
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn claims_in_every_spelling() {
        let nested = json!({"http://schemas.microsoft.com/identity/claims/objectidentifier": "O1", "upn": "live.com#Bob@Example.com"});
        let c = Claims::from_object(nested.as_object().unwrap());
        assert_eq!(c.get(claim::OID), Some("O1"));
        assert_eq!(c.upn(), Some("live.com#Bob@Example.com"));
        let flat = json!({"identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g": "O2", "identity_claim_appid_g": "A"});
        let c = Claims::from_flattened(flat.as_object().unwrap());
        assert_eq!(c.get(claim::OID), Some("O2"));
        assert_eq!(c.get(claim::APPID), Some("A"));
    }

    #[test]
    fn principals() {
        let c = |v: Value| Claims::from_object(v.as_object().unwrap());
        let a = claims_actor(&c(json!({"upn": "live.com#Bob@Example.com"})), None);
        assert_eq!((a.kind, a.uid.as_deref()), (ActorType::User, Some("bob@example.com")));
        assert_eq!(split_idp_prefix("bob_example.com#EXT#@contoso.onmicrosoft.com").1, "bob_example.com#EXT#@contoso.onmicrosoft.com");
        let a = claims_actor(&c(json!({"oid": "O", "appid": "A", "idtyp": "app"})), None);
        assert_eq!((a.kind, a.uid.as_deref(), a.name.as_deref()), (ActorType::ServicePrincipal, Some("o"), Some("A")));
        let a = claims_actor(&Claims::default(), Some("5F1E2D3C-0000-4000-8000-000000000ABC"));
        assert_eq!((a.kind, a.uid.as_deref()), (ActorType::ServicePrincipal, Some("5f1e2d3c-0000-4000-8000-000000000abc")));
        let a = claims_actor(&c(json!({"oid": "O", "xms_mirid": "/subscriptions/s/.../userAssignedIdentities/x"})), None);
        assert_eq!(a.kind, ActorType::ManagedIdentity);
        let a = claims_actor(&c(json!({"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "Microsoft.Advisor"})), None);
        assert_eq!((a.kind, a.uid.as_deref()), (ActorType::System, Some("microsoft.advisor")));
        assert_eq!(claims_actor(&c(json!({"ipaddr": "1.1.1.1"})), None), Actor::none());
    }

    #[test]
    fn json_columns() {
        assert_eq!(json_column(&json!({"a": 1})).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(json_column(&json!("{\"a\":1}")).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(json_column(&json!("not json {")).as_deref(), Some(r#""not json {""#));
        assert_eq!(json_column(&Value::Null), None);
        let o = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(content_uid(&o(json!({"b": 1, "a": [1, {"d": 2, "c": 3}]}))), content_uid(&o(json!({"a": [1, {"c": 3, "d": 2}], "b": 1}))));
    }
}
