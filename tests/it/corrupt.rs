//! A corpus with about 1% corrupt files runs to completion: every good event is written,
//! every bad file or record is quarantined with a reason naming it, and the run summary
//! keeps `read = written + duplicates + quarantined + skipped` (issue 6, "Bad input").
//!
//! The corpus is a small generated tenant (CloudTrail gzip objects, Microsoft 365 JSON
//! arrays, Entra ID JSON lines) plus the bundled samples and, when present, the real
//! samples of `../shared/data/real`. Expected counts come from `cloudsift normalize` on each
//! untouched file (with the pipeline's `--format`), not from the lake, so a miscount in
//! ingest cannot hide behind itself.
//!
//! The large single object is a few MB by default; `CLOUDSIFT_CORRUPT_LARGE_MB=200` makes it
//! 200 MB (the size; about a minute more).

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{real, run, samples};

/// One kind of damage done to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    /// A gzip object cut in half.
    TruncatedGzip,
    /// A `.json.gz` key holding 0 bytes.
    ZeroByteGzip,
    /// A valid gzip stream of 0 bytes.
    EmptyGzipStream,
    /// Random bytes that are neither gzip nor UTF-8.
    Garbage,
    /// The (inflated) text re-encoded as UTF-16 LE without a byte-order mark.
    Utf16NoBom,
    /// A JSON document cut in half.
    InvalidJson,
    /// `{}`.
    EmptyObject,
    /// JSON lines whose every line holds a Latin-1 `é` (not UTF-8).
    Latin1,
}

/// The pipeline's sources: (folder under the corpus root, `--format`).
fn sources(with_real: bool) -> Vec<(&'static str, Option<&'static str>)> {
    let mut v = vec![("gen/AWSLogs", Some("cloudtrail")), ("gen/Microsoft365", Some("m365_audit")), ("gen/EntraID", None), ("samples", None)];
    if with_real {
        v.push(("real", None));
    }
    v
}

/// Damage cycled over the chosen files of each source.
fn damages(source: &str) -> &'static [Damage] {
    match source {
        "gen/AWSLogs" => &[Damage::TruncatedGzip, Damage::ZeroByteGzip, Damage::EmptyGzipStream, Damage::Garbage, Damage::Utf16NoBom],
        "gen/Microsoft365" => &[Damage::InvalidJson, Damage::EmptyObject],
        "gen/EntraID" => &[Damage::Latin1, Damage::Garbage],
        _ => &[Damage::Garbage],
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir).into_iter().flatten().filter(|e| e.file_type().is_file()).map(|e| e.into_path()).collect();
    v.sort();
    v
}

fn copy_tree(from: &Path, to: &Path) {
    for f in files(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Damages `path`; returns what the run must quarantine for it: (count, reason when the
/// test knows it, whether the rejection is file-level).
fn damage(path: &Path, d: Damage) -> (u64, Option<&'static str>, bool) {
    let data = std::fs::read(path).unwrap();
    let text = if data.starts_with(&[0x1f, 0x8b]) { gunzip(&data) } else { data.clone() };
    let write = |b: &[u8]| std::fs::write(path, b).unwrap();
    match d {
        Damage::TruncatedGzip => {
            let gz = if data.starts_with(&[0x1f, 0x8b]) { data.clone() } else { gzip(&data) };
            write(&gz[..gz.len() / 2]);
            (1, Some("truncated_gzip"), true)
        }
        Damage::ZeroByteGzip => {
            write(b"");
            (1, Some("empty_object"), true)
        }
        Damage::EmptyGzipStream => {
            write(&gzip(b""));
            (1, Some("empty_object"), true)
        }
        Damage::Garbage => {
            // 0xC0 never starts UTF-8; the rest is an LCG's bytes.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let bytes: Vec<u8> = std::iter::once(0xc0)
                .chain((0..4096).map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    (x >> 56) as u8
                }))
                .collect();
            write(&bytes);
            (1, Some("invalid_encoding"), true)
        }
        Damage::Utf16NoBom => {
            let s = String::from_utf8(text).unwrap();
            write(&s.trim_end().encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>());
            (1, Some("invalid_json"), true)
        }
        Damage::InvalidJson => {
            write(&text[..text.len() / 2]);
            (1, Some("invalid_json"), true)
        }
        Damage::EmptyObject => {
            write(b"{}");
            (1, None, false)
        }
        Damage::Latin1 => {
            let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).collect();
            let mut out = Vec::new();
            for l in &lines {
                // `{"note":"café",...` with `é` as the single Latin-1 byte 0xE9.
                out.extend_from_slice(b"{\"note\":\"caf\xe9\",");
                out.extend_from_slice(&l[1..]);
                out.push(b'\n');
            }
            write(&out);
            if lines.len() > 1 {
                (lines.len() as u64, Some("invalid_encoding"), false)
            } else {
                (1, Some("invalid_encoding"), true)
            }
        }
    }
}

