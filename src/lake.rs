//! The normalised lake: ingest of raw objects into hive-partitioned Parquet
//! (`events/provider=P/date=YYYY-MM-DD/part-<run>-<n>.parquet`), deduplication by
//! (provider, account_uid, event_uid) within a run and against what the lake already holds,
//! quarantine of bad input (`quarantine/run=<run>/<run>-<inputs>.jsonl`), and the manifest of
//! processed objects (`state/manifest/<run>-<inputs>.jsonl`) that makes a second ingest of the same objects add
//! nothing.
//!
//! Order of writes, for crash safety: event parts first (each an atomic put), then the
//! quarantine file, then the manifest. A run killed before its manifest is written is redone
//! by the next run; the rows it already wrote are then recognised as duplicates.

mod journal;
mod lock;
mod manifest;
pub mod mirror;
mod writer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use object_store::ObjectMeta;
use rayon::prelude::*;
use serde::Serialize;

use crate::event::{Event, EventBatchBuilder};
use crate::progress::{Progress, Silent};
use crate::schema::{LogFormat, Provider};
use crate::sources::read::decoded_size_hint;
use crate::sources::{read_object, Locator, ReadOptions, Reject, Sink};
use crate::storage::Location;
use crate::Result;

pub use journal::RunJournal;
pub use lock::LakeLock;
pub use manifest::{Manifest, ManifestEntry};
pub use mirror::Mirror;
pub use writer::{existing_keys, parquet_props, PartitionWriter};

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Force one format; `None` detects it per object.
    pub format: Option<LogFormat>,
    /// Keep the whole record in `raw_event`.
    pub keep_raw: bool,
    /// Largest decompressed object accepted, bytes.
    pub max_decompressed_bytes: u64,
    /// Id of this run, written in `ingest_run_uid` and in state file names.
    pub run_uid: String,
    /// Rows buffered for one partition before a part file is written.
    pub part_rows: usize,
    /// Bytes of Arrow rows the writer holds: rows buffered across partitions plus the part
    /// being encoded. The largest partition is flushed to the encoder once the buffers pass
    /// half of it, and a flush waits while the encoder is busy, so the two halves never add
    /// up to more (plus one chunk of [`STREAM_CHUNK_BYTES`] per partition of a large object).
    pub memory_budget_bytes: usize,
    /// Objects whose decoded size ([`crate::sources::read::decoded_size_hint`]) is above
    /// this many bytes are read on the merging thread, handing their rows to the partition
    /// writers in chunks as they are parsed, instead of on a worker that holds all of an
    /// object's rows until the merge takes them.
    pub large_object_bytes: u64,
    /// Read objects the manifest lists as already ingested (same key, size and ETag).
    pub reprocess: bool,
    /// Objects parsed in parallel per step.
    pub batch_objects: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            keep_raw: true,
            max_decompressed_bytes: 1 << 30,
            run_uid: new_run_uid(),
            part_rows: 500_000,
            memory_budget_bytes: 128 << 20,
            large_object_bytes: 64 << 20,
            reprocess: false,
            batch_objects: 64,
        }
    }
}

/// A run id that sorts by start time: `YYYYMMDDTHHMMSSZ-<8 hex>`.
pub fn new_run_uid() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("{now}-{}", &rand[..8])
}

/// What an ingest did. `records_read = written + duplicates + quarantined + skipped`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct IngestSummary {
    pub run_uid: String,
    /// Objects found under the inputs.
    pub objects_listed: u64,
    /// Objects passed over because the manifest lists them (same key, size, ETag).
    pub objects_already_ingested: u64,
    /// Objects read in this run.
    pub objects_read: u64,
    /// Bytes of the objects read, as stored (compressed).
    pub bytes_read: u64,
    /// Records (and file-level rejections) seen.
    pub records_read: u64,
    pub written: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub skipped: u64,
    /// Part files written, relative to the lake root.
    pub parts: Vec<String>,
}

impl IngestSummary {
    /// Adds another ingest's counts (one run over several sources).
    pub fn merge(&mut self, o: IngestSummary) {
        self.objects_listed += o.objects_listed;
        self.objects_already_ingested += o.objects_already_ingested;
        self.objects_read += o.objects_read;
        self.bytes_read += o.bytes_read;
        self.records_read += o.records_read;
        self.written += o.written;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.skipped += o.skipped;
        self.parts.extend(o.parts);
    }

