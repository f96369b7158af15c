//! `secret_access_volume` (statistical): a principal reads far more secrets in an hour than
//! its own history predicts (ATT&CK T1555.006 Cloud Secrets Management Stores; catalogue
//! tag `secret_read`): AWS Secrets Manager GetSecretValue / BatchGetSecretValue, SSM
//! parameters with decryption, EC2 GetPasswordData; Azure Key Vault data-plane
//! `SecretGet` / `KeyGet` / `CertificateGet` / backups (resource logs, service
//! `Microsoft.KeyVault`) and the Activity log's `…/secrets/getSecret/action`, storage
//! `listKeys`; GCP Secret Manager `AccessSecretVersion` and IAM credentials token minting.
//!
//! Method (the shared engine of [`super::volume`], DESIGN.md "Statistics"):
//! 1. Entity = (provider, principal `actor_uid`). Hourly counts of `secret_read` events over
//!    its own history: every hour from max(first time the principal appears in the lake,
//!    window start − `max_history_days`) to the window start, zeros included.
//! 2. Null model fitted to that history with one flat rate: Poisson, or negative binomial
//!    when Fisher's index-of-dispersion test rejects at `dispersion_alpha`.
//! 3. The busiest hour of the window is scored with the upper tail P(X ≥ observed), then
//!    Šidák-adjusted for having picked the busiest of H window hours.
//! 4. Benjamini & Hochberg (1995) across all principals tested in the run, separately for
//!    automation and people ([`volume::population_of`]): a fleet of busy service accounts
//!    must not set the bar for humans, nor the reverse.
//! 5. Flag when the adjusted p ≤ `fdr_q` **and** observed ≥ `min_count` **and** observed ≥
//!    `min_ratio` × expected, so that 3 reads against 0.1 expected (p ≈ 2e-4) is not a finding.
//!
//! Principals with less than `min_history_days` of history get no p-value: when they read
//! at least `new_principal_min_count` secrets in one hour, at least
//! `new_principal_min_secrets` of them distinct (when the log names them), they get a
//! "first-seen / learning" finding instead (medium), never a p-value computed from
//! nothing. The distinct floor keeps a new administrator re-reading a handful of
//! configuration parameters in the console out (seen on the generated organisation at
//! full scale); a harvest reads many different secrets.
//!
//! | situation | severity |
//! |---|---|
//! | flagged against own history | medium or high (risk score, [`scoring::risk_score`]) |
//! | learning principal reading ≥ `new_principal_min_count` (≥ `new_principal_min_secrets` distinct) in an hour | medium |
//! | the same, when it already read ≥ half as many in one earlier hour (onboarding: the lake is new, not the habit) | low |
//!
//! Secrets are named from `resource_uid` (the normalisers put the Key Vault item URL, the
//! ARM id, the Secret Manager `resourceName` there) or the CloudTrail request, without the
//! version: `https://v.vault.azure.net/secrets/db/8f2e…` and `…/secrets/db/abc` are one
//! secret, as are `projects/p/secrets/s/versions/3` and `…/versions/latest` ([`secret_key`]).
//!
//! A single read is never a finding: the per-event rules that fire on one Key Vault read
//! (Panther `Azure.MonitorActivity.KeyVault.SecretAccessedOrRecovered`, `…CertificateAccessed`,
//! `…KeyAccessed.Recovered`, `Azure.MonitorActivity.StorageAccount.KeysListed`) and Panther's
//! threshold rule `AWS.SecretsManager.RetrieveSecrets` on its one-event fixture are out of
//! reach of a volume method; their events are secret reads here and count toward a burst
//! (see the tests).
//!
//! Detections this generalises: Sigma `aws_secretsmanager_mass_secret_retrieval.yml`,
//! Elastic "AWS Secrets Manager Rapid Secrets Retrieval" and "Azure Key Vault Excessive
//! Secret or Key Retrieved", Microsoft Sentinel "Mass secret retrieval from Azure Key
//! Vault", Stratus Red Team `aws.credential-access.secretsmanager-retrieve-secrets` and
//! `aws.credential-access.ssm-retrieve-securestring-parameters`.
//!
//! Known false positives: a deployment or rotation job reading every secret (automation:
//! its own family and history), a person's first day on a secrets-heavy task (learning).

mod describe;
#[cfg(test)]
mod providers;
#[cfg(test)]
mod real;
#[cfg(test)]
mod tests;


use chrono::Duration;
use serde::Deserialize;

use super::volume::{self, Evidence, Floors, Population, Row, SeasonalModel, Seasonality, Selection};
use super::DetectContext;
use crate::findings::{Finding, Severity};
use crate::profiles::HOUR_US;
use crate::schema as s;
use crate::scoring;
use crate::Result;

pub use describe::{secret_key, secrets_of};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "secret_access_volume";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "secret_read";

