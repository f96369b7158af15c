//! The findings schema (DESIGN.md "Findings"), deterministic finding ids, and the Parquet,
//! text-table and JSON-lines forms of findings.
//!
//! Layout: `<lake_root>/findings/date=YYYY-MM-DD/part-<hash>.parquet`, one file per day of
//! `window_end` (UTC). A write rewrites each touched day as the union of what was there and
//! what is new, keyed by `finding_uid`, so re-running an analytic over the same window
//! replaces its findings instead of duplicating them. Files are written to a temporary name
//! in the same folder and renamed into place, so a reader never sees a half-written file.
//! Two processes writing the same day at once is not supported (last rename wins).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, ListArray,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder, UInt32Array, UInt32Builder, UInt64Array, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Finding severity, ordered `Info < Low < Medium < High < Critical` so that
/// `--min-severity` and `--fail-on` are comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only; nothing to act on.
    Info,
    /// Worth a look when triaging related findings.
    Low,
    /// Unusual; review within a working day.
    Medium,
    /// Likely malicious or a control disabled; review now.
    High,
    /// High, and the initiator or pattern has never been seen before.
    Critical,
}

impl Severity {
    /// Every value, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lower-case name stored in Parquet and accepted on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a name (case-insensitive); `None` outside the five values.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Bands of a 0–100 risk score: < 20 info, < 40 low, < 70 medium, < 90 high, else
    /// critical.
    pub fn from_risk_score(score: f64) -> Severity {
        match score {
            s if s < 20.0 => Severity::Info,
            s if s < 40.0 => Severity::Low,
            s if s < 70.0 => Severity::Medium,
            s if s < 90.0 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding. Field meanings follow DESIGN.md; units are stated where they matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Deterministic id from [`finding_uid`]: same analytic, entity and window → same id.
    pub finding_uid: String,
    /// The analytic's id (`logging_disabled`, `secret_access_volume`, ...).
    pub analytic_uid: String,
    /// One line: what happened and who did it.
    pub title: String,
    /// What was observed, what was expected, from how many days, and why it matters.
    pub description: String,
    /// See [`Severity`]; each analytic documents how it decides.
    pub severity: Severity,
    /// 0–100, see [`crate::scoring::risk_score`].
    pub risk_score: f64,
    /// Raw p-value of the analytic's test; `None` for signals and first-seen findings.
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg adjusted p-value across the entities tested in the run.
    pub p_value_adjusted: Option<f64>,
    /// Observed count in the window (units are the analytic's, e.g. events per hour).
    pub observed: f64,
    /// Expected count under the baseline, same units; `None` when there is no baseline.
    pub expected: Option<f64>,
    /// Whole days of history behind `expected` (0 for signals without a baseline).
    pub baseline_days: u32,
    /// First evidence time (or start of the scored bucket), UTC.
    pub window_start: DateTime<Utc>,
    /// Last evidence time (or end of the scored bucket), UTC; also the partition date.
    pub window_end: DateTime<Utc>,
    /// The evidence's `provider` (lake vocabulary).
    pub provider: String,
    /// The account whose log recorded the evidence.
    pub account_uid: String,
    /// Most common `region` of the evidence.
    pub region: Option<String>,
    /// The principal the finding is about (`None` when the records name none).
    pub actor_uid: Option<String>,
    /// Most common `src_ip` of the evidence.
    pub src_ip: Option<String>,
    /// Most common `user_agent` of the evidence.
    pub user_agent: Option<String>,
    /// The evidence's (most common) `service`.
    pub service: Option<String>,
    /// The evidence's (most common) `operation`.
    pub operation: Option<String>,
    /// The target, when the evidence has exactly one.
    pub resource_uid: Option<String>,
    /// The catalogue's ATT&CK data component (`disable`, `enumeration`, `metadata`,
    /// `modification`, `logon_session_creation`, `application_log_content`).
    pub data_component: String,
    /// ATT&CK technique ids; may hold the same behaviour's ids from two ATT&CK versions.
    pub attack_techniques: Vec<String>,
    /// The newest ATT&CK version the ids were checked against (e.g. `"19"`).
    pub attack_version: String,
    /// `event_uid`s of the evidence (possibly capped; see `evidence_count`).
    pub evidence_event_uids: Vec<String>,
    /// Number of evidence events, including any not listed in `evidence_event_uids`.
    pub evidence_count: u64,
    /// Kept for the record but not alerting (`--fail-on` ignores it).
    pub suppressed: bool,
    /// Why it is suppressed (routine change, allow-list, change request).
    pub suppression_reason: Option<String>,
    /// The run that produced the finding.
    pub run_uid: String,
}

/// Deterministic finding id: hex of the first 16 bytes of SHA-256 over the analytic id,
/// the entity key parts and the window bounds (µs), separated by a byte (0xff) that cannot
/// occur in UTF-8 so that ("a","bc") and ("ab","c") differ.
pub fn finding_uid(
    analytic_uid: &str,
    entity: &[&str],
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
) -> String {
    let mut h = Sha256::new();
    h.update(analytic_uid.as_bytes());
    for part in entity {
        h.update([0xff]);
        h.update(part.as_bytes());
    }
    h.update([0xff]);
    h.update(window_start.timestamp_micros().to_le_bytes());
    h.update(window_end.timestamp_micros().to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Arrow schema of the findings Parquet files (column order = [`Finding`] field order).
pub fn findings_schema() -> SchemaRef {
    use DataType::{Boolean, Float64, UInt32, UInt64, Utf8};
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let list = DataType::List(Arc::new(Field::new_list_field(Utf8, true)));
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("finding_uid", Utf8, false),
        f("analytic_uid", Utf8, false),
        f("title", Utf8, false),
        f("description", Utf8, false),
        f("severity", Utf8, false),
        f("risk_score", Float64, false),
        f("p_value", Float64, true),
        f("p_value_adjusted", Float64, true),
        f("observed", Float64, false),
        f("expected", Float64, true),
        f("baseline_days", UInt32, false),
        f("window_start", ts.clone(), false),
        f("window_end", ts, false),
        f("provider", Utf8, false),
        f("account_uid", Utf8, false),
        f("region", Utf8, true),
        f("actor_uid", Utf8, true),
        f("src_ip", Utf8, true),
        f("user_agent", Utf8, true),
        f("service", Utf8, true),
        f("operation", Utf8, true),
        f("resource_uid", Utf8, true),
        f("data_component", Utf8, false),
        f("attack_techniques", list.clone(), false),
        f("attack_version", Utf8, false),
        f("evidence_event_uids", list, false),
        f("evidence_count", UInt64, false),
        f("suppressed", Boolean, false),
        f("suppression_reason", Utf8, true),
        f("run_uid", Utf8, false),
    ]))
}

/// Findings as one `RecordBatch` of [`findings_schema`].
pub fn to_record_batch(findings: &[Finding]) -> Result<RecordBatch> {
    fn strs<'a>(it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
        let mut b = StringBuilder::new();
        it.for_each(|v| b.append_option(v));
        Arc::new(b.finish())
    }
    fn f64s(it: impl Iterator<Item = Option<f64>>) -> ArrayRef {
        let mut b = Float64Builder::new();
        it.for_each(|v| b.append_option(v));
        Arc::new(b.finish())
    }
    fn times(it: impl Iterator<Item = i64>) -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        it.for_each(|v| b.append_value(v));
        Arc::new(b.finish())
    }
    fn lists<'a>(it: impl Iterator<Item = &'a Vec<String>>) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for v in it {
            v.iter().for_each(|s| b.values().append_value(s));
            b.append(true);
        }
        Arc::new(b.finish())
    }
    let s = |get: fn(&Finding) -> &str| strs(findings.iter().map(|f| Some(get(f))));
    let o = |get: fn(&Finding) -> &Option<String>| strs(findings.iter().map(|f| get(f).as_deref()));
    let mut baseline = UInt32Builder::new();
    let mut count = UInt64Builder::new();
    let mut suppressed = BooleanBuilder::new();
    for f in findings {
        baseline.append_value(f.baseline_days);
        count.append_value(f.evidence_count);
        suppressed.append_value(f.suppressed);
    }
    let columns: Vec<ArrayRef> = vec![
        s(|f| &f.finding_uid),
        s(|f| &f.analytic_uid),
        s(|f| &f.title),
        s(|f| &f.description),
        strs(findings.iter().map(|f| Some(f.severity.as_str()))),
        f64s(findings.iter().map(|f| Some(f.risk_score))),
        f64s(findings.iter().map(|f| f.p_value)),
        f64s(findings.iter().map(|f| f.p_value_adjusted)),
        f64s(findings.iter().map(|f| Some(f.observed))),
        f64s(findings.iter().map(|f| f.expected)),
        Arc::new(baseline.finish()),
        times(findings.iter().map(|f| f.window_start.timestamp_micros())),
        times(findings.iter().map(|f| f.window_end.timestamp_micros())),
        s(|f| &f.provider),
        s(|f| &f.account_uid),
        o(|f| &f.region),
        o(|f| &f.actor_uid),
        o(|f| &f.src_ip),
        o(|f| &f.user_agent),
        o(|f| &f.service),
        o(|f| &f.operation),
        o(|f| &f.resource_uid),
        s(|f| &f.data_component),
        lists(findings.iter().map(|f| &f.attack_techniques)),
        s(|f| &f.attack_version),
        lists(findings.iter().map(|f| &f.evidence_event_uids)),
        Arc::new(count.finish()),
        Arc::new(suppressed.finish()),
        o(|f| &f.suppression_reason),
        s(|f| &f.run_uid),
    ];
    RecordBatch::try_new(findings_schema(), columns)
        .map_err(|e| Error::Internal(format!("findings batch does not match its schema: {e}")))
}

