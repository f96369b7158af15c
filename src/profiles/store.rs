//! The profile store: daily aggregates of the lake's events, persisted as Parquet beside
//! the lake under `<lake>/profiles/date=YYYY-MM-DD/`, so that baselines are read from a
//! few thousand summary rows per day instead of re-scanning every event of the lookback.
//!
//! ## Tables (one file each per UTC day `D`, built from `events/provider=*/date=D/`)
//! - [`OPERATIONS`]: per (`provider`, `log_format`, `account_uid`, `region`, `actor_uid`,
//!   `actor_type`, `service`, `operation`): `first_us`, `last_us` (µs since the epoch,
//!   UTC) and `n` (events). First/last seen per entity for regions, services and
//!   operations, the tagged operations present, and the accounts' and principals' first
//!   activity all come from it.
//! - [`VALUES`]: per (`feature`, `provider`, `account_uid`, `actor_uid`, `value`) with
//!   `feature` ∈ {`src_ip`, `user_agent`}: `first_us`, `last_us`, `n`. First/last seen per
//!   (principal, IP) and (principal, user agent).
//! - [`HOURLY`]: per (`provider`, `log_format`, `account_uid`, `service`, `actor_uid`,
//!   `actor_type`, `hour`) with `hour = floor(time_us / 3 600 000 000)`: `n`. Counts per
//!   hour, from which the analytics derive hour-of-week and hour-of-day seasonality.
//!
//! Every table also has the `date` column (`YYYY-MM-DD`). NULL key values are kept as
//! NULL (a record without a principal still counts for its account).
//!
//! ## Incremental, replace-on-rebuild
//! A day's folder holds a marker, [`MARKER`], listing the event files (path under
//! `events/` and size in bytes) it was built from. [`ensure`] rebuilds exactly the days
//! whose event files differ from their marker (new parts from a later run, late records
//! of M365 or Entra arriving days after their `time`), and removes the folders of days
//! whose events are gone. A rebuild recomputes the whole day from its event files, which
//! the lake keeps deduplicated, so re-running a day replaces its contribution and never
//! adds it twice. The marker is removed before and written after the tables (each written
//! to a dot-file and renamed), so a run killed mid-build leaves a day without a marker,
//! which the next [`ensure`] rebuilds; readers only read days [`ensure`] just checked.
//!
//! ## Forget window
//! [`update`] (called by `run` and `detect` after ingest) builds what is stale in the last
//! [`ProfileSettings::forget_days`] days and deletes older days' folders; the analytics'
//! readers ([`operations`], [`hourly`]) never look further back than that window either,
//! whatever an analytic's own `max_history_days`. Late records are scored against the
//! baseline as of their own day because history is always the days before the window.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{collect, event_files, HOUR_US};
use crate::progress::Progress;
use crate::schema as s;
use crate::{Error, Result};

/// Folder of the store under the lake root.
pub const STORE_DIR: &str = "profiles";
/// The operations table's file name in a day's folder.
pub const OPERATIONS: &str = "operations.parquet";
/// The values table's file name.
pub const VALUES: &str = "values.parquet";
/// The hourly table's file name.
pub const HOURLY: &str = "hourly.parquet";
/// The day's marker file name (JSON, [`Marker`]).
pub const MARKER: &str = "_built.json";
/// Bumped when a table's columns change: days built by another version are rebuilt.
pub const FORMAT_VERSION: u32 = 1;
/// Columns [`FIRST_US`] and [`LAST_US`]: first and last event time in the group, µs UTC.
pub const FIRST_US: &str = "first_us";
/// See [`FIRST_US`].
pub const LAST_US: &str = "last_us";
/// Events in the group.
pub const N: &str = "n";
/// The hour index column of [`HOURLY`].
pub const HOUR: &str = "hour";
/// The feature column of [`VALUES`] (`src_ip` or `user_agent`).
pub const FEATURE: &str = "feature";
/// The value column of [`VALUES`].
pub const VALUE: &str = "value";
/// Group keys of [`OPERATIONS`].
pub const OPERATION_KEYS: [&str; 8] = [s::PROVIDER, s::LOG_FORMAT, s::ACCOUNT_UID, s::REGION, s::ACTOR_UID, s::ACTOR_TYPE, s::SERVICE, s::OPERATION];
/// Group keys of [`HOURLY`] besides `hour`.
pub const HOURLY_KEYS: [&str; 6] = [s::PROVIDER, s::LOG_FORMAT, s::ACCOUNT_UID, s::SERVICE, s::ACTOR_UID, s::ACTOR_TYPE];
/// The features of [`VALUES`].
pub const VALUE_FEATURES: [&str; 2] = [s::SRC_IP, s::USER_AGENT];

