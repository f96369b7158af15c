//! The null model of one entity's hourly counts: a seasonal expectation per hour and a
//! Poisson or negative-binomial spread around it.

use serde::Deserialize;

use crate::scoring::{self, CountModel};

/// How an analytic lets the expectation vary with the time of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonalMode {
    /// One rate for every hour (what `secret_access_volume` has always done).
    Flat,
    /// As much seasonality as the history supports ([`Seasonality::choose`]).
    Auto,
}

/// Days of history from which the expectation is kept per hour of the week (three
/// samples of every hour-of-week slot).
pub const HOUR_OF_WEEK_DAYS: usize = 21;
/// Days of history from which the expectation is kept per hour of day, weekdays and
/// weekends apart (any 7 consecutive days hold 5 weekdays and 2 weekend days).
pub const DAY_KIND_DAYS: usize = 7;

/// The seasonal buckets of a fitted model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seasonality {
    /// One rate for all hours.
    Flat,
    /// 48 slots: hour of day (UTC) on weekdays, and on Saturdays and Sundays.
    DayKindHour,
    /// 168 slots: hour of the week (UTC, Monday 00:00 = 0), the lake's `hour_of_week`.
    HourOfWeek,
}

impl Seasonality {
    /// Hour-of-week with ≥ [`HOUR_OF_WEEK_DAYS`] days of history, weekday/weekend × hour of
    /// day with ≥ [`DAY_KIND_DAYS`], else flat; always flat in [`SeasonalMode::Flat`].
    pub fn choose(mode: SeasonalMode, history_hours: usize) -> Seasonality {
        match mode {
            SeasonalMode::Flat => Seasonality::Flat,
            SeasonalMode::Auto if history_hours >= HOUR_OF_WEEK_DAYS * 24 => Seasonality::HourOfWeek,
            SeasonalMode::Auto if history_hours >= DAY_KIND_DAYS * 24 => Seasonality::DayKindHour,
            SeasonalMode::Auto => Seasonality::Flat,
        }
    }

    /// Number of slots.
    pub fn slots(self) -> usize {
        match self {
            Seasonality::Flat => 1,
            Seasonality::DayKindHour => 48,
            Seasonality::HourOfWeek => 168,
        }
    }

    /// The slot of an hour index (`floor(time_us / HOUR_US)`, UTC).
    pub fn slot(self, hour: i64) -> usize {
        match self {
            Seasonality::Flat => 0,
            Seasonality::DayKindHour => {
                let (weekday, hod) = weekday_hour(hour);
                if weekday >= 5 {
                    24 + hod
                } else {
                    hod
                }
            }
            Seasonality::HourOfWeek => {
                let (weekday, hod) = weekday_hour(hour);
                weekday * 24 + hod
            }
        }
    }

    /// For descriptions: `flat`, `weekday/weekend × hour of day`, `hour of week`.
    pub fn name(self) -> &'static str {
        match self {
            Seasonality::Flat => "flat",
            Seasonality::DayKindHour => "weekday/weekend × hour of day (UTC)",
            Seasonality::HourOfWeek => "hour of week (UTC)",
        }
    }
}

/// (weekday with Monday = 0, hour of day) of an hour index; 1970-01-01 was a Thursday.
pub fn weekday_hour(hour: i64) -> (usize, usize) {
    let day = hour.div_euclid(24);
    ((day + 3).rem_euclid(7) as usize, hour.rem_euclid(24) as usize)
}

/// A fitted model of hourly counts.
///
/// Expectation: the Jeffreys posterior mean (Σx + ½)/n of the hour's slot, so an empty
/// slot still expects a little. Spread: Poisson unless Pearson's dispersion test against
/// those expectations rejects at the fit's α, then negative binomial with the method-of-
/// moments size ([`scoring::negative_binomial_size`]). In [`Seasonality::Flat`] the fit is
/// exactly [`CountModel::fit`] (Fisher's index test), so flat analytics keep their figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalModel {
    /// The buckets the expectation is kept in.
    pub seasonality: Seasonality,
    /// Hours of history the model was fitted on (zeros included).
    pub history_hours: usize,
    slot_mean: Vec<f64>,
    /// NB size k (Var = μ + μ²/k); `None` for Poisson.
    size: Option<f64>,
    flat: CountModel,
}

