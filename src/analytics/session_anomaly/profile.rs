//! A user's session history: the local hour-of-day profile (weekday / weekend) and the
//! per-bucket session counts the volume model is fitted to.

use chrono_tz::Tz;

use crate::analytics::user_context::{local_slot, LocalSlot};

/// Pseudo-sessions spread uniformly over the 24 hours (add-α smoothing): an hour never
/// seen keeps a small probability, α/24 / (N + α), instead of 0. Half a session is the
/// least prior that keeps every hour possible without drowning a short history: with 20
/// sessions all at 08:00 (case P38), 03:00 keeps probability 0.001 in the all-days profile.
pub const UNIFORM_PSEUDO_SESSIONS: f64 = 0.5;

/// Pseudo-sessions of the all-days profile mixed into the weekday or weekend profile
/// (shrinkage): a weekend with few sessions borrows the user's weekday routine instead
/// of calling every weekend hour unusual.
pub const SHRINK_PSEUDO_SESSIONS: f64 = 5.0;

/// Triangular kernel over ±2 hours (weights 1,2,3,2,1 / 9), circular over midnight: a
/// person who logs in at 08:00 does not make 07:00 or 10:00 unusual, 03:00 is.
const KERNEL: [f64; 5] = [1.0 / 9.0, 2.0 / 9.0, 3.0 / 9.0, 2.0 / 9.0, 1.0 / 9.0];

/// Session counts per local hour, for weekdays (index 0) and weekends (index 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HourProfile {
    counts: [[f64; 24]; 2],
}

fn smooth(c: &[f64; 24], hour: usize) -> f64 {
    KERNEL
        .iter()
        .enumerate()
        .map(|(i, w)| w * c[(hour + 24 + i - 2) % 24])
        .sum()
}

impl HourProfile {
    /// Adds `n` sessions at a local slot.
    pub fn add(&mut self, slot: LocalSlot, n: f64) {
        self.counts[usize::from(slot.weekend)][usize::from(slot.hour) % 24] += n;
    }

    /// Smoothed probability that one of the user's sessions on this kind of day falls
    /// in local `hour`:
    /// p_all(h) = (K·c_all(h) + α/24) / (N + α) and
    /// p(h | day) = (K·c_day(h) + s·p_all(h)) / (N_day + s), with K the ±2 h kernel,
    /// α = [`UNIFORM_PSEUDO_SESSIONS`], s = [`SHRINK_PSEUDO_SESSIONS`]. Sums to 1 over
    /// the 24 hours for each kind of day.
    pub fn probability(&self, hour: u8, weekend: bool) -> f64 {
        let h = usize::from(hour) % 24;
        let mut all = [0.0; 24];
        for day in &self.counts {
            for (a, c) in all.iter_mut().zip(day) {
                *a += c;
            }
        }
        let n_all: f64 = all.iter().sum();
        let p_all = (smooth(&all, h) + UNIFORM_PSEUDO_SESSIONS / 24.0) / (n_all + UNIFORM_PSEUDO_SESSIONS);
        let day = &self.counts[usize::from(weekend)];
        let n_day: f64 = day.iter().sum();
        (smooth(day, h) + SHRINK_PSEUDO_SESSIONS * p_all) / (n_day + SHRINK_PSEUDO_SESSIONS)
    }
}

impl HourProfile {
    /// Probability mass of the hours at most as likely as `hour` on this kind of day:
    /// Σ p(h′ | day) over h′ with p(h′ | day) ≤ p(hour | day). Under the profile, a session
    /// lands in an hour this unusual with at most this probability (a discrete p-value).
    pub fn tail(&self, hour: u8, weekend: bool) -> f64 {
        let p = self.probability(hour, weekend);
        (0..24u8)
            .map(|h| self.probability(h, weekend))
            .filter(|&q| q <= p * (1.0 + 1e-9))
            .sum::<f64>()
            .min(1.0)
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p): the chance that at least `k` of `n` independent
/// sessions land in hours whose total probability is `p`. k = 0 gives 1.
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    use statrs::distribution::{Binomial, DiscreteCDF};
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    match Binomial::new(p.clamp(0.0, 1.0), n) {
        Ok(d) => d.sf(k - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// Session counts per scoring-window-sized bucket before the window, zeros included.
///
/// `per_quarter` holds (quarter-hour index = ⌊t / 15 min⌋, sessions) of the user's
/// successful sessions before the window; buckets are `[ws − k·width, ws − (k−1)·width)`
/// for k = 1..=`buckets`, oldest first. With `seasonal` (≥ 3 weeks of history) only the
/// buckets whose midpoint falls on the same kind of local day (weekday / weekend in `tz`)
/// as the window's midpoint are kept — day-of-week seasonality at the granularity four
/// weeks of history can support.
pub fn bucket_counts(per_quarter: &[(i64, u64)], ws_us: i64, width_us: i64, buckets: usize, tz: Tz, seasonal: bool) -> Vec<u64> {
    let mut counts = vec![0u64; buckets];
    for &(q, n) in per_quarter {
        let t = q * QUARTER_US;
        let k = (ws_us - t + width_us - 1) / width_us;
        if k >= 1 && (k as usize) <= buckets {
            counts[buckets - k as usize] += n;
        }
    }
    if !seasonal {
        return counts;
    }
    let weekend_at = |mid: i64| local_slot(mid, tz).weekend;
    let window_weekend = weekend_at(ws_us + width_us / 2);
    counts
        .into_iter()
        .enumerate()
        .filter(|(i, _)| {
            let k = (buckets - i) as i64;
            weekend_at(ws_us - k * width_us + width_us / 2) == window_weekend
        })
        .map(|(_, c)| c)
        .collect()
}

/// Microseconds in a quarter hour: every IANA zone's offset is a multiple of 15 minutes,
/// so all sessions of one quarter-hour bucket share their local hour.
pub const QUARTER_US: i64 = 15 * 60 * 1_000_000;