    /// The DESIGN.md accounting line.
    pub fn accounting_line(&self) -> String {
        format!(
            "read = written + duplicates + quarantined + skipped: {} = {} + {} + {} + {}",
            self.records_read, self.written, self.duplicates, self.quarantined, self.skipped
        )
    }
}

/// One line of a run's quarantine file (also what `normalize --quarantine-out` writes).
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineLine {
    /// `quarantined` or `skipped`.
    pub kind: &'static str,
    pub reason: &'static str,
    pub detail: String,
    pub source_object: String,
    pub source_locator: String,
    /// The record's text, when the rejection is about one record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

impl QuarantineLine {
    pub fn new(reject: &Reject, source_object: &str, locator: Locator, record: Option<&str>) -> Self {
        QuarantineLine {
            kind: if reject.skip { "skipped" } else { "quarantined" },
            reason: reject.reason,
            detail: reject.detail.clone(),
            source_object: source_object.to_string(),
            source_locator: locator.to_string(),
            record: record.map(str::to_owned),
        }
    }
}

/// Ingests every object under `inputs` into the lake at `lake`.
///
/// # Errors
/// Storage failures (listing, reading an object, writing a part). Bad input never errors:
/// it is quarantined and counted.
pub fn ingest(inputs: &[Location], lake: &Location, opts: &IngestOptions, progress: &dyn Progress) -> Result<IngestSummary> {
    let mut summary = IngestSummary { run_uid: opts.run_uid.clone(), ..Default::default() };
    let manifest = if opts.reprocess { Manifest::default() } else { Manifest::load(lake)? };
    let mut jobs: Vec<Job> = Vec::new();
    let mut listing_rejects: Vec<QuarantineLine> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let listing = input.list_shown()?;
        for (path, why) in listing.unlisted {
            summary.records_read += 1;
            summary.quarantined += 1;
            listing_rejects.push(QuarantineLine::new(&Reject::quarantine("unreadable_object", why), &path, Locator::File, None));
        }
        for (meta, shown) in listing.objects {
            summary.objects_listed += 1;
            if manifest.contains(&shown, &meta) {
                summary.objects_already_ingested += 1;
            } else {
                jobs.push((i, meta, shown));
            }
        }
    }
    let total_bytes: u64 = jobs.iter().map(|(_, m, _)| m.size).sum();
    progress.start("ingest", Some(total_bytes), "bytes");
    let read_opts = ReadOptions { format: opts.format, max_decompressed_bytes: opts.max_decompressed_bytes, keep_raw: opts.keep_raw };
    let mut merge = Merge { state: LakeState::new(lake, opts), summary, quarantine: listing_rejects, done: Vec::new() };
    let parse_chunk = |chunk: &[Job]| -> Vec<Result<Parsed>> {
        chunk
            .par_iter()
            .map(|(i, meta, shown)| match inputs[*i].get(&meta.location) {
                Ok(bytes) if decoded_size_hint(&bytes) > opts.large_object_bytes => Ok(Parsed::Large(bytes)),
                Ok(bytes) => Ok(Parsed::Done(parse_object(shown, &bytes, &read_opts, &opts.run_uid))),
                // A local file that cannot be read (permissions, vanished) costs that file.
                Err(e @ crate::Error::Io { .. }) => Ok(Parsed::Done(unreadable(shown, &e))),
                Err(e) => Err(e),
            })
            .collect()
    };
    // Double buffering: the next chunk parses on the pool while this one is merged, so the
    // sequential merge (dedup, partition buffers) does not leave a core idle.
    let chunks: Vec<&[Job]> = jobs.chunks(opts.batch_objects.max(1)).collect();
    let mut pending = chunks.first().map(|c| parse_chunk(c));
    for (i, chunk) in chunks.iter().enumerate() {
        let parsed = pending.take().unwrap_or_default();
        let next = chunks.get(i + 1);
        let (next_parsed, merged) = rayon::join(|| next.map(|c| parse_chunk(c)), || merge.take(chunk, parsed, &read_opts, opts, progress));
        merged?;
        pending = next_parsed;
    }
    let Merge { state, mut summary, quarantine, done } = merge;
    summary.parts = state.finish()?;
    progress.finish();
    // One run may ingest several sources (a pipeline's [[sources]]): each ingest names its
    // state files after its inputs too, so that none overwrites another's.
    let state_name = format!("{}-{}", opts.run_uid, inputs_id(inputs));
    if !quarantine.is_empty() {
        let mut text = String::new();
        for q in &quarantine {
            text.push_str(&serde_json::to_string(q).expect("quarantine line serialises"));
            text.push('\n');
        }
        lake.put(&format!("quarantine/run={}/{state_name}.jsonl", opts.run_uid), Bytes::from(text))?;
    }
    Manifest::append(lake, &state_name, &done)?;
    Ok(summary)
}

