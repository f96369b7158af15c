//! `session_anomaly` (statistical): a user's sessions in the scoring window come from an
//! IP new to the user and rare in the tenant, are far more numerous than the user's own
//! history predicts, or start at local hours the user never works. ATT&CK T1078.004
//! Valid Accounts: Cloud Accounts (T1530 Data from Cloud Storage as context: a stolen
//! session is how cloud data is read).
//!
//! Events: catalogue tag `session_start` — m365 MicrosoftTeams `TeamsSessionStarted`,
//! m365 AzureActiveDirectory `UserLoggedIn`, entra `SignInLogs` (interactive sign-ins).
//! Rows with status `failure` are not sessions (their count is context in the finding);
//! `unknown` counts, because Teams records carry no result.
//!
//! Per (tenant, user) and scoring window, three views:
//! 1. **Unusual IP** — a successful session from an IP the user never used before the
//!    window (any Microsoft 365 / Entra activity of the user, ≥ `min_history_days` of it)
//!    that at most `max_tenant_users_for_rare_ip` other people used before the user did
//!    ([`user_context`]: a Microsoft service acting for the user gives no IP; an office
//!    egress used by colleagues is not rare). Anchors: Microsoft Sentinel "Anomalous
//!    sign-in location by user account and authenticating application", Elastic
//!    "Microsoft 365 Portal Login from Rare Location" (new_terms on the user's source).
//! 2. **Volume** — successful sessions in the window against the user's own history in
//!    buckets of the window's length (one day by default: sessions are a handful per
//!    person and day, so hourly buckets would be mostly zeros, and a replayed token or
//!    scripted login loop piles up over the day; one bucket per window needs no Šidák
//!    step). Null model: Poisson, or negative binomial when Fisher's dispersion test
//!    rejects ([`CountModel::fit`], as in `secret_access_volume`); with ≥ 21 days of
//!    history only the buckets of the same kind of local day (weekday / weekend) are
//!    used. Upper tail P(X ≥ observed), Benjamini–Hochberg across the users tested in the
//!    run (people and automation apart) at `fdr_q`, and floors: observed ≥
//!    `min_sessions` and ≥ `min_ratio` × expected. Robust z (median/MAD) is reported as a
//!    second view.
//! 3. **Unusual time** — local hours in the user's IANA zone (DST-correct,
//!    [`user_context::local_slot`]) against the user's smoothed weekday / weekend hour
//!    profile ([`profile::HourProfile`]), with ≥ `min_history_days` and ≥
//!    `min_history_sessions` sessions of history. Sessions at hours whose probability is
//!    below `min_hour_probability` are the candidates; with k of the window's n sessions
//!    among them and T the profile's mass on hours that rare, the test is the binomial
//!    tail P(≥ k of n) under T, Benjamini–Hochberg-adjusted across the people tested at
//!    `fdr_q`. One late evening in a month stays quiet; a night of logins does not. Users
//!    without a configured zone are profiled in UTC and the finding says so (case P38).
//!    Not evaluated for automation.
//!
//! **Learning state**: a user with less than `min_history_days` of history (or whose
//! tenant's session logs are that recent) gets no statistical view. Instead, when the
//! user brought an IP into the tenant (nobody used it before the user) in a tenant with ≥
//! `min_tenant_users` active people, made ≥ `learning_min_sessions` sessions from it in
//! the window, and that is far above the peers' sessions of the window (≥ `peer_factor`
//! × their `peer_quantile`, at least 1, with ≥ `min_peers` peers active), a **low**
//! "learning" finding says so — honestly: we cannot tell whether the IP is new for the
//! user, only that the tenant had not seen it and the user was far busier than the
//! peers. A new employee working a normal day from home stays quiet.
//!
//! | views that fired | severity |
//! |---|---|
//! | learning (no history) | low |
//! | unusual time alone | low |
//! | unusual IP alone | low |
//! | volume alone | medium |
//! | any two views | high |
//! | all three | critical |
//!
//! A new IP alone stays low however many sessions come from it: a traveller working a
//! full day from a hotel has as many as an attacker. The count raises the risk score
//! within the band, and the volume view decides whether it is many *for this user*.
//!
//! One finding per (tenant, user, window) lists every view that fired with what was
//! observed, expected, from how many days, and the zone used; its id is
//! [`finding_uid`](crate::findings::finding_uid)`(ID, [tenant, user], window)`, so re-runs
//! replace it. Automation (service principals, applications, managed identities, system
//! accounts, or a user whose window sessions mostly carry script agents) is tested in its
//! own BH family and never against people's hours.
//!
//! Known false positives: travel (new IP and shifted hours; configure the zone of
//! travellers or accept low findings), home ISPs that rotate addresses (new IP alone is
//! low until many sessions), a new office egress address (its first user of the day is
//! reported), users who start working for the first time (learning), shift workers
//! without a configured zone. Splunk ESCU "O365 Concurrent Sessions From Different Ips"
//! and Sentinel "Anomalous login followed by Teams action" cover neighbouring patterns.

