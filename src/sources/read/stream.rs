//! Large gzip objects read without holding their inflated text: the elements of a
//! top-level `Records` / `records` / `value` array are handed out one at a time, borrowed
//! from a window of about [`WINDOW`] bytes of inflated text that slides along the stream.
//! Each value is cut out with serde_json's slice parser (a `&RawValue`, which checks the
//! value's syntax and UTF-8 as the in-memory path's `from_utf8` and `from_str` do); only the
//! punctuation of the top-level object and array is matched here.
//!
//! Two passes over the compressed bytes, because a record handed to the sink cannot be taken
//! back: the first ([`survey`]) inflates and parses the whole document without keeping it and
//! enforces the size limit; only a document that passes, with
//! the keys the in-memory framing would stream from, is read by the second pass
//! ([`walk`] again, dispatching). Anything else (JSON lines, broken JSON, broken gzip, duplicate
//! keys, a digest or single-record document) falls back to the in-memory path, which
//! decides, quarantines and counts exactly as before. The cost is inflating a large object
//! twice, paid only above [`STREAM_ABOVE`].
//!
//! Known difference: the in-memory path parses non-CloudTrail documents into a
//! `serde_json::Map`, which refuses nesting deeper than 128 levels (`invalid_json` for the
//! file); the stream path hands such records to the normaliser, which rejects them one by one.

use std::collections::HashSet;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

use super::{gunzip, gunzip_upto, size_limit, Dispatcher, ReadOptions};
use crate::schema::LogFormat;
use crate::sources::detect::{self, Document};
use crate::sources::{Locator, Reject, Sink};

/// Inflated size (bytes) above which a gzip object's JSON is streamed rather than held:
/// 32 MiB, far above a CloudTrail delivery (usually under 1 MB inflated) so that the
/// common object pays for one inflate only.
pub const STREAM_ABOVE: u64 = 32 << 20;

/// Bytes inflated per refill of the window; a value longer than the window doubles it.
const WINDOW: usize = 1 << 20;
/// Inflates `data` when it holds at most `stream_above` bytes (`Ok(Some)`), or reads it as
/// a stream straight into `sink` (`Ok(None)`), or inflates it whole as before when it
/// cannot be streamed. `Err` is the file-level rejection (gzip damage, size limit).
pub(super) fn gunzip_or_stream(data: &[u8], opts: &ReadOptions, sink: &mut dyn Sink, stream_above: u64) -> Result<Option<Vec<u8>>, Reject> {
    let cap = opts.max_decompressed_bytes;
    if cap <= stream_above {
        return gunzip(data, cap).map(Some);
    }
    if let Some(v) = gunzip_upto(data, stream_above)? {
        return Ok(Some(v));
    }
    match survey(data, cap) {
        Survey::Stream { key, only_key, text_bytes } => {
            // `{"Records":[...]}` alone is CloudTrail's own object: the in-memory path
            // forces the format for it (`frame_object`), and so does this one.
            let forced = if key == "Records" && only_key && matches!(opts.format, None | Some(LogFormat::CloudTrail)) {
                ReadOptions { format: Some(LogFormat::CloudTrail), ..*opts }
            } else {
                *opts
            };
            sink.text_size(text_bytes);
            stream_records(data, key, &forced, sink);
            Ok(None)
        }
        Survey::OverCap => Err(size_limit(cap)),
        Survey::Fallback => gunzip(data, cap).map(Some),
    }
}

/// What the first pass found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Survey {
    /// One JSON object whose records are the array under `key`; `only_key`: it has no other
    /// key; `text_bytes`: the decoded text's size (without a byte-order mark).
    Stream { key: &'static str, only_key: bool, text_bytes: usize },
    /// More than the size limit inflates.
    OverCap,
    /// Read it in memory.
    Fallback,
}

/// Counts the bytes the decoder delivers and fails once more than `cap` have come.
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(io::Error::other("decompressed size limit"));
        }
        Ok(n)
    }
}