/// `[profiles]` of the pipeline file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    /// Days of profiles kept and read (default 90): a baseline reaches back at most this
    /// many days before its scoring window, and [`update`] deletes older days. Must be ≥ 1.
    #[serde(default = "default_forget_days")]
    pub forget_days: u32,
}

fn default_forget_days() -> u32 {
    90
}

impl Default for ProfileSettings {
    fn default() -> Self {
        ProfileSettings { forget_days: default_forget_days() }
    }
}

impl ProfileSettings {
    /// Errors: [`Error::Config`] naming `profiles.forget_days` when it is 0.
    pub fn validate(&self) -> Result<()> {
        if self.forget_days == 0 {
            return Err(Error::config("profiles.forget_days", "must be at least 1 (days of history kept)"));
        }
        Ok(())
    }

    /// The earliest instant a baseline for a window starting at `window_start` may read.
    pub fn keep_from(&self, window_start: DateTime<Utc>) -> DateTime<Utc> {
        window_start - Duration::days(i64::from(self.forget_days))
    }

    /// `from` moved forward to [`ProfileSettings::keep_from`] when it lies before it.
    pub fn clamp(&self, from: DateTime<Utc>, window_start: DateTime<Utc>) -> DateTime<Utc> {
        from.max(self.keep_from(window_start))
    }
}

/// What a day's tables were built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// [`FORMAT_VERSION`] of the build.
    pub format: u32,
    /// Event files (path under `events/`, size in bytes), sorted.
    pub events: Vec<(String, u64)>,
}

/// What [`update`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Days (re)built because their event files changed.
    pub built: Vec<NaiveDate>,
    /// Days whose profiles were already current.
    pub current: usize,
    /// Days deleted: older than the forget window, or without events any more.
    pub removed: Vec<NaiveDate>,
}

fn store_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::lake(path.display().to_string(), e)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), source }
}

fn day_dir(lake_root: &Path, date: NaiveDate) -> PathBuf {
    lake_root.join(STORE_DIR).join(format!("date={date}"))
}