impl SeasonalModel {
    /// Fits `history[i]` = count of hour `first_hour + i`.
    pub fn fit(history: &[u64], first_hour: i64, seasonality: Seasonality, alpha: f64) -> SeasonalModel {
        let flat = CountModel::fit(history, alpha);
        if seasonality == Seasonality::Flat || history.is_empty() {
            let size = match flat {
                CountModel::NegativeBinomial { mean, variance, .. } => Some(mean * mean / (variance - mean)),
                CountModel::Poisson { .. } => None,
            };
            return SeasonalModel { seasonality: Seasonality::Flat, history_hours: history.len(), slot_mean: vec![flat.mean()], size, flat };
        }
        let slots = seasonality.slots();
        let (mut sum, mut n) = (vec![0u64; slots], vec![0u64; slots]);
        for (i, &c) in history.iter().enumerate() {
            let s = seasonality.slot(first_hour + i as i64);
            sum[s] += c;
            n[s] += 1;
        }
        let overall = flat.mean();
        let slot_mean: Vec<f64> = (0..slots).map(|s| if n[s] == 0 { overall } else { (sum[s] as f64 + 0.5) / n[s] as f64 }).collect();
        let expected: Vec<f64> = (0..history.len()).map(|i| slot_mean[seasonality.slot(first_hour + i as i64)]).collect();
        let fitted = n.iter().filter(|&&k| k > 0).count();
        let overdispersed = scoring::pearson_dispersion_p(history, &expected, fitted).is_some_and(|p| p < alpha);
        let size = if overdispersed { scoring::negative_binomial_size(history, &expected) } else { None };
        SeasonalModel { seasonality, history_hours: history.len(), slot_mean, size, flat }
    }

    /// Expected count of `hour`.
    pub fn expected(&self, hour: i64) -> f64 {
        self.slot_mean[self.seasonality.slot(hour)]
    }

    /// The mean expected count over the history's slots (for a flat model, its rate).
    pub fn mean(&self) -> f64 {
        self.flat.mean()
    }

    /// `true` when the spread is negative binomial.
    pub fn is_negative_binomial(&self) -> bool {
        self.size.is_some()
    }

    /// P(X ≥ k) for the count of `hour`.
    pub fn upper_tail(&self, hour: i64, k: u64) -> f64 {
        if self.seasonality == Seasonality::Flat {
            return self.flat.upper_tail(k);
        }
        let mu = self.expected(hour);
        match self.size {
            None => scoring::poisson_upper_tail(k, mu),
            Some(r) => scoring::negative_binomial_upper_tail(k, r, r / (r + mu)),
        }
    }

    /// (expected sum, P(S ≤ observed)) for the total S over `hours`, each hour independent
    /// with this model's spread; a sum of negative binomials is approximated by the
    /// negative binomial with the same mean and variance.
    pub fn lower_tail_sum(&self, hours: impl IntoIterator<Item = i64>, observed: u64) -> (f64, f64) {
        let (mut m, mut v) = (0.0, 0.0);
        for h in hours {
            let mu = self.expected(h);
            m += mu;
            v += mu + self.size.map_or(0.0, |k| mu * mu / k);
        }
        let p = match scoring::negative_binomial_moments(m, v) {
            Some((r, p)) if self.size.is_some() => scoring::negative_binomial_lower_tail(observed, r, p),
            _ => scoring::poisson_lower_tail(observed, m),
        };
        (m, p)
    }

    /// `poisson` or `negative_binomial`, then the seasonality: for descriptions.
    pub fn describe(&self) -> String {
        let spread = if self.size.is_some() { "negative_binomial" } else { "poisson" };
        format!("{spread} model, {} expectation", self.seasonality.name())
    }
}
