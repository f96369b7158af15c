//! The engine shared by the catalogue's signal analytics ([`super::resource_hierarchy_change`],
//! [`super::event_trigger_created`], [`super::serverless_change`],
//! [`super::region_or_service_enabled`], [`super::quota_increase`],
//! [`super::service_change_unexpected_initiator`]): select operations by catalogue tag,
//! group them, look up the initiator's history, grade, and describe.
//!
//! It generalises [`super::logging_disabled`] (the model: Elastic / Sigma / Panther signal
//! rules that alert on every call, graded here by who called and what they did before):
//!
//! - **Selection** ([`lake::Scan::read`]): every (provider, service, operation) present in
//!   the lake whose catalogue lookup ([`crate::catalog::Catalog::lookup`], exact beats
//!   prefix/suffix, `service = "*"` entries included) has an entry the [`Select`] accepts,
//!   plus operations named outside the catalogue ([`ExtraOp`]). One aggregate query and one
//!   row query per run.
//! - **Grouping** ([`group_hourly`]): one finding per (provider, account, actor, service,
//!   operation, target) and UTC hour, as `logging_disabled` does (Azure's Start / Accept /
//!   Success records of one call are one finding; the hour keeps ids stable across
//!   overlapping runs).
//! - **Initiator class** ([`ActorClass::of`]): a *person* (IAM user, root, federated or
//!   Identity Center user, Entra / GCP user, an AWS SSO role session), a *role* (another
//!   assumed role: a workload or a person behind a shared role, which cannot be told
//!   apart), *automation* ([`crate::schema::ActorType::is_automation`], or a role calling through an
//!   infrastructure-as-code agent, [`crate::profiles::is_iac_user_agent`]), or *unknown* (no
//!   initiator in the record).
//! - **Standing** ([`Profile::standing`]): first time this initiator succeeded at an
//!   operation of the analytic's scope within `history_days` (once the account has
//!   ≥ `min_history_days` in the lake), learning (fewer days), repeat, or routine (the same
//!   service and operation on ≥ `routine_min_days` distinct days before the window).
//! - **Grade** ([`grade()`]), in levels info 0 … critical 4:
//!
//! | class \ standing | first time | learning | repeat | routine | no initiator |
//! |---|---|---|---|---|---|
//! | person, unknown | 3 high | 2 medium | 1 low | 1 low | 2 medium |
//! | role | 2 medium | 1 low | 1 low | 0 info, suppressed | – |
//! | automation | 2 medium | 0 info | 1 low | 0 info, suppressed | – |
//!
//!   then by the operation's [`Weight`]: context and deploy −2 (floor info), change ±0,
//!   sensitive +1, severe +1 with a floor of high and never suppressed. Every attempt
//!   failed: low (info for context and deploy, medium for severe: an attempt to leave the
//!   organisation is a signal even when denied). Analytics raise further for their own
//!   reasons ([`Grade::raise`]).
//! - **Description** ([`Draft::finish`]): what happened, who, from where, how often before,
//!   why the severity, the catalogue's explanation and the method's anchors.
//! - **Count outliers** ([`outlier`]): events per initiator and hour against its own hourly
//!   history ([`crate::scoring::CountModel`], Šidák over the window's hours,
//!   Benjamini–Hochberg across initiators).

use std::collections::{BTreeSet, HashMap};

pub mod draft;
pub mod grade;
pub mod json;
pub mod lake;
pub mod outlier;

pub use draft::{describe_calls, group_draft, group_hourly, time, Draft, Group};
pub use grade::{grade, ActorClass, Grade, Standing, Weight};
pub use lake::{ExtraOp, Operation, Row, Scan, Select};

use crate::profiles::HOUR_US;

/// Microseconds in a day.
pub const DAY_US: i64 = 24 * HOUR_US;

/// History settings every signal analytic exposes (each config documents its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Days before the window searched for the initiator's earlier operations.
    pub history_days: u32,
    /// Days of the account's history required before "first time" means anything.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, service, operation) that make it
    /// routine; 0 turns routine suppression off.
    pub routine_min_days: u32,
    /// Most `event_uid`s listed per finding.
    pub max_evidence: usize,
}

impl Params {
    /// Checks the ranges; errors are [`crate::Error::Config`] naming
    /// `analytics.<id>.<key>`: `history_days` > 0, `min_history_days` ≤ `history_days`,
    /// `max_evidence` > 0.
    pub fn validate(&self, id: &str) -> crate::Result<()> {
        let key = |k: &str| format!("analytics.{id}.{k}");
        if self.history_days == 0 {
            return Err(crate::Error::config(key("history_days"), "must be > 0"));
        }
        if self.min_history_days > self.history_days {
            return Err(crate::Error::config(
                key("min_history_days"),
                format!("must be ≤ history_days ({}), got {}", self.history_days, self.min_history_days),
            ));
        }
        if self.max_evidence == 0 {
            return Err(crate::Error::config(key("max_evidence"), "must be > 0"));
        }
        Ok(())
    }
}

