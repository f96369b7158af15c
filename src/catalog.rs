//! Detection content as data: `catalog/*.toml` maps (provider, service, operation or
//! operation prefix) to an ATT&CK data component, tags that analytics select on, and
//! ATT&CK techniques (DESIGN.md "Catalogue").
//!
//! File shape (one `[[entry]]` per group of operations sharing the same meaning):
//! ```toml
//! [[entry]]
//! provider = "aws"                          # a schema::Provider name
//! service = "cloudtrail.amazonaws.com"      # the lake's `service` column
//! operations = ["StopLogging"]              # exact `operation` values ...
//! operation_prefixes = []                   # ... and/or prefixes (Lambda's CreateFunction20150331)
//! operation_suffixes = []                   # ... and/or suffixes (Azure's <resource>/providers/Microsoft.Insights/diagnosticSettings/delete)
//! request_true = []                         # request_params keys that must be JSON true
//! data_component = "disable"                # disable | enumeration | metadata | modification | ...
//! tags = ["logging_disable"]
//! techniques = ["T1562.008", "T1685.002"]
//! attack_version = "19"                     # newest ATT&CK version the ids were checked against
//! description = "Suspends recording for a trail."
//! references = ["https://..."]
//! ```
//! Matching is ASCII case-insensitive (Azure writes the same operation in several casings).
//! An exact match beats any prefix or suffix; among prefixes and suffixes the longest wins,
//! so a specific prefix (`GetBucket`) can refine a general one (`Get`). Entries from every
//! loaded file that win are all returned. `service = "*"` applies an entry to every service
//! of its provider: Azure logs a diagnostic setting of any resource under that resource's
//! provider (`Microsoft.Network/networkSecurityGroups/providers/Microsoft.Insights/
//! diagnosticSettings/delete` has service `Microsoft.Network`).
//!
//! The layout follows WithSecureLabs/chainsaw (a serde struct mirroring the file, a `lint`
//! whose messages carry the path and cause) and matanolabs/matano (ATT&CK ids and
//! references belong to the detection content).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The catalogue files compiled into the binary: (path shown in messages, TOML text).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

/// Add a line here when a `catalog/<provider>.toml` is added.
const BUILTIN: &[(&str, &str)] = &[
    ("catalog/aws.toml", include_str!("../catalog/aws.toml")),
    ("catalog/m365.toml", include_str!("../catalog/m365.toml")),
    ("catalog/entra.toml", include_str!("../catalog/entra.toml")),
    ("catalog/azure.toml", include_str!("../catalog/azure.toml")),
    ("catalog/gcp.toml", include_str!("../catalog/gcp.toml")),
];

/// ATT&CK data components (data source "Cloud Service") an entry may name.
/// Sessions and application-level reads are not "Cloud Service" components: they are
/// ATT&CK's "Logon Session Creation" (DS0028) and "Application Log Content" (DS0015).
pub const DATA_COMPONENTS: &[&str] = &[
    "disable",
    "enumeration",
    "metadata",
    "modification",
    "logon_session_creation",
    "application_log_content",
];

/// Tags the analytics understand. A tag outside this list is a lint error because no
/// analytic would ever select it.
pub const TAGS: &[&str] = &[
    "logging_disable",
    "secret_read",
    "discovery",
    "session_start",
    "file_access",
    "forwarding_rule",
    "quota_increase",
    "region_enable",
    "hierarchy_change",
    "event_trigger",
    "serverless_change",
    "conditional_access_change",
    "model_invoke",
    "service_enable",
];

/// Technique ids ATT&CK renumbered: (old id, new id, ATT&CK version of the change). An
/// entry naming either must name both, so that searches and reports keyed on either id
/// keep matching across the change.
pub const ATTACK_RENUMBERED: &[(&str, &str, u32)] = &[("T1562.008", "T1685.002", 19)];

