//! `logging_disabled` (signal): someone stopped, deleted or weakened audit logging or a
//! security monitor (CloudTrail, Config, GuardDuty, Security Hub, flow logs, DNS query
//! logs, CloudWatch Logs, Bedrock invocation logging, ... — every catalogue entry tagged
//! `logging_disable`). ATT&CK T1562.008 / T1685.002 (v19).
//!
//! Sources: Elastic rules "AWS CloudTrail Log Suspended", "AWS CloudTrail Log Deleted",
//! "AWS CloudTrail Log Updated", "AWS EC2 Flow Log Deletion"; Sigma
//! `aws_cloudtrail_disable_logging.yml`; Splunk ESCU "AWS Defense Evasion Stop Logging
//! Cloudtrail"; Panther `AWS.CloudTrail.Stopped`, `AWS.CloudTrail.EventSelectorsDisabled`,
//! `AWS.S3.DisableBucketLogging` (whose labelled tests are a regression set). Those rules
//! alert on every call; this analytic grades each finding:
//!
//! | situation | severity |
//! |---|---|
//! | the request keeps or restores logging (selectors back to all management events, access logging enabled; `weakens.rs`) | info |
//! | every attempt failed (logging unchanged) | low |
//! | first logging-disable by this initiator (`actor_uid`) within `history_days`, the account having ≥ `min_history_days` in the lake | critical |
//! | a `modification` whose effect the request does not show, while the account has < `min_history_days` (learning) | low |
//! | anything else | high |
//!
//! An administrator who rotates trails every month stays high; a principal doing it for
//! the first time — the usual first step after a credential theft — is critical; "never
//! before" needs history to mean anything, hence the learning rows.
//!
//! Routine changes: for operations that *may* weaken logging but usually do not
//! (catalogue data component `modification`: UpdateTrail, PutEventSelectors,
//! PutBucketLogging, ...), a finding is kept but marked `suppressed` when the same
//! initiator made the same change to the same resource on at least `routine_min_days`
//! distinct days before the window (an IaC pipeline re-applying a trail every day).
//! Outright disables and deletions are never suppressed.
//!
//! Grouping: one finding per (provider, account, actor, service, operation, resource) and
//! UTC hour. A script that stops the same trail five times in a minute is one incident,
//! while each trail or log group stays its own finding to triage; the hour bucket keeps
//! the finding id stable when scheduled windows overlap (re-runs replace it).
//! Failed attempts are still findings (probing for the permission is a signal worth a
//! look), and the title and description say how many failed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use serde::Deserialize;

use super::{most_common, union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::{self, HOUR_US, T};
use crate::schema as s;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "logging_disabled";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "logging_disable";

/// `[analytics.logging_disabled]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingDisabledConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier logging-disable
    /// operations. Default 90 (a quarter: covers monthly and quarterly maintenance).
    pub history_days: u32,
    /// Days of the account's history in the lake required before "first-time initiator"
    /// can raise a finding to critical. Default 7.
    pub min_history_days: u32,
    /// Distinct earlier days on which the same initiator made the same `modification`
    /// to the same resource for a finding to be suppressed as routine; 0 turns
    /// suppression off. Default 5.
    pub routine_min_days: u32,
    /// Most `event_uid`s listed as evidence per finding (`evidence_count` has the full
    /// number). Default 200.
    pub max_evidence: usize,
}

impl Default for LoggingDisabledConfig {
    fn default() -> Self {
        LoggingDisabledConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            routine_min_days: 5,
            max_evidence: 200,
        }
    }
}

