//! Scoring one window: learning, first use and volume per account and principal.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::Duration;
use polars::prelude::col;

use super::{ModelInvocationVolumeConfig, ID, TAG};
use crate::analytics::volume::{self, Draft, Evidence, Floors, Hourly, Population, Row, SeasonalModel, Seasonality, Selection};
use crate::analytics::DetectContext;
use crate::findings::{Finding, Severity};
use crate::profiles::{self, HOUR_US};
use crate::schema as s;
use crate::scoring;
use crate::Result;

/// A false-discovery family: accounts, or principals of one population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Account,
    Principal(Population),
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Account => "accounts",
            Family::Principal(Population::Human) => "human principals",
            Family::Principal(Population::Automation) => "automation principals",
        }
    }
}

/// A tested entity: an account (`actor` None) or a principal.
struct Tested<'a> {
    provider: &'a str,
    account: &'a str,
    actor: Option<&'a str>,
    family: Family,
    rows: Vec<&'a Row>,
    hour: i64,
    observed: u64,
    expected: f64,
    raw: f64,
    p: f64,
    flaggable: bool,
    model: String,
    days: f64,
}

/// The model a call used: the request's `modelId` / `model` / `endpoint`, else a
/// `resource_uid` naming a model or endpoint.
pub(super) fn model_of(r: &Row) -> Option<String> {
    if let Some(serde_json::Value::Object(m)) = r.request.as_deref().and_then(|q| serde_json::from_str(q).ok()) {
        for k in ["modelId", "model", "endpoint"] {
            if let Some(serde_json::Value::String(v)) = m.get(k) {
                return Some(v.clone());
            }
        }
    }
    r.resource.clone().filter(|x| x.contains("/models/") || x.contains("/endpoints/") || x.contains("foundation-model"))
}

fn list(items: impl IntoIterator<Item = String>, max: usize) -> String {
    let v: Vec<String> = items.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
    if v.is_empty() {
        return "not logged".into();
    }
    crate::analytics::user_context::short_list(&v, max)
}

