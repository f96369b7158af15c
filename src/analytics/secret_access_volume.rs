//! `secret_access_volume` (statistical): a principal reads far more secrets in an hour than
//! its own history predicts (ATT&CK T1555.006 Cloud Secrets Management Stores; catalogue
//! tag `secret_read`: Secrets Manager GetSecretValue / BatchGetSecretValue, SSM parameters
//! with decryption, EC2 GetPasswordData, and other providers' equivalents).
//!
//! Method (DESIGN.md "Statistics"):
//! 1. Per principal (`actor_uid`), hourly counts of `secret_read` events over its own
//!    history: every hour from max(first time the principal appears in the lake, window
//!    start − `max_history_days`) to the window start, zeros included.
//! 2. Null model fitted to that history: Poisson, or negative binomial when Fisher's
//!    index-of-dispersion test rejects at `dispersion_alpha` ([`CountModel::fit`]).
//! 3. The busiest hour of the window is scored with the upper tail P(X ≥ observed), then
//!    Šidák-adjusted for having picked the busiest of H window hours.
//! 4. Benjamini & Hochberg (1995) across all principals tested in the run, separately for
//!    automation and people ([`ActorType::is_automation`]): a fleet of busy service
//!    accounts must not set the bar for humans, nor the reverse.
//! 5. Flag when the adjusted p ≤ `fdr_q` **and** observed ≥ `min_count` **and** observed ≥
//!    `min_ratio` × expected, so that 3 reads against 0.1 expected (p ≈ 2e-4) is not a finding.
//!
//! Principals with less than `min_history_days` of history get no p-value: when they read
//! at least `new_principal_min_count` secrets in one hour they get a "first-seen / learning"
//! finding instead (medium), never a p-value computed from nothing.
//!
//! Detections this generalises: Sigma `aws_secretsmanager_mass_secret_retrieval.yml`,
//! Elastic "AWS Secrets Manager Rapid Secrets Retrieval", Stratus Red Team
//! `aws.credential-access.secretsmanager-retrieve-secrets` and
//! `aws.credential-access.ssm-retrieve-securestring-parameters`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use serde::Deserialize;

use super::{most_common, union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::{self, HOUR_US, T};
use crate::schema::{self as s, ActorType};
use crate::scoring::{self, CountModel};
use crate::Result;

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
            dispersion_alpha: scoring::DEFAULT_DISPERSION_ALPHA,
            max_evidence: 200,
        }
    }
}

/// One secret read in the window.
#[derive(Debug, Clone)]
struct Read {
    t: i64,
    event_uid: String,
    provider: String,
    account: String,
    region: Option<String>,
    actor_type: Option<String>,
    src_ip: Option<String>,
    user_agent: Option<String>,
    service: String,
    operation: String,
    failed: bool,
    secrets: Vec<String>,
}

