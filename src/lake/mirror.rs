//! A local mirror of an object-store lake, so that `run` scores an `s3://`, `az://` or
//! `gs://` lake with polars, which reads local Parquet files.
//!
//! ## Where
//! `<cache root>/lakes/<first 16 hex digits of SHA-256 of the lake URL>/`: the lake folder
//! itself in `lake/`, and `mirror.json` recording, per object key copied either way, the
//! remote size and ETag (or last-modified time when the store gives no ETag). The cache
//! root is `$CLOUDSIFT_CACHE_DIR`, else `$XDG_CACHE_HOME/cloudsift`, else
//! `~/.cache/cloudsift` ([`default_cache_root`]). Deleting the folder is always safe: the
//! next run downloads what it needs again.
//!
//! ## What is downloaded ([`Mirror::pull`])
//! - `events/provider=P/date=D/*.parquet` for the days `D` of the range the run needs (the
//!   forget window before the first day scored through the day after `as_of`). Event part
//!   files are immutable once written (every run writes new names), so a local file of the
//!   same size is current and only new parts are fetched; local parts the store no longer
//!   lists for those days are deleted.
//! - `profiles/date=D/*` for the same days, skipping files whose remote size and ETag are
//!   those recorded when they were last copied; the tables before the `_built.json` marker,
//!   so a killed pull leaves a day without a marker, which the profile store rebuilds.
//! - every `findings/**` file whose size or ETag changed: a re-scored finding replaces its
//!   earlier copy in whatever day holds it (see [`crate::findings::write_findings`]), so
//!   the mirror needs them all (they are a few KiB per day).
//!
//! ## What is uploaded
//! [`Mirror::push_profiles`] uploads the profile days whose marker changed locally (the
//! remote marker deleted first, then the tables, then the marker, as the store does
//! locally) and deletes the remote days the store deleted; [`Mirror::push_findings`]
//! uploads the findings files a run wrote and deletes the remote ones the run merged away.
//! A run pushes before it finishes its journal, so a crash in between re-scores the days.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::NaiveDate;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::profiles::store::{MARKER, STORE_DIR};
use crate::storage::Location;
use crate::{Error, Result};

/// The file beside the mirrored lake folder that records what was copied.
const STATE: &str = "mirror.json";

/// The cache root: `$CLOUDSIFT_CACHE_DIR`, else `$XDG_CACHE_HOME/cloudsift`, else
/// `$HOME/.cache/cloudsift`, else `<temp dir>/cloudsift-cache` (no home, e.g. a container).
pub fn default_cache_root() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("CLOUDSIFT_CACHE_DIR") {
        return dir;
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return dir.join("cloudsift");
    }
    match var("HOME") {
        Some(home) => home.join(".cache").join("cloudsift"),
        None => std::env::temp_dir().join("cloudsift-cache"),
    }
}

/// The mirror folder of the lake at `url` (a trailing `/` does not matter) under
/// `cache_root`; its lake folder is `lake/` inside.
pub fn mirror_dir(cache_root: &Path, url: &str) -> PathBuf {
    let hash = hex::encode(&Sha256::digest(url.trim_end_matches('/').as_bytes())[..8]);
    cache_root.join("lakes").join(hash)
}

/// One copy between the store and the mirror: the remote object's size and ETag (or
/// version, or last-modified time when the store gives neither), and the local file's
/// modification time (ns since the epoch) right after the copy, so that a local file
/// changed by a run that died before pushing it is not taken for the remote one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    tag: String,
    #[serde(default)]
    mtime_ns: Option<u128>,
}

impl Stamp {
    fn copied(m: &ObjectMeta, local: &Path) -> Self {
        let tag = m.e_tag.clone().or_else(|| m.version.clone()).unwrap_or_else(|| m.last_modified.to_rfc3339());
        let mtime_ns = std::fs::metadata(local).and_then(|md| md.modified()).ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos());
        Stamp { size: m.size, tag, mtime_ns }
    }
}

/// `mirror.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// The lake URL (for people looking into the cache).
    url: String,
    /// Key below the lake → the remote object as last copied (either way).
    objects: BTreeMap<String, Stamp>,
}

