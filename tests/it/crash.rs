//! Crash safety of scheduled runs (issue 6): a `cloudsift run` killed with SIGKILL at random
//! points, during ingest, scoring and findings writes, and then run again to completion,
//! leaves no partial Parquet file visible, loses no event and duplicates no finding.
//!
//! The kill points are drawn from a seeded generator over the measured length of an
//! uninterrupted run (`CLOUDSIFT_CRASH_SEED` picks another sequence; the seed is printed).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::{Array, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::{Rng, SeedableRng};

use crate::{bin, run};

/// Every visible Parquet file of the lake (what the readers take: `*.parquet`, not dot
/// files) read to its end; returns the event keys (provider, account, event_uid) of
/// `events/` and the row count. A partial file fails here, naming it.
pub(crate) fn read_lake(lake: &Path) -> (Vec<(String, String, String)>, usize) {
    let mut keys = Vec::new();
    let mut files = 0;
    for e in walkdir::WalkDir::new(lake).sort_by_file_name() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type().is_file() || !name.ends_with(".parquet") || name.starts_with('.') {
            continue;
        }
        files += 1;
        let f = std::fs::File::open(e.path()).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(f).unwrap_or_else(|err| panic!("{} does not open: {err}", e.path().display())).build().unwrap();
        let is_event = e.path().strip_prefix(lake).unwrap().starts_with("events");
        for batch in reader {
            let batch = batch.unwrap_or_else(|err| panic!("{} does not read: {err}", e.path().display()));
            if !is_event {
                continue;
            }
            let col = |n: &str| batch.column_by_name(n).unwrap().as_any().downcast_ref::<StringArray>().unwrap().clone();
            let (p, a, u) = (col("provider"), col("account_uid"), col("event_uid"));
            for i in 0..batch.num_rows() {
                keys.push((p.value(i).to_string(), a.value(i).to_string(), u.value(i).to_string()));
            }
        }
    }
    (keys, files)
}

