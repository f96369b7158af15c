//! `service_change_unexpected_initiator` (first-seen + count outlier + critical
//! deletions): cloud services reconfigured by someone who never touched them, far more
//! often than usual, or critical resources deleted. ATT&CK T1562.008 / T1685.002 (v19)
//! Disable or Modify Cloud Logs — DESIGN.md's "modifications by unexpected initiators,
//! frequent modifications, critical resources" — and T1485 Data Destruction for deletions.
//!
//! Events: every catalogue operation whose data component is `disable` or `modification`,
//! whatever its tag, except entries tagged `logging_disable` (reported by
//! [`super::logging_disabled`]); plus the operations named in `critical_resources`
//! (deletions of Key Vaults, Log Analytics workspaces, resource groups, KMS keys, trails,
//! log buckets and groups, projects), catalogued or not.
//!
//! Three findings:
//!
//! 1. **First-seen (initiator, service)**: the initiator's first successful change of that
//!    service in `history_days`, the account having ≥ `min_history_days` in the lake (no
//!    finding while learning: the per-operation analytics report those events). One
//!    finding per (provider, account, initiator, service) per window: a person medium, a
//!    role or automation low, a group of deployments only
//!    ([`super::signal::is_deploy`]) low; +1 when any change is a `disable` (one level
//!    below the per-operation analytics' "first time", which report each operation too).
//! 2. **Frequent modifications**: the initiator's changes in its busiest window hour
//!    against its own hourly history ([`super::signal::outlier`]: Poisson / negative
//!    binomial, Šidák over window hours, Benjamini–Hochberg across initiators at `fdr_q`,
//!    floors `min_count`, `min_ratio`): medium, high for a person.
//! 3. **Critical deletions**: one initiator deleting ≥ `critical_min_deletions` distinct
//!    critical resources within `critical_window_minutes` gives one high finding listing
//!    every deletion (critical when a person with ≥ `min_history_days` of account history
//!    never deleted a critical resource before; medium for automation, whose
//!    infrastructure-as-code teardowns look the same) — the "Azure mass-deletion story" of the
//!    Sentinel training lab, where one user deletes Key Vaults and resource groups within
//!    minutes. A single critical deletion outside a burst is a signal finding with weight
//!    *sensitive* (person: high while learning, critical the first time; a shared role
//!    medium while learning), unless its operation is tagged
//!    `logging_disable` or `hierarchy_change` (those analytics report it). Distinct
//!    resources, not events: Azure writes Start / Accept / Success per deletion.
//!
//! Parameters (`[analytics.service_change_unexpected_initiator]`): `enabled` (true),
//! `history_days` (90), `min_history_days` (7), `routine_min_days` (5), `fdr_q` (0.01),
//! `min_count` (10 per hour), `min_ratio` (3.0), `dispersion_alpha` (0.05),
//! `critical_min_deletions` (3), `critical_window_minutes` (60), `critical_resources`
//! (see [`default_critical_resources`]; each `{ name, provider, operations }`, operations
//! matched exactly, ASCII case-insensitively, on any service of the provider),
//! `max_evidence` (200).
//!
//! Known false positives: a new administrator's first week (first-seen per service,
//! medium–high once); teardown of a test environment (a burst: high by a person, medium
//! by automation such as `terraform destroy` — the Invictus recording's Stratus clean-up
//! is one); bulk tagging or policy roll-outs (count outlier for automation: medium).
//!
//! Anchors: Microsoft Sentinel training lab "AzureActivity" mass deletion (AdeleV);
//! Sentinel "Mass Cloud resource deletions Time Series Anomaly" and "NRT Sensitive Azure
//! Key Vault operations" (T1485); Elastic "Azure Key Vault Modified" / "Azure Resource
//! Group Deletion"; Panther
//! `Azure.MonitorActivity.KeyVault.Deleted`, `KeyVault.Purged`, `AWS.KMS.CustomerManagedKeyLoss`,
//! `GCP.KMS.EraseKey`; ATT&CK T1562.008 detection ("modifications by unexpected initiators,
//! frequent modifications").