/// One catalogue entry, as written in the file plus where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A [`crate::schema::Provider`] name (`aws`, `azure`, `gcp`, `m365`, `entra`).
    pub provider: String,
    /// The lake's `service` value (CloudTrail eventSource, M365 Workload, ...).
    pub service: String,
    /// Exact `operation` values.
    #[serde(default)]
    pub operations: Vec<String>,
    /// `operation` prefixes (for names with version suffixes, or whole verb families).
    #[serde(default)]
    pub operation_prefixes: Vec<String>,
    /// `operation` suffixes (an action on a sub-resource of any resource type).
    #[serde(default)]
    pub operation_suffixes: Vec<String>,
    /// Top-level `request_params` keys that must be JSON `true` for the entry to apply
    /// (SSM `withDecryption`). Empty: always applies.
    #[serde(default)]
    pub request_true: Vec<String>,
    /// One of [`DATA_COMPONENTS`].
    #[serde(default)]
    pub data_component: String,
    /// Some of [`TAGS`].
    #[serde(default)]
    pub tags: Vec<String>,
    /// ATT&CK technique ids (`T1234` or `T1234.001`).
    #[serde(default)]
    pub techniques: Vec<String>,
    /// The ATT&CK version the ids were checked against (`"17"`, `"19"`).
    #[serde(default)]
    pub attack_version: Option<String>,
    /// What the operations do and why they matter (shown in finding descriptions).
    #[serde(default)]
    pub description: String,
    /// URLs or rule names the mapping follows (API reference, detection rules, ATT&CK).
    #[serde(default)]
    pub references: Vec<String>,
    /// The file the entry came from (set at load).
    #[serde(skip)]
    pub origin: String,
    /// 1-based position of the entry in its file (set at load).
    #[serde(skip)]
    pub index: usize,
}

impl Entry {
    /// True when the entry carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// Whether the entry applies to a request with these parameters (JSON text): every
    /// key of `request_true` must be a top-level key whose value is JSON `true`. Entries
    /// without conditions apply to anything, including a NULL `request_params`.
    pub fn matches_request(&self, request_params: Option<&str>) -> bool {
        if self.request_true.is_empty() {
            return true;
        }
        let Some(Ok(serde_json::Value::Object(map))) =
            request_params.map(serde_json::from_str::<serde_json::Value>)
        else {
            return false;
        };
        self.request_true
            .iter()
            .all(|k| map.get(k) == Some(&serde_json::Value::Bool(true)))
    }

    /// The ATT&CK version as a number (`"19"` → 19, `"v17.1"` → 17); `None` if absent.
    pub fn attack_major(&self) -> Option<u32> {
        let v = self
            .attack_version
            .as_deref()?
            .trim()
            .trim_start_matches(['v', 'V']);
        v.split('.').next()?.parse().ok()
    }

    /// `provider service op1|op2|prefix*` for messages and tables.
    pub fn label(&self) -> String {
        let mut ops: Vec<String> = self.operations.clone();
        ops.extend(self.operation_prefixes.iter().map(|p| format!("{p}*")));
        ops.extend(self.operation_suffixes.iter().map(|p| format!("*{p}")));
        format!("{} {} {}", self.provider, self.service, ops.join("|"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    entry: Vec<Entry>,
}

/// The loaded catalogue, indexed by (provider, service).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<Entry>,
    by_service: HashMap<(String, String), Vec<usize>>,
}

impl Catalog {
    /// The catalogue compiled into the binary. A builtin file that fails lint is a bug
    /// ([`Error::Internal`]), caught by this module's tests.
    pub fn load_builtin() -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for (origin, text) in BUILTIN {
            let issues = lint_str(text, origin);
            if let Some(first) = issues.first() {
                return Err(Error::Internal(format!(
                    "builtin catalogue is invalid: {first}"
                )));
            }
            catalog.add(parse(text, origin).map_err(|e| Error::Internal(e.message))?);
        }
        Ok(catalog)
    }

    /// The builtin catalogue plus users' files: each path is a `.toml` file or a folder
    /// whose `*.toml` files are read in name order.
    ///
    /// Errors: [`Error::Io`] when a path cannot be read; [`Error::Config`] (key = the file)
    /// when a file does not parse or fails [`lint`], naming the first problem.
    pub fn load_dirs(extra: &[PathBuf]) -> Result<Catalog> {
        let mut catalog = Catalog::load_builtin()?;
        for path in extra {
            let files = if path.is_dir() {
                let rd = std::fs::read_dir(path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                let mut files = Vec::new();
                for e in rd {
                    let p = e
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?
                        .path();
                    if p.extension().is_some_and(|x| x == "toml") {
                        files.push(p);
                    }
                }
                files.sort();
                files
            } else {
                vec![path.clone()]
            };
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|source| Error::Io {
                    path: file.clone(),
                    source,
                })?;
                let origin = file.display().to_string();
                let issues = lint_str(&text, &origin);
                if let Some(first) = issues.first() {
                    let more = match issues.len() {
                        1 => String::new(),
                        n => format!(" (and {} more; run `cloudsift catalog lint`)", n - 1),
                    };
                    return Err(Error::config(
                        format!("catalog {origin}"),
                        format!("{first}{more}"),
                    ));
                }
                catalog.add(
                    parse(&text, &origin).map_err(|e| Error::config(origin.clone(), e.message))?,
                );
            }
        }
        Ok(catalog)
    }

