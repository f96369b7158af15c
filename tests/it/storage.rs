//! Scheduled runs against real object-store API servers on loopback ports: moto's S3 server
//! and Azurite's Blob service, started by `scripts/storage-servers.sh start` (see
//! docs/storage.md), which prints the `CLOUDSIFT_TEST_*` variables read here. Without them
//! the tests say so and pass, unless `CLOUDSIFT_REQUIRE_STORAGE=1` (CI), where they fail.
//!
//! Each server gets the same corpus (the bundled CloudTrail, Microsoft 365 and Entra ID
//! samples, plus the real Azure Activity samples when `../shared` is present) in a bucket
//! or container of its own, and `cloudsift run` reads it there with the endpoint given in
//! the pipeline file's `[storage_options]` and the secret in the cloud's own environment
//! variable (the standard chain). The lake stays local: detection reads it with polars.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use bytes::Bytes;
use cloudsift::storage::{DateRange, Location};

use crate::crash::{finding_uids, read_lake};
use crate::{bin, real, samples};

/// One server: its URL scheme's container, the pipeline options and the secret variables.
struct Server {
    name: &'static str,
    /// `s3://<bucket>` or `az://<container>`.
    root: String,
    /// Endpoint options, written into the pipeline file.
    options: Vec<(String, String)>,
    /// The credentials, given to `cloudsift` as environment variables.
    env: Vec<(String, String)>,
    /// The same credentials as object_store options, for this test's own uploads.
    secret_options: Vec<(String, String)>,
}

impl Server {
    fn all_options(&self) -> Vec<(String, String)> {
        self.options.iter().chain(&self.secret_options).cloned().collect()
    }

    fn location(&self, rel: &str) -> Location {
        Location::parse(&format!("{}/{rel}", self.root), &self.all_options()).unwrap()
    }
}

fn create(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/storage/create_container.py");
    let out = std::process::Command::new("python3").arg(script).args(args).output().expect("python3 runs");
    assert!(out.status.success(), "create_container.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A bucket/container name no other test run uses.
fn unique(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("cloudsift-{tag}-{}-{}", std::process::id(), n % 1_000_000_000)
}

/// The servers named by the environment; an empty list (and a message) when none is.
fn servers(tag: &str) -> Vec<Server> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut out = Vec::new();
    if let Some(ep) = var("CLOUDSIFT_TEST_S3_ENDPOINT") {
        let bucket = unique(tag);
        create(&["s3", &ep, &bucket]);
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        out.push(Server {
            name: "s3 (moto)",
            root: format!("s3://{bucket}"),
            options: vec![kv("aws_endpoint", &ep), kv("aws_allow_http", "true"), kv("aws_region", "us-east-1")],
            env: vec![kv("AWS_ACCESS_KEY_ID", "cloudsift-test"), kv("AWS_SECRET_ACCESS_KEY", "cloudsift-test")],
            secret_options: vec![kv("aws_access_key_id", "cloudsift-test"), kv("aws_secret_access_key", "cloudsift-test")],
        });
    }
    if let (Some(ep), Some(account), Some(key)) = (var("CLOUDSIFT_TEST_AZURITE_ENDPOINT"), var("CLOUDSIFT_TEST_AZURITE_ACCOUNT"), var("CLOUDSIFT_TEST_AZURITE_KEY")) {
        let container = unique(tag);
        create(&["azure", &ep, &container, &account, &key]);
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        out.push(Server {
            name: "azure blob (azurite)",
            root: format!("az://{container}"),
            options: vec![kv("azure_storage_account_name", &account), kv("azure_storage_endpoint", &ep), kv("azure_allow_http", "true")],
            env: vec![kv("AZURE_STORAGE_ACCOUNT_KEY", &key)],
            secret_options: vec![kv("azure_storage_account_key", &key)],
        });
    }
    if out.len() < 2 {
        let msg = "storage servers not configured (CLOUDSIFT_TEST_S3_ENDPOINT / CLOUDSIFT_TEST_AZURITE_*): run `eval \"$(scripts/storage-servers.sh start)\"` first";
        assert!(std::env::var("CLOUDSIFT_REQUIRE_STORAGE").as_deref() != Ok("1"), "CLOUDSIFT_REQUIRE_STORAGE=1 but {msg}");
        eprintln!("skipped: {msg}");
        if !out.is_empty() {
            eprintln!("(testing only {})", out.iter().map(|s| s.name).collect::<Vec<_>>().join(", "));
        }
    }
    out
}

/// The corpus: (key below `logs/`, local file). CloudTrail in its S3 layout.
fn corpus() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let invictus = samples("aws_cloudtrail/invictus_stratus_2023-07-10");
    for e in std::fs::read_dir(&invictus).unwrap() {
        let p = e.unwrap().path();
        files.push((format!("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/{}", p.file_name().unwrap().to_string_lossy()), p));
    }
    let otrf = samples("aws_cloudtrail/otrf_ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl");
    files.push(("AWSLogs/123456789012/CloudTrail/us-east-1/2020/09/14/otrf.jsonl".into(), otrf));
    for sub in ["m365_audit", "entra_id"] {
        for e in std::fs::read_dir(samples(sub)).unwrap() {
            let p = e.unwrap().path();
            files.push((format!("{sub}/{}", p.file_name().unwrap().to_string_lossy()), p));
        }
    }
    if let Some(dir) = real("azure_activity") {
        for name in ["plaso_azure_activity_log.jsonl", "sentinel_lab_AzureActivity_adele.csv"] {
            if dir.join(name).exists() {
                files.push((format!("azure_activity/{name}"), dir.join(name)));
            }
        }
    }
    files.sort();
    files
}