/// What `cloudsift normalize --keep-duplicates` says of one source folder: per file (path
/// relative to the corpus root), the dedup keys of its events and its (quarantined,
/// skipped) counts.
#[derive(Default)]
struct Baseline {
    keys: BTreeMap<String, Vec<(String, String, String)>>,
    rejects: BTreeMap<String, (u64, u64)>,
}

fn baseline(root: &Path, with_real: bool) -> Baseline {
    let mut b = Baseline::default();
    let tmp = tempfile::tempdir().unwrap();
    let rel = |shown: &str| Path::new(shown).strip_prefix(root).unwrap_or_else(|_| panic!("{shown} outside {}", root.display())).to_string_lossy().into_owned();
    for (dir, format) in sources(with_real) {
        let q = tmp.path().join("q.jsonl");
        let input = root.join(dir);
        let mut args = vec!["normalize", input.to_str().unwrap(), "--keep-duplicates", "--no-raw-event", "--quarantine-out", q.to_str().unwrap()];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let out = run(&args);
        assert!(matches!(out.status.code(), Some(0 | 3)), "normalize {dir}: {}", String::from_utf8_lossy(&out.stderr));
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            let [p, a, u] = ["provider", "account_uid", "event_uid"].map(|k| e[k].as_str().unwrap().to_string());
            b.keys.entry(rel(e["source_object"].as_str().unwrap())).or_default().push((p, a, u));
        }
        for line in std::fs::read_to_string(&q).unwrap().lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            let c = b.rejects.entry(rel(r["source_object"].as_str().unwrap())).or_default();
            if r["kind"] == "skipped" {
                c.1 += 1;
            } else {
                c.0 += 1;
            }
        }
    }
    b
}

fn write_pipeline(root: &Path, with_real: bool) -> PathBuf {
    let mut t = String::from("[pipeline]\nname = \"corrupt\"\n");
    for (dir, format) in sources(with_real) {
        t.push_str(&format!("\n[[sources]]\nname = \"{}\"\nurl = \"{dir}\"\n", dir.replace('/', "-")));
        if let Some(f) = format {
            t.push_str(&format!("format = \"{f}\"\n"));
        }
    }
    t.push_str("\n[lake]\nurl = \"lake\"\nkeep_raw_event = false\n\n[detect]\nwindow_hours = 24\n");
    let p = root.join("pipeline.toml");
    std::fs::write(&p, t).unwrap();
    p
}

/// `cloudsift run` over the corpus at `root`: (exit code, summary).
fn run_pipeline(root: &Path, with_real: bool) -> (i32, Value) {
    let p = write_pipeline(root, with_real);
    let out = run(&["run", p.to_str().unwrap(), "--as-of", "2024-04-01T00:00:00Z", "--summary-json", "-q"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no summary ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), summary)
}

fn n(s: &Value, k: &str) -> u64 {
    s[k].as_u64().unwrap_or_else(|| panic!("summary lacks `{k}`: {s}"))
}

/// A `{"Records":[...]}` object of about `mb` MB made of copies of `template` with unique
/// `eventID`s; returns (text, records).
fn large_object(template: &Value, mb: usize) -> (String, u64) {
    let mut out = String::from("{\"Records\":[");
    let mut count = 0u64;
    while out.len() < mb << 20 {
        let mut r = template.clone();
        r["eventID"] = format!("corrupt-test-large-{count}").into();
        if count > 0 {
            out.push(',');
        }
        out.push_str(&r.to_string());
        count += 1;
    }
    out.push_str("]}");
    (out, count)
}

