//! Reading one object: decompression, text decoding, framing into records, and dispatch of
//! each record to its format's normaliser.
//!
//! Framing, by content: a gzip stream (magic `1f 8b`) is inflated first (capped at
//! [`ReadOptions::max_decompressed_bytes`]); then a leading `{` is one JSON document
//! (`{"Records":[...]}`, `{"records":[...]}`, `{"value":[...]}` or one record) unless more
//! values follow on later lines (JSON lines); a leading `[` is a JSON array of records;
//! anything else is CSV (Excel's `sep=` line honoured). UTF-8 and UTF-16 LE byte-order
//! marks are honoured. A Parquet object (`PAR1` magic, plain or inside gzip, or a damaged
//! `*.parquet`) is read row group by row group as Security Lake OCSF ([`super::ocsf::parquet`]).
//!
//! A gzip object that inflates to more than [`stream::STREAM_ABOVE`] bytes is not held
//! whole when its framing allows: a `{"Records":[...]}`-style document is checked in one
//! streaming pass and its records handed out one by one in a second ([`stream`]), so the
//! decompressed text never sits in memory. Whatever that path cannot prove it reads exactly
//! as the in-memory path would falls back to the in-memory path.

mod stream;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::detect::{self, Document};
use super::ocsf::parquet;
use super::{normaliser, Locator, NormaliseOptions, Reject, Sink};
use crate::event::Event;
use crate::schema::LogFormat;

/// How to read objects.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Force one format (`--format`); `None` detects it from each object's content.
    pub format: Option<LogFormat>,
    /// Largest decompressed object accepted, in bytes; a larger one is quarantined as
    /// `decompressed_size_limit` instead of exhausting memory.
    pub max_decompressed_bytes: u64,
    /// Keep each whole record in `raw_event`.
    pub keep_raw: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { format: None, max_decompressed_bytes: 1 << 30, keep_raw: true }
    }
}

/// Counts of what one object gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectStats {
    pub events: u64,
    pub quarantined: u64,
    pub skipped: u64,
}

/// Reads one object named `name` (a key or path, used only in messages and for the
/// directory-marker rule) and hands every event and rejection to `sink`.
pub fn read_object(name: &str, data: &[u8], opts: &ReadOptions, sink: &mut dyn Sink) -> ObjectStats {
    let mut counting = Counting { inner: sink, stats: ObjectStats::default() };
    read_into(name, data, opts, &mut counting);
    counting.stats
}

struct Counting<'s> {
    inner: &'s mut dyn Sink,
    stats: ObjectStats,
}

impl Sink for Counting<'_> {
    fn event(&mut self, event: &Event<'_>, locator: Locator) {
        self.stats.events += 1;
        self.inner.event(event, locator);
    }
    fn reject(&mut self, reject: &Reject, locator: Locator, record: Option<&str>) {
        if reject.skip {
            self.stats.skipped += 1;
        } else {
            self.stats.quarantined += 1;
        }
        self.inner.reject(reject, locator, record);
    }
    fn text_size(&mut self, bytes: usize) {
        self.inner.text_size(bytes);
    }
}

/// The decoded size of an object as far as its bytes tell without inflating it: its length,
/// or for gzip the size its last member's trailer records (ISIZE, modulo 2^32), which for
/// the usual single-member object is its whole inflated size. A hint for scheduling
/// (e.g. reading a large object apart from the small ones), never for limits.
pub fn decoded_size_hint(data: &[u8]) -> u64 {
    match data {
        [0x1f, 0x8b, .., a, b, c, d] if data.len() >= 18 => u64::from(u32::from_le_bytes([*a, *b, *c, *d])).max(data.len() as u64),
        _ => data.len() as u64,
    }
}

fn read_into(name: &str, data: &[u8], opts: &ReadOptions, sink: &mut dyn Sink) {
    read_into_with(name, data, opts, sink, stream::STREAM_ABOVE);
}

