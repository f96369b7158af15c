//! `cloudsift explain <finding_uid>`: one finding, the baseline it was scored against, its
//! evidence events read back from the lake, and the commands that show more. Reads the
//! lake only (findings Parquet + event Parquet), so it works on a copied lake folder.

use std::fmt::Write as _;
use std::path::Path;

use super::export::lake_root;
use super::{emit, exit};
use crate::cli::ExplainArgs;
use crate::export::{self, attack, EvidenceEvent};
use crate::findings::Finding;
use crate::Result;

/// The method each built-in analytic scores with (DESIGN.md "Analytics"); shown beside
/// the numbers so that a reader knows what "expected" means.
const METHODS: &[(&str, &str)] = &[
    ("logging_disabled", "signal on the operation; severity raised when the initiator never did it before"),
    ("service_change_unexpected_initiator", "first-seen (actor, service) + count outlier"),
    ("enumeration_burst", "per-principal hourly count and distinct services vs own and peer baseline (Poisson / negative-binomial upper tail, Benjamini-Hochberg across principals)"),
    ("secret_access_volume", "count and distinct secrets vs baseline (upper-tail test); first-seen principal"),
    ("session_anomaly", "first-seen IP / ASN, session volume tail, hour-of-week profile in the user's time zone"),
    ("file_access_anomaly", "volume vs own and peer baseline, first-seen IP / user agent, scripted user agents"),
    ("mail_forwarding_rule", "signal + first-seen actor; several mailboxes to one destination"),
    ("quota_increase", "count and distinct regions vs baseline; first-seen region for the account"),
    ("region_or_service_enabled", "signal + first-seen service for the account"),
    ("resource_hierarchy_change", "signal + first-seen"),
    ("conditional_access_change", "signal; suppressed when a matching change request exists"),
    ("event_trigger_created", "signal + first-seen actor"),
    ("serverless_change", "signal + first-seen actor, count outlier"),
    ("model_invocation_volume", "volume vs baseline; first use in the account"),
    ("log_source_silence", "expected vs observed volume per source and account"),
];

fn or_dash(v: Option<&str>) -> &str {
    v.filter(|s| !s.is_empty()).unwrap_or("-")
}

/// Shortens `s` to at most `max` characters, marking the cut with `…` (table cells).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Shell single-quoting (the uids and paths come from logs).
fn sh(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn techniques(f: &Finding) -> String {
    let named: Vec<String> = f
        .attack_techniques
        .iter()
        .map(|id| match attack::lookup(id) {
            Some((name, tactics)) => format!("{id} {name} ({})", tactics.iter().map(|t| t.1).collect::<Vec<_>>().join(", ")),
            None => id.clone(),
        })
        .collect();
    format!("{} (ATT&CK v{})", named.join("; "), f.attack_version)
}

/// The finding section.
fn finding_text(f: &Finding) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Finding {}  {} / {} / risk {:.0}", f.finding_uid, f.analytic_uid, f.severity, f.risk_score);
    let _ = writeln!(o, "  {}", f.title);
    for line in f.description.lines() {
        let _ = writeln!(o, "  {line}");
    }
    let rows = [
        ("window", format!("{} .. {} UTC", f.window_start.format("%Y-%m-%d %H:%M:%S"), f.window_end.format("%Y-%m-%d %H:%M:%S"))),
        ("account", format!("{} {} ({})", f.provider, f.account_uid, or_dash(f.region.as_deref()))),
        ("actor", or_dash(f.actor_uid.as_deref()).to_string()),
        ("source ip", or_dash(f.src_ip.as_deref()).to_string()),
        ("user agent", clip(or_dash(f.user_agent.as_deref()), 100)),
        ("operation", format!("{} {}", or_dash(f.service.as_deref()), or_dash(f.operation.as_deref()))),
        ("resource", or_dash(f.resource_uid.as_deref()).to_string()),
        ("techniques", techniques(f)),
        ("status", if f.suppressed { format!("suppressed: {}", or_dash(f.suppression_reason.as_deref())) } else { "open".into() }),
        ("run", f.run_uid.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "  {k:<11} {v}");
    }
    o
}

