//! The change-request table (`change_requests = "path"`): approved changes that explain a
//! Conditional Access change, so its finding is kept but suppressed.
//!
//! File: CSV (header row) or Parquet (recognised by its `PAR1` magic bytes, not its
//! name). Columns are found by header name, ASCII case-insensitively, in any order:
//! `ticket_id`, `actor`, `start`, `end` (required) and `target` (optional). Other columns
//! are ignored.
//! - `actor`: the initiator's UPN (compared lower-cased with `actor_uid`).
//! - `target`: a policy id or display name (case-insensitive); empty, missing or `*`
//!   matches any policy.
//! - `start`, `end`: RFC 3339 (`2024-03-14T09:00:00Z`) or `YYYY-MM-DD`; a date alone
//!   means the whole UTC day (start at 00:00, end at the last microsecond of the day).
//!   Parquet timestamp and date columns are read as such (a timestamp without a zone is UTC).
//!
//! Errors are [`Error::Config`] with the key `analytics.conditional_access_change.change_requests`:
//! a missing or unreadable file names its path; a bad row names the row (`row:N`, the CSV
//! record number with the header as row 1; for Parquet, the data row + 1 likewise) and the
//! field.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::{Error, Result};

/// The configuration key errors name.
pub const KEY: &str = "analytics.conditional_access_change.change_requests";

/// One approved change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    /// The ticket's id (`CHG-123`).
    pub ticket_id: String,
    /// Lower-cased UPN of who may make the change.
    pub actor: String,
    /// Policy id or display name; `None` matches any policy.
    pub target: Option<String>,
    /// First instant covered (inclusive), UTC.
    pub start: DateTime<Utc>,
    /// Last instant covered (inclusive), UTC.
    pub end: DateTime<Utc>,
}

impl ChangeRequest {
    /// True when the change by `actor` at `t` to the policy (`id`, `name`) is covered.
    pub fn covers(
        &self,
        actor: Option<&str>,
        id: Option<&str>,
        name: Option<&str>,
        t: DateTime<Utc>,
    ) -> bool {
        let actor_ok = actor.is_some_and(|a| a.eq_ignore_ascii_case(&self.actor));
        let target_ok = match &self.target {
            None => true,
            Some(tg) => [id, name]
                .into_iter()
                .flatten()
                .any(|v| v.trim().eq_ignore_ascii_case(tg)),
        };
        actor_ok && target_ok && self.start <= t && t <= self.end
    }

    /// `change request CHG-123 (actor, target, start..end)`, the suppression reason.
    pub fn reason(&self) -> String {
        format!(
            "change request {} ({}, {}, {}..{})",
            self.ticket_id,
            self.actor,
            self.target.as_deref().unwrap_or("*"),
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

fn err(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::config(KEY, format!("{}: {message}", path.display()))
}

/// Reads the table at `path` (see the module docs for the format and errors).
pub fn load(path: &Path) -> Result<Vec<ChangeRequest>> {
    let bytes = std::fs::read(path)
        .map_err(|e| err(path, format!("cannot read the change-request file: {e}")))?;
    let rows = if bytes.starts_with(b"PAR1") {
        parquet_rows(path, bytes)?
    } else {
        csv_rows(path, &bytes)?
    };
    rows.into_iter()
        .map(|(row, cells)| parse_row(path, row, cells))
        .collect()
}

/// Cells by required column: ticket_id, actor, target, start, end.
type Cells = [Option<String>; 5];
const COLUMNS: [&str; 5] = ["ticket_id", "actor", "target", "start", "end"];

fn column_index(path: &Path, headers: &[String]) -> Result<[Option<usize>; 5]> {
    let mut idx = [None; 5];
    for (i, name) in COLUMNS.iter().enumerate() {
        idx[i] = headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        });
        if idx[i].is_none() && *name != "target" {
            return Err(err(
                path,
                format!("missing column `{name}` (columns: {})", headers.join(", ")),
            ));
        }
    }
    Ok(idx)
}

fn csv_rows(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, Cells)>> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| err(path, format!("not a CSV table: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let idx = column_index(path, &headers)?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|e| err(path, format!("row:{row}: {e}")))?;
        let cells: Cells =
            std::array::from_fn(|c| idx[c].and_then(|j| rec.get(j)).map(str::to_string));
        out.push((row, cells));
    }
    Ok(out)
}

fn parquet_rows(path: &Path, bytes: Vec<u8>) -> Result<Vec<(usize, Cells)>> {
    use arrow::array::{Array, TimestampMicrosecondArray};
    use arrow::datatypes::{DataType, TimeUnit};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .and_then(|b| b.build())
        .map_err(|e| err(path, format!("not a readable Parquet file: {e}")))?;
    let mut out = Vec::new();
    let mut row = 1;
    for batch in reader {
        let batch = batch.map_err(|e| err(path, format!("cannot read row group: {e}")))?;
        let schema = batch.schema();
        let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let idx = column_index(path, &headers)?;
        let cols: Vec<Option<arrow::array::ArrayRef>> = idx
            .iter()
            .map(|i| i.map(|i| batch.column(i).clone()))
            .collect();
        for r in 0..batch.num_rows() {
            row += 1;
            let cell = |c: &Option<arrow::array::ArrayRef>| -> Result<Option<String>> {
                let Some(a) = c else { return Ok(None) };
                if a.is_null(r) {
                    return Ok(None);
                }
                Ok(Some(match a.data_type() {
                    // A date keeps its whole-day meaning: formatted as `YYYY-MM-DD`.
                    DataType::Date32 | DataType::Date64 => {
                        arrow::util::display::array_value_to_string(a, r)
                            .map_err(|e| err(path, format!("row:{row}: {e}")))?
                    }
                    DataType::Timestamp(_, _) => {
                        let us = arrow::compute::cast(
                            a,
                            &DataType::Timestamp(TimeUnit::Microsecond, None),
                        )
                        .map_err(|e| err(path, format!("row:{row}: {e}")))?;
                        let us = us
                            .as_any()
                            .downcast_ref::<TimestampMicrosecondArray>()
                            .expect("cast gives µs")
                            .value(r);
                        DateTime::<Utc>::from_timestamp_micros(us)
                            .unwrap_or_default()
                            .to_rfc3339()
                    }
                    _ => arrow::util::display::array_value_to_string(a, r)
                        .map_err(|e| err(path, format!("row:{row}: {e}")))?,
                }))
            };
            let mut cells: Cells = Default::default();
            for (c, col) in cols.iter().enumerate() {
                cells[c] = cell(col)?;
            }
            out.push((row, cells));
        }
    }
    Ok(out)
}

/// A start (`end = false`) or end instant from RFC 3339 or a date.
fn instant(text: &str, end: bool) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    Some(if end {
        day + Duration::days(1) - Duration::microseconds(1)
    } else {
        day
    })
}

