//! `event_trigger_created` (signal): someone creates or changes something that runs code
//! when an event or a schedule fires. ATT&CK T1546 Event Triggered Execution (T1053
//! Scheduled Task/Job for schedules).
//!
//! Events: every catalogue entry tagged `event_trigger` — EventBridge `PutRule` /
//! `PutTargets`, Lambda `CreateEventSourceMapping` / `UpdateEventSourceMapping`; Azure
//! Event Grid subscriptions, Logic App workflows, Automation webhooks, schedules and job
//! schedules; GCP Eventarc triggers, Cloud Scheduler jobs, Pub/Sub subscriptions and push
//! configurations.
//!
//! Method: the shared signal engine ([`super::signal`]) — one finding per (provider,
//! account, initiator, service, operation, resource) and UTC hour, graded by initiator
//! class and history ("first time" = no successful `event_trigger` operation by this
//! initiator in `history_days`) — with the operation's weight from its request
//! ([`weight`]):
//!
//! | request | weight |
//! |---|---|
//! | delivers outside the account: an EventBridge target ARN of another account, a Pub/Sub push endpoint, an Event Grid webhook endpoint, an Automation webhook (a URL that starts a runbook) | sensitive (+1) |
//! | an EventBridge rule whose pattern listens to identity events (`aws.iam`, `aws.sts`, `aws.signin`): the "new user → backdoor" persistence | sensitive (+1) |
//! | anything else | change |
//!
//! Severity is the engine's table ([`super::signal`]): e.g. a person creating a trigger
//! for the first time (account history ≥ `min_history_days`) is high, critical when it
//! is sensitive; a person while the account is learned medium (high); a shared role low
//! (medium) while learning; automation info (low) while learning and info, suppressed,
//! once routine (brackets: sensitive). Every attempt failed: low.
//!
//! Parameters (`[analytics.event_trigger_created]`): `enabled` (true), `history_days`
//! (90), `min_history_days` (7), `routine_min_days` (5), `max_evidence` (200).
//!
//! Known false positives: deployment pipelines that re-apply rules and schedules (routine
//! automation, suppressed); scheduled-job owners editing their jobs (repeat: low);
//! SaaS integrations that register webhooks (sensitive: medium–high once).
//!
//! Anchors: ATT&CK T1546 detection (DS0025 Cloud Service Modification); Panther
//! `Azure.MonitorActivity.Automation.WebhookCreated` / `ScheduleCreated` (their labelled
//! tests are a regression set); Elastic "AWS EventBridge
//! Rule Disabled or Deleted" (the same service, the inverse change).

use serde::Deserialize;

use super::signal::{self, group_draft, group_hourly, Params, Profile, Row, Scan, Select, Weight};
use super::DetectContext;
use crate::findings::Finding;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "event_trigger_created";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "event_trigger";

const METHOD: &str = "signal with initiator history (ATT&CK T1546; Panther Automation.WebhookCreated / ScheduleCreated; DESIGN.md).";

/// `[analytics.event_trigger_created]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventTriggerCreatedConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier trigger changes.
    /// Default 90.
    pub history_days: u32,
    /// Days of account history required before "first time" can raise a finding.
    /// Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, operation) that make automation's
    /// call routine (suppressed); 0 turns suppression off. Default 5.
    pub routine_min_days: u32,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for EventTriggerCreatedConfig {
    fn default() -> Self {
        EventTriggerCreatedConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            max_evidence: 200,
        }
    }
}

impl EventTriggerCreatedConfig {
    fn params(&self) -> Params {
        Params {
            history_days: self.history_days,
            min_history_days: self.min_history_days,
            routine_min_days: self.routine_min_days,
            max_evidence: self.max_evidence,
        }
    }

    /// Checks value ranges; errors name the key (`analytics.event_trigger_created.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)
    }
}

/// How much a trigger change matters, from its operation and request (module docs).
/// Returns the weight and, when sensitive, why.
pub fn weight(r: &Row) -> (Weight, Option<String>) {
    let op = r.operation.to_ascii_lowercase();
    if op.ends_with("/webhooks/write") || op.ends_with("/webhooks/action") {
        return (Weight::Sensitive, Some("an Automation webhook: a URL that starts a runbook".into()));
    }
    let Some(req) = signal::json::parse(r.request.as_deref()) else {
        return (Weight::Change, None);
    };
    let mut arns = Vec::new();
    signal::json::find_all(&req, "arn", &mut arns);
    for a in arns.iter().map(signal::json::text) {
        let account = a.split(':').nth(4).unwrap_or("");
        if !account.is_empty() && account != r.account && account.chars().all(|c| c.is_ascii_digit()) {
            return (Weight::Sensitive, Some(format!("target in another account ({a})")));
        }
    }
    if let Some(endpoint) = signal::json::find(&req, "pushEndpoint") {
        return (Weight::Sensitive, Some(format!("pushes messages to {}", signal::json::text(&endpoint))));
    }
    if let Some(t) = signal::json::find(&req, "endpointType").map(|v| signal::json::text(&v)) {
        if t.eq_ignore_ascii_case("webhook") {
            return (Weight::Sensitive, Some("delivers events to a webhook".into()));
        }
    }
    if let Some(pattern) = signal::json::find(&req, "eventPattern").map(|v| signal::json::text(&v)) {
        let p = pattern.to_ascii_lowercase();
        if ["aws.iam", "aws.sts", "aws.signin", "iam.amazonaws.com"].iter().any(|s| p.contains(s)) {
            return (Weight::Sensitive, Some("the rule fires on identity events".into()));
        }
    }
    (Weight::Change, None)
}

/// Target of a row: `resource_uid`, else the request's rule / trigger / job name.
fn target(r: &Row) -> Option<String> {
    if let Some(res) = &r.resource {
        return Some(res.clone());
    }
    let req = signal::json::parse(r.request.as_deref())?;
    ["rule", "name", "Name", "functionName", "uUID", "subscription"]
        .iter()
        .find_map(|k| req.get(*k).map(signal::json::text))
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.event_trigger_created;
    let params = cfg.params();
    let scan = Scan::read(ctx, Select::Tags(&[TAG]), &[], cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let profile = Profile::new(&scan, |_| String::new());
    let mut findings = Vec::new();
    for group in group_hourly(&scan.window, target) {
        let weighed: Vec<(Weight, Option<String>)> = group.rows.iter().map(|r| weight(r)).collect();
        let (w, why) = weighed.into_iter().max_by_key(|(w, _)| *w).unwrap_or((Weight::Change, None));
        let mut d = group_draft(ID, &scan, &profile, &params, &group, "", "event-trigger change", w, METHOD);
        if let Some(why) = why {
            d.grade.reasons.push(why);
        }
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
