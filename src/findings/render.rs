//! Human and line-oriented views of findings: the `cloudsift findings` table and JSON
//! lines (one finding per line, findings-schema names).

use std::io::Write;

use super::Finding;

/// Shortens `s` to at most `max` characters, marking the cut with `…`.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Plain-text table of findings for `cloudsift findings` (one row per finding; long
/// actor and title values clipped). Columns: severity, risk, window end (UTC, minutes),
/// analytic, actor, operation, observed/expected, adjusted p, title.
pub fn render_table(findings: &[Finding]) -> String {
    let header: Vec<&str> = "SEVERITY RISK WINDOW_END ANALYTIC ACTOR OPERATION OBS/EXP P_ADJ TITLE"
        .split(' ')
        .collect();
    let rows: Vec<[String; 9]> = findings
        .iter()
        .map(|f| {
            let suppressed = if f.suppressed { " (suppressed)" } else { "" };
            [
                format!("{}{suppressed}", f.severity),
                format!("{:.0}", f.risk_score),
                f.window_end.format("%Y-%m-%d %H:%M").to_string(),
                f.analytic_uid.clone(),
                clip(f.actor_uid.as_deref().unwrap_or("-"), 48),
                clip(f.operation.as_deref().unwrap_or("-"), 32),
                match f.expected {
                    Some(e) => format!("{}/{:.2}", f.observed, e),
                    None => format!("{}/-", f.observed),
                },
                f.p_value_adjusted
                    .map_or("-".to_string(), |p| format!("{p:.2e}")),
                clip(&f.title, 80),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(header);
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// Writes findings as JSON lines (one object per finding, field names of [`Finding`],
/// times RFC 3339 UTC with `Z`).
pub fn write_jsonl<W: Write>(mut out: W, findings: &[Finding]) -> std::io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

