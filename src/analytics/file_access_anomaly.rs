//! `file_access_anomaly` (statistical): a user reads far more SharePoint / OneDrive files
//! than the user's own history predicts, or than the user's peers read the same day,
//! especially from a new IP or through a script. ATT&CK T1213.002 Data from Information
//! Repositories: SharePoint; T1530 Data from Cloud Storage.
//!
//! Events: catalogue tag `file_access` — m365 SharePoint / OneDrive `FileAccessed`,
//! `FileAccessedExtended`, `FileDownloaded`, `FileSyncDownloadedFull`. A file is the
//! row's `resource_uid` (the normaliser puts the audit record's ObjectId there: the
//! document's full URL).
//!
//! Entities are (tenant, user, population) with three populations profiled apart:
//! **person** (interactive access by `actor_type` user), **sync** (the OneDrive sync
//! client: `FileSync…` operations or a sync agent, [`user_context::is_sync`]; a first sync
//! downloads whole libraries) and **automation** (service principals, applications,
//! managed identities, system accounts). Views per entity and scoring window:
//! 1. **Own history** — file-access events and distinct files per window-sized bucket
//!    (one day by default) over the entity's history, zeros included; each scored with
//!    the Poisson / negative-binomial upper tail ([`CountModel::fit`](crate::scoring::CountModel::fit), as in
//!    `secret_access_volume`), seasonal by kind of local day (weekday / weekend) with ≥ 21
//!    days of history; the two p-values are combined by Bonferroni (2 · min) and
//!    Benjamini–Hochberg-adjusted across the entities of the population tested in the run.
//!    Significant when adjusted p ≤ `fdr_q`, distinct files ≥ `min_files`, and files or
//!    events ≥ `min_ratio` × expected.
//! 2. **Peers** (persons only) — the distinct-file counts of the same window over the
//!    user's peer group ([`user_context`]: the directory's group, else the tenant's
//!    people), counting every peer active in the window (0 files included), with ≥
//!    `min_peers` peers. *Far above peers*: files ≥ `peer_factor` × the peers'
//!    `peer_quantile` (nearest rank, at least 1) and ≥ `min_files`. A new user who behaves
//!    like the peers is not flagged; one far from both the own history and the peers is;
//!    a user significant against the own history but not far above the peers (a whole
//!    department's month-end close) stays low.
//! 3. **IP and agent** — a window IP new for the user and used before the user by at most
//!    `max_tenant_users_for_rare_ip` other people (as in `session_anomaly`; Microsoft
//!    services acting for the user give no IP); scripted agents
//!    ([`user_context::SCRIPTED_USER_AGENTS`]: python-requests, curl, PowerShell, rclone,
//!    Go-http-client, okhttp, axios, wget, …; desktop Office is not one); agents new for
//!    the user and used before by at most `max_tenant_users_for_rare_user_agent` others
//!    are reported as context only (browser updates make new agents daily).
//!
//! | situation | severity |
//! |---|---|
//! | own-history significant, but not far above the peers | low |
//! | own-history significant and far above the peers (or too few peers to tell) | medium |
//! | own-history significant + (new rare IP or scripted agent) | high |
//! | no own-history significance, a person reading ≥ `min_scripted_files` files through a script | low |
//! | learning (< `min_history_days`), a person far above peers | low |
//! | learning, far above peers and through a script | medium |
//!
//! Anchors: Microsoft Sentinel "SharePointFileOperation via previously unseen IPs" and
//! "SharePointFileOperation via devices with previously unseen user agents" (new IP /
//! agent with a volume threshold), Elastic "Microsoft 365 Unusual Volume of File
//! Downloads" and "Microsoft 365 Mass download by a single user", Sumo Logic
//! "Sharepoint - External IP Downloaded Excessive Documents", the new-terms rule type;
//! the count model of `secret_access_volume`; Benjamini & Hochberg (1995).
//!
//! Known false positives: migrations and e-discovery by people (use the directory's
//! peer groups so that records managers are compared with each other), a user's first
//! OneDrive sync on a new machine (sync population, new IP), project deadlines, backup
//! tools running under a person's account (scripted agents; they stay low without
//! volume). One finding per (tenant, user, population, window) with a deterministic id
//! [`finding_uid`](crate::findings::finding_uid)`(ID, [tenant, user, population], window)`.

