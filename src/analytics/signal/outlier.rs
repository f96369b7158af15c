//! Count outliers: an initiator makes far more of an analytic's operations in one hour
//! than its own history predicts (DESIGN.md "Statistics", as in
//! [`crate::analytics::secret_access_volume`]).
//!
//! Per initiator (provider, account, actor): hourly counts of its successful selected
//! operations over the account's history before the window (whole days, at most
//! `history_days`, zeros included) fit a [`CountModel`] (Poisson, or negative binomial when
//! over-dispersed at `dispersion_alpha`); the busiest window hour is scored with the upper
//! tail, Šidák-adjusted for the window's hours; Benjamini–Hochberg runs across the
//! initiators tested, people and automation apart. Flagged when the adjusted p ≤ `fdr_q`,
//! the count ≥ `min_count` and ≥ `min_ratio` × expected. Accounts with fewer than
//! `min_history_days` days are not tested (learning).

use std::collections::BTreeMap;

use super::{ActorClass, Row, Scan, DAY_US};
use crate::profiles::HOUR_US;
use crate::scoring::{benjamini_hochberg, sidak, CountModel};

/// Settings of the test (each analytic's config documents its defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierParams {
    /// Benjamini–Hochberg false discovery rate per population.
    pub fdr_q: f64,
    /// Fewest events in the busiest hour that can be flagged.
    pub min_count: u64,
    /// Observed must be at least this multiple of the expected hourly count.
    pub min_ratio: f64,
    /// Significance of the over-dispersion test.
    pub dispersion_alpha: f64,
    /// Account history (days) required before testing.
    pub min_history_days: u32,
}

/// One flagged initiator.
#[derive(Debug, Clone)]
pub struct Outlier<'a> {
    /// The busiest window hour, `floor(t / HOUR_US)`.
    pub hour: i64,
    /// Events in that hour.
    pub observed: u64,
    /// The fitted null model.
    pub model: CountModel,
    /// Hours of history behind the model.
    pub history_hours: usize,
    /// Šidák-adjusted upper-tail p-value.
    pub p: f64,
    /// BH-adjusted p-value.
    pub p_adjusted: f64,
    /// The rows of the busiest hour, by time.
    pub rows: Vec<&'a Row>,
    /// The initiator's class.
    pub class: ActorClass,
}

/// Flagged initiators among the window rows `keep` accepts (failed rows never count).
pub fn hourly_outliers<'a>(
    scan: &'a Scan,
    keep: impl Fn(&Row) -> bool,
    p: &OutlierParams,
    window_hours: usize,
) -> Vec<Outlier<'a>> {
    type Who = (String, String, String);
    let who = |r: &Row| Some((r.provider.clone(), r.account.clone(), r.actor.clone()?));
    let mut history: BTreeMap<Who, BTreeMap<i64, u64>> = BTreeMap::new();
    for r in scan.history.iter().filter(|r| !r.failed && keep(r)) {
        if let Some(k) = who(r) {
            *history.entry(k).or_default().entry(r.t.div_euclid(HOUR_US)).or_default() += 1;
        }
    }
    let mut window: BTreeMap<Who, BTreeMap<i64, Vec<&Row>>> = BTreeMap::new();
    for r in scan.window.iter().filter(|r| !r.failed && keep(r)) {
        if let Some(k) = who(r) {
            window.entry(k).or_default().entry(r.t.div_euclid(HOUR_US)).or_default().push(r);
        }
    }
    let ws_hour = scan.window_start.div_euclid(HOUR_US);
    let mut tested: Vec<Outlier> = Vec::new();
    for ((provider, account, actor), hours) in window {
        let days = scan.account_days(&provider, &account);
        if days < p.min_history_days || days == 0 {
            continue;
        }
        let start = ws_hour - i64::from(days) * (DAY_US / HOUR_US);
        let own = history.get(&(provider.clone(), account.clone(), actor.clone()));
        let counts: Vec<u64> = (start..ws_hour).map(|h| own.and_then(|m| m.get(&h)).copied().unwrap_or(0)).collect();
        let model = CountModel::fit(&counts, p.dispersion_alpha);
        // Busiest hour; ties go to the earliest.
        let (&hour, rows) = hours
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .expect("non-empty");
        let observed = rows.len() as u64;
        let pv = sidak(model.upper_tail(observed), window_hours.max(1));
        tested.push(Outlier {
            hour,
            observed,
            model,
            history_hours: counts.len(),
            p: pv,
            p_adjusted: 1.0,
            rows: rows.clone(),
            class: ActorClass::of(rows),
        });
    }
    for automation in [false, true] {
        let idx: Vec<usize> = (0..tested.len())
            .filter(|&i| (tested[i].class == ActorClass::Automation) == automation)
            .collect();
        let adj = benjamini_hochberg(&idx.iter().map(|&i| tested[i].p).collect::<Vec<_>>());
        for (&i, a) in idx.iter().zip(adj) {
            tested[i].p_adjusted = a;
        }
    }
    tested
        .into_iter()
        .filter(|t| {
            t.p_adjusted <= p.fdr_q
                && t.observed >= p.min_count
                && t.observed as f64 >= p.min_ratio * t.model.mean()
        })
        .collect()
}
