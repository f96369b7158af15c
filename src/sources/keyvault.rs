//! `keyvault_audit`: Azure Key Vault `AuditEvent` resource logs (provider `azure`).
//!
//! # Shapes read
//! - **Storage / Event Hub** records (`{"records":[…]}` blobs, `PT1H.json` JSON lines):
//!   `time` (7 fraction digits), `resourceId`, `operationName` (`SecretGet`, `VaultGet`, ...),
//!   `operationVersion`, `category` `AuditEvent`, `resultType`, `resultSignature`,
//!   `resultDescription`, `durationMs` (string or number), `callerIpAddress`,
//!   `correlationId`, `identity.claim` (or `identity.claims`, or `identity` as a string
//!   holding JSON), `properties{id, clientInfo, httpStatusCode, requestUri,
//!   isAccessPolicyMatch, ...}`.
//! - **Log Analytics `AzureDiagnostics`** rows (CSV or JSON): `TimeGenerated`,
//!   `OperationName`, `ResultType`, `CallerIPAddress`, `ResourceId`, `SubscriptionId`,
//!   `DurationMs`, and flattened columns: claims as `identity_claim_<claim>_<s|g>`, properties
//!   as `id_s`, `clientInfo_s`, `httpStatusCode_d`, `requestUri_s`, `isAccessPolicyMatch_b`.
//! - **Log Analytics `AZKVAuditLogs`** (resource-specific table) rows: `TimeGenerated`,
//!   `OperationName`, `ResultType`, `CallerIpAddress`, `Identity` (JSON text of
//!   `{"claim": {...}}`), `Id`, `ClientInfo`, `HttpStatusCode`, `RequestUri`, `_ResourceId`,
//!   `SubscriptionId`.
//!
//! Claims are found under any spelling: claim-type URIs
//! (`http://schemas.microsoft.com/identity/claims/objectidentifier`,
//! `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn`), short names (`oid`, `upn`,
//! `appid`, `idtyp`) and the flattened Log Analytics columns ([`Claims`]).
//!
//! Records of a sibling format in the same object are handed to it (see
//! [`super::azure_activity`], "family").
//!
//! # Field mapping
//! | column | from (first present wins) |
//! |---|---|
//! | `time` | `time` → `TimeGenerated` → `TimeGenerated [UTC]`; truncated to µs |
//! | `event_uid` (dedup key) | Key Vault logs carry no record id, so it is `sha256:` + 32 hex of the normalised values `time` (µs) · `operationName` · `resource_uid` · `actor_uid` · `src_ip` · `correlationId` · `httpStatusCode` · `durationMs`, fields both shapes carry: the storage copy and the Log Analytics copy of one request get one id (and deduplicate); two requests differ at least in time |
//! | `account_uid` | `SubscriptionId` → the `/subscriptions/<id>/` of `resourceId` / `_ResourceId`, lower-cased; none → `missing_subscription_id` |
//! | `region` | `location` when logged |
//! | actor | [`shared::claims_actor`] over the claims (no `caller` here): a UPN → `user`, key = UPN lower-cased with an identity-provider prefix (`live.com#`) removed, name = the UPN as logged (prefix kept); `idtyp` `app` / an object id / an `appid` → `service_principal`, key = object id (`oid`), else `appid`, name = `appid`; `xms_mirid` → `managed_identity`; no identity (unauthenticated `401` calls) → `none` |
//! | `actor_account_uid` | `tid` claim (the caller's home tenant) |
//! | `src_ip` / `src_port` / `src_host` | `callerIpAddress` / `CallerIPAddress` |
//! | `user_agent` | `properties.clientInfo` / `clientInfo_s` / `ClientInfo` |
//! | `service` | `Microsoft.KeyVault` |
//! | `operation` | `operationName` / `OperationName` as logged (Key Vault spells each one way: `SecretGet`) |
//! | `status`, `status_raw` | see the status table; `status_raw` = `resultType` (else the HTTP status) |
//! | `error_code`, `error_message` | failures only: `resultSignature` (`Forbidden`, `Unauthorized`) → `httpStatusCode`; `resultDescription` |
//! | `resource_uid` | the secret / key / certificate URL `properties.id` / `id_s` / `Id` as logged (version segment kept) → the vault's resource id (lower-cased) |
//! | `request_params` | `properties` as JSON text; for Log Analytics rows an object of the flattened property columns (`id_s` → `id`, `httpStatusCode_d` → `httpStatusCode`, ...) |
//! | `response_elements` | NULL |
//!
//! # Status table ([`status_of`])
//! `httpStatusCode` when logged: 1xx–3xx → `success`, 4xx–5xx → `failure` (Key Vault writes
//! `resultType` `Success` on some denied calls: the HTTP status decides); otherwise
//! `resultType`: `Success`, `Succeeded` → `success`; `Failure`, `Failed` → `failure`; anything
//! else → `unknown`.
//!
//! # Quarantine reasons
//! `invalid_json`, `missing_event_time`, `invalid_event_time`, `missing_operation_name`,
//! `missing_subscription_id`.

use std::borrow::Cow;

use serde_json::Value;