/// [`read_into`] with the inflated size above which gzip JSON is streamed (tests lower it).
fn read_into_with(name: &str, data: &[u8], opts: &ReadOptions, sink: &mut dyn Sink, stream_above: u64) {
    if data.is_empty() {
        let r = if name.ends_with('/') {
            Reject::skip("directory_marker", "zero-byte key ending in `/`")
        } else {
            Reject::quarantine("empty_object", "object has 0 bytes; a log delivery was expected")
        };
        return sink.reject(&r, Locator::File, None);
    }
    if parquet::is_parquet(name, data) {
        return parquet::read(name, data, opts, sink);
    }
    let inflated;
    let bytes: &[u8] = if data.starts_with(&[0x1f, 0x8b]) {
        match stream::gunzip_or_stream(data, opts, sink, stream_above) {
            Ok(Some(v)) => {
                inflated = v;
                &inflated
            }
            Ok(None) => return,
            Err(r) => return sink.reject(&r, Locator::File, None),
        }
    } else {
        data
    };
    if bytes.is_empty() {
        return sink.reject(&Reject::quarantine("empty_object", "gzip stream holds 0 bytes"), Locator::File, None);
    }
    if bytes.starts_with(b"PAR1") {
        return parquet::read(name, bytes, opts, sink);
    }
    let text = match decode_text(bytes) {
        Ok(t) => t,
        Err(r) if looks_like_json_lines(bytes) => return frame_lines_bytes(bytes, &r, opts, sink),
        Err(r) => return sink.reject(&r, Locator::File, None),
    };
    sink.text_size(text.len());
    frame(&text, opts, sink);
}

/// More than one line and a first line that opens a JSON object.
fn looks_like_json_lines(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    let first = body.iter().position(|b| !b.is_ascii_whitespace()).map(|i| body[i]);
    first == Some(b'{') && body.iter().filter(|&&b| b == b'\n').count() > 1
}

/// JSON lines holding some bytes that are not UTF-8: one bad byte must cost its own line,
/// not the file, so each line is decoded on its own and the bad ones are quarantined.
fn frame_lines_bytes(bytes: &[u8], why: &Reject, opts: &ReadOptions, sink: &mut dyn Sink) {
    let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    let mut good: Vec<(Locator, &str)> = Vec::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(t) => good.push((Locator::Line(i + 1), t.trim_end())),
            Err(e) => sink.reject(
                &Reject::quarantine("invalid_encoding", format!("{}; this line: {e}", why.detail)),
                Locator::Line(i + 1),
                None,
            ),
        }
    }
    dispatch(good.into_iter(), opts, sink);
}

/// Inflates a (possibly multi-member) gzip stream.
fn gunzip(data: &[u8], cap: u64) -> Result<Vec<u8>, Reject> {
    gunzip_upto(data, cap)?.ok_or_else(|| size_limit(cap))
}

/// The object is larger than the decompressed size limit `cap` (bytes).
fn size_limit(cap: u64) -> Reject {
    Reject::quarantine("decompressed_size_limit", format!("decompressed size exceeds the limit of {cap} bytes"))
}

/// Inflates a gzip stream if it holds at most `limit` bytes; `Ok(None)` when it holds more
/// (only the first `limit + 1` bytes are inflated to find that out).
fn gunzip_upto(data: &[u8], limit: u64) -> Result<Option<Vec<u8>>, Reject> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(8).min(limit as usize));
    let mut dec = MultiGzDecoder::new(data).take(limit + 1);
    match dec.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Ok(None),
        Ok(_) => Ok(Some(out)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Reject::quarantine(
            "truncated_gzip",
            format!("gzip stream ends before its trailer after {} bytes: {e}", out.len()),
        )),
        Err(e) => Err(Reject::quarantine("invalid_gzip", format!("gzip stream is corrupt: {e}"))),
    }
}

/// UTF-8 (BOM stripped) or UTF-16 LE/BE with a BOM, as text.
fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, Reject> {
    let utf16 = |b: &[u8], le: bool| -> Result<Cow<'_, str>, Reject> {
        let units = b.chunks_exact(2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(Cow::Owned)
            .map_err(|e| Reject::quarantine("invalid_encoding", format!("invalid UTF-16: {e}")))
    };
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return std::str::from_utf8(rest).map(Cow::Borrowed).map_err(utf8_error);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return utf16(rest, false);
    }
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(utf8_error)
}

