//! Scheduled runs against real object-store API servers on loopback ports: moto's S3 server,
//! Azurite's Blob service and fake-gcs-server (GCS), started by
//! `scripts/storage-servers.sh start` (see docs/storage.md), which prints the
//! `CLOUDSIFT_TEST_*` variables read here. Without them the tests say so and pass, unless
//! `CLOUDSIFT_REQUIRE_STORAGE=1` (CI), where they fail.
//!
//! Each server gets the same corpus (the bundled CloudTrail, Microsoft 365 and Entra ID
//! samples, plus the real Azure Activity samples when `../shared` is present) in a bucket
//! or container of its own, and `cloudsift run` reads it there with the endpoint given in
//! the pipeline file's `[storage_options]` and the secret in the cloud's own environment
//! variable (the standard chain; for GCS the emulator's service-account file in
//! `GOOGLE_SERVICE_ACCOUNT`). The lake is local, except in
//! [`run_on_object_store_lake_through_mirror`], where `run` scores it through its local mirror.
//!
//! fake-gcs-server takes reads (list, list by folder, get with ETag, head, delete) from
//! object_store but not its writes (see [`Server::writable`]): on GCS the tests upload through
//! the JSON API and the lake-on-object-store tests (lock, manifest, `run` through the mirror)
//! run on S3 and Azure only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use bytes::Bytes;
use cloudsift::storage::{DateRange, Location};

use crate::crash::{finding_uids, read_lake};
use crate::{bin, real, samples};

/// Which object-store API a server speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    S3,
    Azure,
    Gcs,
}

/// One server: its URL scheme's container, the pipeline options and the secret variables.
struct Server {
    name: &'static str,
    kind: Kind,
    /// `s3://<bucket>`, `az://<container>` or `gs://<bucket>`.
    root: String,
    /// The server's own URL (the GCS uploads go there directly).
    endpoint: String,
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

    /// Whether object_store can write to this server. fake-gcs-server (1.54.0) answers
    /// object_store's XML-API object PUT with 400 `invalid uploadType` (it takes XML PUTs
    /// only as signed-URL uploads) and ignores `x-goog-if-generation-match`, so neither a
    /// lake nor the lock's atomic create can be tested on it.
    fn writable(&self) -> bool {
        self.kind != Kind::Gcs
    }

