//! `secret_access_volume` on Azure Key Vault, the Azure Activity log and GCP Secret
//! Manager, on small lakes of those providers.

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{event, lake};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider};

const SUB: &str = "361da5d4-a47a-4c79-afdd-000000000000";
const VAULT: &str = "https://prodvault.vault.azure.net";

/// A Key Vault resource-log read (`keyvault_audit`) of `item` by a service principal.
fn kv(uid: String, t: i64, actor: &str, op: &str, item: &str) -> Event<'static> {
    let mut e = event(Provider::Azure, SUB, &uid, t, Some(actor), ActorType::ServicePrincipal, "Microsoft.KeyVault", op);
    e.log_format = LogFormat::KeyVaultAudit;
    e.resource_uid = Some(item.to_string().into());
    e.user_agent = Some("azsdk-python-keyvault-secrets/4.7".into());
    e
}

/// A Secret Manager `AccessSecretVersion` of `name` by a service account.
fn gsm(uid: String, t: i64, actor: &str, name: &str) -> Event<'static> {
    let mut e = event(Provider::Gcp, "proj-1", &uid, t, Some(actor), ActorType::ServiceAccount, "secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion");
    e.resource_uid = Some(name.to_string().into());
    e
}

/// 14 days of one read per hour, then a window with the same except 60 reads (15
/// secrets, two versions each) in hour 10.
fn scenario(ctx: &Ctx, mk: impl Fn(String, i64, &str) -> Event<'static>, item: impl Fn(usize, usize) -> String) -> Vec<Event<'static>> {
    let ws = ctx.window_start_us();
    let mut ev = Vec::new();
    for h in -14 * 24..24i64 {
        ev.push(mk(format!("h{h}"), ws + h * HOUR_US + 60_000_000, &item(0, 0)));
    }
    for k in 0..60 {
        ev.push(mk(format!("b{k}"), ws + 10 * HOUR_US + 120_000_000 + k as i64 * 30_000_000, &item(k % 15, k % 2)));
    }
    ev
}

#[test]
fn key_vault_burst_counts_secrets_without_versions() {
    let ctx = Ctx::new();
    let app = "0b8f1111-2222-3333-4444-555555555555";
    let ev = scenario(&ctx, |uid, t, item| kv(uid, t, app, "SecretGet", item), |s, v| format!("{VAULT}/secrets/app-secret-{s}/v{v}000"));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.provider.as_str(), f.account_uid.as_str(), f.actor_uid.as_deref()), ("azure", SUB, Some(app)));
    assert_eq!((f.observed, f.evidence_count, f.baseline_days), (61.0, 61, 14));
    assert!(f.severity >= Severity::Medium);
    assert_eq!(f.attack_techniques, vec!["T1555.006"]);
    assert_eq!(f.operation.as_deref(), Some("SecretGet"));
    // app-secret-0 … 14; the hourly read of app-secret-0/v0000 is the same secret as the burst's.
    assert!(f.description.contains("15 distinct secrets in the hour"), "{}", f.description);
    assert!(f.description.contains("(automation)") && f.description.contains("across 1 automation principals"), "{}", f.description);
    assert!(f.description.contains(&format!("{VAULT}/secrets/app-secret-0,")), "{}", f.description);
}

#[test]
fn secret_manager_burst_on_gcp() {
    let ctx = Ctx::new();
    let sa = "billing@proj-1.iam.gserviceaccount.com";
    let ev = scenario(&ctx, |uid, t, item| gsm(uid, t, sa, item), |s, v| format!("projects/123456/secrets/s{s}/versions/{}", v + 1));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.provider.as_str(), f.account_uid.as_str(), f.actor_uid.as_deref()), ("gcp", "proj-1", Some(sa)));
    assert_eq!(f.observed, 61.0);
    assert!(f.description.contains("15 distinct secrets in the hour (projects/123456/secrets/s0, projects/123456/secrets/s1,"), "{}", f.description);
    // The usual rate alone is not a finding.
    let quiet = Ctx::new();
    let ev: Vec<_> = scenario(&quiet, |uid, t, item| gsm(uid, t, sa, item), |_, _| "projects/123456/secrets/s0/versions/1".into()).into_iter().filter(|e| !e.event_uid.starts_with('b')).collect();
    lake(quiet.dir.path(), &ev);
    assert!(run(&quiet.ctx()).unwrap().is_empty());
}

/// A person new to the lake reads 20 secrets through the Activity log's
/// `getSecret/action` and lists 6 storage account keys in one hour: a learning finding
/// counting both operations.
#[test]
fn activity_log_reads_by_a_new_user_are_a_learning_finding() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let user = "denethor@lotr.com";
    let arm = format!("/subscriptions/{SUB}/resourcegroups/prod-rg/providers/microsoft.keyvault/vaults/prodvault");
    let mut ev = Vec::new();
    for k in 0..20i64 {
        let mut e = event(Provider::Azure, SUB, &format!("g{k}"), ws + 8 * HOUR_US + k * 20_000_000, Some(user), ActorType::User, "Microsoft.KeyVault", "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION");
        e.resource_uid = Some(format!("{arm}/secrets/s{k}").into());
        ev.push(e);
    }
    for k in 0..6i64 {
        let mut e = event(Provider::Azure, SUB, &format!("k{k}"), ws + 8 * HOUR_US + 30 * 60_000_000 + k * 1_000_000, Some(user), ActorType::User, "Microsoft.Storage", "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION");
        e.resource_uid = Some(format!("/subscriptions/{SUB}/resourcegroups/prod-rg/providers/microsoft.storage/storageaccounts/st{k}").into());
        ev.push(e);
    }
    // A secret write is not a read.
    ev.push(event(Provider::Azure, SUB, "w", ws + 8 * HOUR_US, Some(user), ActorType::User, "Microsoft.KeyVault", "MICROSOFT.KEYVAULT/VAULTS/SECRETS/WRITE"));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.observed, f.severity, f.p_value), (26.0, Severity::Medium, None));
    assert!(f.title.starts_with("New principal reading secrets (learning)"), "{}", f.title);
    assert!(f.description.contains("26 distinct secrets in the hour"), "{}", f.description);
    assert!(f.attack_techniques.contains(&"T1555.006".to_string()) && f.attack_techniques.contains(&"T1552".to_string()), "{:?}", f.attack_techniques);
}

#[test]
fn secret_keys_drop_versions() {
    assert_eq!(secret_key("https://ProdVault.vault.azure.net/secrets/db/8f2e0b1c"), "https://prodvault.vault.azure.net/secrets/db");
    assert_eq!(secret_key("https://prodvault.vault.azure.net/keys/k1/"), "https://prodvault.vault.azure.net/keys/k1");
    assert_eq!(secret_key("https://prodvault.vault.azure.net/"), "https://prodvault.vault.azure.net");
    assert_eq!(secret_key("projects/p/secrets/s/versions/latest"), "projects/p/secrets/s");
    assert_eq!(secret_key("arn:aws:secretsmanager:us-west-2:1:secret:db-AbCdEf"), "arn:aws:secretsmanager:us-west-2:1:secret:db-AbCdEf");
    assert_eq!(secrets_of(None, Some(r#"{"name":"projects/p/secrets/s/versions/3"}"#)), vec!["projects/p/secrets/s"]);
}