use super::conditional_access_change::change_requests::{self, ChangeRequest};
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::signal::outlier::{hourly_outliers, OutlierParams};
use super::signal::{self, group_draft, group_hourly, ActorClass, Draft, ExtraOp, Grade, Params, Profile, Row, Scan, Select, Standing, Weight};
use super::DetectContext;
use crate::findings::{Finding, Severity};
use crate::profiles::HOUR_US;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "service_change_unexpected_initiator";
/// Catalogue data components selected.
pub const COMPONENTS: [&str; 2] = ["disable", "modification"];
/// Tags left to their own analytic.
pub const EXCLUDED_TAGS: [&str; 1] = ["logging_disable"];
/// Tags whose critical deletions another signal analytic already reports one by one.
const REPORTED_ELSEWHERE: [&str; 2] = ["logging_disable", "hierarchy_change"];

const METHOD_FIRST: &str = "first-seen (initiator, service) for the account (ATT&CK T1562.008 'modifications by unexpected initiators'; DESIGN.md).";
const METHOD_COUNT: &str = "count outlier against the initiator's own hourly history (Poisson / negative binomial, Šidák, Benjamini–Hochberg; DESIGN.md 'Statistics').";
const METHOD_CRITICAL: &str = "critical-resource deletions by one initiator in a short window (Sentinel 'Mass Cloud resource deletions Time Series Anomaly' and training-lab mass deletion, Panther KeyVault.Deleted / KMS.CustomerManagedKeyLoss).";

/// One kind of critical resource: its deletions are watched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalResource {
    /// Shown in findings ("Key Vault").
    pub name: String,
    /// Lake `provider`.
    pub provider: String,
    /// `operation` values that delete (or destroy, purge, schedule deletion of) it.
    pub operations: Vec<String>,
}

/// Defaults of `critical_resources`: Key Vaults (delete, purge), Log Analytics workspaces,
/// resource groups, AWS KMS keys (`ScheduleKeyDeletion`, `DisableKey`), Cloud KMS key
/// versions (`DestroyCryptoKeyVersion`), CloudTrail trails, CloudWatch log groups, Cloud
/// Logging buckets, GCP projects.
pub fn default_critical_resources() -> Vec<CriticalResource> {
    let c = |name: &str, provider: &str, ops: &[&str]| CriticalResource {
        name: name.into(),
        provider: provider.into(),
        operations: ops.iter().map(|o| o.to_string()).collect(),
    };
    vec![
        c("Key Vault", "azure", &["Microsoft.KeyVault/vaults/delete", "Microsoft.KeyVault/locations/deletedVaults/purge/action"]),
        c("Log Analytics workspace", "azure", &["Microsoft.OperationalInsights/workspaces/delete"]),
        c("resource group", "azure", &["Microsoft.Resources/subscriptions/resourceGroups/delete"]),
        c("KMS key", "aws", &["ScheduleKeyDeletion", "DisableKey"]),
        c("CloudTrail trail", "aws", &["DeleteTrail"]),
        c("CloudWatch log group", "aws", &["DeleteLogGroup"]),
        c("Cloud KMS key version", "gcp", &["DestroyCryptoKeyVersion", "google.cloud.kms.v1.KeyManagementService.DestroyCryptoKeyVersion"]),
        c("Cloud Logging bucket", "gcp", &["google.logging.v2.ConfigServiceV2.DeleteBucket"]),
        c("project", "gcp", &["google.cloud.resourcemanager.v3.Projects.DeleteProject", "DeleteProject"]),
    ]
}

