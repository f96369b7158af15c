//! `cloudsift export`: selected findings as OCSF Detection Finding JSON lines, CSV or
//! JSON lines, to stdout or (atomically) to a file. Reads the lake only.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Duration;

use super::detect::{parse_instant, severity_of};
use super::{emit, exit};
use crate::cli::{ExportArgs, ExportFormatArg, LakeSourceArgs};
use crate::export::{self, ocsf, Selection};
use crate::findings::{self, Finding};
use crate::pipeline::Pipeline;
use crate::{Error, Result};

/// The lake folder named by `--lake`, or by `--pipeline`'s `[lake] url`; it must hold
/// `events/` or `findings/` (a typo in a scheduled export must not yield an empty file).
///
/// # Errors
/// [`Error::Config`] for an object-store lake (read with polars from a local folder only),
/// [`Error::Input`] for a folder that is not a lake.
pub(crate) fn lake_root(a: &LakeSourceArgs) -> Result<PathBuf> {
    // An object-store lake is scored on a local mirror; that is the folder to read.
    let mirror_hint = |url: &str| {
        let dir = crate::lake::mirror::mirror_dir(&crate::lake::mirror::default_cache_root(), url).join("lake");
        format!("export and explain read a local lake folder; `cloudsift run` scores an object-store lake on a local mirror: use --lake {}", dir.display())
    };
    let root = match (&a.lake, &a.pipeline) {
        (Some(l), _) => {
            let t = l.to_string_lossy();
            if t.contains("://") && !t.starts_with("file://") {
                return Err(Error::config("--lake", mirror_hint(&t)));
            }
            l.clone()
        }
        (None, Some(p)) => {
            let p = Pipeline::load(p)?;
            if p.lake_url.contains("://") && !p.lake_url.starts_with("file://") {
                return Err(Error::config("lake.url", mirror_hint(&p.lake_url)));
            }
            PathBuf::from(p.lake_url.trim_start_matches("file://"))
        }
        (None, None) => return Err(Error::config("--lake", "give --lake DIR or --pipeline FILE")),
    };
    if root.join("events").is_dir() || root.join("findings").is_dir() {
        Ok(root)
    } else {
        Err(Error::Input { path: root.display().to_string(), message: "not a cloudsift lake (no events/ or findings/ folder); run `cloudsift ingest` first".into() })
    }
}

/// `--since/--until/--as-of/--min-severity/--analytic` as a [`Selection`].
fn selection(a: &ExportArgs) -> Result<Selection> {
    let mut sel = Selection {
        since: a.since.as_deref().map(|t| parse_instant("--since", t)).transpose()?,
        until: a.until.as_deref().map(|t| parse_instant("--until", t)).transpose()?,
        min_severity: a.min_severity.map(severity_of),
        analytics: a.analytics.clone(),
    };
    if let Some(t) = a.as_of.as_deref() {
        // `window_end` of a day scored by `run` is the next midnight: (as_of - 24 h, as_of].
        let t = parse_instant("--as-of", t)? + Duration::microseconds(1);
        sel.since = Some(t - Duration::hours(24));
        sel.until = Some(t);
    }
    if let (Some(s), Some(u)) = (sel.since, sel.until) {
        if s >= u {
            return Err(Error::config("--since/--until", "--since must be before --until"));
        }
    }
    Ok(sel)
}

/// The export of `found` in `format` as bytes.
///
/// # Errors
/// [`Error::Lake`] / [`Error::Io`] reading evidence events (OCSF only).
pub(crate) fn render(lake_root: &Path, found: &[Finding], format: ExportFormatArg) -> Result<Vec<u8>> {
    let io = |source| Error::Io { path: "<export buffer>".into(), source };
    let mut buf = Vec::new();
    match format {
        ExportFormatArg::Ocsf => {
            let events = export::evidence_events(lake_root, found)?;
            for f in found {
                let rec = ocsf::to_ocsf(f, events.get(&f.finding_uid).map(Vec::as_slice).unwrap_or_default());
                serde_json::to_writer(&mut buf, &rec).map_err(|e| io(e.into()))?;
                buf.push(b'\n');
            }
        }
        ExportFormatArg::Csv => export::write_csv(&mut buf, found).map_err(io)?,
        ExportFormatArg::Jsonl => findings::write_jsonl(&mut buf, found).map_err(io)?,
    }
    Ok(buf)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// a reader (a SIEM's file watcher) never sees half an export.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// `cloudsift export`.
pub fn run(a: &ExportArgs) -> Result<i32> {
    let root = lake_root(&a.source)?;
    let sel = selection(a)?;
    let found = export::select(&root, &sel)?;
    let bytes = render(&root, &found, a.format)?;
    match &a.output {
        Some(path) => {
            write_atomic(path, &bytes)?;
            super::errln!("exported {} finding(s) to {}", found.len(), path.display());
        }
        None => emit(&String::from_utf8_lossy(&bytes))?,
    }
    Ok(exit::OK)
}