/// The lake's finding ids, in `findings` output order (duplicates kept, to be counted).
pub(crate) fn finding_uids(lake: &Path) -> Vec<String> {
    let out = run(&["findings", "--lake", lake.to_str().unwrap(), "--output", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["finding_uid"].as_str().unwrap().to_string()).collect()
}

/// A three-source pipeline over a generated organisation and tenant, its lake at `lake`.
fn pipeline(dir: &Path, gen: &Path, lake: &str) -> PathBuf {
    let p = dir.join(format!("{lake}.toml"));
    let g = gen.display();
    std::fs::write(
        &p,
        format!(
            "[[sources]]\nname='org'\nurl='{g}/AWSLogs'\nformat='cloudtrail'\n[[sources]]\nname='m365'\nurl='{g}/Microsoft365'\nformat='m365_audit'\n[[sources]]\nname='entra'\nurl='{g}/EntraID'\n[lake]\nurl='{lake}'\n"
        ),
    )
    .unwrap();
    p
}

const AS_OF: &str = "2024-04-01";

#[test]
fn runs_killed_at_random_points_lose_no_event_and_duplicate_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path().join("gen");
    let out = run(&["generate", "--out", gen.to_str().unwrap(), "--days", "8", "--seed", "3", "--scale", "0.05", "--end", "2024-03-31", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // The uninterrupted run: what every crashed-and-resumed lake must end up holding.
    let reference = pipeline(dir.path(), &gen, "reference");
    let t0 = Instant::now();
    let out = run(&["run", reference.to_str().unwrap(), "--as-of", AS_OF, "--summary-json", "-q"]);
    let full = t0.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (ref_keys, _) = read_lake(&dir.path().join("reference"));
    let ref_findings = finding_uids(&dir.path().join("reference"));
    let ref_set: BTreeSet<&String> = ref_findings.iter().collect();
    assert!(ref_keys.len() > 20_000 && ref_set.len() > 50, "{} events, {} findings", ref_keys.len(), ref_set.len());
    assert_eq!(ref_set.len(), ref_findings.len(), "the reference run wrote a finding twice");

    let seed: u64 = std::env::var("CLOUDSIFT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    // Each scenario is a fresh lake whose runs are killed after the given fractions of an
    // uninterrupted run's length, then run to completion: early (listing, ingest of the
    // first source), late (scoring, findings writes), and twice in a row (the resumed run,
    // which dedups against the killed run's parts and recovers its days, killed too).
    // (Ingest is the first ~20% of a run here, scoring and findings the rest.)
    let scenarios: [&[(f64, f64)]; 3] = [&[(0.02, 0.15)], &[(0.4, 0.95)], &[(0.05, 0.2), (0.02, 0.15)]];
    let mut killed = 0;
    for (i, kills) in scenarios.iter().enumerate() {
        let name = format!("crashed{i}");
        let crashed = pipeline(dir.path(), &gen, &name);
        let lake = dir.path().join(&name);
        for &(lo, hi) in kills.iter() {
            let at = full.mul_f64(rng.random_range(lo..hi));
            let mut child = bin().args(["run", crashed.to_str().unwrap(), "--as-of", AS_OF, "--summary-json", "-q"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
            std::thread::sleep(at);
            let was_running = child.try_wait().unwrap().is_none();
            child.kill().unwrap(); // SIGKILL: no unwinding, no lock release
            child.wait().unwrap();
            killed += usize::from(was_running);
            let (keys, files) = read_lake(&lake); // nothing half-written is visible
            let phase = if lake.join("findings").exists() {
                "scoring and findings writes"
            } else if lake.join("state/manifest").exists() {
                "ingest of a later source, or scoring"
            } else {
                "ingest of the first source"
            };
            eprintln!("seed {seed}: {name} killed after {at:?} of {full:?} (running: {was_running}): {files} Parquet files, {} events; reached {phase}", keys.len());
        }
        let out = run(&["run", crashed.to_str().unwrap(), "--as-of", AS_OF, "--summary-json", "-q"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        let (keys, _) = read_lake(&lake);
        let unique: HashSet<&(String, String, String)> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "seed {seed} {name}: the lake holds an event twice");
        let ref_unique: HashSet<&(String, String, String)> = ref_keys.iter().collect();
        assert!(unique == ref_unique, "seed {seed} {name}: {} events after resuming, {} in the uninterrupted run", unique.len(), ref_unique.len());
        let found = finding_uids(&lake);
        let set: BTreeSet<&String> = found.iter().collect();
        assert_eq!(set.len(), found.len(), "seed {seed} {name}: a finding was written twice");
        assert_eq!(set, ref_set, "seed {seed} {name}: findings differ from the uninterrupted run's");
        // The run that finished cleaned up after the killed ones.
        assert!(!lake.join("state/lock.json").exists());
        assert_eq!(std::fs::read_dir(lake.join("state/runs")).unwrap().count(), 0);
        if i == scenarios.len() - 1 {
            check_rerun_is_quiet(&crashed, &lake, &found);
        }
    }
    assert!(killed >= 3, "seed {seed}: only {killed} runs were still going when killed (the run takes {full:?})");
}

/// Once more with nothing new: nothing read, nothing scored, no finding added.
fn check_rerun_is_quiet(crashed: &Path, lake: &Path, found: &[String]) {
    let out = run(&["run", crashed.to_str().unwrap(), "--as-of", AS_OF, "--summary-json", "-q"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s["objects_read"].as_u64(), s["written"].as_u64(), s["days_scored"].as_u64()), (Some(0), Some(0), Some(0)));
    assert_eq!(finding_uids(lake), found);
}

/// The deterministic half of the crash test: a run whose ingest finished (parts and
/// manifest written) but which died before scoring. Regression: its days were never
/// scored, because the next run found every object in the manifest and touched no day.
#[test]
fn days_ingested_by_a_run_killed_before_scoring_are_scored_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    let input = crate::samples("aws_cloudtrail/invictus_stratus_2023-07-10");
    std::fs::write(&p, format!("[[sources]]\nname='a'\nurl='{}'\n[lake]\nurl='lake'\n", input.display())).unwrap();
    let lake = dir.path().join("lake");
    // What a killed run leaves: its ingest (through `ingest`, same writes), its journal
    // entry naming its run id, and its lock (a dead process on this host).
    let out = run(&["ingest", input.to_str().unwrap(), "--lake", lake.to_str().unwrap(), "--summary-json", "-q"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let killed_run = s["run_uid"].as_str().unwrap();
    std::fs::create_dir_all(lake.join("state/runs")).unwrap();
    std::fs::write(lake.join(format!("state/runs/{killed_run}.json")), "{}").unwrap();
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "unknown".into());
    let until = (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339();
    std::fs::write(lake.join("state/lock.json"), format!(r#"{{"run_uid":"{killed_run}","host":"{host}","pid":{},"expires":"{until}"}}"#, u32::MAX)).unwrap();

    let out = run(&["run", p.to_str().unwrap(), "--as-of", "2023-07-12", "--summary-json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((s["objects_read"].as_u64(), s["days_scored"].as_u64()), (Some(0), Some(1)));
    assert!(s["findings"].as_u64().unwrap() > 0);
    assert!(!lake.join("state/lock.json").exists());
    assert!(!lake.join(format!("state/runs/{killed_run}.json")).exists());
    // Finished runs leave no journal, so a further run scores nothing again.
    let out = run(&["run", p.to_str().unwrap(), "--as-of", "2023-07-12", "--summary-json", "-q"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["days_scored"], 0);
}