mod finding;
mod profile;
mod rows;
#[cfg(test)]
mod real;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::Duration;
use polars::prelude::*;
use serde::Deserialize;

use super::user_context::{self, Activity, Directory, DirectorySettings, Novelty, UserZone};
use super::DetectContext;
use crate::findings::Finding;
use crate::profiles::{self, T};
use crate::schema::{self as s, Status};
use crate::scoring::{self, CountModel};
use crate::{Error, Result};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "session_anomaly";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "session_start";
const PREFIX: &str = "analytics.session_anomaly";
const DAY_US: i64 = 24 * profiles::HOUR_US;
/// History (days) from which the volume model is seasonal by kind of day.
pub const SEASONAL_MIN_DAYS: f64 = 21.0;

/// `[analytics.session_anomaly]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionAnomalyConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// User directory CSV (`user_principal_name,time_zone,peer_group`); relative to the
    /// pipeline file. Default none. See [`user_context`].
    pub directory: Option<PathBuf>,
    /// UPN → IANA time zone, over the directory file. Default empty.
    pub time_zones: BTreeMap<String, String>,
    /// IANA zone of users without one. Default none (UTC).
    pub default_time_zone: Option<String>,
    /// Days of a user's own history before any statistical view. Default 7 (a weekly cycle).
    pub min_history_days: u32,
    /// Lookback for history, days. Default 28 (four weekly cycles).
    pub max_history_days: u32,
    /// Successful sessions of history the unusual-time view needs. Default 20.
    pub min_history_sessions: u64,
    /// An IP used before the user by at most this many other people is rare. Default 1
    /// (a colleague sharing a home or hotel network does not hide a new address; an
    /// office egress used by several does).
    pub max_tenant_users_for_rare_ip: usize,
    /// Benjamini–Hochberg false discovery rate per population. Default 0.01.
    pub fdr_q: f64,
    /// Volume floor: fewer successful sessions in the window are never a volume anomaly.
    /// Default 20 per window.
    pub min_sessions: u64,
    /// Volume floor: observed ≥ this × expected. Default 3.0.
    pub min_ratio: f64,
    /// Dispersion test level choosing negative binomial over Poisson. Default 0.05.
    pub dispersion_alpha: f64,
    /// A session at a local hour whose smoothed probability is below this is a candidate
    /// for the unusual-time test. Default 0.01 (a quarter of the uniform 1/24; must be in
    /// (0, 1/24)).
    pub min_hour_probability: f64,
    /// Active people (lookback) a tenant needs for the learning view. Default 3.
    pub min_tenant_users: usize,
    /// Sessions from a tenant-new IP in the window for a learning finding. Default 10.
    pub learning_min_sessions: u64,
    /// Peers active in the window the learning view needs. Default 2.
    pub min_peers: usize,
    /// Quantile (nearest rank) of the peers' sessions in the window. Default 0.9.
    pub peer_quantile: f64,
    /// Far above peers: sessions ≥ this × the peers' quantile (at least 1). Default 3.0.
    pub peer_factor: f64,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for SessionAnomalyConfig {
    fn default() -> Self {
        SessionAnomalyConfig {
            enabled: true,
            directory: None,
            time_zones: BTreeMap::new(),
            default_time_zone: None,
            min_history_days: 7,
            max_history_days: 28,
            min_history_sessions: 20,
            max_tenant_users_for_rare_ip: 1,
            fdr_q: 0.01,
            min_sessions: 20,
            min_ratio: 3.0,
            dispersion_alpha: scoring::DEFAULT_DISPERSION_ALPHA,
            min_hour_probability: 0.01,
            min_tenant_users: 3,
            learning_min_sessions: 10,
            min_peers: 2,
            peer_quantile: 0.9,
            peer_factor: 3.0,
            max_evidence: 200,
        }
    }
}