fn run_pipeline(pipeline: &Path, env: &[(String, String)]) -> (Output, serde_json::Value) {
    let out = bin().args(["run", pipeline.to_str().unwrap(), "--as-of", "2025-01-01", "--summary-json", "-q"]).envs(env.iter().map(|(k, v)| (k, v))).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{}", String::from_utf8_lossy(&out.stderr));
    let s = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out, s)
}

fn write_pipeline(path: &Path, source: &str, lake: &str, options: &[(String, String)]) {
    let mut text = format!("[[sources]]\nname='logs'\nurl='{source}'\n[lake]\nurl='{lake}'\n");
    if !options.is_empty() {
        text.push_str("[storage_options]\n");
        for (k, v) in options {
            text.push_str(&format!("{k} = '{v}'\n"));
        }
    }
    std::fs::write(path, text).unwrap();
}

fn n(s: &serde_json::Value, k: &str) -> u64 {
    s[k].as_u64().unwrap_or_else(|| panic!("no {k} in {s}"))
}

/// Sources on S3 and Azure Blob read like a local folder; a second run reads nothing and
/// writes no finding; a new object is the only one read; an overwritten object (new ETag)
/// is read again with its repeated events deduplicated and its new one added.
#[test]
fn incremental_runs_on_object_store_sources() {
    let servers = servers("run");
    if servers.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = corpus();
    // The local reference run over the same layout.
    let local = dir.path().join("local/logs");
    for (key, path) in &files {
        let to = local.join(key);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(path, to).unwrap();
    }
    let p = dir.path().join("local.toml");
    write_pipeline(&p, &local.display().to_string(), "local-lake", &[]);
    let (_, reference) = run_pipeline(&p, &[]);
    let (ref_keys, _) = read_lake(&dir.path().join("local-lake"));
    let ref_keys: BTreeSet<_> = ref_keys.into_iter().collect();
    let ref_findings: BTreeSet<String> = finding_uids(&dir.path().join("local-lake")).into_iter().collect();
    assert_eq!(n(&reference, "objects_read"), files.len() as u64);
    assert!(ref_keys.len() > 3000, "{}", ref_keys.len());

    for server in &servers {
        let t0 = std::time::Instant::now();
        let logs = server.location("logs");
        for (key, path) in &files {
            logs.put(key, Bytes::from(std::fs::read(path).unwrap())).unwrap();
        }
        let lake_name = format!("lake-{}", &server.root[..2]);
        let lake = dir.path().join(&lake_name);
        let p = dir.path().join(format!("{lake_name}.toml"));
        write_pipeline(&p, &format!("{}/logs", server.root), &lake_name, &server.options);
        let (_, first) = run_pipeline(&p, &server.env);
        let who = server.name;
        for k in ["objects_read", "records_read", "written", "duplicates", "quarantined", "skipped", "days_scored", "findings"] {
            assert_eq!(first[k], reference[k], "{who}: {k}");
        }
        let (keys, _) = read_lake(&lake);
        assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), ref_keys, "{who}: lake events differ from the local run's");
        let findings = finding_uids(&lake);
        assert_eq!(findings.iter().cloned().collect::<BTreeSet<_>>(), ref_findings, "{who}: findings differ from the local run's");
        // The objects are named by their URL in the lake.
        let sample = files.iter().find(|(k, _)| k.ends_with("otrf.jsonl")).unwrap();
        assert!(std::fs::read_dir(lake.join("state/manifest")).unwrap().any(|e| {
            std::fs::read_to_string(e.unwrap().path()).unwrap().contains(&format!("{}/logs/{}", server.root, sample.0))
        }));

        // Nothing new: nothing read, no finding written.
        let (_, second) = run_pipeline(&p, &server.env);
        assert_eq!((n(&second, "objects_read"), n(&second, "objects_already_ingested"), n(&second, "written")), (0, files.len() as u64, 0), "{who}");
        assert_eq!((n(&second, "days_scored"), n(&second, "findings")), (0, 0), "{who}");
        assert_eq!(finding_uids(&lake), findings, "{who}");

        // One more object: only it is read.
        let extra = samples("aws_cloudtrail/awsdocs_servicequotas_examples.jsonl");
        logs.put("AWSLogs/123456789012/CloudTrail/us-east-1/2023/03/01/quotas.jsonl", Bytes::from(std::fs::read(&extra).unwrap())).unwrap();
        let (_, third) = run_pipeline(&p, &server.env);
        assert_eq!((n(&third, "objects_read"), n(&third, "records_read"), n(&third, "written")), (1, 2, 2), "{who}");

        // The same key overwritten with one more record (a new ETag): read again, its 103
        // earlier events are duplicates, the new one is written.
        let text = std::fs::read_to_string(&sample.1).unwrap();
        let mut record: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        record["eventID"] = serde_json::json!("0e5c3f8a-7d6b-4c8e-9a1f-cloudsift-etag");
        let changed = format!("{text}{}\n", record);
        logs.put(&sample.0, Bytes::from(changed)).unwrap();
        let (_, fourth) = run_pipeline(&p, &server.env);
        assert_eq!(
            (n(&fourth, "objects_read"), n(&fourth, "records_read"), n(&fourth, "duplicates"), n(&fourth, "written")),
            (1, 104, 103, 1),
            "{who}"
        );
        let (keys, _) = read_lake(&lake);
        assert_eq!(keys.len(), ref_keys.len() + 3, "{who}: every event once, plus the two quota events and the new record");
        eprintln!("{who}: five runs and uploads in {:.1} s", t0.elapsed().as_secs_f64());
    }
}

