//! `resource_hierarchy_change` (signal): an account, subscription, project or resource
//! group changes place in the organisation's hierarchy, or the hierarchy itself is
//! restructured. ATT&CK T1666 Modify Cloud Resource Hierarchy (T1485 Data Destruction
//! context for mass deletions).
//!
//! Events: every catalogue entry tagged `hierarchy_change` — AWS Organizations
//! `LeaveOrganization`, `RemoveAccountFromOrganization`, `MoveAccount`, OU and account
//! create/delete, `InviteAccountToOrganization`, `AcceptHandshake`, `DetachPolicy`,
//! `DisablePolicyType`; Azure management groups (create, delete, move subscriptions),
//! subscriptions (create alias, cancel, rename, `changeTenant`), resource groups (create,
//! delete, move resources); GCP Resource Manager project and folder create / move /
//! delete.
//!
//! Method: the shared signal engine ([`super::signal`]): one finding per (provider,
//! account, initiator, service, operation, resource) and UTC hour, graded by the
//! initiator's class and history ("first time" = no successful `hierarchy_change`
//! operation by this initiator in `history_days`, once the account has
//! `min_history_days` in the lake) and by the operation's weight ([`weight`]):
//!
//! | operation | weight |
//! |---|---|
//! | `LeaveOrganization`, `RemoveAccountFromOrganization`, subscription `changeTenant` or `cancel` | severe: at least high, failed attempts medium |
//! | deletions, moves (`MoveAccount`, `MoveProject`, `MoveFolder`, subscription into a management group, `moveResources`), guardrail removal (`DetachPolicy`, `DisablePolicyType`), joining another organisation (`AcceptHandshake`, `InviteAccountToOrganization`) | sensitive (+1) |
//! | creations (resource group `write`, `CreateProject`, `CreateFolder`, `CreateOrganizationalUnit`, `CreateAccount`, subscription alias) | context (−2) |
//! | anything else (rename, update) | change |
//!
//! so a person deleting a resource group during onboarding is high, a person leaving the
//! organisation for the first time critical, a Terraform role creating its daily resource
//! group info and suppressed as routine.
//!
//! Mass deletion: when one initiator deletes ≥ `mass_delete_min` distinct hierarchy
//! resources (resource groups, projects, folders, management groups, OUs, accounts)
//! within `mass_delete_minutes`, each of those deletion findings is raised one level, to
//! at least high, and carries T1485 (Elastic "Azure Resource Group Deletion", Panther
//! `Azure.MonitorActivity.ResourceGroup.Deleted` alert per deletion; the burst is what
//! separates an attacker's clean-up or sabotage from one decommissioning). Distinct
//! resources, not events: Azure logs a deletion as Start, Accept and Success records.
//!
//! Parameters (`[analytics.resource_hierarchy_change]`): `enabled` (true),
//! `history_days` (90), `min_history_days` (7), `routine_min_days` (5), `mass_delete_min`
//! (3), `mass_delete_minutes` (60), `max_evidence` (200).
//!
//! Known false positives: landing-zone automation creating and deleting sandbox
//! resource groups or projects (automation: info / low, suppressed once routine); a
//! platform team's one-off re-organisation (sensitive moves by people, medium–high);
//! account vending that moves new accounts between OUs.
//!
//! Anchors: Stratus Red Team `aws.defense-evasion.organizations-leave` ("Attempt to Leave
//! the AWS Organization", denied on purpose); Panther `AWS.CloudTrail.AttemptToLeaveOrg`
//! (T1666, fires on failed attempts too), `Azure.MonitorActivity.ResourceGroup.Deleted`;
//! Elastic "Azure Resource Group Deletion"; Microsoft Sentinel "Mass Cloud resource
//! deletions Time Series Anomaly" (deletions per caller, T1485); ATT&CK T1666.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use super::signal::{self, group_draft, group_hourly, Params, Profile, Row, Scan, Select, Weight};
use super::DetectContext;
use crate::findings::{Finding, Severity};
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "resource_hierarchy_change";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "hierarchy_change";

const METHOD: &str = "signal with initiator history and mass-deletion burst (Stratus organizations-leave, Panther AttemptToLeaveOrg / ResourceGroup.Deleted, Elastic 'Azure Resource Group Deletion'; DESIGN.md).";

/// `[analytics.resource_hierarchy_change]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceHierarchyChangeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier hierarchy changes.
    /// Default 90 (a quarter: re-organisations are rare).
    pub history_days: u32,
    /// Days of account history required before "first time" can raise a finding.
    /// Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, operation) that make automation's
    /// call routine (suppressed); 0 turns suppression off. Default 5.
    pub routine_min_days: u32,
    /// Distinct resources one initiator must delete within `mass_delete_minutes` for a
    /// mass deletion. Default 3 (e.g. three resource groups in an hour).
    pub mass_delete_min: usize,
    /// Length of the mass-deletion window, minutes. Default 60.
    pub mass_delete_minutes: u32,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for ResourceHierarchyChangeConfig {
    fn default() -> Self {
        ResourceHierarchyChangeConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            mass_delete_min: 3,
            mass_delete_minutes: 60,
            max_evidence: 200,
        }
    }
}

impl ResourceHierarchyChangeConfig {
    fn params(&self) -> Params {
        Params {
            history_days: self.history_days,
            min_history_days: self.min_history_days,
            routine_min_days: self.routine_min_days,
            max_evidence: self.max_evidence,
        }
    }