impl SessionAnomalyConfig {
    /// The directory keys as [`DirectorySettings`].
    pub fn directory_settings(&self) -> DirectorySettings<'_> {
        DirectorySettings {
            directory: self.directory.as_deref(),
            time_zones: &self.time_zones,
            default_time_zone: self.default_time_zone.as_deref(),
        }
    }

    /// Checks value ranges and zone names; errors are [`Error::Config`] naming the key
    /// (`analytics.session_anomaly.<key>`).
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("{PREFIX}.{k}");
        self.directory_settings().validate(PREFIX)?;
        if !(self.fdr_q > 0.0 && self.fdr_q <= 1.0) {
            return Err(Error::config(key("fdr_q"), format!("must be in (0, 1], got {}", self.fdr_q)));
        }
        if !(self.dispersion_alpha > 0.0 && self.dispersion_alpha < 1.0) {
            return Err(Error::config(key("dispersion_alpha"), format!("must be in (0, 1), got {}", self.dispersion_alpha)));
        }
        if self.max_history_days == 0 || self.max_history_days < self.min_history_days {
            return Err(Error::config(
                key("max_history_days"),
                format!("must be ≥ min_history_days ({}) and > 0, got {}", self.min_history_days, self.max_history_days),
            ));
        }
        if self.min_ratio.is_nan() || self.min_ratio < 0.0 {
            return Err(Error::config(key("min_ratio"), format!("must be ≥ 0, got {}", self.min_ratio)));
        }
        if !(self.min_hour_probability > 0.0 && self.min_hour_probability < 1.0 / 24.0) {
            return Err(Error::config(
                key("min_hour_probability"),
                format!("must be in (0, 1/24) — a user active around the clock has 1/24 per hour — got {}", self.min_hour_probability),
            ));
        }
        if self.min_history_sessions == 0 {
            return Err(Error::config(key("min_history_sessions"), "must be ≥ 1"));
        }
        if !(self.peer_quantile > 0.0 && self.peer_quantile <= 1.0) {
            return Err(Error::config(key("peer_quantile"), format!("must be in (0, 1], got {}", self.peer_quantile)));
        }
        if self.peer_factor.is_nan() || self.peer_factor < 0.0 {
            return Err(Error::config(key("peer_factor"), format!("must be ≥ 0, got {}", self.peer_factor)));
        }
        if self.min_peers == 0 {
            return Err(Error::config(key("min_peers"), "must be ≥ 1"));
        }
        Ok(())
    }

    /// Makes `directory` absolute against `base` (the pipeline file's folder).
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        if let Some(d) = &self.directory {
            if d.is_relative() {
                self.directory = Some(base.join(d));
            }
        }
    }
}

/// One session-start row of the window.
#[derive(Debug, Clone)]
struct Row {
    t: i64,
    event_uid: String,
    provider: String,
    ip: Option<String>,
    agent: Option<String>,
    service: String,
    operation: String,
    ok: bool,
}