#[test]
fn corpus_with_one_percent_corrupt_files_is_fully_accounted_for() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let gen = clean.join("gen");
    let out = run(&["generate", "--out", gen.to_str().unwrap(), "--days", "2", "--scale", "0.5", "--seed", "11", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    copy_tree(&samples(""), &clean.join("samples"));
    let real_dir = real("");
    if let Some(r) = &real_dir {
        copy_tree(r, &clean.join("real"));
    }
    let with_real = real_dir.is_some();

    // The uncorrupted run agrees with normalize's per-file view.
    let base = baseline(&clean, with_real);
    let all_keys: HashSet<&(String, String, String)> = base.keys.values().flatten().collect();
    let events: u64 = base.keys.values().map(|v| v.len() as u64).sum();
    let (q_all, s_all) = base.rejects.values().fold((0, 0), |a, c| (a.0 + c.0, a.1 + c.1));
    let (code, s) = run_pipeline(&clean, with_real);
    assert_eq!(code, if q_all > 0 { 3 } else { 0 }, "{s}");
    assert_eq!(
        [n(&s, "records_read"), n(&s, "written"), n(&s, "duplicates"), n(&s, "quarantined"), n(&s, "skipped")],
        [events + q_all + s_all, all_keys.len() as u64, events - all_keys.len() as u64, q_all, s_all],
        "clean run: {s}"
    );

    // ~1% of each source's files damaged (at least one; every kind of damage at least once).
    let dirty = tmp.path().join("dirty");
    copy_tree(&clean, &dirty);
    std::fs::remove_dir_all(dirty.join("lake")).ok();
    std::fs::remove_file(dirty.join("pipeline.toml")).ok();
    let mut damaged: BTreeMap<String, (Damage, u64, Option<&'static str>, bool)> = BTreeMap::new();
    for (dir, _) in sources(with_real) {
        let all = files(&dirty.join(dir));
        let kinds = damages(dir);
        let k = (all.len() / 100).max(kinds.len()).min(all.len());
        for i in 0..k {
            let f = &all[i * all.len() / k];
            let d = kinds[i % kinds.len()];
            let rel = f.strip_prefix(&dirty).unwrap().to_string_lossy().into_owned();
            let (q, reason, file_level) = damage(f, d);
            damaged.insert(rel, (d, q, reason, file_level));
        }
    }
    // A large single object of good, new events, and a folder named like a log object.
    let aws = files(&clean.join("gen/AWSLogs"));
    let first = gunzip(&std::fs::read(&aws[0]).unwrap());
    let template = serde_json::from_slice::<Value>(&first).unwrap()["Records"][0].clone();
    let mb = std::env::var("CLOUDSIFT_CORRUPT_LARGE_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let (large, large_n) = large_object(&template, mb);
    std::fs::create_dir_all(dirty.join("gen/AWSLogs/large")).unwrap();
    std::fs::write(dirty.join("gen/AWSLogs/large/single-object.json"), large).unwrap();
    std::fs::create_dir_all(dirty.join("gen/AWSLogs/folder-named-like.json.gz")).unwrap();

    let untouched_keys: HashSet<&(String, String, String)> = base.keys.iter().filter(|(f, _)| !damaged.contains_key(*f)).flat_map(|(_, v)| v).collect();
    let untouched_events: u64 = base.keys.iter().filter(|(f, _)| !damaged.contains_key(*f)).map(|(_, v)| v.len() as u64).sum();
    let (q_u, s_u) = base.rejects.iter().filter(|(f, _)| !damaged.contains_key(*f)).fold((0, 0), |a, (_, c)| (a.0 + c.0, a.1 + c.1));
    let q_damage: u64 = damaged.values().map(|d| d.1).sum();
    let lost = all_keys.len() - untouched_keys.len();
    assert!(lost > 0, "the damaged files held events");

    let (code, d) = run_pipeline(&dirty, with_real);
    assert_eq!(code, 3, "quarantined input exits 3 (DESIGN.md): {d}");
    let (read, written, dups, quar, skip) = (n(&d, "records_read"), n(&d, "written"), n(&d, "duplicates"), n(&d, "quarantined"), n(&d, "skipped"));
    assert_eq!(read, written + dups + quar + skip, "accounting identity: {d}");
    // Every good event written: the uncorrupted run minus the events only the damaged files held.
    assert_eq!(written, n(&s, "written") - lost as u64 + large_n, "{d}");
    assert_eq!(written, untouched_keys.len() as u64 + large_n);
    assert_eq!(dups, untouched_events - untouched_keys.len() as u64);
    assert_eq!((quar, skip), (q_u + q_damage, s_u), "{d}");
    assert_eq!(read, untouched_events + large_n + q_u + s_u + q_damage);
    // Listed: every clean file plus the large one; the folder is not an object.
    assert_eq!(n(&d, "objects_listed"), n(&s, "objects_listed") + 1);

    // Each damaged file is in the quarantine file, by name, with its reason.
    let mut lines: Vec<Value> = Vec::new();
    for f in files(&dirty.join("lake/quarantine")) {
        lines.extend(std::fs::read_to_string(f).unwrap().lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
    }
    for (rel, (dmg, count, reason, file_level)) in &damaged {
        let path = dirty.join(rel).to_string_lossy().into_owned();
        let mine: Vec<&Value> = lines.iter().filter(|l| l["source_object"] == path.as_str()).collect();
        assert_eq!(mine.len() as u64, *count, "{rel} ({dmg:?}): {mine:?}");
        for l in mine {
            assert_eq!(l["kind"], "quarantined", "{rel}");
            assert!(!l["reason"].as_str().unwrap().is_empty() && !l["detail"].as_str().unwrap().is_empty(), "{l}");
            if let Some(r) = reason {
                assert_eq!(l["reason"], *r, "{rel} ({dmg:?}): {l}");
            }
            assert_eq!(l["source_locator"] == "file", *file_level, "{rel} ({dmg:?}): {l}");
        }
    }
    let kinds: HashSet<String> = damaged.values().map(|d| format!("{:?}", d.0)).collect();
    assert_eq!(kinds.len(), 8, "every kind of damage was applied: {kinds:?}");
}
