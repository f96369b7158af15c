//! Source normalisers: one module per log format, plus the shared reading layer.
//!
//! Reading an object goes: bytes → [`read::read_object`] (gzip by magic bytes, text
//! encoding, framing as one JSON document / JSON array / JSON lines / CSV) → per record,
//! format detection ([`detect`]) unless `--format` forces one → the format's
//! [`Normaliser`] → [`Sink`]. Nothing here aborts a batch: a record or object that cannot be
//! normalised is handed to the sink as a [`Rejection`] with a snake_case reason and a
//! locator, and counted.
//!
//! The contract every normaliser meets is in `docs/sources.md` ("source checklist").

pub mod azure_activity;
pub mod cloudtrail;
mod csv_rows;
pub mod detect;
pub mod entra;
#[cfg(test)]
mod fuzz_tests;
pub mod gcp_audit;
pub mod json;
pub mod keyvault;
pub mod m365;
pub mod net;
pub mod ocsf;
pub mod read;
#[cfg(test)]
pub(crate) mod testing;
pub mod time;

use crate::event::Event;
use crate::schema::LogFormat;

pub use read::{read_object, ReadOptions};

/// Why one record (or a whole object) produced no event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// `true`: a non-event the reader passes over on purpose (digest file, non-audit GCP
    /// entry), counted as skipped. `false`: bad input, quarantined (exit code 3).
    pub skip: bool,
    /// snake_case reason, stable across releases (`invalid_json`, `missing_event_time`, ...).
    pub reason: &'static str,
    /// Human detail naming the field or parser message.
    pub detail: String,
}

impl Reject {
    /// Bad input: quarantine with `reason`.
    pub fn quarantine(reason: &'static str, detail: impl Into<String>) -> Self {
        Reject { skip: false, reason, detail: detail.into() }
    }

    /// A non-event passed over on purpose.
    pub fn skip(reason: &'static str, detail: impl Into<String>) -> Self {
        Reject { skip: true, reason, detail: detail.into() }
    }

    /// A required field is absent or empty: reason `missing_<field>`-style, naming it.
    pub fn missing(reason: &'static str, field: &str) -> Self {
        Reject::quarantine(reason, format!("field `{field}` is missing or empty"))
    }
}

/// Options a normaliser reads.
#[derive(Debug, Clone, Copy)]
pub struct NormaliseOptions {
    /// Keep the whole record in `raw_event`.
    pub keep_raw: bool,
}

/// One log format's record → [`Event`] mapping.
///
/// `record` is one record's JSON text (a CSV row arrives as a JSON object of header →
/// cell text). Returned events may borrow from it. A record may give several events (none
/// today) and must give at least one or a [`Reject`].
pub trait Normaliser: Send + Sync {
    /// The `log_format` this normaliser writes.
    fn format(&self) -> LogFormat;

    /// Normalises one record, appending to `out`.
    ///
    /// # Errors
    /// A [`Reject`] naming why the record gives no event; the reader quarantines or skips it.
    fn normalise<'a>(
        &self,
        record: &'a str,
        opts: &NormaliseOptions,
        out: &mut Vec<Event<'a>>,
    ) -> Result<(), Reject>;
}

/// The normaliser of a format.
pub fn normaliser(format: LogFormat) -> &'static dyn Normaliser {
    match format {
        LogFormat::CloudTrail => &cloudtrail::CloudTrail,
        LogFormat::M365Audit => &m365::M365Audit,
        LogFormat::EntraAudit => &entra::EntraAudit,
        LogFormat::EntraSignin => &entra::EntraSignin,
        LogFormat::AzureActivity => &azure_activity::AzureActivity,
        LogFormat::KeyVaultAudit => &keyvault::KeyVaultAudit,
        LogFormat::GcpAudit => &gcp_audit::GcpAudit,
        LogFormat::Ocsf => &ocsf::Ocsf,
    }
}

/// Where a record sits in its object, in the text form of the quarantine file and the
/// `source_locator` column: `record:N` (0-based index in a JSON document or array),
/// `line:N` (1-based line of JSON lines), `row:N` (CSV record number, the header being row
/// 1, as a spreadsheet shows it), `file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locator {
    Record(usize),
    Line(usize),
    Row(usize),
    File,
}

impl std::fmt::Display for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locator::Record(n) => write!(f, "record:{n}"),
            Locator::Line(n) => write!(f, "line:{n}"),
            Locator::Row(n) => write!(f, "row:{n}"),
            Locator::File => f.write_str("file"),
        }
    }
}

/// Receives what reading one object produces.
pub trait Sink {
    /// One normalised event found at `locator`.
    fn event(&mut self, event: &Event<'_>, locator: Locator);
    /// One record (or the whole object, `Locator::File`) that gave no event; `record` is the
    /// record's text when there is one (not for file-level rejections), kept in quarantine so
    /// that it can be replayed after a fix.
    fn reject(&mut self, reject: &Reject, locator: Locator, record: Option<&str>);
    /// The size in bytes of the object's decoded text, told once before its records, so a
    /// sink can size its buffers (growing a 300 MB buffer by doubling costs more than
    /// parsing it).
    fn text_size(&mut self, _bytes: usize) {}
}

/// A [`Sink`] that keeps everything in memory: for tests, benches and small inputs.
#[derive(Debug, Default)]
pub struct CollectSink {
    pub events: Vec<(Event<'static>, Locator)>,
    pub rejects: Vec<(Reject, Locator)>,
}

impl Sink for CollectSink {
    fn event(&mut self, event: &Event<'_>, locator: Locator) {
        self.events.push((event.clone().into_owned(), locator));
    }
    fn reject(&mut self, reject: &Reject, locator: Locator, _record: Option<&str>) {
        self.rejects.push((reject.clone(), locator));
    }
}

/// Reads one local file into a [`CollectSink`] (tests and `explain`-style tools).
///
/// # Errors
/// [`crate::Error::Io`] when the file cannot be read.
pub fn collect_file(path: &std::path::Path, opts: &ReadOptions) -> crate::Result<CollectSink> {
    let data = std::fs::read(path).map_err(|source| crate::Error::Io { path: path.to_owned(), source })?;
    let mut sink = CollectSink::default();
    read_object(&path.to_string_lossy(), &data, opts, &mut sink);
    Ok(sink)
}
