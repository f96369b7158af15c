//! The machinery shared by the statistical volume analytics (`secret_access_volume`,
//! `enumeration_burst`, `model_invocation_volume`, `log_source_silence`): select events by
//! catalogue tag, count them per entity and hour, fit a seasonal count model to each
//! entity's own history, score the window's hours against it, control the false
//! discovery rate across entities, apply absolute floors, and assemble findings.
//!
//! # Method (DESIGN.md "Statistics")
//! 1. **Selection** ([`Selection`]): the events of the lookback and the window, and among
//!    them the ones whose operation carries the analytic's catalogue tag.
//! 2. **Counts** ([`hourly_by`], [`series`]): per entity key (any columns) and hour
//!    (`floor(time_us / HOUR_US)`), the event count and distinct counts of any columns;
//!    every hour of the entity's history is a bucket, zeros included.
//! 3. **Null model** ([`SeasonalModel`]): expectation per hour of the week with ≥ 21 days of
//!    history, per hour of day on weekdays and weekends apart with ≥ 7 days, else one flat
//!    rate ([`Seasonality::choose`]); Jeffreys posterior means so that an empty slot still
//!    expects a little; Poisson spread unless Pearson's dispersion test rejects, then
//!    negative binomial (NB2, method of moments). `SeasonalMode::Flat` keeps one rate.
//! 4. **Scoring**: upper tail of each window hour ([`most_surprising_hour`]), Šidák for
//!    having picked the most surprising of H hours ([`scoring::sidak`]); lower tail of a
//!    sum for silences ([`SeasonalModel::lower_tail_sum`]).
//! 5. **False discoveries**: Benjamini & Hochberg (1995) per family of entities tested in
//!    the run ([`bh_by_family`]); people and automation are separate families
//!    ([`Population`]) so that a fleet of busy service accounts does not set the bar for
//!    humans, nor the reverse.
//! 6. **Floors** ([`Floors`]): an absolute count and a ratio to the expectation, so that
//!    3 events against 0.1 expected (p ≈ 2e-4) is never a finding.
//! 7. **Learning state**: entities with less history than the analytic's minimum get no
//!    p-value; each analytic decides what, if anything, a newcomer's activity reports.
//! 8. **Findings** ([`Draft`], [`Evidence`]): what was observed, what was expected from how
//!    many days and which model, and why it was flagged.

mod finding;
mod lake;
mod model;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

pub use finding::{stamp, time, Draft, Evidence};
pub use lake::{hourly_by, hourly_sum, series, HourAgg, Hourly, Key, Row, Selection, ROW_COLUMNS};
pub use model::{weekday_hour, SeasonalMode, SeasonalModel, Seasonality, DAY_KIND_DAYS, HOUR_OF_WEEK_DAYS};

use crate::profiles::{is_iac_user_agent, HOUR_US};
use crate::schema::ActorType;
use crate::scoring;

/// Lower-case user-agent fragments of cloud security posture scanners and inventory
/// tools (Prowler, ScoutSuite, Steampipe, CloudSploit, CloudQuery, Cloud Custodian, AWS
/// Security Hub / Config / Inspector, commercial CSPM). Their sweeps enumerate every
/// service on a schedule; Splunk's "AWS Excessive Security Scanning" triage guidance
/// names known scanning roles as the benign explanation. Attack tools (Pacu) are not in
/// the list.
pub const SCANNER_USER_AGENTS: &[&str] = &[
    "prowler",
    "scoutsuite",
    "steampipe",
    "cloudsploit",
    "cloudquery",
    "custodian",
    "securityhub",
    "inspector2",
    "config.amazonaws.com",
    "wiz-",
    "orca-security",
    "lacework",
    "prismacloud",
];

/// Lower-case fragments of the AWS SDKs' execution-environment marker (`exec-env/`, the
/// `AWS_EXECUTION_ENV` of Lambda, ECS and Fargate): code running as a workload, not a
/// person at a keyboard.
pub const WORKLOAD_USER_AGENTS: &[&str] = &["exec-env/aws_lambda", "exec-env/aws_ecs"];

