//! OCSF API Activity (`log_format = ocsf`): Amazon Security Lake records of class 6003, OCSF
//! 1.0–1.x JSON shapes (Security Lake source version 1 wrote OCSF `1.0.0-rc.2`, where API
//! Activity was class 3005; version 2 writes OCSF 1.1+).
//!
//! Two shapes, one mapping: JSON records (JSON lines, arrays, single documents; framing is
//! [`super::read`]'s) and Security Lake's own Parquet objects
//! (`ext/<source>/<version>/region=…/accountId=…/eventDay=…/*.parquet`, `*.gz.parquet`;
//! zstd, snappy or gzip), which [`parquet`] reads row group by row group, turning each row
//! into the JSON record Security Lake would have written ([`arrow_json`]: structs → objects,
//! lists → arrays, `map<string,string>` → object, timestamps → RFC 3339 UTC text) before
//! [`normalise_value`] maps it exactly as a JSON record. A Parquet row's locator is
//! `record:N`, N its 0-based row in the object; an object without a `class_uid` column is
//! quarantined `not_ocsf`, an unreadable one (or row group) `invalid_parquet`.
//!
//! | column | from |
//! |---|---|
//! | `time` | `time` (epoch milliseconds, number or digit text, or a Parquet timestamp column); else `time_dt` (ISO 8601 text or timestamp column). None → quarantined `missing_time`; unparsable → `invalid_time` |
//! | `event_uid` | `metadata.uid` (Security Lake copies CloudTrail's `eventID` there). None → `missing_metadata_uid` |
//! | `provider` | `cloud.provider` lower-cased (`AWS` → `aws`, `Azure` → `azure`, `GCP` → `gcp`). None → `missing_cloud_provider`; another cloud → `unsupported_cloud_provider` |
//! | `account_uid` | `cloud.account.uid` (1.1+); else `cloud.account_uid` (1.0); else `unmapped.recipientAccountId`. None → `missing_cloud_account_uid` |
//! | `region` | `cloud.region` |
//! | actor | by `actor.user.type`, see [`actor`]; `actor_account_uid` = `actor.user.account.uid` (1.1+) or `actor.user.account_uid` (1.0) |
//! | `src_ip` / `src_port` / `src_host` | `src_endpoint.ip` split by [`super::net::split_src`], `src_endpoint.port`; no IP → `src_endpoint.domain` in `src_host` |
//! | `user_agent` | `http_request.user_agent` |
//! | `service` / `operation` | `api.service.name` / `api.operation`. None → `missing_api_service` / `missing_api_operation` |
//! | `status` | [`status`]: `status_id` (1 success, 2 failure, 0 / 99 unknown), else the `status` word; `status_raw` = `status`, else `status_id` |
//! | `error_code` / `error_message` | `api.response.error` / `api.response.message` (or `error_message`); 1.0: `status_code` / `status_detail` when the status is not success |
//! | `resource_uid` | first non-empty `resources[].uid` |
//! | `request_params` | `api.request.data` as JSON text (a string holding a JSON object is unwrapped); else `unmapped.requestParameters` — nested, or rebuilt from flattened keys `unmapped["requestParameters.x.y"]` (Security Lake 1.0 Parquet: `unmapped` is a `map<string,string>` of such keys; 1.1+: JSON text, parsed first) |
//! | `response_elements` | `api.response.data`; else `unmapped.responseElements` (nested or flattened, as above) |
//! | `raw_event` | the record text when `keep_raw` (a Parquet row: its JSON, null fields left out) |
//!
//! Dedup key: (`provider`, `cloud.account.uid`, `metadata.uid`). For a Security Lake copy of a
//! CloudTrail event this is (`aws`, `recipientAccountId`, `eventID`): the same key as the raw
//! CloudTrail record, so ingesting both keeps one row.
//!
//! Records of another `class_uid` are skipped with reason `not_api_activity`. Class 3005 is
//! read only when it is the 1.0 release-candidate API Activity (`class_name` "API Activity" or
//! `metadata.version` `1.0.0-rc.*`); in OCSF 1.0 final 3005 is User Access Management.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::cloudtrail::{role_from_sts_arn, sts_part};
use super::net::split_src;
use super::{NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

/// Normaliser for OCSF API Activity records.
pub struct Ocsf;

/// OCSF API Activity class (1.0 final and later).
const API_ACTIVITY: i64 = 6003;
/// API Activity in OCSF 1.0.0-rc.2 (Security Lake source version 1).
const API_ACTIVITY_RC: i64 = 3005;

impl Normaliser for Ocsf {
    fn format(&self) -> LogFormat {
        LogFormat::Ocsf
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        let mut v: Value =
            serde_json::from_str(record).map_err(|e| Reject::quarantine("invalid_json", format!("OCSF record: {e}")))?;
        normalise_value(&mut v, record, opts, out)
    }
}

/// Maps one OCSF record already held as JSON: the one mapping behind both the JSON reader
/// ([`Ocsf`]) and the Parquet reader ([`parquet`]), so the two shapes cannot drift.
///
/// `record` is the record's text, kept in `raw_event` when `opts.keep_raw` (the Parquet
/// reader passes `""` when it is not kept). An `unmapped` given as a string holding a JSON
/// object (Security Lake 1.1+ Parquet writes it that way) is replaced by that object in `v`.
///
/// # Errors
/// A [`Reject`]: `invalid_json` when `v` is not an object, `not_api_activity` (skip) for
/// another class, `missing_*` / `invalid_time` / `unsupported_cloud_provider` as in the
/// module table.
pub(crate) fn normalise_value<'a>(
    v: &mut Value,
    record: &'a str,
    opts: &NormaliseOptions,
    out: &mut Vec<Event<'a>>,
) -> Result<(), Reject> {
    let Some(obj) = v.as_object_mut() else {
        return Err(Reject::quarantine("invalid_json", "OCSF record is not a JSON object"));
    };
    if let Some(Value::String(s)) = obj.get("unmapped") {
        if let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(s) {
            obj.insert("unmapped".to_owned(), inner);
        }
    }
    check_class(v)?;
    out.push(build(v, record, opts)?);
    Ok(())
}