/// `[analytics.service_change_unexpected_initiator]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceChangeUnexpectedInitiatorConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier changes. Default 90.
    pub history_days: u32,
    /// Days of account history required before any first-seen or count finding.
    /// Default 7.
    pub min_history_days: u32,
    /// Routine threshold for single critical deletions (see the signal engine); 0 turns
    /// suppression off. Default 5.
    pub routine_min_days: u32,
    /// Benjamini–Hochberg false discovery rate of the count test. Default 0.01.
    pub fdr_q: f64,
    /// Fewest changes in the busiest hour for a count finding. Default 10.
    pub min_count: u64,
    /// Observed must be at least this multiple of the expected hourly count. Default 3.0.
    pub min_ratio: f64,
    /// Significance of the over-dispersion test. Default 0.05.
    pub dispersion_alpha: f64,
    /// Distinct critical resources one initiator must delete within
    /// `critical_window_minutes` for a mass-deletion finding. Default 3.
    pub critical_min_deletions: usize,
    /// Mass-deletion window, minutes. Default 60.
    pub critical_window_minutes: u32,
    /// The watched resource types ([`default_critical_resources`]).
    pub critical_resources: Vec<CriticalResource>,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
    /// Change-request table (CSV or Parquet, the format of
    /// [`super::conditional_access_change::change_requests`]); a first change that one
    /// ticket covers entirely (initiator, time, and target = the resource or the service) is
    /// written suppressed with the ticket as reason. Relative to the pipeline file. Default
    /// none.
    pub change_requests: Option<std::path::PathBuf>,
}

impl Default for ServiceChangeUnexpectedInitiatorConfig {
    fn default() -> Self {
        ServiceChangeUnexpectedInitiatorConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            fdr_q: 0.01,
            min_count: 10,
            min_ratio: 3.0,
            dispersion_alpha: crate::scoring::DEFAULT_DISPERSION_ALPHA,
            critical_min_deletions: 3,
            critical_window_minutes: 60,
            critical_resources: default_critical_resources(),
            max_evidence: 200,
            change_requests: None,
        }
    }
}

impl ServiceChangeUnexpectedInitiatorConfig {
    fn params(&self) -> Params {
        Params {
            history_days: self.history_days,
            min_history_days: self.min_history_days,
            routine_min_days: self.routine_min_days,
            max_evidence: self.max_evidence,
        }
    }

    fn outlier(&self) -> OutlierParams {
        OutlierParams {
            fdr_q: self.fdr_q,
            min_count: self.min_count,
            min_ratio: self.min_ratio,
            dispersion_alpha: self.dispersion_alpha,
            min_history_days: self.min_history_days,
        }
    }

