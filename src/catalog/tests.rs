//! Tests of the catalogue: the builtin file lints clean, lookups, each lint kind.

use super::*;

#[test]
fn builtin_passes_lint_and_loads() {
    for (origin, text) in BUILTIN {
        let issues = lint_str(text, origin);
        assert!(
            issues.is_empty(),
            "{}",
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(lint_builtin().is_empty());
    let c = Catalog::load_builtin().unwrap();
    let from = |f: &str| c.entries().iter().filter(|e| e.origin == f).count();
    assert_eq!(from("catalog/aws.toml"), 43);
    assert_eq!(from("catalog/m365.toml"), 10);
    assert_eq!(from("catalog/entra.toml"), 4);
    assert_eq!(from("catalog/azure.toml"), 25);
    assert_eq!(from("catalog/gcp.toml"), 19);
    assert_eq!(c.entries().len(), 101);
    assert_eq!(c.entries_with_tag("logging_disable").len(), 24);
    assert_eq!(c.entries_with_tag("session_start").len(), 3);
    assert_eq!(c.entries_with_tag("conditional_access_change").len(), 3);
    assert!(c.entries().iter().all(|e| e.index > 0));
    // Teams sessions and interactive Entra sign-ins are sessions; token refreshes are not.
    assert_eq!(c.lookup_tagged("m365", "MicrosoftTeams", "TeamsSessionStarted", "session_start").len(), 1);
    assert_eq!(c.lookup_tagged("entra", "SignInLogs", "Sign-in activity", "session_start").len(), 1);
    assert!(c.lookup("entra", "NonInteractiveUserSignInLogs", "Sign-in activity").is_empty());
    assert_eq!(c.lookup_tagged("m365", "exchange", "new-inboxrule", "forwarding_rule")[0].techniques, vec!["T1114.003", "T1564.008"]);
}

#[test]
fn lookup_exact_prefix_and_case() {
    let c = Catalog::load_builtin().unwrap();
    let hit = c.lookup(
        "aws",
        "lambda.amazonaws.com",
        "UpdateFunctionCode20150331v2",
    );
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].tags, vec!["serverless_change"]);
    assert_eq!(hit[0].techniques, vec!["T1648"]);
    let stop = c.lookup("AWS", "CloudTrail.amazonaws.com", "stoplogging");
    assert_eq!(stop.len(), 1);
    assert_eq!(stop[0].techniques, vec!["T1562.008", "T1685.002"]);
    assert_eq!(stop[0].attack_version.as_deref(), Some("19"));
    // Exact GetPasswordData (secret_read) beats the ec2 Describe* family and is not discovery.
    let pw = c.lookup("aws", "ec2.amazonaws.com", "GetPasswordData");
    assert_eq!(pw.len(), 1);
    assert!(pw[0].has_tag("secret_read"));
    assert!(c.lookup("aws", "ec2.amazonaws.com", "DescribeInstances")[0].has_tag("discovery"));
    // GetObject is neither a bucket-configuration read nor anything else we catalogue.
    assert!(c.lookup("aws", "s3.amazonaws.com", "GetObject").is_empty());
    assert!(c.lookup("aws", "s3.amazonaws.com", "GetBucketPolicy")[0].has_tag("discovery"));
    assert!(c
        .lookup("gcp", "cloudtrail.amazonaws.com", "StopLogging")
        .is_empty());
    assert_eq!(
        c.lookup_tagged("aws", "ssm.amazonaws.com", "GetParameters", "secret_read")
            .len(),
        1
    );
}

#[test]
fn longest_prefix_wins() {
    let text = r#"
        [[entry]]
        provider = "aws"
        service = "s"
        operation_prefixes = ["Get"]
        data_component = "enumeration"
        tags = ["discovery"]
        description = "general"
        [[entry]]
        provider = "aws"
        service = "s"
        operation_prefixes = ["GetSecret"]
        data_component = "enumeration"
        tags = ["secret_read"]
        description = "specific"
    "#;
    let c = Catalog::from_toml(text, "t.toml").unwrap();
    assert_eq!(
        c.lookup("aws", "s", "GetSecretValue")[0].description,
        "specific"
    );
    assert_eq!(c.lookup("aws", "s", "GetThing")[0].description, "general");
    assert!(c.lookup("aws", "s", "Ge").is_empty());
}

