//! Rendering of GCP events as Cloud Audit Logs `LogEntry` JSON, as a log sink exports
//! them to Cloud Storage (one entry per line, hourly objects per log).
//!
//! Shape: "Cloud Audit Logs: audit log entry structure"
//! (<https://cloud.google.com/logging/docs/audit/understanding-audit-logs>) — `protoPayload`
//! (`@type` `type.googleapis.com/google.cloud.audit.AuditLog`, `status`,
//! `authenticationInfo.principalEmail` and, for impersonation,
//! `serviceAccountDelegationInfo`, `requestMetadata.callerIp` /
//! `callerSuppliedUserAgent`, `serviceName`, `methodName`, `authorizationInfo`,
//! `resourceName`, `request`), `insertId`, `resource` (`type`, `labels.project_id`),
//! `timestamp` (nanoseconds), `severity`, `logName`, `operation` (`id`, `producer`,
//! `first` / `last`) for long-running operations, `receiveTimestamp`.

use chrono::DateTime;

use super::super::rng::{hash, hash_str, hex_id, Rng};
use super::estate::{Body, Ev, Kind, Log, PRINCIPALS, PROJECTS};
use super::json::Obj;
use super::{FileKey, Line};

/// `2024-03-04T09:12:33.123456789Z`.
fn time9(t_us: i64, ns: i64) -> String {
    let t = DateTime::from_timestamp_micros(t_us).unwrap_or_default();
    format!("{}{ns:03}Z", t.format("%Y-%m-%dT%H:%M:%S%.6f"))
}

/// Default user agent of a principal.
fn default_ua(who: usize) -> &'static str {
    match PRINCIPALS[who].kind {
        Kind::Sa if who == super::estate::SA_TERRAFORM => {
            "Terraform/1.7.4 (+https://www.terraform.io) Terraform-Plugin-SDK/2.10.1 terraform-provider-google/5.19.0"
        }
        Kind::Sa if who == super::estate::SA_DEPLOYER => {
            "google-cloud-sdk gcloud/465.0.0 command/gcloud.functions.deploy invocation-id/0 environment/GitHub-Actions environment-version/None client-os/LINUX client-os-ver/6.5.0 client-pltf-arch/x86_64 interactive/False from-script/True python/3.11.8 term/ (Linux 6.5.0-1016-azure),gzip(gfe)"
        }
        Kind::Sa => "grpc-python/1.62.0 grpc-c/39.0.0 (linux; chttp2),gzip(gfe)",
        _ => "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36,gzip(gfe)",
    }
}

/// The monitored-resource type and extra labels of an entry.
fn resource(service: &str, resource_name: &str, method: &str, region: &str) -> (&'static str, Vec<(&'static str, String)>) {
    let last = resource_name.rsplit('/').next().unwrap_or_default().to_string();
    match service {
        "logging.googleapis.com" => ("logging_sink", vec![("name", last), ("destination", String::new())]),
        "cloudfunctions.googleapis.com" => ("cloud_function", vec![("function_name", last), ("region", region.to_string())]),
        "compute.googleapis.com" if method.contains("instances.") && !method.ends_with("list") => {
            ("gce_instance", vec![("instance_id", (hash(&[hash_str(&last)]) % 10_000_000_000_000_000_000).to_string()), ("zone", format!("{region}-b"))])
        }
        "cloudresourcemanager.googleapis.com" => ("project", vec![]),
        _ => ("audited_resource", vec![("method", method.to_string()), ("service", service.to_string())]),
    }
}

/// Appends the entries of GCP event `ev` (one, or first and last of a long-running
/// operation; `day_end_us`: no entry after it).
pub(crate) fn entry(ev: &Ev, rng: &mut Rng, day_end_us: i64, out: &mut Vec<Line>) {
    let Body::Gcp { project, log, service, method, resource: resource_name, permission, request, lro } = &ev.body else { return };
    let p = &PRINCIPALS[ev.who];
    let proj = &PROJECTS[*project];
    let ip = ev.ip.unwrap_or(p.ip);
    let ua = ev.ua.unwrap_or_else(|| default_ua(ev.who));
    let op_id = format!("operations/{}", hex_id(rng.next_u64(), 24));
    let parts: &[(bool, bool)] = if *lro { &[(true, false), (false, true)] } else { &[(false, false)] };
    let dur = rng.range(15_000_000, 95_000_000);
    let (rtype, extra) = resource(service, resource_name, method, proj.region);
    let log_id = match log {
        Log::Activity => "activity",
        Log::DataAccess => "data_access",
    };
    for (first, last) in parts.iter().copied() {
        let t_us = if last { (ev.t_us + dur).min(day_end_us - 1) } else { ev.t_us };
        let ns = rng.range(0, 999);
        let mut text = Vec::with_capacity(1800);
        let mut o = Obj::open(&mut text);
        o.o("protoPayload", |pp| {
            pp.s("@type", "type.googleapis.com/google.cloud.audit.AuditLog")
                .raw("status", "{}")
                .o("authenticationInfo", |a| {
                    a.s("principalEmail", p.name);
                    if let Some(via) = ev.via {
                        a.a1("serviceAccountDelegationInfo", |d| {
                            d.s("principalSubject", via);
                        });
                    }
                })
                .o("requestMetadata", |m| {
                    m.s("callerIp", ip).s("callerSuppliedUserAgent", ua).o("requestAttributes", |r| {
                        r.s("time", &time9(ev.t_us, ns)).raw("auth", "{}");
                    });
                    m.raw("destinationAttributes", "{}");
                })
                .s("serviceName", service)
                .s("methodName", method);
            if !last {
                pp.a1("authorizationInfo", |a| {
                    a.s("resource", resource_name).s("permission", permission).b("granted", true).raw("resourceAttributes", "{}");
                });
            }
            pp.s("resourceName", resource_name);
            if let (Some(req), false) = (request, last) {
                pp.raw("request", &format!("{{{req}}}"));
            }
            if last {
                pp.o("response", |r| {
                    r.s("@type", "type.googleapis.com/google.longrunning.Operation").s("name", &op_id).b("done", true);
                });
            }
        })
        .s("insertId", &format!("{}{}", hex_id(rng.next_u64(), 6), hex_id(rng.next_u64(), 6)))
        .o("resource", |r| {
            r.s("type", rtype).o("labels", |l| {
                l.s("project_id", proj.id);
                for (k, v) in &extra {
                    l.s(k, v);
                }
            });
        })
        .s("timestamp", &time9(t_us, ns))
        .s("severity", if *log == Log::Activity { "NOTICE" } else { "INFO" })
        .s("logName", &format!("projects/{}/logs/cloudaudit.googleapis.com%2F{log_id}", proj.id));
        if *lro {
            o.o("operation", |op| {
                op.s("id", &op_id).s("producer", service);
                if first {
                    op.b("first", true);
                } else {
                    op.b("last", true);
                }
            });
        }
        o.s("receiveTimestamp", &time9(t_us + rng.range(20_000, 900_000), rng.range(0, 999)));
        o.close();
        let hour = t_us.div_euclid(3_600_000_000);
        out.push(Line { t_us, file: FileKey::Gcp { data_access: *log == Log::DataAccess, hour }, text, label: ev.label });
    }
}
