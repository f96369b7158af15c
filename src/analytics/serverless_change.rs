//! `serverless_change` (signal + count outlier): someone creates or changes serverless code,
//! its configuration or who may invoke it. ATT&CK T1648 Serverless Execution (a backdoored
//! function runs with its role's rights; a public one is an open door).
//!
//! Events: every catalogue entry tagged `serverless_change` — Lambda `CreateFunction`,
//! `UpdateFunctionCode`, `UpdateFunctionConfiguration`, `PublishLayerVersion`,
//! `AddPermission`, function URL configs; Azure Function / Web App writes, settings,
//! publishing profile, host runtime actions, Automation runbooks (write, draft, publish,
//! job start); GCP Cloud Functions and Cloud Run create / update / `SetIamPolicy`, Cloud
//! Run jobs.
//!
//! Method: the shared signal engine ([`super::signal`]) — one finding per (provider,
//! account, initiator, service, operation, resource) and UTC hour, graded by initiator
//! class and history ("first time" = no successful `serverless_change` operation by this
//! initiator in `history_days`) and by the request ([`weight`]):
//!
//! | request | weight |
//! |---|---|
//! | makes the function public: Lambda `AddPermission` with principal `*` and no source condition, a function URL with `authType` `NONE`, `SetIamPolicy` granting `allUsers` / `allAuthenticatedUsers` | severe: at least high, never suppressed |
//! | grants invoke rights to a principal (`AddPermission`, `SetIamPolicy`), attaches a layer from another account, changes the execution role, downloads the publishing profile | sensitive (+1) |
//! | a deployment to an existing function or app ([`super::signal::is_deploy`]: Lambda code / configuration updates, layer versions, Azure `Microsoft.Web/sites` writes, Cloud Functions `UpdateFunction`, Cloud Run `ReplaceService` / `UpdateService`) — what CI/CD and developers do all day: Panther's `AWS.Lambda.UpdateFunctionCode` / `UpdateFunctionConfiguration` are INFO without alerts, Elastic's Lambda created-or-updated rule a building block, Splunk's "AWS Lambda UpdateFunctionCode" a hunting search | deploy (−2): recorded, a person's first deploy low, otherwise info; it alerts through the rows above or the count outlier |
//! | anything else (a new function or service, runbook edits and runs, host-runtime actions, site extensions) | change |
//!
//! plus a **count outlier** ([`super::signal::outlier`]): an initiator's serverless changes
//! in its busiest window hour against its own hourly history (Poisson / negative
//! binomial, Šidák over window hours, Benjamini–Hochberg across initiators at `fdr_q`,
//! floors `min_count` and `min_ratio`) gives one more finding, medium (high for a person),
//! with the p-values. No test before the account has `min_history_days` (learning).
//!
//! Parameters (`[analytics.serverless_change]`): `enabled` (true), `history_days` (90),
//! `min_history_days` (7), `routine_min_days` (5), `fdr_q` (0.01), `min_count` (5 per
//! hour), `min_ratio` (3.0), `dispersion_alpha` (0.05), `max_evidence` (200).
//!
//! Known false positives: CI/CD deployments (automation: info, suppressed once routine);
//! developers deploying by hand (deploys: low the first time, info otherwise); a bulk
//! redeploy of many functions by hand (count outlier); public APIs that are public on
//! purpose (severe, high, every time the grant is written).
//!
//! Anchors: Stratus Red Team `aws.persistence.lambda-backdoor-function`,
//! `lambda-overwrite-code`, `lambda-layer-extension`; Panther
//! `AWS.Lambda.UpdateFunctionCode`, `AWS.Lambda.UpdateFunctionConfiguration`,
//! `AWS.Potential.Backdoor.Lambda`, `GCP.Cloud.Run.Service.Created`,
//! `GCP.Cloud.Run.Set.IAM.Policy`, `Azure.MonitorActivity.Automation.RunbookCreatedOrModified`,
//! `Automation.ServerlessExecution`; Elastic "AWS Lambda Function Policy Updated to Allow
//! Public Invocation".