    /// Uploads `(key below the bucket, bytes)` pairs, overwriting: with object_store where
    /// the server takes its writes, else with the GCS JSON API (`create_container.py
    /// gcs-upload`, one process for all of them). An overwrite gives the object a new ETag.
    fn upload(&self, items: &[(String, Bytes)]) {
        if self.writable() {
            let root = self.location("");
            for (key, bytes) in items {
                root.put(key, bytes.clone()).unwrap();
            }
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let bucket = self.root.trim_start_matches("gs://");
        let mut args = vec!["gcs-upload".to_string(), self.endpoint.clone(), bucket.to_string()];
        for (i, (key, bytes)) in items.iter().enumerate() {
            let file = dir.path().join(i.to_string());
            std::fs::write(&file, bytes).unwrap();
            args.extend([key.clone(), file.display().to_string()]);
        }
        create(&args.iter().map(String::as_str).collect::<Vec<_>>());
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
            kind: Kind::S3,
            root: format!("s3://{bucket}"),
            endpoint: ep.clone(),
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
            kind: Kind::Azure,
            root: format!("az://{container}"),
            endpoint: ep.clone(),
            options: vec![kv("azure_storage_account_name", &account), kv("azure_storage_endpoint", &ep), kv("azure_allow_http", "true")],
            env: vec![kv("AZURE_STORAGE_ACCOUNT_KEY", &key)],
            secret_options: vec![kv("azure_storage_account_key", &key)],
        });
    }
    if let (Some(ep), Some(account_file)) = (var("CLOUDSIFT_TEST_GCS_ENDPOINT"), var("CLOUDSIFT_TEST_GCS_SERVICE_ACCOUNT")) {
        let bucket = unique(tag);
        create(&["gcs", &ep, &bucket]);
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        out.push(Server {
            name: "gcs (fake-gcs-server)",
            kind: Kind::Gcs,
            root: format!("gs://{bucket}"),
            endpoint: ep.clone(),
            // The file carries the same URL; the option is the endpoint override a pipeline
            // would set, and it wins over the file's.
            options: vec![kv("google_base_url", &ep)],
            env: vec![kv("GOOGLE_SERVICE_ACCOUNT", &account_file)],
            secret_options: vec![kv("google_service_account", &account_file)],
        });
    }
    if out.len() < 3 {
        let msg = "storage servers not configured (CLOUDSIFT_TEST_S3_ENDPOINT / CLOUDSIFT_TEST_AZURITE_* / CLOUDSIFT_TEST_GCS_*): run `eval \"$(scripts/storage-servers.sh start)\"` first";
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

/// The corpus copied to `<dir>/local/logs` in its object layout: the local reference run's
/// source.
fn local_corpus(dir: &Path, files: &[(String, PathBuf)]) -> PathBuf {
    let local = dir.join("local/logs");
    for (key, path) in files {
        let to = local.join(key);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(path, to).unwrap();
    }
    local
}

/// The corpus uploaded under `logs/` of the server's bucket or container.
fn upload_corpus(server: &Server, files: &[(String, PathBuf)]) {
    server.upload(&files.iter().map(|(key, path)| (format!("logs/{key}"), Bytes::from(std::fs::read(path).unwrap()))).collect::<Vec<_>>());
}

fn n(s: &serde_json::Value, k: &str) -> u64 {
    s[k].as_u64().unwrap_or_else(|| panic!("no {k} in {s}"))
}

/// Sources on S3, Azure Blob and GCS read like a local folder; a second run reads nothing
/// and writes no finding; a new object is the only one read; an overwritten object (new
/// ETag, on GCS a new generation) is read again with its repeated events deduplicated and
/// its new one added.
#[test]
fn incremental_runs_on_object_store_sources() {
    let servers = servers("run");
    if servers.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = corpus();
    // The local reference run over the same layout.
    let local = local_corpus(dir.path(), &files);
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
        upload_corpus(server, &files);
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
        server.upload(&[("logs/AWSLogs/123456789012/CloudTrail/us-east-1/2023/03/01/quotas.jsonl".into(), Bytes::from(std::fs::read(&extra).unwrap()))]);
        let (_, third) = run_pipeline(&p, &server.env);
        assert_eq!((n(&third, "objects_read"), n(&third, "records_read"), n(&third, "written")), (1, 2, 2), "{who}");

        // The same key overwritten with one more record (a new ETag): read again, its 103
        // earlier events are duplicates, the new one is written.
        let text = std::fs::read_to_string(&sample.1).unwrap();
        let mut record: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        record["eventID"] = serde_json::json!("0e5c3f8a-7d6b-4c8e-9a1f-cloudsift-etag");
        let changed = Bytes::from(format!("{text}{}\n", record));
        let listed = || logs.list().unwrap().into_iter().find(|m| m.location.as_ref().ends_with(&sample.0)).unwrap();
        let before = listed();
        server.upload(&[(format!("logs/{}", sample.0), changed.clone())]);
        let after = listed();
        assert!(before.e_tag.is_some() && after.e_tag != before.e_tag, "{who}: ETag {:?} -> {:?}", before.e_tag, after.e_tag);
        assert_eq!((after.size, logs.get(&after.location).unwrap()), (changed.len() as u64, changed.clone()), "{who}");
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

/// The lake's lock and manifest on an object store (`cloudsift ingest --lake s3://...`): a live lock refuses a
/// second writer naming its owner and expiry, `PutMode::Create` is atomic on the real
/// server, and the manifest there makes a second ingest read nothing. Not on
/// fake-gcs-server, which takes no object_store write ([`Server::writable`]).
#[test]
fn lake_lock_and_manifest_on_object_stores() {
    let servers = servers("lock");
    if servers.is_empty() {
        return;
    }
    let input = samples("aws_cloudtrail/stratus_detonation_logs");
    for server in &servers {
        let who = server.name;
        if !server.writable() {
            eprintln!("{who}: lock and object-store lake not tested: the server takes no object_store write (docs/storage.md, GCS)");
            continue;
        }
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

    }
}

/// Copies every object below `rel` of `lake` into the folder `to` (keys kept).
fn download(lake: &Location, rel: &str, to: &Path) {
    for (key, meta) in lake.list_rel(rel).unwrap() {
        let path = to.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lake.get(&meta.location).unwrap()).unwrap();
    }
}

/// The profile days (`date=D` folder names) that have a `_built.json` among `keys`.
fn built_days<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    keys.filter_map(|k| k.strip_suffix("/_built.json")?.rsplit('/').next().map(str::to_string)).collect()
}