/// `[analytics.secret_access_volume]` in the pipeline TOML. Counts are events per hour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretAccessVolumeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days of a principal's own history required before any p-value. Default 7 (one
    /// full weekly cycle).
    pub min_history_days: u32,
    /// Longest history used for the baseline, in days. Default 28 (four weekly cycles;
    /// older behaviour says little about today's).
    pub max_history_days: u32,
    /// Benjamini–Hochberg false discovery rate per population. Default 0.01.
    pub fdr_q: f64,
    /// Absolute floor: fewer reads than this in the busiest hour are never flagged.
    /// Default 10 events per hour.
    pub min_count: u64,
    /// Relative floor: observed must be at least this multiple of the expected hourly
    /// count. Default 3.0.
    pub min_ratio: f64,
    /// A principal without enough history is reported ("first-seen / learning") when it
    /// reads at least this many secrets in one hour. Default 20 events per hour.
    pub new_principal_min_count: u64,
    /// … of which at least this many distinct secrets, when the records name them.
    /// Default 10.
    pub new_principal_min_secrets: usize,
    /// Significance of the over-dispersion test choosing negative binomial over Poisson.
    /// Default 0.05.
    pub dispersion_alpha: f64,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for SecretAccessVolumeConfig {
    fn default() -> Self {
        SecretAccessVolumeConfig {
            enabled: true,
            min_history_days: 7,
            max_history_days: 28,
            fdr_q: 0.01,
            min_count: 10,
            min_ratio: 3.0,
            new_principal_min_count: 20,
            new_principal_min_secrets: 10,
            dispersion_alpha: scoring::DEFAULT_DISPERSION_ALPHA,
            max_evidence: 200,
        }
    }
}

/// A principal that was tested (enough history).
struct Tested<'a> {
    key: &'a (String, String),
    population: Population,
    hour: i64,
    observed: u64,
    model: SeasonalModel,
    z: Option<f64>,
    p: f64,
}

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// Errors: [`crate::Error::Lake`] / [`crate::Error::Io`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.secret_access_volume;
    let Some(sel) = Selection::load(ctx, TAG, cfg.max_history_days, Duration::zero())? else {
        return Ok(Vec::new());
    };
    let rows = sel.window_rows(ctx.lake_root)?;
    let reads = volume::group_rows(&rows, |r| Some((r.provider.clone(), r.actor.clone()?)));
    if reads.is_empty() {
        return Ok(Vec::new());
    }
    let first_seen = sel.first_seen(ctx.lake_root, s::ACTOR_UID)?;
    let history = sel.tagged_hourly(ctx.lake_root, sel.lookback_start, sel.window_start, Some(polars::prelude::col(s::ACTOR_UID).is_not_null()), &[s::PROVIDER, s::ACTOR_UID], &[])?;
    let ws_hour = sel.window_start.timestamp_micros().div_euclid(HOUR_US);
    let lookback_hour = sel.lookback_start.timestamp_micros().div_euclid(HOUR_US);
    let window_hours = volume::window_hours(ctx.window);

    let mut tested = Vec::new();
    let mut findings = Vec::new();
    for (key, rs) in &reads {
        let (_, actor) = key;
        let counts = volume::per_hour(rs.iter().copied());
        let population = volume::population_of(actor, rs.iter().map(|r| r.actor_type.as_deref()), rs.iter().map(|r| r.user_agent.as_deref()));
        let (start, history_hours) = volume::history_span(first_seen.get(actor).copied(), lookback_hour, ws_hour);
        if history_hours < cfg.min_history_days as usize * 24 {
            // Busiest hour; ties go to the earliest.
            let (&hour, &observed) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).expect("non-empty");
            let named = describe::distinct_secrets(rs.iter().copied().filter(|r| r.hour() == hour));
            if observed >= cfg.new_principal_min_count && (named == 0 || named >= cfg.new_principal_min_secrets) {
                let earlier_max = history.get(&vec![key.0.clone(), actor.clone()]).and_then(|h| h.values().map(|a| a.count).max()).unwrap_or(0);
                findings.push(finding(ctx, &sel, key, rs, hour, observed, Err(earlier_max), history_hours, population));
            }
            continue;
        }
        let hist = volume::series(history.get(&vec![key.0.clone(), actor.clone()]), start, ws_hour, |a| a.count);
        let model = SeasonalModel::fit(&hist, start, Seasonality::Flat, cfg.dispersion_alpha);
        let best = volume::most_surprising_hour(&model, &counts, |_, _, _| true).expect("non-empty");
        let as_f: Vec<f64> = hist.iter().map(|&c| c as f64).collect();
        tested.push(Tested {
            key,
            population,
            hour: best.hour,
            observed: best.observed,
            z: scoring::robust_z(best.observed as f64, &as_f, 1.0),
            p: scoring::sidak(best.p, window_hours),
            model,
        });
    }

    let families: Vec<Population> = tested.iter().map(|x| x.population).collect();
    let adjusted = volume::bh_by_family(&families, &tested.iter().map(|x| x.p).collect::<Vec<_>>());
    let sizes = volume::family_sizes(&families);
    let floors = Floors { min_count: cfg.min_count, min_ratio: cfg.min_ratio };
    for (x, p_adj) in tested.iter().zip(adjusted) {
        if p_adj > cfg.fdr_q || !floors.pass(x.observed, x.model.mean()) {
            continue;
        }
        let stats = Stats { x, p_adj, family: sizes[&x.population], window_hours };
        let rs = &reads[x.key];
        findings.push(finding(ctx, &sel, x.key, rs, x.hour, x.observed, Ok(stats), x.model.history_hours, x.population));
    }
    Ok(findings)
}

