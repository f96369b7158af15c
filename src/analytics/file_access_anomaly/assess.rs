//! The views of one (tenant, user, population): own history, peers, IP and agent.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Entities, HistoryCounts, Population, Row};
use crate::analytics::user_context::{self, peer_key, Activity, Directory, Novelty, PeerSpread, UserZone};
use crate::analytics::DetectContext;
use crate::scoring::{self, CountModel};

/// History (days) from which the own-history model is seasonal by kind of day.
pub const SEASONAL_MIN_DAYS: f64 = 21.0;

/// What [`assess_all`] reads.
pub(super) struct Input<'a> {
    pub ctx: &'a DetectContext<'a>,
    pub directory: &'a Directory,
    pub activity: &'a Activity,
    pub entities: &'a Entities,
    pub history: &'a HistoryCounts,
    pub tenant_first: &'a HashMap<String, i64>,
    pub ws: i64,
    pub width: i64,
    pub lookback_us: i64,
}

/// The own-history test of one entity.
#[derive(Debug, Clone)]
pub(super) struct Volume {
    pub files: CountModel,
    pub events: CountModel,
    pub p_files: f64,
    pub p_events: f64,
    /// Bonferroni over the two counts: min(1, 2 · min(p_files, p_events)).
    pub p: f64,
    pub p_adj: f64,
    pub family: usize,
    pub buckets: usize,
    pub seasonal: Option<&'static str>,
    pub z_files: Option<f64>,
}

/// The peer view of a person.
#[derive(Debug, Clone)]
pub(super) struct Peers {
    /// The directory group, or "" for the tenant's people without one.
    pub group: String,
    /// The peers' distinct files in the window.
    pub spread: PeerSpread,
    pub far_above: bool,
    pub within: bool,
}

/// An IP of the window with its novelty and the row indexes using it.
#[derive(Debug, Clone)]
pub(super) struct IpHit {
    pub ip: String,
    pub rows: Vec<usize>,
    pub novelty: Novelty,
}

/// Everything decided about one (tenant, user, population).
#[derive(Debug)]
pub(super) struct Case<'a> {
    pub account: &'a str,
    pub actor: &'a str,
    pub population: Population,
    pub rows: &'a [Row],
    pub files: u64,
    pub zone: UserZone,
    pub history_days: f64,
    pub has_history: bool,
    pub volume: Option<Volume>,
    pub volume_flagged: bool,
    pub peers: Option<Peers>,
    /// New for the user and rare in the tenant (with history).
    pub new_ips: Vec<IpHit>,
    /// Nobody in the tenant used it before the user (learning context).
    pub tenant_new_ips: Vec<IpHit>,
    /// Rows through scripted agents.
    pub scripted: Vec<usize>,
    pub scripted_files: u64,
    /// New, rare, non-scripted agents (context).
    pub rare_agents: Vec<String>,
}

fn distinct_files<'r>(rows: impl Iterator<Item = &'r Row>) -> u64 {
    rows.filter_map(|r| r.file.as_deref()).collect::<BTreeSet<_>>().len() as u64
}

/// Evaluates every entity of the window and applies Benjamini–Hochberg per population.
pub(super) fn assess_all<'a>(input: &'a Input<'a>) -> Vec<Case<'a>> {
    let cfg = &input.ctx.config.file_access_anomaly;
    // Distinct files of each person's interactive access in the window, for peers.
    let mut person_files: HashMap<(&str, &str), u64> = HashMap::new();
    for ((account, actor, pop), rows) in input.entities {
        if *pop == Population::Person {
            person_files.insert((account.as_str(), actor.as_str()), distinct_files(rows.iter()));
        }
    }
    // People active in the window (any activity) per (tenant, peer group), with their files.
    let mut groups: PeerGroups = HashMap::new();
    let accounts: BTreeSet<&str> = input.entities.keys().map(|k| k.0.as_str()).collect();
    for account in accounts {
        for p in input.activity.people_in_window(account) {
            let files = person_files.get(&(account, p)).copied().unwrap_or(0);
            groups.entry((account, peer_key(input.directory, p))).or_default().push((p, files));
        }
    }
    let mut cases = Vec::new();
    for ((account, actor, pop), rows) in input.entities {
        let Some(user) = input.activity.user(account, actor) else {
            continue;
        };
        let start = user
            .first_us
            .max(input.lookback_us)
            .max(input.tenant_first.get(account).copied().unwrap_or(input.ws));
        let history_days = (input.ws - start).max(0) as f64 / super::DAY_US as f64;
        let mut c = Case {
            account,
            actor,
            population: *pop,
            rows,
            files: distinct_files(rows.iter()),
            zone: input.directory.zone(actor),
            history_days,
            has_history: history_days >= f64::from(cfg.min_history_days),
            volume: None,
            volume_flagged: false,
            peers: None,
            new_ips: Vec::new(),
            tenant_new_ips: Vec::new(),
            scripted: Vec::new(),
            scripted_files: 0,
            rare_agents: Vec::new(),
        };
        ips_and_agents(input, &mut c);
        if c.has_history {
            let key = (account.clone(), actor.clone(), *pop);
            let hist = input.history.get(&key).map_or(&[][..], Vec::as_slice);
            c.volume = volume(input, &c, hist, start);
        }
        if *pop == Population::Person && user.actor_type == crate::schema::ActorType::User {
            c.peers = peers(input, &c, &groups);
        }
        cases.push(c);
    }
    for pop in [Population::Person, Population::Sync, Population::Automation] {
        let idx: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].population == pop && cases[i].volume.is_some()).collect();
        let ps: Vec<f64> = idx.iter().map(|&i| cases[i].volume.as_ref().map_or(1.0, |v| v.p)).collect();
        for (&i, p_adj) in idx.iter().zip(scoring::benjamini_hochberg(&ps)) {
            let c = &mut cases[i];
            let events = c.rows.len() as f64;
            let files = c.files;
            if let Some(v) = c.volume.as_mut() {
                v.p_adj = p_adj;
                v.family = idx.len();
                c.volume_flagged = p_adj <= cfg.fdr_q
                    && files >= cfg.min_files
                    && (files as f64 >= cfg.min_ratio * v.files.mean() || events >= cfg.min_ratio * v.events.mean());
            }
        }
    }
    cases
}

