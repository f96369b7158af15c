//! Rendering of Azure events as a diagnostic setting writes them to a storage account:
//! Activity log records (`PT1H.json` lines under `insights-activity-logs`) and Key Vault
//! `AuditEvent` resource logs (`insights-logs-auditevent`).
//!
//! Activity records follow the storage schema of "Azure Monitor activity log schema"
//! (<https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema>):
//! `time` with seven fraction digits, upper-case `resourceId` and `operationName`,
//! `resultType` `Start` / `Accept` / `Success` / `Failure`, `resultSignature`
//! (`Started.`, `Succeeded.OK`), `identity.authorization` (scope, action, RBAC evidence) and
//! `identity.claims` (token claims under their URI names), `properties` with
//! `eventCategory`, `entity`, `message` and `hierarchy`. One operation is a `Start` record
//! and a `Success` (or `Failure`) record, with an `Accept` between them for long-running
//! writes, all with one `correlationId`. Key Vault records follow "Azure Key Vault logging"
//! (<https://learn.microsoft.com/en-us/azure/key-vault/general/logging>).

use chrono::DateTime;

use super::super::rng::{hash, hash_str, hex_id, uuid_string, Rng};
use super::estate::{Body, Ev, Kind, Phases, Principal, APP_AZ_CLI, APP_PORTAL, PRINCIPALS, SUBS, TENANT_ID};
use super::json::Obj;
use super::{FileKey, Line};

/// `2024-03-04T09:12:33.1234560Z` (Azure writes seven fraction digits).
pub(crate) fn time7(t_us: i64) -> String {
    let t = DateTime::from_timestamp_micros(t_us).unwrap_or_default();
    format!("{}0Z", t.format("%Y-%m-%dT%H:%M:%S%.6f"))
}

fn upper(s: &str) -> String {
    s.to_ascii_uppercase()
}

/// The managed identity's resource id (`xms_mirid`).
fn mirid(p: &Principal) -> String {
    let (sub, rg) = if p.name == "mi-etl-ingest" { (0, 1) } else { (0, 0) };
    format!(
        "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
        SUBS[sub].id, SUBS[sub].rgs[rg], p.name
    )
}