fn utf8_error(e: std::str::Utf8Error) -> Reject {
    Reject::quarantine("invalid_encoding", format!("not UTF-8 (and no UTF-16 byte-order mark): {e}"))
}

fn frame(text: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    // A second byte-order mark (UTF-8 text with a BOM re-saved as UTF-16) is not content.
    let body = text.trim_start_matches('\u{feff}').trim_start();
    match body.as_bytes().first() {
        Some(b'{') => frame_object(body, opts, sink),
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(body) {
            Ok(items) => dispatch(items.iter().enumerate().map(|(i, r)| (Locator::Record(i), r.get())), opts, sink),
            Err(e) => sink.reject(&Reject::quarantine("invalid_json", format!("JSON array: {e}")), Locator::File, None),
        },
        Some(_) => super::csv_rows::frame_csv(body, opts, sink),
        None => sink.reject(&Reject::quarantine("empty_object", "object holds only white space"), Locator::File, None),
    }
}

/// The usual CloudTrail object has only a `Records` key: read it in one pass.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudTrailObject<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

fn frame_object(body: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    if let Ok(obj) = serde_json::from_str::<CloudTrailObject<'_>>(body) {
        if matches!(opts.format, None | Some(LogFormat::CloudTrail)) {
            let forced = ReadOptions { format: Some(LogFormat::CloudTrail), ..*opts };
            return dispatch(obj.records.iter().enumerate().map(|(i, r)| (Locator::Record(i), r.get())), &forced, sink);
        }
    }
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<&RawValue>();
    let first = stream.next();
    let rest_is_blank = body[stream.byte_offset()..].trim().is_empty();
    match first {
        Some(Ok(_)) if rest_is_blank => frame_document(body, opts, sink),
        // More values follow: JSON lines (or concatenated JSON).
        Some(Ok(_)) => frame_lines(body, opts, sink),
        Some(Err(e)) => {
            // A broken first line in a JSON-lines file must not hide the good lines.
            let lines = body.lines().filter(|l| !l.trim().is_empty()).count();
            let first_line = body.lines().next().unwrap_or_default();
            if lines > 1 && (serde_json::from_str::<&RawValue>(first_line).is_ok() || body.lines().skip(1).any(|l| serde_json::from_str::<&RawValue>(l).is_ok())) {
                frame_lines(body, opts, sink)
            } else {
                sink.reject(&Reject::quarantine("invalid_json", format!("JSON document: {e}")), Locator::File, None)
            }
        }
        None => sink.reject(&Reject::quarantine("empty_object", "no JSON value"), Locator::File, None),
    }
}

fn frame_document(body: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    let map: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(body) {
        Ok(m) => m,
        Err(e) => return sink.reject(&Reject::quarantine("invalid_json", e.to_string()), Locator::File, None),
    };
    let array_of = |key: &str| -> Option<Vec<&RawValue>> {
        // Re-borrow the array's items from `body` so events can borrow from it.
        #[derive(Deserialize)]
        struct Pick<'a> {
            #[serde(borrow, default)]
            #[serde(rename = "Records")]
            upper: Option<Vec<&'a RawValue>>,
            #[serde(borrow, default)]
            records: Option<Vec<&'a RawValue>>,
            #[serde(borrow, default)]
            value: Option<Vec<&'a RawValue>>,
        }
        let pick: Pick<'_> = serde_json::from_str(body).ok()?;
        match key {
            "Records" => pick.upper,
            "records" => pick.records,
            _ => pick.value,
        }
    };
    let forced = opts.format;
    let doc = detect::classify_document(&map);
    let records_of = |key: &str, sink: &mut dyn Sink| match array_of(key) {
        Some(items) => dispatch(items.iter().enumerate().map(|(i, r)| (Locator::Record(i), r.get())), opts, sink),
        None => sink.reject(&Reject::quarantine("invalid_json", format!("`{key}` is not an array of records")), Locator::File, None),
    };
    match (doc, forced) {
        (Document::CloudTrailDigest, _) => sink.reject(
            &Reject::skip("cloudtrail_digest", "CloudTrail digest file (integrity data, no events)"),
            Locator::File,
            None,
        ),
        (Document::AwsConfig, Some(LogFormat::CloudTrail)) => sink.reject(
            &Reject::skip("not_cloudtrail", "AWS Config snapshot or history file in the trail prefix"),
            Locator::File,
            None,
        ),
        (Document::AwsConfig, _) => sink.reject(&Reject::skip("aws_config", "AWS Config snapshot or history file"), Locator::File, None),
        (Document::CloudTrailRecords, _) => records_of("Records", sink),
        (Document::AzureRecords, _) => records_of("records", sink),
        (Document::GraphPage, _) => records_of("value", sink),
        (Document::Single, Some(LogFormat::CloudTrail)) if detect::detect_record(&map) != Some(LogFormat::CloudTrail) => sink
            .reject(
                &Reject::quarantine("missing_records_array", "CloudTrail log object has no `Records` array"),
                Locator::File,
                None,
            ),
        (Document::Single, _) => dispatch(std::iter::once((Locator::Record(0), body.trim_end())), opts, sink),
    }
}

