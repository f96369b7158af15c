//! The run journal: which days a run that did not finish had touched, so that the next run
//! scores them.
//!
//! `run` scores the days its ingest wrote rows for. A run killed after writing event parts
//! but before scoring them left those days unscored for ever: the next run re-reads the
//! objects (or finds them in the manifest), every row is a duplicate, no part is written,
//! and no day counts as touched. So a run writes `state/runs/<run_uid>.json` before its
//! ingest and deletes it only after its findings and pending days are written; a journal
//! left behind names a run that did not finish, and the dates of that run's part files
//! (`events/provider=P/date=D/part-<run_uid>-N.parquet`) are the days to score again.
//! Re-scoring is safe: findings have deterministic ids and a re-scored day replaces them.

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::NaiveDate;

use crate::storage::Location;
use crate::Result;

const DIR: &str = "state/runs";

/// An open journal entry of the running run, plus those of earlier runs it recovers.
#[derive(Debug)]
pub struct RunJournal {
    lake: Location,
    run_uid: String,
    recovered: Vec<String>,
}

impl RunJournal {
    /// Records that `run_uid` starts (call while holding the lake lock) and returns the days
    /// that earlier, unfinished runs wrote event parts for.
    ///
    /// # Errors
    /// Storage failures listing or writing `state/runs/`.
    pub fn begin(lake: &Location, run_uid: &str) -> Result<(RunJournal, BTreeSet<NaiveDate>)> {
        let recovered: Vec<String> = lake
            .list_rel(DIR)?
            .into_iter()
            .filter_map(|(rel, _)| rel.strip_prefix(&format!("{DIR}/"))?.strip_suffix(".json").map(str::to_owned))
            .filter(|uid| uid != run_uid)
            .collect();
        let mut days = BTreeSet::new();
        if !recovered.is_empty() {
            tracing::warn!(runs = ?recovered, "earlier runs did not finish; their days are scored again");
            for (rel, _) in lake.list_rel("events")? {
                let Some((dir, file)) = rel.rsplit_once('/') else { continue };
                let Some(date) = dir.rsplit_once("date=").and_then(|(_, d)| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) else { continue };
                if recovered.iter().any(|uid| file.starts_with(&format!("part-{uid}-"))) {
                    days.insert(date);
                }
            }
        }
        let body = serde_json::json!({ "run_uid": run_uid, "started": chrono::Utc::now().to_rfc3339() });
        lake.put(&format!("{DIR}/{run_uid}.json"), Bytes::from(body.to_string()))?;
        Ok((RunJournal { lake: lake.clone(), run_uid: run_uid.to_string(), recovered }, days))
    }

    /// Marks this run, and the unfinished runs it recovered, as done: call after the
    /// findings and pending days are written.
    ///
    /// # Errors
    /// Storage failures deleting the entries.
    pub fn finish(self) -> Result<()> {
        for uid in &self.recovered {
            self.lake.delete(&format!("{DIR}/{uid}.json"))?;
        }
        self.lake.delete(&format!("{DIR}/{}.json", self.run_uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_an_unfinished_run_are_returned_once() {
        let lake = Location::memory();
        let (first, days) = RunJournal::begin(&lake, "r1").unwrap();
        assert!(days.is_empty());
        first.finish().unwrap();
        // r2 writes parts for two days and is killed before finishing.
        let (_killed, _) = RunJournal::begin(&lake, "r2").unwrap();
        for p in ["events/provider=aws/date=2024-03-30/part-r2-0000.parquet", "events/provider=azure/date=2024-03-31/part-r2-0000.parquet", "events/provider=aws/date=2024-03-29/part-r1-0000.parquet"] {
            lake.put(p, Bytes::from_static(b"x")).unwrap();
        }
        let (third, days) = RunJournal::begin(&lake, "r3").unwrap();
        let want: BTreeSet<NaiveDate> = ["2024-03-30", "2024-03-31"].iter().map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()).collect();
        assert_eq!(days, want);
        third.finish().unwrap();
        assert!(lake.list_rel(DIR).unwrap().is_empty());
        let (_, days) = RunJournal::begin(&lake, "r4").unwrap();
        assert!(days.is_empty());
    }
}