/// Typed access to a findings batch's columns by name.
struct Columns<'a> {
    batch: &'a RecordBatch,
    origin: &'a str,
}

impl Columns<'_> {
    fn get<T: 'static>(&self, name: &str) -> Result<&T> {
        self.batch
            .column_by_name(name)
            .and_then(|a| a.as_any().downcast_ref::<T>())
            .ok_or_else(|| {
                Error::lake(
                    self.origin,
                    format!("findings column `{name}` missing or mistyped"),
                )
            })
    }
    fn s(&self, name: &str, i: usize) -> Result<String> {
        Ok(self.get::<StringArray>(name)?.value(i).to_string())
    }
    fn os(&self, name: &str, i: usize) -> Result<Option<String>> {
        let a = self.get::<StringArray>(name)?;
        Ok(a.is_valid(i).then(|| a.value(i).to_string()))
    }
    fn of(&self, name: &str, i: usize) -> Result<Option<f64>> {
        let a = self.get::<Float64Array>(name)?;
        Ok(a.is_valid(i).then(|| a.value(i)))
    }
    fn f(&self, name: &str, i: usize) -> Result<f64> {
        Ok(self.get::<Float64Array>(name)?.value(i))
    }
    fn time(&self, name: &str, i: usize) -> Result<DateTime<Utc>> {
        let us = self.get::<TimestampMicrosecondArray>(name)?.value(i);
        DateTime::<Utc>::from_timestamp_micros(us)
            .ok_or_else(|| Error::lake(self.origin, format!("`{name}` out of range: {us}")))
    }
    fn list(&self, name: &str, i: usize) -> Result<Vec<String>> {
        let v = self.get::<ListArray>(name)?.value(i);
        let v = v.as_any().downcast_ref::<StringArray>().ok_or_else(|| {
            Error::lake(
                self.origin,
                format!("findings column `{name}` is not a list of strings"),
            )
        })?;
        Ok((0..v.len())
            .filter(|&j| v.is_valid(j))
            .map(|j| v.value(j).to_string())
            .collect())
    }
}