/// The baseline section: history, expected, method, observed, p-values; or "signal, no
/// baseline".
fn baseline_text(f: &Finding) -> String {
    let mut o = String::from("\nBaseline\n");
    let method = METHODS.iter().find(|(id, _)| *id == f.analytic_uid).map_or("see the analytic's documentation", |(_, m)| m);
    let _ = writeln!(o, "  {:<11} {method}", "method");
    if f.expected.is_none() && f.p_value.is_none() && f.baseline_days == 0 {
        let _ = writeln!(o, "  signal, no baseline: the operation itself is the finding (observed {})", f.observed);
        return o;
    }
    let _ = writeln!(o, "  {:<11} {} day(s) of history before the window", "history", f.baseline_days);
    let _ = writeln!(o, "  {:<11} {}", "observed", f.observed);
    match f.expected {
        Some(e) => {
            let ratio = if e > 0.0 { format!(" ({:.1}x)", f.observed / e) } else { String::new() };
            let _ = writeln!(o, "  {:<11} {e:.3}{ratio}", "expected");
        }
        None => {
            let _ = writeln!(o, "  {:<11} - (no expected count: first-seen or signal with history)", "expected");
        }
    }
    let p = |v: Option<f64>| v.map_or("-".to_string(), |p| format!("{p:.3e}"));
    let _ = writeln!(o, "  {:<11} {}   adjusted (Benjamini-Hochberg) {}", "p-value", p(f.p_value), p(f.p_value_adjusted));
    o
}

/// The evidence section: one line per event read back from the lake.
fn evidence_text(f: &Finding, events: &[EvidenceEvent], max: usize) -> String {
    let mut o = format!(
        "\nEvidence ({} event(s) in the finding, {} listed, {} found in the lake)\n",
        f.evidence_count,
        f.evidence_event_uids.len(),
        events.len()
    );
    if events.is_empty() {
        if f.evidence_event_uids.is_empty() {
            o.push_str("  none: this finding is about missing events\n");
        } else {
            o.push_str("  the listed events are no longer in the lake's events/ folder\n");
        }
        return o;
    }
    let header = ["TIME (UTC)", "ACTOR", "SRC_IP", "OPERATION", "RESOURCE", "STATUS", "EVENT_UID"];
    let rows: Vec<[String; 7]> = events
        .iter()
        .take(max)
        .map(|e| {
            [
                e.time.format("%Y-%m-%d %H:%M:%S").to_string(),
                clip(or_dash(e.actor_uid.as_deref()), 60),
                or_dash(e.src_ip.as_deref()).to_string(),
                clip(&format!("{} {}", e.service, e.operation), 60),
                clip(or_dash(e.resource_uid.as_deref()), 60),
                match &e.error_code {
                    Some(c) => format!("{} ({c})", e.status),
                    None => e.status.clone(),
                },
                e.event_uid.clone(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(o, "  {}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    if events.len() > max {
        let _ = writeln!(o, "  ... {} more (--max-events)", events.len() - max);
    }
    o
}

/// The "see more" section: commands that reproduce what was shown, with real values.
fn more_text(f: &Finding, events: &[EvidenceEvent], lake: &Path) -> String {
    let lake_s = sh(&lake.display().to_string());
    let mut o = String::from("\nMore\n");
    let day = f.window_end.format("%Y-%m-%d");
    let next = (f.window_end + chrono::Duration::days(1)).format("%Y-%m-%d");
    let _ = writeln!(o, "  OCSF record:  cloudsift export --lake {lake_s} --format ocsf --analytic {} --since {day} --until {next} | jq 'select(.finding_info.uid == \"{}\")'", sh(&f.analytic_uid), f.finding_uid);
    let _ = writeln!(o, "  same day:     cloudsift findings --lake {lake_s} --since {day}");
    if let Some(e) = events.first() {
        let _ = writeln!(o, "  raw event:    cloudsift normalize {} | jq 'select(.event_uid == \"{}\")'   ({} of that object)", sh(&e.source_object), e.event_uid.replace('\'', ""), e.source_locator);
    }
    if !f.evidence_event_uids.is_empty() {
        // A handful of uids keeps the line pasteable; the filter shows how to take them all.
        let uids: Vec<String> = f.evidence_event_uids.iter().take(5).map(|u| format!("{u:?}")).collect();
        let _ = writeln!(
            o,
            "  polars:       python -c 'import polars as pl; print(pl.scan_parquet(\"{}/events/**/*.parquet\", hive_partitioning=False).filter(pl.col(\"event_uid\").is_in([{}])).collect())'",
            lake.display(),
            uids.join(", ").replace('\'', "")
        );
    }
    o
}

/// The whole explanation of `f` (what `cloudsift explain` prints).
pub(crate) fn explain_text(f: &Finding, events: &[EvidenceEvent], lake: &Path, max_events: usize) -> String {
    let mut o = finding_text(f);
    o.push_str(&baseline_text(f));
    o.push_str(&evidence_text(f, events, max_events));
    o.push_str(&more_text(f, events, lake));
    o
}

/// `cloudsift explain`.
pub fn run(a: &ExplainArgs) -> Result<i32> {
    let root = lake_root(&a.source)?;
    let f = export::find_by_uid(&root, &a.finding_uid)?;
    let events = export::evidence_events(&root, std::slice::from_ref(&f))?.remove(&f.finding_uid).unwrap_or_default();
    emit(&explain_text(&f, &events, &root, a.max_events))?;
    Ok(exit::OK)
}
