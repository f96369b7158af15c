//! `secret_access_volume` on recorded runs and labelled fixtures (skipped without `../shared`).

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{lake, panther, shared_events, utc};
use crate::analytics::DetectContext;

/// Stratus `secretsmanager-retrieve-secrets`: a user with no history reads 20 secrets
/// in a minute — the learning floor exactly, so a medium learning finding.
#[test]
fn stratus_retrieve_secrets_is_a_learning_finding() {
    let Some(ev) = shared_events("data/real/aws_cloudtrail/stratus_detonation_logs/aws.credential-access.secretsmanager-retrieve-secrets.json") else {
        eprintln!("skipped: ../shared/data/real not present");
        return;
    };
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 8, 1, 0);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some("arn:aws:iam::903144391865:user/christophe"));
    assert_eq!((f.observed, f.severity), (20.0, Severity::Medium));
    assert!(f.description.contains("20 distinct secrets in the hour"), "{}", f.description);
}

/// The invictus account's 60 GetSecretValue (40 + 20 across an hour boundary) by
/// bert-jan, in a lake with no history: a learning finding that reports all of them.
#[test]
fn invictus_secret_burst_is_reported_whole() {
    let Some(ev) = shared_events("data/real/aws_cloudtrail/invictus_stratus_2023-07-10") else { return };
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2023, 7, 11, 0);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    let f = found.iter().find(|f| f.actor_uid.as_deref() == Some("arn:aws:iam::123837392027:user/bert-jan")).expect("burst reported");
    // Its busiest hour also holds 47 SSM parameter reads with decryption.
    assert_eq!((f.observed, f.severity), (87.0, Severity::Medium), "{}", f.description);
    assert!(f.description.contains("147 secret reads (GetParameter ×82, GetParameters ×5, GetSecretValue ×60)"), "{}", f.description);
}

/// Panther's secret rules fire on one event: the Key Vault data- and control-plane
/// reads (`Azure.MonitorActivity.KeyVault.SecretAccessedOrRecovered`,
/// `…CertificateAccessed`, `…KeyAccessed.Recovered`), storage key listing
/// (`Azure.MonitorActivity.StorageAccount.KeysListed`), the threshold rule
/// `AWS.SecretsManager.RetrieveSecrets` on its one-event fixture, and GCP token minting
/// (`GCP.IAM.serviceAccounts.getAccessToken.Privilege.Escalation`). A volume method
/// cannot alert on one read, so none of their fixtures (true or false) gives a finding;
/// the Batch* fixtures carry no `eventTime` and do not normalise. The labelled reads that
/// the catalogue tags are listed: each counts toward a burst, which the same event
/// repeated shows.
#[test]
fn panther_single_reads_count_but_do_not_alert() {
    let rules = [
        "Azure.MonitorActivity.KeyVault.SecretAccessedOrRecovered",
        "Azure.MonitorActivity.KeyVault.CertificateAccessed",
        "Azure.MonitorActivity.KeyVault.KeyAccessed.Recovered",
        "Azure.MonitorActivity.StorageAccount.KeysListed",
        "AWS.SecretsManager.RetrieveSecrets",
        "AWS.SecretsManager.BatchRetrieveSecrets",
        "AWS.SecretsManager.BatchRetrieveSecretsCatchAll",
        "AWS.SecretsManager.RetrieveSecretsMultiRegion",
        "GCP.IAM.serviceAccounts.getAccessToken.Privilege.Escalation",
    ];
    let catalog = crate::catalog::Catalog::load_builtin().unwrap();
    let (mut events, mut tagged, mut labelled, mut normalised) = (Vec::new(), Vec::new(), 0, 0);
    for source in ["azure_activity", "aws_cloudtrail", "gcp_audit"] {
        let Some((evs, labels)) = panther(source) else {
            eprintln!("skipped: ../shared/data not present");
            return;
        };
        for l in labels.iter().filter(|l| rules.contains(&l.rule_id.as_str())) {
            labelled += 1;
            for (_, e) in evs.iter().filter(|(n, _)| *n == l.line) {
                normalised += 1;
                if !catalog.lookup_tagged(e.provider.as_str(), &e.service, &e.operation, TAG).is_empty() {
                    tagged.push((l.expected, e.operation.to_string()));
                }
                events.push(e.clone());
            }
        }
    }
    assert_eq!((labelled, normalised), (24, 19));
    tagged.sort();
    let want: Vec<(bool, String)> = [
        (false, "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"),
        (false, "SignJwt"),
        (true, "GenerateAccessToken"),
        (true, "GetSecretValue"),
        (true, "MICROSOFT.KEYVAULT/VAULTS/KEYS/READ/ACTION"),
        (true, "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION"),
        (true, "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION"),
        (true, "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"),
        (true, "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION"),
        (true, "SignJwt"),
    ]
    .into_iter()
    .map(|(b, s)| (b, s.to_string()))
    .collect();
    assert_eq!(tagged, want);
    let dir = tempfile::tempdir().unwrap();
    lake(dir.path(), &events);
    let config = crate::analytics::AnalyticsConfig::default();
    let big = |root| DetectContext {
        lake_root: root,
        as_of: utc(2027, 1, 1, 0),
        window: chrono::Duration::hours(24 * 365 * 9),
        catalog: &catalog,
        config: &config,
        run_uid: "panther",
    };
    assert!(run(&big(dir.path())).unwrap().is_empty());

    // The labelled Key Vault secret read (line 60: a service principal's getSecret) 25
    // times in an hour, for 25 secrets: a learning finding of the same shape.
    let (evs, _) = panther("azure_activity").unwrap();
    let one = &evs.iter().find(|(n, _)| *n == 60).unwrap().1;
    let burst: Vec<_> = (0..25)
        .map(|k| {
            let mut e = one.clone();
            e.event_uid = format!("line60-{k}").into();
            e.time += k * 10_000_000;
            e.resource_uid = Some(format!("{}-{k}", one.resource_uid.as_deref().unwrap()).into());
            e
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    lake(dir.path(), &burst);
    let found = run(&big(dir.path())).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].observed, found[0].severity), (25.0, Severity::Medium));
    assert!(found[0].description.contains("(automation)"), "{}", found[0].description);
}