mod assess;
mod finding;
#[cfg(test)]
mod real;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::Duration;
use polars::prelude::*;
use serde::Deserialize;

use super::user_context::{self, Activity, Directory, DirectorySettings};
use super::DetectContext;
use crate::findings::Finding;
use crate::profiles::{self, T};
use crate::schema::{self as s, ActorType};
use crate::scoring;
use crate::{Error, Result};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "file_access_anomaly";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "file_access";
const PREFIX: &str = "analytics.file_access_anomaly";
const DAY_US: i64 = 24 * profiles::HOUR_US;

/// `[analytics.file_access_anomaly]` in the pipeline TOML. Counts are per scoring window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileAccessAnomalyConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// User directory CSV (peer groups and zones); relative to the pipeline file. Default
    /// none. See [`user_context`].
    pub directory: Option<PathBuf>,
    /// UPN → IANA time zone (the local kind of day of the seasonal model). Default empty.
    pub time_zones: BTreeMap<String, String>,
    /// IANA zone of users without one. Default none (UTC).
    pub default_time_zone: Option<String>,
    /// Days of own history before the own-history view. Default 7 (a weekly cycle).
    pub min_history_days: u32,
    /// Lookback, days. Default 28 (four weekly cycles).
    pub max_history_days: u32,
    /// Benjamini–Hochberg false discovery rate per population. Default 0.01.
    pub fdr_q: f64,
    /// Floor: fewer distinct files in the window are never a volume anomaly. Default 20
    /// (Sentinel's unseen-IP / unseen-agent rules use 20–50 operations a day).
    pub min_files: u64,
    /// Floor: files (or events) ≥ this × expected. Default 3.0.
    pub min_ratio: f64,
    /// Dispersion test level choosing negative binomial over Poisson. Default 0.05.
    pub dispersion_alpha: f64,
    /// An IP used before the user by at most this many other people is rare. Default 1.
    pub max_tenant_users_for_rare_ip: usize,
    /// A new agent used before the user by at most this many other people is rare
    /// (context only). Default 1.
    pub max_tenant_users_for_rare_user_agent: usize,
    /// Peers active in the window needed for the peer view. Default 2 (the least that
    /// has a spread; raise it for large tenants).
    pub min_peers: usize,
    /// Quantile of the peers' distinct-file counts (nearest rank). Default 0.9.
    pub peer_quantile: f64,
    /// Far above peers: files ≥ this × the peers' quantile. Default 3.0.
    pub peer_factor: f64,
    /// Distinct files read through a scripted agent that make a low finding on their own.
    /// Default 10.
    pub min_scripted_files: u64,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for FileAccessAnomalyConfig {
    fn default() -> Self {
        FileAccessAnomalyConfig {
            enabled: true,
            directory: None,
            time_zones: BTreeMap::new(),
            default_time_zone: None,
            min_history_days: 7,
            max_history_days: 28,
            fdr_q: 0.01,
            min_files: 20,
            min_ratio: 3.0,
            dispersion_alpha: scoring::DEFAULT_DISPERSION_ALPHA,
            max_tenant_users_for_rare_ip: 1,
            max_tenant_users_for_rare_user_agent: 1,
            min_peers: 2,
            peer_quantile: 0.9,
            peer_factor: 3.0,
            min_scripted_files: 10,
            max_evidence: 200,
        }
    }
}

