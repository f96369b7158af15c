//! `conditional_access_change` (signal): someone changed a Conditional Access policy or the
//! authentication methods policy. ATT&CK T1556.009 Conditional Access Policies (T1556
//! Modify Authentication Process for the authentication methods policy).
//!
//! Events: every catalogue entry tagged `conditional_access_change` — Entra audit
//! `Add`/`Update`/`Delete conditional access policy` (service `Conditional Access`), their
//! Core Directory mirrors `Add policy`, `Added policy`, `Update policy`, `Delete policy`,
//! `Hard delete policy`, and `Update authentication methods policy` /
//! `Authentication Methods Policy Update`.
//!
//! Classification ([`assess`], [`policy`]): the before and after policy are diffed —
//! `request_params.ConditionalAccessPolicy.{old,new}` (Graph `conditionalAccessPolicy`) or
//! the mirror's `PolicyDetail` — and the change is
//! - **weakening**: policy deleted while enforced (or its state unknown); state enabled →
//!   disabled or report-only; a grant control lost (`mfa`, `block`, `compliantDevice`,
//!   `domainJoinedDevice`, authentication strength, ...); grant operator AND → OR; users,
//!   groups, roles, guests, applications, locations (e.g. `AllTrusted`) or platforms added
//!   to an exclude list; an include list narrowed (users, applications, client app types,
//!   risk levels); sign-in frequency lengthened or removed; persistent browser allowed.
//!   Authentication methods policy: an external OpenID Connect / federation discovery URL
//!   or issuer changed, a weaker method (SMS, voice, email OTP, software OATH, Temporary
//!   Access Pass) enabled, an MFA / registration requirement switched off;
//! - **strengthening** or **neutral** otherwise (a new policy cannot weaken others: policies
//!   add up);
//! - **unknown** when an update carries no before/after state.
//!
//! Core Directory records are counted only when they are Conditional Access policies: their
//! `PolicyDetail` has `Conditions` or `Controls` (token lifetime and other directory
//! policies share the operation), or — without `PolicyDetail` — the target is of type
//! `Policy` and its id or display name was seen in the tenant's Conditional Access records
//! or reads like one ([`assess::looks_like_ca`]; the name comes from `raw_event`). A mirror
//! and its Conditional Access record are one change: a mirror joins the record of the same
//! tenant, initiator and add/update/delete within `mirror_seconds` that names the same
//! policy (id or name), or the only such record when names are missing; a mirror alone is
//! graded on its own diff. The lake is read `mirror_seconds` past the window's end so a
//! mirror written just before its record is not graded alone at the edge.
//!
//! Grading (anchor rules: Microsoft Sentinel "Conditional Access Policy Modified by New
//! User", Elastic "Entra ID Conditional Access Policy Modified", Panther
//! `Azure.Audit.PolicyChanged`, `Azure.Audit.MFADisabled`, `Azure.Audit.OIDC.Changed`):
//!
//! | situation | severity |
//! |---|---|
//! | every attempt failed (nothing changed) | low |
//! | weakening | high |
//! | weakening by a first-time initiator (no Conditional Access change in `history_days`), the tenant having ≥ `min_history_days` in the lake; or delete of an enforced policy that required MFA / an authentication strength / blocked | critical |
//! | unknown effect (no before/after) | medium |
//! | strengthening or neutral | info |
//! | any of the above inside a matching change request | same severity, `suppressed` |
//!
//! Change requests ([`change_requests`]): `change_requests = "path"` names a CSV or
//! Parquet table of approved changes (`ticket_id`, `actor`, `target`, `start`, `end`); a
//! finding whose every change falls inside a ticket of the same initiator and policy is
//! kept with `suppressed = true` and `suppression_reason = "change request CHG-123 (actor,
//! target, start..end)"`. An unmatched finding's description gives the initiator's
//! history: its Conditional Access changes in the `history_days` before the window, and
//! whether the tenant has `min_history_days`.
//!
//! Grouping: one finding per (tenant, initiator, policy) and UTC hour: an administrator
//! tuning one policy five times in ten minutes is one review, each policy its own.
//!
//! Known false positives: planned changes without a ticket (add the table); break-glass
//! accounts excluded on purpose (weakening, high: that is worth a look each time);
//! Microsoft-managed policies updated by Microsoft's own service principal (the initiator
//! is then an application id, graded the same).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;
use serde::Deserialize;