/// Text of the value at a path of object keys: strings (non-blank), numbers and booleans.
fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    scalar(cur)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    (!cur.is_null()).then_some(cur)
}

fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Only API Activity records are events of this source; other classes are skipped.
fn check_class(v: &Value) -> Result<(), Reject> {
    let class = int(v, "class_uid").ok_or_else(|| Reject::missing("missing_class_uid", "class_uid"))?;
    let rc_api = class == API_ACTIVITY_RC
        && (text(v, &["class_name"]).is_some_and(|n| n.eq_ignore_ascii_case("API Activity"))
            || text(v, &["metadata", "version"]).is_some_and(|s| s.starts_with("1.0.0-rc")));
    if class == API_ACTIVITY || rc_api {
        Ok(())
    } else {
        let name = text(v, &["class_name"]).unwrap_or_default();
        Err(Reject::skip("not_api_activity", format!("OCSF class_uid {class} {name} is not API Activity (6003)")))
    }
}

/// `cloud.provider` text → [`Provider`].
fn provider(word: &str) -> Option<Provider> {
    match word.trim().to_ascii_lowercase().as_str() {
        "aws" | "amazon web services" | "amazon" => Some(Provider::Aws),
        "azure" | "microsoft azure" => Some(Provider::Azure),
        "gcp" | "google cloud platform" | "google cloud" | "google" => Some(Provider::Gcp),
        _ => None,
    }
}

