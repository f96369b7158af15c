//! `model_invocation_volume` (statistical + first use): generative-model inference far above
//! an account's or a principal's own history, or in an account that never invoked a model
//! before — the cost side of LLMjacking (ATT&CK T1496.004 Resource Hijacking: Cloud Service
//! Hijacking). Stolen keys are sold to reverse proxies that run thousands of prompts a day
//! on the victim's bill (Sysdig TRT, "LLMjacking", 2024).
//!
//! Events: catalogue tag `model_invoke` — AWS Bedrock `InvokeModel`,
//! `InvokeModelWithResponseStream`, `Converse`, `ConverseStream` (CloudTrail management
//! events), GCP Vertex AI `PredictionService.*` (Predict, GenerateContent,
//! StreamGenerateContent; Data Access audit logs). Model ids are read from the request
//! (`modelId`, `model`, `endpoint`) or `resource_uid`.
//!
//! Views per window (DESIGN.md "Statistics", engine [`super::volume`]):
//! 1. **First use in the account**: the account has ≥ `min_history_days` of events in the
//!    lake (any operation) and no model invocation in its history (up to
//!    `max_history_days`, default 90, so that a quarterly batch is not a first use), and
//!    invokes in the window — a finding by itself, whatever the volume (Stratus
//!    `aws.impact.bedrock-invoke-model` is one InvokeModel after enabling model access).
//! 2. **Volume**: invocations per hour of each principal (people and automation in
//!    separate families) and of each account, against its own history (seasonal
//!    [`SeasonalModel`](super::volume::SeasonalModel), Poisson or negative binomial), the most surprising window hour,
//!    Šidák over the window's hours, Benjamini–Hochberg per family, floors `min_count`,
//!    `min_ratio` × expected and `own_max_factor` × the entity's busiest history hour. An
//!    account-level finding is reported only when no principal of the account is (volume
//!    spread over many keys, or calls without a principal).
//! 3. **Learning**: an account with < `min_history_days` of events, or a principal with
//!    fewer in an account that already uses models and calling ≥ `min_count` in an hour,
//!    gets a low finding without a p-value.
//!
//! | situation | severity |
//! |---|---|
//! | first use in the account | medium |
//! | first use, by a principal with < `min_history_days` of history or in a region the account never used | high |
//! | volume significant (principal or account) | medium, high with a large excess (risk score) or a new region |
//! | learning (new account, or new principal ≥ `min_count` per hour) | low |
//!
//! Anchors: Stratus Red Team `aws.impact.bedrock-invoke-model`; Elastic "AWS Bedrock
//! Invocations without Guardrails Detected by a Single User Over a Session" and the
//! Bedrock ES|QL rule family (volume per user); Google CSA 4.01 "Unusually high API usage
//! by any user identity"; AWS Cost Anomaly Detection as the billing-side counterpart.
//!
//! Known false positives: a team's first Bedrock project (first use: medium, by design —
//! somebody should know), load tests and batch inference jobs (automation family; they
//! become history), a model launch day. Panther's Bedrock rules
//! (`AWS.BedrockModelInvocation.AbnormalTokenUsage`, `…GuardRailIntervened`) read Bedrock's
//! model-invocation log (token counts, guardrail results), a log format cloudsift does not
//! ingest: out of reach.

mod assess;
#[cfg(test)]
mod tests;

use serde::Deserialize;

use super::volume::SeasonalMode;
use super::DetectContext;
use crate::findings::Finding;
use crate::{Error, Result};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "model_invocation_volume";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "model_invoke";

/// `[analytics.model_invocation_volume]` in the pipeline TOML. Counts are invocations per hour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelInvocationVolumeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days of events an account (or principal) needs before first use or a p-value can
    /// be claimed. Default 7.
    pub min_history_days: u32,
    /// History read, in days: how far back "never invoked a model" looks. Default 90.
    pub max_history_days: u32,
    /// Benjamini–Hochberg false discovery rate per family. Default 0.01.
    pub fdr_q: f64,
    /// Floor on invocations in the scored hour (and for a new principal's learning
    /// finding). Default 50: a person chatting sends a prompt a minute at most.
    pub min_count: u64,
    /// Observed must be at least this multiple of the expectation. Default 3.0.
    pub min_ratio: f64,
    /// Observed must reach this multiple of the entity's busiest hour in its history
    /// (a batch job run at an odd hour is no burst). Default 2.0.
    pub own_max_factor: f64,
    /// Significance of the over-dispersion test. Default 0.05.
    pub dispersion_alpha: f64,
    /// `auto` or `flat` expectation. Default `auto`.
    pub seasonality: SeasonalMode,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for ModelInvocationVolumeConfig {
    fn default() -> Self {
        ModelInvocationVolumeConfig {
            enabled: true,
            min_history_days: 7,
            max_history_days: 90,
            fdr_q: 0.01,
            min_count: 50,
            min_ratio: 3.0,
            own_max_factor: 2.0,
            dispersion_alpha: crate::scoring::DEFAULT_DISPERSION_ALPHA,
            seasonality: SeasonalMode::Auto,
            max_evidence: 200,
        }
    }
}

impl ModelInvocationVolumeConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.model_invocation_volume.<key>`).
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
        for (k, v) in [("min_ratio", self.min_ratio), ("own_max_factor", self.own_max_factor)] {
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
    assess::run_with(ctx, &ctx.config.model_invocation_volume)
}