    /// Checks value ranges; errors name the key
    /// (`analytics.service_change_unexpected_initiator.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)?;
        signal::validate_outlier(ID, &self.outlier())?;
        let key = |k: &str| format!("analytics.{ID}.{k}");
        if self.critical_min_deletions < 2 {
            return Err(crate::Error::config(
                key("critical_min_deletions"),
                format!("must be ≥ 2, got {}", self.critical_min_deletions),
            ));
        }
        if self.critical_window_minutes == 0 {
            return Err(crate::Error::config(key("critical_window_minutes"), "must be > 0"));
        }
        for (i, c) in self.critical_resources.iter().enumerate() {
            if crate::schema::Provider::parse(&c.provider).is_none() {
                return Err(crate::Error::config(
                    key(&format!("critical_resources[{i}].provider")),
                    format!("unknown provider {:?}", c.provider),
                ));
            }
            if c.operations.is_empty() || c.operations.iter().any(|o| o.trim().is_empty()) {
                return Err(crate::Error::config(
                    key(&format!("critical_resources[{i}].operations")),
                    "must list at least one non-empty operation",
                ));
            }
        }
        Ok(())
    }

    /// Makes a relative `change_requests` path relative to `base` (the pipeline's folder).
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        if let Some(p) = &self.change_requests {
            if p.is_relative() {
                self.change_requests = Some(base.join(p));
            }
        }
    }

    /// The change requests, read once per run; errors name this analytic's key.
    fn tickets(&self) -> Result<Vec<ChangeRequest>> {
        let Some(path) = &self.change_requests else { return Ok(Vec::new()) };
        change_requests::load(path).map_err(|e| match e {
            crate::Error::Config { message, .. } => crate::Error::config(format!("analytics.{ID}.change_requests"), message),
            other => other,
        })
    }

    fn extra_ops(&self) -> Vec<ExtraOp> {
        self.critical_resources
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                c.operations.iter().map(move |o| ExtraOp { provider: c.provider.clone(), operation: o.clone(), tag: i })
            })
            .collect()
    }
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.service_change_unexpected_initiator;
    // Read first: a wrong path is a configuration error even on a quiet day.
    let tickets = cfg.tickets()?;
    let select = Select::Components { components: &COMPONENTS, exclude_tags: &EXCLUDED_TAGS };
    let scan = Scan::read(ctx, select, &cfg.extra_ops(), cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let mut findings = first_seen_services(ctx, &scan, cfg, &tickets);
    let window_hours = (ctx.window.num_seconds() as f64 / 3600.0).ceil().max(1.0) as usize;
    let catalogued = |r: &Row| !scan.op(r).entries.is_empty();
    for o in hourly_outliers(&scan, catalogued, &cfg.outlier(), window_hours) {
        let sev = if o.class == ActorClass::Person { Severity::High } else { Severity::Medium };
        let expected = o.model.mean();
        let r0 = o.rows[0];
        let who = r0.actor.clone().unwrap_or_default();
        let grade = Grade {
            severity: sev,
            reasons: vec![format!(
                "{} changes in one hour against {expected:.2} expected ({}, {} hours of history), p = {:.2e}, BH-adjusted {:.2e}",
                o.observed,
                o.model.name(),
                o.history_hours,
                o.p,
                o.p_adjusted
            )],
            suppressed: None,
        };
        let mut d = Draft::new(ID, o.rows.clone(), grade, METHOD_COUNT);
        d.entries = o.rows.iter().flat_map(|r| scan.op(r).entries.iter()).collect();
        d.key = vec!["frequent".into(), r0.provider.clone(), r0.account.clone(), who.clone()];
        d.bucket = o.hour * HOUR_US;
        d.title = format!("{} service changes in one hour by {who}", o.observed);
        d.what = format!(
            "{who} ({}) made {} catalogued service changes ({}) in the hour from {}.",
            o.class.noun(),
            o.observed,
            distinct(o.rows.iter().map(|r| r.operation.as_str())).join(", "),
            signal::time(o.hour * HOUR_US).to_rfc3339()
        );
        d.history = format!("Its own hourly baseline expects {expected:.2} per hour.");
        d.baseline_days = scan.account_days(&r0.provider, &r0.account);
        d.expected = Some(expected);
        d.p_value = Some(o.p);
        d.p_value_adjusted = Some(o.p_adjusted);
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    findings.extend(critical_deletions(ctx, &scan, cfg));
    Ok(findings)
}

fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let s: BTreeSet<&str> = it.collect();
    s.into_iter().collect()
}

