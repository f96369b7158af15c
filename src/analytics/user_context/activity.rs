//! The one lake scan of a run and what every user did in it: first-seen times, IPs and
//! user agents with their tenant prevalence, people active per tenant.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::{ip_key, is_service_user_agent};
use crate::profiles::{self, T};
use crate::schema::{self as s, ActorType, Provider, Status};
use crate::{Error, Result};

/// Columns of the frame [`scan`] returns, besides `t` (Int64 µs) and `time`.
pub const SCAN_COLUMNS: [&str; 11] = [
    s::EVENT_UID,
    s::PROVIDER,
    s::ACCOUNT_UID,
    s::ACTOR_UID,
    s::ACTOR_TYPE,
    s::SRC_IP,
    s::USER_AGENT,
    s::SERVICE,
    s::OPERATION,
    s::STATUS,
    s::RESOURCE_UID,
];

fn is_microsoft_partition(file: &Path) -> bool {
    let provider_dir = file.parent().and_then(Path::parent).and_then(Path::file_name);
    provider_dir.is_some_and(|n| {
        let n = n.to_string_lossy();
        n == format!("provider={}", Provider::M365.as_str()) || n == format!("provider={}", Provider::Entra.as_str())
    })
}

/// Every Microsoft 365 / Entra ID row with an actor and `from ≤ time < to`, projected on
/// [`SCAN_COLUMNS`] plus `time` and `t`, read in one pass. Only the `provider=m365` and
/// `provider=entra` partitions of the dates in range are opened (never AWS or the wide
/// `raw_event` / `request_params` columns). `None` when no file covers the range.
///
/// # Errors
/// [`Error::Lake`] / [`Error::Io`] for unreadable lake files.
pub fn scan(lake_root: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<DataFrame>> {
    if from >= to {
        return Ok(None);
    }
    let files: Vec<PathBuf> = profiles::event_files(lake_root, from.date_naive(), to.date_naive())?
        .into_iter()
        .filter(|f| is_microsoft_partition(f))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let lf = profiles::scan_files(&files).map_err(|e| Error::lake(lake_root.join("events").display().to_string(), e))?;
    let t = col(s::TIME).cast(DataType::Int64);
    let keep = t
        .clone()
        .gt_eq(lit(from.timestamp_micros()))
        .and(t.lt(lit(to.timestamp_micros())))
        .and(col(s::ACTOR_UID).is_not_null())
        .and(col(s::PROVIDER).eq(lit(Provider::M365.as_str())).or(col(s::PROVIDER).eq(lit(Provider::Entra.as_str()))));
    let mut select: Vec<Expr> = SCAN_COLUMNS.iter().map(|c| col(*c)).collect();
    select.push(col(s::TIME));
    select.push(profiles::time_us());
    Ok(Some(profiles::collect(lake_root, lf.filter(keep).select(select))?))
}

/// What one principal of a tenant did in the lookback.
#[derive(Debug, Clone)]
pub struct UserActivity {
    /// First row of the principal in the lookback, µs.
    pub first_us: i64,
    /// Rows before the scoring window.
    pub history_events: u64,
    /// Rows in the scoring window.
    pub window_events: u64,
    /// The principal's most frequent `actor_type`.
    pub actor_type: ActorType,
}

impl UserActivity {
    /// Automation by type ([`ActorType::is_automation`]).
    pub fn is_automation(&self) -> bool {
        self.actor_type.is_automation()
    }
}

/// Uses of one IP or user agent by one person.
#[derive(Debug, Clone, Copy, Default)]
struct Use {
    first_us: i64,
    history: u64,
    window: u64,
}

/// How new an IP or user agent is for a user and for the user's tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Novelty {
    /// The user never used it before the scoring window.
    pub new_for_user: bool,
    /// The user's first use in the lookback, µs (`None`: no use recorded).
    pub user_first_us: Option<i64>,
    /// Other people who used it before the user's first use: (UPN, first use µs), sorted.
    pub prior_users: Vec<(String, i64)>,
    /// Other people whose first use came after the user's: (UPN, first use µs), sorted.
    pub later_users: Vec<(String, i64)>,
    /// Distinct people (the user included) who used it before the scoring window.
    pub history_users: usize,
}

type ByUser = HashMap<String, Use>;

/// The lookback's activity of every principal: see the module docs of
/// [`super`](crate::analytics::user_context).
#[derive(Debug, Default)]
pub struct Activity {
    users: HashMap<String, HashMap<String, UserActivity>>,
    ips: HashMap<String, HashMap<String, ByUser>>,
    agents: HashMap<String, HashMap<String, ByUser>>,
}

fn add(map: &mut HashMap<String, HashMap<String, ByUser>>, account: &str, key: &str, actor: &str, u: Use) {
    let e = map
        .entry(account.to_string())
        .or_default()
        .entry(key.to_string())
        .or_default()
        .entry(actor.to_string())
        .or_insert(Use { first_us: i64::MAX, ..Use::default() });
    e.first_us = e.first_us.min(u.first_us);
    e.history += u.history;
    e.window += u.window;
}

