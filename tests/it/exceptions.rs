//! Pipeline exceptions (`[[suppressions]]`, `[[allowlist]]`) end to end on the bundled
//! recorded attacks: an entry in force hides its findings (still written, with the reason),
//! an expired one hides nothing and the run summary says so.

use serde_json::Value;

use crate::{run, samples};

fn pipeline(dir: &std::path::Path, exceptions: &str) -> std::path::PathBuf {
    let p = dir.join("p.toml");
    let text = format!("[[sources]]\nname = 'real'\nurl = '{}'\n[lake]\nurl = 'lake'\n{exceptions}", samples("aws_cloudtrail").display());
    std::fs::write(&p, text).unwrap();
    p
}

fn findings(dir: &std::path::Path) -> Vec<Value> {
    let out = run(&["findings", "--lake", dir.join("lake").to_str().unwrap(), "--output", "jsonl"]);
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

const EXCEPTIONS: &str = r#"
[[suppressions]]
id = "invictus-replay"
analytic = "logging_disabled"
actor = "arn:aws:iam::123837392027:user/*"
src_ip = "192.168.10.0/24"
owner = "secops@example.com"
reason = "replayed invictus lab data"
expires = "2025-01-31"

[[allowlist]]
id = "christophe-lab"
analytic = "*"
actor = "arn:aws:iam::*:user/christophe"
owner = "lab@example.com"
reason = "Stratus Red Team detonations"
expires = "2024-12-31"
"#;

#[test]
fn entries_in_force_hide_and_expired_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), EXCEPTIONS);
    // --as-of 2025-01-20: the suppression is in force (and expiring: 12 days left), the
    // allow-list expired.
    let out = run(&["run", p.to_str().unwrap(), "--as-of", "2025-01-20", "--summary-json", "--fail-on", "medium", "-q"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let by: std::collections::HashMap<&str, &Value> = s["exceptions"].as_array().unwrap().iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
    assert_eq!(by["invictus-replay"]["state"], "expiring", "{s}");
    assert_eq!(by["christophe-lab"]["state"], "expired", "{s}");
    assert_eq!(by["christophe-lab"]["kind"], "allowlist");
    // The expired entry still counts what it would have hidden: christophe's three calls.
    assert!(by["christophe-lab"]["matched"].as_u64().unwrap() >= 3, "{s}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("christophe-lab") && stderr.contains("no longer suppresses"), "{stderr}");

    let all = findings(dir.path());
    let disables: Vec<&Value> = all.iter().filter(|f| f["analytic_uid"] == "logging_disabled").collect();
    let bert: Vec<&&Value> = disables.iter().filter(|f| f["actor_uid"] == "arn:aws:iam::123837392027:user/bert-jan").collect();
    assert!(!bert.is_empty());
    for f in &bert {
        assert_eq!(f["suppressed"], true, "{f}");
        let reason = f["suppression_reason"].as_str().unwrap();
        assert!(reason.contains("`invictus-replay`") && reason.contains("secops@example.com"), "{reason}");
    }
    assert_eq!(by["invictus-replay"]["matched"].as_u64().unwrap(), bert.len() as u64, "{s}");
    // christophe's findings are alerts again: the run fails on medium.
    let chris: Vec<&&Value> = disables.iter().filter(|f| f["actor_uid"].as_str().is_some_and(|a| a.ends_with(":user/christophe"))).collect();
    // DeleteTrail, PutEventSelectors, StopLogging, DeleteResolverQueryLogConfig, DeleteFlowLogs.
    assert_eq!(chris.len(), 5, "{chris:#?}");
    assert!(chris.iter().all(|f| f["suppressed"] == false));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
}

#[test]
fn an_entry_without_an_owner_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(dir.path(), &EXCEPTIONS.replace("owner = \"lab@example.com\"", "owner = \"\""));
    let out = run(&["run", p.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("allowlist[0].owner"), "{stderr}");
}
