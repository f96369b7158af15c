//! Pipeline files (TOML) → a validated [`Pipeline`] plan. Relative paths in a pipeline file
//! are resolved against the file's own folder, so a job runs the same from any working
//! directory (cron, Kubernetes, Airflow).
//!
//! ```toml
//! [pipeline]
//! name = "default"
//!
//! [[sources]]
//! name = "samples"               # shown in summaries
//! url = "../data/samples/aws"    # path or object-store URL prefix
//! format = "auto"                # or cloudtrail, m365_audit, ...
//!
//! [[sources]]
//! name = "synthetic-org"
//! url = "../out/generated/AWSLogs"  # the logs; labels.jsonl stays beside, outside the input
//! generate = { out = "../out/generated", days = 30, seed = 7, scale = 0.05, end = "2024-03-31" }
//!
//! [lake]
//! url = "../out/lake"
//! keep_raw_event = true
//!
//! [detect]
//! window_hours = 24
//!
//! [analytics.secret_access_volume]   # see docs/analytics.md
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::schema::LogFormat;
use crate::{Error, Result};

/// A pipeline file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    #[serde(default)]
    pub pipeline: PipelineMeta,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    pub lake: LakeConfig,
    #[serde(default)]
    pub detect: DetectConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    /// Per-analytic parameters; validated by [`crate::analytics`].
    #[serde(default)]
    pub analytics: toml::Table,
    /// object_store options (endpoint overrides and the like), applied to every location.
    #[serde(default)]
    pub storage_options: std::collections::BTreeMap<String, String>,
    /// `[[suppressions]]`: accepted finding patterns, see [`crate::suppressions`].
    #[serde(default)]
    pub suppressions: Vec<crate::suppressions::SuppressionConfig>,
    /// `[[allowlist]]`: trusted principals, networks or user agents, see [`crate::suppressions`].
    #[serde(default)]
    pub allowlist: Vec<crate::suppressions::SuppressionConfig>,
    /// `[profiles]`: the profile store's forget window, see [`crate::profiles::store`].
    #[serde(default)]
    pub profiles: crate::profiles::store::ProfileSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineMeta {
    #[serde(default = "default_name")]
    pub name: String,
}

fn default_name() -> String {
    "pipeline".into()
}

/// One input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    /// Path (relative to the pipeline file) or URL prefix.
    pub url: String,
    /// A `log_format` name or `auto`.
    #[serde(default = "auto")]
    pub format: String,
    /// Make a synthetic organisation here when the folder is missing or empty.
    #[serde(default)]
    pub generate: Option<GenerateConfig>,
    /// List only the date folders (CloudTrail `YYYY/MM/DD`, Azure `y=/m=/d=`, GCS sink
    /// `YYYY/MM/DD`) of the last N days up to `--as-of`, so that a daily run over an
    /// organisation trail does not list years of keys; keys outside date folders are always
    /// listed. Default: list everything (the manifest still skips what was read).
    #[serde(default)]
    pub lookback_days: Option<u32>,
}

fn auto() -> String {
    "auto".into()
}

/// Parameters of a generated source (see [`crate::generate`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Folder the generator writes (`AWSLogs/...` and `labels.jsonl`), relative to the
    /// pipeline file; the source's `url` should point at its `AWSLogs` folder so that the
    /// labels are not read as logs.
    pub out: String,
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_scale")]
    pub scale: f64,
    /// Last day generated, `YYYY-MM-DD`.
    pub end: String,
}

fn default_days() -> u32 {
    30
}
fn default_seed() -> u64 {
    7
}
fn default_scale() -> f64 {
    0.05
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    pub url: String,
    #[serde(default = "yes")]
    pub keep_raw_event: bool,
}

fn yes() -> bool {
    true
}

/// Detection window settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Length of one scoring window, hours (default 24).
    #[serde(default = "default_window")]
    pub window_hours: u32,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig { window_hours: default_window() }
    }
}

fn default_window() -> u32 {
    24
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Extra catalogue files or folders (relative to the pipeline file).
    #[serde(default)]
    pub extra: Vec<String>,
}

/// A validated pipeline: paths resolved, formats parsed.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub file: PathBuf,
    pub sources: Vec<Source>,
    pub lake_url: String,
    pub keep_raw_event: bool,
    pub window_hours: u32,
    pub catalog_extra: Vec<PathBuf>,
    pub analytics: toml::Table,
    pub storage_options: Vec<(String, String)>,
    /// Validated `[[suppressions]]` and `[[allowlist]]` entries, in file order.
    pub suppressions: Vec<crate::suppressions::Suppression>,
    /// Validated `[profiles]`.
    pub profiles: crate::profiles::store::ProfileSettings,
}

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub url: String,
    pub format: Option<LogFormat>,
    pub generate: Option<GenerateConfig>,
    /// See [`SourceConfig::lookback_days`].
    pub lookback_days: Option<u32>,
}