/// 8 hex digits naming a set of inputs (stable for the same inputs).
fn inputs_id(inputs: &[Location]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for i in inputs {
        h.update(i.to_string().as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..4])
}

/// One object to read: (input index, its metadata, its shown name).
type Job = (usize, ObjectMeta, String);

/// What the parallel step hands the merge for one object.
enum Parsed {
    /// Parsed on a worker.
    Done(ParsedObject),
    /// Too large to hold as rows: parsed by the merge itself ([`StreamSink`]).
    Large(Bytes),
}

/// The sequential half of an ingest: dedup and partition buffering, in object order.
struct Merge<'l> {
    state: LakeState<'l>,
    summary: IngestSummary,
    quarantine: Vec<QuarantineLine>,
    done: Vec<ManifestEntry>,
}

impl Merge<'_> {
    fn take(&mut self, chunk: &[Job], parsed: Vec<Result<Parsed>>, read_opts: &ReadOptions, opts: &IngestOptions, progress: &dyn Progress) -> Result<()> {
        for ((_, meta, shown), p) in chunk.iter().zip(parsed) {
            let p = match p? {
                Parsed::Done(p) => p,
                Parsed::Large(bytes) => {
                    let (p, written, dups) = StreamSink::read(&mut self.state, shown, &bytes, read_opts)?;
                    self.summary.written += written;
                    self.summary.duplicates += dups;
                    p
                }
            };
            let s = &mut self.summary;
            s.objects_read += 1;
            s.bytes_read += meta.size;
            s.records_read += p.records;
            s.quarantined += p.rejects.iter().filter(|q| q.kind == "quarantined").count() as u64;
            s.skipped += p.rejects.iter().filter(|q| q.kind == "skipped").count() as u64;
            self.quarantine.extend(p.rejects);
            for (key, mut builder) in p.parts {
                let (written, dups) = self.state.append(key, &mut builder)?;
                self.summary.written += written;
                self.summary.duplicates += dups;
            }
            self.done.push(ManifestEntry::new(shown, meta, &opts.run_uid));
            progress.inc(meta.size);
        }
        Ok(())
    }
}

/// Ingest from local paths into a local lake folder (benches, tests, notebooks).
///
/// # Errors
/// As [`ingest`]; [`crate::Error::Input`] for a missing input path.
pub fn ingest_paths(inputs: &[PathBuf], lake_root: &Path, opts: &IngestOptions) -> Result<IngestSummary> {
    let locs = inputs.iter().map(|p| Location::parse(&p.to_string_lossy(), &[])).collect::<Result<Vec<_>>>()?;
    let lake = Location::parse_output(&lake_root.to_string_lossy(), &[])?;
    ingest(&locs, &lake, opts, &Silent)
}

/// Partition key: provider and UTC day number (days since 1970-01-01).
pub type PartitionKey = (Provider, i64);

/// The hive path of a partition: `events/provider=aws/date=2024-03-04`.
pub fn partition_dir(key: PartitionKey) -> String {
    let date = chrono::DateTime::from_timestamp(key.1 * 86_400, 0).unwrap_or_default().format("%Y-%m-%d");
    format!("events/provider={}/date={date}", key.0.as_str())
}

/// What one object gave, ready for the sequential merge.
pub struct ParsedObject {
    pub records: u64,
    pub parts: Vec<(PartitionKey, EventBatchBuilder)>,
    pub rejects: Vec<QuarantineLine>,
}

/// An object that could not be read, as one quarantined file-level record.
pub fn unreadable(shown: &str, err: &crate::Error) -> ParsedObject {
    let r = Reject::quarantine("unreadable_object", err.to_string());
    ParsedObject { records: 1, parts: Vec::new(), rejects: vec![QuarantineLine::new(&r, shown, Locator::File, None)] }
}