fn frame_lines(body: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    let lines = body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    dispatch(lines.map(|(i, l)| (Locator::Line(i + 1), l.trim_end())), opts, sink);
}

/// Normalises each record with the forced format or the one detected from the record.
/// Detection runs on the first record and again after a record is rejected, so a file of
/// one format pays for it once.
pub(super) fn dispatch<'a>(records: impl Iterator<Item = (Locator, &'a str)>, opts: &ReadOptions, sink: &mut dyn Sink) {
    let mut d = Dispatcher::new(opts);
    let mut out: Vec<Event<'a>> = Vec::with_capacity(1);
    for (loc, rec) in records {
        d.record(loc, rec, &mut out, sink);
    }
}

/// The state [`dispatch`] keeps between records (the format detected last), so that records
/// that arrive one at a time from a stream are dispatched exactly as a slice of them is.
struct Dispatcher {
    nopts: NormaliseOptions,
    forced: Option<LogFormat>,
    current: Option<LogFormat>,
}

impl Dispatcher {
    fn new(opts: &ReadOptions) -> Self {
        Dispatcher { nopts: NormaliseOptions { keep_raw: opts.keep_raw }, forced: opts.format, current: opts.format }
    }

    /// Normalises one record found at `loc`; `out` is scratch space (cleared here).
    fn record<'a>(&mut self, loc: Locator, rec: &'a str, out: &mut Vec<Event<'a>>, sink: &mut dyn Sink) {
        let nopts = &self.nopts;
        let format = match self.current {
            Some(f) => f,
            None => match detect_text(rec) {
                Ok(f) => f,
                Err(r) => return sink.reject(&r, loc, Some(rec)),
            },
        };
        out.clear();
        match normaliser(format).normalise(rec, nopts, out) {
            Ok(()) => {
                for e in out.iter() {
                    sink.event(e, loc);
                }
                if self.forced.is_none() {
                    self.current = Some(format);
                }
            }
            Err(r) if self.forced.is_none() && self.current.is_some() => {
                // The file may mix shapes: detect this record on its own before giving up.
                self.current = None;
                match detect_text(rec) {
                    Ok(f) if f != format => {
                        out.clear();
                        match normaliser(f).normalise(rec, nopts, out) {
                            Ok(()) => out.iter().for_each(|e| sink.event(e, loc)),
                            Err(r2) => sink.reject(&r2, loc, Some(rec)),
                        }
                    }
                    _ => sink.reject(&r, loc, Some(rec)),
                }
            }
            Err(r) => sink.reject(&r, loc, Some(rec)),
        }
    }
}

fn detect_text(rec: &str) -> Result<LogFormat, Reject> {
    let map: BTreeMap<String, serde_json::Value> = match serde_json::from_str(rec) {
        Ok(m) => m,
        Err(e) => return Err(Reject::quarantine("invalid_json", e.to_string())),
    };
    let map: serde_json::Map<String, serde_json::Value> = map.into_iter().collect();
    detect::detect_record(&map).ok_or_else(|| {
        let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
        Reject::quarantine("unrecognised_format", format!("no source format has a record with keys {keys:?}"))
    })
}