/// Test results of one flagged principal: its BH-adjusted p and the family size.
struct Stats<'a> {
    x: &'a Tested<'a>,
    p_adj: f64,
    family: usize,
    window_hours: usize,
}

/// Builds the finding for a principal's busiest hour. `stats` is the test result, or for a
/// learning principal `Err(earlier_max)`: its busiest earlier hour of reads (0 when it never
/// read a secret before).
#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &DetectContext,
    sel: &Selection,
    key: &(String, String),
    all: &[&Row],
    hour: i64,
    observed: u64,
    stats: std::result::Result<Stats, u64>,
    history_hours: usize,
    population: Population,
) -> Finding {
    let cfg = &ctx.config.secret_access_volume;
    let (provider, actor) = key;
    let ev = Evidence::new(all.iter().copied().filter(|r| r.hour() == hour).collect());
    let hour_start = volume::time(hour * HOUR_US);
    let hour_end = hour_start + Duration::hours(1);
    let text = describe::reads(actor, population, &ev, all, hour_start, hour_end, observed);
    let days = history_hours as f64 / 24.0;
    let (title, description, severity, risk, p, p_adj, expected) = match &stats {
        Ok(st) => {
            let x = st.x;
            let expected = x.model.mean();
            let risk = scoring::risk_score(Some(st.p_adj), observed as f64, Some(expected));
            let severity = Severity::from_risk_score(risk).clamp(Severity::Medium, Severity::High);
            let description = format!(
                "{} Expected {expected:.2} per hour from {days:.1} days of its own hourly history \
                 (zeros included; {}{}). Busiest of {} window hours: Šidák-adjusted p = {:.2e}; \
                 Benjamini–Hochberg across {} {} principals tested = {:.2e} (q = {}). \
                 Flagged because adjusted p ≤ q, observed ≥ {} and observed ≥ {}× expected. \
                 Method: Poisson / negative-binomial upper tail against the principal's own baseline \
                 (DESIGN.md; Benjamini & Hochberg 1995).",
                text.read,
                x.model.describe(),
                x.z.map_or(String::new(), |z| format!(", robust z {z:.1}")),
                st.window_hours,
                x.p,
                st.family,
                population.as_str(),
                st.p_adj,
                cfg.fdr_q,
                cfg.min_count,
                cfg.min_ratio,
            );
            (format!("Unusual volume of secret reads by {actor}"), description, severity, risk, Some(x.p), Some(st.p_adj), Some(expected))
        }
        &Err(earlier_max) => {
            // Onboarding: a principal that already read half as many secrets in one earlier
            // hour is not doing something new, the lake is; a note, not an alert.
            let (severity, why) = if earlier_max > 0 && earlier_max * 2 >= observed {
                (Severity::Low, format!("low: it already read {earlier_max} secrets in one earlier hour, so the volume is its habit, not new"))
            } else {
                (Severity::Medium, format!("medium: its busiest earlier hour had {earlier_max} reads"))
            };
            let description = format!(
                "{} First-seen / learning: the principal has only {days:.1} days of history \
                 (fewer than {} required), so no baseline or p-value exists; reported because it read \
                 at least {} secrets in one hour ({} distinct when named). Severity {why}.",
                text.read, cfg.min_history_days, cfg.new_principal_min_count, cfg.new_principal_min_secrets,
            );
            let risk = scoring::risk_score(None, observed as f64, None);
            (format!("New principal reading secrets (learning): {actor}"), description, severity, risk, None, None, None)
        }
    };
    volume::Draft {
        analytic: ID,
        entity: vec![provider.clone(), actor.clone()],
        window: (hour_start, hour_end),
        title,
        description,
        severity,
        risk_score: risk,
        p_value: p,
        p_value_adjusted: p_adj,
        observed: observed as f64,
        expected,
        baseline_days: (history_hours / 24) as u32,
        actor: Some(actor.clone()),
        resource: text.single_secret,
    }
    .finish(&ev, &sel.ops, cfg.max_evidence, "enumeration", ctx.run_uid)
}