/// An IP view that fired: the IP, the window's successful sessions from it (row indexes)
/// and its novelty.
#[derive(Debug, Clone)]
struct IpHit {
    ip: String,
    rows: Vec<usize>,
    novelty: Novelty,
}

/// The volume test of one user.
#[derive(Debug, Clone)]
struct Volume {
    observed: u64,
    model: CountModel,
    buckets: usize,
    seasonal: Option<&'static str>,
    z: Option<f64>,
    p: f64,
    p_adj: f64,
    family: usize,
}

/// A session at an unusual local hour.
#[derive(Debug, Clone)]
struct TimeHit {
    row: usize,
    hour: u8,
    weekend: bool,
    probability: f64,
}

/// The unusual-time test of one user: `k` of `n` sessions at hours whose profile mass is
/// at most `mass`; `p` = P(≥ k of n), `p_adj` after BH across `family` people.
#[derive(Debug, Clone)]
struct TimeTest {
    n: u64,
    k: u64,
    mass: f64,
    p: f64,
    p_adj: f64,
    family: usize,
}

/// Everything decided about one (tenant, user) of the window.
#[derive(Debug)]
struct Case {
    account: String,
    actor: String,
    rows: Vec<Row>,
    zone: UserZone,
    history_days: f64,
    history_sessions: u64,
    automation: bool,
    tenant_people: usize,
    ips: Vec<IpHit>,
    learning: Vec<IpHit>,
    volume: Option<Volume>,
    volume_flagged: bool,
    times: Vec<TimeHit>,
    time: Option<TimeTest>,
    time_flagged: bool,
    /// The peers' sessions in the window (for the learning view).
    peers: Option<user_context::PeerSpread>,
}

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// # Errors
/// [`Error::Config`] for an unreadable or invalid directory; [`Error::Lake`] /
/// [`Error::Io`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.session_anomaly;
    let directory = Directory::load(&cfg.directory_settings(), PREFIX)?;
    let window_start = ctx.window_start();
    let ws = window_start.timestamp_micros();
    let lookback = window_start - Duration::days(i64::from(cfg.max_history_days));
    let Some(frame) = user_context::scan(ctx.lake_root, lookback, ctx.as_of)? else {
        return Ok(Vec::new());
    };
    let ops = profiles::tagged_operations(ctx.lake_root, frame.clone().lazy(), ctx.catalog, TAG)?;
    let cols = [T, s::EVENT_UID, s::ACCOUNT_UID, s::ACTOR_UID, s::ACTOR_TYPE, s::SRC_IP, s::USER_AGENT, s::STATUS];
    let Some(tagged) = profiles::tagged_events(ctx.lake_root, frame.clone().lazy(), &ops, &cols)? else {
        return Ok(Vec::new());
    };
    let tagged = rows::without_audit_copies(tagged)?;
    let window = profiles::collect(ctx.lake_root, tagged.clone().filter(col(T).gt_eq(lit(ws))))?;
    if window.height() == 0 {
        return Ok(Vec::new());
    }
    let activity = Activity::build(ctx.lake_root, &frame, ws)?;
    let ok = col(s::STATUS).neq(lit(Status::Failure.as_str()));
    let quarter = col(T).floor_div(lit(profile::QUARTER_US)).alias("q");
    let history = profiles::collect(
        ctx.lake_root,
        tagged
            .clone()
            .filter(col(T).lt(lit(ws)).and(ok))
            .group_by([col(s::ACCOUNT_UID), col(s::ACTOR_UID), quarter])
            .agg([len().cast(DataType::Int64).alias("n")]),
    )?;
    let tenant_first = profiles::collect(
        ctx.lake_root,
        tagged.group_by([col(s::ACCOUNT_UID)]).agg([col(T).min().alias("first")]),
    )?;
    let tenant_first: HashMap<String, i64> = profiles::strings(&tenant_first, s::ACCOUNT_UID)?
        .into_iter()
        .zip(profiles::ints(&tenant_first, "first")?)
        .filter_map(|(a, t)| Some((a?, t)))
        .collect();
    let mut per_quarter: HashMap<(String, String), Vec<(i64, u64)>> = HashMap::new();
    {
        let (a, u, q, n) = (
            profiles::strings(&history, s::ACCOUNT_UID)?,
            profiles::strings(&history, s::ACTOR_UID)?,
            profiles::ints(&history, "q")?,
            profiles::ints(&history, "n")?,
        );
        for (((a, u), q), n) in a.into_iter().zip(u).zip(q).zip(n) {
            if let (Some(a), Some(u)) = (a, u) {
                per_quarter.entry((a, u)).or_default().push((q, n.max(0) as u64));
            }
        }
    }

    let window_rows = rows::window_rows(&window)?;
    let mut sessions: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for ((a, u), (rows, _)) in &window_rows {
        sessions.entry(a.clone()).or_default().insert(u.clone(), rows.iter().filter(|r| r.ok).count() as u64);
    }
    let peer_sessions = |account: &str, actor: &str| {
        let group = user_context::peer_key(&directory, actor);
        let of = sessions.get(account);
        let counts: Vec<(String, u64)> = activity
            .people_in_window(account)
            .into_iter()
            .filter(|p| *p != actor && user_context::peer_key(&directory, p) == group)
            .map(|p| (p.to_string(), of.and_then(|m| m.get(p)).copied().unwrap_or(0)))
            .collect();
        user_context::peer_spread(counts, cfg.min_peers, cfg.peer_quantile, cfg.peer_factor)
    };
    let mut cases = Vec::new();
    for ((account, actor), (rows, types)) in window_rows {
        let Some(user) = activity.user(&account, &actor) else {
            continue;
        };
        let scripted = rows.iter().filter(|r| r.agent.as_deref().is_some_and(user_context::is_scripted_user_agent)).count();
        let automation = user.is_automation()
            || types.iter().any(|t| t.is_automation())
            || scripted * 2 > rows.len();
        let start = user.first_us.max(lookback.timestamp_micros()).max(tenant_first.get(&account).copied().unwrap_or(ws));
        let history_days = (ws - start).max(0) as f64 / DAY_US as f64;
        let pq = per_quarter.remove(&(account.clone(), actor.clone())).unwrap_or_default();
        let history_sessions = pq.iter().map(|x| x.1).sum();
        let learning = history_days < f64::from(cfg.min_history_days);
        let mut case = Case {
            peers: if learning { peer_sessions(&account, &actor) } else { None },
            zone: directory.zone(&actor),
            tenant_people: activity.people(&account).len(),
            account,
            actor,
            rows,
            history_days,
            history_sessions,
            automation,
            ips: Vec::new(),
            learning: Vec::new(),
            volume: None,
            volume_flagged: false,
            times: Vec::new(),
            time: None,
            time_flagged: false,
        };
        if !case.rows.iter().any(|r| r.ok) {
            continue;
        }
        assess(cfg, ctx, &activity, &mut case, &pq, ws, start);
        cases.push(case);
    }

    for automation in [false, true] {
        let idx: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].automation == automation && cases[i].volume.is_some()).collect();
        let ps: Vec<f64> = idx.iter().map(|&i| cases[i].volume.as_ref().map_or(1.0, |v| v.p)).collect();
        let adjusted = scoring::benjamini_hochberg(&ps);
        for (&i, p_adj) in idx.iter().zip(adjusted) {
            let c = &mut cases[i];
            if let Some(v) = c.volume.as_mut() {
                v.p_adj = p_adj;
                v.family = idx.len();
                c.volume_flagged = p_adj <= cfg.fdr_q
                    && v.observed >= cfg.min_sessions
                    && v.observed as f64 >= cfg.min_ratio * v.model.mean();
            }
        }
    }
    let idx: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].time.is_some()).collect();
    let ps: Vec<f64> = idx.iter().map(|&i| cases[i].time.as_ref().map_or(1.0, |t| t.p)).collect();
    for (&i, p_adj) in idx.iter().zip(scoring::benjamini_hochberg(&ps)) {
        let c = &mut cases[i];
        if let Some(t) = c.time.as_mut() {
            t.p_adj = p_adj;
            t.family = idx.len();
            c.time_flagged = t.k > 0 && p_adj <= cfg.fdr_q;
        }
    }
    Ok(cases
        .iter()
        .filter(|c| !c.ips.is_empty() || !c.learning.is_empty() || c.volume_flagged || c.time_flagged)
        .map(|c| finding::build(ctx, &ops, c))
        .collect())
}