/// True when `user_agent` names a security scanner ([`SCANNER_USER_AGENTS`]).
pub fn is_scanner_user_agent(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    SCANNER_USER_AGENTS.iter().any(|f| ua.contains(f))
}

/// Who an entity is, for baselines and false-discovery families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Population {
    /// People (and workloads acting under a person-like role).
    Human,
    /// Service principals, AWS services, service-linked roles, deployment tools, scanners.
    Automation,
}

impl Population {
    /// `human` or `automation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Population::Human => "human",
            Population::Automation => "automation",
        }
    }
}

/// Automation when the most common `actor_type` is automation
/// ([`ActorType::is_automation`]), the principal is an AWS service-linked role
/// (`:role/aws-service-role/`), or more than half of its calls carry an infrastructure-as-
/// code, scanner or workload user agent ([`is_iac_user_agent`], [`is_scanner_user_agent`],
/// [`WORKLOAD_USER_AGENTS`]); else human. AWS workloads and CI pipelines are assumed roles
/// like SSO people, hence the agents.
pub fn population_of<'a>(
    actor: &str,
    types: impl Iterator<Item = Option<&'a str>>,
    agents: impl Iterator<Item = Option<&'a str>>,
) -> Population {
    let types: Vec<Option<&str>> = types.collect();
    let agents: Vec<Option<&str>> = agents.collect();
    let mut by_type: HashMap<&str, u64> = HashMap::new();
    for t in types.iter().flatten() {
        *by_type.entry(t).or_default() += 1;
    }
    let tools = agents.iter().filter(|a| a.is_some_and(is_tool_agent)).count() as u64;
    population_from_counts(actor, &by_type, tools, agents.len() as u64)
}

fn is_tool_agent(agent: &str) -> bool {
    let ua = agent.to_ascii_lowercase();
    is_iac_user_agent(agent) || is_scanner_user_agent(agent) || WORKLOAD_USER_AGENTS.iter().any(|f| ua.contains(f))
}

/// [`population_of`] from counts: events per `actor_type`, events with a deployment-tool or
/// scanner agent, and all events.
pub fn population_from_counts(actor: &str, by_type: &HashMap<&str, u64>, tool_events: u64, events: u64) -> Population {
    // The most common type; ties go to the smallest name, as in `most_common`.
    let typed = by_type
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .and_then(|(t, _)| ActorType::parse(t))
        .is_some_and(ActorType::is_automation);
    if typed || actor.contains(":role/aws-service-role/") || tool_events * 2 > events {
        Population::Automation
    } else {
        Population::Human
    }
}

/// The [`Population`] of every entity of `lf` over all its rows (not only the window's),
/// the entity being the `keys` columns with the principal (`actor_uid`) last; rows with a
/// NULL principal are skipped.
pub fn populations(lake_root: &std::path::Path, sel: &Selection, keys: &[&str]) -> crate::Result<HashMap<Key, Population>> {
    use crate::schema as s;
    let mut cols: Vec<&str> = keys.to_vec();
    cols.extend([s::ACTOR_TYPE, s::USER_AGENT]);
    let h = sel.tagged_hourly(lake_root, sel.lookback_start, sel.scan_end, Some(polars::prelude::col(s::ACTOR_UID).is_not_null()), &cols, &[])?;
    let mut acc: HashMap<Key, (HashMap<String, u64>, u64, u64)> = HashMap::new();
    for (k, hours) in h {
        let n: u64 = hours.values().map(|a| a.count).sum();
        let (entity, rest) = k.split_at(keys.len());
        let e = acc.entry(entity.to_vec()).or_default();
        *e.0.entry(rest[0].clone()).or_default() += n;
        if is_tool_agent(&rest[1]) {
            e.1 += n;
        }
        e.2 += n;
    }
    Ok(acc
        .into_iter()
        .map(|(k, (types, tools, n))| {
            let by_type: HashMap<&str, u64> = types.iter().filter(|(t, _)| !t.is_empty()).map(|(t, &c)| (t.as_str(), c)).collect();
            let actor = k.last().cloned().unwrap_or_default();
            (k, population_from_counts(&actor, &by_type, tools, n))
        })
        .collect())
}

