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

/// Everything the lake's runs have processed.
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