impl Activity {
    /// Aggregates `frame` (from [`scan`]) in polars by (tenant, actor, actor type, IP, user
    /// agent); `window_start_us` splits history from the scoring window.
    ///
    /// # Errors
    /// [`Error::Lake`] when the frame lacks a column of [`scan`].
    pub fn build(lake_root: &Path, frame: &DataFrame, window_start_us: i64) -> Result<Activity> {
        let ws = lit(window_start_us);
        let agg = profiles::collect(
            lake_root,
            frame
                .clone()
                .lazy()
                .group_by([
                    col(s::ACCOUNT_UID),
                    col(s::ACTOR_UID),
                    col(s::ACTOR_TYPE),
                    col(s::SRC_IP),
                    col(s::USER_AGENT),
                    col(s::STATUS).neq(lit(Status::Failure.as_str())).alias("ok"),
                ])
                .agg([
                    col(T).min().alias("first"),
                    col(T).lt(ws.clone()).sum().cast(DataType::Int64).alias("hist"),
                    col(T).gt_eq(ws).sum().cast(DataType::Int64).alias("win"),
                ]),
        )?;
        let accounts = profiles::strings(&agg, s::ACCOUNT_UID)?;
        let actors = profiles::strings(&agg, s::ACTOR_UID)?;
        let types = profiles::strings(&agg, s::ACTOR_TYPE)?;
        let ips = profiles::strings(&agg, s::SRC_IP)?;
        let uas = profiles::strings(&agg, s::USER_AGENT)?;
        let (first, hist, win) = (profiles::ints(&agg, "first")?, profiles::ints(&agg, "hist")?, profiles::ints(&agg, "win")?);
        let ok: Vec<bool> = agg
            .column("ok")
            .and_then(|c| c.bool())
            .map_err(|e| Error::lake("ok", e))?
            .iter()
            .map(|v| v.unwrap_or(true))
            .collect();
        let mut out = Activity::default();
        let mut type_counts: HashMap<(String, String), HashMap<ActorType, u64>> = HashMap::new();
        for i in 0..agg.height() {
            let (Some(account), Some(actor)) = (&accounts[i], &actors[i]) else {
                continue;
            };
            let actor_type = types[i].as_deref().and_then(ActorType::parse).unwrap_or(ActorType::Unknown);
            let u = Use { first_us: first[i], history: hist[i].max(0) as u64, window: win[i].max(0) as u64 };
            *type_counts
                .entry((account.clone(), actor.clone()))
                .or_default()
                .entry(actor_type)
                .or_default() += u.history + u.window;
            let ua = out
                .users
                .entry(account.clone())
                .or_default()
                .entry(actor.clone())
                .or_insert(UserActivity { first_us: i64::MAX, history_events: 0, window_events: 0, actor_type });
            ua.first_us = ua.first_us.min(u.first_us);
            ua.history_events += u.history;
            ua.window_events += u.window;
            // Failed attempts do not make an address the user's or the tenant's: a password
            // spray from one IP against fifty accounts must not make it "prevalent".
            if actor_type != ActorType::User || !ok[i] {
                continue;
            }
            let service = uas[i].as_deref().is_some_and(is_service_user_agent);
            if let (Some(ip), false) = (&ips[i], service) {
                add(&mut out.ips, account, &ip_key(ip), actor, u);
            }
            if let Some(agent) = &uas[i] {
                add(&mut out.agents, account, agent, actor, u);
            }
        }
        for ((account, actor), counts) in type_counts {
            let best = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(t, _)| t);
            if let (Some(t), Some(u)) = (best, out.users.get_mut(&account).and_then(|m| m.get_mut(&actor))) {
                u.actor_type = t;
            }
        }
        Ok(out)
    }

    /// The principal's activity, `None` when it has no row in the lookback.
    pub fn user(&self, account: &str, actor: &str) -> Option<&UserActivity> {
        self.users.get(account)?.get(actor)
    }

    /// People (`actor_type` user) of the tenant with any row in the lookback, sorted.
    pub fn people(&self, account: &str) -> Vec<&str> {
        self.people_where(account, |_| true)
    }

    /// People of the tenant with at least one row in the scoring window, sorted.
    pub fn people_in_window(&self, account: &str) -> Vec<&str> {
        self.people_where(account, |u| u.window_events > 0)
    }

    fn people_where(&self, account: &str, keep: impl Fn(&UserActivity) -> bool) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .users
            .get(account)
            .into_iter()
            .flatten()
            .filter(|(_, u)| u.actor_type == ActorType::User && keep(u))
            .map(|(a, _)| a.as_str())
            .collect();
        set.into_iter().collect()
    }

    /// Novelty of `ip` (compared by [`ip_key`]) for the person `actor` of `account`.
    pub fn ip(&self, account: &str, actor: &str, ip: &str) -> Novelty {
        novelty(self.ips.get(account).and_then(|m| m.get(&ip_key(ip))), actor)
    }

    /// Novelty of the user agent `agent` for the person `actor` of `account`.
    pub fn user_agent(&self, account: &str, actor: &str, agent: &str) -> Novelty {
        novelty(self.agents.get(account).and_then(|m| m.get(agent)), actor)
    }
}

fn novelty(uses: Option<&ByUser>, actor: &str) -> Novelty {
    let Some(uses) = uses else {
        return Novelty { new_for_user: true, ..Novelty::default() };
    };
    let mine = uses.get(actor);
    let mine_first = mine.map_or(i64::MAX, |u| u.first_us);
    let mut n = Novelty {
        new_for_user: mine.is_none_or(|u| u.history == 0),
        user_first_us: mine.map(|u| u.first_us),
        history_users: uses.values().filter(|u| u.history > 0).count(),
        ..Novelty::default()
    };
    for (who, u) in uses {
        if who == actor {
            continue;
        }
        if u.first_us < mine_first {
            n.prior_users.push((who.clone(), u.first_us));
        } else {
            n.later_users.push((who.clone(), u.first_us));
        }
    }
    n.prior_users.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    n.later_users.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    n
}