fn display_name(upn: &str) -> String {
    upn.split('@')
        .next()
        .unwrap_or_default()
        .split('.')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ARM token's claims of principal `p` calling from `ip` at `t` (s).
fn claims(o: &mut Obj<'_>, p: &Principal, ip: &str, t: i64, cli: bool, rng: &mut Rng) {
    let iat = t - rng.range(60, 3000);
    let iss = format!("https://sts.windows.net/{TENANT_ID}/");
    o.s("aud", "https://management.core.windows.net/")
        .s("iss", &iss)
        .s("iat", &iat.to_string())
        .s("nbf", &iat.to_string())
        .s("exp", &(iat + 4200).to_string());
    let oid = "http://schemas.microsoft.com/identity/claims/objectidentifier";
    let tid = "http://schemas.microsoft.com/identity/claims/tenantid";
    match p.kind {
        Kind::User => {
            let name = display_name(p.name);
            o.s("http://schemas.microsoft.com/claims/authnclassreference", "1")
                .s("aio", &hex_id(hash(&[iat as u64, hash_str(p.name)]), 40))
                .s("http://schemas.microsoft.com/claims/authnmethodsreferences", "pwd,mfa")
                .s("appid", if cli { APP_AZ_CLI } else { APP_PORTAL })
                .s("appidacr", if cli { "0" } else { "2" })
                .s("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", name.split(' ').next().unwrap_or_default())
                .s("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", name.split(' ').nth(1).unwrap_or_default())
                .s("ipaddr", ip)
                .s("name", &name)
                .s(oid, p.oid)
                .s("puid", &hex_id(hash_str(p.name), 16).to_ascii_uppercase())
                .s("http://schemas.microsoft.com/identity/claims/scope", "user_impersonation")
                .s(tid, TENANT_ID)
                .s("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", p.name)
                .s("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", p.name);
        }
        Kind::Sp | Kind::Mi | Kind::Sa => {
            o.s("aio", &hex_id(hash(&[iat as u64, hash_str(p.name)]), 40))
                .s("appid", p.appid)
                .s("appidacr", if p.kind == Kind::Mi { "2" } else { "1" })
                .s("http://schemas.microsoft.com/identity/claims/identityprovider", &iss)
                .s("idtyp", "app")
                .s(oid, p.oid)
                .s(tid, TENANT_ID);
            if p.kind == Kind::Mi {
                o.s("xms_mirid", &mirid(p));
            }
        }
    }
    o.s("uti", &hex_id(rng.next_u64(), 22)).s("ver", "1.0");
}

/// Appends the Activity records of ARM event `ev` (`day_end_us`: no record after it).
pub(crate) fn arm(ev: &Ev, rng: &mut Rng, day_end_us: i64, out: &mut Vec<Line>) {
    let Body::Arm { sub, op, rid, phases, props } = &ev.body else { return };
    let p = &PRINCIPALS[ev.who];
    let ip = ev.ip.unwrap_or(p.ip);
    let s = &SUBS[*sub];
    let correlation = uuid_string(rng.next_u64(), rng.next_u64());
    let cli = ev.ua.is_some_and(|u| u.contains("AZURECLI")) || p.kind != Kind::User;
    let (role, role_def) = if ev.who == super::estate::PRIYA || ev.who == super::estate::SP_TERRAFORM {
        ("Owner", "8e3af657a8ff443ca75c2fe8c4bcb635")
    } else {
        ("Contributor", "b24988ac618042a0ab8820f7382dd24c")
    };
    let principal_type = match p.kind {
        Kind::User => "User",
        _ => "ServicePrincipal",
    };
    let long = matches!(phases, Phases::LongRunning);
    let dur_ms = if long { rng.range(20_000, 110_000) } else { rng.range(300, 9_000) };
    let steps: &[(&str, &str, &str)] = match phases {
        Phases::Sync => &[("Start", "Started.", ""), ("Success", "Succeeded.OK", "OK")],
        Phases::LongRunning => &[
            ("Start", "Started.", ""),
            ("Accept", "Accepted.Created", "Created"),
            ("Success", "Succeeded.OK", "OK"),
        ],
        Phases::Denied => &[("Start", "Started.", ""), ("Failure", "Failed.Forbidden", "Forbidden")],
    };
    let t0 = ev.t_us.div_euclid(1_000_000);
    for (i, (result, signature, status)) in steps.iter().enumerate() {
        let t_us = match i {
            0 => ev.t_us,
            _ if i + 1 == steps.len() => ev.t_us + dur_ms * 1000,
            _ => ev.t_us + rng.range(150, 900) * 1000,
        }
        .min(day_end_us - 1);
        let mut text = Vec::with_capacity(2400);
        let mut o = Obj::open(&mut text);
        o.s("time", &time7(t_us))
            .s("resourceId", &upper(rid))
            .s("operationName", &upper(op))
            .s("category", "Administrative")
            .s("resultType", result)
            .s("resultSignature", signature)
            .n("durationMs", if i == 0 { 0 } else { (t_us - ev.t_us) / 1000 })
            .s("callerIpAddress", ip)
            .s("correlationId", &correlation)
            .o("identity", |id| {
                id.o("authorization", |a| {
                    a.s("scope", rid).s("action", op).o("evidence", |e| {
                        e.s("role", role)
                            .s("roleAssignmentScope", &format!("/subscriptions/{}", s.id))
                            .s("roleAssignmentId", &hex_id(hash(&[hash_str(p.name), *sub as u64]), 32))
                            .s("roleDefinitionId", role_def)
                            .s("principalId", &p.oid.replace('-', ""))
                            .s("principalType", principal_type);
                    });
                })
                .o("claims", |c| claims(c, p, ip, t0, cli, rng));
            })
            .s("level", if *result == "Failure" { "Error" } else { "Information" })
            .s("location", "global")
            .s("tenantId", TENANT_ID)
            .o("properties", |pr| {
                if !status.is_empty() {
                    pr.s("statusCode", status).s("serviceRequestId", &uuid_string(rng.next_u64(), rng.next_u64()));
                }
                pr.s("eventCategory", "Administrative")
                    .s("entity", rid)
                    .s("message", op)
                    .s("hierarchy", &format!("{TENANT_ID}/{}/{}", s.mg, s.id));
                if let Some(extra) = props {
                    pr.members(extra);
                }
            });
        o.close();
        let hour = t_us.div_euclid(3_600_000_000);
        out.push(Line { t_us, file: FileKey::Activity { sub: *sub, hour }, text, label: ev.label });
    }
}

/// Appends the Key Vault `AuditEvent` record of event `ev`.
pub(crate) fn kv(ev: &Ev, rng: &mut Rng, out: &mut Vec<Line>) {
    let Body::Kv { sub, vault, op, item } = &ev.body else { return };
    let p = &PRINCIPALS[ev.who];
    let s = &SUBS[*sub];
    let (rg, name) = s.vaults[*vault];
    let rid = super::estate::res_id(*sub, rg, "Microsoft.KeyVault", &format!("vaults/{name}"));
    let base = format!("https://{name}.vault.azure.net");
    let (id, uri) = match (*op, item) {
        ("SecretGet", Some(secret)) if secret.contains('/') => {
            (format!("{base}/secrets/{secret}"), format!("{base}/secrets/{secret}?api-version=7.4"))
        }
        ("SecretGet", Some(secret)) => (
            format!("{base}/secrets/{secret}/{}", hex_id(hash(&[hash_str(name), hash_str(secret)]), 32)),
            format!("{base}/secrets/{secret}/?api-version=7.4"),
        ),
        ("SecretList", _) => (format!("{base}/secrets"), format!("{base}/secrets?api-version=7.4")),
        ("KeyList", _) => (format!("{base}/keys"), format!("{base}/keys?api-version=7.4")),
        ("CertificateList", _) => (format!("{base}/certificates"), format!("{base}/certificates?api-version=7.4")),
        _ => (
            format!("{base}/"),
            format!(
                "https://control-prod-weu.vaultcore.azure.net{}?api-version=2022-07-01",
                rid.to_ascii_lowercase()
            ),
        ),
    };
    let client = ev.ua.unwrap_or(match p.kind {
        Kind::Mi => "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 6.0.27; Microsoft Windows 10.0.20348)",
        Kind::Sp => "azsdk-python-keyvault-secrets/4.7.0 Python/3.11.8 (Linux-5.15.0-1057-azure-x86_64-with-glibc2.35)",
        _ => "AZURECLI/2.58.0 (DEB) azsdk-python-keyvault-secrets/4.7.0 Python/3.11.8 (Linux-6.5.0-25-generic-x86_64-with-glibc2.35)",
    });
    let mut text = Vec::with_capacity(1400);
    let mut o = Obj::open(&mut text);
    o.s("time", &time7(ev.t_us))
        .s("resourceId", &upper(&rid))
        .s("operationName", op)
        .s("operationVersion", if *op == "VaultGet" { "2022-07-01" } else { "7.4" })
        .s("category", "AuditEvent")
        .s("resultType", "Success")
        .s("resultSignature", "OK")
        .s("resultDescription", "")
        .s("durationMs", &rng.range(4, 60).to_string())
        .s("callerIpAddress", ev.ip.unwrap_or(p.ip))
        .s("correlationId", &uuid_string(rng.next_u64(), rng.next_u64()))
        .o("identity", |i| {
            i.o("claim", |c| {
                c.s("http://schemas.microsoft.com/identity/claims/objectidentifier", p.oid);
                if p.kind == Kind::User {
                    c.s("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", p.name)
                        .s("appid", APP_AZ_CLI);
                } else {
                    c.s("appid", p.appid);
                }
                if p.kind == Kind::Mi {
                    c.s("xms_mirid", &mirid(p));
                }
            });
        })
        .o("properties", |pr| {
            pr.s("id", &id)
                .s("clientInfo", client)
                .n("httpStatusCode", 200)
                .s("requestUri", &uri)
                .b("isAccessPolicyMatch", false)
                .b("isRbacAuthorized", true)
                .s("tlsVersion", "TLS1.2");
        });
    o.close();
    let hour = ev.t_us.div_euclid(3_600_000_000);
    out.push(Line { t_us: ev.t_us, file: FileKey::Kv { sub: *sub, vault: *vault, hour }, text, label: ev.label });
}
