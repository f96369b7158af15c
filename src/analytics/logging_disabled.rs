//! `logging_disabled` (signal): someone stopped, deleted or weakened audit logging or a
//! security monitor (CloudTrail, Config, GuardDuty, Security Hub, flow logs, DNS query
//! logs, CloudWatch Logs, Bedrock invocation logging, ... — every catalogue entry tagged
//! `logging_disable`). ATT&CK T1562.008 / T1685.002 (v19).
//!
//! Sources: Elastic rules "AWS CloudTrail Log Suspended", "AWS CloudTrail Log Deleted",
//! "AWS CloudTrail Log Updated", "AWS EC2 Flow Log Deletion"; Sigma
//! `aws_cloudtrail_disable_logging.yml`; Splunk ESCU "AWS Defense Evasion Stop Logging
//! Cloudtrail". Those rules alert on every call; this analytic adds DESIGN.md's
//! initiator history: severity is **high**, raised to **critical** when the initiator
//! (`actor_uid`) has no successful `logging_disable` operation before the group's first
//! event within `history_days`. An administrator who rotates trails every month stays
//! high; a principal doing it for the first time — the usual first step after a
//! credential theft — is critical.
//!
//! Grouping: one finding per (provider, account, actor, service, operation, resource) and
//! UTC hour. A script that stops the same trail five times in a minute is one incident,
//! while each trail or log group stays its own finding to triage; the hour bucket keeps
//! the finding id stable when scheduled windows overlap (re-runs replace it).
//! Failed attempts (`status = failure`, e.g. AccessDenied) are included — probing for the
//! permission is itself a signal — and the title and description say how many failed.

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
    /// Most `event_uid`s listed as evidence per finding (`evidence_count` has the full
    /// number). Default 200.
    pub max_evidence: usize,
}

