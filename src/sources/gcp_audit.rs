//! `gcp_audit`: Google Cloud Audit Logs (provider `gcp`), one `LogEntry` per record whose
//! `protoPayload` is a `google.cloud.audit.AuditLog`.
//!
//! Keys are looked up exactly first, then ASCII case-insensitively (Panther lower-cases
//! some top-level keys and writes `callerIP`); Panther's `at_sign_type` is read as `@type`.
//! `request` / `response` are copied as the exact JSON text of the record (borrowed).
//!
//! # Which entries give events
//! - `protoPayload` with `@type` `type.googleapis.com/google.cloud.audit.AuditLog`, or with no
//!   `@type` at all (exports that drop it): an event.
//!   Every audit log (`activity`, `data_access`, `system_event`, `policy`) is read; the log
//!   type is the part of `logName` after `cloudaudit.googleapis.com%2F` and has no column.
//! - Any other `LogEntry` (a `jsonPayload` / `textPayload` entry, or a `protoPayload` of
//!   another `@type`, e.g. App Engine request logs) in the same sink: **skipped**,
//!   reason `not_cloud_audit`.
//! - BigQuery log-sink rows name the payload `protopayload_auditlog` and write times as
//!   `2021-10-19 02:57:47.339377 UTC`: both are read.
//! - Legacy BigQuery `AuditData` rides inside an AuditLog as `protoPayload.serviceData`: the
//!   entry is normalised like any other and, when it has no `request`, `serviceData` (job
//!   configuration, query text) becomes `request_params`.
//! - A JSON object that is no `LogEntry` at all (no payload, `logName` or `insertId`):
//!   quarantined, `not_a_log_entry`.
//!
//! # Field mapping
//! | column | from (first present wins) |
//! |---|---|
//! | `time` | `timestamp` → `protoPayload.requestMetadata.requestAttributes.time` (the request's own time). Never `receiveTimestamp` (ingest time). Nanoseconds truncated to µs; no zone = UTC. |
//! | `event_uid` (dedup key) | `insertId`; when an export dropped it, `sha256:` + 32 hex digits of the SHA-256 of the record text, so byte-identical re-deliveries still deduplicate |
//! | `account_uid` | `resource.labels.project_id` → `logName` `projects/<p>/logs/…` → `resource.labels.organization_id` / `folder_id` / `billing_account_id` or `logName` `organizations/<o>/…`, `folders/<f>/…`, `billingAccounts/<b>/…` (kept with their prefix, e.g. `organizations/123`, so they never collide with a project) → `resourceName` `projects/<p>/…` (not `_` / `-`) |
//! | `region` | `resource.labels.location` → `region` → `zone`; a zone (`us-central1-a`) is mapped to its region (`us-central1`), the zone itself stays in `raw_event`; multi-regions (`us`) and `global` kept as logged; else the single entry of `resourceLocation.currentLocations` |
//! | `actor_uid`, `actor_name` | `authenticationInfo.principalEmail` → `principalSubject` (`user:` / `serviceAccount:` prefix removed); lower-cased key, name as logged |
//! | `actor_type` | [`classify_principal`]: Google service agents (`service-<n>@…`, `*@gcp-sa-*`, `*@cloudservices.gserviceaccount.com`, `*@system.gserviceaccount.com`, other `*@<google>.gserviceaccount.com` such as `cloudbuild`) → `service_agent`; `*.iam.gserviceaccount.com`, `*@developer.gserviceaccount.com`, `*@appspot.gserviceaccount.com`, Kubernetes `system:serviceaccount:…`, workload-identity `principal://…/workloadIdentityPools/…` → `service_account`; other `system:…` → `system`; `system:anonymous` → `unknown`; other e-mail or workforce `principal://` → `user`; no principal → `none` |
//! | `actor_session_uid` | the impersonation chain `authenticationInfo.serviceAccountDelegationInfo[].firstPartyPrincipal.principalEmail` (or `principalSubject`), in logged order (original caller first), joined with `,`; else `authenticationInfo.serviceAccountKeyName` (the key used, like an AWS access key id) |
//! | `actor_account_uid` | project of a user-managed service account (`<sa>@<project>.iam.gserviceaccount.com`) |
//! | `src_ip` / `src_port` / `src_host` | `requestMetadata.callerIp` through [`net::split_src`]; `private`, `gce-internal-ip` → `src_host` |
//! | `user_agent` | `requestMetadata.callerSuppliedUserAgent` |
//! | `service` | `serviceName` → `resource.labels.service` → `operation.producer` → by `methodName` prefix (`io.k8s.` → `k8s.io`; `compute.`/`v1.compute.`/`beta.compute.` → `compute.googleapis.com`; `storage.` → `storage.googleapis.com`) → `unknown` |
//! | `operation` | `methodName` (required) |
//! | `status`, `status_raw`, `error_code`, `error_message` | see the status table; `status_raw` and `error_code` are the numeric `status.code` as text, `error_message` is `status.message` |
//! | `resource_uid` | `resourceName` |
//! | `request_params` / `response_elements` | `protoPayload.request` (else `serviceData`) / `protoPayload.response`, exact JSON text; JSON `null` is NULL |
//!
//! # Status table
//! `status` absent, `{}` or `code` 0 → `success`; any other `code` (google.rpc.Code: 7
//! PERMISSION_DENIED, 16 UNAUTHENTICATED, ...) → `failure`. The first entry of a
//! long-running operation (`operation.first` true, `operation.last` not) without an error
//! → `unknown`, `status_raw` [`OPERATION_FIRST`]: the operation has not ended, and volume
//! analytics count it once, at its last entry.
//!
//! # Quarantine reasons
//! `invalid_json`, `not_a_log_entry`, `missing_timestamp`, `invalid_timestamp`,
//! `missing_method_name`, `missing_project_id`. Skip reason: `not_cloud_audit`.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// `status_raw` of the first entry of a long-running operation that has not ended.
pub const OPERATION_FIRST: &str = "operation.first";

