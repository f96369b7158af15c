//! Microsoft 365 and Entra ID through the CLI: the bundled samples, late and re-delivered
//! records (case P23), and the recorded stories the analytics must find.

use std::path::{Path, PathBuf};

use crate::{run, samples};

fn case_input(case: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases").join(case).join("input");
    p.exists().then_some(p)
}

fn summary(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 1), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn partitions(lake: &Path, provider: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(lake.join(format!("events/provider={provider}")))
        .map(|rd| rd.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every bundled Microsoft sample is read, nothing is quarantined (the Sentinel
/// `AuditLogs` projection without any time column is not bundled for that reason).
#[test]
fn bundled_microsoft_samples_ingest_without_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (m365, entra) = (samples("m365_audit"), samples("entra_id"));
    let out = run(&["ingest", m365.to_str().unwrap(), entra.to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--summary-json", "-q"]);
    let s = summary(&out);
    // 266 + 2 OfficeActivity rows, 1 Golden SAML, 4 plaso; 56 + 4 sign-ins, 4 audit records.
    assert_eq!(s["records_read"], 337);
    assert_eq!(s["quarantined"], 0);
    assert_eq!(s["written"].as_u64().unwrap() + s["duplicates"].as_u64().unwrap(), 337);
    assert!(partitions(&lake, "m365").contains(&"date=2021-04-28".to_string()));
    assert!(partitions(&lake, "entra").contains(&"date=2021-04-28".to_string()));
}

/// Case P23: a Set-InboxRule of 2024-07-03 22:10Z arrives in the run of 07-06 and again in
/// the run of 07-08. One row, in the event's own date partition; the second delivery is
/// counted as a duplicate because dedup checks the keys the partition already holds.
/// The finding for it is scored in the window of 2024-07-03 (the event's day), against
/// the history before that day.
#[test]
fn late_and_redelivered_m365_record_is_stored_once_in_its_own_day() {
    let Some(input) = case_input("P23-m365-late-arrival-redelivery") else { return };
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let pipeline = dir.path().join("p.toml");
    let write_pipeline = |run_dir: &str| {
        std::fs::write(&pipeline, format!("[[sources]]\nname = \"exchange\"\nurl = \"{}\"\n\n[lake]\nurl = \"{}\"\n", input.join(run_dir).display(), lake.display())).unwrap();
    };
    write_pipeline("run2-2024-07-06T0000Z");
    let r2 = summary(&run(&["run", pipeline.to_str().unwrap(), "--as-of", "2024-07-06T00:00:00Z", "--summary-json", "-q"]));
    assert_eq!((r2["records_read"].as_u64(), r2["written"].as_u64()), (Some(1), Some(1)));
    // The late day is scored by this run, although the run is three days after it.
    assert!(r2["days_scored"].as_u64().unwrap() >= 1);
    write_pipeline("run3-2024-07-08T0000Z");
    let r3 = summary(&run(&["run", pipeline.to_str().unwrap(), "--as-of", "2024-07-08T00:00:00Z", "--summary-json", "-q"]));
    assert_eq!((r3["records_read"].as_u64(), r3["written"].as_u64(), r3["duplicates"].as_u64()), (Some(1), Some(0), Some(1)));
    assert_eq!(partitions(&lake, "m365"), vec!["date=2024-07-03".to_string()]);
    let files: Vec<_> = std::fs::read_dir(lake.join("events/provider=m365/date=2024-07-03")).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".parquet")).collect();
    assert_eq!(files.len(), 1, "one part file, written by the first run");
}

/// The Sentinel Training Lab's "compromised user" story in the bundled samples: AdeleV's
/// sign-ins and SharePoint reads from 175.45.176.99 and her two hiding inbox rules. The
/// recording is one day without history, so the session and file findings are honest
/// "learning" notes (low) that name the address; the rules are alerts on their own.
#[test]
fn sentinel_lab_compromised_user_story_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.to_str().unwrap();
    let (m365, entra) = (samples("m365_audit"), samples("entra_id"));
    assert_eq!(run(&["ingest", m365.to_str().unwrap(), entra.to_str().unwrap(), "--lake", lake_s, "-q"]).status.code(), Some(0));
    // One window over the recording (2021-04-26 rules, 2021-04-28 activity).
    let out = run(&["detect", "--lake", lake_s, "--as-of", "2021-04-29", "--window-hours", "96"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["findings", "--lake", lake_s, "--output", "jsonl"]);
    let findings: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let adele = "adelev@m365x816222.onmicrosoft.com";
    let of = |analytic: &str| -> Vec<&serde_json::Value> { findings.iter().filter(|f| f["analytic_uid"] == analytic && f["actor_uid"] == adele).collect() };
    let sessions = of("session_anomaly");
    assert_eq!(sessions.len(), 1, "{findings:#?}");
    assert_eq!(sessions[0]["src_ip"], "175.45.176.99");
    assert_eq!(sessions[0]["severity"], "low");
    let files = of("file_access_anomaly");
    assert_eq!(files.len(), 1, "{findings:#?}");
    assert_eq!(files[0]["src_ip"], "175.45.176.99");
    // The inbox-rule export names her by the lab tenant's other domain.
    let rules: Vec<&serde_json::Value> = findings.iter().filter(|f| f["analytic_uid"] == "mail_forwarding_rule" && f["actor_uid"] == "adelev@contoso.onmicrosoft.com").collect();
    assert_eq!(rules.len(), 2, "{findings:#?}");
    assert!(rules.iter().all(|f| f["severity"] == "high"), "{rules:#?}");
    assert!(rules.iter().any(|f| f["description"].as_str().unwrap().contains("covid")));
}