impl Default for LoggingDisabledConfig {
    fn default() -> Self {
        LoggingDisabledConfig {
            enabled: true,
            history_days: 90,
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
    let ops = profiles::tagged_operations(ctx.lake_root, lf.clone(), ctx.catalog, TAG)?;
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
    ];
    let Some(tagged) = profiles::tagged_events(ctx.lake_root, lf.clone(), &ops, &cols)? else {
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
        });
    }

    // An initiator's first successful logging-disable time over history + window.
    let succeeded = tagged.filter(col(s::STATUS).neq(lit(s::Status::Failure.as_str())));
    let first_success = profiles::first_seen(ctx.lake_root, succeeded)?;
    let lake_start = profiles::earliest(
        ctx.lake_root,
        lf.filter(col(s::TIME).cast(DataType::Int64).lt(lit(ws))),
    )?;
    let baseline_days = lake_start.map_or(0, |t0| ((ws - t0) / (24 * HOUR_US)).max(0) as u32);

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
        let severity = if first_time {
            Severity::Critical
        } else {
            Severity::High
        };
        let op = ops
            .iter()
            .find(|o| o.provider == provider && o.service == service && o.operation == operation);
        let entries: Vec<_> = op.map(|o| o.entries.iter().collect()).unwrap_or_default();
        let (techniques, attack_version) = union_techniques(&entries);
        let data_component = entries
            .first()
            .map_or("disable".to_string(), |e| e.data_component.clone());
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
        let history = if actor.is_none() {
            "The record names no initiator, so its history cannot be checked.".to_string()
        } else if first_time {
            format!(
                "First logging-disable operation by this initiator in {} days of history; \
                 severity raised to critical.",
                baseline_days.min(cfg.history_days)
            )
        } else {
            "This initiator has disabled or changed logging before, so severity stays high."
                .to_string()
        };
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
        let mut risk: f64 = if first_time { 90.0 } else { 75.0 };
        if failed == n {
            risk -= 10.0;
        }
        findings.push(Finding {
            finding_uid: uid,
            analytic_uid: ID.into(),
            title: format!(
                "{operation}{outcome} by {}",
                if first_time {
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
            baseline_days: baseline_days.min(cfg.history_days),
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
            suppressed: false,
            suppression_reason: None,
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

#[cfg(test)]
mod tests {
    use super::super::testlake::{ev, write_lake, Ctx};
    use super::*;
    use crate::schema::{ActorType, Status};

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const BOB: &str = "arn:aws:iam::111122223333:user/bob";
    const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main";

    #[test]
    fn first_time_is_critical_repeat_is_high() {
        let ctx = Ctx::new();
        let day = 24 * HOUR_US;
        let start = ctx.window_start_us();
        let mut events = Vec::new();
        // Bob stopped the trail successfully 30 days ago; Alice only failed 10 days ago.
        let mut e = ev(
            "old-bob",
            start - 30 * day,
            BOB,
            ActorType::IamUser,
            "cloudtrail.amazonaws.com",
            "StopLogging",
        );
        e.resource_uid = Some(TRAIL.into());
        events.push(e);
        let mut e = ev(
            "old-alice",
            start - 10 * day,
            ALICE,
            ActorType::IamUser,
            "cloudtrail.amazonaws.com",
            "StopLogging",
        );
        e.status = Status::Failure;
        events.push(e);
        // Unrelated noise in the window.
        events.push(ev(
            "noise",
            start + HOUR_US,
            ALICE,
            ActorType::IamUser,
            "ec2.amazonaws.com",
            "DescribeInstances",
        ));
        for (uid, actor, minute) in [("a1", ALICE, 5), ("a2", ALICE, 6), ("b1", BOB, 7)] {
            let mut e = ev(
                uid,
                start + 3 * HOUR_US + minute * 60_000_000,
                actor,
                ActorType::IamUser,
                "cloudtrail.amazonaws.com",
                "StopLogging",
            );
            e.resource_uid = Some(TRAIL.into());
            e.region = Some("us-east-1".into());
            events.push(e);
        }
        write_lake(ctx.dir.path(), &events);

        let mut found = run(&ctx.ctx()).unwrap();
        found.sort_by(|a, b| a.actor_uid.cmp(&b.actor_uid));
        assert_eq!(found.len(), 2);
        let (a, b) = (&found[0], &found[1]);
        assert_eq!(a.actor_uid.as_deref(), Some(ALICE));
        assert_eq!(a.severity, Severity::Critical);
        assert_eq!(a.observed, 2.0);
        assert_eq!(a.evidence_event_uids, vec!["a1", "a2"]);
        assert_eq!(a.account_uid, "111122223333");
        assert_eq!(a.resource_uid.as_deref(), Some(TRAIL));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            a.window_start.timestamp_micros(),
            start + 3 * HOUR_US + 5 * 60_000_000
        );
        assert_eq!(
            a.window_end.timestamp_micros(),
            start + 3 * HOUR_US + 6 * 60_000_000
        );
        assert_eq!(a.attack_techniques, vec!["T1562.008", "T1685.002"]);
        assert_eq!(a.attack_version, "19");
        assert_eq!(a.data_component, "disable");
        assert_eq!(a.baseline_days, 30);
        assert!(
            a.description.contains("First logging-disable operation"),
            "{}",
            a.description
        );
        assert_eq!(b.actor_uid.as_deref(), Some(BOB));
        assert_eq!(b.severity, Severity::High);
        assert_eq!(b.evidence_event_uids, vec!["b1"]);
        // Same inputs, same ids: a re-run replaces.
        let again = run(&ctx.ctx()).unwrap();
        let mut ids: Vec<_> = again.iter().map(|f| f.finding_uid.clone()).collect();
        ids.sort();
        let mut want: Vec<_> = found.iter().map(|f| f.finding_uid.clone()).collect();
        want.sort();
        assert_eq!(ids, want);
    }

    #[test]
    fn failed_attempts_and_prefix_catalogue_ops_are_reported() {
        let ctx = Ctx::new();
        let start = ctx.window_start_us();
        let mut e = ev(
            "f1",
            start + HOUR_US,
            ALICE,
            ActorType::AssumedRole,
            "guardduty.amazonaws.com",
            "DeleteDetector",
        );
        e.status = Status::Failure;
        e.error_code = Some("AccessDenied".into());
        // Outside the window (at as_of, which is exclusive): ignored.
        let late = ev(
            "late",
            ctx.as_of_us(),
            BOB,
            ActorType::IamUser,
            "ec2.amazonaws.com",
            "DeleteFlowLogs",
        );
        write_lake(ctx.dir.path(), &[e, late]);
        let found = run(&ctx.ctx()).unwrap();
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(
            f.title,
            "DeleteDetector (attempt failed) by a first-time initiator"
        );
        assert!(f.description.contains("[errors: AccessDenied]"));
        assert_eq!(f.risk_score, 80.0);
        assert_eq!(f.baseline_days, 0);
    }

    #[test]
    fn empty_lake_gives_nothing() {
        let ctx = Ctx::new();
        assert!(run(&ctx.ctx()).unwrap().is_empty());
    }
}
