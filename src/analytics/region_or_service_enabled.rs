//! `region_or_service_enabled` (signal + first-seen): a region, a service or access to AI
//! models is switched on for an account. ATT&CK T1578.005 Modify Cloud Compute
//! Configurations (opt-in regions nobody watches, T1535), T1496.004 Cloud Service
//! Hijacking (model access before LLMjacking).
//!
//! Events: every catalogue entry tagged `region_enable` or `service_enable` — AWS
//! `EnableRegion`, Bedrock `PutUseCaseForModelAccess` / `CreateFoundationModelAgreement` /
//! `PutFoundationModelEntitlement`; Azure resource-provider and preview-feature
//! registration, Azure AI / OpenAI account and deployment creation; GCP `EnableService` /
//! `BatchEnableServices`.
//!
//! What was enabled ([`enabled`]): the region (`RegionName`), the model (`modelId`), the
//! resource-provider namespace or feature (from the operation or `resource_uid`), or the
//! API (`…/services/<api>`, `serviceIds`). Findings group by (provider, account, initiator,
//! operation, that target) and UTC hour.
//!
//! Method: the shared signal engine ([`super::signal`]; "first time" = no successful
//! `region_enable` / `service_enable` operation by this initiator in `history_days`) with:
//!
//! | condition | effect |
//! |---|---|
//! | a region, or an AI / model service (`sensitive_services`) | sensitive (+1) |
//! | anything else enabled | change |
//! | **first-seen for the account**: no event of the account in that region / of that service before the window, and no earlier enablement of the same target, within `history_days`, the account having ≥ `min_history_days` | +1 level |
//!
//! Parameters (`[analytics.region_or_service_enabled]`): `enabled` (true),
//! `history_days` (90), `min_history_days` (7), `routine_min_days` (5),
//! `sensitive_services` (Bedrock, Vertex AI / Gemini, legacy ML Engine, Azure Cognitive
//! Services / OpenAI / Machine Learning, SageMaker — matched as lower-case substrings of
//! the target), `max_evidence` (200).
//!
//! Known false positives: project factories enabling a fixed list of APIs on every new
//! project (automation: info; suppressed once routine); Azure registering resource
//! providers automatically on first deployment (Microsoft's own service principals:
//! automation); data-science teams enabling model access on purpose (first time: high —
//! confirm with the team).
//!
//! Anchors: Sigma `aws_cloudtrail_enable_region.yml`; Panther `AWS.CloudTrail.EnableRegion`;
//! Stratus Red Team `aws.impact.bedrock-invoke-model` (model-access calls before
//! InvokeModel); Sysdig TRT "LLMjacking" (2024: model access enabled on stolen keys);
//! ATT&CK T1496.004 and T1535.

use serde::Deserialize;

use super::signal::{self, group_draft, group_hourly, Params, Profile, Row, Scan, Select, Weight};
use super::DetectContext;
use crate::findings::Finding;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "region_or_service_enabled";
/// Catalogue tags selecting the operations.
pub const TAGS: [&str; 2] = ["region_enable", "service_enable"];

const METHOD: &str = "signal with initiator history and first-seen region / service for the account (Sigma aws_cloudtrail_enable_region, Panther EnableRegion, Stratus bedrock-invoke-model; DESIGN.md).";

/// `[analytics.region_or_service_enabled]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegionOrServiceEnabledConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for earlier enablements and for the account's use
    /// of the region or service. Default 90.
    pub history_days: u32,
    /// Days of account history required before "first time" / "first-seen" raise a
    /// finding. Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, operation) that make automation's
    /// call routine (suppressed); 0 turns suppression off. Default 5.
    pub routine_min_days: u32,
    /// Lower-case substrings of an enabled target that make it sensitive (AI / model
    /// services). Default: `bedrock`, `aiplatform.googleapis.com`,
    /// `generativelanguage.googleapis.com`, `ml.googleapis.com`,
    /// `microsoft.cognitiveservices`, `microsoft.machinelearningservices`, `openai`,
    /// `sagemaker`, `anthropic`.
    pub sensitive_services: Vec<String>,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for RegionOrServiceEnabledConfig {
    fn default() -> Self {
        RegionOrServiceEnabledConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            sensitive_services: [
                "bedrock",
                "aiplatform.googleapis.com",
                "generativelanguage.googleapis.com",
                "ml.googleapis.com",
                "microsoft.cognitiveservices",
                "microsoft.machinelearningservices",
                "openai",
                "sagemaker",
                "anthropic",
            ]
            .map(String::from)
            .to_vec(),
            max_evidence: 200,
        }
    }
}

impl RegionOrServiceEnabledConfig {
    fn params(&self) -> Params {
        Params {
            history_days: self.history_days,
            min_history_days: self.min_history_days,
            routine_min_days: self.routine_min_days,
            max_evidence: self.max_evidence,
        }
    }

    /// Checks value ranges; errors name the key (`analytics.region_or_service_enabled.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)?;
        if self.sensitive_services.iter().any(|s| s.trim().is_empty()) {
            return Err(crate::Error::config(format!("analytics.{ID}.sensitive_services"), "entries must not be empty"));
        }
        Ok(())
    }
}

