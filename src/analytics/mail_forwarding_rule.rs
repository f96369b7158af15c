//! `mail_forwarding_rule` (signal): a mailbox starts forwarding mail out of the tenant, or
//! gets an inbox rule that hides mail from its owner. ATT&CK T1114.003 Email Forwarding
//! Rule; T1564.008 Email Hiding Rules for delete / mark-as-read / move rules.
//!
//! Events: every catalogue entry tagged `forwarding_rule` — Exchange `New-InboxRule`,
//! `Set-InboxRule`, `Enable-InboxRule`, `UpdateInboxRules` (Outlook's client rules, actions
//! in `OperationProperties`), `Set-Mailbox` (`ForwardingSmtpAddress`, `ForwardingAddress`,
//! `DeliverToMailboxAndForward`), `New-`/`Set-`/`Enable-TransportRule` (`RedirectMessageTo`,
//! `BlindCopyTo`, `CopyTo`, `AddToRecipients`), and Security & Compliance `AlertTriggered`
//! for Microsoft's "Creation of forwarding/redirect rule" alert. What a record asks for is
//! read by parameter name ([`parse`]).
//!
//! Anchor rules: Microsoft Sentinel "Malicious Inbox Rule" (delete / Junk on keywords such
//! as "helpdesk", "phishing", "do not open") and "Mail redirect via ExO transport rule";
//! Sentinel "Malicious Mailbox Rules (BEC)" (moves to Archive, RSS, Conversation History
//! and marks read); Elastic "Microsoft 365 Exchange Inbox Forwarding Rule Created" and
//! "Microsoft 365 Inbox Rule Deletes or Moves Suspicious Emails"; Panther
//! `Microsoft365.Exchange.External.Forwarding` (its labelled tests are a regression set,
//! see the tests). Those rules alert on every match; this analytic grades:
//!
//! | situation | severity |
//! |---|---|
//! | `Set-Mailbox` that empties `ForwardingSmtpAddress` / `ForwardingAddress` (a repair) | info |
//! | every recipient internal (tenant domain or `allowed_destinations`), nothing hidden — whoever set it | info |
//! | neither forwards nor hides (an organising rule: move to a normal folder, stop processing), the owner's rule that only marks mail as read (filing notifications), or a removed client rule | no finding |
//! | forwards only to a directory recipient named without an address | low |
//! | forwards or hides, but every attempt failed | low |
//! | forwards to an external recipient, or hides mail (deletes, marks read, moves to an obscure folder) | medium |
//! | … plus one aggravating condition: initiator is not the mailbox owner; organisation-wide transport rule; forwards *and* hides; conditions on suspicious keywords; owner keeps no copy (`DeliverToMailboxAndForward` false) with external forwarding; `StopProcessingRules` with external forwarding | high |
//! | … plus two or more aggravating conditions; or an external destination receives forwards from ≥ `shared_destination_min_mailboxes` mailboxes of the tenant over the window and `history_days` before it ("several mailboxes forwarding to one destination"); or the initiator's first `forwarding_rule` operation in `history_days`, the tenant having ≥ `min_history_days` in the lake | critical |
//!
//! `StopProcessingRules` alone raises nothing: most organising rules set it (Panther's
//! "Internal Forwarding with Suspicious Pattern" test, a move to a normal folder with
//! stop-processing, is labelled benign).
//!
//! Tenant domains: `tenant_domains` from the configuration, plus (when
//! `learn_tenant_domains`) what the lake shows about the tenant (`account_uid`) over the
//! window and `history_days` before it: the domain after `@` of every person's `actor_uid`
//! (`actor_type = user`, Exchange and Entra rows alike; guests' `…#EXT#@contoso.onmicrosoft.com`
//! teach the tenant's own domain), the domain of every mailbox UPN a forwarding-rule cmdlet
//! changed successfully (Exchange gives mailboxes addresses in accepted domains only), and
//! the initial domain named in Exchange DNs
//! (`…/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/…`). A person whose
//! home tenant (`actor_account_uid`) is another tenant teaches nothing, nor do consumer
//! mail domains ([`tenant::CONSUMER_DOMAINS`]) or shared suffixes (`onmicrosoft.com`).
//! A recipient is internal when its domain *is* a tenant domain or a subdomain of one
//! (`springfield.simpsons.com` under `simpsons.com`); a look-alike (`simpsons2.com`) is
//! external. For a Panther test event this makes its tenant domain the domain of its own
//! `userid` (and of the mailbox UPN or DN in its parameters), as Panther's rule takes it
//! from `userid` and `organizationname` — `organizationname` itself is not in the lake.
//!
//! Initiator vs owner: the mailbox is `Set-Mailbox`'s `Identity`, an inbox rule's `Mailbox`
//! (else the mailbox part of its DN), a client rule's `MailboxOwnerUPN`; it may be a UPN,
//! an alias, a display name or a DN, compared as [`tenant::owner_relation`] says (same
//! address, or the same local part in two tenant domains; an alias or DN leaf equal to the
//! UPN's local part; a display name with the same words; otherwise unknown, which raises
//! nothing).
//!
//! Grouping: one finding per (tenant, initiator, mailbox, destination-or-rule) and UTC hour
//! — a `Set-Mailbox` forward is keyed by its destinations, a rule by its name — so that a
//! script editing one rule five times is one incident, while each mailbox stays its own
//! finding; the hour bucket keeps the finding id stable when windows overlap. A forwarding
//! alert joins the finding of the same user and hour when there is one; alone it is medium
//! (the alert does not say where mail goes).
//!
//! Known false positives: users forwarding their own mail to a personal address (medium,
//! high if they also keep no copy); assistants managing an executive's rules (initiator
//! is not the owner); users filing newsletters into "Archive" or "RSS Feeds" (medium);
//! a migration forwarding every mailbox to the new domain (medium each; high when an
//! administrator sets it: list the domain in `allowed_destinations`); a shared collection
//! address such as a ticketing system receiving several mailboxes (critical: list it in
//! `allowed_destinations`); a tenant domain that appears in no UPN of the lake (add it to
//! `tenant_domains`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;

