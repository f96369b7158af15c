//! `log_source_silence` (statistical, lower tail): a log source that stops delivering, or
//! delivers far less than its history predicts — logging disabled without a disable event
//! in the logs (a trail deleted from another account, an export or diagnostic setting
//! removed upstream, a broken pipeline). ATT&CK T1562.008 Impair Defenses: Disable or
//! Modify Cloud Logs (T1685.002 from ATT&CK v19).
//!
//! Sources: every (provider, account, log format) of the lake — one CloudTrail trail's
//! account, one tenant's M365 audit, one subscription's Activity log or Key Vault logs,
//! one project's audit logs — and, with `per_service` (default), every (account,
//! eventSource) of CloudTrail, so that a trail whose management events were switched off
//! while data events continue is seen.
//!
//! Method (engine [`super::volume`]):
//! 1. Hourly event counts per source over its history (from its first event, at most
//!    `max_history_days`, zeros included); sources with less than `min_history_days` are
//!    not scored (learning: never a finding on the first days).
//! 2. Seasonal expectation per hour ([`SeasonalModel`]: hour of week with ≥ 21 days,
//!    weekday/weekend × hour of day with ≥ 7), so a naturally quiet weekend or night is
//!    expected quiet; Poisson, or negative binomial for bursty sources.
//! 3. **Silence**: each run of hours without a single event that reaches into the window,
//!    extended back to where it began; p = P(no event in those hours), the lower tail of
//!    the summed expectation ([`SeasonalModel::lower_tail_sum`]), Šidák over the window's
//!    hours (runs are picked from the window). **Drop**: the window's total against its
//!    expectation, P(S ≤ observed), when observed ≤ `max_drop_ratio` × expected. The two
//!    views are combined by Bonferroni (2 · min).
//! 4. Benjamini–Hochberg across the sources tested in the run (sources and CloudTrail
//!    services are two families); flagged when adjusted p ≤ `fdr_q` and the silent
//!    stretch (or window) was expected to hold ≥ `min_expected` events. Hours are not
//!    independent (a bursty service is idle for days), so a silence must also be expected
//!    to hold ≥ `past_silence_factor` × the events of the largest silence in the source's
//!    own history, and a drop counts only if no whole day of the history dropped as far.
//!    A service-level finding is dropped when its account's whole source is flagged.
//!
//! **Late delivery.** `run` scores one UTC day at a time once it is over, and audit logs
//! arrive late (CloudTrail ≈ 5–15 min, Microsoft 365 up to hours): the end of a day can be
//! missing when it is scored. A silence reaching the window end therefore counts only
//! when the lake already holds later events of the same source (delivery resumed, so the
//! hole is real) or when it has lasted `min_silent_hours` (default 12, longer than a
//! normal delivery delay); the drop view needs later events too. A silence found again
//! the next day keeps its finding id (keyed by the hour it began), so an outage is one
//! finding that grows, not one per day. A lake whose only source falls silent has no new
//! day to score: run detection on a schedule (`cloudsift detect --as-of`) to catch that.
//!
//! | situation | severity |
//! |---|---|
//! | silence or drop flagged | medium |
//! | … beginning within `disable_lookback_hours` after a `logging_disable` event of the same account (StopLogging, DeleteTrail, diagnostic setting or sink deleted, …) that its initiator had not made on two earlier days | high |
//!
//! Anchors: Microsoft Sentinel's data-connector health ("SentinelHealth", "Data
//! collection stopped") and Azure Monitor's "no data" log alerts, Splunk's "Missing
//! forwarder / data source" monitoring, Google CSA 3.01 "Changes made to logging settings"
//! (the disable event this complements); the count model of `secret_access_volume`.
//!
//! Known false positives: a planned decommission or migration of an account, a holiday
//! far quieter than any day of the history (the negative binomial absorbs some of it), a
//! collector outage on the ingest side (a real gap in the lake all the same).