use serde_json::value::RawValue;

use super::{net, time, NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

#[cfg(test)]
mod tests;

/// Normaliser for `LogFormat::GcpAudit`.
pub struct GcpAudit;

/// `@type` of a Cloud Audit Logs payload.
pub const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// One JSON object whose values borrow from the record text.
struct Obj<'a>(BTreeMap<String, &'a RawValue>);

impl<'a> Obj<'a> {
    fn parse(raw: &'a str) -> Option<Self> {
        serde_json::from_str(raw).ok().map(Obj)
    }

    /// Exact key first, then ASCII case-insensitive.
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0
            .get(key)
            .or_else(|| self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .copied()
    }

    fn obj(&self, key: &str) -> Option<Obj<'a>> {
        self.get(key).and_then(|r| Obj::parse(r.get()))
    }

    /// A scalar as text (strings borrowed when they hold no escapes); `None` when empty.
    fn text(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get(key).and_then(scalar)
    }

    /// The value's exact JSON text; `None` for absent or `null`.
    fn json(&self, key: &str) -> Option<Cow<'a, str>> {
        self.get(key).map(RawValue::get).filter(|t| t.trim() != "null").map(Cow::Borrowed)
    }
}

fn scalar(raw: &RawValue) -> Option<Cow<'_, str>> {
    let t = raw.get().trim();
    let s: Cow<'_, str> = if t.starts_with('"') {
        match serde_json::from_str::<&str>(t) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(serde_json::from_str::<String>(t).ok()?),
        }
    } else if t.starts_with(['{', '[']) || t == "null" {
        return None;
    } else {
        Cow::Borrowed(t)
    };
    match s {
        Cow::Borrowed(b) => Some(b.trim()).filter(|b| !b.is_empty()).map(Cow::Borrowed),
        Cow::Owned(o) => Some(o.trim().to_string()).filter(|o| !o.is_empty()).map(Cow::Owned),
    }
}