use super::{most_common, union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding};
use crate::profiles::{self, HOUR_US};
use crate::schema as s;
use crate::Result;

mod config;
mod describe;
mod grade;
mod lake;
pub(crate) mod parse;
pub(crate) mod tenant;

pub use config::MailForwardingRuleConfig;
use grade::Facts;
use parse::{Kind, RuleChange};
use tenant::{Owner, TenantDomains};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "mail_forwarding_rule";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "forwarding_rule";

/// One tagged record read from the lake (window and history).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    t: i64,
    event_uid: String,
    provider: String,
    account: String,
    actor: Option<String>,
    src_ip: Option<String>,
    user_agent: Option<String>,
    service: String,
    operation: String,
    status: String,
    kind: Kind,
    change: RuleChange,
}

impl Row {
    fn failed(&self) -> bool {
        self.status == s::Status::Failure.as_str()
    }
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

/// Runs the analytic over `ctx`'s window; see the module docs.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.mail_forwarding_rule;
    let window_start = ctx.window_start();
    let history_start = window_start - Duration::days(i64::from(cfg.history_days));
    let Some(lf) = profiles::scan_events(ctx.lake_root, history_start, ctx.as_of)? else {
        return Ok(Vec::new());
    };
    let summary = ctx.summary(history_start, ctx.as_of)?;
    let ops = profiles::tagged_operations(ctx.lake_root, summary.clone(), ctx.catalog, TAG)?;
    let ws = window_start.timestamp_micros();
    let rows = lake::read_rows(ctx, lf.clone(), &ops)?;
    if !rows.iter().any(|r| r.t >= ws) {
        return Ok(Vec::new());
    }
    let accounts: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.t >= ws)
        .map(|r| r.account.as_str())
        .collect();
    let tenants = lake::tenant_domains(ctx, lf.clone(), &rows, &accounts)?;
    let before = col(s::TIME).cast(DataType::Int64).lt(lit(ws));
    let account_start = profiles::first_seen(ctx.lake_root, summary.filter(before), s::ACCOUNT_UID)?;
    let history_days = |account: &str| {
        account_start.get(account).map_or(0, |&t0| {
            (((ws - t0) / (24 * HOUR_US)).max(0) as u32).min(cfg.history_days)
        })
    };
    let empty = TenantDomains::default();
    let tenant_of = |a: &str| tenants.get(a).unwrap_or(&empty);

    // Times of each initiator's successful operations (rows are sorted by time): its
    // first one, and how many came before a group.
    let mut ops_of: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    // External destination → mailboxes forwarding to it (window + history).
    let mut by_destination: HashMap<(&str, String), BTreeSet<String>> = HashMap::new();
    for r in rows.iter().filter(|r| !r.failed()) {
        if let Some(a) = r.actor.as_deref() {
            ops_of.entry((r.account.as_str(), a)).or_default().push(r.t);
        }
        let mailbox = mailbox_of(r);
        for (addr, _) in classify(cfg, tenant_of(&r.account), &r.change.destinations).external {
            by_destination
                .entry((r.account.as_str(), addr))
                .or_default()
                .insert(tenant::mailbox_key(&mailbox));
        }
    }

    type Key = (String, Option<String>, String, String, i64);
    let mut groups: BTreeMap<Key, Vec<&Row>> = BTreeMap::new();
    let mut alerts: Vec<&Row> = Vec::new();
    for r in rows.iter().filter(|r| r.t >= ws) {
        if r.kind == Kind::Alert {
            let ours = r
                .change
                .alert_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(parse::FORWARDING_ALERT));
            if ours {
                alerts.push(r);
            }
            continue;
        }
        if r.change.removed {
            continue;
        }
        let mailbox = mailbox_of(r);
        let key = (
            r.account.clone(),
            r.actor.clone(),
            tenant::mailbox_key(&mailbox),
            target_key(r),
            r.t.div_euclid(HOUR_US),
        );
        groups.entry(key).or_default().push(r);
    }

    let mut findings: Vec<Finding> = Vec::new();
    for ((account, actor, mailbox_key, target, hour), mut members) in groups {
        members.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
        let tenant = tenant_of(&account);
        let mailbox = mailbox_of(members[0]);
        let org_wide = members.iter().any(|r| r.kind == Kind::TransportRule);
        let mut facts = Facts {
            owner: (!org_wide).then(|| tenant::owner_relation(actor.as_deref(), &mailbox, tenant)),
            org_wide,
            n: members.len(),
            failed: members.iter().filter(|r| r.failed()).count(),
            enough_history: history_days(&account) >= cfg.min_history_days,
            ..Facts::default()
        };
        let mut destinations: Vec<String> = Vec::new();
        let mut conditions: Vec<(String, String)> = Vec::new();
        for r in &members {
            let c = &r.change;
            facts.clears |= c.clears_forwarding;
            facts.no_copy |= c.no_copy;
            facts.stop |= c.stop;
            let mut hides = Vec::new();
            if c.deletes {
                hides.push("deletes".to_string());
            }
            if c.marks_read {
                hides.push("marks as read".to_string());
            }
            if let Some(f) = c.move_folder.as_deref().filter(|f| cfg.obscure(f)) {
                hides.push(format!("moves to \"{f}\""));
            }
            for h in hides {
                if !facts.hides.contains(&h) {
                    facts.hides.push(h);
                }
            }
            for d in &c.destinations {
                if !destinations.contains(d) {
                    destinations.push(d.clone());
                }
            }
            for cond in &c.conditions {
                if !conditions.contains(cond) {
                    conditions.push(cond.clone());
                }
            }
        }
        let placed = classify(cfg, tenant, &destinations);
        facts.external = placed.external;
        facts.internal = placed.internal;
        facts.unresolved = placed.unresolved;
        for (_, v) in &conditions {
            let lv = v.to_lowercase();
            for k in &cfg.suspicious_keywords {
                let k = k.trim().to_lowercase();
                if lv.contains(&k) && !facts.keywords.contains(&k) {
                    facts.keywords.push(k);
                }
            }
        }
        for (addr, _) in &facts.external {
            let n = by_destination
                .get(&(account.as_str(), addr.clone()))
                .map_or(0, BTreeSet::len);
            if n >= cfg.shared_destination_min_mailboxes as usize {
                facts.shared.push((addr.clone(), n));
            }
        }
        let first_t = members[0].t;
        let earlier = actor
            .as_deref()
            .and_then(|a| ops_of.get(&(account.as_str(), a)))
            .map_or(0, |ts| ts.partition_point(|&t| t < first_t));
        facts.first_time = actor.is_some() && earlier == 0;
        let Some(graded) = grade::grade(&facts) else {
            continue;
        };
        let days = history_days(&account);
        let text = describe::Text {
            cfg,
            facts: &facts,
            grade: &graded,
            actor: actor.as_deref(),
            mailbox: &mailbox,
            rule: members.iter().find_map(|r| r.change.rule_name.clone()),
            conditions: &conditions,
            members: &members,
            tenant,
            days,
            earlier,
        };
        let entries: Vec<_> = members
            .iter()
            .filter_map(|r| {
                ops.iter().find(|o| {
                    o.provider == r.provider && o.service == r.service && o.operation == r.operation
                })
            })
            .flat_map(|o| o.entries.iter())
            .collect();
        let (mut techniques, attack_version) = union_techniques(&entries);
        if !facts.hides.is_empty() && !techniques.iter().any(|t| t == "T1564.008") {
            techniques.push("T1564.008".into());
        }
        if !facts.forwards() && techniques.len() > 1 {
            techniques.retain(|t| t != "T1114.003");
        }
        let hour_start = time(hour * HOUR_US);
        let uid = finding_uid(
            ID,
            &[
                &members[0].provider,
                &account,
                actor.as_deref().unwrap_or(""),
                &mailbox_key,
                &target,
            ],
            hour_start,
            hour_start + Duration::hours(1),
        );
        let n = members.len();
        findings.push(Finding {
            finding_uid: uid,
            analytic_uid: ID.into(),
            title: text.title(),
            description: text.description(),
            severity: graded.severity,
            risk_score: grade::risk(graded.severity),
            p_value: None,
            p_value_adjusted: None,
            observed: n as f64,
            expected: None,
            baseline_days: days,
            window_start: time(first_t),
            window_end: time(members[n - 1].t),
            provider: members[0].provider.clone(),
            account_uid: account,
            region: None,
            actor_uid: actor,
            src_ip: most_common(members.iter().map(|r| r.src_ip.as_deref())),
            user_agent: most_common(members.iter().map(|r| r.user_agent.as_deref())),
            service: most_common(members.iter().map(|r| Some(r.service.as_str()))),
            operation: most_common(members.iter().map(|r| Some(r.operation.as_str()))),
            resource_uid: Some(mailbox),
            data_component: entries
                .first()
                .map_or("application_log_content".to_string(), |e| {
                    e.data_component.clone()
                }),
            attack_techniques: techniques,
            attack_version,
            evidence_event_uids: members
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
    let alone = describe::alerts(ctx, &ops, &alerts, &mut findings);
    findings.extend(alone);
    Ok(findings)
}

/// The mailbox a record changes: as parsed, else the initiator's own (an inbox rule
/// without `Mailbox` is the caller's), else "(organisation)" for transport rules.
fn mailbox_of(r: &Row) -> String {
    if r.kind == Kind::TransportRule {
        return "(organisation)".to_string();
    }
    r.change
        .mailbox
        .clone()
        .or_else(|| r.actor.clone())
        .unwrap_or_else(|| "(unknown mailbox)".to_string())
}

/// The destination-or-rule part of the grouping key (module docs).
fn target_key(r: &Row) -> String {
    let c = &r.change;
    let mut dests = c.destinations.clone();
    dests.sort();
    match (r.kind, c.rule_name.as_deref()) {
        (_, _) if c.clears_forwarding => "clear".to_string(),
        (Kind::MailboxForwarding, _) | (_, None) => format!("fwd:{}", dests.join(",")),
        (_, Some(name)) => format!("rule:{}", name.to_lowercase()),
    }
}

/// Recipients placed inside or outside the tenant.
#[derive(Debug, Default)]
struct Placed {
    external: Vec<(String, String)>,
    internal: Vec<(String, String)>,
    unresolved: Vec<String>,
}

fn classify(
    cfg: &MailForwardingRuleConfig,
    tenant: &TenantDomains,
    destinations: &[String],
) -> Placed {
    let mut p = Placed::default();
    for d in destinations {
        let Some((_, domain)) = d.rsplit_once('@') else {
            p.unresolved.push(d.clone());
            continue;
        };
        if cfg.allowed(d, domain) {
            p.internal
                .push((d.clone(), "allowed by allowed_destinations".into()));
        } else if let Some(t) = tenant.owning(domain) {
            p.internal.push((d.clone(), t.to_string()));
        } else {
            p.external.push((d.clone(), domain.to_string()));
        }
    }
    p
}

/// `Owner` in words for descriptions.
fn owner_words(o: Option<Owner>) -> &'static str {
    match o {
        Some(Owner::Same) => "the initiator owns the mailbox",
        Some(Owner::Different) => "the initiator is NOT the mailbox owner",
        Some(Owner::Unknown) => {
            "whether the initiator owns the mailbox cannot be told from the record"
        }
        None => "organisation-wide rule",
    }
}

#[cfg(test)]
mod real_tests;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