/// Why a pass stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// More than the size limit inflates.
    OverCap,
    /// The gzip stream is damaged.
    Gzip,
    /// The text is not the JSON this path reads.
    Json,
}

/// The inflated text, held a window at a time.
struct Cursor<'d> {
    dec: Capped<MultiGzDecoder<&'d [u8]>>,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<'d> Cursor<'d> {
    /// Opens the stream past a UTF-8 byte-order mark; also returns the mark's length.
    fn open(data: &'d [u8], cap: u64) -> Result<(Self, usize), Fail> {
        let mut c = Cursor { dec: Capped { inner: MultiGzDecoder::new(data), read: 0, cap }, buf: Vec::new(), pos: 0, eof: false };
        while c.buf.len() < 3 && c.fill()? {}
        let bom = if c.buf.starts_with(&[0xef, 0xbb, 0xbf]) { 3 } else { 0 };
        c.pos = bom;
        Ok((c, bom))
    }

    /// Inflates more text after what is unread; `false` at the end of the stream.
    fn fill(&mut self) -> Result<bool, Fail> {
        if self.eof {
            return Ok(false);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let old = self.buf.len();
        self.buf.resize(old + WINDOW.max(old), 0);
        let mut got = old;
        while got < self.buf.len() {
            match self.dec.read(&mut self.buf[got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(_) => {
                    self.buf.truncate(got);
                    return Err(if self.dec.read > self.dec.cap { Fail::OverCap } else { Fail::Gzip });
                }
            }
        }
        self.buf.truncate(got);
        Ok(got > old)
    }

    /// The next byte after JSON white space (not consumed); `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Fail> {
        loop {
            while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.buf.get(self.pos) {
                self.pos += 1;
            }
            if self.pos < self.buf.len() || !self.fill()? {
                return Ok(self.buf.get(self.pos).copied());
            }
        }
    }

    /// Consumes the next non-white-space byte, which must be `b`.
    fn expect(&mut self, b: u8) -> Result<(), Fail> {
        if self.peek()? != Some(b) {
            return Err(Fail::Json);
        }
        self.pos += 1;
        Ok(())
    }

    /// The next JSON value's text. A value that ends at the end of the window may go on
    /// (a number, or one cut by the window): the window then grows until a byte follows it.
    fn value(&mut self) -> Result<&str, Fail> {
        if self.peek()?.is_none() {
            return Err(Fail::Json);
        }
        loop {
            let mut it = serde_json::Deserializer::from_slice(&self.buf[self.pos..]).into_iter::<&RawValue>();
            let len = match it.next() {
                Some(Ok(v)) => Ok(v.get().len()),
                Some(Err(e)) => Err(e.is_eof()),
                None => Err(true),
            };
            match len {
                Ok(n) if self.pos + n < self.buf.len() || self.eof => {
                    let at = self.pos;
                    self.pos += n;
                    return std::str::from_utf8(&self.buf[at..at + n]).map_err(|_| Fail::Json);
                }
                Ok(_) | Err(true) if !self.eof => {
                    self.fill()?;
                }
                _ => return Err(Fail::Json),
            }
        }
    }
}

/// The array keys the in-memory framing streams from ([`detect::classify_document`]).
const ARRAY_KEYS: [&str; 3] = ["Records", "records", "value"];

