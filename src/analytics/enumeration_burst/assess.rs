//! Scoring one window: own-history and peer views per principal, then the findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Duration;
use polars::prelude::col;

use super::{EnumerationBurstConfig, ID, TAG};
use crate::analytics::volume::{self, Draft, Evidence, Floors, Hourly, Key, Population, Row, SeasonalModel, Seasonality, Selection};
use crate::analytics::DetectContext;
use crate::findings::{Finding, Severity};
use crate::profiles::HOUR_US;
use crate::schema as s;
use crate::scoring;
use crate::Result;

const KEYS: [&str; 3] = [s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID];

/// Discovery activity of one principal in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fig {
    calls: u64,
    operations: u64,
    services: u64,
}

/// The peers' usual range, when there are enough peers.
#[derive(Debug, Clone, Copy)]
struct Peers {
    n: usize,
    calls: u64,
    operations: u64,
}

impl Peers {
    fn within(&self, f: Fig) -> bool {
        f.calls <= self.calls && f.operations <= self.operations
    }
    fn far_above(&self, f: Fig, factor: f64) -> bool {
        f.calls as f64 >= factor * self.calls.max(1) as f64 || f.operations as f64 >= factor * self.operations.max(1) as f64
    }
}

/// Own-history result of a tested principal.
struct Tested<'a> {
    key: &'a Key,
    population: Population,
    hour: i64,
    fig: Fig,
    expected: (f64, f64),
    raw: (f64, f64),
    p: f64,
    flaggable: bool,
    model: String,
    days: f64,
    /// The principal's busiest history hour: (calls, distinct operations).
    own_max: (u64, u64),
}

/// Members of each (provider, account, population): (entity, busiest-hour calls,
/// busiest-hour distinct operations) per active day.
type PeerTable = HashMap<(String, String, Population), Vec<(Key, u64, u64)>>;