fn build<'a>(v: &Value, record: &'a str, opts: &NormaliseOptions) -> Result<Event<'a>, Reject> {
    let time = match v.get("time").filter(|t| !t.is_null()) {
        Some(t) => {
            let ms = match t {
                Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            ms.map(super::time::from_epoch_millis)
                .or_else(|| t.as_str().and_then(super::time::parse_iso))
                .ok_or_else(|| Reject::quarantine("invalid_time", format!("`time` is not epoch milliseconds: {t}")))?
        }
        None => match text(v, &["time_dt"]) {
            Some(t) => super::time::parse_iso(&t)
                .ok_or_else(|| Reject::quarantine("invalid_time", format!("`time_dt` is not a time: {t:?}")))?,
            None => return Err(Reject::missing("missing_time", "time")),
        },
    };
    let event_uid = text(v, &["metadata", "uid"]).ok_or_else(|| Reject::missing("missing_metadata_uid", "metadata.uid"))?;
    let provider_word =
        text(v, &["cloud", "provider"]).ok_or_else(|| Reject::missing("missing_cloud_provider", "cloud.provider"))?;
    let provider = provider(&provider_word).ok_or_else(|| {
        Reject::quarantine("unsupported_cloud_provider", format!("`cloud.provider` {provider_word:?} is not aws, azure or gcp"))
    })?;
    let account = text(v, &["cloud", "account", "uid"])
        .or_else(|| text(v, &["cloud", "account_uid"]))
        .or_else(|| text(v, &["unmapped", "recipientAccountId"]))
        .ok_or_else(|| Reject::missing("missing_cloud_account_uid", "cloud.account.uid"))?;
    let service =
        text(v, &["api", "service", "name"]).ok_or_else(|| Reject::missing("missing_api_service", "api.service.name"))?;
    let operation = text(v, &["api", "operation"]).ok_or_else(|| Reject::missing("missing_api_operation", "api.operation"))?;

    let mut e = Event::new(time, event_uid.into(), provider, LogFormat::Ocsf, account.into(), service.into(), operation.into());
    e.region = text(v, &["cloud", "region"]).map(Cow::Owned);
    actor(&mut e, v);
    match text(v, &["src_endpoint", "ip"]).map(|ip| split_src(&ip)) {
        Some(s) if s.ip.is_some() => {
            e.src_ip = s.ip.map(Cow::Owned);
            e.src_port = s.port.or_else(|| int(v.get("src_endpoint").unwrap_or(&Value::Null), "port").and_then(|p| u16::try_from(p).ok()));
            e.src_host = text(v, &["src_endpoint", "domain"]).map(Cow::Owned);
        }
        Some(s) => e.src_host = s.host.map(Cow::Owned),
        None => e.src_host = text(v, &["src_endpoint", "domain"]).map(Cow::Owned),
    }
    e.user_agent = text(v, &["http_request", "user_agent"]).map(Cow::Owned);
    let (status, raw) = status(v);
    e.status = status;
    e.status_raw = raw.map(Cow::Owned);
    e.error_code = text(v, &["api", "response", "error"]).map(Cow::Owned);
    e.error_message = text(v, &["api", "response", "message"])
        .or_else(|| text(v, &["api", "response", "error_message"]))
        .map(Cow::Owned);
    if status != Status::Success {
        e.error_code = e.error_code.take().or_else(|| text(v, &["status_code"]).map(Cow::Owned));
        e.error_message = e.error_message.take().or_else(|| text(v, &["status_detail"]).map(Cow::Owned));
    }
    e.resource_uid = v
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|rs| rs.iter().find_map(|r| text(r, &["uid"])))
        .map(Cow::Owned);
    e.request_params = body(v, &["api", "request", "data"], "requestParameters").map(Cow::Owned);
    e.response_elements = body(v, &["api", "response", "data"], "responseElements").map(Cow::Owned);
    e.raw_event = opts.keep_raw.then_some(Cow::Borrowed(record));
    Ok(e)
}

/// Status table (OCSF `status_id` enum), then the `status` caption when the id is absent.
///
/// | `status_id` / `status` | `status` column |
/// |---|---|
/// | 1 / `Success` | `success` |
/// | 2 / `Failure` | `failure` |
/// | 0 / `Unknown`, 99 / `Other`, anything else | `unknown` |
///
/// `status_raw` keeps the record's `status` word, else the `status_id` number.
fn status(v: &Value) -> (Status, Option<String>) {
    let word = text(v, &["status"]);
    let by_id = match int(v, "status_id") {
        Some(1) => Some(Status::Success),
        Some(2) => Some(Status::Failure),
        Some(_) => Some(Status::Unknown),
        None => None,
    };
    let by_word = || match word.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("success") => Status::Success,
        Some("failure" | "failed") => Status::Failure,
        _ => Status::Unknown,
    };
    let status = by_id.unwrap_or_else(by_word);
    (status, word.or_else(|| text(v, &["status_id"])))
}