/// One window event, as read from the lake.
#[derive(Debug, Clone)]
struct Row {
    t: i64,
    event_uid: String,
    provider: String,
    account: String,
    region: Option<String>,
    actor: Option<String>,
    src_ip: Option<String>,
    user_agent: Option<String>,
    service: String,
    operation: String,
    status: String,
    error_code: Option<String>,
    resource: Option<String>,
    request: Option<String>,
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.logging_disabled;
    let window_start = ctx.window_start();
    let history_start = window_start - Duration::days(i64::from(cfg.history_days));
    let Some(lf) = profiles::scan_events(ctx.lake_root, history_start, ctx.as_of)? else {
        return Ok(Vec::new());
    };
    // The signal engine's selection honours `service = "*"` entries (Azure diagnostic settings).
    let summary = ctx.summary(history_start, ctx.as_of)?;
    let ops = super::signal::lake::tagged_operations(ctx.lake_root, summary.clone(), ctx.catalog, TAG)?;
    let ws = window_start.timestamp_micros();
    let cols = [
        s::EVENT_UID,
        s::PROVIDER,
        s::ACCOUNT_UID,
        s::REGION,
        s::ACTOR_UID,
        s::SRC_IP,
        s::USER_AGENT,
        s::SERVICE,
        s::OPERATION,
        s::STATUS,
        s::ERROR_CODE,
        s::RESOURCE_UID,
        s::REQUEST_PARAMS,
    ];
    let mut wanted = cols.to_vec();
    wanted.push(s::DATE);
    let Some(tagged) = profiles::tagged_events(ctx.lake_root, lf.clone(), &ops, &wanted)? else {
        return Ok(Vec::new());
    };
    let mut select: Vec<Expr> = cols.iter().map(|c| col(*c)).collect();
    select.push(profiles::time_us());
    let df = profiles::collect(
        ctx.lake_root,
        tagged
            .clone()
            .filter(col(s::TIME).cast(DataType::Int64).gt_eq(lit(ws)))
            .select(select),
    )?;
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for name in cols {
        c.insert(name, profiles::strings(&df, name)?);
    }
    let ts = profiles::ints(&df, T)?;
    let take = |c: &mut HashMap<&str, Vec<Option<String>>>, n: &str, i: usize| {
        c.get_mut(n).and_then(|v| v[i].take())
    };
    let mut rows = Vec::with_capacity(ts.len());
    for (i, &t) in ts.iter().enumerate() {
        rows.push(Row {
            t,
            event_uid: take(&mut c, s::EVENT_UID, i).unwrap_or_default(),
            provider: take(&mut c, s::PROVIDER, i).unwrap_or_default(),
            account: take(&mut c, s::ACCOUNT_UID, i).unwrap_or_default(),
            region: take(&mut c, s::REGION, i),
            actor: take(&mut c, s::ACTOR_UID, i),
            src_ip: take(&mut c, s::SRC_IP, i),
            user_agent: take(&mut c, s::USER_AGENT, i),
            service: take(&mut c, s::SERVICE, i).unwrap_or_default(),
            operation: take(&mut c, s::OPERATION, i).unwrap_or_default(),
            status: take(&mut c, s::STATUS, i).unwrap_or_default(),
            error_code: take(&mut c, s::ERROR_CODE, i),
            resource: take(&mut c, s::RESOURCE_UID, i),
            request: take(&mut c, s::REQUEST_PARAMS, i),
        });
    }

    // An initiator's first successful logging-disable time over history + window; how
    // long each account has been in the lake; how routine each change is.
    let before = col(s::TIME).cast(DataType::Int64).lt(lit(ws));
    let succeeded = tagged.filter(col(s::STATUS).neq(lit(s::Status::Failure.as_str())));
    let first_success = profiles::first_seen(ctx.lake_root, succeeded.clone(), s::ACTOR_UID)?;
    let account_start =
        profiles::first_seen(ctx.lake_root, summary.filter(before.clone()), s::ACCOUNT_UID)?;
    let routine_keys = [s::ACTOR_UID, s::SERVICE, s::OPERATION, s::RESOURCE_UID];
    let routine = profiles::distinct_days(ctx.lake_root, succeeded.filter(before), &routine_keys)?;
    let history_days = |account: &str| {
        account_start.get(account).map_or(0, |&t0| {
            (((ws - t0) / (24 * HOUR_US)).max(0) as u32).min(cfg.history_days)
        })
    };

    type Key = (
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        i64,
    );
    let mut groups: BTreeMap<Key, Vec<Row>> = BTreeMap::new();
    for r in rows {
        let key = (
            r.provider.clone(),
            r.account.clone(),
            r.actor.clone(),
            r.service.clone(),
            r.operation.clone(),
            r.resource.clone(),
            r.t.div_euclid(HOUR_US),
        );
        groups.entry(key).or_default().push(r);
    }