/// Absolute and relative floors of a count finding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Fewer events than this are never flagged.
    pub min_count: u64,
    /// Observed must be at least this multiple of the expectation.
    pub min_ratio: f64,
}

impl Floors {
    /// `observed ≥ min_count` and `observed ≥ min_ratio × expected`.
    pub fn pass(&self, observed: u64, expected: f64) -> bool {
        observed >= self.min_count && observed as f64 >= self.min_ratio * expected
    }
}

/// One scored hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourScore {
    /// Hour index (`floor(time_us / HOUR_US)`).
    pub hour: i64,
    /// Events in the hour.
    pub observed: u64,
    /// The model's expectation for the hour.
    pub expected: f64,
    /// Raw upper tail P(X ≥ observed).
    pub p: f64,
}

/// The hour of `observed` (hour → count, hours with 0 absent) least likely under `model`,
/// among those `eligible` accepts; ties go to the earliest. Under a flat model this is the
/// busiest hour. `None` when no hour is eligible.
pub fn most_surprising_hour(
    model: &SeasonalModel,
    observed: &BTreeMap<i64, u64>,
    eligible: impl Fn(i64, u64, f64) -> bool,
) -> Option<HourScore> {
    let mut best: Option<HourScore> = None;
    for (&hour, &n) in observed {
        let expected = model.expected(hour);
        if !eligible(hour, n, expected) {
            continue;
        }
        let p = model.upper_tail(hour, n);
        // Among equal p the busier hour, then the earlier, is reported.
        let better = best.is_none_or(|b| p < b.p || (p == b.p && n > b.observed));
        if better {
            best = Some(HourScore { hour, observed: n, expected, p });
        }
    }
    best
}

/// Benjamini–Hochberg adjusted p-values computed within each family (`families[i]` is
/// the family of `p[i]`), aligned with the input.
pub fn bh_by_family<F: Ord + Clone>(families: &[F], p: &[f64]) -> Vec<f64> {
    let mut groups: BTreeMap<F, Vec<usize>> = BTreeMap::new();
    for (i, f) in families.iter().enumerate() {
        groups.entry(f.clone()).or_default().push(i);
    }
    let mut out = vec![1.0; p.len()];
    for idx in groups.values() {
        let adjusted = scoring::benjamini_hochberg(&idx.iter().map(|&i| p[i]).collect::<Vec<_>>());
        for (&i, a) in idx.iter().zip(adjusted) {
            out[i] = a;
        }
    }
    out
}

/// Family sizes of [`bh_by_family`], per family.
pub fn family_sizes<F: Ord + Clone>(families: &[F]) -> BTreeMap<F, usize> {
    let mut m = BTreeMap::new();
    for f in families {
        *m.entry(f.clone()).or_default() += 1;
    }
    m
}

/// Hours of the scoring window (at least 1).
pub fn window_hours(window: chrono::Duration) -> usize {
    (window.num_seconds() as f64 / 3600.0).ceil().max(1.0) as usize
}

/// Start of an entity's history, as an hour index: its first appearance (µs, if known),
/// not before the lookback; the window start when unknown. Returns (start, hours).
pub fn history_span(first_seen_us: Option<i64>, lookback_hour: i64, window_hour: i64) -> (i64, usize) {
    let start = first_seen_us.map_or(window_hour, |f| f.div_euclid(HOUR_US)).max(lookback_hour).min(window_hour);
    (start, (window_hour - start) as usize)
}

/// Events per hour of a set of rows.
pub fn per_hour<'a>(rows: impl IntoIterator<Item = &'a Row>) -> BTreeMap<i64, u64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.hour()).or_default() += 1;
    }
    m
}

/// Rows grouped by a key, in key order.
pub fn group_rows<'a, K: Ord>(rows: impl IntoIterator<Item = &'a Row>, key: impl Fn(&Row) -> Option<K>) -> BTreeMap<K, Vec<&'a Row>> {
    let mut m: BTreeMap<K, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            m.entry(k).or_default().push(r);
        }
    }
    m
}

/// The nearest-rank `q` quantile of `values` (q in (0, 1]); `None` when empty.
pub fn quantile(values: &[u64], q: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}
