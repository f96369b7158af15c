//! The naive baseline that `cloudsift evaluate` sets beside each statistical analytic: the
//! mean + 3σ threshold that many anchors use.
//!
//! # Method
//! For each statistical analytic, take its catalogue-tagged events (the same rows the
//! analytic reads). Per principal (`account_uid`, `actor_uid`) count them per UTC hour.
//! An hour is an **alert** when its count exceeds μ + 3σ of that principal's hourly counts
//! over the previous [`HISTORY_DAYS`] days, where μ and σ (sample standard deviation) are
//! taken over the hours with at least one event. This is how Splunk ESCU's baseline
//! searches (`stats count by _time span=1h, user | eventstats avg(count), stdev(count) by
//! user | where count > avg + 3*stdev`) and Sentinel's "anomalous volume" hunting queries
//! work.
//!
//! A principal needs at least [`MIN_HISTORY_HOURS`] active hours before it can alert, the
//! least that defines σ. There is no hour-of-week seasonality, no dispersion estimate, no
//! false-discovery control, no automation split and no peers: those are what cloudsift adds.
//!
//! An alert's evidence is the hour's events. It points at a labelled attack under the same
//! rule as a finding ([`super::points_at`]): same principal, some shared event.
//!
//! `log_source_silence` gets the mirror image, the "volume fell below the dynamic
//! threshold" rule of Azure Monitor / Sentinel health alerts in its plainest form: per log
//! source (`provider`, `account_uid`, `log_format`) count every record per UTC hour, empty
//! hours included from the source's first hour on; an hour is an alert when its count is
//! below μ − 3σ of the previous [`HISTORY_DAYS`] days of hours (at least
//! [`MIN_SILENCE_HISTORY_HOURS`]). A source names no principal and a silence has no
//! events, so such an alert points at a label of the same account whose time span covers
//! the hour.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use polars::prelude::*;
use serde::Serialize;

use crate::analytics::{enumeration_burst, file_access_anomaly, log_source_silence, model_invocation_volume, secret_access_volume, session_anomaly};
use crate::catalog::Catalog;
use crate::generate::AttackLabel;
use crate::profiles;
use crate::schema as s;
use crate::Result;

/// Days of history behind μ and σ.
pub const HISTORY_DAYS: i64 = 30;
/// Threshold in standard deviations above the mean.
pub const SIGMAS: f64 = 3.0;
/// Active hours a principal needs before it can alert (σ is undefined with fewer).
pub const MIN_HISTORY_HOURS: usize = 2;

/// The statistical analytics and the catalogue tag of the events each one counts.
pub const STATISTICAL: [(&str, &str); 6] = [
    (secret_access_volume::ID, secret_access_volume::TAG),
    (session_anomaly::ID, session_anomaly::TAG),
    (file_access_anomaly::ID, file_access_anomaly::TAG),
    (enumeration_burst::ID, enumeration_burst::TAG),
    (model_invocation_volume::ID, model_invocation_volume::TAG),
    // No tag: the silence rule counts every record of a source (see the module docs).
    (log_source_silence::ID, ""),
];

/// Hours of history a log source needs before the naive silence rule can alert.
pub const MIN_SILENCE_HISTORY_HOURS: usize = 24;

const HOUR_US: i64 = 3_600_000_000;

/// One hour of one principal above μ + 3σ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NaiveAlert {
    pub analytic: String,
    pub account_uid: String,
    pub actor_uid: String,
    /// Start of the hour, UTC.
    pub hour: DateTime<Utc>,
    /// Events in the hour.
    pub count: u64,
    /// μ and σ of the principal's active hours in the history window.
    pub mean: f64,
    pub sd: f64,
    /// The hour's `event_uid`s.
    pub event_uids: Vec<String>,
}

/// The naive baseline's scores for one analytic, in the units of [`super::AnalyticScore`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NaiveScore {
    pub analytic: String,
    pub attacks: usize,
    pub detected: usize,
    pub alerts: usize,
    pub true_alerts: usize,
}

impl NaiveScore {
    /// Alerts matching no label.
    pub fn false_alerts(&self) -> usize {
        self.alerts - self.true_alerts
    }
}