    let mut findings = Vec::new();
    for ((provider, account, actor, service, operation, resource, hour), mut rows) in groups {
        rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
        let first_t = rows[0].t;
        let last_t = rows[rows.len() - 1].t;
        // First-time when no success precedes this group; NULL actors cannot be profiled.
        let first_time = actor
            .as_ref()
            .is_some_and(|a| first_success.get(a).is_none_or(|&t| t >= first_t));
        let failed = rows
            .iter()
            .filter(|r| r.status == s::Status::Failure.as_str())
            .count();
        let n = rows.len();
        let days = history_days(&account);
        let enough = days >= cfg.min_history_days;
        let op = ops
            .iter()
            .find(|o| o.provider == provider && o.service == service && o.operation == operation);
        let entries: Vec<_> = op.map(|o| o.entries.iter().collect()).unwrap_or_default();
        let (techniques, attack_version) = union_techniques(&entries);
        let data_component = entries
            .first()
            .map_or("disable".to_string(), |e| e.data_component.clone());
        // A configuration change (UpdateTrail, PutEventSelectors) seen while the account is
        // still being learned cannot yet be told from routine automation: report it low
        // instead of paging on every nightly Terraform run during onboarding. Outright
        // disables and deletions stay high whatever the history.
        // What the request did: a repair (selectors back to all management events, access
        // logging enabled) is recorded but does not page; neither does a call that failed.
        let verdicts: Vec<Option<bool>> = rows.iter().map(|r| weakens::weakens(&operation, r.request.as_deref())).collect();
        let restores = verdicts.iter().all(|v| *v == Some(false));
        let surely_weakens = verdicts.contains(&Some(true));
        // Only a change whose effect the request does not show waits for the baseline.
        let learning_change = data_component == "modification" && !enough && !surely_weakens;
        let all_failed = failed == rows.len();
        let severity = if restores {
            Severity::Info
        } else if all_failed {
            Severity::Low
        } else if first_time && enough {
            Severity::Critical
        } else if learning_change {
            Severity::Low
        } else {
            Severity::High
        };
        let who = actor.as_deref().unwrap_or("an unidentified principal");
        let target = resource
            .as_deref()
            .map_or(String::new(), |r| format!(" on {r}"));
        let outcome = match failed {
            0 => String::new(),
            f if f == n => " (attempt failed)".to_string(),
            f => format!(" ({f} of {n} attempts failed)"),
        };
        let errors: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.error_code.as_deref())
            .collect();
        let history = if restores {
            "The request keeps or restores logging (e.g. selectors back to all management \
             events, access logging enabled): recorded as info, not an alert."
                .to_string()
        } else if all_failed {
            "Every attempt failed, so logging was not changed: recorded as low; repeated \
             failures by one principal are worth a look."
                .to_string()
        } else if actor.is_none() {
            "The record names no initiator, so its history cannot be checked.".to_string()
        } else if first_time && enough {
            format!(
                "First logging-disable operation by this initiator in {days} days of the \
                 account's history; severity raised to critical."
            )
        } else if learning_change {
            format!(
                "Learning: the account has only {days} days of history (fewer than {}), too \
                 little to tell this configuration change from routine automation, so \
                 severity is low until the baseline exists.",
                cfg.min_history_days
            )
        } else if first_time {
            format!(
                "No earlier logging-disable operation by this initiator, but the account has \
                 only {days} days of history (fewer than {}): too little to call it new, so \
                 severity stays high.",
                cfg.min_history_days
            )
        } else {
            "This initiator has disabled or changed logging before, so severity stays high."
                .to_string()
        };
        let routine_days = routine
            .get(&vec![
                actor.clone(),
                Some(service.clone()),
                Some(operation.clone()),
                resource.clone(),
            ])
            .copied()
            .unwrap_or(0);
        let suppression_reason = (data_component == "modification"
            && cfg.routine_min_days > 0
            && routine_days >= cfg.routine_min_days
            && failed == 0)
            .then(|| {
                format!(
                    "routine: the same initiator made this change to the same resource on \
                     {routine_days} distinct days in the {} days before the window \
                     (routine_min_days = {})",
                    cfg.history_days, cfg.routine_min_days
                )
            });
        let description = format!(
            "{who} called {service} {operation}{target} {n} time(s) between {} and {}{outcome}{}. \
             {history} Entry: {}. Signal per Elastic 'AWS CloudTrail Log Suspended' and Sigma \
             'AWS CloudTrail Important Change', with initiator history (DESIGN.md).",
            time(first_t).to_rfc3339(),
            time(last_t).to_rfc3339(),
            if errors.is_empty() {
                String::new()
            } else {
                format!(" [errors: {}]", dedup(errors).join(", "))
            },
            entries.first().map_or("-", |e| e.description.as_str()),
        );
        let hour_start = time(hour * HOUR_US);
        let uid = finding_uid(
            ID,
            &[
                &provider,
                &account,
                actor.as_deref().unwrap_or(""),
                &service,
                &operation,
                resource.as_deref().unwrap_or(""),
            ],
            hour_start,
            hour_start + Duration::hours(1),
        );
        let mut risk: f64 = match severity {
            Severity::Critical => 90.0,
            Severity::Low => 30.0,
            Severity::Info => 10.0,
            _ => 75.0,
        };
        if failed == n && severity != Severity::Low {
            risk -= 10.0;
        }
        findings.push(Finding {
            finding_uid: uid,
            analytic_uid: ID.into(),
            title: format!(
                "{operation}{outcome} by {}",
                if severity == Severity::Critical {
                    "a first-time initiator"
                } else {
                    who
                }
            ),
            description,
            severity,
            risk_score: risk,
            p_value: None,
            p_value_adjusted: None,
            observed: n as f64,
            expected: None,
            baseline_days: days,
            window_start: time(first_t),
            window_end: time(last_t),
            provider,
            account_uid: account,
            region: most_common(rows.iter().map(|r| r.region.as_deref())),
            actor_uid: actor,
            src_ip: most_common(rows.iter().map(|r| r.src_ip.as_deref())),
            user_agent: most_common(rows.iter().map(|r| r.user_agent.as_deref())),
            service: Some(service),
            operation: Some(operation),
            resource_uid: resource,
            data_component,
            attack_techniques: techniques,
            attack_version,
            evidence_event_uids: rows
                .iter()
                .take(cfg.max_evidence)
                .map(|r| r.event_uid.clone())
                .collect(),
            evidence_count: n as u64,
            suppressed: suppression_reason.is_some(),
            suppression_reason,
            run_uid: ctx.run_uid.to_string(),
        });
    }
    Ok(findings)
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v.dedup();
    v
}

mod weakens;

#[cfg(test)]
mod tests;