impl Normaliser for GcpAudit {
    fn format(&self) -> LogFormat {
        LogFormat::GcpAudit
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        let entry = Obj::parse(record)
            .ok_or_else(|| Reject::quarantine("invalid_json", "GCP LogEntry is not a JSON object"))?;
        let pp = audit_payload(&entry)?;

        let time = event_time(&entry, &pp)?;
        let operation = pp.text("methodName").ok_or_else(|| Reject::missing("missing_method_name", "protoPayload.methodName"))?;
        let labels = entry.obj("resource").and_then(|r| r.obj("labels"));
        let label = |k: &str| labels.as_ref().and_then(|l| l.text(k));
        let log_name = entry.text("logName");
        let account = account_of(&label, log_name.as_deref(), pp.text("resourceName").as_deref())
            .ok_or_else(|| Reject::missing("missing_project_id", "resource.labels.project_id"))?;
        let event_uid = entry.text("insertId").unwrap_or_else(|| Cow::Owned(synthetic_uid(record)));
        let service = pp
            .text("serviceName")
            .or_else(|| label("service"))
            .or_else(|| entry.obj("operation").and_then(|o| o.text("producer")))
            .or_else(|| service_of_method(&operation).map(Cow::Borrowed))
            .unwrap_or(Cow::Borrowed("unknown"));

        let mut e = Event::new(time, event_uid, Provider::Gcp, LogFormat::GcpAudit, account, service, operation);
        e.region = label("location")
            .or_else(|| label("region"))
            .or_else(|| label("zone"))
            .or_else(|| single_location(&pp))
            .map(region_of);

        if let Some(auth) = pp.obj("authenticationInfo") {
            set_actor(&mut e, &auth);
        }
        if let Some(meta) = pp.obj("requestMetadata") {
            if let Some(ip) = meta.text("callerIp") {
                let s = net::split_src(&ip);
                e.src_ip = s.ip.map(Cow::Owned);
                e.src_port = s.port;
                e.src_host = s.host.map(Cow::Owned);
            }
            e.user_agent = meta.text("callerSuppliedUserAgent");
        }

        // Outcome: google.rpc.Status.
        let status = pp.obj("status");
        let code = status.as_ref().and_then(|s| s.text("code"));
        e.status = match code.as_deref() {
            None | Some("0") => Status::Success,
            Some(_) => Status::Failure,
        };
        if e.status == Status::Failure {
            e.error_code = code.clone();
            e.error_message = status.as_ref().and_then(|s| s.text("message"));
        }
        e.status_raw = code;
        // A long-running operation logs a first entry when it starts and a last one when it
        // ends (`operation.first` / `operation.last`): the first has no outcome yet, so it is
        // not a success, and counting analytics count the operation at its last entry.
        let op = entry.obj("operation");
        let marked = |k: &str| op.as_ref().and_then(|o| o.text(k)).is_some_and(|v| v == "true");
        if marked("first") && !marked("last") && e.status == Status::Success {
            e.status = Status::Unknown;
            e.status_raw = Some(Cow::Borrowed(OPERATION_FIRST));
        }

        e.resource_uid = pp.text("resourceName");
        e.request_params = pp.json("request").or_else(|| pp.json("serviceData"));
        e.response_elements = pp.json("response");
        if opts.keep_raw {
            e.raw_event = Some(Cow::Borrowed(record));
        }
        out.push(e);
        Ok(())
    }
}