impl FileAccessAnomalyConfig {
    /// The directory keys as [`DirectorySettings`].
    pub fn directory_settings(&self) -> DirectorySettings<'_> {
        DirectorySettings {
            directory: self.directory.as_deref(),
            time_zones: &self.time_zones,
            default_time_zone: self.default_time_zone.as_deref(),
        }
    }

    /// Checks value ranges and zone names; errors are [`Error::Config`] naming the key
    /// (`analytics.file_access_anomaly.<key>`).
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("{PREFIX}.{k}");
        self.directory_settings().validate(PREFIX)?;
        let unit = |v: f64, k: &str, closed: bool| {
            let ok = v > 0.0 && (v < 1.0 || (closed && v == 1.0));
            if ok {
                Ok(())
            } else {
                Err(Error::config(key(k), format!("must be in (0, 1{}, got {v}", if closed { "]" } else { ")" })))
            }
        };
        unit(self.fdr_q, "fdr_q", true)?;
        unit(self.dispersion_alpha, "dispersion_alpha", false)?;
        unit(self.peer_quantile, "peer_quantile", true)?;
        if self.max_history_days == 0 || self.max_history_days < self.min_history_days {
            return Err(Error::config(
                key("max_history_days"),
                format!("must be ≥ min_history_days ({}) and > 0, got {}", self.min_history_days, self.max_history_days),
            ));
        }
        for (k, v) in [("min_ratio", self.min_ratio), ("peer_factor", self.peer_factor)] {
            if v.is_nan() || v < 0.0 {
                return Err(Error::config(key(k), format!("must be ≥ 0, got {v}")));
            }
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

/// A population profiled apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Population {
    Person,
    Sync,
    Automation,
}

impl Population {
    fn as_str(self) -> &'static str {
        match self {
            Population::Person => "person",
            Population::Sync => "sync",
            Population::Automation => "automation",
        }
    }

    fn of(actor_type: Option<ActorType>, operation: &str, agent: Option<&str>) -> Population {
        if actor_type.is_some_and(ActorType::is_automation) {
            Population::Automation
        } else if user_context::is_sync(operation, agent) {
            Population::Sync
        } else {
            Population::Person
        }
    }

    /// The same decision as [`Population::of`] as a polars expression.
    fn expr() -> Expr {
        let automation: Vec<&str> = ActorType::ALL.iter().filter(|t| t.is_automation()).map(|t| t.as_str()).collect();
        let agent = col(s::USER_AGENT).str().to_lowercase();
        let sync_agent = user_context::SYNC_USER_AGENTS
            .iter()
            .map(|f| agent.clone().str().count_matches(lit(*f), true).gt(lit(0u32)))
            .reduce(|a, b| a.or(b))
            .expect("sync agents")
            .fill_null(lit(false));
        let is_automation = automation
            .iter()
            .map(|t| col(s::ACTOR_TYPE).eq(lit(*t)))
            .reduce(|a, b| a.or(b))
            .expect("automation types");
        when(is_automation)
            .then(lit(Population::Automation.as_str()))
            .when(col(s::OPERATION).str().starts_with(lit("FileSync")).or(sync_agent))
            .then(lit(Population::Sync.as_str()))
            .otherwise(lit(Population::Person.as_str()))
            .alias("population")
    }
}

/// One file-access row of the window.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    t: i64,
    event_uid: String,
    ip: Option<String>,
    agent: Option<String>,
    service: String,
    operation: String,
    file: Option<String>,
}

/// (tenant, user, population) → the window's rows in time order.
type Entities = BTreeMap<(String, String, Population), Vec<Row>>;