/// Normalises one object into per-partition Arrow builders (runs on worker threads).
pub fn parse_object(shown: &str, bytes: &[u8], opts: &ReadOptions, run_uid: &str) -> ParsedObject {
    let mut sink = ObjectSink { shown, run_uid, out: ParsedObject { records: 0, parts: Vec::new(), rejects: Vec::new() }, text_bytes: 0 };
    read_object(shown, bytes, opts, &mut sink);
    sink.out
}

struct ObjectSink<'s> {
    shown: &'s str,
    run_uid: &'s str,
    out: ParsedObject,
    text_bytes: usize,
}

impl Sink for ObjectSink<'_> {
    fn event(&mut self, e: &Event<'_>, locator: Locator) {
        self.out.records += 1;
        let key = (e.provider, e.time.div_euclid(86_400_000_000));
        let idx = match self.out.parts.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                // The first partition of an object usually takes all of it.
                let b = if self.out.parts.is_empty() { EventBatchBuilder::for_text(self.text_bytes) } else { EventBatchBuilder::new() };
                self.out.parts.push((key, b));
                self.out.parts.len() - 1
            }
        };
        self.out.parts[idx].1.push(e, self.shown, &locator.to_string(), self.run_uid);
    }
    fn reject(&mut self, reject: &Reject, locator: Locator, record: Option<&str>) {
        self.out.records += 1;
        self.out.rejects.push(QuarantineLine::new(reject, self.shown, locator, record));
    }
    fn text_size(&mut self, bytes: usize) {
        self.text_bytes = bytes;
    }
}

/// String bytes of one large object's rows ([`crate::event::EventBatchBuilder::approx_bytes`])
/// gathered for a partition before they are handed to its writer: 8 MiB (or an eighth of
/// `memory_budget_bytes` when that is smaller), small beside the memory budget, large
/// enough that dedup and batch overheads stay negligible.
pub const STREAM_CHUNK_BYTES: usize = 8 << 20;

/// The sink of a large object read on the merging thread: rows go to the partition writers
/// every [`STREAM_CHUNK_BYTES`], so the writers' budget and flushes apply within the object.
///
/// Rows of one partition reach its writer in record order, as from a worker; rows of
/// different partitions of one object interleave by chunk (a worker's object hands over
/// each partition whole), which changes only which copy of an event is kept when copies
/// with the same dedup key fall on different days of the same large object.
struct StreamSink<'a, 'l> {
    state: &'a mut LakeState<'l>,
    shown: &'a str,
    parts: Vec<(PartitionKey, EventBatchBuilder)>,
    /// Hand-over size, bytes (see [`STREAM_CHUNK_BYTES`]).
    chunk: usize,
    records: u64,
    rejects: Vec<QuarantineLine>,
    written: u64,
    dups: u64,
    err: Option<crate::Error>,
}

impl<'a, 'l> StreamSink<'a, 'l> {
    /// Reads `bytes` (the object `shown`) into the lake state; returns what a worker's
    /// [`ParsedObject`] would have said (with no rows left in it), the rows written and
    /// the duplicates.
    ///
    /// # Errors
    /// The first storage or encoding error of a flush.
    fn read(state: &'a mut LakeState<'l>, shown: &'a str, bytes: &[u8], opts: &ReadOptions) -> Result<(ParsedObject, u64, u64)> {
        let chunk = (state.opts.memory_budget_bytes / 8).clamp(1, STREAM_CHUNK_BYTES);
        let mut sink = StreamSink { state, shown, parts: Vec::new(), chunk, records: 0, rejects: Vec::new(), written: 0, dups: 0, err: None };
        read_object(shown, bytes, opts, &mut sink);
        for i in 0..sink.parts.len() {
            sink.hand_over(i);
        }
        if let Some(e) = sink.err {
            return Err(e);
        }
        Ok((ParsedObject { records: sink.records, parts: Vec::new(), rejects: sink.rejects }, sink.written, sink.dups))
    }

    fn hand_over(&mut self, i: usize) {
        let (key, builder) = &mut self.parts[i];
        if builder.is_empty() || self.err.is_some() {
            return;
        }
        match self.state.append(*key, builder) {
            Ok((w, d)) => {
                self.written += w;
                self.dups += d;
            }
            Err(e) => self.err = Some(e),
        }
        // A fresh builder: `finish` leaves the old one's buffers at their grown size.
        *builder = EventBatchBuilder::for_text(self.chunk);
    }
}

