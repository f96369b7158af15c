//! Severity (the module docs' table) and the finding of one (tenant, user, population).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::assess::Case;
use super::{FileAccessAnomalyConfig, Population, ID};
use crate::analytics::user_context::{risk_in_band, short_list};
use crate::analytics::{most_common, union_techniques, DetectContext};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::TaggedOperation;
use crate::scoring;

/// ATT&CK techniques every finding carries, whatever the catalogue says.
const TECHNIQUES: &[&str] = &["T1213.002", "T1530"];

fn hm(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

fn users(list: &[(String, i64)]) -> String {
    let v: Vec<String> = list.iter().map(|(u, t)| format!("{u} from {}", hm(*t))).collect();
    short_list(&v, 5)
}

/// The severity of a case, `None` when nothing is worth a finding.
pub(super) fn severity(c: &Case, cfg: &FileAccessAnomalyConfig) -> Option<Severity> {
    let person = c.population == Population::Person;
    let risky_channel = !c.new_ips.is_empty() || !c.scripted.is_empty();
    let far = c.peers.as_ref().is_some_and(|p| p.far_above);
    // A whole group busy at once (month-end close, a deadline) is significant for each
    // member's own history but not far from the peers: low.
    let near_peers = c.peers.as_ref().is_some_and(|p| !p.far_above);
    let script_alone = person && c.scripted_files >= cfg.min_scripted_files;
    if c.has_history {
        return match (c.volume_flagged, risky_channel, near_peers) {
            (true, true, _) => Some(Severity::High),
            (true, false, true) => Some(Severity::Low),
            (true, false, false) => Some(Severity::Medium),
            (false, ..) if script_alone => Some(Severity::Low),
            _ => None,
        };
    }
    match (far, !c.scripted.is_empty()) {
        (true, true) => Some(Severity::Medium),
        (true, false) => Some(Severity::Low),
        _ if script_alone => Some(Severity::Low),
        _ => None,
    }
}

/// Builds the finding of a case, `None` when [`severity`] says nothing fired.
pub(super) fn build(ctx: &DetectContext, ops: &[TaggedOperation], c: &Case) -> Option<Finding> {
    let cfg = &ctx.config.file_access_anomaly;
    let severity = severity(c, cfg)?;
    let (ws, we) = (ctx.window_start(), ctx.as_of);
    let pop = c.population.as_str();
    let days = c.history_days;
    let events = c.rows.len();
    let mut by_op: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in c.rows {
        *by_op.entry((&r.service, &r.operation)).or_default() += 1;
    }
    let breakdown: Vec<String> = by_op.iter().map(|((sv, op), n)| format!("{sv} {op} ×{n}")).collect();
    let mut parts = vec![format!(
        "{} ({pop}) of tenant {} accessed {} distinct files in {events} file-access events ({}) between {} and {}.",
        c.actor,
        c.account,
        c.files,
        breakdown.join(", "),
        hm(ws.timestamp_micros()),
        hm(we.timestamp_micros()),
    )];
    let mut title = Vec::new();
    if let Some(v) = &c.volume {
        if c.volume_flagged {
            title.push(format!("{} files (expected {:.1})", c.files, v.files.mean()));
        }
        parts.push(format!(
            "Own history ({}): {} files against {:.2} expected and {events} events against {:.2}, from {} window-sized \
             buckets of {days:.1} days ({}; {} / {} models{}); P(files ≥ {}) = {:.2e}, P(events ≥ {events}) = {:.2e}, \
             Bonferroni-combined p = {:.2e}, Benjamini–Hochberg across {} {pop} entities tested = {:.2e} (q = {}; \
             floors ≥ {} files and ≥ {}× expected).",
            if c.volume_flagged { "significant" } else { "not significant" },
            c.files,
            v.files.mean(),
            v.events.mean(),
            v.buckets,
            v.seasonal.map_or("all days".to_string(), |d| format!("{d} buckets only, ≥ 3 weeks of history")),
            v.files.name(),
            v.events.name(),
            v.z_files.map_or(String::new(), |z| format!(", robust z of files {z:.1}")),
            c.files,
            v.p_files,
            v.p_events,
            v.p,
            v.family,
            v.p_adj,
            cfg.fdr_q,
            cfg.min_files,
            cfg.min_ratio,
        ));
    } else {
        parts.push(format!(
            "Learning: {days:.1} days of history (fewer than {}), so no own-history test.",
            cfg.min_history_days
        ));
    }
    if let Some(p) = &c.peers {
        let top: Vec<String> = p.spread.top.iter().map(|(u, n)| format!("{u} {n}")).collect();
        let verdict = if p.far_above {
            format!("far above them (≥ {:.0} = {}× the quantile)", p.spread.threshold, cfg.peer_factor)
        } else if p.within {
            "within their usual range".to_string()
        } else {
            format!("above their quantile but below {:.0}", p.spread.threshold)
        };
        if p.far_above {
            title.push(format!("far above {} peers", p.spread.n));
        }
        parts.push(format!(
            "Peers ({}, {} people active in the window): {}-quantile {} distinct files, busiest {}; the user's {} is {verdict}.",
            if p.group.is_empty() { "the tenant's people".to_string() } else { format!("peer group '{}'", p.group) },
            p.spread.n,
            cfg.peer_quantile,
            p.spread.quantile,
            top.join(", "),
            c.files,
        ));
    }
    for h in &c.new_ips {
        title.push(format!("new IP {}", h.ip));
        parts.push(format!(
            "New IP: {} accesses from {}, an address the user never used in {days:.1} days; other people who used it \
             before the user: {}.",
            h.rows.len(),
            h.ip,
            if h.novelty.prior_users.is_empty() { "none".to_string() } else { users(&h.novelty.prior_users) },
        ));
    }
    for h in &c.tenant_new_ips {
        parts.push(format!(
            "{} accesses came from {}, first seen in the tenant on this user{} (context: new to the tenant, not \
             necessarily to the user).",
            h.rows.len(),
            h.ip,
            if h.novelty.later_users.is_empty() {
                String::new()
            } else {
                format!("; later on it: {}", users(&h.novelty.later_users))
            },
        ));
    }
    let scripted_agents: Vec<&str> = {
        let mut v: Vec<&str> = c.scripted.iter().filter_map(|&i| c.rows[i].agent.as_deref()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    if !c.scripted.is_empty() {
        title.push(format!("scripted agent {}", scripted_agents[0]));
        parts.push(format!(
            "Scripted agent: {} accesses to {} files through {}.",
            c.scripted.len(),
            c.scripted_files,
            short_list(&scripted_agents, 3)
        ));
    }
    if !c.rare_agents.is_empty() {
        parts.push(format!(
            "Agents new for the user and rare in the tenant (context): {}.",
            short_list(&c.rare_agents, 3)
        ));
    }
    parts.push(
        "Method: Poisson / negative-binomial upper tails of the user's own daily files and events with \
         Benjamini–Hochberg, a peer-group quantile, first-seen IPs with tenant prevalence and a scripted-agent list \
         (DESIGN.md \"Statistics\"; Benjamini & Hochberg 1995)."
            .to_string(),
    );
    if title.is_empty() {
        title.push(format!("{} files", c.files));
    }
    let learning = if c.has_history { "" } else { " (learning)" };

    let volume = c.volume.as_ref();
    let p_for_risk = volume.filter(|_| c.volume_flagged).map(|v| v.p_adj);
    let raw = scoring::risk_score(p_for_risk, c.files as f64, volume.map(|v| v.files.mean()));
    let entries: Vec<_> = ops
        .iter()
        .filter(|o| by_op.contains_key(&(o.service.as_str(), o.operation.as_str())))
        .flat_map(|o| o.entries.iter())
        .collect();
    let (mut techniques, version) = union_techniques(&entries);
    for t in TECHNIQUES.iter().rev() {
        if !techniques.iter().any(|x| x == t) {
            techniques.insert(0, t.to_string());
        }
    }
    let files: Vec<&str> = {
        let mut v: Vec<&str> = c.rows.iter().filter_map(|r| r.file.as_deref()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let ip = c.new_ips.first().or(c.tenant_new_ips.iter().max_by_key(|h| h.rows.len())).map(|h| h.ip.clone());
    let top_op = by_op.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| *k);
    Some(Finding {
        finding_uid: finding_uid(ID, &[c.account, c.actor, pop], ws, we),
        analytic_uid: ID.into(),
        title: format!("Unusual file access by {}: {}{learning}", c.actor, title.join(", ")),
        description: parts.join(" "),
        severity,
        risk_score: risk_in_band(severity, raw),
        p_value: volume.map(|v| v.p),
        p_value_adjusted: volume.map(|v| v.p_adj),
        observed: c.files as f64,
        expected: volume.map(|v| v.files.mean()),
        baseline_days: days.floor() as u32,
        window_start: ws,
        window_end: we,
        provider: crate::schema::Provider::M365.as_str().into(),
        account_uid: c.account.to_string(),
        region: None,
        actor_uid: Some(c.actor.to_string()),
        src_ip: ip.or_else(|| most_common(c.rows.iter().map(|r| r.ip.as_deref()))),
        user_agent: scripted_agents
            .first()
            .map(|s| s.to_string())
            .or_else(|| most_common(c.rows.iter().map(|r| r.agent.as_deref()))),
        service: top_op.map(|(s, _)| s.to_string()),
        operation: top_op.map(|(_, o)| o.to_string()),
        resource_uid: (files.len() == 1).then(|| files[0].to_string()),
        data_component: entries.first().map_or("application_log_content".into(), |e| e.data_component.clone()),
        attack_techniques: techniques,
        attack_version: if version.is_empty() { "17".into() } else { version },
        evidence_event_uids: c.rows.iter().take(cfg.max_evidence).map(|r| r.event_uid.clone()).collect(),
        evidence_count: events as u64,
        suppressed: false,
        suppression_reason: None,
        run_uid: ctx.run_uid.to_string(),
    })
}
