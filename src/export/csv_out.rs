//! Findings as CSV for spreadsheets: one row per finding, flat columns, lists joined with
//! `;`, times RFC 3339 UTC.
//!
//! Spreadsheet formula injection: a cell whose text starts with `=`, `+`, `-`, `@`, a tab or
//! a carriage return is run as a formula by Excel / LibreOffice / Google Sheets. Audit-log
//! values are attacker-controlled (a user agent, a resource name, a principal name), so
//! such cells get a leading `'`, as the OWASP "CSV Injection" page advises. Numbers are
//! written by cloudsift itself and are left as they are (a negative number stays a number).

use std::io::Write;

use crate::findings::Finding;

/// Header of [`write_csv`], in column order.
pub const CSV_COLUMNS: [&str; 29] = [
    "finding_uid",
    "analytic_uid",
    "severity",
    "risk_score",
    "title",
    "description",
    "window_start",
    "window_end",
    "provider",
    "account_uid",
    "region",
    "actor_uid",
    "src_ip",
    "user_agent",
    "service",
    "operation",
    "resource_uid",
    "observed",
    "expected",
    "baseline_days",
    "p_value",
    "p_value_adjusted",
    "data_component",
    "attack_techniques",
    "attack_version",
    "evidence_count",
    "evidence_event_uids",
    "suppressed",
    "suppression_reason",
];

/// `text` with a leading `'` when a spreadsheet would read it as a formula (see the module
/// doc); other text unchanged.
pub fn neutralise_formula(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

fn opt_num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes the header and one row per finding (quoting by the `csv` crate: RFC 4180).
///
/// # Errors
/// The writer's I/O error.
pub fn write_csv<W: Write>(out: W, findings: &[Finding]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let map = |e: csv::Error| std::io::Error::other(e.to_string());
    w.write_record(CSV_COLUMNS).map_err(map)?;
    for f in findings {
        let text = |s: &str| neutralise_formula(s);
        let opt = |s: &Option<String>| s.as_deref().map(neutralise_formula).unwrap_or_default();
        let row = [
            text(&f.finding_uid),
            text(&f.analytic_uid),
            f.severity.as_str().to_string(),
            f.risk_score.to_string(),
            text(&f.title),
            text(&f.description),
            f.window_start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            f.window_end.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            text(&f.provider),
            text(&f.account_uid),
            opt(&f.region),
            opt(&f.actor_uid),
            opt(&f.src_ip),
            opt(&f.user_agent),
            opt(&f.service),
            opt(&f.operation),
            opt(&f.resource_uid),
            f.observed.to_string(),
            opt_num(f.expected),
            f.baseline_days.to_string(),
            opt_num(f.p_value),
            opt_num(f.p_value_adjusted),
            text(&f.data_component),
            text(&f.attack_techniques.join(";")),
            text(&f.attack_version),
            f.evidence_count.to_string(),
            text(&f.evidence_event_uids.join(";")),
            f.suppressed.to_string(),
            opt(&f.suppression_reason),
        ];
        w.write_record(&row).map_err(map)?;
    }
    w.flush()
}