fn ips_and_agents(input: &Input, c: &mut Case) {
    let cfg = &input.ctx.config.file_access_anomaly;
    let mut by_ip: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut agents: BTreeSet<&str> = BTreeSet::new();
    for (i, r) in c.rows.iter().enumerate() {
        let agent = r.agent.as_deref();
        if agent.is_some_and(user_context::is_scripted_user_agent) {
            c.scripted.push(i);
        } else if let Some(a) = agent.filter(|a| !user_context::is_service_user_agent(a)) {
            agents.insert(a);
        }
        if let (Some(ip), false) = (r.ip.as_deref(), agent.is_some_and(user_context::is_service_user_agent)) {
            by_ip.entry(user_context::ip_key(ip)).or_default().push(i);
        }
    }
    c.scripted_files = distinct_files(c.scripted.iter().map(|&i| &c.rows[i]));
    if c.population == Population::Automation {
        return;
    }
    for (ip, rows) in by_ip {
        let novelty = input.activity.ip(c.account, c.actor, &ip);
        let hit = IpHit { ip, rows, novelty };
        if c.has_history {
            if hit.novelty.new_for_user && hit.novelty.prior_users.len() <= cfg.max_tenant_users_for_rare_ip {
                c.new_ips.push(hit);
            }
        } else if hit.novelty.prior_users.is_empty() {
            c.tenant_new_ips.push(hit);
        }
    }
    if c.has_history {
        for a in agents {
            let n = input.activity.user_agent(c.account, c.actor, a);
            if n.new_for_user && n.prior_users.len() <= cfg.max_tenant_users_for_rare_user_agent {
                c.rare_agents.push(a.to_string());
            }
        }
    }
}

fn volume(input: &Input, c: &Case, hist: &[(i64, u64, u64)], start: i64) -> Option<Volume> {
    let cfg = &input.ctx.config.file_access_anomaly;
    let buckets = ((input.ws - start) / input.width).max(0);
    if buckets == 0 {
        return None;
    }
    let seasonal = c.history_days >= SEASONAL_MIN_DAYS;
    let weekend = |back: i64| user_context::local_slot(input.ws - back * input.width + input.width / 2, c.zone.tz).weekend;
    let window_weekend = weekend(0);
    let keep: Vec<i64> = (1..=buckets).rev().filter(|&k| !seasonal || weekend(k) == window_weekend).collect();
    let mut events = vec![0u64; keep.len()];
    let mut files = vec![0u64; keep.len()];
    for &(back, n, f) in hist {
        if let Some(pos) = keep.iter().position(|&k| k == back) {
            events[pos] += n;
            files[pos] += f;
        }
    }
    let files_model = CountModel::fit(&files, cfg.dispersion_alpha);
    let events_model = CountModel::fit(&events, cfg.dispersion_alpha);
    let p_files = files_model.upper_tail(c.files);
    let p_events = events_model.upper_tail(c.rows.len() as u64);
    let as_f: Vec<f64> = files.iter().map(|&x| x as f64).collect();
    Some(Volume {
        files: files_model,
        events: events_model,
        p_files,
        p_events,
        p: (2.0 * p_files.min(p_events)).min(1.0),
        p_adj: 1.0,
        family: 0,
        buckets: keep.len(),
        seasonal: seasonal.then_some(if window_weekend { "weekend" } else { "weekday" }),
        z_files: scoring::robust_z(c.files as f64, &as_f, 1.0),
    })
}

/// (tenant, peer-group key) → (person, distinct files in the window) of the people active
/// in the window.
type PeerGroups<'a> = HashMap<(&'a str, &'a str), Vec<(&'a str, u64)>>;

fn peers(input: &Input, c: &Case, groups: &PeerGroups) -> Option<Peers> {
    let cfg = &input.ctx.config.file_access_anomaly;
    let group = peer_key(input.directory, c.actor);
    let counts: Vec<(String, u64)> = groups
        .get(&(c.account, group))
        .into_iter()
        .flatten()
        .filter(|(p, _)| *p != c.actor)
        .map(|(p, n)| (p.to_string(), *n))
        .collect();
    let spread = user_context::peer_spread(counts, cfg.min_peers, cfg.peer_quantile, cfg.peer_factor)?;
    Some(Peers {
        group: group.to_string(),
        far_above: c.files as f64 >= spread.threshold && c.files >= cfg.min_files,
        within: c.files <= spread.quantile,
        spread,
    })
}