/// A request or response body as JSON text: the OCSF `data` field, else the CloudTrail key in
/// `unmapped` (nested object, or flattened `"<key>.a.b"` keys rebuilt into an object).
fn body(v: &Value, path: &[&str], unmapped_key: &str) -> Option<String> {
    if let Some(d) = at(v, path) {
        return Some(match d {
            // Some exporters write the body as a JSON string: keep the JSON it holds.
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|x| x.is_object() || x.is_array()) => s.clone(),
            other => other.to_string(),
        });
    }
    let unmapped = v.get("unmapped")?.as_object()?;
    if let Some(d) = unmapped.get(unmapped_key) {
        return match d {
            Value::Null => None,
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|x| x.is_object() || x.is_array()) => Some(s.clone()),
            other => Some(other.to_string()),
        };
    }
    let prefix = format!("{unmapped_key}.");
    let mut out = Map::new();
    for (k, val) in unmapped {
        if let Some(rest) = k.strip_prefix(&prefix) {
            insert_dotted(&mut out, rest, val.clone());
        }
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

/// Inserts `value` at the dotted path `key` (`a.b` → `{"a":{"b":value}}`); when a scalar is
/// already in the way the whole dotted key is kept flat instead.
fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        map.insert(key.to_owned(), value);
        return;
    }
    let mut cur = &mut *map;
    for p in &parts[..parts.len() - 1] {
        let entry = cur.entry((*p).to_owned()).or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(m) => cur = m,
            _ => {
                map.insert(key.to_owned(), value);
                return;
            }
        }
    }
    cur.insert(parts[parts.len() - 1].to_owned(), value);
}