mod gaps;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use polars::prelude::{col, lit};
use serde::Deserialize;

use super::volume::{self, Hourly, Key, Row, SeasonalMode, SeasonalModel, Seasonality, Selection};
use super::DetectContext;
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::HOUR_US;
use crate::schema as s;
use crate::scoring;
use crate::{Error, Result};

pub use gaps::{silent_runs, Gap};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "log_source_silence";
/// Catalogue tag of the events that raise a silence to high.
pub const DISABLE_TAG: &str = "logging_disable";

/// `[analytics.log_source_silence]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSourceSilenceConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days of a source's history before it is scored. Default 7.
    pub min_history_days: u32,
    /// Longest history used, in days. Default 28.
    pub max_history_days: u32,
    /// Benjamini–Hochberg false discovery rate per family. Default 0.01.
    pub fdr_q: f64,
    /// Events the silent stretch (or the window, for a drop) must have been expected to
    /// hold. Default 100: a source too quiet for that cannot show a silence.
    pub min_expected: f64,
    /// A silence still running at the window end, with no later event of the source in
    /// the lake, counts only after this many hours. Default 12.
    pub min_silent_hours: u32,
    /// A drop counts when the window's events are at most this fraction of the expected.
    /// Default 0.1.
    pub max_drop_ratio: f64,
    /// Also score each CloudTrail service (eventSource) of each account. Default `true`.
    pub per_service: bool,
    /// A silence must be expected to hold at least this multiple of the events of the
    /// largest silence in the source's own history (bursty sources are silent for days
    /// by nature). Default 2.0.
    pub past_silence_factor: f64,
    /// Days after the window searched for later delivery. Default 7.
    pub lookahead_days: u32,
    /// A `logging_disable` event up to this many hours before the silence began makes it
    /// high. Default 24.
    pub disable_lookback_hours: u32,
    /// Significance of the over-dispersion test. Default 0.05.
    pub dispersion_alpha: f64,
    /// `auto` or `flat` expectation. Default `auto`.
    pub seasonality: SeasonalMode,
}

impl Default for LogSourceSilenceConfig {
    fn default() -> Self {
        LogSourceSilenceConfig {
            enabled: true,
            min_history_days: 7,
            max_history_days: 28,
            fdr_q: 0.01,
            min_expected: 100.0,
            min_silent_hours: 12,
            max_drop_ratio: 0.1,
            per_service: true,
            past_silence_factor: 2.0,
            lookahead_days: 7,
            disable_lookback_hours: 24,
            dispersion_alpha: scoring::DEFAULT_DISPERSION_ALPHA,
            seasonality: SeasonalMode::Auto,
        }
    }
}