/// What [`Mirror::pull`] copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullSummary {
    /// Files downloaded.
    pub downloaded: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Files already current locally.
    pub current: usize,
    /// Local files deleted because the store no longer has them.
    pub deleted: usize,
}

/// A local copy of the parts of an object-store lake that scoring reads.
pub struct Mirror {
    remote: Location,
    dir: PathBuf,
    root: PathBuf,
    state: State,
    /// Each local profile day's marker after the pull: a different marker at push time
    /// means the day was rebuilt in this run.
    markers: BTreeMap<NaiveDate, Vec<u8>>,
    /// Remote profile keys by day, and remote findings keys, as listed by the pull.
    remote_profiles: BTreeMap<NaiveDate, Vec<String>>,
    remote_findings: BTreeSet<String>,
    /// The last day of the pulled range: remote profile days up to it that the store no
    /// longer has locally were deleted by it (days after it were never looked at).
    pulled_to: Option<NaiveDate>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.into(), source }
}

/// The date of a `.../date=YYYY-MM-DD/...` key.
fn key_date(key: &str) -> Option<NaiveDate> {
    key.split("date=").nth(1).and_then(|d| d.get(..10)).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Whether `key`'s file name is a staging file (`.name`), which is never copied.
fn hidden(key: &str) -> bool {
    key.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

/// Writes `bytes` to `path` through a staging file and a rename (polars never reads a
/// half-written file, and a killed pull leaves no truncated one).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = dir.join(format!(".{}.mirror-tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

fn local_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len())
}

/// The files below `dir` as keys relative to `root` (`/`-separated), skipping staging files.
fn local_keys(root: &Path, dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.path().strip_prefix(root).ok().map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")))
        .filter(|k| !hidden(k))
        .collect()
}