/// `run` with sources and lake on S3 and Azure Blob: scored through the local mirror (in
/// `CLOUDSIFT_CACHE_DIR`), the store then holds the same findings (same uids) as a local
/// lake of the same pipeline, and the same profile days with their `_built.json`. A second
/// run changes no remote object (key, size, ETag); a run from an empty cache rebuilds no
/// profile day and changes nothing either. `findings --lake s3://...` names the mirror.
/// Not on fake-gcs-server, which takes no object_store write ([`Server::writable`]).
#[test]
fn run_on_object_store_lake_through_mirror() {
    let servers = servers("mirror");
    if servers.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = corpus();
    // The history reaches back to 2020: a forget window that keeps it all, so that a second
    // run has nothing to forget either.
    let keep_all = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        std::fs::write(p, format!("{text}[profiles]\nforget_days = 3650\n")).unwrap();
    };
    let local = local_corpus(dir.path(), &files);
    let p = dir.path().join("local.toml");
    write_pipeline(&p, &local.display().to_string(), "local-lake", &[]);
    keep_all(&p);
    let (_, reference) = run_pipeline(&p, &[]);
    let ref_lake = dir.path().join("local-lake");
    let ref_findings: BTreeSet<String> = finding_uids(&ref_lake).into_iter().collect();
    let ref_files: Vec<String> = walkdir::WalkDir::new(ref_lake.join("profiles")).into_iter().map(|e| e.unwrap().path().to_string_lossy().into_owned()).collect();
    let ref_days = built_days(ref_files.iter().map(String::as_str));
    assert!(!ref_findings.is_empty() && !ref_days.is_empty());

    for server in servers.iter().filter(|s| s.writable()) {
        let who = server.name;
        let t0 = std::time::Instant::now();
        upload_corpus(server, &files);
        let lake_url = format!("{}/lake", server.root);
        let p = dir.path().join(format!("mirror-{}.toml", &server.root[..2]));
        write_pipeline(&p, &format!("{}/logs", server.root), &lake_url, &server.options);
        keep_all(&p);
        let with_cache = |cache: &str| -> Vec<(String, String)> {
            let mut env = server.env.clone();
            env.push(("CLOUDSIFT_CACHE_DIR".into(), dir.path().join(format!("{cache}-{}", &server.root[..2])).display().to_string()));
            env
        };
        let (_, first) = run_pipeline(&p, &with_cache("cache"));
        assert!(n(&first, "mirror_files_downloaded") > 0, "{who}: {first}");
        for k in ["objects_read", "written", "duplicates", "quarantined", "days_scored", "profile_days_built", "findings"] {
            assert_eq!(first[k], reference[k], "{who}: {k}");
        }
        let lake = server.location("lake");
        let copy = dir.path().join(format!("copy-{}", &server.root[..2]));
        download(&lake, "findings", &copy);
        assert_eq!(finding_uids(&copy).into_iter().collect::<BTreeSet<_>>(), ref_findings, "{who}: remote findings differ from the local lake's");
        let objects = || lake.list_rel("").unwrap().into_iter().map(|(k, m)| (k, m.size, m.e_tag)).collect::<Vec<_>>();
        let before = objects();
        assert_eq!(built_days(before.iter().map(|(k, _, _)| k.as_str())), ref_days, "{who}: remote profile days");
        assert!(before.iter().all(|(k, _, _)| !k.starts_with("state/lock")), "{who}: the lock was not released");

        let (_, second) = run_pipeline(&p, &with_cache("cache"));
        assert_eq!((n(&second, "objects_read"), n(&second, "days_scored"), n(&second, "profile_days_built"), n(&second, "findings")), (0, 0, 0, 0), "{who}");
        assert_eq!(n(&second, "mirror_files_downloaded"), 0, "{who}: the mirror was current");
        assert_eq!(objects(), before, "{who}: a run with nothing new changed the store");

        // A fresh cache (another host, a wiped disk): the mirror comes back from the store,
        // whose profile days are current, so nothing is rebuilt or pushed.
        let (_, fresh) = run_pipeline(&p, &with_cache("fresh"));
        assert_eq!((n(&fresh, "days_scored"), n(&fresh, "profile_days_built")), (0, 0), "{who}");
        // Every event part, profile file and findings file once: what the store holds below
        // those folders (the forget window covers the whole history here).
        let mirrored = before.iter().filter(|(k, _, _)| ["events/", "profiles/", "findings/"].iter().any(|p| k.starts_with(p))).count() as u64;
        assert_eq!(n(&fresh, "mirror_files_downloaded"), mirrored, "{who}");
        assert_eq!(objects(), before, "{who}: a run from an empty cache changed the store");

        let out = bin().args(["findings", "--lake", &lake_url]).envs(with_cache("cache")).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{who}: {err}");
        assert!(err.contains(&dir.path().join(format!("cache-{}/lakes", &server.root[..2])).display().to_string()), "{who}: {err}");
        eprintln!("{who}: three runs on an object-store lake in {:.1} s", t0.elapsed().as_secs_f64());
    }
}

/// Listing by date range on the real servers (S3, Azure Blob, GCS): only the requested
/// day's folders of a CloudTrail layout are listed (keys outside date folders always are).
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
        let mut keys = vec!["2023/12/31/old.json".to_string(), "README".to_string()];
        for account in ["111122223333", "444455556666"] {
            for region in ["eu-west-1", "us-east-1"] {
                for d in 28..=31 {
                    let key = format!("{account}/CloudTrail/{region}/2024/03/{d:02}/{account}_CloudTrail_{region}_202403{d:02}T0000Z_x.json.gz");
                    keys.push(key.clone());
                    if d == 30 {
                        want.push(key);
                    }
                }
            }
        }
        server.upload(&keys.iter().map(|k| (format!("AWSLogs/o-1/{k}"), Bytes::from_static(b"{}"))).collect::<Vec<_>>());
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
