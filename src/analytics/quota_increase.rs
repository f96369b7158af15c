//! `quota_increase` (signal + count): someone asks for higher service quotas — the step
//! before launching GPU fleets for mining or hijacked model use. ATT&CK T1578 Modify Cloud
//! Compute Infrastructure, T1496.004 Cloud Service Hijacking (T1578.005 in the AWS entry).
//!
//! Events: every catalogue entry tagged `quota_increase` — AWS Service Quotas
//! `RequestServiceQuotaIncrease` / `PutServiceQuotaIncreaseRequestIntoTemplate`; Azure
//! `Microsoft.Quota` quota and quota-request writes, `Microsoft.Capacity` service limits;
//! GCP Cloud Quotas preferences and Service Usage consumer overrides. The AWS approval
//! (`UpdateServiceQuotaIncreaseRequestStatus`, an `AwsServiceEvent`) is not catalogued, so a
//! request and its approval count once.
//!
//! Method: the shared signal engine ([`super::signal`]; one finding per (provider,
//! account, initiator, operation, quota and region) and UTC hour; "first time" = no
//! successful quota request by this initiator in `history_days`), weight *change*, then
//! per account over the window's successful requests:
//!
//! | condition | effect |
//! |---|---|
//! | ≥ `burst_min_count` requests within `burst_minutes` ("several in a short period") | +1 for the requests of the burst |
//! | requests in ≥ `min_regions` distinct regions in the window | +1 |
//! | the window's count is improbable under the account's own history (counts per window-length bucket over `history_days`, [`CountModel`]; Benjamini–Hochberg across accounts at `fdr_q`), account history ≥ `min_history_days` | +1, with p-values |
//! | **first-seen region**: the account had no event at all in that region before the window, history ≥ `min_history_days` | +1 for that region's requests |
//!
//! Parameters (`[analytics.quota_increase]`): `enabled` (true), `history_days` (90),
//! `min_history_days` (7), `routine_min_days` (5), `burst_min_count` (3),
//! `burst_minutes` (60), `min_regions` (2), `fdr_q` (0.01), `dispersion_alpha` (0.05),
//! `max_evidence` (200).
//!
//! Known false positives: capacity planning before a launch or migration (several regions
//! at once, by a person: high — confirm with the team); quota templates applied to every
//! new account by the organisation's account factory (automation: info, routine).
//!
//! Anchors: ATT&CK T1496.004 / T1578 detection notes; AWS documentation "Logging Service
//! Quotas API calls with AWS CloudTrail" (the two sample records are a test); Elastic "AWS
//! Service Quotas Multi-Region GetServiceQuota Requests" (the discovery step before
//! raising quotas across regions).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::signal::outlier::OutlierParams;
use super::signal::{self, group_draft, group_hourly, Params, Profile, Row, Scan, Select, Weight};
use super::DetectContext;
use crate::findings::Finding;
use crate::scoring::{benjamini_hochberg, CountModel};
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "quota_increase";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "quota_increase";

const METHOD: &str = "signal with initiator history, per-account count and region spread against the account's baseline, first-seen region (ATT&CK T1496.004; DESIGN.md).";

/// `[analytics.quota_increase]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaIncreaseConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for earlier requests and region use. Default 90.
    pub history_days: u32,
    /// Days of account history required before "first time", "first-seen region" or the
    /// count test. Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days of the same (initiator, operation) that make automation's
    /// call routine (suppressed); 0 turns suppression off. Default 5.
    pub routine_min_days: u32,
    /// Requests by one account within `burst_minutes` that make a burst. Default 3.
    pub burst_min_count: usize,
    /// Burst window, minutes. Default 60.
    pub burst_minutes: u32,
    /// Distinct regions in the window that raise the account's requests. Default 2.
    pub min_regions: usize,
    /// Benjamini–Hochberg false discovery rate of the per-account count test. Default 0.01.
    pub fdr_q: f64,
    /// Significance of the over-dispersion test choosing negative binomial. Default 0.05.
    pub dispersion_alpha: f64,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for QuotaIncreaseConfig {
    fn default() -> Self {
        QuotaIncreaseConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            burst_min_count: 3,
            burst_minutes: 60,
            min_regions: 2,
            fdr_q: 0.01,
            dispersion_alpha: crate::scoring::DEFAULT_DISPERSION_ALPHA,
            max_evidence: 200,
        }
    }
}

impl QuotaIncreaseConfig {
    fn params(&self) -> Params {
        Params {
            history_days: self.history_days,
            min_history_days: self.min_history_days,
            routine_min_days: self.routine_min_days,
            max_evidence: self.max_evidence,
        }
    }

    /// Checks value ranges; errors name the key (`analytics.quota_increase.<key>`).
    pub fn validate(&self) -> Result<()> {
        self.params().validate(ID)?;
        let o = OutlierParams {
            fdr_q: self.fdr_q,
            min_count: 0,
            min_ratio: 0.0,
            dispersion_alpha: self.dispersion_alpha,
            min_history_days: self.min_history_days,
        };
        signal::validate_outlier(ID, &o)?;
        let key = |k: &str| format!("analytics.{ID}.{k}");
        if self.burst_min_count < 2 {
            return Err(crate::Error::config(key("burst_min_count"), format!("must be ≥ 2, got {}", self.burst_min_count)));
        }
        if self.burst_minutes == 0 {
            return Err(crate::Error::config(key("burst_minutes"), "must be > 0"));
        }
        if self.min_regions < 2 {
            return Err(crate::Error::config(key("min_regions"), format!("must be ≥ 2, got {}", self.min_regions)));
        }
        Ok(())
    }
}