fn parse_row(path: &Path, row: usize, cells: Cells) -> Result<ChangeRequest> {
    let [ticket, actor, target, start, end] =
        cells.map(|c| c.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    let need = |v: Option<String>, field: &str| {
        v.ok_or_else(|| err(path, format!("row:{row}: field `{field}` is empty")))
    };
    let ticket_id = need(ticket, "ticket_id")?;
    let actor = need(actor, "actor")?.to_lowercase();
    let time = |v: Option<String>, field: &str, is_end: bool| -> Result<DateTime<Utc>> {
        let v = need(v, field)?;
        instant(&v, is_end).ok_or_else(|| {
            err(
                path,
                format!("row:{row}: field `{field}`: `{v}` is neither RFC 3339 nor YYYY-MM-DD"),
            )
        })
    };
    let (start, end) = (time(start, "start", false)?, time(end, "end", true)?);
    if end < start {
        return Err(err(
            path,
            format!(
                "row:{row}: field `end` ({}) is before `start` ({})",
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
        ));
    }
    Ok(ChangeRequest {
        ticket_id,
        actor,
        target: target.filter(|t| t != "*"),
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_with_dates_times_and_wildcards() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "crs.csv",
            "\u{feff}Ticket_ID,notes,Actor,Target,Start,End\nCHG-1,x,Admin@Contoso.com,Require MFA,2024-03-14,2024-03-14\nCHG-2,,ops@contoso.com,*,2024-03-14T10:00:00Z,2024-03-14T11:00:00+01:00\n",
        );
        let crs = load(&p).unwrap();
        assert_eq!(crs.len(), 2);
        assert_eq!(crs[0].actor, "admin@contoso.com");
        assert_eq!(crs[0].end.to_rfc3339(), "2024-03-14T23:59:59.999999+00:00");
        assert_eq!(crs[1].target, None);
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(crs[0].covers(
            Some("admin@contoso.com"),
            Some("id-1"),
            Some("require mfa"),
            t("2024-03-14T23:00:00Z")
        ));
        assert!(!crs[0].covers(
            Some("admin@contoso.com"),
            Some("id-1"),
            Some("Other"),
            t("2024-03-14T23:00:00Z")
        ));
        assert!(!crs[0].covers(
            Some("eve@contoso.com"),
            None,
            Some("Require MFA"),
            t("2024-03-14T23:00:00Z")
        ));
        assert!(!crs[0].covers(
            Some("admin@contoso.com"),
            None,
            Some("Require MFA"),
            t("2024-03-15T00:00:00Z")
        ));
        assert!(crs[1].covers(
            Some("ops@contoso.com"),
            Some("any"),
            None,
            t("2024-03-14T10:00:00Z")
        ));
        assert!(
            !crs[1].covers(
                Some("ops@contoso.com"),
                Some("any"),
                None,
                t("2024-03-14T10:00:01Z")
            ),
            "11:00+01:00 is 10:00Z"
        );
        assert_eq!(crs[1].reason(), "change request CHG-2 (ops@contoso.com, *, 2024-03-14T10:00:00+00:00..2024-03-14T10:00:00+00:00)");
    }

    #[test]
    fn errors_name_the_key_path_row_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let e = load(&missing).unwrap_err().to_string();
        assert!(e.contains(KEY) && e.contains("nope.csv"), "{e}");
        let p = write(
            dir.path(),
            "a.csv",
            "ticket_id,actor,start\nCHG-1,a@b.c,2024-01-01\n",
        );
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("missing column `end`"), "{e}");
        let p = write(dir.path(), "b.csv", "ticket_id,actor,start,end\nCHG-1,a@b.c,2024-01-01,2024-01-02\nCHG-2,a@b.c,yesterday,2024-01-02\n");
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("row:3: field `start`: `yesterday`"), "{e}");
        let p = write(
            dir.path(),
            "c.csv",
            "ticket_id,actor,start,end\nCHG-1,,2024-01-01,2024-01-02\n",
        );
        assert!(load(&p)
            .unwrap_err()
            .to_string()
            .contains("row:2: field `actor` is empty"));
        let p = write(
            dir.path(),
            "d.csv",
            "ticket_id,actor,start,end\nCHG-1,a@b.c,2024-01-02,2024-01-01\n",
        );
        assert!(load(&p)
            .unwrap_err()
            .to_string()
            .contains("row:2: field `end`"));
        assert!(matches!(load(&p).unwrap_err(), Error::Config { .. }));
    }
}