/// The lake's event files per day from `from` to `to` (inclusive), as [`Marker`] lists.
fn events_by_day(lake_root: &Path, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<NaiveDate, Vec<(String, u64)>>> {
    let events = lake_root.join("events");
    let mut out: BTreeMap<NaiveDate, Vec<(String, u64)>> = BTreeMap::new();
    for f in event_files(lake_root, from, to)? {
        let rel = f.strip_prefix(&events).unwrap_or(&f).to_string_lossy().into_owned();
        let Some(date) = rel.split("date=").nth(1).and_then(|d| d.get(..10)).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else {
            continue;
        };
        let len = std::fs::metadata(&f).map_err(io_err(&f))?.len();
        out.entry(date).or_default().push((rel, len));
    }
    for v in out.values_mut() {
        v.sort();
    }
    Ok(out)
}

/// The store's day folders from `from` to `to` (inclusive), built or not.
fn stored_days(lake_root: &Path, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
    let dir = lake_root.join(STORE_DIR);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&dir)(e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let name = e.map_err(io_err(&dir))?.file_name().to_string_lossy().into_owned();
        if let Some(d) = name.strip_prefix("date=").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
            if d >= from && d <= to {
                out.push(d);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_marker(dir: &Path) -> Option<Marker> {
    let text = std::fs::read(dir.join(MARKER)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Writes `bytes` to `dir/name` through a dot-file and a rename, so a reader never sees
/// half a file.
fn put_atomic(dir: &Path, name: &str, write: impl FnOnce(&mut std::fs::File) -> Result<()>) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    write(&mut f)?;
    f.sync_all().map_err(io_err(&tmp))?;
    let dst = dir.join(name);
    std::fs::rename(&tmp, &dst).map_err(io_err(&dst))
}

fn write_table(dir: &Path, name: &str, mut df: DataFrame) -> Result<()> {
    let path = dir.join(name);
    put_atomic(dir, name, |f| ParquetWriter::new(f).finish(&mut df).map(|_| ()).map_err(|e| store_err(&path, e)))
}

/// The three tables of one day, computed from its event files (see the module docs).
fn aggregate(lake_root: &Path, date: NaiveDate, files: &[(String, u64)]) -> Result<[DataFrame; 3]> {
    let events = lake_root.join("events");
    let paths: Vec<PathBuf> = files.iter().map(|(rel, _)| events.join(rel)).collect();
    let lf = super::scan_files(&paths).map_err(|e| super::lake_err(lake_root, e))?;
    let t = col(s::TIME).cast(DataType::Int64);
    let stats = || [t.clone().min().alias(FIRST_US), t.clone().max().alias(LAST_US), len().cast(DataType::Int64).alias(N)];
    let day = lit(date.to_string()).alias(s::DATE);
    // Sorted so that a rebuild of the same events writes the same file.
    let sorted = |_: &[&str]| SortMultipleOptions::default().with_maintain_order(true);
    let by = |keys: &[&str]| keys.iter().map(|k| col(*k)).collect::<Vec<_>>();
    let key_names = |keys: &[&str]| keys.iter().map(|k| PlSmallStr::from(*k)).collect::<Vec<_>>();

    let operations = collect(lake_root, lf.clone().group_by(by(&OPERATION_KEYS)).agg(stats()).sort(key_names(&OPERATION_KEYS), sorted(&OPERATION_KEYS)).with_column(day.clone()))?;

    let mut values: Option<DataFrame> = None;
    for feature in VALUE_FEATURES {
        let keys = [s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID, feature];
        let df = collect(
            lake_root,
            lf.clone()
                .filter(col(feature).is_not_null())
                .group_by(by(&keys))
                .agg(stats())
                .sort(key_names(&keys), sorted(&keys))
                .select([lit(feature).alias(FEATURE), col(s::PROVIDER), col(s::ACCOUNT_UID), col(s::ACTOR_UID), col(feature).alias(VALUE), col(FIRST_US), col(LAST_US), col(N), day.clone()]),
        )?;
        values = Some(match values {
            None => df,
            Some(mut acc) => {
                acc.vstack_mut(&df).map_err(|e| super::lake_err(lake_root, e))?;
                acc
            }
        });
    }

    let mut hourly_keys: Vec<&str> = HOURLY_KEYS.to_vec();
    hourly_keys.push(HOUR);
    let hour = t.clone().floor_div(lit(HOUR_US)).alias(HOUR);
    let mut hourly_by = by(&HOURLY_KEYS);
    hourly_by.push(hour);
    let hourly = collect(lake_root, lf.group_by(hourly_by).agg([len().cast(DataType::Int64).alias(N)]).sort(key_names(&hourly_keys), sorted(&hourly_keys)).with_column(day))?;
    Ok([operations, values.expect("two features"), hourly])
}

/// Builds one day's tables from `files` and writes them with their marker.
fn build_day(lake_root: &Path, date: NaiveDate, files: Vec<(String, u64)>) -> Result<()> {
    let dir = day_dir(lake_root, date);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let marker = dir.join(MARKER);
    match std::fs::remove_file(&marker) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&marker)(e)),
    }
    let [operations, values, hourly] = aggregate(lake_root, date, &files)?;
    write_table(&dir, OPERATIONS, operations)?;
    write_table(&dir, VALUES, values)?;
    write_table(&dir, HOURLY, hourly)?;
    let m = Marker { format: FORMAT_VERSION, events: files };
    put_atomic(&dir, MARKER, |f| {
        use std::io::Write;
        f.write_all(&serde_json::to_vec_pretty(&m).expect("marker serialises")).map_err(io_err(&marker))
    })
}

/// Brings the store's days from `from` to `to` (inclusive, UTC dates) up to date with the
/// lake's event files: rebuilds changed days, removes days without events.
///
/// # Errors
/// [`Error::Lake`] for unreadable event files or a failed write; [`Error::Io`] for the
/// store's folders.
pub fn ensure(lake_root: &Path, from: NaiveDate, to: NaiveDate, progress: &dyn Progress) -> Result<UpdateSummary> {
    let events = events_by_day(lake_root, from, to)?;
    let mut out = UpdateSummary::default();
    for d in stored_days(lake_root, from, to)? {
        if !events.contains_key(&d) {
            let dir = day_dir(lake_root, d);
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
            out.removed.push(d);
        }
    }
    let days = events.len();
    let stale: Vec<(NaiveDate, Vec<(String, u64)>)> = events
        .into_iter()
        .filter(|(d, files)| read_marker(&day_dir(lake_root, *d)).is_none_or(|m| m.format != FORMAT_VERSION || &m.events != files))
        .collect();
    out.current = days - stale.len();
    if !stale.is_empty() {
        progress.start("profiles", Some(stale.len() as u64), "days");
    }
    for (d, files) in stale {
        build_day(lake_root, d, files)?;
        out.built.push(d);
        progress.inc(1);
    }
    if !out.built.is_empty() {
        progress.finish();
    }
    Ok(out)
}

/// The per-run update: [`ensure`] over the forget window before the run's oldest scoring
/// window (`oldest_window`, its start; `as_of` when nothing older is scored) through
/// `as_of`'s day, then deletes the days before that range. So a backfill of old days
/// builds their baselines here (with a progress bar), and a later run forgets them.
///
/// # Errors
/// As [`ensure`].
pub fn update(lake_root: &Path, oldest_window: DateTime<Utc>, as_of: DateTime<Utc>, settings: &ProfileSettings, progress: &dyn Progress) -> Result<UpdateSummary> {
    settings.validate()?;
    let from = (settings.keep_from(oldest_window.min(as_of)) - Duration::days(1)).date_naive();
    let mut out = ensure(lake_root, from, as_of.date_naive(), progress)?;
    for d in stored_days(lake_root, NaiveDate::MIN, from - Duration::days(1))? {
        let dir = day_dir(lake_root, d);
        std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        out.removed.push(d);
    }
    Ok(out)
}

/// A lazy scan of one table over the days from `from` to `to` (inclusive) after
/// [`ensure`]; `None` when no day in the range has events.
fn scan_table(lake_root: &Path, table: &str, from: NaiveDate, to: NaiveDate) -> Result<Option<LazyFrame>> {
    if from > to {
        return Ok(None);
    }
    ensure(lake_root, from, to, &crate::progress::Silent)?;
    let paths: Vec<PathBuf> = stored_days(lake_root, from, to)?.into_iter().map(|d| day_dir(lake_root, d).join(table)).filter(|p| p.is_file()).collect();
    if paths.is_empty() {
        return Ok(None);
    }
    super::scan_files(&paths).map(Some).map_err(|e| store_err(&lake_root.join(STORE_DIR), e))
}

/// An empty frame with the columns of `names` (`String`) then `ints` (`Int64`): what the
/// readers give when no day of the range has profiles, so that callers need no special case.
fn empty(names: &[&str], ints: &[&str]) -> LazyFrame {
    let fields = names.iter().map(|n| Field::new((*n).into(), DataType::String)).chain(ints.iter().map(|n| Field::new((*n).into(), DataType::Int64)));
    DataFrame::empty_with_schema(&Schema::from_iter(fields)).lazy()
}

/// The [`OPERATIONS`] groups with an event in `[from, to)` (callers apply the forget
/// window with [`ProfileSettings::clamp`]): columns [`OPERATION_KEYS`], `date`,
/// [`FIRST_US`], [`LAST_US`], [`N`], and `time` = max(`first_us`, `from`) as Int64 µs.
/// Over it [`super::first_seen`], [`super::distinct_days`] and
/// [`super::tagged_operations`] give what they give over the raw events of the range:
/// exactly when `from` is midnight UTC (as in `run`); otherwise a group that straddles
/// `from` counts as first seen at `from`. Empty (same columns) when no day of the range
/// has events.
///
/// # Errors
/// As [`ensure`].
pub fn operations(lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<LazyFrame> {
    let mut keys: Vec<&str> = OPERATION_KEYS.to_vec();
    keys.push(s::DATE);
    let Some(lf) = scan_table(lake_root, OPERATIONS, from.date_naive(), to.date_naive())? else {
        return Ok(empty(&keys, &[FIRST_US, LAST_US, N, s::TIME]));
    };
    let (f, t) = (from.timestamp_micros(), to.timestamp_micros());
    let first = col(FIRST_US);
    Ok(lf
        .filter(first.clone().lt(lit(t)).and(col(LAST_US).gt_eq(lit(f))))
        .with_column(when(first.clone().lt(lit(f))).then(lit(f)).otherwise(first).alias(s::TIME)))
}

/// The [`HOURLY`] rows with `from ≤ hour start < to` (`from` rounded down to its hour);
/// columns [`HOURLY_KEYS`], `date`, [`HOUR`], [`N`].
/// Empty (same columns) when no day of the range has events.
///
/// # Errors
/// As [`ensure`].
pub fn hourly(lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<LazyFrame> {
    let mut keys: Vec<&str> = HOURLY_KEYS.to_vec();
    keys.push(s::DATE);
    let Some(lf) = scan_table(lake_root, HOURLY, from.date_naive(), to.date_naive())? else {
        return Ok(empty(&keys, &[HOUR, N]));
    };
    let (f, t) = (from.timestamp_micros().div_euclid(HOUR_US), to.timestamp_micros().div_euclid(HOUR_US));
    Ok(lf.filter(col(HOUR).gt_eq(lit(f)).and(col(HOUR).lt(lit(t)))))
}

/// The [`VALUES`] rows of `feature` (`src_ip` or `user_agent`) with an event in
/// `[from, to)`; columns `feature`, `provider`, `account_uid`,
/// `actor_uid`, `value`, `date`, [`FIRST_US`], [`LAST_US`], [`N`]. Empty (same columns)
/// when no day of the range has events.
///
/// # Errors
/// As [`ensure`].
pub fn values(lake_root: &Path, feature: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<LazyFrame> {
    let Some(lf) = scan_table(lake_root, VALUES, from.date_naive(), to.date_naive())? else {
        return Ok(empty(&[FEATURE, s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID, VALUE, s::DATE], &[FIRST_US, LAST_US, N]));
    };
    let (f, t) = (from.timestamp_micros(), to.timestamp_micros());
    Ok(lf.filter(col(FEATURE).eq(lit(feature.to_string())).and(col(FIRST_US).lt(lit(t))).and(col(LAST_US).gt_eq(lit(f)))))
}

#[cfg(test)]
mod tests;
