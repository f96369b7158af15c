//! Silent stretches of a source's hourly counts.

use std::collections::BTreeMap;

/// A maximal run of hours without events that reaches into the scoring window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// First silent hour (may lie before the window: the silence began earlier).
    pub start: i64,
    /// End of the silent hours tested (exclusive, at most the window end).
    pub end: i64,
    /// First hour with events after the run, possibly after the window (later delivery
    /// seen in the lake); `None` while the source is still silent.
    pub resumed: Option<i64>,
}

impl Gap {
    /// Silent hours from the start to the window end (or the resumption).
    pub fn hours(&self) -> i64 {
        self.end - self.start
    }
}

/// The runs of zero-count hours of `counts` (hour → events; absent hours are 0) that
/// intersect `[window_start, window_end)`, each extended back to where it began (not
/// before `first_hour`, the source's first hour with events).
pub fn silent_runs(counts: &BTreeMap<i64, u64>, first_hour: i64, window_start: i64, window_end: i64) -> Vec<Gap> {
    let busy = |h: &i64, n: &u64| *n > 0 && *h >= first_hour;
    let mut out = Vec::new();
    let mut h = window_start;
    while h < window_end {
        if counts.get(&h).is_some_and(|&n| n > 0) {
            h += 1;
            continue;
        }
        let resumed = counts.range(h..).find(|(k, n)| busy(k, n)).map(|(k, _)| *k);
        let start = counts.range(first_hour..h).rev().find(|(k, n)| busy(k, n)).map_or(first_hour, |(k, _)| k + 1);
        let end = resumed.unwrap_or(window_end).min(window_end);
        out.push(Gap { start, end, resumed });
        h = end.max(h + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_extended_back_and_know_if_delivery_resumed() {
        // Events at hours 0..10 and 15, 16; the window is 8..20.
        let counts: BTreeMap<i64, u64> = (0..10).chain([15, 16]).map(|h| (h, 5)).collect();
        let runs = silent_runs(&counts, 0, 8, 20);
        assert_eq!(runs, vec![Gap { start: 10, end: 15, resumed: Some(15) }, Gap { start: 17, end: 20, resumed: None }]);
        assert_eq!(runs[0].hours(), 5);
        // Later delivery after the window closes the last run.
        let mut later = counts.clone();
        later.insert(25, 1);
        assert_eq!(silent_runs(&later, 0, 8, 20)[1], Gap { start: 17, end: 20, resumed: Some(25) });
        // A silence that began before the window starts where it began.
        let counts: BTreeMap<i64, u64> = (0..3).map(|h| (h, 5)).collect();
        assert_eq!(silent_runs(&counts, 0, 8, 20), vec![Gap { start: 3, end: 20, resumed: None }]);
        assert!(silent_runs(&(0..30).map(|h| (h, 1)).collect(), 0, 8, 20).is_empty());
    }
}