use serde::Deserialize;

use super::signal::outlier::{hourly_outliers, OutlierParams};
use super::signal::{self, group_draft, group_hourly, ActorClass, Draft, Grade, Params, Profile, Row, Scan, Select, Weight};
use super::DetectContext;
use crate::findings::{Finding, Severity};
use crate::profiles::HOUR_US;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "serverless_change";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "serverless_change";

const METHOD: &str = "signal with initiator history and public-exposure check (Stratus lambda-backdoor-function / lambda-overwrite-code, Panther Lambda / Cloud Run / Automation rules; DESIGN.md).";
const METHOD_BURST: &str = "count outlier against the initiator's own hourly history (Poisson / negative binomial, Šidák, Benjamini–Hochberg; DESIGN.md 'Statistics').";

/// `[analytics.serverless_change]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerlessChangeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier changes. Default 90.
    pub history_days: u32,
    /// Days of account history required before "first time" or a count test. Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, operation) that make automation's
    /// call routine (suppressed); 0 turns suppression off. Default 5.
    pub routine_min_days: u32,
    /// Benjamini–Hochberg false discovery rate of the count test, per population
    /// (automation, others). Default 0.01.
    pub fdr_q: f64,
    /// Fewest changes in the busiest hour for a count finding. Default 5.
    pub min_count: u64,
    /// Observed must be at least this multiple of the expected hourly count. Default 3.0.
    pub min_ratio: f64,
    /// Significance of the over-dispersion test choosing negative binomial. Default 0.05.
    pub dispersion_alpha: f64,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for ServerlessChangeConfig {
    fn default() -> Self {
        ServerlessChangeConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            fdr_q: 0.01,
            min_count: 5,
            min_ratio: 3.0,
            dispersion_alpha: crate::scoring::DEFAULT_DISPERSION_ALPHA,
            max_evidence: 200,
        }
    }
}

impl ServerlessChangeConfig {
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

    /// Checks value ranges; errors name the key (`analytics.serverless_change.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)?;
        signal::validate_outlier(ID, &self.outlier())
    }
}

const PUBLIC_MEMBERS: [&str; 2] = ["allusers", "allauthenticatedusers"];

/// How much a serverless change matters, from its operation and request (module docs),
/// and why when it is more than a change.
pub fn weight(r: &Row) -> (Weight, Option<String>) {
    let op = r.operation.to_ascii_lowercase();
    let v = signal::verb(&r.operation);
    let req = signal::json::parse(r.request.as_deref());
    let field = |k: &str| req.as_ref().and_then(|q| signal::json::find(q, k)).map(|x| signal::json::text(&x));
    if v.starts_with("addpermission") {
        let principal = field("principal").unwrap_or_default();
        let conditioned = ["sourceArn", "sourceAccount", "principalOrgID"].iter().any(|k| field(k).is_some());
        if principal.trim() == "*" && !conditioned {
            return (Weight::Severe, Some("grants invoke rights to everyone (principal '*', no source condition)".into()));
        }
        let who = if principal.is_empty() { "a principal".to_string() } else { principal };
        return (Weight::Sensitive, Some(format!("grants invoke rights to {who}")));
    }
    if v.starts_with("createfunctionurlconfig") || v.starts_with("updatefunctionurlconfig") {
        if field("authType").is_some_and(|a| a.eq_ignore_ascii_case("none")) {
            return (Weight::Severe, Some("public function URL (authType NONE)".into()));
        }
        return (Weight::Sensitive, Some("function URL".into()));
    }
    if v.starts_with("setiampolicy") {
        let mut members = Vec::new();
        if let Some(q) = &req {
            let mut found = Vec::new();
            signal::json::find_all(q, "members", &mut found);
            found.iter().for_each(|m| signal::json::strings(m, &mut members));
        }
        if members.iter().any(|m| PUBLIC_MEMBERS.contains(&m.to_ascii_lowercase().as_str())) {
            return (Weight::Severe, Some("makes the service public (allUsers / allAuthenticatedUsers)".into()));
        }
        return (Weight::Sensitive, Some("changes who may invoke it".into()));
    }
    if op.ends_with("/publishxml/action") {
        return (Weight::Sensitive, Some("downloads the publishing profile (deployment credentials)".into()));
    }
    if v.starts_with("updatefunctionconfiguration") || v.starts_with("createfunction") {
        let mut layers = Vec::new();
        for text in [r.request.as_deref(), r.response.as_deref()] {
            if let Some(j) = signal::json::parse(text) {
                if let Some(l) = signal::json::find(&j, "layers") {
                    signal::json::strings(&l, &mut layers);
                }
            }
        }
        if let Some(foreign) = layers.iter().find(|a| {
            let acct = a.split(':').nth(4).unwrap_or("");
            !acct.is_empty() && acct != r.account
        }) {
            return (Weight::Sensitive, Some(format!("attaches a layer from another account ({foreign})")));
        }
        if v.starts_with("updatefunctionconfiguration") && field("role").is_some() {
            return (Weight::Sensitive, Some("changes the execution role".into()));
        }
    }
    if signal::is_deploy(&r.operation) {
        return (Weight::Deploy, None);
    }
    (Weight::Change, None)
}

