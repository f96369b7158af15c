//! Parquet writing for the lake: writer properties kept in one tested place, per-partition
//! buffers, and a background encoder thread so that Parquet encoding and compression
//! overlap with parsing.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use arrow::array::{Array, RecordBatch, StringArray};
use arrow::compute::{concat, interleave_record_batch, sort_to_indices};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::{partition_dir, PartitionKey};
use crate::event::dedup_key;
use crate::schema::{self, event_schema};
use crate::storage::Location;
use crate::{Error, Result};

/// Writer properties of every lake Parquet file: zstd level 1 (fast, and JSON text
/// compresses ~10×), 128 Ki-row row groups, no dictionary or statistics on the large
/// free-text columns (a dictionary there only costs a fallback; min/max of JSON is useless).
pub fn parquet_props() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("zstd level 1 is valid")))
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_created_by(format!("cloudsift {}", env!("CARGO_PKG_VERSION")));
    for col in [schema::RAW_EVENT, schema::REQUEST_PARAMS, schema::RESPONSE_ELEMENTS, schema::EVENT_UID, schema::ERROR_MESSAGE, schema::SOURCE_LOCATOR] {
        let path = ColumnPath::from(col);
        b = b.set_column_dictionary_enabled(path.clone(), false);
        b = b.set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    b.build()
}

/// Rows of one partition waiting to be written.
pub struct PartitionWriter {
    key: PartitionKey,
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
    seq: usize,
}

/// One part file to encode and put.
pub struct PartJob {
    /// Path relative to the lake root.
    pub rel: String,
    pub batches: Vec<RecordBatch>,
}

impl PartitionWriter {
    pub fn new(key: PartitionKey) -> Self {
        PartitionWriter { key, batches: Vec::new(), rows: 0, bytes: 0, seq: 0 }
    }

    pub fn push(&mut self, batch: RecordBatch) {
        self.rows += batch.num_rows();
        self.bytes += batch.get_array_memory_size();
        self.batches.push(batch);
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Approximate memory held, bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Takes the buffered rows as a part job (`None` when empty).
    pub fn take_part(&mut self, run_uid: &str) -> Option<PartJob> {
        if self.rows == 0 {
            return None;
        }
        let rel = format!("{}/part-{run_uid}-{:04}.parquet", partition_dir(self.key), self.seq);
        self.seq += 1;
        self.rows = 0;
        self.bytes = 0;
        Some(PartJob { rel, batches: std::mem::take(&mut self.batches) })
    }
}

/// Rows gathered at a time, in sorted order, from a part's batches for the Parquet writer
/// (5–10 MB with `raw_event`).
const ENCODE_SLICE_ROWS: usize = 4096;

/// Encodes one part: rows sorted by time (row groups are then time-ordered, so time
/// filters prune them), zstd Parquet in memory.
///
/// Only the time column is concatenated and sorted; the rows are then gathered from the
/// part's batches [`ENCODE_SLICE_ROWS`] at a time, so encoding holds the part once plus a
/// slice (not a concatenated copy and a sorted copy). The order is the one a sort of the
/// concatenated part gives.
///
/// # Errors
/// [`Error::Lake`] when Arrow or Parquet fails.
pub fn encode_part(job: &PartJob) -> Result<Vec<u8>> {
    let schema = event_schema();
    let err = |e: &dyn std::fmt::Display| Error::lake(&job.rel, e);
    let times: Vec<&dyn Array> = job.batches.iter().map(|b| b.column_by_name(schema::TIME).expect("lake schema has time").as_ref()).collect();
    let time = concat(&times).map_err(|e| err(&e))?;
    let order = sort_to_indices(&time, None, None).map_err(|e| err(&e))?;
    drop(time);
    // Row `g` of the concatenation is row `g - starts[b]` of batch `b`.
    let mut starts = Vec::with_capacity(job.batches.len());
    let mut rows = 0usize;
    for b in &job.batches {
        starts.push(rows);
        rows += b.num_rows();
    }
    let batches: Vec<&RecordBatch> = job.batches.iter().collect();
    let bytes: usize = job.batches.iter().map(RecordBatch::get_array_memory_size).sum();
    let mut buf = Vec::with_capacity(bytes / 6);
    let mut w = ArrowWriter::try_new(&mut buf, schema, Some(parquet_props())).map_err(|e| err(&e))?;
    let mut at: Vec<(usize, usize)> = Vec::with_capacity(ENCODE_SLICE_ROWS);
    for slice in order.values().chunks(ENCODE_SLICE_ROWS) {
        at.clear();
        at.extend(slice.iter().map(|&g| {
            let g = g as usize;
            let b = starts.partition_point(|&s| s <= g) - 1;
            (b, g - starts[b])
        }));
        let rows = interleave_record_batch(&batches, &at).map_err(|e| err(&e))?;
        w.write(&rows).map_err(|e| err(&e))?;
    }
    w.close().map_err(|e| err(&e))?;
    Ok(buf)
}

/// A background thread that encodes and puts part files. It takes a part only when it has
/// finished the previous one (a rendezvous channel), so at most one part is held by it and
/// a flush waits while it is busy: the writer's buffers plus that part stay within the
/// memory budget when parsing outruns encoding.
pub struct Encoder {
    tx: Option<SyncSender<PartJob>>,
    handle: Option<JoinHandle<Result<()>>>,
}

impl Encoder {
    pub fn start(lake: Location) -> Self {
        let (tx, rx) = sync_channel::<PartJob>(0);
        let handle = std::thread::Builder::new()
            .name("cloudsift-encoder".into())
            .spawn(move || -> Result<()> {
                for job in rx {
                    let bytes = encode_part(&job)?;
                    lake.put(&job.rel, Bytes::from(bytes))?;
                }
                Ok(())
            })
            .expect("encoder thread starts");
        Encoder { tx: Some(tx), handle: Some(handle) }
    }