/// What an enablement switches on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Enabled {
    /// An opt-in region.
    Region(String),
    /// A service / API / resource provider (its name as the lake's `service` column
    /// writes it where possible), or a preview feature `Namespace/feature`.
    Service(String),
    /// A foundation model or model-access form (`modelId`, or the operation).
    Model(String),
}

impl Enabled {
    /// The target text.
    pub fn name(&self) -> &str {
        match self {
            Enabled::Region(s) | Enabled::Service(s) | Enabled::Model(s) => s,
        }
    }
}

/// What a row enables (module docs); `None` when the record does not say.
pub fn enabled(r: &Row) -> Option<Enabled> {
    let req = signal::json::parse(r.request.as_deref());
    let field = |k: &str| req.as_ref().and_then(|q| signal::json::find(q, k)).map(|v| signal::json::text(&v));
    let op = r.operation.to_ascii_lowercase();
    let v = signal::verb(&r.operation);
    if v == "enableregion" {
        return field("RegionName").or_else(|| field("regionName")).map(Enabled::Region);
    }
    if r.service.eq_ignore_ascii_case("bedrock.amazonaws.com") {
        return Some(Enabled::Model(field("modelId").unwrap_or_else(|| format!("bedrock:{}", r.operation))));
    }
    if op.ends_with("/register/action") || op.ends_with("/subscriptionfeatureregistrations/write") {
        // `…/providers/Microsoft.Features/providers/<ns>/features/<feature>` or
        // `…/providers/<ns>`, else the namespace the operation is under.
        let res = r.resource.as_deref().unwrap_or("");
        let parts: Vec<&str> = res.split('/').collect();
        if let Some(i) = parts.iter().position(|p| p.eq_ignore_ascii_case("features")) {
            if i >= 1 && i + 1 < parts.len() {
                return Some(Enabled::Service(format!("{}/{}", parts[i - 1], parts[i + 1])));
            }
        }
        if let Some(i) = parts.iter().rposition(|p| p.eq_ignore_ascii_case("providers")) {
            if i + 1 < parts.len() && !parts[i + 1].eq_ignore_ascii_case("Microsoft.Features") {
                return Some(Enabled::Service(parts[i + 1].to_string()));
            }
        }
        let ns = r.operation.split('/').next().unwrap_or("");
        if !ns.eq_ignore_ascii_case("Microsoft.Resources") && !ns.eq_ignore_ascii_case("Microsoft.Features") {
            return Some(Enabled::Service(ns.to_string()));
        }
        return None;
    }
    if op.starts_with("microsoft.cognitiveservices/") {
        return Some(Enabled::Model(r.resource.clone().unwrap_or_else(|| "Microsoft.CognitiveServices".into())));
    }
    if v.contains("enableservice") {
        if let Some(res) = r.resource.as_deref().and_then(|x| x.rsplit("/services/").next()).filter(|x| !x.contains('/')) {
            return Some(Enabled::Service(res.to_string()));
        }
        let mut ids = Vec::new();
        if let Some(q) = &req {
            if let Some(v) = signal::json::find(q, "serviceIds") {
                signal::json::strings(&v, &mut ids);
            }
        }
        if !ids.is_empty() {
            ids.sort();
            return Some(Enabled::Service(ids.join(",")));
        }
    }
    r.resource.clone().map(Enabled::Service)
}

fn is_sensitive(target: &Enabled, cfg: &RegionOrServiceEnabledConfig) -> bool {
    let name = target.name().to_ascii_lowercase();
    matches!(target, Enabled::Region(_) | Enabled::Model(_))
        || cfg.sensitive_services.iter().any(|s| name.contains(&s.to_ascii_lowercase()))
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.region_or_service_enabled;
    let params = cfg.params();
    let scan = Scan::read(ctx, Select::Tags(&TAGS), &[], cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let profile = Profile::new(&scan, |_| String::new());
    let mut findings = Vec::new();
    for group in group_hourly(&scan.window, |r| enabled(r).map(|e| e.name().to_string())) {
        let r0 = group.head();
        let target = enabled(r0);
        let w = match &target {
            Some(t) if is_sensitive(t, cfg) => Weight::Sensitive,
            _ => Weight::Change,
        };
        let mut d = group_draft(ID, &scan, &profile, &params, &group, "", "region / service enablement", w, METHOD);
        let Some(t) = target else {
            findings.push(d.finish(ctx, cfg.max_evidence));
            continue;
        };
        let days = scan.account_days(&r0.provider, &r0.account);
        // Earlier enablement of the same target (history rows carry no request, so only
        // targets named by resource or operation are recognised there).
        let enabled_before = scan.history.iter().any(|h| {
            h.account == r0.account && !h.failed && enabled(h).is_some_and(|e| e.name().eq_ignore_ascii_case(t.name()))
        });
        let used_before = match &t {
            Enabled::Region(region) => scan.region_seen_before(&r0.provider, &r0.account, region),
            Enabled::Service(svc) => scan.service_seen_before(&r0.provider, &r0.account, svc),
            Enabled::Model(_) => false,
        };
        if days >= cfg.min_history_days && !enabled_before && !used_before && !group.all_failed() {
            let what = match &t {
                Enabled::Region(_) => "region",
                Enabled::Service(_) => "service",
                Enabled::Model(_) => "model",
            };
            d.grade.raise(1, format!("first-seen {what} {} for the account in {days} days (+1)", t.name()));
        }
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
