//! `enumeration_burst` (statistical): a principal calls far more discovery APIs in an hour,
//! or far more *distinct* ones, than its own history predicts, or than its peers ever do.
//! ATT&CK T1580 Cloud Infrastructure Discovery, T1526 Cloud Service Discovery, T1046
//! Network Service Discovery, T1619 Cloud Storage Object Discovery, T1087.004 / T1069.003
//! (account and group discovery), as the catalogue names them per operation.
//!
//! Events: catalogue tag `discovery` — AWS `Describe*` / `List*` / `Get*` of EC2, S3,
//! IAM, Organizations, CloudTrail, GuardDuty, RDS, ECS, EKS, KMS, Lambda, Bedrock, …;
//! Azure Key Vault `SecretList` / `VaultGet` / … and any ARM `…/read`; GCP
//! `compute.instances.list` and friends, `storage.buckets.list`, Secret Manager and
//! Resource Manager listings. The realistic attack is a principal calling 20+ distinct
//! discovery APIs across 5+ services within minutes (Stratus Red Team `discovery`
//! techniques, Pacu / ScoutSuite with stolen keys).
//!
//! Entities are (provider, account, principal), in two populations profiled apart
//! ([`population_of`](super::volume::population_of) over the principal's whole lookback: automation by actor
//! type, service-linked role, or deployment-tool / scanner agents such as Prowler). Per
//! window hour: discovery calls, distinct operations, distinct services.
//! 1. **Own history** (≥ `min_history_days`): calls and distinct operations per hour over
//!    the history, zeros included, each fitted with [`SeasonalModel`](super::volume::SeasonalModel) (hour of week with ≥ 21
//!    days, weekday/weekend × hour with ≥ 7; Poisson or negative binomial). Each window
//!    hour gets p = 2 · min(p_calls, p_operations) (Bonferroni over the two views); the
//!    most surprising hour that clears a floor is kept, Šidák-adjusted over the window's
//!    hours, then Benjamini–Hochberg across the population's principals tested in the run.
//!    Flagged when adjusted p ≤ `fdr_q`, calls ≥ `min_calls`, distinct operations ≥
//!    `min_operations`, calls or distinct operations ≥ `min_ratio` × expected, and calls
//!    or distinct operations ≥ `own_max_factor` × the principal's busiest history hour: a
//!    burst is many calls of many kinds, more than the principal ever made in an hour —
//!    a CI plan at an unusual hour, or a person working late, is not one.
//!    A scanner sweeping every 4 h has those sweeps in its seasonal expectation, so its
//!    routine does not alert.
//! 2. **Peers**: principals of the same (provider, account, population); the reference is
//!    the `peer_quantile` (nearest rank) of their busiest hour on each active day of the
//!    lookback and window, for calls and for distinct operations, with ≥ `min_peers` peers.
//!    *Within peers*: both figures ≤ that quantile. *Far above*: either ≥ `peer_factor` × it.
//! 3. **Learning** (< `min_history_days`): no p-value; a newcomer with ≥
//!    `new_principal_min_calls` calls or ≥ `new_principal_min_operations` distinct
//!    operations in an hour, far above its peers, is a low "learning" finding; without
//!    peers to compare with only a person is (a new pipeline or scanner sweeps by design).
//!
//! | situation | severity |
//! |---|---|
//! | own-history significant, within the peers' usual range | low |
//! | own-history significant | medium |
//! | own-history significant + broad (≥ `broad_services` services and ≥ `broad_operations` operations) or far above peers | high |
//! | learning, floors met, far above peers (or a person without peers) | low |
//!
//! Anchors: Splunk ESCU "AWS Excessive Security Scanning" (more than 50 distinct
//! Describe/List/Get event names by one user) and "AWS IAM AccessDenied Discovery Events",
//! Elastic "AWS Discovery API Calls via CLI from a Single Resource" (more than five
//! distinct discovery APIs within 10 s) and the ML job "Unusual AWS Command for a User",
//! Google CSA 4.01 "Unusually high API usage by any user identity" (daily count above the
//! mean plus 3σ of the preceding days) and 5.30 "Cloud Storage buckets enumerated by unfamiliar
//! users"; the count model and FDR control of `secret_access_volume`.
//!
//! Known false positives: a person's first console tour of a new account (learning, low),
//! an engineer debugging across services (within peers → low), a new CSPM or inventory
//! tool whose agent is not in [`SCANNER_USER_AGENTS`](super::volume::SCANNER_USER_AGENTS) (add it, or it learns its
//! schedule after `min_history_days`). Single-event Panther rules
//! (`AWS.CloudTrail.Account.Discovery`, `AWS.Software.Discovery`, `AWS.RDS.SnapshotEnumeration`,
//! `AWS.CloudTrail.SES.ListIdentities`, `GCP.IAM.Tag.Enumeration`,
//! `Azure.MonitorActivity.Network.IPDiscovery`) fire on one call; one call is not a burst,
//! so their fixtures are out of reach and give no finding here.

