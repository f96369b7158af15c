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
//! request_true = []                         # request_params keys that must be JSON true
//! data_component = "disable"                # disable | enumeration | metadata | modification | ...
//! tags = ["logging_disable"]
//! techniques = ["T1562.008", "T1685.002"]
//! attack_version = "19"                     # newest ATT&CK version the ids were checked against
//! description = "Suspends recording for a trail."
//! references = ["https://..."]
//! ```
//! Matching is ASCII case-insensitive (Azure writes the same operation in several casings).
//! An exact match beats any prefix; among prefixes the longest wins, so a specific prefix
//! (`GetBucket`) can refine a general one (`Get`). Entries from every loaded file that win
//! are all returned.
//!
//! The layout follows WithSecureLabs/chainsaw (a serde struct mirroring the file, a `lint`
//! whose messages carry the path and cause) and matanolabs/matano (ATT&CK ids and
//! references belong to the detection content).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::schema::Provider;
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
    /// A [`Provider`] name (`aws`, `azure`, `gcp`, `m365`, `entra`).
    pub provider: String,
    /// The lake's `service` value (CloudTrail eventSource, M365 Workload, ...).
    pub service: String,
    /// Exact `operation` values.
    #[serde(default)]
    pub operations: Vec<String>,
    /// `operation` prefixes (for names with version suffixes, or whole verb families).
    #[serde(default)]
    pub operation_prefixes: Vec<String>,
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

    /// Entries that describe `operation` of `service` at `provider`: all entries listing
    /// it exactly if any do, else all entries with the longest matching prefix; empty if
    /// none match. Case-insensitive. `request_true` conditions are not checked here (see
    /// [`Entry::matches_request`]).
    pub fn lookup(&self, provider: &str, service: &str, operation: &str) -> Vec<&Entry> {
        let key = (provider.to_ascii_lowercase(), service.to_ascii_lowercase());
        let Some(idxs) = self.by_service.get(&key) else {
            return Vec::new();
        };
        let candidates = idxs.iter().map(|&i| &self.entries[i]);
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
        let prefix_len = |e: &Entry| {
            e.operation_prefixes
                .iter()
                .filter(|p| {
                    !p.is_empty()
                        && operation.len() >= p.len()
                        && operation.is_char_boundary(p.len())
                        && operation[..p.len()].eq_ignore_ascii_case(p)
                })
                .map(|p| p.len())
                .max()
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
                .chain(e.operation_prefixes.iter().map(|p| format!("{p}*")));
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

/// The kind of a lint problem (for tests and for tools that filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintKind {
    /// The file is not valid TOML or has fields outside the entry shape.
    Parse,
    /// `provider` is not a [`Provider`] name.
    UnknownProvider,
    /// `service` is empty.
    EmptyService,
    /// No operation or prefix, or an empty string among them.
    EmptyOperation,
    /// `data_component` is not one of [`DATA_COMPONENTS`].
    UnknownDataComponent,
    /// A tag outside [`TAGS`].
    UnknownTag,
    /// A technique id that is not `T1234` or `T1234.001`.
    MalformedTechnique,
    /// Techniques listed without `attack_version`.
    MissingAttackVersion,
    /// `attack_version` is not a version number.
    MalformedAttackVersion,
    /// A renumbered technique listed without its counterpart (see [`ATTACK_RENUMBERED`]).
    RenumberedTechnique,
    /// The same (provider, service, operation or prefix) twice in the file.
    DuplicateEntry,
    /// `description` is empty.
    MissingDescription,
}

/// One lint problem: file, entry (number and label) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// The file, as given.
    pub path: String,
    /// `entry 3 (aws cloudtrail.amazonaws.com StopLogging)`; `None` for file-level problems.
    pub entry: Option<String>,
    /// What kind of problem.
    pub kind: LintKind,
    /// The cause, naming the offending value and the valid ones where there is a list.
    pub message: String,
}

impl fmt::Display for LintIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{}: {}: {}", self.path, e, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
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

/// Lints one catalogue file. Unreadable files and TOML errors give one [`LintKind::Parse`]
/// issue; otherwise every problem of every entry is reported.
pub fn lint(path: &Path) -> Vec<LintIssue> {
    let origin = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => lint_str(&text, &origin),
        Err(e) => vec![LintIssue {
            path: origin,
            entry: None,
            kind: LintKind::Parse,
            message: format!("cannot read: {e}"),
        }],
    }
}