/// Target of a row: `resource_uid`, else the request's function name.
fn target(r: &Row) -> Option<String> {
    if let Some(res) = &r.resource {
        return Some(res.clone());
    }
    let req = signal::json::parse(r.request.as_deref())?;
    ["functionName", "name", "service"].iter().find_map(|k| req.get(*k).map(signal::json::text))
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.serverless_change;
    let params = cfg.params();
    let scan = Scan::read(ctx, Select::Tags(&[TAG]), &[], cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let profile = Profile::new(&scan, |_| String::new());
    let mut findings = Vec::new();
    for group in group_hourly(&scan.window, target) {
        let (w, why) = group.rows.iter().map(|r| weight(r)).max_by_key(|(w, _)| *w).unwrap_or((Weight::Change, None));
        let mut d = group_draft(ID, &scan, &profile, &params, &group, "", "serverless change", w, METHOD);
        if let Some(why) = why {
            d.grade.reasons.push(why);
        }
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    let window_hours = (ctx.window.num_seconds() as f64 / 3600.0).ceil().max(1.0) as usize;
    for o in hourly_outliers(&scan, |_| true, &cfg.outlier(), window_hours) {
        let sev = if o.class == ActorClass::Person { Severity::High } else { Severity::Medium };
        let expected = o.model.mean();
        let grade = Grade {
            severity: sev,
            reasons: vec![format!(
                "{} serverless changes in one hour against {expected:.2} expected ({}, {} hours of history), p = {:.2e}, BH-adjusted {:.2e}",
                o.observed,
                o.model.name(),
                o.history_hours,
                o.p,
                o.p_adjusted
            )],
            suppressed: None,
        };
        let r0 = o.rows[0];
        let mut d = Draft::new(ID, o.rows.clone(), grade, METHOD_BURST);
        d.entries = o.rows.iter().flat_map(|r| scan.op(r).entries.iter()).collect();
        d.key = vec!["burst".into(), r0.provider.clone(), r0.account.clone(), r0.actor.clone().unwrap_or_default()];
        d.bucket = o.hour * HOUR_US;
        d.title = format!("{} serverless changes in one hour by {}", o.observed, r0.actor.as_deref().unwrap_or("?"));
        let mut ops: Vec<&str> = o.rows.iter().map(|r| r.operation.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        d.what = format!(
            "{} ({}) made {} serverless changes ({}) in the hour from {}.",
            r0.actor.as_deref().unwrap_or("?"),
            o.class.noun(),
            o.observed,
            ops.join(", "),
            signal::time(o.hour * HOUR_US).to_rfc3339()
        );
        d.history = format!("Its own hourly baseline expects {expected:.2} per hour.");
        d.baseline_days = scan.account_days(&r0.provider, &r0.account);
        d.expected = Some(expected);
        d.p_value = Some(o.p);
        d.p_value_adjusted = Some(o.p_adjusted);
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