mod assess;
#[cfg(test)]
mod real;
#[cfg(test)]
mod tests;

use serde::Deserialize;

use super::volume::SeasonalMode;
use super::DetectContext;
use crate::findings::Finding;
use crate::{Error, Result};

pub use assess::run_with;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "enumeration_burst";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "discovery";

/// `[analytics.enumeration_burst]` in the pipeline TOML. Counts are per hour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnumerationBurstConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days of a principal's history required before any p-value. Default 7 (one weekly
    /// cycle).
    pub min_history_days: u32,
    /// Longest history used, in days. Default 28.
    pub max_history_days: u32,
    /// Benjamini–Hochberg false discovery rate per population. Default 0.01.
    pub fdr_q: f64,
    /// Floor on discovery calls in the scored hour. Default 20.
    pub min_calls: u64,
    /// Floor on distinct discovery operations in the scored hour. Default 10 (Elastic's
    /// CLI rule fires above 5 in 10 s; an hour allows more for people).
    pub min_operations: u64,
    /// The scored figure must be at least this multiple of its expectation. Default 3.0.
    pub min_ratio: f64,
    /// Calls or distinct operations must reach this multiple of the principal's busiest
    /// hour in its history. Default 2.0.
    pub own_max_factor: f64,
    /// Distinct services that make a burst "broad" (high severity). Default 5.
    pub broad_services: u64,
    /// Distinct operations that make a burst "broad" (high severity). Default 20.
    pub broad_operations: u64,
    /// Learning floor on calls in an hour. Default 15.
    pub new_principal_min_calls: u64,
    /// Learning floor on distinct operations in an hour. Default 10.
    pub new_principal_min_operations: u64,
    /// Quantile of the peers' busiest hours used as their usual range. Default 0.95.
    pub peer_quantile: f64,
    /// "Far above peers" = at least this multiple of the peers' quantile. Default 3.0.
    pub peer_factor: f64,
    /// Fewest peers for a peer comparison. Default 3.
    pub min_peers: usize,
    /// Significance of the over-dispersion test. Default 0.05.
    pub dispersion_alpha: f64,
    /// `auto` (hour of week / weekday-weekend × hour / flat as history allows) or `flat`.
    /// Default `auto`.
    pub seasonality: SeasonalMode,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for EnumerationBurstConfig {
    fn default() -> Self {
        EnumerationBurstConfig {
            enabled: true,
            min_history_days: 7,
            max_history_days: 28,
            fdr_q: 0.01,
            min_calls: 20,
            min_operations: 10,
            min_ratio: 3.0,
            own_max_factor: 2.0,
            broad_services: 5,
            broad_operations: 20,
            new_principal_min_calls: 15,
            new_principal_min_operations: 10,
            peer_quantile: 0.95,
            peer_factor: 3.0,
            min_peers: 3,
            dispersion_alpha: crate::scoring::DEFAULT_DISPERSION_ALPHA,
            seasonality: SeasonalMode::Auto,
            max_evidence: 200,
        }
    }
}

impl EnumerationBurstConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.enumeration_burst.<key>`).
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
        if !(self.peer_quantile > 0.0 && self.peer_quantile <= 1.0) {
            return Err(Error::config(key("peer_quantile"), format!("must be in (0, 1], got {}", self.peer_quantile)));
        }
        for (k, v) in [("min_ratio", self.min_ratio), ("peer_factor", self.peer_factor), ("own_max_factor", self.own_max_factor)] {
            if v.is_nan() || v < 0.0 {
                return Err(Error::config(key(k), format!("must be ≥ 0, got {v}")));
            }
        }
        Ok(())
    }
}

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// Errors: [`Error::Lake`] / [`Error::Io`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    run_with(ctx, &ctx.config.enumeration_burst)
}