use super::{most_common, union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::{self, HOUR_US};
use crate::schema as s;
use crate::{Error, Result};

pub(crate) mod assess;
mod auth_methods;
pub mod change_requests;
mod describe;
pub(crate) mod policy;

use assess::{Assessment, Effect, Source};

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "conditional_access_change";
/// Catalogue tag selecting the operations.
pub const TAG: &str = "conditional_access_change";

/// `[analytics.conditional_access_change]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConditionalAccessChangeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// Days before the window searched for the initiator's earlier Conditional Access
    /// changes. Default 90.
    pub history_days: u32,
    /// Days of tenant history required before "first-time initiator" raises a weakening
    /// to critical. Default 7.
    pub min_history_days: u32,
    /// CSV or Parquet table of approved changes ([`change_requests`]); relative to the
    /// pipeline file. Default none.
    pub change_requests: Option<PathBuf>,
    /// Largest gap in seconds between a Conditional Access record and its Core Directory
    /// mirror (they are written within a second of each other). Default 60.
    pub mirror_seconds: u32,
    /// Most `event_uid`s listed as evidence per finding. Default 200.
    pub max_evidence: usize,
}

impl Default for ConditionalAccessChangeConfig {
    fn default() -> Self {
        ConditionalAccessChangeConfig {
            enabled: true,
            history_days: 90,
            min_history_days: 7,
            change_requests: None,
            mirror_seconds: 60,
            max_evidence: 200,
        }
    }
}