/// Finding 1: first change of a service by an initiator.
fn first_seen_services(ctx: &DetectContext, scan: &Scan, cfg: &ServiceChangeUnexpectedInitiatorConfig, tickets: &[ChangeRequest]) -> Vec<Finding> {
    let params = cfg.params();
    let profile = Profile::new(scan, |r| r.service.to_ascii_lowercase());
    type Key = (String, String, String, String);
    let mut groups: BTreeMap<Key, Vec<&Row>> = BTreeMap::new();
    for r in scan.window.iter().filter(|r| !r.failed && !scan.op(r).entries.is_empty()) {
        let Some(actor) = r.actor.clone() else { continue };
        groups.entry((r.provider.clone(), r.account.clone(), actor, r.service.clone())).or_default().push(r);
    }
    let mut out = Vec::new();
    for ((provider, account, actor, service), rows) in groups {
        let standing = profile.standing(scan, &params, &rows[..1], &service.to_ascii_lowercase());
        let Standing::FirstTime { days } = standing else { continue };
        let class = ActorClass::of(&rows);
        let disables = rows.iter().any(|r| scan.op(r).entries.iter().any(|e| e.data_component == "disable"));
        // One level below the per-operation signals' "first time" (those analytics report
        // each operation too): a person medium, others low; +1 when something is disabled.
        let person = matches!(class, ActorClass::Person | ActorClass::Unknown);
        // Deploying new code is not reconfiguring the service (signal::is_deploy).
        let only_deploys = rows.iter().all(|r| signal::is_deploy(&r.operation));
        let mut grade = Grade {
            severity: if person && !only_deploys { Severity::Medium } else { Severity::Low },
            reasons: vec![format!(
                "first change of {service} by this {}{}",
                class.noun(),
                if only_deploys { " (deployments only: recorded low)" } else { "" }
            )],
            suppressed: None,
        };
        if disables {
            grade.raise(1, "disables something (+1)");
        }
        // A ticketed first change is expected, not unexpected: the ticket must cover every event.
        grade.suppressed = tickets
            .iter()
            .find(|c| rows.iter().all(|r| c.covers(r.actor.as_deref(), r.resource.as_deref(), Some(&r.service), signal::time(r.t))))
            .map(ChangeRequest::reason);
        let mut d = Draft::new(ID, rows.clone(), grade, METHOD_FIRST);
        d.entries = rows.iter().flat_map(|r| scan.op(r).entries.iter()).collect();
        d.key = vec!["first_seen".into(), provider, account, actor.clone(), service.clone()];
        d.bucket = rows[0].t.div_euclid(HOUR_US) * HOUR_US;
        d.title = format!("First change of {service} by {actor}");
        d.what = format!(
            "{actor} ({}) changed {service} for the first time: {} event(s) ({}) between {} and {}.",
            class.noun(),
            rows.len(),
            distinct(rows.iter().map(|r| r.operation.as_str())).join(", "),
            signal::time(rows[0].t).to_rfc3339(),
            signal::time(rows[rows.len() - 1].t).to_rfc3339()
        );
        d.history = format!(
            "No earlier successful change of this service by this initiator in {days} days of the account's history (min_history_days = {}).",
            cfg.min_history_days
        );
        d.baseline_days = days;
        d.resource = single(rows.iter().map(|r| r.resource.as_deref()));
        out.push(d.finish(ctx, cfg.max_evidence));
    }
    out
}

/// The value when every row has the same one.
fn single<'a>(mut it: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let first = it.next()??;
    it.all(|v| v == Some(first)).then(|| first.to_string())
}

