//! Titles and descriptions of the findings, and Microsoft's forwarding alert.

use chrono::Duration;

use super::grade::{Facts, Grade};
use super::tenant::{short_mailbox, TenantDomains};
use super::{owner_words, time, MailForwardingRuleConfig, Row, ID};
use crate::analytics::{union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::{TaggedOperation, HOUR_US};

/// Everything a finding's text is made of.
pub(super) struct Text<'a> {
    pub cfg: &'a MailForwardingRuleConfig,
    pub facts: &'a Facts,
    pub grade: &'a Grade,
    pub actor: Option<&'a str>,
    pub mailbox: &'a str,
    pub rule: Option<String>,
    pub conditions: &'a [(String, String)],
    pub members: &'a [&'a Row],
    pub tenant: &'a TenantDomains,
    /// Days of tenant history before the window (capped at `history_days`).
    pub days: u32,
    /// Successful forwarding-rule operations by the initiator before this group, within
    /// `history_days` before the window and the window itself.
    pub earlier: usize,
}

fn list(v: &[String], max: usize) -> String {
    let mut s = v.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if v.len() > max {
        s.push_str(&format!(" and {} more", v.len() - max));
    }
    s
}

impl Text<'_> {
    pub(super) fn title(&self) -> String {
        let f = self.facts;
        let who = self.actor.unwrap_or("an unidentified principal");
        let mailbox = short_mailbox(self.mailbox);
        let first = |v: &[(String, String)]| v.first().map(|(a, _)| a.clone()).unwrap_or_default();
        let what = if !f.external.is_empty() {
            let more = if f.external.len() > 1 {
                format!(" (+{})", f.external.len() - 1)
            } else {
                String::new()
            };
            let hide = if f.hides.is_empty() {
                ""
            } else {
                " and hidden"
            };
            format!(
                "Mail forwarded outside the tenant{hide} to {}{more} from {}",
                first(&f.external),
                mailbox
            )
        } else if !f.hides.is_empty() {
            format!(
                "Inbox rule hides mail ({}) in {}",
                f.hides.join(", "),
                mailbox
            )
        } else if f.clears && !f.forwards() {
            format!("Mailbox forwarding removed from {}", mailbox)
        } else if !f.unresolved.is_empty() {
            format!(
                "Mail forwarded to a recipient without an address ({}) from {}",
                f.unresolved[0], mailbox
            )
        } else {
            format!(
                "Internal mail forwarding to {} from {}",
                first(&f.internal),
                mailbox
            )
        };
        let failed = if f.failed == f.n {
            " (attempt failed)"
        } else {
            ""
        };
        format!("{what}{failed} by {who}")
    }

    pub(super) fn description(&self) -> String {
        let f = self.facts;
        let who = self.actor.unwrap_or("An unidentified principal");
        let mut ops: Vec<&str> = self.members.iter().map(|r| r.operation.as_str()).collect();
        ops.sort_unstable();
        ops.dedup();
        let (t0, t1) = (self.members[0].t, self.members[self.members.len() - 1].t);
        let mut out = format!(
            "{who} called {} {} time(s) between {} and {} on mailbox {} ({}).",
            ops.join(", "),
            f.n,
            time(t0).to_rfc3339(),
            time(t1).to_rfc3339(),
            self.mailbox,
            owner_words(f.owner),
        );
        if f.failed > 0 {
            out.push_str(&format!(" {} of {} attempt(s) failed.", f.failed, f.n));
        }
        if let Some(rule) = &self.rule {
            out.push_str(&format!(" Rule: \"{rule}\"."));
        }
        let mut recipients = Vec::new();
        for (a, d) in &f.external {
            recipients.push(format!(
                "{a} — external: {d} is neither a tenant domain nor under one"
            ));
        }
        for (a, why) in &f.internal {
            let why = if why.starts_with("allowed") {
                why.clone()
            } else {
                format!("internal: in tenant domain {why}")
            };
            recipients.push(format!("{a} — {why}"));
        }
        for a in &f.unresolved {
            recipients.push(format!("{a} — a recipient named without an address"));
        }
        if !recipients.is_empty() {
            out.push_str(&format!(" Forwards to: {}.", list(&recipients, 8)));
            out.push_str(&format!(" Tenant domains: {}.", self.tenant.describe()));
        }
        let mut actions: Vec<String> = f.hides.clone();
        if f.stop {
            actions.push("stops processing later rules".into());
        }
        if f.no_copy {
            actions.push("keeps no copy in the mailbox".into());
        }
        if let Some(m) = self
            .members
            .iter()
            .find_map(|r| r.change.move_folder.clone())
        {
            if !f.hides.iter().any(|h| h.contains(&m)) {
                actions.push(format!("moves to \"{m}\""));
            }
        }
        if !actions.is_empty() {
            out.push_str(&format!(" Actions: {}.", actions.join(", ")));
        }
        if !self.conditions.is_empty() {
            let c: Vec<String> = self
                .conditions
                .iter()
                .map(|(k, v)| format!("{k} = \"{v}\""))
                .collect();
            out.push_str(&format!(" Conditions: {}.", list(&c, 6)));
        }
        out.push_str(&format!(
            " Severity {}: {}.",
            self.grade.severity,
            self.grade.reasons.join("; ")
        ));
        let h = self.cfg.history_days;
        let history = if self.actor.is_none() {
            "The record names no initiator, so its history cannot be checked.".to_string()
        } else if f.first_time && f.enough_history {
            format!("First forwarding-rule operation by this initiator in {} days of the tenant's history.", self.days)
        } else if f.first_time {
            format!(
                "No earlier forwarding-rule operation by this initiator, but learning: the tenant has {} days of history (fewer than min_history_days = {}), so that is not called new.",
                self.days, self.cfg.min_history_days
            )
        } else {
            format!("This initiator made {} earlier forwarding-rule operation(s) (in the {h} days before the window, or earlier in it).", self.earlier)
        };
        out.push_str(&format!(
            " {history} Signal per Sentinel 'Malicious Inbox Rule', Elastic 'Microsoft 365 Exchange Inbox Forwarding Rule Created' and Panther Microsoft365.Exchange.External.Forwarding, graded by cloudsift."
        ));
        out
    }
}

