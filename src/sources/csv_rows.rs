//! CSV exports (Purview / Search-UnifiedAuditLog, Sentinel table exports): each data row
//! becomes one JSON object of header → cell text, so the JSON normalisers read CSV too.
//! Empty cells are left out (absent = NULL); cells holding JSON stay strings and the
//! normaliser decodes them. Excel's `sep=X` first line sets the delimiter.

use super::read::dispatch;
use super::{Locator, ReadOptions, Reject, Sink};

pub(super) fn frame_csv(body: &str, opts: &ReadOptions, sink: &mut dyn Sink) {
    let (delimiter, body) = match body.lines().next().and_then(|l| l.trim().strip_prefix("sep=")) {
        Some(sep) if sep.len() == 1 => {
            let rest = body.split_once('\n').map_or("", |(_, r)| r);
            (sep.as_bytes()[0], rest)
        }
        _ => (b',', body),
    };
    let header_line = body.lines().next().unwrap_or_default();
    if !header_line.contains(delimiter as char) {
        return sink.reject(
            &Reject::quarantine("unrecognised_format", "neither JSON nor CSV with a header row"),
            Locator::File,
            None,
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().trim_start_matches('\u{feff}').to_string()).collect(),
        Err(e) => return sink.reject(&Reject::quarantine("invalid_csv", format!("header row: {e}")), Locator::File, None),
    };
    let mut rows: Vec<(Locator, Result<String, Reject>)> = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        // `row:N` counts CSV records with the header as row 1 (as spreadsheets number them).
        let loc = Locator::Row(i + 2);
        let row = rec.map_err(|e| Reject::quarantine("invalid_csv", e.to_string())).map(|rec| {
            let mut obj = serde_json::Map::new();
            for (h, cell) in headers.iter().zip(rec.iter()) {
                if !cell.is_empty() && !h.is_empty() {
                    obj.insert(h.clone(), serde_json::Value::String(cell.to_string()));
                }
            }
            serde_json::Value::Object(obj).to_string()
        });
        rows.push((loc, row));
    }
    for (loc, row) in &rows {
        if let Err(r) = row {
            sink.reject(r, *loc, None);
        }
    }
    let good = rows.iter().filter_map(|(loc, r)| r.as_ref().ok().map(|s| (*loc, s.as_str())));
    dispatch(good, opts, sink);
}