/// The quota a request targets: AWS `serviceCode/quotaCode`, GCP `quotaId`, else
/// `resource_uid`.
pub fn quota(r: &Row) -> Option<String> {
    let req = signal::json::parse(r.request.as_deref());
    let field = |k: &str| req.as_ref().and_then(|q| signal::json::find(q, k)).map(|v| signal::json::text(&v));
    match (field("serviceCode"), field("quotaCode")) {
        (Some(s), Some(q)) => Some(format!("{s}/{q}")),
        _ => field("quotaId").or_else(|| r.resource.clone()),
    }
}

fn target(r: &Row) -> Option<String> {
    let q = quota(r).unwrap_or_else(|| "quota".into());
    Some(match &r.region {
        Some(region) => format!("{q} in {region}"),
        None => q,
    })
}

/// Largest number of `times` (sorted) within any `span`, and the times of that stretch.
fn densest(times: &[i64], span: i64) -> (usize, i64, i64) {
    let mut best = (0, 0, 0);
    let mut j = 0;
    for i in 0..times.len() {
        while times[i] - times[j] > span {
            j += 1;
        }
        if i + 1 - j > best.0 {
            best = (i + 1 - j, times[j], times[i]);
        }
    }
    best
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.quota_increase;
    let params = cfg.params();
    let scan = Scan::read(ctx, Select::Tags(&[TAG]), &[], cfg.history_days)?;
    if scan.window.is_empty() {
        return Ok(Vec::new());
    }
    let profile = Profile::new(&scan, |_| String::new());

    // Per account: the window's successful requests, their regions, and the count test.
    type Acct = (String, String);
    let mut window: BTreeMap<Acct, Vec<&Row>> = BTreeMap::new();
    for r in scan.window.iter().filter(|r| !r.failed) {
        window.entry((r.provider.clone(), r.account.clone())).or_default().push(r);
    }
    let span = scan.as_of - scan.window_start;
    let mut tests: Vec<(Acct, u64, CountModel, usize, f64)> = Vec::new();
    for (acct, rows) in &window {
        let days = scan.account_days(&acct.0, &acct.1);
        let buckets = (i64::from(days) * signal::DAY_US / span.max(1)) as usize;
        if days < cfg.min_history_days || buckets == 0 {
            continue;
        }
        let mut counts = vec![0u64; buckets];
        for h in scan.history.iter().filter(|h| !h.failed && h.provider == acct.0 && h.account == acct.1) {
            let b = ((scan.window_start - 1 - h.t) / span) as usize;
            if b < buckets {
                counts[b] += 1;
            }
        }
        let model = CountModel::fit(&counts, cfg.dispersion_alpha);
        let k = rows.len() as u64;
        tests.push((acct.clone(), k, model, buckets, model.upper_tail(k)));
    }
    let adjusted = benjamini_hochberg(&tests.iter().map(|t| t.4).collect::<Vec<_>>());

    let mut findings = Vec::new();
    for group in group_hourly(&scan.window, target) {
        let r0 = group.head();
        let mut d = group_draft(ID, &scan, &profile, &params, &group, "", "quota request", Weight::Change, METHOD);
        d.resource = quota(r0);
        let acct = (r0.provider.clone(), r0.account.clone());
        if let (Some(rows), false) = (window.get(&acct), group.all_failed()) {
            let times: Vec<i64> = rows.iter().map(|r| r.t).collect();
            let (n, from, to) = densest(&times, i64::from(cfg.burst_minutes) * 60_000_000);
            let in_burst = group.rows.iter().any(|r| r.t >= from && r.t <= to);
            if n >= cfg.burst_min_count && in_burst {
                d.grade.raise(1, format!("{n} quota requests in the account within {} minutes (+1)", cfg.burst_minutes));
            }
            let regions: BTreeSet<&str> = rows.iter().filter_map(|r| r.region.as_deref()).collect();
            if regions.len() >= cfg.min_regions {
                let shown: Vec<&str> = regions.iter().copied().collect();
                d.grade.raise(1, format!("requests in {} regions in the window ({}) (+1)", regions.len(), shown.join(", ")));
            }
            if let Some(i) = tests.iter().position(|t| t.0 == acct) {
                let (_, k, model, buckets, p) = &tests[i];
                if adjusted[i] <= cfg.fdr_q {
                    d.grade.raise(
                        1,
                        format!(
                            "{k} requests against {:.2} expected per window ({}, {buckets} windows of history), p = {p:.2e} (+1)",
                            model.mean(),
                            model.name()
                        ),
                    );
                    d.p_value = Some(*p);
                    d.p_value_adjusted = Some(adjusted[i]);
                    d.expected = Some(model.mean());
                }
            }
            let days = scan.account_days(&r0.provider, &r0.account);
            if let Some(region) = r0.region.as_deref() {
                if days >= cfg.min_history_days && !scan.region_seen_before(&r0.provider, &r0.account, region) {
                    d.grade.raise(1, format!("first-seen region {region}: no event of the account there in {days} days (+1)"));
                }
            }
        }
        findings.push(d.finish(ctx, cfg.max_evidence));
    }
    Ok(findings)
}

#[cfg(test)]
mod tests;