/// Checks an outlier test's settings ([`outlier::OutlierParams`]), naming `analytics.<id>.<key>`.
pub fn validate_outlier(id: &str, o: &outlier::OutlierParams) -> crate::Result<()> {
    let key = |k: &str| format!("analytics.{id}.{k}");
    if !(o.fdr_q > 0.0 && o.fdr_q <= 1.0) {
        return Err(crate::Error::config(key("fdr_q"), format!("must be in (0, 1], got {}", o.fdr_q)));
    }
    if !(o.dispersion_alpha > 0.0 && o.dispersion_alpha < 1.0) {
        return Err(crate::Error::config(
            key("dispersion_alpha"),
            format!("must be in (0, 1), got {}", o.dispersion_alpha),
        ));
    }
    if o.min_ratio.is_nan() || o.min_ratio < 0.0 {
        return Err(crate::Error::config(key("min_ratio"), format!("must be ≥ 0, got {}", o.min_ratio)));
    }
    Ok(())
}

/// Earlier activity of initiators in an analytic's scope, from a [`Scan`].
#[derive(Debug, Default)]
pub struct Profile {
    /// (provider, actor, scope) → earliest success over history + window.
    first: HashMap<(String, String, String), i64>,
    /// (provider, actor, scope) → (successes, distinct days) before the window.
    before: HashMap<(String, String, String), (u64, BTreeSet<i64>)>,
    /// (provider, actor, service, operation) → distinct days before the window.
    routine: HashMap<(String, String, String, String), BTreeSet<i64>>,
}

impl Profile {
    /// Builds the profile; `scope` maps a row to the key "first time" is about (`""` for the
    /// whole analytic, the service for `service_change_unexpected_initiator`).
    pub fn new(scan: &Scan, scope: impl Fn(&Row) -> String) -> Profile {
        let mut p = Profile::default();
        for r in scan.all_rows().filter(|r| !r.failed) {
            let Some(actor) = r.actor.clone() else { continue };
            let key = (r.provider.clone(), actor.clone(), scope(r));
            p.first.entry(key.clone()).and_modify(|t| *t = (*t).min(r.t)).or_insert(r.t);
            if r.t < scan.window_start {
                let e = p.before.entry(key).or_default();
                e.0 += 1;
                e.1.insert(r.t.div_euclid(DAY_US));
                p.routine
                    .entry((r.provider.clone(), actor, r.service.clone(), r.operation.clone()))
                    .or_default()
                    .insert(r.t.div_euclid(DAY_US));
            }
        }
        p
    }

    /// The standing of `rows` (one group, one initiator, sorted by time) under `scope`.
    pub fn standing(&self, scan: &Scan, p: &Params, rows: &[&Row], scope: &str) -> Standing {
        let r0 = rows[0];
        let days = scan.account_days(&r0.provider, &r0.account);
        let Some(actor) = r0.actor.clone() else {
            return Standing::Anonymous { days };
        };
        let key = (r0.provider.clone(), actor.clone(), scope.to_string());
        let routine_days = self
            .routine
            .get(&(r0.provider.clone(), actor, r0.service.clone(), r0.operation.clone()))
            .map_or(0, |d| d.len() as u32);
        if p.routine_min_days > 0 && routine_days >= p.routine_min_days {
            return Standing::Routine { days, routine_days };
        }
        if days < p.min_history_days {
            return Standing::Learning { days };
        }
        // First time when no success precedes this group (earlier window groups count).
        if self.first.get(&key).is_none_or(|&t| t >= r0.t) {
            return Standing::FirstTime { days };
        }
        let (before, before_days) =
            self.before.get(&key).map_or((0, 0), |(n, d)| (*n, d.len() as u32));
        Standing::Repeat { days, before, before_days }
    }
}

/// The action word of an operation, lower-case: the last `/` segment for Azure
/// (`…/resourceGroups/delete` → `delete`, `…/register/action` → `register`), the last `.`
/// segment for GCP (`google.cloud.resourcemanager.v3.Projects.DeleteProject` →
/// `deleteproject`), the name itself for AWS (`LeaveOrganization20150331` keeps its suffix).
pub fn verb(operation: &str) -> String {
    let op = operation.trim_end_matches("/action");
    let last = op.rsplit('/').next().unwrap_or(op);
    let last = last.rsplit('.').next().unwrap_or(last);
    last.to_ascii_lowercase()
}

/// True for a deployment of new code or settings to an existing function, app or
/// service: Lambda `UpdateFunctionCode` / `UpdateFunctionConfiguration` /
/// `PublishLayerVersion`, Azure `Microsoft.Web/sites` writes (site, functions, config,
/// slots; not extensions), Cloud Functions `UpdateFunction`, Cloud Run `ReplaceService` /
/// `UpdateService`. Creating a function, editing or running a runbook stay changes.
pub fn is_deploy(operation: &str) -> bool {
    let op = operation.to_ascii_lowercase();
    let v = verb(operation);
    ["updatefunctioncode", "updatefunctionconfiguration", "publishlayerversion", "updatefunction", "replaceservice", "updateservice"]
        .iter()
        .any(|d| v.starts_with(d))
        || (op.starts_with("microsoft.web/sites/") && op.ends_with("/write") && !op.ends_with("/extensions/write"))
}

/// True for an operation that deletes, destroys, purges or removes what it names.
pub fn is_deletion(operation: &str) -> bool {
    let v = verb(operation);
    ["delete", "destroy", "purge", "remove", "schedulekeydeletion", "cancel"].iter().any(|d| v.starts_with(d))
}

#[cfg(test)]
pub(crate) mod testkit;

#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;