/// Evaluates the IP, volume (test only; BH comes later), time and learning views.
fn assess(cfg: &SessionAnomalyConfig, ctx: &DetectContext, activity: &Activity, c: &mut Case, pq: &[(i64, u64)], ws: i64, start: i64) {
    let has_history = c.history_days >= f64::from(cfg.min_history_days);
    let mut by_ip: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in c.rows.iter().enumerate() {
        let service = r.agent.as_deref().is_some_and(user_context::is_service_user_agent);
        if let (true, false, Some(ip)) = (r.ok, service, r.ip.as_deref()) {
            by_ip.entry(user_context::ip_key(ip)).or_default().push(i);
        }
    }
    for (ip, rows) in by_ip {
        let novelty = activity.ip(&c.account, &c.actor, &ip);
        let hit = IpHit { ip, rows, novelty };
        if has_history {
            if hit.novelty.new_for_user && hit.novelty.prior_users.len() <= cfg.max_tenant_users_for_rare_ip {
                c.ips.push(hit);
            }
        } else if hit.novelty.prior_users.is_empty()
            && c.tenant_people >= cfg.min_tenant_users
            && hit.rows.len() as u64 >= cfg.learning_min_sessions
            && c.peers.as_ref().is_some_and(|p| hit.rows.len() as f64 >= p.threshold)
        {
            c.learning.push(hit);
        }
    }
    if !has_history {
        return;
    }
    let width = ctx.window.num_microseconds().unwrap_or(DAY_US).max(1);
    let buckets = ((ws - start) / width).max(0) as usize;
    let observed = c.rows.iter().filter(|r| r.ok).count() as u64;
    if buckets > 0 {
        let seasonal = c.history_days >= SEASONAL_MIN_DAYS;
        let hist = profile::bucket_counts(pq, ws, width, buckets, c.zone.tz, seasonal);
        let model = CountModel::fit(&hist, cfg.dispersion_alpha);
        let as_f: Vec<f64> = hist.iter().map(|&x| x as f64).collect();
        let weekend = user_context::local_slot(ws + width / 2, c.zone.tz).weekend;
        c.volume = Some(Volume {
            observed,
            model,
            buckets: hist.len(),
            seasonal: seasonal.then_some(if weekend { "weekend" } else { "weekday" }),
            z: scoring::robust_z(observed as f64, &as_f, 1.0),
            p: model.upper_tail(observed),
            p_adj: 1.0,
            family: 0,
        });
    }
    if c.automation || c.history_sessions < cfg.min_history_sessions {
        return;
    }
    let mut hours = profile::HourProfile::default();
    for &(q, n) in pq {
        hours.add(user_context::local_slot(q * profile::QUARTER_US, c.zone.tz), n as f64);
    }
    let mut mass: f64 = 0.0;
    for (i, r) in c.rows.iter().enumerate().filter(|(_, r)| r.ok) {
        let slot = user_context::local_slot(r.t, c.zone.tz);
        let probability = hours.probability(slot.hour, slot.weekend);
        if probability < cfg.min_hour_probability {
            mass = mass.max(hours.tail(slot.hour, slot.weekend));
            c.times.push(TimeHit { row: i, hour: slot.hour, weekend: slot.weekend, probability });
        }
    }
    let k = c.times.len() as u64;
    c.time = Some(TimeTest { n: observed, k, mass, p: profile::binomial_upper_tail(k, observed, mass), p_adj: 1.0, family: 0 });
}