impl LogSourceSilenceConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.log_source_silence.<key>`).
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("analytics.{ID}.{k}");
        if !(self.fdr_q > 0.0 && self.fdr_q <= 1.0) {
            return Err(Error::config(key("fdr_q"), format!("must be in (0, 1], got {}", self.fdr_q)));
        }
        if !(self.dispersion_alpha > 0.0 && self.dispersion_alpha < 1.0) {
            return Err(Error::config(key("dispersion_alpha"), format!("must be in (0, 1), got {}", self.dispersion_alpha)));
        }
        if self.max_history_days == 0 || self.max_history_days < self.min_history_days {
            return Err(Error::config(key("max_history_days"), format!("must be ≥ min_history_days ({}) and > 0, got {}", self.min_history_days, self.max_history_days)));
        }
        if self.min_history_days == 0 {
            return Err(Error::config(key("min_history_days"), "must be at least 1"));
        }
        if !(self.max_drop_ratio >= 0.0 && self.max_drop_ratio < 1.0) {
            return Err(Error::config(key("max_drop_ratio"), format!("must be in [0, 1), got {}", self.max_drop_ratio)));
        }
        for (k, v) in [("min_expected", self.min_expected), ("past_silence_factor", self.past_silence_factor)] {
            if v.is_nan() || v < 0.0 {
                return Err(Error::config(key(k), format!("must be ≥ 0, got {v}")));
            }
        }
        Ok(())
    }
}

/// Which view a source was flagged by.
#[derive(Debug, Clone, Copy, PartialEq)]
enum View {
    Silence(Gap),
    Drop { observed: u64 },
}

/// One scored source.
struct Scored {
    key: Key,
    service_level: bool,
    view: Option<View>,
    expected: f64,
    raw: f64,
    p: f64,
    model: String,
    days: f64,
    /// (hour, events) of the last busy hour before the silence.
    last_busy: Option<(i64, u64)>,
    /// Expected events of the largest silence of the source's history.
    past_silence: f64,
}

/// The largest expected count of a silence in the history (a run of empty hours with
/// events before and after it), under the fitted model.
fn past_silence(hist: &[u64], first_hour: i64, model: &SeasonalModel) -> f64 {
    let (mut best, mut run): (f64, Option<f64>) = (0.0, None);
    for (i, &n) in hist.iter().enumerate() {
        let h = first_hour + i as i64;
        if n == 0 {
            run = Some(run.unwrap_or(0.0) + model.expected(h));
        } else if let Some(e) = run.take() {
            best = best.max(e);
        }
    }
    best
}

/// Whether some whole day of the history (24 h aligned with the window) already held at
/// most `ratio` of its expectation, with at least `min_expected` expected.
fn past_drop(hist: &[u64], first_hour: i64, ws_hour: i64, model: &SeasonalModel, ratio: f64, min_expected: f64) -> bool {
    let mut from = ws_hour - 24;
    while from >= first_hour {
        let i = (from - first_hour) as usize;
        let observed: u64 = hist[i..i + 24].iter().sum();
        let expected: f64 = (from..from + 24).map(|h| model.expected(h)).sum();
        if expected >= min_expected && observed as f64 <= ratio * expected {
            return true;
        }
        from -= 24;
    }
    false
}

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// Errors: [`Error::Lake`] / [`Error::Io`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.log_source_silence;
    let after = Duration::days(i64::from(cfg.lookahead_days));
    let Some(sel) = Selection::load(ctx, DISABLE_TAG, cfg.max_history_days, after)? else {
        return Ok(Vec::new());
    };
    // Hourly counts of every record (interim Azure/GCP records included: they are part of
    // the stream whose silence is measured), from the profile store.
    let hourly = ctx.hourly_profile(sel.lookback_start, ctx.as_of + after)?;
    let mut sources = volume::hourly_sum(ctx.lake_root, hourly.clone(), &[s::PROVIDER, s::ACCOUNT_UID, s::LOG_FORMAT])?;
    let mut services = Hourly::default();
    if cfg.per_service {
        let trails = hourly.filter(col(s::LOG_FORMAT).eq(lit(s::LogFormat::CloudTrail.as_str())));
        services = volume::hourly_sum(ctx.lake_root, trails, &[s::PROVIDER, s::ACCOUNT_UID, s::LOG_FORMAT, s::SERVICE])?;
    }
    let ws_hour = sel.window_start.timestamp_micros().div_euclid(HOUR_US);
    let end_hour = ctx.as_of.timestamp_micros().div_euclid(HOUR_US);
    let lookback_hour = sel.lookback_start.timestamp_micros().div_euclid(HOUR_US);
    let window_hours = volume::window_hours(ctx.window);

    let mut scored = Vec::new();
    for (service_level, table) in [(false, &mut sources), (true, &mut services)] {
        let mut keys: Vec<Key> = table.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let counts = &table[&key];
            if let Some(x) = score(cfg, key.clone(), service_level, counts, lookback_hour, ws_hour, end_hour, window_hours) {
                scored.push(x);
            }
        }
    }
    let families: Vec<bool> = scored.iter().map(|x| x.service_level).collect();
    let adjusted = volume::bh_by_family(&families, &scored.iter().map(|x| x.p).collect::<Vec<_>>());
    let sizes = volume::family_sizes(&families);
    let flagged: Vec<(&Scored, f64)> = scored.iter().zip(adjusted).filter(|(x, p)| x.view.is_some() && *p <= cfg.fdr_q).collect();
    let whole: Vec<&Key> = flagged.iter().filter(|(x, _)| !x.service_level).map(|(x, _)| &x.key).collect();
    let disables = sel.tagged_rows(ctx.lake_root, sel.lookback_start, ctx.as_of)?;
    let mut findings = Vec::new();
    for (x, p_adj) in flagged {
        if x.service_level && whole.iter().any(|k| k[..3] == x.key[..3]) {
            continue;
        }
        findings.push(finding(ctx, cfg, x, p_adj, sizes[&x.service_level], window_hours, &disables, &sel.ops));
    }
    Ok(findings)
}

/// Scores one source; `None` when it has too little history to be scored.
#[allow(clippy::too_many_arguments)]
fn score(cfg: &LogSourceSilenceConfig, key: Key, service_level: bool, counts: &BTreeMap<i64, volume::HourAgg>, lookback_hour: i64, ws_hour: i64, end_hour: i64, window_hours: usize) -> Option<Scored> {
    let busy: BTreeMap<i64, u64> = counts.iter().filter(|(_, a)| a.count > 0).map(|(h, a)| (*h, a.count)).collect();
    let first_hour = busy.keys().next().copied()?.max(lookback_hour);
    if first_hour >= ws_hour || ((ws_hour - first_hour) as usize) < cfg.min_history_days as usize * 24 {
        return None;
    }
    let hist = volume::series(Some(counts), first_hour, ws_hour, |a| a.count);
    let model = SeasonalModel::fit(&hist, first_hour, Seasonality::choose(cfg.seasonality, hist.len()), cfg.dispersion_alpha);
    let later = busy.range(end_hour..).next().is_some();
    let past = past_silence(&hist, first_hour, &model);
    // Silences: the most improbable confirmed run.
    let mut silence: Option<(Gap, f64, f64)> = None;
    for gap in silent_runs(&busy, first_hour, ws_hour, end_hour) {
        let confirmed = gap.resumed.is_some() || gap.hours() >= i64::from(cfg.min_silent_hours);
        let (expected, p) = model.lower_tail_sum(gap.start..gap.end, 0);
        let unprecedented = expected >= cfg.past_silence_factor * past;
        if confirmed && unprecedented && expected >= cfg.min_expected && silence.is_none_or(|(_, _, bp)| p < bp) {
            silence = Some((gap, expected, p));
        }
    }
    // Drop: the whole window, only once later delivery shows the day is complete.
    let observed: u64 = busy.range(ws_hour..end_hour).map(|(_, n)| n).sum();
    let (w_expected, w_p) = model.lower_tail_sum(ws_hour..end_hour, observed);
    let drop = (later
        && w_expected >= cfg.min_expected
        && observed as f64 <= cfg.max_drop_ratio * w_expected
        && !past_drop(&hist, first_hour, ws_hour, &model, cfg.max_drop_ratio, cfg.min_expected))
        .then_some((observed, w_expected, w_p));
    let p_silence = silence.map(|(_, _, p)| scoring::sidak(p, window_hours));
    let (view, expected, raw, p) = match (silence, drop) {
        (Some((g, e, raw)), Some((_, _, dp))) if p_silence.unwrap() <= dp => (Some(View::Silence(g)), e, raw, (2.0 * p_silence.unwrap()).min(1.0)),
        (Some(_), Some((o, e, dp))) => (Some(View::Drop { observed: o }), e, dp, (2.0 * dp).min(1.0)),
        (Some((g, e, raw)), None) => (Some(View::Silence(g)), e, raw, p_silence.unwrap()),
        (None, Some((o, e, dp))) => (Some(View::Drop { observed: o }), e, dp, dp),
        (None, None) => (None, w_expected, 1.0, 1.0),
    };
    let last_busy = match view {
        Some(View::Silence(g)) => busy.range(..g.start).next_back().map(|(h, n)| (*h, *n)),
        _ => None,
    };
    Some(Scored { key, service_level, view, expected, raw, p, model: model.describe(), days: (ws_hour - first_hour) as f64 / 24.0, last_busy, past_silence: past })
}

fn hour_time(h: i64) -> DateTime<Utc> {
    volume::time(h * HOUR_US)
}

#[allow(clippy::too_many_arguments)]
fn finding(ctx: &DetectContext, cfg: &LogSourceSilenceConfig, x: &Scored, p_adj: f64, family: usize, window_hours: usize, disables: &[Row], ops: &[crate::profiles::TaggedOperation]) -> Finding {
    let (provider, account, format) = (&x.key[0], &x.key[1], &x.key[2]);
    let service = x.key.get(3).cloned();
    let source = match &service {
        Some(sv) => format!("{format} events of service {sv} in {provider} account {account}"),
        None => format!("{format} events of {provider} account {account}"),
    };
    let (start, end, observed, what) = match x.view.expect("flagged") {
        View::Silence(g) => {
            // A gap ends where delivery resumed when that is inside the window (then
            // `end == resumed`); otherwise at the window's end.
            let window_end_hour = ctx.as_of.timestamp_micros().div_euclid(HOUR_US);
            let status = match g.resumed {
                Some(r) if r < window_end_hour => format!("delivery resumed at {} UTC", hour_time(r).format("%Y-%m-%d %H:00")),
                Some(r) => format!("still silent at the window end; the lake holds later events from {} UTC, so the hole is not a delivery delay", hour_time(r).format("%Y-%m-%d %H:00")),
                None => format!("still silent at the window end with no later event in the lake; reported because the silence has lasted ≥ {} hours", cfg.min_silent_hours),
            };
            let last = x.last_busy.map_or(String::new(), |(h, n)| format!(" The last events were {n} in the hour from {} UTC.", hour_time(h).format("%Y-%m-%d %H:00")));
            (
                hour_time(g.start),
                hour_time(g.end),
                0u64,
                format!("No {source} from {} to {} UTC ({} hours; {status}).{last}", hour_time(g.start).format("%Y-%m-%d %H:00"), hour_time(g.end).format("%Y-%m-%d %H:00"), g.hours()),
            )
        }
        View::Drop { observed } => (
            ctx.window_start(),
            ctx.as_of,
            observed,
            format!("Only {observed} {source} in the window {} – {} UTC, at most {} of the expected; later events exist, so the day is complete.", ctx.window_start().format("%Y-%m-%d %H:%M"), ctx.as_of.format("%Y-%m-%d %H:%M"), cfg.max_drop_ratio),
        ),
    };
    let lead = Duration::hours(i64::from(cfg.disable_lookback_hours));
    // A change the same principal makes routinely (a nightly UpdateTrail by the deployment
    // pipeline) explains nothing: only a disable it had not made on two earlier days counts.
    let day = |t: i64| t.div_euclid(24 * HOUR_US);
    let routine = |r: &Row| {
        let days: std::collections::BTreeSet<i64> = disables
            .iter()
            .filter(|o| o.account == r.account && o.actor == r.actor && o.operation == r.operation && day(o.t) < day(r.t))
            .map(|o| day(o.t))
            .collect();
        days.len() >= 2
    };
    let near: Vec<&Row> = disables
        .iter()
        .filter(|r| &r.provider == provider && &r.account == account)
        .filter(|r| r.t >= (start - lead).timestamp_micros() && r.t < (start + Duration::hours(1)).max(ctx.as_of.min(end)).timestamp_micros())
        .filter(|r| !routine(r))
        .collect();
    let severity = if near.is_empty() { Severity::Medium } else { Severity::High };
    let disable_text = if near.is_empty() {
        format!(" No logging-disable event of the account (other than routine ones) in the {} hours before.", cfg.disable_lookback_hours)
    } else {
        format!(
            " Preceded by {}: the silence follows a logging-disable event.",
            near.iter().map(|r| format!("{} by {} at {} UTC", r.operation, r.actor.as_deref().unwrap_or("an unknown principal"), volume::stamp(r.t))).collect::<Vec<_>>().join("; ")
        )
    };
    let kind = if x.service_level { "CloudTrail services" } else { "log sources" };
    let description = format!(
        "{what} Expected {:.1} events in that span from {:.1} days of the source's hourly history ({}; its largest silence before was expected to hold {:.1}); lower tail P(≤ {observed}) = {:.2e}{}; Benjamini–Hochberg across {family} {kind} tested = {:.2e} (q = {}).{disable_text} \
         Method: seasonal Poisson / negative-binomial lower tail of the source's own volume (DESIGN.md; Benjamini & Hochberg 1995).",
        x.expected,
        x.days,
        x.model,
        x.past_silence,
        x.raw,
        match x.view {
            Some(View::Silence(_)) => format!(", Šidák over {window_hours} window hours"),
            _ => String::new(),
        },
        p_adj,
        cfg.fdr_q,
    );
    let title = match (x.view, &service) {
        (Some(View::Silence(_)), Some(sv)) => format!("CloudTrail service {sv} stopped logging in account {account}"),
        (Some(View::Silence(_)), None) => format!("Log source stopped delivering: {format} of {provider} account {account}"),
        (_, Some(sv)) => format!("CloudTrail service {sv} volume dropped in account {account}"),
        (_, None) => format!("Log source volume dropped: {format} of {provider} account {account}"),
    };
    let mut entity: Vec<&str> = x.key.iter().map(String::as_str).collect();
    // A silence keeps one id while it lasts (keyed by the hour it began).
    let (id_start, id_end) = match x.view {
        Some(View::Silence(_)) => {
            entity.push("silence");
            (start, start)
        }
        _ => {
            entity.push("drop");
            (start, end)
        }
    };
    let entries: Vec<&crate::catalog::Entry> = ops
        .iter()
        .filter(|o| near.iter().any(|r| r.provider == o.provider && r.service == o.service && r.operation == o.operation))
        .flat_map(|o| o.entries.iter())
        .collect();
    let mut techniques = vec!["T1562.008".to_string(), "T1685.002".to_string()];
    for t in entries.iter().flat_map(|e| &e.techniques) {
        if !techniques.contains(t) {
            techniques.push(t.clone());
        }
    }
    Finding {
        finding_uid: finding_uid(ID, &entity, id_start, id_end),
        analytic_uid: ID.into(),
        title,
        description,
        severity,
        risk_score: super::user_context::risk_in_band(severity, scoring::risk_score(Some(p_adj), 0.0, Some(x.expected))),
        p_value: Some(x.p),
        p_value_adjusted: Some(p_adj),
        observed: observed as f64,
        expected: Some(x.expected),
        baseline_days: x.days as u32,
        window_start: start,
        window_end: end,
        provider: provider.clone(),
        account_uid: account.clone(),
        region: None,
        actor_uid: near.first().and_then(|r| r.actor.clone()),
        src_ip: near.first().and_then(|r| r.src_ip.clone()),
        user_agent: near.first().and_then(|r| r.user_agent.clone()),
        service,
        operation: near.first().map(|r| r.operation.clone()),
        resource_uid: near.first().and_then(|r| r.resource.clone()),
        data_component: "disable".into(),
        attack_techniques: techniques,
        attack_version: "19".into(),
        evidence_event_uids: near.iter().map(|r| r.event_uid.clone()).collect(),
        evidence_count: near.len() as u64,
        suppressed: false,
        suppression_reason: None,
        run_uid: ctx.run_uid.to_string(),
    }
}