impl Pipeline {
    /// Reads and validates a pipeline file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and key for unreadable TOML, unknown keys, unknown
    /// formats, or a pipeline without sources.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::config(path.display().to_string(), format!("cannot read pipeline file: {e}")))?;
        let file: PipelineFile = toml::from_str(&text).map_err(|e| Error::config(path.display().to_string(), e.to_string()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |u: &str| -> String {
            if u.contains("://") || Path::new(u).is_absolute() {
                u.to_string()
            } else {
                base.join(u).to_string_lossy().into_owned()
            }
        };
        if file.sources.is_empty() {
            return Err(Error::config(format!("{}: sources", path.display()), "a pipeline needs at least one [[sources]] entry"));
        }
        let mut sources = Vec::new();
        for (i, s) in file.sources.iter().enumerate() {
            let format = if s.format == "auto" {
                None
            } else {
                Some(LogFormat::parse(&s.format).ok_or_else(|| {
                    let valid: Vec<&str> = LogFormat::ALL.iter().map(|f| f.as_str()).collect();
                    Error::config(format!("{}: sources[{i}].format", path.display()), format!("unknown format `{}`; valid: auto, {}", s.format, valid.join(", ")))
                })?)
            };
            let generate = s.generate.clone().map(|mut g| {
                g.out = resolve(&g.out);
                g
            });
            if s.lookback_days == Some(0) {
                return Err(Error::config(format!("{}: sources[{i}].lookback_days", path.display()), "must be at least 1 (omit it to list every day)"));
            }
            sources.push(Source { name: s.name.clone(), url: resolve(&s.url), format, generate, lookback_days: s.lookback_days });
        }
        let suppressions = crate::suppressions::build(&path.display().to_string(), &file.suppressions, &file.allowlist, &crate::analytics::ANALYTIC_IDS)?;
        file.profiles.validate().map_err(|e| Error::config(format!("{}: profiles.forget_days", path.display()), e.to_string()))?;
        if file.detect.window_hours == 0 {
            return Err(Error::config(format!("{}: detect.window_hours", path.display()), "must be at least 1"));
        }
        Ok(Pipeline {
            name: file.pipeline.name,
            file: path.to_path_buf(),
            sources,
            lake_url: resolve(&file.lake.url),
            keep_raw_event: file.lake.keep_raw_event,
            window_hours: file.detect.window_hours,
            catalog_extra: file.catalog.extra.iter().map(|e| PathBuf::from(resolve(e))).collect(),
            analytics: file.analytics,
            storage_options: file.storage_options.into_iter().collect(),
            suppressions,
            profiles: file.profiles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Pipeline> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.toml");
        std::fs::write(&p, text).unwrap();
        Pipeline::load(&p)
    }

    #[test]
    fn resolves_paths_against_the_file() {
        let p = load("[[sources]]\nname='s'\nurl='../logs'\n[lake]\nurl='lake'\n").unwrap();
        assert!(p.sources[0].url.ends_with("/../logs"));
        assert!(p.lake_url.ends_with("/lake"));
        assert_eq!(p.sources[0].format, None);
        let p = load("[[sources]]\nname='s'\nurl='s3://b/AWSLogs/'\nformat='cloudtrail'\n[lake]\nurl='s3://b/lake'\n").unwrap();
        assert_eq!(p.sources[0].url, "s3://b/AWSLogs/");
        assert_eq!(p.sources[0].format, Some(LogFormat::CloudTrail));
    }

    #[test]
    fn lookback_days_is_read_and_checked() {
        let p = load("[[sources]]\nname='s'\nurl='x'\nlookback_days = 3\n[lake]\nurl='l'\n").unwrap();
        assert_eq!(p.sources[0].lookback_days, Some(3));
        let e = load("[[sources]]\nname='s'\nurl='x'\nlookback_days = 0\n[lake]\nurl='l'\n").unwrap_err().to_string();
        assert!(e.contains("sources[0].lookback_days"), "{e}");
    }

    #[test]
    fn profiles_forget_window_is_read_and_checked() {
        let p = load("[[sources]]\nname='s'\nurl='x'\n[lake]\nurl='l'\n").unwrap();
        assert_eq!(p.profiles.forget_days, 90);
        let p = load("[[sources]]\nname='s'\nurl='x'\n[lake]\nurl='l'\n[profiles]\nforget_days = 30\n").unwrap();
        assert_eq!(p.profiles.forget_days, 30);
        let e = load("[[sources]]\nname='s'\nurl='x'\n[lake]\nurl='l'\n[profiles]\nforget_days = 0\n").unwrap_err().to_string();
        assert!(e.contains("profiles.forget_days"), "{e}");
        let e = load("[[sources]]\nname='s'\nurl='x'\n[lake]\nurl='l'\n[profiles]\nforget = 3\n").unwrap_err().to_string();
        assert!(e.contains("forget"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let e = load("[[sources]]\nname='s'\nurl='x'\nformat='syslog'\n[lake]\nurl='l'\n").unwrap_err().to_string();
        assert!(e.contains("sources[0].format") && e.contains("cloudtrail"), "{e}");
        let e = load("[[sources]]\nname='s'\nurl='x'\nbogus=1\n[lake]\nurl='l'\n").unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
        let e = load("[lake]\nurl='l'\n").unwrap_err().to_string();
        assert!(e.contains("sources"), "{e}");
    }
}