/// Runs `model_invocation_volume` with `cfg` over `ctx`'s window.
///
/// Errors: [`crate::Error::Lake`] / [`crate::Error::Io`] for unreadable lake files.
pub fn run_with(ctx: &DetectContext, cfg: &ModelInvocationVolumeConfig) -> Result<Vec<Finding>> {
    let Some(sel) = Selection::load(ctx, TAG, cfg.max_history_days, Duration::zero())? else {
        return Ok(Vec::new());
    };
    let rows = sel.window_rows(ctx.lake_root)?;
    let accounts = volume::group_rows(&rows, |r| Some((r.provider.clone(), r.account.clone())));
    if sel.ops.is_empty() || accounts.is_empty() {
        return Ok(Vec::new());
    }
    let (from, to) = (sel.lookback_start, sel.window_start);
    let acct_hist = sel.tagged_hourly(ctx.lake_root, from, to, None, &[s::PROVIDER, s::ACCOUNT_UID], &[])?;
    let actor_hist = sel.tagged_hourly(ctx.lake_root, from, to, Some(col(s::ACTOR_UID).is_not_null()), &[s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID], &[])?;
    let acct_first = sel.first_seen(ctx.lake_root, s::ACCOUNT_UID)?;
    let actor_first = sel.first_seen(ctx.lake_root, s::ACTOR_UID)?;
    let known_regions: HashSet<(String, String)> = profiles::distinct_days(ctx.lake_root, sel.summary_history(), &[s::ACCOUNT_UID, s::REGION])?
        .into_keys()
        .filter_map(|k| Some((k[0].clone()?, k[1].clone()?)))
        .collect();
    let pops = volume::populations(ctx.lake_root, &sel, &[s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID])?;
    let ws_hour = sel.window_start.timestamp_micros().div_euclid(HOUR_US);
    let lookback_hour = sel.lookback_start.timestamp_micros().div_euclid(HOUR_US);
    let min_hours = cfg.min_history_days as usize * 24;
    let window_hours = volume::window_hours(ctx.window);
    let floors = Floors { min_count: cfg.min_count, min_ratio: cfg.min_ratio };
    let ctx_window = (sel.window_start, sel.as_of);

    let mut findings = Vec::new();
    let mut tested: Vec<Tested> = Vec::new();
    for ((provider, account), rs) in &accounts {
        let new_regions: Vec<String> = rs
            .iter()
            .filter_map(|r| r.region.clone())
            .filter(|g| !known_regions.contains(&(account.clone(), g.clone())))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (astart, ahours) = volume::history_span(acct_first.get(account).copied(), lookback_hour, ws_hour);
        let acct_key = vec![provider.clone(), account.clone()];
        let used_before: u64 = acct_hist.get(&acct_key).map_or(0, |h| h.values().map(|a| a.count).sum());
        if ahours < min_hours || used_before == 0 {
            let newcomers: Vec<String> = rs
                .iter()
                .filter_map(|r| r.actor.clone())
                .filter(|a| volume::history_span(actor_first.get(a).copied(), lookback_hour, ws_hour).1 < min_hours)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let learning = ahours < min_hours;
            findings.push(first_use(ctx, cfg, &sel, provider, account, rs, ahours, learning, &newcomers, &new_regions, ctx_window));
            continue;
        }
        let counts = volume::per_hour(rs.iter().copied());
        if let Some(t) = test(cfg, &acct_hist, &acct_key, astart, ws_hour, &counts, &floors, window_hours) {
            tested.push(Tested { provider, account, actor: None, family: Family::Account, rows: rs.clone(), days: ahours as f64 / 24.0, ..t });
        }
        for (actor, arows) in volume::group_rows(rs.iter().copied(), |r| r.actor.clone()) {
            let counts = volume::per_hour(arows.iter().copied());
            let key = vec![provider.clone(), account.clone(), actor.clone()];
            let (pstart, phours) = volume::history_span(actor_first.get(&actor).copied(), lookback_hour, ws_hour);
            if phours < min_hours {
                let (&hour, &n) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).expect("non-empty");
                if n >= cfg.min_count {
                    findings.push(new_principal(ctx, cfg, &sel, &actor, &arows, hour, n, phours));
                }
                continue;
            }
            let pop = pops.get(&key).copied().unwrap_or(Population::Human);
            let actor_ref: &str = arows[0].actor.as_deref().expect("grouped by actor");
            if let Some(t) = test(cfg, &actor_hist, &key, pstart, ws_hour, &counts, &floors, window_hours) {
                tested.push(Tested { provider, account, actor: Some(actor_ref), family: Family::Principal(pop), rows: arows, days: phours as f64 / 24.0, ..t });
            }
        }
    }

    let families: Vec<Family> = tested.iter().map(|t| t.family).collect();
    let adjusted = volume::bh_by_family(&families, &tested.iter().map(|t| t.p).collect::<Vec<_>>());
    let sizes = volume::family_sizes(&families);
    let flagged: Vec<(&Tested, f64)> = tested.iter().zip(adjusted).filter(|(t, p)| t.flaggable && *p <= cfg.fdr_q).collect();
    let with_principal: HashSet<(&str, &str)> = flagged.iter().filter(|(t, _)| t.actor.is_some()).map(|(t, _)| (t.provider, t.account)).collect();
    for (t, p_adj) in flagged {
        if t.actor.is_none() && with_principal.contains(&(t.provider, t.account)) {
            continue;
        }
        findings.push(significant(ctx, cfg, &sel, t, p_adj, sizes[&t.family], window_hours, &known_regions));
    }
    Ok(findings)
}