/// Per (tenant, user, population): (buckets before the window counted back, events, files).
type HistoryCounts = HashMap<(String, String, Population), Vec<(i64, u64, u64)>>;

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// # Errors
/// [`Error::Config`] for an unreadable or invalid directory; [`Error::Lake`] /
/// [`Error::Io`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.file_access_anomaly;
    let directory = Directory::load(&cfg.directory_settings(), PREFIX)?;
    let window_start = ctx.window_start();
    let ws = window_start.timestamp_micros();
    let lookback = window_start - Duration::days(i64::from(cfg.max_history_days));
    let Some(frame) = user_context::scan(ctx.lake_root, lookback, ctx.as_of)? else {
        return Ok(Vec::new());
    };
    let ops = profiles::tagged_operations(ctx.lake_root, frame.clone().lazy(), ctx.catalog, TAG)?;
    let cols = [T, s::EVENT_UID, s::ACCOUNT_UID, s::ACTOR_UID, s::ACTOR_TYPE, s::SRC_IP, s::USER_AGENT, s::RESOURCE_UID];
    let Some(tagged) = profiles::tagged_events(ctx.lake_root, frame.clone().lazy(), &ops, &cols)? else {
        return Ok(Vec::new());
    };
    let window = profiles::collect(ctx.lake_root, tagged.clone().filter(col(T).gt_eq(lit(ws))))?;
    if window.height() == 0 {
        return Ok(Vec::new());
    }
    let activity = Activity::build(ctx.lake_root, &frame, ws)?;
    let width = ctx.window.num_microseconds().unwrap_or(DAY_US).max(1);
    let back = (lit(ws) - col(T) + lit(width - 1)).floor_div(lit(width)).alias("back");
    let history = profiles::collect(
        ctx.lake_root,
        tagged
            .clone()
            .filter(col(T).lt(lit(ws)))
            .with_column(Population::expr())
            .group_by([col(s::ACCOUNT_UID), col(s::ACTOR_UID), col("population"), back])
            .agg([
                len().cast(DataType::Int64).alias("n"),
                col(s::RESOURCE_UID).drop_nulls().n_unique().cast(DataType::Int64).alias("files"),
            ]),
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
    let history = history_counts(&history)?;
    let entities = window_rows(&window)?;
    let input = assess::Input { ctx, directory: &directory, activity: &activity, entities: &entities, history: &history, tenant_first: &tenant_first, ws, width, lookback_us: lookback.timestamp_micros() };
    let cases = assess::assess_all(&input);
    Ok(cases.iter().filter_map(|c| finding::build(ctx, &ops, c)).collect())
}

fn history_counts(df: &DataFrame) -> Result<HistoryCounts> {
    let (a, u, p) = (profiles::strings(df, s::ACCOUNT_UID)?, profiles::strings(df, s::ACTOR_UID)?, profiles::strings(df, "population")?);
    let (b, n, f) = (profiles::ints(df, "back")?, profiles::ints(df, "n")?, profiles::ints(df, "files")?);
    let mut out: HistoryCounts = HashMap::new();
    for i in 0..df.height() {
        let (Some(a), Some(u), Some(p)) = (&a[i], &u[i], &p[i]) else {
            continue;
        };
        let pop = match p.as_str() {
            "automation" => Population::Automation,
            "sync" => Population::Sync,
            _ => Population::Person,
        };
        out.entry((a.clone(), u.clone(), pop)).or_default().push((b[i], n[i].max(0) as u64, f[i].max(0) as u64));
    }
    Ok(out)
}

fn window_rows(df: &DataFrame) -> Result<Entities> {
    let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for name in [s::EVENT_UID, s::ACCOUNT_UID, s::ACTOR_UID, s::ACTOR_TYPE, s::SRC_IP, s::USER_AGENT, s::SERVICE, s::OPERATION, s::RESOURCE_UID] {
        c.insert(name, profiles::strings(df, name)?);
    }
    let ts = profiles::ints(df, T)?;
    let mut get = |n: &str, i: usize| c.get_mut(n).and_then(|v| v[i].take());
    let mut out: Entities = BTreeMap::new();
    for (i, &t) in ts.iter().enumerate() {
        let (Some(account), Some(actor)) = (get(s::ACCOUNT_UID, i), get(s::ACTOR_UID, i)) else {
            continue;
        };
        let row = Row {
            t,
            event_uid: get(s::EVENT_UID, i).unwrap_or_default(),
            ip: get(s::SRC_IP, i),
            agent: get(s::USER_AGENT, i),
            service: get(s::SERVICE, i).unwrap_or_default(),
            operation: get(s::OPERATION, i).unwrap_or_default(),
            file: get(s::RESOURCE_UID, i),
        };
        let actor_type = get(s::ACTOR_TYPE, i).as_deref().and_then(ActorType::parse);
        let pop = Population::of(actor_type, &row.operation, row.agent.as_deref());
        out.entry((account, actor, pop)).or_default().push(row);
    }
    for rows in out.values_mut() {
        rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    }
    Ok(out)
}
