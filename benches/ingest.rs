//! Ingest throughput on a generated CloudTrail corpus (`cargo bench --bench ingest`).
//!
//! A small corpus (2 weekdays at scale 0.75, about 40 MB of JSON) is generated once into a
//! temporary folder with [`cloudsift::generate::generate`]. Throughput is reported in bytes
//! of *uncompressed* JSON, the unit the DuckDB comparison (`benches/compare_duckdb.py`) uses.
//!
//! - `read_object/*`: [`cloudsift::sources::read_object`] normalising the largest CloudTrail
//!   object (gunzip + framing + normaliser) into a sink that only counts, with and without
//!   `raw_event`.
//! - `ingest_paths/*`: the whole corpus through [`cloudsift::lake::ingest_paths`] (listing,
//!   reading, normalising, dedup, Parquet + zstd, manifest) into a fresh lake each iteration.

// The same allocator as the `cloudsift` binary, so the bench measures what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use cloudsift::event::Event;
use cloudsift::generate::{generate, GenerateOptions};
use cloudsift::lake::{ingest_paths, IngestOptions};
use cloudsift::sources::{read_object, Locator, ReadOptions, Reject, Sink};

/// Counts what the reader produces.
#[derive(Default)]
struct Count {
    events: u64,
    rejected: u64,
}

impl Sink for Count {
    fn event(&mut self, event: &Event<'_>, _: Locator) {
        black_box(event);
        self.events += 1;
    }
    fn reject(&mut self, _: &Reject, _: Locator, _: Option<&str>) {
        self.rejected += 1;
    }
}

struct Corpus {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// Uncompressed bytes of the whole corpus.
    json_bytes: u64,
    /// The largest object: (path, gzip bytes, uncompressed length).
    largest: (PathBuf, Vec<u8>, u64),
}

fn objects(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read corpus folder") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            objects(&p, out);
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
}

fn corpus() -> Corpus {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("corpus");
    // Wednesday and Thursday: weekdays, so people's activity is in the mix.
    let end = chrono::NaiveDate::from_ymd_opt(2024, 3, 28).expect("valid date");
    let opts = GenerateOptions {
        days: 2,
        scale: 0.75,
        end,
        ..GenerateOptions::new(&root)
    };
    let summary = generate(&opts, &|_| {}).expect("generate corpus");
    let mut paths = Vec::new();
    objects(&root.join("AWSLogs"), &mut paths);
    paths.sort();
    let largest = paths
        .iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("objects")
        .clone();
    let gz = std::fs::read(&largest).expect("read object");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut json)
        .expect("gunzip");
    eprintln!(
        "corpus: {} objects, {} records, {:.1} MB JSON; largest object {:.0} KB JSON",
        summary.objects,
        summary.events,
        summary.uncompressed_bytes as f64 / 1e6,
        json.len() as f64 / 1e3
    );
    Corpus {
        _dir: dir,
        root,
        json_bytes: summary.uncompressed_bytes,
        largest: (largest, gz, json.len() as u64),
    }
}

fn benches(c: &mut Criterion) {
    let corpus = corpus();

    let (path, gz, json_len) = &corpus.largest;
    let name = path.to_string_lossy().to_string();
    let mut g = c.benchmark_group("read_object");
    g.throughput(Throughput::Bytes(*json_len));
    for keep_raw in [false, true] {
        let opts = ReadOptions {
            keep_raw,
            ..ReadOptions::default()
        };
        let id = if keep_raw {
            "cloudtrail_object_raw_event"
        } else {
            "cloudtrail_object"
        };
        g.bench_function(id, |b| {
            b.iter(|| {
                let mut sink = Count::default();
                let stats = read_object(&name, black_box(gz), &opts, &mut sink);
                black_box((stats, sink.events, sink.rejected))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("ingest_paths");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(corpus.json_bytes));
    let inputs = vec![corpus.root.join("AWSLogs")];
    for keep_raw in [false, true] {
        let id = if keep_raw {
            "corpus_raw_event"
        } else {
            "corpus_no_raw_event"
        };
        g.bench_function(id, |b| {
            b.iter_batched(
                || tempfile::tempdir().expect("lake dir"),
                |lake| {
                    let opts = IngestOptions {
                        keep_raw,
                        ..IngestOptions::default()
                    };
                    let s = ingest_paths(&inputs, lake.path(), &opts).expect("ingest");
                    black_box(s.written);
                    lake
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(ingest, benches);
criterion_main!(ingest);