/// The own-history test of one entity: `None` only when `counts` is empty.
#[allow(clippy::too_many_arguments)]
fn test<'a>(cfg: &ModelInvocationVolumeConfig, hist: &Hourly, key: &[String], start: i64, ws_hour: i64, counts: &BTreeMap<i64, u64>, floors: &Floors, window_hours: usize) -> Option<Tested<'a>> {
    let series = volume::series(hist.get(key), start, ws_hour, |a| a.count);
    let model = SeasonalModel::fit(&series, start, Seasonality::choose(cfg.seasonality, series.len()), cfg.dispersion_alpha);
    // Never more than the entity already did in some hour: a batch job at an odd hour.
    let own_max = series.iter().max().copied().unwrap_or(0) as f64;
    let (best, flaggable) = match volume::most_surprising_hour(&model, counts, |_, n, e| floors.pass(n, e) && n as f64 >= cfg.own_max_factor * own_max) {
        Some(b) => (b, true),
        None => (volume::most_surprising_hour(&model, counts, |_, _, _| true)?, false),
    };
    Some(Tested {
        provider: "",
        account: "",
        actor: None,
        family: Family::Account,
        rows: Vec::new(),
        hour: best.hour,
        observed: best.observed,
        expected: best.expected,
        raw: best.p,
        p: scoring::sidak(best.p, window_hours),
        flaggable,
        model: model.describe(),
        days: 0.0,
    })
}

fn summary(rows: &[&Row]) -> String {
    let ev = Evidence::new(rows.to_vec());
    let (first, last) = ev.span();
    format!(
        "{} invocations ({}) between {} and {} UTC; models: {}; regions: {}; principals: {}",
        rows.len(),
        ev.breakdown(6),
        volume::stamp(first),
        volume::stamp(last),
        list(rows.iter().filter_map(|r| model_of(r)), 5),
        list(rows.iter().filter_map(|r| r.region.clone()), 5),
        list(rows.iter().filter_map(|r| r.actor.clone()), 5),
    )
}

#[allow(clippy::too_many_arguments)]
fn first_use(
    ctx: &DetectContext,
    cfg: &ModelInvocationVolumeConfig,
    sel: &Selection,
    provider: &str,
    account: &str,
    rows: &[&Row],
    history_hours: usize,
    learning: bool,
    newcomers: &[String],
    new_regions: &[String],
    window: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
) -> Finding {
    let ev = Evidence::new(rows.to_vec());
    let days = history_hours as f64 / 24.0;
    let actor = volume::group_rows(rows.iter().copied(), |r| r.actor.clone())
        .into_iter()
        .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(&a.0)))
        .map(|(a, _)| a);
    let (title, severity, why) = if learning {
        (
            format!("Model invocations in an account with little history (learning): {account}"),
            Severity::Low,
            format!(
                "Learning: the account has only {days:.1} days of events in the lake (fewer than {}), so whether this is its first use cannot be said.",
                cfg.min_history_days
            ),
        )
    } else {
        let mut aggravating = Vec::new();
        if !newcomers.is_empty() {
            aggravating.push(format!("by a principal with less than {} days of history ({})", cfg.min_history_days, newcomers.join(", ")));
        }
        if !new_regions.is_empty() {
            aggravating.push(format!("in a region the account never used before ({})", new_regions.join(", ")));
        }
        let severity = if aggravating.is_empty() { Severity::Medium } else { Severity::High };
        (
            format!("First model invocation in account {account}"),
            severity,
            format!(
                "First use: the account has {days:.1} days of events in the lake and no model invocation in the last {} days{}.",
                cfg.max_history_days,
                if aggravating.is_empty() { String::new() } else { format!("; severity raised: {}", aggravating.join("; ")) }
            ),
        )
    };
    let description = format!(
        "{provider} account {account}: {}. {why} Method: first use of model inference in the account (LLMjacking: stolen keys resold to reverse proxies, Sysdig 2024; Stratus Red Team aws.impact.bedrock-invoke-model).",
        summary(rows)
    );
    Draft {
        analytic: ID,
        entity: vec![provider.to_string(), account.to_string(), "first_use".into()],
        window,
        title,
        description,
        severity,
        risk_score: crate::analytics::user_context::risk_in_band(severity, scoring::risk_score(None, rows.len() as f64, None)),
        p_value: None,
        p_value_adjusted: None,
        observed: rows.len() as f64,
        expected: if learning { None } else { Some(0.0) },
        baseline_days: (history_hours / 24) as u32,
        actor,
        resource: None,
    }
    .finish(&ev, &sel.ops, cfg.max_evidence, "metadata", ctx.run_uid)
}