#[test]
fn request_conditions() {
    let c = Catalog::load_builtin().unwrap();
    let e = c.lookup("aws", "ssm.amazonaws.com", "GetParameter")[0];
    assert!(e.matches_request(Some(r#"{"name":"/a","withDecryption":true}"#)));
    assert!(!e.matches_request(Some(r#"{"name":"/a","withDecryption":false}"#)));
    assert!(!e.matches_request(Some(r#"{"name":"/a"}"#)));
    assert!(!e.matches_request(None));
    let s = c.lookup("aws", "secretsmanager.amazonaws.com", "GetSecretValue")[0];
    assert!(s.matches_request(None));
}

fn kinds(text: &str) -> Vec<LintKind> {
    lint_str(text, "bad.toml")
        .into_iter()
        .map(|i| i.kind)
        .collect()
}

// A service of the user's own: the builtin catalogue already maps CloudTrail's operations.
const GOOD: &str = r#"provider = "aws"
service = "trail.example.com"
operations = ["StopLogging"]
data_component = "disable"
tags = ["logging_disable"]
techniques = ["T1562.008", "T1685.002"]
attack_version = "19"
description = "d"
"#;

fn with(replace: &str, by: &str) -> String {
    assert!(GOOD.contains(replace), "{replace}");
    format!("[[entry]]\n{}", GOOD.replace(replace, by))
}

/// Regression: a user's file that remapped builtin StopLogging as `discovery` linted clean.
#[test]
fn remapping_a_builtin_operation_is_reported() {
    let issues = lint_str(&with("trail.example.com", "cloudtrail.amazonaws.com"), "mine.toml");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].kind, LintKind::DuplicateEntry);
    assert!(issues[0].message.contains("builtin entry") && issues[0].message.contains("catalog/aws.toml"), "{}", issues[0].message);
}

#[test]
fn lint_reports_each_bad_kind_with_path_and_entry() {
    assert!(kinds(&with("", "")).is_empty());
    let issues = lint_str(
        &with("\"logging_disable\"", "\"loging_disable\""),
        "my/cat.toml",
    );
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].kind, LintKind::UnknownTag);
    let msg = issues[0].to_string();
    assert!(msg.starts_with("my/cat.toml: entry 1 (aws trail.example.com StopLogging): unknown tag `loging_disable`"), "{msg}");

    assert_eq!(
        kinds(&with("\"disable\"", "\"disabled\"")),
        vec![LintKind::UnknownDataComponent]
    );
    assert_eq!(
        kinds(&with("\"T1562.008\", ", "\"T1562.8\", \"T1562.008\", ")),
        vec![LintKind::MalformedTechnique]
    );
    assert_eq!(
        kinds(&with("attack_version = \"19\"\n", "")),
        vec![LintKind::MissingAttackVersion]
    );
    assert_eq!(
        kinds(&with("\"19\"", "\"nineteen\"")),
        vec![LintKind::MalformedAttackVersion]
    );
    assert_eq!(
        kinds(&with("\"19\"", "\"17\"")),
        vec![LintKind::RenumberedTechnique]
    );
    assert_eq!(
        kinds(&with(", \"T1685.002\"", "")),
        vec![LintKind::RenumberedTechnique]
    );
    assert_eq!(
        kinds(&with("[\"StopLogging\"]", "[\"\"]")),
        vec![LintKind::EmptyOperation]
    );
    assert_eq!(
        kinds(&with("operations = [\"StopLogging\"]\n", "")),
        vec![LintKind::EmptyOperation]
    );
    assert_eq!(
        kinds(&with(
            "\"StopLogging\"]",
            "\"StopLogging\", \"stoplogging\"]"
        )),
        vec![LintKind::DuplicateEntry]
    );
    assert_eq!(
        kinds(&format!("{}{}", with("", ""), with("", ""))),
        vec![LintKind::DuplicateEntry]
    );
    assert_eq!(
        kinds(&with("provider = \"aws\"", "provider = \"oracle\"")),
        vec![LintKind::UnknownProvider]
    );
    assert_eq!(
        kinds(&with("description = \"d\"", "description = \"\"")),
        vec![LintKind::MissingDescription]
    );
    assert_eq!(kinds(&with("tags", "tagz")), vec![LintKind::Parse]);
    assert_eq!(kinds("[[entry]\n"), vec![LintKind::Parse]);
}

#[test]
fn load_dirs_reads_user_files_and_rejects_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = with("trail.example.com", "custom.example.com");
    std::fs::write(dir.path().join("mine.toml"), &good).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a catalogue").unwrap();
    let c = Catalog::load_dirs(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(c.entries().len(), Catalog::load_builtin().unwrap().entries().len() + 1);
    assert_eq!(
        c.lookup("aws", "custom.example.com", "StopLogging").len(),
        1
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, with("\"disable\"", "\"nope\"")).unwrap();
    let err = Catalog::load_dirs(std::slice::from_ref(&bad)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("unknown data component `nope`"),
        "{err}"
    );
    assert_eq!(lint(&bad).len(), 1);
    assert_eq!(
        lint(&dir.path().join("missing.toml"))[0].kind,
        LintKind::Parse
    );
}

#[test]
fn table_lists_each_operation() {
    let c = Catalog::load_builtin().unwrap();
    let table = c.render_table();
    assert!(table.starts_with("PROVIDER  SERVICE"));
    assert!(table.lines().any(|l| l.contains("lambda.amazonaws.com")
        && l.contains("UpdateFunctionCode*")
        && l.contains("T1648")));
    assert!(table
        .lines()
        .any(|l| l.contains("GetParameter [withDecryption=true]")));
    let ops: usize = c
        .entries()
        .iter()
        .map(|e| e.operations.len() + e.operation_prefixes.len() + e.operation_suffixes.len())
        .sum();
    assert_eq!(table.lines().count(), ops + 1);
}

/// Azure logs a diagnostic setting of a nested resource under that resource's provider:
/// the `service = "*"` entry with a suffix finds it whatever the provider, and an exact
/// entry still beats the suffix.
#[test]
fn suffixes_and_any_service() {
    let c = Catalog::load_builtin().unwrap();
    let nsg = "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE";
    let hit = c.lookup("azure", "Microsoft.Network", nsg);
    assert_eq!(hit.len(), 1);
    assert_eq!((hit[0].data_component.as_str(), hit[0].tags.clone()), ("disable", vec!["logging_disable".to_string()]));
    let sub = c.lookup("azure", "Microsoft.Insights", "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE");
    assert_eq!(sub[0].origin, "catalog/azure.toml");
    assert_eq!(sub[0].data_component, "disable");
    // The generic `/read` suffix (discovery) loses to nothing here, and never leaks to GCP.
    assert_eq!(c.lookup_tagged("azure", "Microsoft.Compute", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", "discovery").len(), 1);
    assert!(c.lookup("gcp", "compute.googleapis.com", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ").is_empty());
    // Key Vault data plane and the Activity-log form of a secret read.
    assert_eq!(c.lookup_tagged("azure", "Microsoft.KeyVault", "SecretGet", "secret_read").len(), 1);
    assert_eq!(c.lookup_tagged("azure", "Microsoft.KeyVault", "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION", "secret_read").len(), 1);
    // GCP method names with versions.
    assert_eq!(c.lookup_tagged("gcp", "logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", "logging_disable")[0].data_component, "disable");
    assert_eq!(c.lookup_tagged("gcp", "run.googleapis.com", "google.cloud.run.v1.Services.CreateService", "serverless_change").len(), 1);
    assert_eq!(c.lookup_tagged("gcp", "aiplatform.googleapis.com", "google.cloud.aiplatform.v1.PredictionService.GenerateContent", "model_invoke").len(), 1);
}

#[test]
fn lint_checks_suffixes() {
    let text = "[[entry]]\nprovider = \"azure\"\nservice = \"*\"\noperation_suffixes = [\"/x/delete\", \"/x/delete\"]\ndata_component = \"disable\"\ntags = []\ndescription = \"d\"\n";
    let issues = lint_str(text, "mine.toml");
    assert_eq!(issues.iter().map(|i| i.kind).collect::<Vec<_>>(), vec![LintKind::DuplicateEntry], "{issues:?}");
    assert!(issues[0].message.contains("*/x/delete"), "{}", issues[0].message);
    let empty = "[[entry]]\nprovider = \"azure\"\nservice = \"*\"\noperation_suffixes = [\"\"]\ndata_component = \"disable\"\ndescription = \"d\"\n";
    assert_eq!(lint_str(empty, "mine.toml").iter().map(|i| i.kind).collect::<Vec<_>>(), vec![LintKind::EmptyOperation]);
}