impl ConditionalAccessChangeConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.conditional_access_change.<key>`). The change-request file is read by
    /// [`run`] (a missing one is an error there, naming the key and path).
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("analytics.conditional_access_change.{k}");
        if self.min_history_days > self.history_days {
            return Err(Error::config(
                key("min_history_days"),
                format!(
                    "must be ≤ history_days ({}), got {}",
                    self.history_days, self.min_history_days
                ),
            ));
        }
        if self.mirror_seconds == 0 || self.mirror_seconds > 3600 {
            return Err(Error::config(
                key("mirror_seconds"),
                format!("must be in 1..=3600, got {}", self.mirror_seconds),
            ));
        }
        if self.max_evidence == 0 {
            return Err(Error::config(key("max_evidence"), "must be at least 1"));
        }
        if self
            .change_requests
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(Error::config(
                key("change_requests"),
                "must be a path (omit the key for none)",
            ));
        }
        Ok(())
    }

    /// Makes a relative `change_requests` path absolute against `base` (the pipeline
    /// file's folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(p) = &self.change_requests {
            if p.is_relative() && !p.as_os_str().is_empty() {
                self.change_requests = Some(base.join(p));
            }
        }
    }
}

/// One tagged record and what it did.
#[derive(Debug, Clone)]
struct Item {
    t: i64,
    event_uid: String,
    provider: String,
    account: String,
    actor: Option<String>,
    src_ip: Option<String>,
    user_agent: Option<String>,
    service: String,
    operation: String,
    failed: bool,
    resource: Option<String>,
    a: Assessment,
}

/// One change: a record with the mirrors that repeat it.
#[derive(Debug)]
struct Change<'a> {
    main: &'a Item,
    mirrors: Vec<&'a Item>,
}

impl Change<'_> {
    fn items(&self) -> impl Iterator<Item = &Item> {
        std::iter::once(self.main).chain(self.mirrors.iter().copied())
    }
    fn name(&self) -> Option<&str> {
        self.items().find_map(|i| i.a.name.as_deref())
    }
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

fn lower(v: Option<&str>) -> Option<String> {
    v.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty())
}

/// Runs the analytic over `ctx`'s window; see the module docs.
///
/// Errors: [`Error::Config`] when `change_requests` cannot be read or has a bad row;
/// [`Error::Lake`] for unreadable lake files.
pub fn run(ctx: &DetectContext) -> Result<Vec<Finding>> {
    let cfg = &ctx.config.conditional_access_change;
    let requests = match &cfg.change_requests {
        Some(p) => change_requests::load(p)?,
        None => Vec::new(),
    };
    let window_start = ctx.window_start();
    let history_start = window_start - Duration::days(i64::from(cfg.history_days));
    let lookahead = Duration::seconds(i64::from(cfg.mirror_seconds));
    let Some(lf) = profiles::scan_events(ctx.lake_root, history_start, ctx.as_of + lookahead)?
    else {
        return Ok(Vec::new());
    };
    let summary = ctx.summary(history_start, ctx.as_of + lookahead)?;
    let ops = profiles::tagged_operations(ctx.lake_root, summary.clone(), ctx.catalog, TAG)?;
    let (ws, end) = (
        window_start.timestamp_micros(),
        ctx.as_of.timestamp_micros(),
    );
    let items = read_items(ctx, lf.clone(), &ops)?;
    if !items.iter().any(|i| i.t >= ws && i.t < end) {
        return Ok(Vec::new());
    }
    let changes = pair_mirrors(&items, i64::from(cfg.mirror_seconds) * 1_000_000);

    let before = col(s::TIME).cast(DataType::Int64).lt(lit(ws));
    let account_start = profiles::first_seen(ctx.lake_root, summary.filter(before), s::ACCOUNT_UID)?;
    let tenant_days = |account: &str| {
        account_start.get(account).map_or(0, |&t0| {
            (((ws - t0) / (24 * HOUR_US)).max(0) as u32).min(cfg.history_days)
        })
    };
    // Times of each initiator's successful changes (sorted): how many came before the
    // window, and before a group.
    let mut times: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for c in changes.iter().filter(|c| !c.main.failed) {
        if let Some(a) = c.main.actor.as_deref() {
            times
                .entry((c.main.account.as_str(), a))
                .or_default()
                .push(c.main.t);
        }
    }

    type Key = (String, Option<String>, String, i64);
    let mut groups: BTreeMap<Key, Vec<&Change>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.main.t >= ws && c.main.t < end) {
        let policy = lower(c.main.resource.as_deref())
            .or_else(|| lower(c.name()))
            .unwrap_or_else(|| format!("{:?}", c.main.a.source).to_lowercase());
        let key = (
            c.main.account.clone(),
            c.main.actor.clone(),
            policy,
            c.main.t.div_euclid(HOUR_US),
        );
        groups.entry(key).or_default().push(c);
    }

    let mut findings = Vec::new();
    for ((account, actor, policy_key, hour), members) in groups {
        let all: Vec<&Item> = members.iter().flat_map(|c| c.items()).collect();
        let mains: Vec<&Item> = members.iter().map(|c| c.main).collect();
        let effect = mains
            .iter()
            .map(|i| i.a.effect)
            .max()
            .unwrap_or(Effect::Unknown);
        let days = tenant_days(&account);
        let enough = days >= cfg.min_history_days;
        let t_first = mains.iter().map(|i| i.t).min().unwrap_or(0);
        let own = actor
            .as_deref()
            .and_then(|a| times.get(&(account.as_str(), a)));
        let n_earlier = own.map_or(0, |ts| ts.partition_point(|&t| t < ws));
        let n_in_window = own.map_or(0, |ts| ts.partition_point(|&t| t < t_first)) - n_earlier;
        let first_time = actor.is_some() && n_earlier + n_in_window == 0;
        let deleted_mfa = all.iter().any(|i| i.a.deleted_enforced_mfa);
        let all_failed = mains.iter().all(|i| i.failed);
        let severity = if all_failed {
            Severity::Low
        } else {
            match effect {
                Effect::Weakening if deleted_mfa || (first_time && enough) => Severity::Critical,
                Effect::Weakening => Severity::High,
                Effect::Unknown => Severity::Medium,
                Effect::Neutral | Effect::Strengthening => Severity::Info,
            }
        };
        let name = members.iter().find_map(|c| c.name()).map(str::to_string);
        let resource = members.iter().find_map(|c| c.main.resource.clone());
        let ticket = requests.iter().find(|r| {
            mains.iter().all(|i| {
                r.covers(
                    actor.as_deref(),
                    resource.as_deref(),
                    name.as_deref(),
                    time(i.t),
                )
            })
        });
        let entries: Vec<_> = all
            .iter()
            .filter_map(|i| {
                ops.iter().find(|o| {
                    o.provider == i.provider && o.service == i.service && o.operation == i.operation
                })
            })
            .flat_map(|o| o.entries.iter())
            .collect();
        let (techniques, attack_version) = union_techniques(&entries);
        let text = describe::Text {
            cfg,
            members: &members,
            actor: actor.as_deref(),
            name: name.as_deref(),
            resource: resource.as_deref(),
            effect,
            severity,
            deleted_mfa,
            first_time,
            enough,
            days,
            n_earlier,
            n_in_window,
            ticket,
        };
        let hour_start = time(hour * HOUR_US);
        let uid = finding_uid(
            ID,
            &[
                &mains[0].provider,
                &account,
                actor.as_deref().unwrap_or(""),
                &policy_key,
            ],
            hour_start,
            hour_start + Duration::hours(1),
        );
        let n = all.len();
        let (t0, t1) = (
            all.iter().map(|i| i.t).min().unwrap_or(0),
            all.iter().map(|i| i.t).max().unwrap_or(0),
        );
        let mut evidence: Vec<&Item> = all.clone();
        evidence.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
        findings.push(Finding {
            finding_uid: uid,
            analytic_uid: ID.into(),
            title: text.title(),
            description: text.description(),
            severity,
            risk_score: match severity {
                Severity::Critical => 90.0,
                Severity::High => 75.0,
                Severity::Medium => 55.0,
                Severity::Low => 30.0,
                Severity::Info => 10.0,
            },
            p_value: None,
            p_value_adjusted: None,
            observed: mains.len() as f64,
            expected: None,
            baseline_days: days,
            window_start: time(t0),
            window_end: time(t1),
            provider: mains[0].provider.clone(),
            account_uid: account,
            region: None,
            actor_uid: actor,
            src_ip: most_common(all.iter().map(|i| i.src_ip.as_deref())),
            user_agent: most_common(all.iter().map(|i| i.user_agent.as_deref())),
            service: most_common(mains.iter().map(|i| Some(i.service.as_str()))),
            operation: most_common(mains.iter().map(|i| Some(i.operation.as_str()))),
            resource_uid: resource.or(name),
            data_component: entries
                .first()
                .map_or("modification".to_string(), |e| e.data_component.clone()),
            attack_techniques: techniques,
            attack_version,
            evidence_event_uids: evidence
                .iter()
                .take(cfg.max_evidence)
                .map(|i| i.event_uid.clone())
                .collect(),
            evidence_count: n as u64,
            suppressed: ticket.is_some(),
            suppression_reason: ticket.map(|t| t.reason()),
            run_uid: ctx.run_uid.to_string(),
        });
    }
    Ok(findings)
}

/// Joins each Core Directory mirror to its Conditional Access record (module docs);
/// returns the changes sorted by time.
fn pair_mirrors(items: &[Item], gap_us: i64) -> Vec<Change<'_>> {
    let (mains, mirrors): (Vec<&Item>, Vec<&Item>) = items
        .iter()
        .partition(|i| i.a.source != Source::CoreDirectory);
    let mut changes: Vec<Change> = mains
        .iter()
        .map(|m| Change {
            main: m,
            mirrors: Vec::new(),
        })
        .collect();
    for m in mirrors {
        let candidates: Vec<usize> = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let p = c.main;
                p.a.source == Source::CaService
                    && p.account == m.account
                    && p.actor == m.actor
                    && p.a.op == m.a.op
                    && (p.t - m.t).abs() <= gap_us
            })
            .map(|(i, _)| i)
            .collect();
        let same_policy = |c: &Change| {
            let ids = lower(c.main.resource.as_deref()).is_some()
                && lower(c.main.resource.as_deref()) == lower(m.resource.as_deref());
            let names = lower(c.name()).is_some() && lower(c.name()) == lower(m.a.name.as_deref());
            ids || names
        };
        let named: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| same_policy(&changes[i]))
            .collect();
        let unnamed_alone = m.a.name.is_none() && candidates.len() == 1;
        match (named.first(), unnamed_alone) {
            (Some(&i), _) => changes[i].mirrors.push(m),
            (None, true) => changes[candidates[0]].mirrors.push(m),
            _ => changes.push(Change {
                main: m,
                mirrors: Vec::new(),
            }),
        }
    }
    changes.sort_by(|a, b| (a.main.t, &a.main.event_uid).cmp(&(b.main.t, &b.main.event_uid)));
    changes
}

/// The tagged records of history and window (and `mirror_seconds` after), assessed.
fn read_items(
    ctx: &DetectContext,
    lf: LazyFrame,
    ops: &[profiles::TaggedOperation],
) -> Result<Vec<Item>> {
    let cols = [
        s::EVENT_UID,
        s::PROVIDER,
        s::ACCOUNT_UID,
        s::ACTOR_UID,
        s::SRC_IP,
        s::USER_AGENT,
        s::SERVICE,
        s::OPERATION,
        s::STATUS,
        s::RESOURCE_UID,
        s::REQUEST_PARAMS,
        s::RAW_EVENT,
    ];
    let raws = profiles::tagged_records(ctx.lake_root, lf, ops, &cols)?;
    let at = |r: &profiles::Record, name: &str| r.get(name).map(str::to_string);
    // Policies the tenant's Conditional Access records name (ids and display names), so a
    // Core Directory record about one of them counts even without a telling name.
    let mut known: HashSet<(String, String)> = HashSet::new();
    for r in &raws {
        if at(r, s::SERVICE).is_some_and(|sv| sv.eq_ignore_ascii_case("Conditional Access")) {
            let account = at(r, s::ACCOUNT_UID).unwrap_or_default();
            if let Some(id) = lower(at(r, s::RESOURCE_UID).as_deref()) {
                known.insert((account.clone(), id));
            }
            let raw = at(r, s::RAW_EVENT);
            if let Some(n) = lower(assess::raw_target(raw.as_deref()).1.as_deref()) {
                known.insert((account, n));
            }
        }
    }
    let mut items = Vec::new();
    for r in &raws {
        let (service, operation) = (
            at(r, s::SERVICE).unwrap_or_default(),
            at(r, s::OPERATION).unwrap_or_default(),
        );
        let account = at(r, s::ACCOUNT_UID).unwrap_or_default();
        let resource = at(r, s::RESOURCE_UID);
        let is_known = |name: Option<&str>| {
            [lower(resource.as_deref()), lower(name)]
                .into_iter()
                .flatten()
                .any(|k| known.contains(&(account.clone(), k)))
        };
        let (request, raw) = (at(r, s::REQUEST_PARAMS), at(r, s::RAW_EVENT));
        let Some(a) = assess::assess(
            &service,
            &operation,
            request.as_deref(),
            raw.as_deref(),
            is_known,
        ) else {
            continue;
        };
        items.push(Item {
            t: r.t,
            event_uid: at(r, s::EVENT_UID).unwrap_or_default(),
            provider: at(r, s::PROVIDER).unwrap_or_default(),
            account,
            actor: at(r, s::ACTOR_UID),
            src_ip: at(r, s::SRC_IP),
            user_agent: at(r, s::USER_AGENT),
            service,
            operation,
            failed: at(r, s::STATUS).as_deref() == Some(s::Status::Failure.as_str()),
            resource,
            a,
        });
    }
    items.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    Ok(items)
}

#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;