/// Reads findings back from a `RecordBatch` of [`findings_schema`] (columns by name).
/// Errors: [`Error::Lake`] at `origin` for a missing or mistyped column or an unknown
/// severity.
pub fn from_record_batch(batch: &RecordBatch, origin: &str) -> Result<Vec<Finding>> {
    let c = Columns { batch, origin };
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let severity = c.s("severity", i)?;
        out.push(Finding {
            finding_uid: c.s("finding_uid", i)?,
            analytic_uid: c.s("analytic_uid", i)?,
            title: c.s("title", i)?,
            description: c.s("description", i)?,
            severity: Severity::parse(&severity)
                .ok_or_else(|| Error::lake(origin, format!("unknown severity `{severity}`")))?,
            risk_score: c.f("risk_score", i)?,
            p_value: c.of("p_value", i)?,
            p_value_adjusted: c.of("p_value_adjusted", i)?,
            observed: c.f("observed", i)?,
            expected: c.of("expected", i)?,
            baseline_days: c.get::<UInt32Array>("baseline_days")?.value(i),
            window_start: c.time("window_start", i)?,
            window_end: c.time("window_end", i)?,
            provider: c.s("provider", i)?,
            account_uid: c.s("account_uid", i)?,
            region: c.os("region", i)?,
            actor_uid: c.os("actor_uid", i)?,
            src_ip: c.os("src_ip", i)?,
            user_agent: c.os("user_agent", i)?,
            service: c.os("service", i)?,
            operation: c.os("operation", i)?,
            resource_uid: c.os("resource_uid", i)?,
            data_component: c.s("data_component", i)?,
            attack_techniques: c.list("attack_techniques", i)?,
            attack_version: c.s("attack_version", i)?,
            evidence_event_uids: c.list("evidence_event_uids", i)?,
            evidence_count: c.get::<UInt64Array>("evidence_count")?.value(i),
            suppressed: c.get::<BooleanArray>("suppressed")?.value(i),
            suppression_reason: c.os("suppression_reason", i)?,
            run_uid: c.s("run_uid", i)?,
        });
    }
    Ok(out)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `date=YYYY-MM-DD` folders under `<lake_root>/findings`, with their dates, sorted.