    /// Hands over a part; blocks while the encoder is busy with the previous one.
    ///
    /// # Errors
    /// The encoder's own error when it has stopped on one.
    pub fn send(&mut self, job: PartJob) -> Result<()> {
        let tx = self.tx.as_ref().expect("encoder not finished");
        if tx.send(job).is_err() {
            return self.join();
        }
        Ok(())
    }

    /// Waits for every queued part to be written.
    ///
    /// # Errors
    /// The first encoding or storage error.
    pub fn finish(&mut self) -> Result<()> {
        self.tx.take();
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        self.tx.take();
        match self.handle.take() {
            Some(h) => h.join().map_err(|_| Error::Internal("encoder thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Dedup keys of the rows already in a partition folder (reads three columns only).
///
/// # Errors
/// Storage or Parquet failures, naming the file.
pub fn existing_keys(lake: &Location, dir: &str) -> Result<Vec<u128>> {
    let mut keys = Vec::new();
    for (rel, _) in lake.list_rel(dir)? {
        if !rel.ends_with(".parquet") {
            continue;
        }
        let Some(bytes) = lake.get_rel(&rel)? else { continue };
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| Error::lake(&rel, e))?;
        let names = [schema::PROVIDER, schema::ACCOUNT_UID, schema::EVENT_UID];
        let idx: Vec<usize> = names
            .iter()
            .map(|n| builder.schema().index_of(n).map_err(|e| Error::lake(&rel, e)))
            .collect::<Result<_>>()?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
        let reader = builder.with_projection(mask).build().map_err(|e| Error::lake(&rel, e))?;
        for batch in reader {
            let batch = batch.map_err(|e| Error::lake(&rel, e))?;
            let col = |n: &str| -> Result<StringArray> {
                batch
                    .column_by_name(n)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
                    .ok_or_else(|| Error::lake(&rel, format!("column {n} is not text")))
            };
            let (p, a, u) = (col(schema::PROVIDER)?, col(schema::ACCOUNT_UID)?, col(schema::EVENT_UID)?);
            for i in 0..p.len() {
                keys.push(dedup_key(p.value(i), a.value(i), u.value(i)));
            }
        }
    }
    Ok(keys)
}