    /// A catalogue from TOML text (for tests and embedding); errors as [`Catalog::load_dirs`].
    pub fn from_toml(text: &str, origin: &str) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        catalog.add(parse(text, origin).map_err(|e| Error::config(origin, e.message))?);
        Ok(catalog)
    }

    fn add(&mut self, entries: Vec<Entry>) {
        for e in entries {
            let key = (
                e.provider.to_ascii_lowercase(),
                e.service.to_ascii_lowercase(),
            );
            self.by_service
                .entry(key)
                .or_default()
                .push(self.entries.len());
            self.entries.push(e);
        }
    }

    /// Every entry, in load order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Entries that describe `operation` of `service` at `provider` (or of any service, for
    /// `service = "*"` entries): all entries listing it exactly if any do, else all entries
    /// with the longest matching prefix or suffix; empty if none match. Case-insensitive.
    /// `request_true` conditions are not checked here (see [`Entry::matches_request`]).
    pub fn lookup(&self, provider: &str, service: &str, operation: &str) -> Vec<&Entry> {
        let provider = provider.to_ascii_lowercase();
        let exact_service = self.by_service.get(&(provider.clone(), service.to_ascii_lowercase()));
        let any_service = self.by_service.get(&(provider, "*".to_string()));
        let candidates = exact_service.into_iter().chain(any_service).flatten().map(|&i| &self.entries[i]);
        let exact: Vec<&Entry> = candidates
            .clone()
            .filter(|e| {
                e.operations
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(operation))
            })
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let n = operation.len();
        let prefix_len = |e: &Entry| {
            let prefixes = e.operation_prefixes.iter().filter(|p| {
                !p.is_empty()
                    && n >= p.len()
                    && operation.is_char_boundary(p.len())
                    && operation[..p.len()].eq_ignore_ascii_case(p)
            });
            let suffixes = e.operation_suffixes.iter().filter(|p| {
                !p.is_empty()
                    && n >= p.len()
                    && operation.is_char_boundary(n - p.len())
                    && operation[n - p.len()..].eq_ignore_ascii_case(p)
            });
            prefixes.chain(suffixes).map(|p| p.len()).max()
        };
        let best = candidates.clone().filter_map(prefix_len).max();
        match best {
            Some(n) => candidates.filter(|e| prefix_len(e) == Some(n)).collect(),
            None => Vec::new(),
        }
    }

    /// [`Catalog::lookup`] narrowed to entries carrying `tag`.
    pub fn lookup_tagged(
        &self,
        provider: &str,
        service: &str,
        operation: &str,
        tag: &str,
    ) -> Vec<&Entry> {
        self.lookup(provider, service, operation)
            .into_iter()
            .filter(|e| e.has_tag(tag))
            .collect()
    }

    /// Every entry carrying `tag`, in load order.
    pub fn entries_with_tag(&self, tag: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.has_tag(tag)).collect()
    }

    /// The catalogue as a plain-text table for `cloudsift catalog list`: one row per
    /// operation (prefixes end in `*`), columns provider, service, operation, component,
    /// tags, techniques and ATT&CK version.
    pub fn render_table(&self) -> String {
        let header = [
            "PROVIDER",
            "SERVICE",
            "OPERATION",
            "COMPONENT",
            "TAGS",
            "TECHNIQUES",
            "ATT&CK",
        ];
        let mut rows: Vec<[String; 7]> = Vec::new();
        for e in &self.entries {
            let ops = e
                .operations
                .iter()
                .cloned()
                .chain(e.operation_prefixes.iter().map(|p| format!("{p}*")))
                .chain(e.operation_suffixes.iter().map(|p| format!("*{p}")));
            for op in ops {
                let op = if e.request_true.is_empty() {
                    op
                } else {
                    format!("{op} [{}=true]", e.request_true.join(","))
                };
                rows.push([
                    e.provider.clone(),
                    e.service.clone(),
                    op,
                    e.data_component.clone(),
                    e.tags.join(","),
                    e.techniques.join(","),
                    e.attack_version.clone().unwrap_or_default(),
                ]);
            }
        }
        let mut widths = header.map(str::len);
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            let s: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(s.join("  ").trim_end());
            out.push('\n');
        };
        line(&header);
        for r in &rows {
            line(&r.each_ref().map(String::as_str));
        }
        out
    }
}

struct ParseError {
    message: String,
}

fn parse(text: &str, origin: &str) -> std::result::Result<Vec<Entry>, ParseError> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| ParseError {
        message: format!("{origin}: {}", e.to_string().trim_end()),
    })?;
    Ok(file
        .entry
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.origin = origin.to_string();
            e.index = i + 1;
            e
        })
        .collect())
}

mod lint;
pub use lint::{lint, lint_builtin, lint_str, LintIssue, LintKind};

#[cfg(test)]
mod tests;