/// The lake's lock and manifest on an object store (`cloudsift ingest --lake s3://...`;
/// `run` needs a local lake and says so before writing anything): a live lock refuses a
/// second writer naming its owner and expiry, `PutMode::Create` is atomic on the real
/// server, and the manifest there makes a second ingest read nothing.
#[test]
fn lake_lock_and_manifest_on_object_stores() {
    let servers = servers("lock");
    if servers.is_empty() {
        return;
    }
    let input = samples("aws_cloudtrail/stratus_detonation_logs");
    for server in &servers {
        let who = server.name;
        let lake_url = format!("{}/lake", server.root);
        let lake = server.location("lake");
        let opts: Vec<String> = server.options.iter().map(|(k, v)| format!("--storage-option={k}={v}")).collect();
        let ingest = || -> Output {
            bin().args(["ingest", input.to_str().unwrap(), "--lake", &lake_url, "--summary-json", "-q"]).args(&opts).envs(server.env.iter().map(|(k, v)| (k, v))).output().unwrap()
        };
        // Atomic create against the real server: the second create of one key fails.
        assert!(lake.put_new("state/probe", Bytes::from_static(b"1")).unwrap(), "{who}");
        assert!(!lake.put_new("state/probe", Bytes::from_static(b"2")).unwrap(), "{who}");
        assert_eq!(lake.get_rel("state/probe").unwrap().unwrap(), Bytes::from_static(b"1"), "{who}");
        lake.delete("state/probe").unwrap();

        let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let owner = format!(r#"{{"run_uid":"cron-0300","host":"scheduler-7","pid":4242,"expires":"{until}"}}"#);
        lake.put("state/lock.json", Bytes::from(owner)).unwrap();
        let out = ingest();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{who}: {err}");
        assert!(err.contains("locked by run cron-0300 (on scheduler-7, until") && err.contains(&until), "{who}: {err}");
        assert!(lake.list_rel("events").unwrap().is_empty(), "{who}: a refused run wrote events");

        lake.delete("state/lock.json").unwrap();
        let out = ingest();
        assert_eq!(out.status.code(), Some(0), "{who}: {}", String::from_utf8_lossy(&out.stderr));
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((n(&s, "records_read"), n(&s, "written")), (310, 310), "{who}");
        assert_eq!(lake.get_rel("state/lock.json").unwrap(), None, "{who}: the lock was not released");
        let parts = lake.list_rel("events").unwrap();
        assert!(!parts.is_empty() && parts.iter().all(|(k, _)| k.ends_with(".parquet")), "{who}: {parts:?}");
        assert_eq!(lake.list_rel("state/manifest").unwrap().len(), 1, "{who}");
        let again: serde_json::Value = serde_json::from_slice(&ingest().stdout).unwrap();
        assert_eq!((n(&again, "objects_read"), n(&again, "written")), (0, 0), "{who}");

        // `run` cannot score an object-store lake; it says so before ingesting anything.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        write_pipeline(&p, &input.display().to_string(), &format!("{}/lake2", server.root), &server.options);
        let out = bin().args(["run", p.to_str().unwrap(), "-q"]).envs(server.env.iter().map(|(k, v)| (k, v))).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{who}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("local folder"), "{who}");
        assert!(server.location("lake2").list().unwrap().is_empty(), "{who}: run wrote to an object-store lake it cannot score");
    }
}