fn figures(rows: &[&Row]) -> BTreeMap<i64, Fig> {
    let mut sets: BTreeMap<i64, (u64, BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for r in rows {
        let e = sets.entry(r.hour()).or_default();
        e.0 += 1;
        e.1.insert(&r.operation);
        e.2.insert(&r.service);
    }
    sets.into_iter().map(|(h, (c, o, s))| (h, Fig { calls: c, operations: o.len() as u64, services: s.len() as u64 })).collect()
}

/// Per (provider, account, population): every member's busiest hour per active day
/// (calls, distinct operations), from the history and the window.
fn peer_table(history: &Hourly, window: &BTreeMap<Key, BTreeMap<i64, Fig>>, pops: &HashMap<Key, Population>) -> PeerTable {
    let mut daily: HashMap<(Key, i64), (u64, u64)> = HashMap::new();
    for (k, hours) in history {
        for (h, a) in hours {
            let e = daily.entry((k.clone(), h.div_euclid(24))).or_default();
            e.0 = e.0.max(a.count);
            e.1 = e.1.max(a.distinct[1]);
        }
    }
    for (k, hours) in window {
        for (h, f) in hours {
            let e = daily.entry((k.clone(), h.div_euclid(24))).or_default();
            e.0 = e.0.max(f.calls);
            e.1 = e.1.max(f.operations);
        }
    }
    let mut out = PeerTable::new();
    for ((k, _), (c, o)) in daily {
        let pop = pops.get(&k).copied().unwrap_or(Population::Human);
        out.entry((k[0].clone(), k[1].clone(), pop)).or_default().push((k, c, o));
    }
    out
}

fn peers_of(table: &PeerTable, key: &Key, pop: Population, cfg: &EnumerationBurstConfig) -> Option<Peers> {
    let members = table.get(&(key[0].clone(), key[1].clone(), pop))?;
    let others: Vec<&(Key, u64, u64)> = members.iter().filter(|m| &m.0 != key).collect();
    let n = others.iter().map(|m| &m.0).collect::<BTreeSet<_>>().len();
    if n < cfg.min_peers {
        return None;
    }
    let calls: Vec<u64> = others.iter().map(|m| m.1).collect();
    let ops: Vec<u64> = others.iter().map(|m| m.2).collect();
    Some(Peers { n, calls: volume::quantile(&calls, cfg.peer_quantile)?, operations: volume::quantile(&ops, cfg.peer_quantile)? })
}

/// Runs `enumeration_burst` with `cfg` (the analytic's settings) over `ctx`'s window.
///
/// Errors: [`crate::Error::Lake`] / [`crate::Error::Io`] for unreadable lake files.
pub fn run_with(ctx: &DetectContext, cfg: &EnumerationBurstConfig) -> Result<Vec<Finding>> {
    let Some(sel) = Selection::load(ctx, TAG, cfg.max_history_days, Duration::zero())? else {
        return Ok(Vec::new());
    };
    let rows = sel.window_rows(ctx.lake_root)?;
    let by_entity = volume::group_rows(&rows, |r| Some(vec![r.provider.clone(), r.account.clone(), r.actor.clone()?]));
    if sel.ops.is_empty() || by_entity.is_empty() {
        return Ok(Vec::new());
    }
    let history = sel.tagged_hourly(ctx.lake_root, sel.lookback_start, sel.window_start, Some(col(s::ACTOR_UID).is_not_null()), &KEYS, &[s::SERVICE, s::OPERATION])?;
    let pops = volume::populations(ctx.lake_root, &sel, &KEYS)?;
    let first_seen = sel.first_seen(ctx.lake_root, s::ACTOR_UID)?;
    let window: BTreeMap<Key, BTreeMap<i64, Fig>> = by_entity.iter().map(|(k, rs)| (k.clone(), figures(rs))).collect();
    let table = peer_table(&history, &window, &pops);
    let ws_hour = sel.window_start.timestamp_micros().div_euclid(HOUR_US);
    let lookback_hour = sel.lookback_start.timestamp_micros().div_euclid(HOUR_US);
    let window_hours = volume::window_hours(ctx.window);
    let calls_floor = Floors { min_count: cfg.min_calls, min_ratio: cfg.min_ratio };
    let ops_floor = Floors { min_count: cfg.min_operations, min_ratio: cfg.min_ratio };

    let mut findings = Vec::new();
    let mut tested = Vec::new();
    for (key, figs) in &window {
        let pop = pops.get(key).copied().unwrap_or(Population::Human);
        let peers = peers_of(&table, key, pop, cfg);
        let (start, history_hours) = volume::history_span(first_seen.get(&key[2]).copied(), lookback_hour, ws_hour);
        if history_hours < cfg.min_history_days as usize * 24 {
            // Newcomer: its busiest hour by distinct operations, then calls; earliest on ties.
            let (&hour, &fig) = figs.iter().max_by(|a, b| (a.1.operations, a.1.calls).cmp(&(b.1.operations, b.1.calls)).then(b.0.cmp(a.0))).expect("non-empty");
            let big = fig.calls >= cfg.new_principal_min_calls || fig.operations >= cfg.new_principal_min_operations;
            // Without peers to compare with, a newcomer deployment pipeline or scanner
            // sweeping everything is onboarding, not news; a person is reported.
            let unusual = match peers {
                Some(p) => p.far_above(fig, cfg.peer_factor),
                None => pop == Population::Human,
            };
            if big && unusual {
                let ev = Evidence::new(by_entity[key].iter().copied().filter(|r| r.hour() == hour).collect());
                findings.push(learning(ctx, cfg, &sel, key, pop, hour, fig, peers, history_hours, &ev));
            }
            continue;
        }
        let h = history.get(key);
        let calls_hist = volume::series(h, start, ws_hour, |a| a.count);
        let ops_hist = volume::series(h, start, ws_hour, |a| a.distinct[1]);
        let seasonality = Seasonality::choose(cfg.seasonality, calls_hist.len());
        let m_calls = SeasonalModel::fit(&calls_hist, start, seasonality, cfg.dispersion_alpha);
        let m_ops = SeasonalModel::fit(&ops_hist, start, seasonality, cfg.dispersion_alpha);
        let own_max = (calls_hist.iter().max().copied().unwrap_or(0), ops_hist.iter().max().copied().unwrap_or(0));
        let beyond_own = |f: Fig| f.calls as f64 >= cfg.own_max_factor * own_max.0 as f64 || f.operations as f64 >= cfg.own_max_factor * own_max.1 as f64;
        let mut best: Option<(bool, f64, i64)> = None;
        for (&hour, &fig) in figs {
            let (e_c, e_o) = (m_calls.expected(hour), m_ops.expected(hour));
            // A burst is many calls *and* many distinct operations, one of them far above
            // its expectation, and more than the principal ever did in an hour before.
            let floor = fig.calls >= cfg.min_calls
                && fig.operations >= cfg.min_operations
                && (calls_floor.pass(fig.calls, e_c) || ops_floor.pass(fig.operations, e_o))
                && beyond_own(fig);
            let p = (2.0 * m_calls.upper_tail(hour, fig.calls).min(m_ops.upper_tail(hour, fig.operations))).min(1.0);
            // Prefer hours that clear a floor, then the smallest p, then the earliest.
            let better = best.is_none_or(|(bf, bp, _)| (floor && !bf) || (floor == bf && p < bp));
            if better {
                best = Some((floor, p, hour));
            }
        }
        let (flaggable, p_hour, hour) = best.expect("non-empty");
        let fig = figs[&hour];
        tested.push(Tested {
            key,
            population: pop,
            hour,
            fig,
            expected: (m_calls.expected(hour), m_ops.expected(hour)),
            raw: (m_calls.upper_tail(hour, fig.calls), m_ops.upper_tail(hour, fig.operations)),
            p: scoring::sidak(p_hour, window_hours),
            flaggable,
            model: m_calls.describe(),
            days: history_hours as f64 / 24.0,
            own_max,
        });
    }

    let families: Vec<Population> = tested.iter().map(|x| x.population).collect();
    let adjusted = volume::bh_by_family(&families, &tested.iter().map(|x| x.p).collect::<Vec<_>>());
    let sizes = volume::family_sizes(&families);
    for (x, p_adj) in tested.iter().zip(adjusted) {
        if !x.flaggable || p_adj > cfg.fdr_q {
            continue;
        }
        let peers = peers_of(&table, x.key, x.population, cfg);
        let ev = Evidence::new(by_entity[x.key].iter().copied().filter(|r| r.hour() == x.hour).collect());
        findings.push(significant(ctx, cfg, &sel, x, p_adj, sizes[&x.population], window_hours, peers, &ev));
    }
    Ok(findings)
}

fn activity(actor: &str, pop: Population, hour: i64, fig: Fig, ev: &Evidence) -> String {
    let start = volume::time(hour * HOUR_US);
    let (first, last) = ev.span();
    let services: BTreeSet<&str> = ev.rows.iter().map(|r| r.service.as_str()).collect();
    let failed = ev.failed();
    format!(
        "{actor} ({}) made {} discovery calls between {} and {} UTC (first {}, last {}): {} distinct operations across {} services ({}); {}{}.",
        pop.as_str(),
        fig.calls,
        start.format("%Y-%m-%d %H:%M"),
        (start + Duration::hours(1)).format("%H:%M"),
        volume::time(first).format("%H:%M:%S"),
        volume::time(last).format("%H:%M:%S"),
        fig.operations,
        fig.services,
        services.into_iter().collect::<Vec<_>>().join(", "),
        ev.breakdown(12),
        if failed > 0 { format!("; {failed} failed") } else { String::new() },
    )
}

fn peer_text(peers: Option<Peers>, pop: Population, account: &str, q: f64) -> String {
    match peers {
        Some(p) => format!(
            " Peers: {} other {} principals of account {account}; the {:.0}th percentile of their busiest hour per active day is {} calls and {} distinct operations.",
            p.n,
            pop.as_str(),
            q * 100.0,
            p.calls,
            p.operations
        ),
        None => format!(" Peers: fewer than the required other {} principals of account {account} to compare with.", pop.as_str()),
    }
}

#[allow(clippy::too_many_arguments)]
fn learning(ctx: &DetectContext, cfg: &EnumerationBurstConfig, sel: &Selection, key: &Key, pop: Population, hour: i64, fig: Fig, peers: Option<Peers>, history_hours: usize, ev: &Evidence) -> Finding {
    let actor = &key[2];
    let start = volume::time(hour * HOUR_US);
    let description = format!(
        "{}{} Learning: the principal has {:.1} days of history (fewer than {} required), so no own baseline or p-value exists; reported because it made ≥ {} calls or ≥ {} distinct operations in one hour{}. \
         Method: per-principal discovery volume and breadth against own and peer baselines (Splunk ESCU 'AWS Excessive Security Scanning', Elastic 'AWS Discovery API Calls via CLI from a Single Resource').",
        activity(actor, pop, hour, fig, ev),
        peer_text(peers, pop, &key[1], cfg.peer_quantile),
        history_hours as f64 / 24.0,
        cfg.min_history_days,
        cfg.new_principal_min_calls,
        cfg.new_principal_min_operations,
        if peers.is_some() { format!(", at least {}× its peers' usual range", cfg.peer_factor) } else { String::new() },
    );
    Draft {
        analytic: ID,
        entity: key.clone(),
        window: (start, start + Duration::hours(1)),
        title: format!("New principal made {} discovery calls ({} operations, {} services) (learning): {actor}", fig.calls, fig.operations, fig.services),
        description,
        severity: Severity::Low,
        risk_score: super::super::user_context::risk_in_band(Severity::Low, scoring::risk_score(None, fig.calls as f64, None)),
        p_value: None,
        p_value_adjusted: None,
        observed: fig.calls as f64,
        expected: None,
        baseline_days: (history_hours / 24) as u32,
        actor: Some(actor.clone()),
        resource: None,
    }
    .finish(ev, &sel.ops, cfg.max_evidence, "enumeration", ctx.run_uid)
}

#[allow(clippy::too_many_arguments)]
fn significant(ctx: &DetectContext, cfg: &EnumerationBurstConfig, sel: &Selection, x: &Tested, p_adj: f64, family: usize, window_hours: usize, peers: Option<Peers>, ev: &Evidence) -> Finding {
    let actor = &x.key[2];
    let fig = x.fig;
    let broad = fig.services >= cfg.broad_services && fig.operations >= cfg.broad_operations;
    let far = peers.is_some_and(|p| p.far_above(fig, cfg.peer_factor));
    let within = peers.is_some_and(|p| p.within(fig));
    let (severity, why) = if within {
        (Severity::Low, "within its peers' usual range")
    } else if broad || far {
        (Severity::High, if broad { "a broad sweep of services" } else { "far above its peers" })
    } else {
        (Severity::Medium, "unusual for the principal")
    };
    let risk = super::super::user_context::risk_in_band(severity, scoring::risk_score(Some(p_adj), fig.calls as f64, Some(x.expected.0)));
    let description = format!(
        "{} Expected {:.1} calls and {:.1} distinct operations in this hour from {:.1} days of its own hourly history ({}); its busiest hour before had {} calls and {} distinct operations. \
         Upper tails: calls p = {:.2e}, distinct operations p = {:.2e}; Bonferroni over the two and Šidák over {} window hours = {:.2e}; \
         Benjamini–Hochberg across {} {} principals tested = {:.2e} (q = {}).{} Severity {}: {why}. \
         Method: Poisson / negative-binomial upper tails against a seasonal own baseline, peers as context (Splunk ESCU 'AWS Excessive Security Scanning', Google CSA 4.01; Benjamini & Hochberg 1995).",
        activity(actor, x.population, x.hour, fig, ev),
        x.expected.0,
        x.expected.1,
        x.days,
        x.model,
        x.own_max.0,
        x.own_max.1,
        x.raw.0,
        x.raw.1,
        window_hours,
        x.p,
        family,
        x.population.as_str(),
        p_adj,
        cfg.fdr_q,
        peer_text(peers, x.population, &x.key[1], cfg.peer_quantile),
        severity.as_str(),
    );
    let start = volume::time(x.hour * HOUR_US);
    Draft {
        analytic: ID,
        entity: x.key.clone(),
        window: (start, start + Duration::hours(1)),
        title: format!("Discovery burst: {} calls, {} operations across {} services by {actor}", fig.calls, fig.operations, fig.services),
        description,
        severity,
        risk_score: risk,
        p_value: Some(x.p),
        p_value_adjusted: Some(p_adj),
        observed: fig.calls as f64,
        expected: Some(x.expected.0),
        baseline_days: x.days as u32,
        actor: Some(actor.clone()),
        resource: None,
    }
    .finish(ev, &sel.ops, cfg.max_evidence, "enumeration", ctx.run_uid)
}