/// Fills the actor columns from `actor` (same principal rules as CloudTrail's `userIdentity`).
///
/// | `actor.user.type` | `actor_type` | `actor_uid` | `actor_session_uid` |
/// |---|---|---|---|
/// | IAMUser | `iam_user` | user ARN (`user.uid`, 1.0 `user.uuid`), else rebuilt from account + name | `user.credential_uid` (access key) |
/// | AssumedRole | `assumed_role` | role ARN from `actor.session.issuer`, else rebuilt from the STS ARN | role session name (from the STS ARN, else `principalId` after `:`) |
/// | Root | `root` | user ARN, else `arn:aws:iam::<account>:root` | access key |
/// | AWSService (or no user but `actor.invoked_by`) | `aws_service` | `actor.invoked_by` | — |
/// | FederatedUser / SAMLUser / WebIdentityUser | `federated_user` | ARN, else `user.uid`, else name | access key |
/// | IdentityCenterUser | `identity_center_user` | `user.uid`, else name | — |
/// | AWSAccount | `aws_account` | the caller's account id | `user.uid` |
/// | User / Admin (OCSF `type_id` 1 / 2) | `user` | `user.uid`, else `email_addr`, else name (lower-cased when an e-mail) | — |
/// | System (3) | `system` | `user.uid`, else name | — |
/// | Service (4) | `service_account` (gcp), `service_principal` (other clouds) | `user.uid`, else name | — |
/// | other | `unknown` | ARN, else `user.uid`, else name | — |
///
/// No `actor.user` and no `invoked_by` gives `none`.
fn actor(e: &mut Event<'_>, v: &Value) {
    let u = |k: &[&str]| -> Option<String> {
        let mut p = vec!["actor", "user"];
        p.extend_from_slice(k);
        text(v, &p)
    };
    let invoked_by = text(v, &["actor", "invoked_by"]);
    let has_user = at(v, &["actor", "user"]).is_some_and(Value::is_object);
    let kind = u(&["type"]).or_else(|| match int(at(v, &["actor", "user"]).unwrap_or(&Value::Null), "type_id") {
        Some(1) => Some("User".into()),
        Some(2) => Some("Admin".into()),
        Some(3) => Some("System".into()),
        Some(4) => Some("Service".into()),
        _ => None,
    });
    if !has_user || kind.is_none() && u(&["uid"]).is_none() && u(&["name"]).is_none() {
        if let Some(svc) = invoked_by {
            e.actor_type = ActorType::AwsService;
            e.actor_name = Some(Cow::Owned(svc.clone()));
            e.actor_uid = Some(Cow::Owned(svc));
        } else {
            e.actor_type = ActorType::None;
        }
        return;
    }
    let account = u(&["account", "uid"]).or_else(|| u(&["account_uid"]));
    e.actor_account_uid = account.clone().map(Cow::Owned);
    let uid = u(&["uid"]);
    let name = u(&["name"]);
    // The ARN: 1.1+ puts it in `uid`; 1.0 used `uuid` (and `uid` for the principal id).
    let arn = [u(&["uid"]), u(&["uuid"]), u(&["uid_alt"])].into_iter().flatten().find(|s| s.starts_with("arn:"));
    let principal_id = [u(&["uid_alt"]), u(&["uid"])].into_iter().flatten().find(|s| !s.starts_with("arn:"));
    let key = u(&["credential_uid"]).or_else(|| text(v, &["actor", "session", "credential_uid"]));
    let own = |s: Option<String>| s.map(Cow::Owned);
    match kind.as_deref().unwrap_or_default() {
        "IAMUser" => {
            e.actor_type = ActorType::IamUser;
            e.actor_uid = own(arn.or_else(|| match (&account, &name) {
                (Some(a), Some(n)) => Some(format!("arn:aws:iam::{a}:user/{n}")),
                _ => uid,
            }));
            e.actor_name = own(name);
            e.actor_session_uid = own(key);
        }
        "AssumedRole" => {
            e.actor_type = ActorType::AssumedRole;
            let issuer = text(v, &["actor", "session", "issuer"]);
            let sts = arn.filter(|a| a.contains(":assumed-role/"));
            e.actor_uid = own(issuer.clone().or_else(|| sts.as_deref().and_then(role_from_sts_arn)));
            e.actor_name = own(
                issuer
                    .as_deref()
                    .and_then(|i| i.rsplit('/').next().filter(|r| !r.is_empty() && i.contains(":role/")))
                    .map(str::to_owned)
                    .or_else(|| sts.as_deref().and_then(|a| sts_part(a, 1)).map(str::to_owned))
                    .or(name),
            );
            e.actor_session_uid = own(
                sts.as_deref()
                    .and_then(|a| sts_part(a, 2))
                    .map(str::to_owned)
                    .or_else(|| principal_id.as_deref().and_then(|p| p.split_once(':')).map(|(_, s)| s.to_owned()))
                    .filter(|s| !s.is_empty()),
            );
        }
        "Root" => {
            e.actor_type = ActorType::Root;
            e.actor_uid = own(arn.or_else(|| account.as_ref().map(|a| format!("arn:aws:iam::{a}:root"))));
            e.actor_name = Some(Cow::Borrowed("root"));
            e.actor_session_uid = own(key);
        }
        "AWSService" => {
            e.actor_type = ActorType::AwsService;
            e.actor_uid = own(invoked_by.or(name).or(uid));
            e.actor_name = e.actor_uid.clone();
            e.actor_account_uid = None;
        }
        "FederatedUser" | "SAMLUser" | "WebIdentityUser" => {
            e.actor_type = ActorType::FederatedUser;
            e.actor_uid = own(arn.or(uid).or_else(|| name.clone()));
            e.actor_name = own(name);
            e.actor_session_uid = own(key);
        }
        "IdentityCenterUser" => {
            e.actor_type = ActorType::IdentityCenterUser;
            e.actor_uid = own(uid.or_else(|| name.clone()));
            e.actor_name = own(name);
        }
        "AWSAccount" => {
            e.actor_type = ActorType::AwsAccount;
            e.actor_uid = own(account);
            e.actor_session_uid = own(principal_id);
        }
        "User" | "Admin" => {
            e.actor_type = ActorType::User;
            let id = uid.or_else(|| u(&["email_addr"])).or_else(|| name.clone());
            e.actor_uid = own(id.map(|s| if s.contains('@') { s.to_lowercase() } else { s }));
            e.actor_name = own(name);
        }
        "System" => {
            e.actor_type = ActorType::System;
            e.actor_uid = own(uid.or_else(|| name.clone()));
            e.actor_name = own(name);
        }
        "Service" => {
            e.actor_type = if e.provider == Provider::Gcp { ActorType::ServiceAccount } else { ActorType::ServicePrincipal };
            e.actor_uid = own(uid.or_else(|| name.clone()));
            e.actor_name = own(name);
        }
        _ => {
            e.actor_type = ActorType::Unknown;
            e.actor_uid = own(arn.or(uid).or_else(|| name.clone()));
            e.actor_name = own(name);
        }
    }
}

mod arrow_json;
pub(crate) mod parquet;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testkit;
