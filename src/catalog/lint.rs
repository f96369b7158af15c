//! `cloudsift catalog lint`: checks of catalogue files (every problem with its file, entry
//! and cause; users' files may not remap an operation the builtin catalogue maps).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use super::{parse, CatalogFile, ATTACK_RENUMBERED, BUILTIN, DATA_COMPONENTS, TAGS};
use crate::schema::Provider;

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
                    for op in op_keys(e) {
                        let key = (e.provider.to_ascii_lowercase(), e.service.to_ascii_lowercase(), op);
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
        if e.operations.is_empty() && e.operation_prefixes.is_empty() && e.operation_suffixes.is_empty() {
            issue(
                LintKind::EmptyOperation,
                "no `operations`, `operation_prefixes` or `operation_suffixes`".into(),
            );
        }
        if e.operations
            .iter()
            .chain(&e.operation_prefixes)
            .chain(&e.operation_suffixes)
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
        for op in op_keys(e) {
            let key = (
                e.provider.to_ascii_lowercase(),
                e.service.to_ascii_lowercase(),
                op.clone(),
            );
            if !keys.insert(key.clone()) {
                issue(
                    LintKind::DuplicateEntry,
                    format!("`{op}` listed twice"),
                );
            } else if let Some(first) = seen.insert(key, format!("entry {}", e.index)) {
                issue(
                    LintKind::DuplicateEntry,
                    format!("`{op}` already mapped by {first}"),
                );
            }
        }
    }
    issues
}

/// An entry's operations as comparable keys: `op`, `prefix*`, `*suffix` (lower-case).
fn op_keys(e: &super::Entry) -> impl Iterator<Item = String> + '_ {
    e.operations
        .iter()
        .map(|o| o.to_ascii_lowercase())
        .chain(e.operation_prefixes.iter().map(|p| format!("{}*", p.to_ascii_lowercase())))
        .chain(e.operation_suffixes.iter().map(|p| format!("*{}", p.to_ascii_lowercase())))
}