/// Microsoft's "Creation of forwarding/redirect rule" alerts: each joins the findings of
/// the same tenant, user and UTC hour (evidence appended); the others become findings of
/// their own, medium, since the alert does not say where mail goes. Returns the new ones.
pub(super) fn alerts(
    ctx: &DetectContext,
    ops: &[TaggedOperation],
    alerts: &[&Row],
    findings: &mut [Finding],
) -> Vec<Finding> {
    let cfg = &ctx.config.mail_forwarding_rule;
    let mut out: Vec<Finding> = Vec::new();
    for r in alerts {
        let user = r.change.alert_user.clone();
        let hour = r.t.div_euclid(HOUR_US);
        let joined: Vec<&mut Finding> = findings
            .iter_mut()
            .filter(|f| {
                f.account_uid == r.account
                    && f.window_start.timestamp_micros().div_euclid(HOUR_US) == hour
                    && user.as_deref().is_some_and(|u| {
                        f.actor_uid.as_deref() == Some(u)
                            || f.resource_uid
                                .as_deref()
                                .is_some_and(|m| m.eq_ignore_ascii_case(u))
                    })
            })
            .collect();
        if !joined.is_empty() {
            for f in joined {
                if f.evidence_event_uids.len() < cfg.max_evidence {
                    f.evidence_event_uids.push(r.event_uid.clone());
                }
                f.evidence_count += 1;
                f.description.push_str(" Microsoft's alert 'Creation of forwarding/redirect rule' fired for this user in the same hour.");
            }
            continue;
        }
        let entries: Vec<_> = ops
            .iter()
            .filter(|o| {
                o.provider == r.provider && o.service == r.service && o.operation == r.operation
            })
            .flat_map(|o| o.entries.iter())
            .collect();
        let (techniques, attack_version) = union_techniques(&entries);
        let who = user.as_deref().unwrap_or("an unnamed user");
        let hour_start = time(hour * HOUR_US);
        let uid = finding_uid(
            ID,
            &[&r.provider, &r.account, who, "alert"],
            hour_start,
            hour_start + Duration::hours(1),
        );
        if let Some(f) = out.iter_mut().find(|f| f.finding_uid == uid) {
            f.evidence_event_uids.push(r.event_uid.clone());
            f.evidence_count += 1;
            f.observed += 1.0;
            f.window_end = time(r.t);
            continue;
        }
        out.push(Finding {
            finding_uid: uid,
            analytic_uid: ID.into(),
            title: format!("Microsoft alert 'Creation of forwarding/redirect rule' for {who}"),
            description: format!(
                "Microsoft 365 raised its built-in alert 'Creation of forwarding/redirect rule' for {who} at {}, and no inbox-rule or mailbox record of that user in the same hour is in the lake, so where the mail goes is unknown: medium. Collect the Exchange audit records (Audit.Exchange) to grade the rule itself.",
                time(r.t).to_rfc3339()
            ),
            severity: Severity::Medium,
            risk_score: super::grade::risk(Severity::Medium),
            p_value: None,
            p_value_adjusted: None,
            observed: 1.0,
            expected: None,
            baseline_days: 0,
            window_start: time(r.t),
            window_end: time(r.t),
            provider: r.provider.clone(),
            account_uid: r.account.clone(),
            region: None,
            actor_uid: user.clone(),
            src_ip: r.src_ip.clone(),
            user_agent: r.user_agent.clone(),
            service: Some(r.service.clone()),
            operation: Some(r.operation.clone()),
            resource_uid: user,
            data_component: entries.first().map_or("application_log_content".to_string(), |e| e.data_component.clone()),
            attack_techniques: techniques,
            attack_version,
            evidence_event_uids: vec![r.event_uid.clone()],
            evidence_count: 1,
            suppressed: false,
            suppression_reason: None,
            run_uid: ctx.run_uid.to_string(),
        });
    }
    out
}