/// Events per hour of one principal, with their ids.
type Hours = BTreeMap<i64, Vec<String>>;

/// Runs the naive baseline of every statistical analytic over the whole lake.
///
/// # Errors
/// [`crate::Error::Lake`] when the lake cannot be read.
pub fn alerts(lake_root: &Path, catalog: &Catalog) -> Result<Vec<NaiveAlert>> {
    let from = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
    let to = DateTime::<Utc>::from_timestamp(4_102_444_800, 0).expect("2100");
    let mut out = silence_alerts(lake_root, from, to)?;
    for (analytic, tag) in STATISTICAL.into_iter().filter(|(a, _)| *a != log_source_silence::ID) {
        let Some(lf) = profiles::scan_events(lake_root, from, to)? else {
            return Ok(out);
        };
        let ops = profiles::tagged_operations(lake_root, lf.clone(), catalog, tag)?;
        let Some(rows) = profiles::tagged_events(lake_root, lf, &ops, &[s::ACCOUNT_UID, s::ACTOR_UID, s::EVENT_UID])? else {
            continue;
        };
        let df = profiles::collect(lake_root, rows.filter(col(s::ACTOR_UID).is_not_null()).select([col(s::ACCOUNT_UID), col(s::ACTOR_UID), col(s::EVENT_UID), col(s::TIME).cast(DataType::Int64)]))?;
        let mut by: HashMap<(String, String), Hours> = HashMap::new();
        let (accounts, actors, uids, times) = (profiles::strings(&df, s::ACCOUNT_UID)?, profiles::strings(&df, s::ACTOR_UID)?, profiles::strings(&df, s::EVENT_UID)?, profiles::ints(&df, s::TIME)?);
        for (((a, p), u), t) in accounts.into_iter().zip(actors).zip(uids).zip(times) {
            let (Some(a), Some(p)) = (a, p) else { continue };
            by.entry((a, p)).or_default().entry(t.div_euclid(HOUR_US)).or_default().push(u.unwrap_or_default());
        }
        let mut keys: Vec<&(String, String)> = by.keys().collect();
        keys.sort();
        for key in keys {
            for (hour, count, mean, sd) in exceedances(&by[key]) {
                out.push(NaiveAlert {
                    analytic: analytic.to_string(),
                    account_uid: key.0.clone(),
                    actor_uid: key.1.clone(),
                    hour: DateTime::<Utc>::from_timestamp_micros(hour * HOUR_US).expect("hour in range"),
                    count,
                    mean,
                    sd,
                    event_uids: by[key][&hour].clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Hourly record counts per log source, zero hours filled in from its first hour to the
/// lake's last; the naive silence alerts over them.
fn silence_alerts(lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<NaiveAlert>> {
    let Some(lf) = profiles::scan_events(lake_root, from, to)? else {
        return Ok(Vec::new());
    };
    let hour = col(s::TIME).cast(DataType::Int64).floor_div(lit(HOUR_US)).alias("hour");
    let df = profiles::collect(lake_root, lf.group_by([col(s::PROVIDER), col(s::ACCOUNT_UID), col(s::LOG_FORMAT), hour]).agg([len().cast(DataType::Int64).alias("n")]))?;
    let (p, a, f) = (profiles::strings(&df, s::PROVIDER)?, profiles::strings(&df, s::ACCOUNT_UID)?, profiles::strings(&df, s::LOG_FORMAT)?);
    let (hours, counts) = (profiles::ints(&df, "hour")?, profiles::ints(&df, "n")?);
    let mut by: BTreeMap<(String, String, String), BTreeMap<i64, u64>> = BTreeMap::new();
    for i in 0..df.height() {
        let key = (p[i].clone().unwrap_or_default(), a[i].clone().unwrap_or_default(), f[i].clone().unwrap_or_default());
        by.entry(key).or_default().insert(hours[i], counts[i].max(0) as u64);
    }
    let last = hours.iter().copied().max().unwrap_or(0);
    let mut out = Vec::new();
    for ((_, account, _), counts) in &by {
        let first = *counts.keys().next().expect("a source has an hour");
        let series: Vec<u64> = (first..=last).map(|h| counts.get(&h).copied().unwrap_or(0)).collect();
        for (i, count, mean, sd) in shortfalls(&series) {
            out.push(NaiveAlert {
                analytic: log_source_silence::ID.to_string(),
                account_uid: account.clone(),
                actor_uid: String::new(),
                hour: DateTime::<Utc>::from_timestamp_micros((first + i as i64) * HOUR_US).expect("hour in range"),
                count,
                mean,
                sd,
                event_uids: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// The positions (index, count, μ, σ) of an hourly series below μ − 3σ of the preceding
/// [`HISTORY_DAYS`] days of hours (zeros included).
fn shortfalls(series: &[u64]) -> Vec<(usize, u64, f64, f64)> {
    let window = (HISTORY_DAYS * 24) as usize;
    let mut out = Vec::new();
    for (i, &count) in series.iter().enumerate() {
        let history = &series[i.saturating_sub(window)..i];
        if history.len() < MIN_SILENCE_HISTORY_HOURS {
            continue;
        }
        let n = history.len() as f64;
        let mean = history.iter().map(|&x| x as f64).sum::<f64>() / n;
        let sd = (history.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        if (count as f64) < mean - SIGMAS * sd {
            out.push((i, count, mean, sd));
        }
    }
    out
}

/// The hours (index, count, μ, σ) of one principal above μ + 3σ of its active hours in the
/// preceding [`HISTORY_DAYS`] days.
fn exceedances(hours: &Hours) -> Vec<(i64, u64, f64, f64)> {
    let window = HISTORY_DAYS * 24;
    let mut out = Vec::new();
    for (&h, events) in hours {
        let history: Vec<f64> = hours.range(h - window..h).map(|(_, e)| e.len() as f64).collect();
        if history.len() < MIN_HISTORY_HOURS {
            continue;
        }
        let n = history.len() as f64;
        let mean = history.iter().sum::<f64>() / n;
        let sd = (history.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let count = events.len() as u64;
        if count as f64 > mean + SIGMAS * sd {
            out.push((h, count, mean, sd));
        }
    }
    out
}

/// Whether a naive alert names the label's principal and shares an event with it; for a
/// silence alert, whether its account is the label's and its hour overlaps the label's span.
fn points_at(a: &NaiveAlert, l: &AttackLabel) -> bool {
    if a.analytic == log_source_silence::ID {
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc));
        let (Some(start), Some(end)) = (parse(&l.start), parse(&l.end)) else {
            return false;
        };
        return a.account_uid == l.account_uid && a.hour <= end && a.hour + chrono::Duration::hours(1) > start;
    }
    a.actor_uid.eq_ignore_ascii_case(&l.actor_uid) && a.event_uids.iter().any(|u| l.event_uids.contains(u))
}

/// Recall and precision of the naive alerts, per statistical analytic (in [`STATISTICAL`] order).
pub fn score(labels: &[AttackLabel], alerts: &[NaiveAlert]) -> Vec<NaiveScore> {
    STATISTICAL
        .iter()
        .map(|(analytic, _)| {
            let mine: Vec<&NaiveAlert> = alerts.iter().filter(|a| a.analytic == *analytic).collect();
            let own: Vec<&AttackLabel> = labels.iter().filter(|l| l.analytic == *analytic).collect();
            NaiveScore {
                analytic: analytic.to_string(),
                attacks: own.len(),
                detected: own.iter().filter(|l| mine.iter().any(|a| points_at(a, l))).count(),
                alerts: mine.len(),
                true_alerts: mine.iter().filter(|a| labels.iter().any(|l| points_at(a, l))).count(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(counts: &[(i64, usize)]) -> Hours {
        counts.iter().map(|&(h, n)| (h, (0..n).map(|i| format!("e{h}-{i}")).collect())).collect()
    }

    #[test]
    fn flags_above_mean_plus_three_sigma_of_active_hours() {
        // History 10, 12, 8, 10 → μ = 10, σ = √(8/3) ≈ 1.633, threshold ≈ 14.9.
        let h = hours(&[(0, 10), (1, 12), (2, 8), (3, 10), (4, 15), (30, 14)]);
        let got = exceedances(&h);
        assert_eq!(got.len(), 1, "{got:?}");
        let (hour, count, mean, sd) = got[0];
        assert_eq!((hour, count), (4, 15));
        assert!((mean - 10.0).abs() < 1e-12 && (sd - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn needs_two_active_hours_and_forgets_after_thirty_days() {
        assert!(exceedances(&hours(&[(0, 1), (1, 50)])).is_empty());
        // σ = 0 history: any larger hour alerts (the naive method's known weakness).
        assert_eq!(exceedances(&hours(&[(0, 1), (1, 1), (2, 2)])).len(), 1);
        // The burst at hour 0 is out of the window 31 days later.
        let far = 31 * 24;
        let got = exceedances(&hours(&[(0, 100), (far - 2, 1), (far - 1, 1), (far, 2)]));
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![far]);
    }

    #[test]
    fn a_silence_is_an_hour_below_mean_minus_three_sigma_of_the_hours_before() {
        // A steady 10 an hour for two days, then 0: μ = 10, σ = 0 → alert; a dip to 9 in a
        // noisier series (alternating 5 and 15: σ ≈ 5) is not.
        let mut steady = vec![10u64; 48];
        steady.push(0);
        assert_eq!(shortfalls(&steady).iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(), vec![(48, 0)]);
        let mut noisy: Vec<u64> = (0..48).map(|i| if i % 2 == 0 { 5 } else { 15 }).collect();
        noisy.push(9);
        noisy.push(0);
        assert!(shortfalls(&noisy).is_empty(), "μ − 3σ < 0: the naive rule never sees a silence in a diurnal source");
        assert!(shortfalls(&[0u64; 10]).is_empty(), "fewer than 24 hours of history");
    }

    #[test]
    fn a_silence_alert_points_at_a_label_of_its_account_and_span() {
        let label = AttackLabel {
            attack_id: "A7".into(),
            analytic: log_source_silence::ID.into(),
            technique: "T1562.008".into(),
            account_uid: "427182930455".into(),
            actor_uid: "arn:aws:iam::427182930455:user/jenkins-legacy".into(),
            start: "2024-03-11T01:38:21Z".into(),
            end: "2024-03-11T08:57:40Z".into(),
            event_uids: vec!["stop".into()],
            also: Vec::new(),
        };
        let alert = |account: &str, hour: u32| NaiveAlert {
            analytic: log_source_silence::ID.into(),
            account_uid: account.into(),
            actor_uid: String::new(),
            hour: chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 3, 11, hour, 0, 0).unwrap(),
            count: 0,
            mean: 25.0,
            sd: 3.0,
            event_uids: Vec::new(),
        };
        assert!(points_at(&alert("427182930455", 1), &label) && points_at(&alert("427182930455", 8), &label));
        assert!(!points_at(&alert("427182930455", 9), &label) && !points_at(&alert("111122223333", 3), &label));
    }

    #[test]
    fn scores_against_labels() {
        let label = AttackLabel {
            attack_id: "A".into(),
            analytic: secret_access_volume::ID.into(),
            technique: "T1555.006".into(),
            account_uid: "1".into(),
            actor_uid: "Bob".into(),
            start: String::new(),
            end: String::new(),
            event_uids: vec!["x".into()],
            also: Vec::new(),
        };
        let alert = |actor: &str, uid: &str| NaiveAlert {
            analytic: secret_access_volume::ID.into(),
            account_uid: "1".into(),
            actor_uid: actor.into(),
            hour: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            count: 3,
            mean: 1.0,
            sd: 0.5,
            event_uids: vec![uid.into()],
        };
        let s = score(&[label], &[alert("bob", "x"), alert("bob", "y"), alert("carol", "x")]);
        let sv = &s[0];
        assert_eq!((sv.attacks, sv.detected, sv.alerts, sv.true_alerts, sv.false_alerts()), (1, 1, 3, 1, 2));
        assert_eq!(s[1].alerts, 0);
    }
}