    /// Checks value ranges; errors name the key (`analytics.resource_hierarchy_change.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)?;
        if self.mass_delete_min < 2 {
            return Err(crate::Error::config(
                format!("analytics.{ID}.mass_delete_min"),
                format!("must be ≥ 2, got {}", self.mass_delete_min),
            ));
        }
        if self.mass_delete_minutes == 0 {
            return Err(crate::Error::config(format!("analytics.{ID}.mass_delete_minutes"), "must be > 0"));
        }
        Ok(())
    }
}

/// How much a hierarchy operation matters by itself (see the module docs' table).
pub fn weight(operation: &str) -> Weight {
    let op = operation.to_ascii_lowercase();
    let v = signal::verb(operation);
    let severe = ["leaveorganization", "removeaccountfromorganization"].iter().any(|x| v.starts_with(x))
        || op.ends_with("/changetenant/action")
        || op == "microsoft.subscription/cancel/action";
    if severe {
        return Weight::Severe;
    }
    let sensitive = signal::is_deletion(operation)
        || v.starts_with("move")
        || op.ends_with("/moveresources/action")
        || op == "microsoft.management/managementgroups/subscriptions/write"
        || ["detachpolicy", "disablepolicytype", "accepthandshake", "inviteaccounttoorganization"].contains(&v.as_str());
    if sensitive {
        return Weight::Sensitive;
    }
    let create = v.starts_with("create")
        || op == "microsoft.resources/subscriptions/resourcegroups/write"
        || op == "microsoft.subscription/aliases/write";
    if create {
        Weight::Context
    } else {
        Weight::Change
    }
}

/// Target of a row: `resource_uid`, else the request's account / OU / project id.
fn target(r: &Row) -> Option<String> {
    if let Some(res) = &r.resource {
        return Some(res.clone());
    }
    let req = signal::json::parse(r.request.as_deref())?;
    ["accountId", "organizationalUnitId", "policyId", "projectId", "name"]
        .iter()
        .find_map(|k| req.get(*k).map(signal::json::text))
}

/// Distinct deleted resources per deletion row of the window (keyed by its address in
/// `scan.window`): the largest count
/// of one initiator's distinct deletion targets in any `minutes` window holding that row,
/// with those targets.
fn deletion_bursts(scan: &Scan, minutes: u32) -> HashMap<*const Row, BTreeSet<String>> {
    let span = i64::from(minutes) * 60_000_000;
    type Who = (String, String, String);
    // (time, target, the window row when it is one)
    type Deletion = (i64, String, Option<*const Row>);
    let mut by_actor: BTreeMap<Who, Vec<Deletion>> = BTreeMap::new();
    let lead_in = scan.window_start - span;
    let history = scan.history.iter().filter(|r| r.t >= lead_in).map(|r| (r, None));
    let window = scan.window.iter().map(|r| (r, Some(r as *const Row)));
    for (r, idx) in history.chain(window) {
        if r.failed || !signal::is_deletion(&r.operation) {
            continue;
        }
        let (Some(actor), Some(t)) = (r.actor.clone(), target(r)) else { continue };
        by_actor.entry((r.provider.clone(), r.account.clone(), actor)).or_default().push((r.t, t, idx));
    }
    let mut out: HashMap<*const Row, BTreeSet<String>> = HashMap::new();
    for rows in by_actor.values() {
        for (i, &(start, ..)) in rows.iter().enumerate() {
            let inside: Vec<&Deletion> =
                rows[i..].iter().take_while(|(t, ..)| *t <= start + span).collect();
            let targets: BTreeSet<String> = inside.iter().map(|(_, t, _)| t.clone()).collect();
            for (_, _, idx) in inside {
                if let Some(idx) = idx {
                    let best = out.entry(*idx).or_default();
                    if targets.len() > best.len() {
                        *best = targets.clone();
                    }
                }
            }
        }
    }
    out
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.resource_hierarchy_change;
    let params = cfg.params();
    let scan = Scan::read(ctx, Select::Tags(&[TAG]), &[], cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let profile = Profile::new(&scan, |_| String::new());
    let bursts = deletion_bursts(&scan, cfg.mass_delete_minutes);
    let mut findings = Vec::new();
    for group in group_hourly(&scan.window, target) {
        let op = &group.head().operation;
        let w = weight(op);
        let mut d = group_draft(ID, &scan, &profile, &params, &group, "", "hierarchy change", w, METHOD);
        let burst = group
            .rows
            .iter()
            .filter_map(|r| bursts.get(&(*r as *const Row)))
            .max_by_key(|t| t.len());
        if let Some(targets) = burst.filter(|t| t.len() >= cfg.mass_delete_min) {
            let floor = if d.grade.severity >= Severity::High { Severity::Critical } else { Severity::High };
            let shown: Vec<&str> = targets.iter().take(6).map(String::as_str).collect();
            d.grade.at_least(
                floor,
                format!(
                    "mass deletion: one of {} distinct resources this initiator deleted within {} minutes ({}{})",
                    targets.len(),
                    cfg.mass_delete_minutes,
                    shown.join(", "),
                    if targets.len() > shown.len() { ", …" } else { "" }
                ),
            );
            d.extra_techniques.push("T1485");
        }
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