fn valid_technique(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// [`lint`] over the catalogue files compiled into the binary (for `cloudsift catalog
/// lint` without arguments); empty when they are clean.
pub fn lint_builtin() -> Vec<LintIssue> {
    BUILTIN
        .iter()
        .flat_map(|(origin, text)| lint_str(text, origin))
        .collect()
}

/// [`lint`] over text already read; `origin` names the file in messages.
pub fn lint_str(text: &str, origin: &str) -> Vec<LintIssue> {
    let entries = match parse(text, origin) {
        Ok(e) => e,
        Err(e) => {
            let message = e
                .message
                .strip_prefix(&format!("{origin}: "))
                .unwrap_or(&e.message)
                .to_string();
            return vec![LintIssue {
                path: origin.into(),
                entry: None,
                kind: LintKind::Parse,
                message,
            }];
        }
    };
    let mut issues = Vec::new();
    // A user's file must not silently remap an operation the builtin catalogue maps: the
    // lookup would then give it two data components. Builtin keys are seeded first.
    let mut seen: HashMap<(String, String, String), String> = HashMap::new();
    if !BUILTIN.iter().any(|(o, _)| *o == origin) {
        for (b_origin, b_text) in BUILTIN {
            if let Ok(file) = toml::from_str::<CatalogFile>(b_text) {
                for (i, e) in file.entry.iter().enumerate() {
                    let ops = e.operations.iter().map(|o| ("", o)).chain(e.operation_prefixes.iter().map(|p| ("*", p)));
                    for (suffix, op) in ops {
                        let key = (e.provider.to_ascii_lowercase(), e.service.to_ascii_lowercase(), format!("{}{suffix}", op.to_ascii_lowercase()));
                        seen.insert(key, format!("builtin entry {} of {b_origin}", i + 1));
                    }
                }
            }
        }
    }
    for e in &entries {
        let entry = Some(format!("entry {} ({})", e.index, e.label()));
        let mut issue = |kind: LintKind, message: String| {
            issues.push(LintIssue {
                path: origin.into(),
                entry: entry.clone(),
                kind,
                message,
            })
        };
        if Provider::parse(&e.provider).is_none() {
            let valid: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
            issue(
                LintKind::UnknownProvider,
                format!(
                    "unknown provider `{}`; valid: {}",
                    e.provider,
                    valid.join(", ")
                ),
            );
        }
        if e.service.trim().is_empty() {
            issue(LintKind::EmptyService, "empty service".into());
        }
        if e.operations.is_empty() && e.operation_prefixes.is_empty() {
            issue(
                LintKind::EmptyOperation,
                "no `operations` or `operation_prefixes`".into(),
            );
        }
        if e.operations
            .iter()
            .chain(&e.operation_prefixes)
            .any(|o| o.trim().is_empty())
        {
            issue(LintKind::EmptyOperation, "empty operation or prefix".into());
        }
        if !DATA_COMPONENTS.contains(&e.data_component.as_str()) {
            issue(
                LintKind::UnknownDataComponent,
                format!(
                    "unknown data component `{}`; valid: {}",
                    e.data_component,
                    DATA_COMPONENTS.join(", ")
                ),
            );
        }
        for t in e.tags.iter().filter(|t| !TAGS.contains(&t.as_str())) {
            issue(
                LintKind::UnknownTag,
                format!("unknown tag `{t}`; valid: {}", TAGS.join(", ")),
            );
        }
        for t in e.techniques.iter().filter(|t| !valid_technique(t)) {
            issue(
                LintKind::MalformedTechnique,
                format!("malformed technique id `{t}` (expected T1234 or T1234.001)"),
            );
        }
        match (&e.attack_version, e.attack_major()) {
            (None, _) if !e.techniques.is_empty() => issue(
                LintKind::MissingAttackVersion,
                "techniques without `attack_version`".into(),
            ),
            (Some(v), None) => issue(
                LintKind::MalformedAttackVersion,
                format!("malformed attack_version `{v}` (expected e.g. \"19\")"),
            ),
            _ => {}
        }
        let has = |id: &str| e.techniques.iter().any(|t| t == id);
        for (old, new, since) in ATTACK_RENUMBERED {
            if has(old) != has(new) {
                issue(
                    LintKind::RenumberedTechnique,
                    format!("{old} became {new} in ATT&CK v{since}: list both so that searches on either match"),
                );
            } else if has(new) && e.attack_major().is_some_and(|v| v < *since) {
                issue(
                    LintKind::RenumberedTechnique,
                    format!("{new} exists from ATT&CK v{since}; attack_version is older"),
                );
            }
        }
        if e.description.trim().is_empty() {
            issue(LintKind::MissingDescription, "missing description".into());
        }
        let mut keys = HashSet::new();
        let ops = e
            .operations
            .iter()
            .map(|o| ("", o))
            .chain(e.operation_prefixes.iter().map(|p| ("*", p)));
        for (suffix, op) in ops {
            let key = (
                e.provider.to_ascii_lowercase(),
                e.service.to_ascii_lowercase(),
                format!("{}{suffix}", op.to_ascii_lowercase()),
            );
            if !keys.insert(key.clone()) {
                issue(
                    LintKind::DuplicateEntry,
                    format!("`{op}{suffix}` listed twice"),
                );
            } else if let Some(first) = seen.insert(key, format!("entry {}", e.index)) {
                issue(
                    LintKind::DuplicateEntry,
                    format!("`{op}{suffix}` already mapped by {first}"),
                );
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests;