impl Sink for StreamSink<'_, '_> {
    fn event(&mut self, e: &Event<'_>, locator: Locator) {
        self.records += 1;
        let key = (e.provider, e.time.div_euclid(86_400_000_000));
        let i = match self.parts.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.parts.push((key, EventBatchBuilder::for_text(self.chunk)));
                self.parts.len() - 1
            }
        };
        self.parts[i].1.push(e, self.shown, &locator.to_string(), &self.state.opts.run_uid);
        if self.parts[i].1.approx_bytes() >= self.chunk {
            self.hand_over(i);
        }
    }
    fn reject(&mut self, reject: &Reject, locator: Locator, record: Option<&str>) {
        self.records += 1;
        self.rejects.push(QuarantineLine::new(reject, self.shown, locator, record));
    }
}

/// Dedup state and open partition writers of one run.
struct LakeState<'l> {
    lake: &'l Location,
    opts: &'l IngestOptions,
    seen: HashSet<u128>,
    loaded: HashSet<PartitionKey>,
    writers: HashMap<PartitionKey, PartitionWriter>,
    parts: Vec<String>,
    encoder: writer::Encoder,
}

impl<'l> LakeState<'l> {
    fn new(lake: &'l Location, opts: &'l IngestOptions) -> Self {
        LakeState {
            lake,
            opts,
            seen: HashSet::new(),
            loaded: HashSet::new(),
            writers: HashMap::new(),
            parts: Vec::new(),
            encoder: writer::Encoder::start(lake.clone()),
        }
    }

    /// Appends the new rows of `builder` to its partition; returns (written, duplicates).
    fn append(&mut self, key: PartitionKey, builder: &mut EventBatchBuilder) -> Result<(u64, u64)> {
        if self.loaded.insert(key) {
            self.seen.extend(existing_keys(self.lake, &partition_dir(key))?);
        }
        let keep: Vec<bool> = builder.keys().iter().map(|k| self.seen.insert(*k)).collect();
        let batch = builder.finish();
        let dups = keep.iter().filter(|k| !**k).count();
        let batch = if dups == 0 {
            batch
        } else {
            arrow::compute::filter_record_batch(&batch, &keep.into())
                .map_err(|e| crate::Error::Internal(format!("dedup filter: {e}")))?
        };
        let written = batch.num_rows();
        let w = self.writers.entry(key).or_insert_with(|| PartitionWriter::new(key));
        w.push(batch);
        if w.rows() >= self.opts.part_rows {
            self.flush(key)?;
        }
        // Half the budget for buffers, half for the part the encoder holds (see
        // `IngestOptions::memory_budget_bytes`).
        let buffered: usize = self.writers.values().map(PartitionWriter::bytes).sum();
        if buffered > self.opts.memory_budget_bytes / 2 {
            if let Some(largest) = self.writers.iter().max_by_key(|(_, w)| w.bytes()).map(|(k, _)| *k) {
                self.flush(largest)?;
            }
        }
        Ok((written as u64, dups as u64))
    }

    fn flush(&mut self, key: PartitionKey) -> Result<()> {
        if let Some(w) = self.writers.get_mut(&key) {
            if let Some(job) = w.take_part(&self.opts.run_uid) {
                self.parts.push(job.rel.clone());
                self.encoder.send(job)?;
            }
        }
        Ok(())
    }

    /// Writes what is still buffered. These last parts are usually most of a run's data
    /// (a run smaller than the memory budget flushes nothing before), so they are encoded
    /// in parallel rather than queued on the one encoder thread.
    fn finish(mut self) -> Result<Vec<String>> {
        self.encoder.finish()?;
        let mut keys: Vec<PartitionKey> = self.writers.keys().copied().collect();
        keys.sort();
        let run_uid = &self.opts.run_uid;
        let jobs: Vec<writer::PartJob> = keys.iter().filter_map(|k| self.writers.get_mut(k).and_then(|w| w.take_part(run_uid))).collect();
        let lake = self.lake;
        jobs.par_iter().try_for_each(|job| lake.put(&job.rel, Bytes::from(writer::encode_part(job)?)))?;
        self.parts.extend(jobs.into_iter().map(|j| j.rel));
        Ok(self.parts)
    }
}

#[cfg(test)]
mod tests;