#[allow(clippy::too_many_arguments)]
fn new_principal(ctx: &DetectContext, cfg: &ModelInvocationVolumeConfig, sel: &Selection, actor: &str, rows: &[&Row], hour: i64, observed: u64, history_hours: usize) -> Finding {
    let hour_rows: Vec<&Row> = rows.iter().copied().filter(|r| r.hour() == hour).collect();
    let ev = Evidence::new(hour_rows.clone());
    let start = volume::time(hour * HOUR_US);
    let description = format!(
        "{actor} made {}. Learning: the principal has {:.1} days of history (fewer than {}), so no own baseline exists; reported because it invoked models at least {} times in one hour in an account that already uses them.",
        summary(&hour_rows),
        history_hours as f64 / 24.0,
        cfg.min_history_days,
        cfg.min_count,
    );
    Draft {
        analytic: ID,
        entity: vec![ev.provider(), ev.account(), actor.to_string()],
        window: (start, start + Duration::hours(1)),
        title: format!("New principal invoking models at volume (learning): {actor}"),
        description,
        severity: Severity::Low,
        risk_score: crate::analytics::user_context::risk_in_band(Severity::Low, scoring::risk_score(None, observed as f64, None)),
        p_value: None,
        p_value_adjusted: None,
        observed: observed as f64,
        expected: None,
        baseline_days: (history_hours / 24) as u32,
        actor: Some(actor.to_string()),
        resource: None,
    }
    .finish(&ev, &sel.ops, cfg.max_evidence, "metadata", ctx.run_uid)
}

#[allow(clippy::too_many_arguments)]
fn significant(ctx: &DetectContext, cfg: &ModelInvocationVolumeConfig, sel: &Selection, t: &Tested, p_adj: f64, family: usize, window_hours: usize, known_regions: &HashSet<(String, String)>) -> Finding {
    let hour_rows: Vec<&Row> = t.rows.iter().copied().filter(|r| r.hour() == t.hour).collect();
    let ev = Evidence::new(hour_rows.clone());
    let new_regions: BTreeSet<String> = hour_rows.iter().filter_map(|r| r.region.clone()).filter(|g| !known_regions.contains(&(t.account.to_string(), g.clone()))).collect();
    let risk = scoring::risk_score(Some(p_adj), t.observed as f64, Some(t.expected));
    let severity = if new_regions.is_empty() { Severity::from_risk_score(risk).clamp(Severity::Medium, Severity::High) } else { Severity::High };
    let who = t.actor.map_or(format!("account {}", t.account), str::to_string);
    let start = volume::time(t.hour * HOUR_US);
    let description = format!(
        "{who} made {}. Expected {:.2} invocations in this hour from {:.1} days of its own hourly history ({}); upper tail p = {:.2e}, Šidák over {} window hours = {:.2e}; Benjamini–Hochberg across {} {} tested = {:.2e} (q = {}). Flagged because adjusted p ≤ q, observed ≥ {} and ≥ {}× expected{}. Method: Poisson / negative-binomial upper tail against a seasonal own baseline (DESIGN.md; Benjamini & Hochberg 1995).",
        summary(&hour_rows),
        t.expected,
        t.days,
        t.model,
        t.raw,
        window_hours,
        t.p,
        family,
        t.family.name(),
        p_adj,
        cfg.fdr_q,
        cfg.min_count,
        cfg.min_ratio,
        if new_regions.is_empty() { String::new() } else { format!("; in regions the account never used before: {}", new_regions.into_iter().collect::<Vec<_>>().join(", ")) },
    );
    let mut entity = vec![t.provider.to_string(), t.account.to_string()];
    entity.extend(t.actor.map(str::to_string));
    Draft {
        analytic: ID,
        entity,
        window: (start, start + Duration::hours(1)),
        title: format!("Unusual volume of model invocations by {who}"),
        description,
        severity,
        risk_score: crate::analytics::user_context::risk_in_band(severity, risk),
        p_value: Some(t.p),
        p_value_adjusted: Some(p_adj),
        observed: t.observed as f64,
        expected: Some(t.expected),
        baseline_days: t.days as u32,
        actor: t.actor.map(str::to_string),
        resource: None,
    }
    .finish(&ev, &sel.ops, cfg.max_evidence, "metadata", ctx.run_uid)
}