/// The AuditLog payload, or why the entry gives no event.
fn audit_payload<'a>(entry: &Obj<'a>) -> Result<Obj<'a>, Reject> {
    let Some(pp) = entry.obj("protoPayload").or_else(|| entry.obj("protopayload_auditlog")) else {
        let payload = ["jsonPayload", "textPayload", "protoPayload"].into_iter().find(|k| entry.get(k).is_some());
        if payload.is_some() || entry.get("logName").is_some() || entry.get("insertId").is_some() {
            return Err(Reject::skip(
                "not_cloud_audit",
                format!("LogEntry without an AuditLog protoPayload ({})", payload.unwrap_or("no payload")),
            ));
        }
        return Err(Reject::quarantine("not_a_log_entry", "no protoPayload, jsonPayload, textPayload, logName or insertId"));
    };
    match pp.text("@type").or_else(|| pp.text("at_sign_type")) {
        Some(t) if t == AUDIT_LOG_TYPE => Ok(pp),
        Some(t) => Err(Reject::skip("not_cloud_audit", format!("protoPayload of type `{t}`, not an AuditLog"))),
        // Real entries always carry `@type`; an export that dropped it is read as an AuditLog
        // (and quarantined below if its required fields are missing too).
        None => Ok(pp),
    }
}

fn event_time(entry: &Obj<'_>, pp: &Obj<'_>) -> Result<i64, Reject> {
    let (name, text) = match entry.text("timestamp") {
        Some(t) => ("timestamp", t),
        None => match pp.obj("requestMetadata").and_then(|m| m.obj("requestAttributes")).and_then(|a| a.text("time")) {
            Some(t) => ("protoPayload.requestMetadata.requestAttributes.time", t),
            None => return Err(Reject::missing("missing_timestamp", "timestamp")),
        },
    };
    // BigQuery sink exports write `2021-10-19 02:57:47.339377 UTC`.
    let zoned = text.strip_suffix(" UTC").map(|t| format!("{t}Z"));
    time::parse_iso(zoned.as_deref().unwrap_or(&text)).ok_or_else(|| Reject::quarantine("invalid_timestamp", format!("`{name}` is not a time: {text:?}")))
}

/// Account precedence of the module docs.
fn account_of<'a>(
    label: &dyn Fn(&str) -> Option<Cow<'a, str>>,
    log_name: Option<&str>,
    resource_name: Option<&str>,
) -> Option<Cow<'a, str>> {
    if let Some(p) = label("project_id") {
        return Some(p);
    }
    let parent = |path: &str| -> Option<String> {
        let mut it = path.trim_start_matches("//cloudresourcemanager.googleapis.com/").splitn(3, '/');
        let (kind, id) = (it.next()?, it.next()?);
        if id.is_empty() || id == "_" || id == "-" {
            return None;
        }
        match kind {
            "projects" => Some(id.to_string()),
            "organizations" | "folders" | "billingAccounts" => Some(format!("{kind}/{id}")),
            _ => None,
        }
    };
    if let Some(a) = log_name.and_then(parent) {
        return Some(Cow::Owned(a));
    }
    for (label_key, kind) in [("organization_id", "organizations"), ("folder_id", "folders"), ("billing_account_id", "billingAccounts")] {
        if let Some(id) = label(label_key) {
            return Some(Cow::Owned(format!("{kind}/{id}")));
        }
    }
    resource_name.filter(|r| r.starts_with("projects/")).and_then(parent).map(Cow::Owned)
}

/// `sha256:` + 32 hex digits of the record text (module docs: `event_uid`).
fn synthetic_uid(record: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(record.trim().as_bytes());
    format!("sha256:{}", hex::encode(&d[..16]))
}

/// Service of a `methodName` whose prefix names it unambiguously.
fn service_of_method(method: &str) -> Option<&'static str> {
    if method.starts_with("io.k8s.") {
        Some("k8s.io")
    } else if ["compute.", "v1.compute.", "beta.compute.", "alpha.compute."].iter().any(|p| method.starts_with(p)) {
        Some("compute.googleapis.com")
    } else if method.starts_with("storage.") {
        Some("storage.googleapis.com")
    } else {
        None
    }
}

