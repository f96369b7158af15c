//! The manifest of processed objects: one JSON-lines object per run under
//! `state/manifest/`, written last by a run. An object is processed again only when its
//! key, size or ETag (or, on stores without ETags, last-modified time) changed; its events
//! are then deduplicated against the lake.

use std::collections::HashSet;

use bytes::Bytes;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::storage::Location;
use crate::{Error, Result};

/// One processed object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The object as shown in `source_object` (input location text + key).
    pub object: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag, or the last-modified time in RFC 3339 when the store gives none.
    pub version: String,
    pub run_uid: String,
}

impl ManifestEntry {
    pub fn new(object: &str, meta: &ObjectMeta, run_uid: &str) -> Self {
        ManifestEntry { object: object.to_string(), size: meta.size, version: version_of(meta), run_uid: run_uid.to_string() }
    }
}

fn version_of(meta: &ObjectMeta) -> String {
    meta.e_tag.clone().unwrap_or_else(|| meta.last_modified.to_rfc3339())
}

/// Everything the lake's runs have processed. Loading reads only complete `*.jsonl`
/// objects.
#[derive(Debug, Default)]
pub struct Manifest {
    seen: HashSet<(String, u64, String)>,
}

impl Manifest {
    /// Loads every run's manifest file.
    ///
    /// # Errors
    /// Storage failures; a manifest line that is not JSON is a [`Error::Lake`] naming it.
    pub fn load(lake: &Location) -> Result<Self> {
        let mut seen = HashSet::new();
        for (rel, _) in lake.list_rel("state/manifest")? {
            // A local put killed half-way leaves its staging file (`<name>.jsonl#1`) beside
            // the real ones: it is not a manifest, and its last line may be cut.
            if !rel.ends_with(".jsonl") {
                continue;
            }
            let Some(bytes) = lake.get_rel(&rel)? else { continue };
            for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let e: ManifestEntry = serde_json::from_str(line).map_err(|e| Error::lake(format!("{rel} line {}", n + 1), e))?;
                seen.insert((e.object, e.size, e.version));
            }
        }
        Ok(Manifest { seen })
    }

    /// True when this object, unchanged, was processed by an earlier run.
    pub fn contains(&self, object: &str, meta: &ObjectMeta) -> bool {
        self.seen.contains(&(object.to_string(), meta.size, version_of(meta)))
    }

    /// Writes a run's entries as `state/manifest/<run>.jsonl` (one atomic put).
    ///
    /// # Errors
    /// Storage failures.
    pub fn append(lake: &Location, run_uid: &str, entries: &[ManifestEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for e in entries {
            text.push_str(&serde_json::to_string(e).expect("manifest entry serialises"));
            text.push('\n');
        }
        lake.put(&format!("state/manifest/{run_uid}.jsonl"), Bytes::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, size: u64, etag: &str) -> ObjectMeta {
        ObjectMeta { location: key.into(), last_modified: chrono::Utc::now(), size, e_tag: Some(etag.into()), version: None }
    }

    /// Regression (crash test): a run SIGKILLed while the local store was writing its
    /// manifest left `state/manifest/<run>.jsonl#1` with a cut last line, and every later
    /// run failed to load the manifest.
    #[test]
    fn staging_files_of_a_killed_put_are_not_read_and_a_new_etag_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Location::parse_output(dir.path().to_str().unwrap(), &[]).unwrap();
        let m = meta("a.json", 10, "\"e1\"");
        Manifest::append(&lake, "run-1", &[ManifestEntry::new("s3://b/a.json", &m, "run-1")]).unwrap();
        std::fs::write(dir.path().join("state/manifest/run-2.jsonl#1"), "{\"object\":\"s3://b/x.json\",\"si").unwrap();
        let loaded = Manifest::load(&lake).unwrap();
        assert!(loaded.contains("s3://b/a.json", &m));
        assert!(!loaded.contains("s3://b/a.json", &meta("a.json", 10, "\"e2\"")));
        assert!(!loaded.contains("s3://b/a.json", &meta("a.json", 11, "\"e1\"")));
    }
}