/// Secret names a read touched: `resource_uid`, else the request's `secretId`, `name`,
/// `names`, `secretIdList` or (GetPasswordData) `instanceId` — the CloudTrail
/// requestParameters of the catalogued APIs.
fn secrets_of(resource: Option<&str>, request: Option<&str>) -> Vec<String> {
    if let Some(r) = resource {
        return vec![r.to_string()];
    }
    let Some(serde_json::Value::Object(m)) = request.and_then(|r| serde_json::from_str(r).ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in [
        "secretId",
        "SecretId",
        "name",
        "Name",
        "names",
        "Names",
        "secretIdList",
        "SecretIdList",
        "instanceId",
    ] {
        match m.get(key) {
            Some(serde_json::Value::String(v)) => out.push(v.clone()),
            Some(serde_json::Value::Array(vs)) => {
                out.extend(vs.iter().filter_map(|v| v.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    out
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// A principal that was tested (enough history).
struct Tested {
    actor: String,
    automation: bool,
    hour: i64,
    observed: u64,
    model: CountModel,
    history_hours: usize,
    z: Option<f64>,
    p: f64,
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.secret_access_volume;
    let window_start = ctx.window_start();
    let ws = window_start.timestamp_micros();
    let lookback_start = window_start - Duration::days(i64::from(cfg.max_history_days));
    let Some(lf) = profiles::scan_events(ctx.lake_root, lookback_start, ctx.as_of)? else {
        return Ok(Vec::new());
    };
    let ops = profiles::tagged_operations(ctx.lake_root, lf.clone(), ctx.catalog, TAG)?;
    let t = || col(s::TIME).cast(DataType::Int64);

    let cols = [
        s::EVENT_UID,
        s::PROVIDER,
        s::ACCOUNT_UID,
        s::REGION,
        s::ACTOR_UID,
        s::ACTOR_TYPE,
        s::SRC_IP,
        s::USER_AGENT,
        s::SERVICE,
        s::OPERATION,
        s::STATUS,
        s::RESOURCE_UID,
        s::REQUEST_PARAMS,
    ];
    let Some(tagged) = profiles::tagged_events(ctx.lake_root, lf.clone(), &ops, &cols)? else {
        return Ok(Vec::new());
    };
    let mut select: Vec<Expr> = cols.iter().map(|c| col(*c)).collect();
    select.push(profiles::time_us());
    let in_window = t().gt_eq(lit(ws)).and(col(s::ACTOR_UID).is_not_null());
    let window_df = profiles::collect(
        ctx.lake_root,
        tagged.clone().filter(in_window).select(select),
    )?;
    if window_df.height() == 0 {
        return Ok(Vec::new());
    }
    let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for name in cols {
        c.insert(name, profiles::strings(&window_df, name)?);
    }
    let ts = profiles::ints(&window_df, T)?;
    let mut get = |n: &str, i: usize| c.get_mut(n).and_then(|v| v[i].take());
    let mut reads: BTreeMap<String, Vec<Read>> = BTreeMap::new();
    for (i, &t) in ts.iter().enumerate() {
        let Some(actor) = get(s::ACTOR_UID, i) else {
            continue;
        };
        let resource = get(s::RESOURCE_UID, i);
        let request = get(s::REQUEST_PARAMS, i);
        reads.entry(actor).or_default().push(Read {
            t,
            event_uid: get(s::EVENT_UID, i).unwrap_or_default(),
            provider: get(s::PROVIDER, i).unwrap_or_default(),
            account: get(s::ACCOUNT_UID, i).unwrap_or_default(),
            region: get(s::REGION, i),
            actor_type: get(s::ACTOR_TYPE, i),
            src_ip: get(s::SRC_IP, i),
            user_agent: get(s::USER_AGENT, i),
            service: get(s::SERVICE, i).unwrap_or_default(),
            operation: get(s::OPERATION, i).unwrap_or_default(),
            failed: get(s::STATUS, i).as_deref() == Some(s::Status::Failure.as_str()),
            secrets: secrets_of(resource.as_deref(), request.as_deref()),
        });
    }

    let first_seen = profiles::first_seen(ctx.lake_root, lf, s::ACTOR_UID)?;
    let history = profiles::hourly_counts(ctx.lake_root, tagged.filter(t().lt(lit(ws))))?;
    let ws_hour = ws.div_euclid(HOUR_US);
    let lookback_hour = lookback_start.timestamp_micros().div_euclid(HOUR_US);
    let window_hours = (ctx.window.num_seconds() as f64 / 3600.0).ceil().max(1.0) as usize;

    let mut tested = Vec::new();
    let mut findings = Vec::new();
    for (actor, rs) in &reads {
        let mut per_hour: BTreeMap<i64, u64> = BTreeMap::new();
        for r in rs {
            *per_hour.entry(r.t.div_euclid(HOUR_US)).or_default() += 1;
        }
        // Busiest hour; ties go to the earliest.
        let (&hour, &observed) = per_hour
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .expect("non-empty");
        // Automation by type, or a role that mostly calls with a deployment tool's agent.
        let iac_calls = rs.iter().filter(|r| r.user_agent.as_deref().is_some_and(profiles::is_iac_user_agent)).count();
        let automation = most_common(rs.iter().map(|r| r.actor_type.as_deref()))
            .and_then(|t| ActorType::parse(&t))
            .is_some_and(ActorType::is_automation)
            || iac_calls * 2 > rs.len();
        let start_hour = first_seen
            .get(actor)
            .map_or(ws_hour, |&f| f.div_euclid(HOUR_US))
            .max(lookback_hour);
        let history_hours = (ws_hour - start_hour).max(0) as usize;
        if history_hours < cfg.min_history_days as usize * 24 {
            if observed >= cfg.new_principal_min_count {
                let f = finding(
                    ctx,
                    &ops,
                    actor,
                    rs,
                    hour,
                    observed,
                    None,
                    history_hours,
                    automation,
                );
                findings.push(f);
            }
            continue;
        }
        let counts = history.get(actor);
        let hist: Vec<u64> = (start_hour..ws_hour)
            .map(|h| counts.and_then(|c| c.get(&h)).copied().unwrap_or(0))
            .collect();
        let model = CountModel::fit(&hist, cfg.dispersion_alpha);
        let p = scoring::sidak(model.upper_tail(observed), window_hours);
        let as_f: Vec<f64> = hist.iter().map(|&c| c as f64).collect();
        let z = scoring::robust_z(observed as f64, &as_f, 1.0);
        tested.push(Tested {
            actor: actor.clone(),
            automation,
            hour,
            observed,
            model,
            history_hours,
            z,
            p,
        });
    }

    for automation in [false, true] {
        let group: Vec<&Tested> = tested
            .iter()
            .filter(|x| x.automation == automation)
            .collect();
        let adjusted = scoring::benjamini_hochberg(&group.iter().map(|x| x.p).collect::<Vec<_>>());
        for (x, p_adj) in group.iter().zip(adjusted) {
            let expected = x.model.mean();
            let flagged = p_adj <= cfg.fdr_q
                && x.observed >= cfg.min_count
                && x.observed as f64 >= cfg.min_ratio * expected;
            if !flagged {
                continue;
            }
            let stats = Stats {
                x,
                p_adj,
                family: group.len(),
                window_hours,
            };
            let rs = &reads[&x.actor];
            let f = finding(
                ctx,
                &ops,
                &x.actor,
                rs,
                x.hour,
                x.observed,
                Some(stats),
                x.history_hours,
                automation,
            );
            findings.push(f);
        }
    }
    Ok(findings)
}

/// Test results of one flagged principal: its BH-adjusted p and the family size.
struct Stats<'a> {
    x: &'a Tested,
    p_adj: f64,
    family: usize,
    window_hours: usize,
}

/// Builds the finding for `actor`'s busiest hour; `stats` is `None` for first-seen.
#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &DetectContext,
    ops: &[profiles::TaggedOperation],
    actor: &str,
    all: &[Read],
    hour: i64,
    observed: u64,
    stats: Option<Stats>,
    history_hours: usize,
    automation: bool,
) -> Finding {
    let cfg = &ctx.config.secret_access_volume;
    let mut rs: Vec<&Read> = all
        .iter()
        .filter(|r| r.t.div_euclid(HOUR_US) == hour)
        .collect();
    rs.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    let hour_start = time(hour * HOUR_US);
    let hour_end = hour_start + Duration::hours(1);
    let provider = most_common(rs.iter().map(|r| Some(r.provider.as_str()))).unwrap_or_default();
    let population = if automation { "automation" } else { "human" };

    let mut by_op: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in &rs {
        *by_op.entry((&r.service, &r.operation)).or_default() += 1;
    }
    let breakdown: Vec<String> = by_op
        .iter()
        .map(|((_, op), n)| format!("{op} ×{n}"))
        .collect();
    let entries: Vec<_> = ops
        .iter()
        .filter(|o| by_op.contains_key(&(o.service.as_str(), o.operation.as_str())))
        .flat_map(|o| o.entries.iter())
        .collect();
    let (techniques, attack_version) = union_techniques(&entries);
    let top_op = by_op
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| *k);
    let failed = rs.iter().filter(|r| r.failed).count();
    let secrets: BTreeSet<&str> = rs
        .iter()
        .flat_map(|r| r.secrets.iter().map(String::as_str))
        .collect();
    let window_secrets: BTreeSet<&str> = all
        .iter()
        .flat_map(|r| r.secrets.iter().map(String::as_str))
        .collect();
    let shown: Vec<&str> = secrets.iter().take(10).copied().collect();
    let more = secrets.len().saturating_sub(shown.len());
    let secret_text = format!(
        "{} distinct secrets in the hour ({}{}), {} in the window",
        secrets.len(),
        if shown.is_empty() {
            "names not logged".to_string()
        } else {
            shown.join(", ")
        },
        if more > 0 {
            format!(", +{more} more")
        } else {
            String::new()
        },
        window_secrets.len(),
    );
    let days = history_hours as f64 / 24.0;
    // The busiest hour is scored, but a burst often straddles an hour boundary: say what
    // the whole window holds so that no read of the burst goes unreported.
    let mut window_ops: BTreeMap<&str, usize> = BTreeMap::new();
    for r in all {
        *window_ops.entry(&r.operation).or_default() += 1;
    }
    let window_text = if all.len() > rs.len() {
        let (first, last) = all.iter().fold((i64::MAX, i64::MIN), |(a, b), r| (a.min(r.t), b.max(r.t)));
        format!(
            " In the whole window it made {} secret reads ({}) between {} and {} UTC.",
            all.len(),
            window_ops.iter().map(|(op, n)| format!("{op} ×{n}")).collect::<Vec<_>>().join(", "),
            time(first).format("%Y-%m-%d %H:%M:%S"),
            time(last).format("%Y-%m-%d %H:%M:%S"),
        )
    } else {
        String::new()
    };
    let read_text = format!(
        "{actor} ({population}) made {observed} secret reads between {} and {} UTC ({}{}); {secret_text}.{window_text}",
        hour_start.format("%Y-%m-%d %H:%M"),
        hour_end.format("%H:%M"),
        breakdown.join(", "),
        if failed > 0 { format!("; {failed} failed") } else { String::new() },
    );
    let (title, description, severity, risk, p, p_adj, expected) = match &stats {
        Some(st) => {
            let x = st.x;
            let expected = x.model.mean();
            let risk = scoring::risk_score(Some(st.p_adj), observed as f64, Some(expected));
            let severity = Severity::from_risk_score(risk).clamp(Severity::Medium, Severity::High);
            let description = format!(
                "{read_text} Expected {expected:.2} per hour from {days:.1} days of its own hourly history \
                 (zeros included; {} model{}). Busiest of {} window hours: Šidák-adjusted p = {:.2e}; \
                 Benjamini–Hochberg across {} {population} principals tested = {:.2e} (q = {}). \
                 Flagged because adjusted p ≤ q, observed ≥ {} and observed ≥ {}× expected. \
                 Method: Poisson / negative-binomial upper tail against the principal's own baseline \
                 (DESIGN.md; Benjamini & Hochberg 1995).",
                x.model.name(),
                x.z.map_or(String::new(), |z| format!(", robust z {z:.1}")),
                st.window_hours,
                x.p,
                st.family,
                st.p_adj,
                cfg.fdr_q,
                cfg.min_count,
                cfg.min_ratio,
            );
            let title = format!("Unusual volume of secret reads by {actor}");
            (
                title,
                description,
                severity,
                risk,
                Some(x.p),
                Some(st.p_adj),
                Some(expected),
            )
        }
        None => {
            let description = format!(
                "{read_text} First-seen / learning: the principal has only {days:.1} days of history \
                 (fewer than {} required), so no baseline or p-value exists; reported because it read \
                 at least {} secrets in one hour.",
                cfg.min_history_days, cfg.new_principal_min_count,
            );
            let title = format!("New principal reading secrets (learning): {actor}");
            let risk = scoring::risk_score(None, observed as f64, None);
            (title, description, Severity::Medium, risk, None, None, None)
        }
    };
    let account = most_common(rs.iter().map(|r| Some(r.account.as_str()))).unwrap_or_default();
    Finding {
        finding_uid: finding_uid(ID, &[&provider, actor], hour_start, hour_end),
        analytic_uid: ID.into(),
        title,
        description,
        severity,
        risk_score: risk,
        p_value: p,
        p_value_adjusted: p_adj,
        observed: observed as f64,
        expected,
        baseline_days: (history_hours / 24) as u32,
        window_start: hour_start,
        window_end: hour_end,
        provider,
        account_uid: account,
        region: most_common(rs.iter().map(|r| r.region.as_deref())),
        actor_uid: Some(actor.to_string()),
        src_ip: most_common(rs.iter().map(|r| r.src_ip.as_deref())),
        user_agent: most_common(rs.iter().map(|r| r.user_agent.as_deref())),
        service: top_op.map(|(s, _)| s.to_string()),
        operation: top_op.map(|(_, o)| o.to_string()),
        resource_uid: (secrets.len() == 1).then(|| shown[0].to_string()),
        data_component: entries
            .first()
            .map_or("enumeration".into(), |e| e.data_component.clone()),
        attack_techniques: techniques,
        attack_version,
        evidence_event_uids: rs
            .iter()
            .take(cfg.max_evidence)
            .map(|r| r.event_uid.clone())
            .collect(),
        evidence_count: rs.len() as u64,
        suppressed: false,
        suppression_reason: None,
        run_uid: ctx.run_uid.to_string(),
    }
}

#[cfg(test)]
mod tests;