impl Mirror {
    /// Opens (creating) the mirror of `lake` under `cache_root` ([`mirror_dir`]). A missing
    /// or unreadable `mirror.json` only means every profile and findings file is
    /// downloaded again.
    ///
    /// # Errors
    /// [`Error::Io`] when the folder cannot be created.
    pub fn open(lake: &Location, cache_root: &Path) -> Result<Mirror> {
        let url = lake.to_string();
        let dir = mirror_dir(cache_root, &url);
        let root = dir.join("lake");
        std::fs::create_dir_all(&root).map_err(io_err(&root))?;
        let state_path = dir.join(STATE);
        let mut state = match std::fs::read(&state_path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; the mirror's profiles and findings are downloaded again", state_path.display());
                State::default()
            }),
            Err(_) => State::default(),
        };
        state.url = url;
        Ok(Mirror { remote: lake.clone(), dir, root, state, markers: BTreeMap::new(), remote_profiles: BTreeMap::new(), remote_findings: BTreeSet::new(), pulled_to: None })
    }

    /// The local lake folder (`<mirror>/lake`), to read and score like a local lake.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn save(&self) -> Result<()> {
        write_atomic(&self.dir.join(STATE), &serde_json::to_vec_pretty(&self.state).expect("state serialises"))
    }

    fn download(&mut self, key: &str, meta: &ObjectMeta, sum: &mut PullSummary) -> Result<()> {
        let bytes = self.remote.get(&meta.location)?;
        let path = self.root.join(key);
        write_atomic(&path, &bytes)?;
        self.state.objects.insert(key.to_string(), Stamp::copied(meta, &path));
        sum.downloaded += 1;
        sum.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Whether the local copy of `key` is the remote object `meta`: same size, and for
    /// mutable files (`immutable` false) the ETag and local modification time recorded
    /// when it was last copied.
    fn current(&self, key: &str, meta: &ObjectMeta, immutable: bool) -> bool {
        let path = self.root.join(key);
        local_size(&path) == Some(meta.size) && (immutable || self.state.objects.get(key) == Some(&Stamp::copied(meta, &path)))
    }

    fn remove_local(&mut self, key: &str, sum: &mut PullSummary) -> Result<()> {
        let path = self.root.join(key);
        match std::fs::remove_file(&path) {
            Ok(()) => sum.deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        self.state.objects.remove(key);
        Ok(())
    }

    /// Brings the events and profiles of `days` (UTC, inclusive) and all findings up to
    /// date with the store (see the module docs); records what it copied in `mirror.json`.
    ///
    /// # Errors
    /// [`Error::Storage`] when listing or reading the store fails, [`Error::Io`] for the
    /// local folder.
    pub fn pull(&mut self, days: RangeInclusive<NaiveDate>) -> Result<PullSummary> {
        let mut sum = PullSummary::default();
        let in_range = |k: &str| key_date(k).is_some_and(|d| days.contains(&d));

        // Events: immutable parts, so the size says whether the local copy is current.
        let remote: BTreeMap<String, ObjectMeta> = self.remote.list_rel("events")?.into_iter().filter(|(k, _)| k.ends_with(".parquet") && !hidden(k) && in_range(k)).collect();
        for (key, meta) in &remote {
            if self.current(key, meta, true) {
                sum.current += 1;
            } else {
                self.download(key, meta, &mut sum)?;
            }
        }
        for key in local_keys(&self.root, &self.root.join("events")) {
            if in_range(&key) && !remote.contains_key(&key) {
                self.remove_local(&key, &mut sum)?;
            }
        }

        // Profiles: per day, the tables before the marker.
        self.remote_profiles.clear();
        let mut by_day: BTreeMap<NaiveDate, Vec<(String, ObjectMeta)>> = BTreeMap::new();
        for (key, meta) in self.remote.list_rel(STORE_DIR)? {
            if let Some(d) = key_date(&key).filter(|_| !hidden(&key)) {
                self.remote_profiles.entry(d).or_default().push(key.clone());
                by_day.entry(d).or_default().push((key, meta));
            }
        }
        let local_days: BTreeSet<NaiveDate> = local_keys(&self.root, &self.root.join(STORE_DIR)).iter().filter_map(|k| key_date(k)).collect();
        for d in local_days.iter().filter(|d| days.contains(d) && !by_day.contains_key(d)) {
            let dir = self.root.join(STORE_DIR).join(format!("date={d}"));
            for key in local_keys(&self.root, &dir) {
                self.remove_local(&key, &mut sum)?;
            }
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        for (d, mut files) in by_day.into_iter().filter(|(d, _)| days.contains(d)) {
            files.sort_by_key(|(k, _)| k.ends_with(MARKER));
            let names: BTreeSet<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
            let dir = self.root.join(STORE_DIR).join(format!("date={d}"));
            for key in local_keys(&self.root, &dir).into_iter().filter(|k| !names.contains(k.as_str())) {
                self.remove_local(&key, &mut sum)?;
            }
            if files.iter().all(|(k, m)| self.current(k, m, false)) {
                sum.current += files.len();
                continue;
            }
            // The stale marker goes first: a pull killed here leaves the day to be rebuilt.
            self.remove_local(&format!("{STORE_DIR}/date={d}/{MARKER}"), &mut PullSummary::default())?;
            for (key, meta) in &files {
                self.download(key, meta, &mut sum)?;
            }
        }
        self.markers = self.local_markers();

        // Findings: all of them, by size and ETag.
        let remote: BTreeMap<String, ObjectMeta> = self.remote.list_rel("findings")?.into_iter().filter(|(k, _)| !hidden(k)).collect();
        for (key, meta) in &remote {
            if self.current(key, meta, false) {
                sum.current += 1;
            } else {
                self.download(key, meta, &mut sum)?;
            }
        }
        for key in local_keys(&self.root, &self.root.join("findings")) {
            if !remote.contains_key(&key) {
                self.remove_local(&key, &mut sum)?;
            }
        }
        self.remote_findings = remote.into_keys().collect();
        self.pulled_to = Some(*days.end());
        self.save()?;
        Ok(sum)
    }

    /// Each local profile day's marker bytes.
    fn local_markers(&self) -> BTreeMap<NaiveDate, Vec<u8>> {
        local_keys(&self.root, &self.root.join(STORE_DIR))
            .into_iter()
            .filter(|k| k.ends_with(MARKER))
            .filter_map(|k| Some((key_date(&k)?, std::fs::read(self.root.join(&k)).ok()?)))
            .collect()
    }

    fn upload(&mut self, key: &str) -> Result<()> {
        let path = self.root.join(key);
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        self.remote.put(key, Bytes::from(bytes))
    }

    /// Records the remote stamps of `keys` after they were uploaded (one listing of
    /// `prefix`), so that the next pull knows its own uploads.
    fn record(&mut self, prefix: &str, keys: &BTreeSet<String>) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        for (key, meta) in self.remote.list_rel(prefix)? {
            if keys.contains(&key) {
                let stamp = Stamp::copied(&meta, &self.root.join(&key));
                self.state.objects.insert(key, stamp);
            }
        }
        Ok(())
    }

    /// Uploads the profile days rebuilt since [`Mirror::pull`] (marker changed or new) and
    /// deletes the remote days, up to the pulled range's end, that the store deleted
    /// locally; returns (days uploaded, days deleted).
    ///
    /// # Errors
    /// [`Error::Storage`] for a failed put or delete, [`Error::Io`] for a local read.
    pub fn push_profiles(&mut self) -> Result<(usize, usize)> {
        let now = self.local_markers();
        let mut uploaded = BTreeSet::new();
        let mut days_up = 0;
        for (d, marker) in &now {
            if self.markers.get(d) == Some(marker) {
                continue;
            }
            let marker_key = format!("{STORE_DIR}/date={d}/{MARKER}");
            // As the store does locally: no marker while the tables change.
            self.remote.delete(&marker_key)?;
            let dir = self.root.join(STORE_DIR).join(format!("date={d}"));
            let mut keys = local_keys(&self.root, &dir);
            keys.sort_by_key(|k| k.ends_with(MARKER));
            for key in &keys {
                self.upload(key)?;
                uploaded.insert(key.clone());
            }
            for key in self.remote_profiles.get(d).into_iter().flatten().filter(|k| !keys.contains(k)) {
                self.remote.delete(key)?;
                self.state.objects.remove(key);
            }
            self.remote_profiles.insert(*d, keys);
            days_up += 1;
        }
        let gone: Vec<NaiveDate> = self.remote_profiles.keys().copied().filter(|d| !now.contains_key(d) && self.pulled_to.is_some_and(|end| *d <= end)).collect();
        for d in &gone {
            let mut keys = self.remote_profiles.remove(d).unwrap_or_default();
            // The marker first: a reader never sees a marker whose tables are gone.
            keys.sort_by_key(|k| !k.ends_with(MARKER));
            for key in keys {
                self.remote.delete(&key)?;
                self.state.objects.remove(&key);
            }
        }
        self.record(STORE_DIR, &uploaded)?;
        self.markers = now;
        self.save()?;
        Ok((days_up, gone.len()))
    }

    /// Uploads `written` (local findings files of this run, as returned by
    /// [`crate::findings::write_findings`]) and deletes the remote findings files that no
    /// longer exist locally (merged into another file, or a day left without findings);
    /// returns (files uploaded, files deleted).
    ///
    /// # Errors
    /// [`Error::Input`] for a path outside the mirror, [`Error::Storage`] for a failed put or
    /// delete, [`Error::Io`] for a local read.
    pub fn push_findings(&mut self, written: &[PathBuf]) -> Result<(usize, usize)> {
        let mut uploaded = BTreeSet::new();
        for path in written {
            let rel = path.strip_prefix(&self.root).map_err(|_| Error::Input { path: path.display().to_string(), message: format!("not inside the lake mirror {}", self.root.display()) })?;
            let key = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
            if uploaded.insert(key.clone()) {
                self.upload(&key)?;
            }
        }
        let local: BTreeSet<String> = local_keys(&self.root, &self.root.join("findings")).into_iter().collect();
        let gone: Vec<String> = self.remote_findings.iter().filter(|k| !local.contains(*k)).cloned().collect();
        for key in &gone {
            self.remote.delete(key)?;
            self.state.objects.remove(key);
        }
        self.record("findings", &uploaded)?;
        self.remote_findings = local;
        self.save()?;
        Ok((uploaded.len(), gone.len()))
    }
}

#[cfg(test)]
mod tests;
