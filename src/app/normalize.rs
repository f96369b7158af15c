//! `cloudsift normalize`: the parser check a user runs on a file, and the contract the
//! shared cases test. Events go to stdout as JSON lines (schema column names, `time` as
//! RFC 3339 UTC with `Z`), rejections to `--quarantine-out` as JSON lines, and the
//! accounting line to stderr. Duplicates are removed with the lake's rule (first seen in
//! sorted input order wins) unless `--keep-duplicates`.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use serde::Serialize;

use super::{exit, format_of};
use crate::cli::NormalizeArgs;
use crate::event::Event;
use crate::lake::QuarantineLine;
use crate::sources::{read_object, Locator, ReadOptions, Reject, Sink};
use crate::storage::Location;
use crate::{Error, Result};

#[derive(Serialize)]
struct OutEvent<'e, 'a> {
    #[serde(flatten)]
    event: &'e Event<'a>,
    source_object: &'e str,
    source_locator: String,
}

struct NormalizeSink<'w> {
    out: &'w mut dyn Write,
    quarantine: Vec<QuarantineLine>,
    seen: HashSet<u128>,
    keep_duplicates: bool,
    object: String,
    counts: Counts,
    error: Option<std::io::Error>,
}

#[derive(Default)]
struct Counts {
    read: u64,
    written: u64,
    duplicates: u64,
    quarantined: u64,
    skipped: u64,
}

impl Sink for NormalizeSink<'_> {
    fn event(&mut self, e: &Event<'_>, locator: Locator) {
        self.counts.read += 1;
        if !self.keep_duplicates && !self.seen.insert(e.dedup_key()) {
            self.counts.duplicates += 1;
            return;
        }
        self.counts.written += 1;
        let line = OutEvent { event: e, source_object: &self.object, source_locator: locator.to_string() };
        let res = serde_json::to_writer(&mut *self.out, &line).map_err(std::io::Error::from).and_then(|()| self.out.write_all(b"\n"));
        if let Err(err) = res {
            self.error.get_or_insert(err);
        }
    }

    fn reject(&mut self, r: &Reject, locator: Locator, record: Option<&str>) {
        self.counts.read += 1;
        if r.skip {
            self.counts.skipped += 1;
        } else {
            self.counts.quarantined += 1;
        }
        self.quarantine.push(QuarantineLine::new(r, &self.object, locator, record));
    }
}

/// Runs `normalize`; exit code 3 when anything was quarantined.
///
/// # Errors
/// Unreadable inputs ([`Error::Input`]), storage failures, or a failed write to stdout or
/// the quarantine file (a closed pipe ends the run quietly).
pub fn run(a: &NormalizeArgs) -> Result<i32> {
    let opts = ReadOptions { format: format_of(a.format), keep_raw: !a.no_raw_event, ..Default::default() };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut sink = NormalizeSink {
        out: &mut out,
        quarantine: Vec::new(),
        seen: HashSet::new(),
        keep_duplicates: a.keep_duplicates,
        object: String::new(),
        counts: Counts::default(),
        error: None,
    };
    // Inputs in the order given, each folder's objects in sorted key order. A closed stdout
    // (`| head`) stops reading, but what was quarantined so far is still written.
    'inputs: for input in &a.inputs {
        let loc = Location::parse(input, &[])?;
        let listing = loc.list_shown()?;
        for (path, why) in listing.unlisted {
            sink.object = path;
            sink.reject(&Reject::quarantine("unreadable_object", why), Locator::File, None);
        }
        for (meta, shown) in listing.objects {
            sink.object = shown;
            let bytes = match loc.get(&meta.location) {
                Ok(b) => b,
                Err(e @ Error::Io { .. }) => {
                    sink.reject(&Reject::quarantine("unreadable_object", e.to_string()), Locator::File, None);
                    continue;
                }
                Err(e) => return Err(e),
            };
            read_object(&sink.object.clone(), &bytes, &opts, &mut sink);
            if let Some(e) = sink.error.take() {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    break 'inputs;
                }
                return Err(Error::Io { path: "<stdout>".into(), source: e });
            }
        }
    }
    let c = std::mem::take(&mut sink.counts);
    let quarantine = std::mem::take(&mut sink.quarantine);
    drop(sink);
    if let Err(e) = out.flush() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(Error::Io { path: "<stdout>".into(), source: e });
        }
    }
    if let Some(path) = &a.quarantine_out {
        let mut text = String::new();
        for q in &quarantine {
            text.push_str(&serde_json::to_string(q).expect("quarantine line serialises"));
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|source| Error::Io { path: path.clone(), source })?;
    }
    for q in &quarantine {
        super::errln!("{}: {} {} at {} ({})", q.kind, q.reason, q.source_object, q.source_locator, q.detail);
    }
    super::errln!(
        "read = written + duplicates + quarantined + skipped: {} = {} + {} + {} + {}",
        c.read, c.written, c.duplicates, c.quarantined, c.skipped
    );
    Ok(if c.quarantined > 0 { exit::QUARANTINED } else { exit::OK })
}
