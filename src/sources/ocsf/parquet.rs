//! Amazon Security Lake OCSF Parquet objects: each row becomes the JSON record the OCSF
//! JSON reader maps ([`super::normalise_value`]), so the two shapes share one mapping.
//!
//! Reading: the footer is read once; then each row group is decoded on its own, in batches
//! of [`BATCH_ROWS`] rows converted column-wise to JSON ([`super::arrow_json`]), so a 200 MB
//! object is never held as JSON text (only its compressed bytes and one batch). Compression:
//! zstd, snappy and gzip (Security Lake writes zstd; Athena CTAS / Glue copies snappy or gzip).
//!
//! | problem | reason | locator |
//! |---|---|---|
//! | footer unreadable (truncated, not Parquet, bad magic) | `invalid_parquet` | `file` |
//! | a row group (or a batch of it) does not decode | `invalid_parquet`, detail names the row group and its row range; earlier row groups' events are kept and later ones read | `file` |
//! | no `class_uid` column | `not_ocsf` | `file` |
//! | `--format` other than `ocsf` | `format_not_supported` | `file` |
//! | one row: another class, missing field, … | as OCSF JSON (`not_api_activity` skip, `missing_time`, …), detail prefixed with the row group | `record:N`, N the 0-based row of the object |
//!
//! Every detail names the object. A quarantined row keeps its JSON text as the record.

use arrow::array::StructArray;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use serde_json::Value;

use super::arrow_json::struct_values;
use super::normalise_value;
use crate::event::Event;
use crate::schema::LogFormat;
use crate::sources::read::ReadOptions;
use crate::sources::{Locator, NormaliseOptions, Reject, Sink};

/// Rows decoded and converted at a time: enough to amortise the per-batch work, small
/// enough that one batch of wide OCSF rows stays a few MB as JSON values.
pub const BATCH_ROWS: usize = 1024;

/// True for a Parquet object: the `PAR1` magic, or a `.parquet` name (any case) on bytes
/// that are neither gzip nor JSON text, so a truncated or damaged Security Lake object is
/// reported as Parquet rather than as undecodable text.
pub(crate) fn is_parquet(name: &str, data: &[u8]) -> bool {
    data.starts_with(b"PAR1")
        || (name.to_ascii_lowercase().ends_with(".parquet")
            && !data.starts_with(&[0x1f, 0x8b])
            && !matches!(data.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[')))
}

/// Reads one Parquet object named `name` (used in messages) into `sink`; see the module
/// table for what is quarantined. Never fails: problems go to the sink.
pub(crate) fn read(name: &str, data: &[u8], opts: &ReadOptions, sink: &mut dyn Sink) {
    let file_reject = |sink: &mut dyn Sink, reason, detail: String| sink.reject(&Reject::quarantine(reason, detail), Locator::File, None);
    if let Some(f) = opts.format.filter(|f| *f != LogFormat::Ocsf) {
        let detail = format!("`{name}` is a Parquet object; Parquet is read as OCSF (Amazon Security Lake) only, not as `{f}`");
        return file_reject(sink, "format_not_supported", detail);
    }
    // The reader wants an owned buffer: one copy of the compressed object.
    let bytes = Bytes::copy_from_slice(data);
    let meta = match ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::new()) {
        Ok(m) => m,
        Err(e) => return file_reject(sink, "invalid_parquet", format!("`{name}`: Parquet footer unreadable ({} bytes): {e}", data.len())),
    };
    if meta.schema().field_with_name("class_uid").is_err() {
        let cols: Vec<&str> = meta.schema().fields().iter().map(|f| f.name().as_str()).take(8).collect();
        let detail = format!("`{name}`: Parquet object has no `class_uid` column, so it is not OCSF (columns {cols:?}…)");
        return file_reject(sink, "not_ocsf", detail);
    }
    let groups = meta.metadata().row_groups();
    // Uncompressed column bytes: the closest figure to the text size that sinks size by.
    sink.text_size(groups.iter().map(|g| usize::try_from(g.total_byte_size()).unwrap_or(0)).sum());
    let nopts = NormaliseOptions { keep_raw: opts.keep_raw };
    // One row's JSON text, reused across rows.
    let mut text = Vec::new();
    let mut first_row = 0usize;
    for (g, group) in groups.iter().enumerate() {
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        let mut row = first_row;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes.clone(), meta.clone())
            .with_row_groups(vec![g])
            .with_batch_size(BATCH_ROWS)
            .build();
        let failed = match reader {
            Err(e) => Some(e.to_string()),
            Ok(batches) => {
                let mut failed = None;
                for batch in batches {
                    match batch {
                        Ok(b) => {
                            let n = b.num_rows();
                            for (i, mut v) in struct_values(&StructArray::from(b)).into_iter().enumerate() {
                                one_row(&mut v, g, Locator::Record(row + i), &nopts, &mut text, sink);
                            }
                            row += n;
                        }
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                }
                failed
            }
        };
        if let Some(e) = failed {
            let detail = format!(
                "`{name}`: row group {g} of {} (rows {row}..{}) does not decode: {e}",
                groups.len(),
                first_row + rows
            );
            file_reject(sink, "invalid_parquet", detail);
        }
        first_row += rows;
    }
}

/// Normalises one row's JSON and hands the event or rejection to `sink`; `buf` is scratch
/// space for the row's text (`raw_event`, or the quarantine record).
fn one_row(v: &mut Value, group: usize, loc: Locator, opts: &NormaliseOptions, buf: &mut Vec<u8>, sink: &mut dyn Sink) {
    // serde_json writes UTF-8 and cannot fail on a `Value` (its map keys are strings).
    let write = |buf: &mut Vec<u8>, v: &Value| {
        buf.clear();
        serde_json::to_writer(&mut *buf, v).expect("a JSON value serialises");
    };
    if opts.keep_raw {
        write(buf, v);
    } else {
        buf.clear();
    }
    let mut out: Vec<Event<'_>> = Vec::with_capacity(1);
    let text = std::str::from_utf8(buf).unwrap_or_default();
    match normalise_value(v, text, opts, &mut out) {
        Ok(()) => out.iter().for_each(|e| sink.event(e, loc)),
        Err(mut r) => {
            drop(out);
            r.detail = format!("row group {group}: {}", r.detail);
            // Without `raw_event` the text is only needed now, for the quarantine record.
            if !opts.keep_raw {
                write(buf, v);
            }
            sink.reject(&r, loc, Some(std::str::from_utf8(buf).unwrap_or_default()));
        }
    }
}

#[cfg(test)]
mod tests;