/// Listing by date range on the real servers: only the requested day's folders of a
/// CloudTrail layout are listed (keys outside date folders always are).
#[test]
fn date_range_listing_on_object_stores() {
    let servers = servers("dates");
    if servers.is_empty() {
        return;
    }
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
    for server in &servers {
        let trail = server.location("AWSLogs/o-1");
        let mut want = Vec::new();
        for account in ["111122223333", "444455556666"] {
            for region in ["eu-west-1", "us-east-1"] {
                for d in 28..=31 {
                    let key = format!("{account}/CloudTrail/{region}/2024/03/{d:02}/{account}_CloudTrail_{region}_202403{d:02}T0000Z_x.json.gz");
                    trail.put(&key, Bytes::from_static(b"{}")).unwrap();
                    if d == 30 {
                        want.push(key);
                    }
                }
            }
        }
        trail.put("2023/12/31/old.json", Bytes::from_static(b"{}")).unwrap();
        trail.put("README", Bytes::from_static(b"x")).unwrap();
        want.push("README".into());
        want.sort();
        let dated = trail.clone().with_date_range(DateRange::new(day(30), day(30)));
        let prefix = "AWSLogs/o-1/";
        let mut got: Vec<String> = dated.list().unwrap().into_iter().map(|m| m.location.as_ref().split_once(prefix).unwrap().1.to_string()).collect();
        got.sort();
        assert_eq!(got, want, "{}", server.name);
        assert_eq!(trail.list().unwrap().len(), 2 * 2 * 4 + 2, "{}", server.name);
    }
}