fn single_location<'a>(pp: &Obj<'a>) -> Option<Cow<'a, str>> {
    let locs: Vec<&RawValue> = serde_json::from_str(pp.obj("resourceLocation")?.get("currentLocations")?.get()).ok()?;
    match locs.as_slice() {
        [one] => scalar(one),
        _ => None,
    }
}

/// A zone (`us-central1-a`, `europe-west4-b`) becomes its region; anything else is kept.
pub fn region_of(location: Cow<'_, str>) -> Cow<'_, str> {
    let region = location.rsplit_once('-').and_then(|(region, zone)| {
        let is_zone = zone.len() == 1 && zone.bytes().all(|b| b.is_ascii_lowercase()) && region.ends_with(|c: char| c.is_ascii_digit());
        is_zone.then(|| region.to_string())
    });
    region.map_or(location, Cow::Owned)
}

fn set_actor<'a>(e: &mut Event<'a>, auth: &Obj<'a>) {
    let subject = auth.text("principalSubject");
    let principal = auth.text("principalEmail").or_else(|| {
        subject.map(|s| {
            let stripped = s.split_once(':').and_then(|(kind, rest)| {
                (matches!(kind, "user" | "serviceAccount") && !rest.is_empty()).then(|| rest.to_string())
            });
            stripped.map_or(s, Cow::Owned)
        })
    });
    if let Some(p) = principal {
        let (actor_type, account) = classify_principal(&p);
        e.actor_type = actor_type;
        e.actor_account_uid = account.map(Cow::Owned);
        e.actor_uid = Some(Cow::Owned(p.to_lowercase()));
        e.actor_name = Some(p);
    }
    let chain: Vec<Cow<'a, str>> = auth
        .get("serviceAccountDelegationInfo")
        .and_then(|r| serde_json::from_str::<Vec<&'a RawValue>>(r.get()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| Obj::parse(d.get()))
        .filter_map(|d| {
            let first = d.obj("firstPartyPrincipal");
            first.as_ref().and_then(|f| f.text("principalEmail")).or_else(|| d.text("principalSubject"))
        })
        .collect();
    e.actor_session_uid = if chain.is_empty() { auth.text("serviceAccountKeyName") } else { Some(Cow::Owned(chain.join(","))) };
}

/// Actor type of a principal (module docs), and the home project of a user-managed service
/// account.
pub fn classify_principal(principal: &str) -> (ActorType, Option<String>) {
    let p = principal.trim().to_ascii_lowercase();
    if p.starts_with("system:serviceaccount:") {
        return (ActorType::ServiceAccount, None);
    }
    if matches!(p.as_str(), "system:anonymous" | "system:unauthenticated") {
        return (ActorType::Unknown, None);
    }
    if p.starts_with("system:") {
        return (ActorType::System, None);
    }
    if let Some(rest) = p.strip_prefix("principal://") {
        let t = if rest.contains("/workloadidentitypools/") { ActorType::ServiceAccount } else { ActorType::User };
        return (t, None);
    }
    if p.ends_with(".gserviceaccount.com") {
        let (local, domain) = p.rsplit_once('@').unwrap_or(("", p.as_str()));
        let service_numbered = |s: &str| {
            s.strip_prefix("service-")
                .map(|r| r.trim_start_matches("org-").trim_start_matches("folder-"))
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        };
        if service_numbered(local) || (local.is_empty() && service_numbered(domain)) || domain.starts_with("gcp-sa-") {
            return (ActorType::ServiceAgent, None);
        }
        if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
            return (ActorType::ServiceAccount, Some(project.to_string()).filter(|p| !p.is_empty()));
        }
        if matches!(domain, "developer.gserviceaccount.com" | "appspot.gserviceaccount.com") {
            return (ActorType::ServiceAccount, None);
        }
        // cloudservices, system, cloudbuild, ... : accounts Google runs for its services.
        return (ActorType::ServiceAgent, None);
    }
    if p.contains('@') {
        (ActorType::User, None)
    } else {
        (ActorType::Unknown, None)
    }
}