/// Finding 3: critical-resource deletions, as bursts and singles.
fn critical_deletions(ctx: &DetectContext, scan: &Scan, cfg: &ServiceChangeUnexpectedInitiatorConfig) -> Vec<Finding> {
    let params = cfg.params();
    let critical = |r: &Row| scan.op(r).extra.is_some() && !r.failed;
    let span = i64::from(cfg.critical_window_minutes) * 60_000_000;
    let res = |r: &Row| r.resource.clone().unwrap_or_else(|| r.event_uid.clone());
    // Earlier critical deletions by each initiator (for "first time").
    let deleted_before: BTreeSet<(String, String)> = scan
        .history
        .iter()
        .filter(|r| critical(r))
        .filter_map(|r| Some((r.provider.clone(), r.actor.clone()?)))
        .collect();
    type Who = (String, String, Option<String>);
    let mut by_actor: BTreeMap<Who, Vec<&Row>> = BTreeMap::new();
    for r in scan.window.iter().filter(|r| critical(r)) {
        by_actor.entry((r.provider.clone(), r.account.clone(), r.actor.clone())).or_default().push(r);
    }
    let mut out = Vec::new();
    let mut in_burst: BTreeSet<*const Row> = BTreeSet::new();
    for ((provider, account, actor), rows) in &by_actor {
        let Some(actor) = actor else { continue };
        // The stretch with the most distinct resources, starting at each deletion.
        let mut best: (usize, usize, usize) = (0, 0, 0);
        for i in 0..rows.len() {
            let end = rows[i..].iter().take_while(|r| r.t <= rows[i].t + span).count() + i;
            let n = distinct_owned(rows[i..end].iter().map(|r| res(r))).len();
            if n > best.0 {
                best = (n, i, end);
            }
        }
        if best.0 < cfg.critical_min_deletions {
            continue;
        }
        let burst: Vec<&Row> = rows[best.1..best.2].to_vec();
        in_burst.extend(burst.iter().map(|r| *r as *const Row));
        let class = ActorClass::of(&burst);
        let days = scan.account_days(provider, account);
        let first = days >= cfg.min_history_days && !deleted_before.contains(&(provider.clone(), actor.clone()));
        let person = matches!(class, ActorClass::Person | ActorClass::Unknown);
        // An infrastructure-as-code teardown (Terraform destroy) deletes in bursts too.
        let severity = if first && person {
            Severity::Critical
        } else if class == ActorClass::Automation {
            Severity::Medium
        } else {
            Severity::High
        };
        let mut kinds: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for r in &burst {
            let kind = scan.op(r).extra.map_or("resource", |i| cfg.critical_resources[i].name.as_str());
            kinds.entry(kind).or_default().insert(short(&res(r)));
        }
        let listing: Vec<String> =
            kinds.iter().map(|(k, v)| format!("{} {k}(s): {}", v.len(), v.iter().cloned().collect::<Vec<_>>().join(", "))).collect();
        let mut reasons = vec![format!(
            "{} distinct critical resources deleted within {} minutes (critical_min_deletions = {})",
            best.0, cfg.critical_window_minutes, cfg.critical_min_deletions
        )];
        reasons.push(if class == ActorClass::Automation {
            "automation (an infrastructure-as-code teardown looks the same): medium".to_string()
        } else if first && person {
            "a person who deleted no critical resource before in the account's history".to_string()
        } else if days < cfg.min_history_days {
            format!("learning: {days} days of account history, so the initiator's history does not lower it")
        } else {
            "this initiator deleted critical resources before, still a burst".to_string()
        });
        let grade = Grade { severity, reasons, suppressed: None };
        let mut d = Draft::new(ID, burst.clone(), grade, METHOD_CRITICAL);
        d.entries = burst.iter().flat_map(|r| scan.op(r).all_entries.iter()).collect();
        d.extra_techniques = vec!["T1485"];
        d.default_component = "modification";
        d.key = vec!["critical_deletions".into(), provider.clone(), account.clone(), actor.clone()];
        d.bucket = burst[0].t.div_euclid(HOUR_US) * HOUR_US;
        d.title = format!("{} critical resources deleted within {} minutes by {actor}", best.0, cfg.critical_window_minutes);
        let ip = super::most_common(burst.iter().map(|r| r.src_ip.as_deref()))
            .map_or(String::new(), |ip| format!(" from {ip}"));
        d.what = format!(
            "{actor} ({}){ip} deleted {} between {} and {} ({} events).",
            class.noun(),
            listing.join("; "),
            signal::time(burst[0].t).to_rfc3339(),
            signal::time(burst[burst.len() - 1].t).to_rfc3339(),
            burst.len()
        );
        d.history = format!("{days} days of account history.");
        d.baseline_days = days;
        d.observed = Some(best.0 as f64);
        out.push(d.finish(ctx, cfg.max_evidence));
    }
    // Singles: critical deletions outside a burst that no other analytic reports.
    let profile = Profile::new(scan, |_| "critical".to_string());
    let singles = scan.window.iter().filter(|r| {
        scan.op(r).extra.is_some()
            && !in_burst.contains(&(*r as *const Row))
            && !REPORTED_ELSEWHERE.iter().any(|t| scan.op(r).has_tag(t))
    });
    for group in group_hourly(singles, |r| r.resource.clone()) {
        let kind = scan.op(group.head()).extra.map_or("resource", |i| cfg.critical_resources[i].name.as_str());
        let mut d = group_draft(ID, scan, &profile, &params, &group, "critical", "critical-resource deletion", Weight::Sensitive, METHOD_CRITICAL);
        d.grade.reasons.push(format!("deletes a {kind}"));
        d.extra_techniques = vec!["T1485"];
        d.entries = scan.op(group.head()).all_entries.iter().collect();
        out.push(d.finish(ctx, cfg.max_evidence));
    }
    out
}

fn distinct_owned(it: impl Iterator<Item = String>) -> BTreeSet<String> {
    it.collect()
}

/// The last path segment of a resource id (`…/vaults/oneloginlogs1234` → `oneloginlogs1234`).
fn short(resource: &str) -> String {
    resource.trim_end_matches('/').rsplit('/').next().unwrap_or(resource).to_string()
}

#[cfg(test)]
mod tests;