/// Walks one top-level JSON object to the end of the stream: the elements of the
/// [`ARRAY_KEYS`] arrays one at a time (passed to `each` with their key and index), other
/// values whole. Returns the keys in order, each with whether its value is an array. The
/// values of [`ARRAY_KEYS`] must be arrays (the in-memory path's `Pick` refuses anything
/// else); nothing but white space may follow the object.
fn walk(c: &mut Cursor<'_>, each: &mut dyn FnMut(&str, usize, &str)) -> Result<Vec<(String, bool)>, Fail> {
    let mut keys = Vec::new();
    c.expect(b'{')?;
    if c.peek()? == Some(b'}') {
        c.pos += 1;
    } else {
        loop {
            let k: String = serde_json::from_str(c.value()?).map_err(|_| Fail::Json)?;
            c.expect(b':')?;
            let is_array = if ARRAY_KEYS.contains(&k.as_str()) {
                c.expect(b'[')?;
                if c.peek()? == Some(b']') {
                    c.pos += 1;
                } else {
                    for i in 0.. {
                        each(&k, i, c.value()?);
                        match c.peek()? {
                            Some(b',') => c.pos += 1,
                            Some(b']') => {
                                c.pos += 1;
                                break;
                            }
                            _ => return Err(Fail::Json),
                        }
                    }
                }
                true
            } else {
                c.value()?.starts_with('[')
            };
            keys.push((k, is_array));
            match c.peek()? {
                Some(b',') => c.pos += 1,
                Some(b'}') => {
                    c.pos += 1;
                    break;
                }
                _ => return Err(Fail::Json),
            }
        }
    }
    match c.peek()? {
        None => Ok(keys),
        Some(_) => Err(Fail::Json),
    }
}

/// First pass: parses the whole document without keeping it.
pub(super) fn survey(data: &[u8], cap: u64) -> Survey {
    let walked = Cursor::open(data, cap).and_then(|(mut c, bom)| walk(&mut c, &mut |_, _, _| {}).map(|k| (k, c.dec.read, bom)));
    let (keys, read, bom) = match walked {
        Ok(k) => k,
        Err(Fail::OverCap) => return Survey::OverCap,
        Err(Fail::Gzip) => return Survey::Fallback,
        // A JSON error may come before a size-limit breach further on: the in-memory path
        // would report the limit, so look for it without keeping the bytes.
        Err(Fail::Json) => return over_cap_or_fallback(data, cap),
    };
    let text_bytes = (read as usize).saturating_sub(bom);
    let mut seen = HashSet::new();
    if !keys.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Survey::Fallback;
    }
    // Stand-in values: `classify_document` looks only at the keys and whether a value is an
    // array, so the decision is the in-memory path's own.
    let map: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|(k, is_array)| (k.clone(), if *is_array { serde_json::Value::Array(Vec::new()) } else { serde_json::Value::Null }))
        .collect();
    let key = match detect::classify_document(&map) {
        Document::CloudTrailRecords => ARRAY_KEYS[0],
        Document::AzureRecords => ARRAY_KEYS[1],
        Document::GraphPage => ARRAY_KEYS[2],
        _ => return Survey::Fallback,
    };
    Survey::Stream { key, only_key: keys.len() == 1, text_bytes }
}

/// Drains the stream to tell a size-limit breach from anything else.
fn over_cap_or_fallback(data: &[u8], cap: u64) -> Survey {
    let mut c = Capped { inner: MultiGzDecoder::new(data), read: 0, cap };
    match io::copy(&mut c, &mut io::sink()) {
        Err(_) if c.read > cap => Survey::OverCap,
        _ => Survey::Fallback,
    }
}

/// Second pass: dispatches each element of the array under `key`, in order, as
/// `record:<index>`.
fn stream_records(data: &[u8], key: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    let mut d = Dispatcher::new(opts);
    let mut each = |k: &str, i: usize, rec: &str| {
        if k == key {
            let mut out = Vec::with_capacity(1);
            d.record(Locator::Record(i), rec, &mut out, sink);
        }
    };
    let walked = Cursor::open(data, u64::MAX).and_then(|(mut c, _)| walk(&mut c, &mut each));
    if let Err(e) = walked {
        // The first pass read these same bytes, so this needs the input to change under us;
        // say so rather than lose it.
        sink.reject(
            &Reject::quarantine("invalid_json", format!("streamed JSON document failed on the second pass ({e:?})")),
            Locator::File,
            None,
        );
    }
}