fn date_dirs(lake_root: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let root = lake_root.join("findings");
    let rd = match fs::read_dir(&root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&root)(e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(io_err(&root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(d) = name.strip_prefix("date=") else {
            continue;
        };
        if let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            out.push((date, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Parquet files in a folder, skipping temporaries (dot-files) of writes in progress.
fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".parquet") && !name.starts_with('.') {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn read_file(path: &Path) -> Result<Vec<Finding>> {
    let shown = path.display().to_string();
    let file = fs::File::open(path).map_err(io_err(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| Error::lake(&shown, e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| Error::lake(&shown, e))?;
        out.extend(from_record_batch(&batch, &shown)?);
    }
    Ok(out)
}

/// Writes `findings` atomically to `path` (temporary file in the same folder, then rename).
fn write_file(path: &Path, findings: &[Finding]) -> Result<()> {
    let shown = path.display().to_string();
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{shown} has no folder")))?;
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let batch = to_record_batch(findings)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("cloudsift {}", env!("CARGO_PKG_VERSION")))
        .build();
    let result = (|| {
        let file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props))
            .map_err(|e| Error::lake(&shown, e))?;
        w.write(&batch).map_err(|e| Error::lake(&shown, e))?;
        let file = w.into_inner().map_err(|e| Error::lake(&shown, e))?;
        file.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The day file's name: `part-<16 hex of SHA-256("findings/date=D")>.parquet`, stable per
/// day so that the rename replaces the previous version in one step.
fn day_file(lake_root: &Path, date: NaiveDate) -> PathBuf {
    let dir = format!("date={}", date.format("%Y-%m-%d"));
    let hash = hex::encode(&Sha256::digest(format!("findings/{dir}").as_bytes())[..8]);
    lake_root
        .join("findings")
        .join(dir)
        .join(format!("part-{hash}.parquet"))
}

/// Writes findings under `<lake_root>/findings/date=YYYY-MM-DD/` (date of `window_end`,
/// UTC) and returns the files written. Any earlier finding with the same `finding_uid`
/// (in any day) is replaced; other findings of the touched days are kept. A day left with
/// no findings loses its file.
///
/// Errors: [`Error::Io`] for filesystem failures, [`Error::Lake`] for unreadable existing
/// findings files.
pub fn write_findings(lake_root: &Path, findings: &[Finding]) -> Result<Vec<PathBuf>> {
    let mut new_by_day: BTreeMap<NaiveDate, BTreeMap<&str, &Finding>> = BTreeMap::new();
    for f in findings {
        new_by_day
            .entry(f.window_end.date_naive())
            .or_default()
            .insert(&f.finding_uid, f);
    }
    let new_uids: HashSet<&str> = findings.iter().map(|f| f.finding_uid.as_str()).collect();
    let mut written = Vec::new();
    let mut existing_days = HashSet::new();
    for (date, dir) in date_dirs(lake_root)? {
        existing_days.insert(date);
        let files = parquet_files(&dir)?;
        let mut old = Vec::new();
        for file in &files {
            old.extend(read_file(file)?);
        }
        let touched = new_by_day.contains_key(&date)
            || old
                .iter()
                .any(|f| new_uids.contains(f.finding_uid.as_str()));
        if !touched {
            continue;
        }
        let mut merged: BTreeMap<String, Finding> = old
            .into_iter()
            .filter(|f| !new_uids.contains(f.finding_uid.as_str()))
            .map(|f| (f.finding_uid.clone(), f))
            .collect();
        for (uid, f) in new_by_day.get(&date).into_iter().flatten() {
            merged.insert(uid.to_string(), (*f).clone());
        }
        let target = day_file(lake_root, date);
        let mut rows: Vec<Finding> = merged.into_values().collect();
        rows.sort_by(|a, b| (a.window_end, &a.finding_uid).cmp(&(b.window_end, &b.finding_uid)));
        if rows.is_empty() {
            let _ = fs::remove_file(&target);
        } else {
            write_file(&target, &rows)?;
            written.push(target.clone());
        }
        // Files under other names (older layouts, other writers) are now merged in.
        for file in files.iter().filter(|f| **f != target) {
            fs::remove_file(file).map_err(io_err(file))?;
        }
    }
    for (date, new) in &new_by_day {
        if existing_days.contains(date) {
            continue;
        }
        let target = day_file(lake_root, *date);
        let rows: Vec<Finding> = new.values().map(|f| (*f).clone()).collect();
        write_file(&target, &rows)?;
        written.push(target);
    }
    Ok(written)
}

/// Reads every finding whose `window_end` is at or after `since` (all when `None`),
/// sorted by `window_end` then `finding_uid`. Day folders before `since`'s date are not
/// opened. A missing findings folder gives an empty list.
pub fn read_findings(lake_root: &Path, since: Option<DateTime<Utc>>) -> Result<Vec<Finding>> {
    let mut by_uid: BTreeMap<String, Finding> = BTreeMap::new();
    for (date, dir) in date_dirs(lake_root)? {
        if since.is_some_and(|s| date < s.date_naive()) {
            continue;
        }
        for file in parquet_files(&dir)? {
            for f in read_file(&file)? {
                if since.is_none_or(|s| f.window_end >= s) {
                    by_uid.insert(f.finding_uid.clone(), f);
                }
            }
        }
    }
    let mut out: Vec<Finding> = by_uid.into_values().collect();
    out.sort_by(|a, b| (a.window_end, &a.finding_uid).cmp(&(b.window_end, &b.finding_uid)));
    Ok(out)
}

mod render;
pub use render::{render_table, write_jsonl};

#[cfg(test)]
mod tests;