use super::azure_activity::shared::{self, claims_actor, field, first, get, object, Claims, Obj};
use super::{NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{LogFormat, Provider, Status};

#[cfg(test)]
mod tests;

/// Normaliser for `LogFormat::KeyVaultAudit`.
pub struct KeyVaultAudit;

impl Normaliser for KeyVaultAudit {
    fn format(&self) -> LogFormat {
        LogFormat::KeyVaultAudit
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        shared::normalise_family(self.format(), record, opts, out)
    }
}

/// Log Analytics type suffixes of flattened columns.
const SUFFIXES: [&str; 5] = ["_s", "_d", "_b", "_g", "_t"];

pub(crate) fn normalise_record(rec: &Obj) -> Result<Event<'static>, Reject> {
    let time = shared::event_time(rec, &["time", "TimeGenerated", "TimeGenerated [UTC]"])?;
    let operation = first(rec, &["operationName"]).ok_or_else(|| Reject::missing("missing_operation_name", "operationName"))?;
    let resource_id = first(rec, &["resourceId", "_ResourceId"]);
    let account = first(rec, &["SubscriptionId"])
        .map(|s| s.to_ascii_lowercase())
        .or_else(|| resource_id.as_deref().and_then(shared::subscription_of))
        .ok_or_else(|| Reject::missing("missing_subscription_id", "resourceId"))?;

    let props = object(rec, &["properties"]);
    // A property from `properties`, else from its flattened `AzureDiagnostics` column
    // (`id_s`), else from a top-level column of the same name (`AZKVAuditLogs`: `Id`,
    // `ClientInfo`, `HttpStatusCode`).
    let prop = |k: &str| {
        props
            .as_deref()
            .and_then(|p| field(p, k))
            .or_else(|| SUFFIXES.iter().find_map(|s| field(rec, &format!("{k}{s}"))))
            .or_else(|| if props.is_none() { field(rec, k) } else { None })
    };

    let identity = object(rec, &["identity"]);
    let claims = identity
        .as_deref()
        .and_then(|i| object(i, &["claim", "claims"]))
        .map(|c| Claims::from_object(&c))
        .unwrap_or_default()
        .merge(Claims::from_flattened(rec));
    let actor = claims_actor(&claims, None);

    let ip = first(rec, &["callerIpAddress"]);
    let http = prop("httpStatusCode");
    let result_type = first(rec, &["resultType"]);
    let status = status_of(http.as_deref(), result_type.as_deref());
    let resource_uid = prop("id").unwrap_or_else(|| resource_id.as_deref().map(shared::resource_key).unwrap_or_default());
    let resource_uid = Some(resource_uid).filter(|r| !r.is_empty());

    let mut e = Event::new(
        time,
        Cow::Borrowed(""),
        Provider::Azure,
        LogFormat::KeyVaultAudit,
        account.into(),
        "Microsoft.KeyVault".into(),
        operation.clone().into(),
    );
    e.region = field(rec, "location").map(Cow::Owned);
    actor.apply(&mut e);
    shared::set_src(&mut e, ip.as_deref());
    e.user_agent = prop("clientInfo").map(Cow::Owned);
    e.status = status;
    e.status_raw = result_type.or_else(|| http.clone()).map(Cow::Owned);
    if status == Status::Failure {
        e.error_code = first(rec, &["resultSignature"]).or_else(|| http.clone()).map(Cow::Owned);
        e.error_message = first(rec, &["resultDescription"]).map(Cow::Owned);
    }
    e.resource_uid = resource_uid.map(Cow::Owned);
    e.request_params = match get(rec, "properties") {
        Some(v) => shared::json_column(v),
        None => flattened_properties(rec),
    }
    .map(Cow::Owned);

    let key = [
        e.time.to_string(),
        operation,
        e.resource_uid.as_deref().unwrap_or_default().to_string(),
        e.actor_uid.as_deref().unwrap_or_default().to_string(),
        e.src_ip.as_deref().or(e.src_host.as_deref()).unwrap_or_default().to_string(),
        first(rec, &["correlationId"]).unwrap_or_default(),
        http.unwrap_or_default(),
        first(rec, &["durationMs"]).unwrap_or_default(),
    ]
    .join("\u{1f}");
    e.event_uid = Cow::Owned(shared::hashed_uid(&key));
    Ok(e)
}

/// The flattened property columns of a Log Analytics row as one object (suffix removed);
/// `None` when there is none.
fn flattened_properties(rec: &Obj) -> Option<String> {
    let mut out = Obj::new();
    for (k, v) in rec {
        if k.to_ascii_lowercase().starts_with("identity_claim") || v.is_null() {
            continue;
        }
        if let Some(name) = SUFFIXES.iter().find_map(|s| k.strip_suffix(s)) {
            if !name.is_empty() && !name.contains('_') {
                out.insert(name.to_string(), v.clone());
            }
        }
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

/// The status table (module docs).
pub fn status_of(http_status: Option<&str>, result_type: Option<&str>) -> Status {
    match http_status.and_then(shared::http_status_ok) {
        Some(true) => return Status::Success,
        Some(false) => return Status::Failure,
        None => {}
    }
    match result_type.unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "success" | "succeeded" => Status::Success,
        "failure" | "failed" => Status::Failure,
        _ => Status::Unknown,
    }
}
