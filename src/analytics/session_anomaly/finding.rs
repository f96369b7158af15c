//! The one finding per (tenant, user, window): severity from the views that fired, and a
//! description saying what was observed, expected, from how many days, in which zone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Case, DetectContext, ID};
use crate::analytics::user_context::{risk_in_band, short_list};
use crate::analytics::{most_common, union_techniques};
use crate::findings::{finding_uid, Finding, Severity};
use crate::profiles::TaggedOperation;
use crate::scoring;

/// ATT&CK techniques every finding carries, whatever the catalogue says.
const TECHNIQUES: &[&str] = &["T1078.004"];

fn time(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default()
}

fn hm(us: i64) -> String {
    time(us).format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn names(users: &[(String, i64)]) -> String {
    let v: Vec<String> = users.iter().map(|(u, t)| format!("{u} from {}", hm(*t))).collect();
    short_list(&v, 5)
}

/// Severity of the module docs' table.
pub(super) fn severity(c: &Case) -> Severity {
    let fired = usize::from(!c.ips.is_empty()) + usize::from(c.volume_flagged) + usize::from(c.time_flagged);
    match fired {
        3 => Severity::Critical,
        2 => Severity::High,
        1 if c.volume_flagged => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Builds the finding of a case with at least one view (or the learning view) fired.
pub(super) fn build(ctx: &DetectContext, ops: &[TaggedOperation], c: &Case) -> Finding {
    let cfg = &ctx.config.session_anomaly;
    let (ws, we) = (ctx.window_start(), ctx.as_of);
    let ok = c.rows.iter().filter(|r| r.ok).count();
    let failed = c.rows.len() - ok;
    let population = if c.automation { "automation" } else { "person" };
    let days = c.history_days;

    let mut evidence: BTreeSet<usize> = BTreeSet::new();
    let mut parts = Vec::new();
    let mut title_parts = Vec::new();
    for h in &c.ips {
        evidence.extend(&h.rows);
        title_parts.push(format!("new IP {}", h.ip));
        parts.push(format!(
            "Unusual IP: {} sessions from {} (first at {}), an address the user never used in {days:.1} days of \
             Microsoft 365 / Entra history; other people who used it before the user: {} (at most {} allowed for a \
             rare address){}.",
            h.rows.len(),
            h.ip,
            hm(c.rows[h.rows[0]].t),
            if h.novelty.prior_users.is_empty() { "none".to_string() } else { names(&h.novelty.prior_users) },
            cfg.max_tenant_users_for_rare_ip,
            if h.novelty.later_users.is_empty() {
                String::new()
            } else {
                format!("; after the user: {}", names(&h.novelty.later_users))
            },
        ));
    }
    if let (true, Some(v)) = (c.volume_flagged, &c.volume) {
        evidence.extend((0..c.rows.len()).filter(|&i| c.rows[i].ok));
        title_parts.push(format!("{} sessions (expected {:.1})", v.observed, v.model.mean()));
        parts.push(format!(
            "Volume: {} successful sessions in the window against {:.2} expected from {} window-sized buckets of \
             {days:.1} days of the user's own history ({}; {} model{}); P(X ≥ {}) = {:.2e}, Benjamini–Hochberg across \
             {} {population} users tested = {:.2e} (q = {}); floors: ≥ {} sessions and ≥ {}× expected.",
            v.observed,
            v.model.mean(),
            v.buckets,
            v.seasonal.map_or("all days".to_string(), |d| format!("{d} buckets only, ≥ 3 weeks of history")),
            v.model.name(),
            v.z.map_or(String::new(), |z| format!(", robust z {z:.1}")),
            v.observed,
            v.p,
            v.family,
            v.p_adj,
            cfg.fdr_q,
            cfg.min_sessions,
            cfg.min_ratio,
        ));
    }
    if let (true, Some(t)) = (c.time_flagged, &c.time) {
        evidence.extend(c.times.iter().map(|h| h.row));
        let mut hours: BTreeMap<(u8, bool), (usize, f64)> = BTreeMap::new();
        for h in &c.times {
            let e = hours.entry((h.hour, h.weekend)).or_insert((0, h.probability));
            e.0 += 1;
        }
        let list: Vec<String> = hours
            .iter()
            .map(|((h, we), (n, p))| format!("{n} at {h:02}:00 on a {} (p = {p:.4})", if *we { "weekend" } else { "weekday" }))
            .collect();
        title_parts.push(format!("{} at unusual hours", c.times.len()));
        parts.push(format!(
            "Unusual time: {} (local hours in {}), hours whose probability in the user's smoothed profile of {} \
             sessions over {days:.1} days is below {}. Under that profile a session lands in hours this rare with \
             probability {:.4}; P(≥ {} of the window's {} sessions) = {:.2e}, Benjamini–Hochberg across {} people \
             tested = {:.2e} (q = {}).",
            list.join(", "),
            c.zone.describe(),
            c.history_sessions,
            cfg.min_hour_probability,
            t.mass,
            t.k,
            t.n,
            t.p,
            t.family,
            t.p_adj,
            cfg.fdr_q,
        ));
    }
    for h in &c.learning {
        evidence.extend(&h.rows);
        title_parts.push(format!("{} sessions from tenant-new IP {} (learning)", h.rows.len(), h.ip));
        let peers = c.peers.as_ref().map_or(String::new(), |p| {
            let top: Vec<String> = p.top.iter().map(|(u, n)| format!("{u} {n}")).collect();
            format!(
                " The {} peers active in the window had a {}-quantile of {} sessions (busiest {}); {} sessions is at \
                 least {:.0} ({}× that, counted as at least 1).",
                p.n,
                cfg.peer_quantile,
                p.quantile,
                top.join(", "),
                h.rows.len(),
                p.threshold,
                cfg.peer_factor,
            )
        });
        parts.push(format!(
            "Learning: the user has {days:.1} days of history (fewer than {}), so no statistical view applies. {} \
             successful sessions came from {} (first at {}), which no other person of the tenant ({} people active in \
             the lookback, the user included) used before this user{}.{peers} This says the address is new to the \
             tenant and the user far busier than the peers, not that the address is new to the user.",
            cfg.min_history_days,
            h.rows.len(),
            h.ip,
            hm(c.rows[h.rows[0]].t),
            c.tenant_people,
            if h.novelty.later_users.is_empty() {
                String::new()
            } else {
                format!("; later on it: {}", names(&h.novelty.later_users))
            },
        ));
    }
    let rows: Vec<&super::Row> = evidence.iter().map(|&i| &c.rows[i]).collect();
    let mut by_op: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in c.rows.iter().filter(|r| r.ok) {
        *by_op.entry((&r.service, &r.operation)).or_default() += 1;
    }
    let breakdown: Vec<String> = by_op.iter().map(|((sv, op), n)| format!("{sv} {op} ×{n}")).collect();
    let header = format!(
        "{} ({population}) of tenant {} had {ok} successful sessions ({}){} between {} and {}.",
        c.actor,
        c.account,
        breakdown.join(", "),
        if failed > 0 { format!(" and {failed} failed") } else { String::new() },
        hm(ws.timestamp_micros()),
        hm(we.timestamp_micros()),
    );
    let description = format!(
        "{header} {} Method: first-seen IP with tenant prevalence, Poisson / negative-binomial upper tail of the \
         user's own session counts with Benjamini–Hochberg, and a smoothed local hour profile (DESIGN.md \
         \"Statistics\"; Benjamini & Hochberg 1995).",
        parts.join(" ")
    );

    let severity = severity(c);
    let volume = c.volume.as_ref();
    let raw = match volume.filter(|_| c.volume_flagged) {
        Some(v) => scoring::risk_score(Some(v.p_adj), ok as f64, Some(v.model.mean())),
        // Without a volume test the sessions from the flagged addresses set the magnitude.
        None => {
            let from_ips = c.ips.iter().chain(&c.learning).map(|h| h.rows.len()).max().unwrap_or(c.times.len());
            scoring::risk_score(None, from_ips as f64, None)
        }
    };
    let entries: Vec<_> = ops
        .iter()
        .filter(|o| rows.iter().any(|r| r.service == o.service && r.operation == o.operation))
        .flat_map(|o| o.entries.iter())
        .collect();
    let (mut techniques, version) = union_techniques(&entries);
    for t in TECHNIQUES.iter().rev() {
        if !techniques.iter().any(|x| x == t) {
            techniques.insert(0, t.to_string());
        }
    }
    let top = |f: fn(&super::Row) -> Option<&str>| most_common(rows.iter().map(|r| f(r)));
    let flagged_ip = c.ips.first().or(c.learning.first()).map(|h| h.ip.clone());
    Finding {
        finding_uid: finding_uid(ID, &[&c.account, &c.actor], ws, we),
        analytic_uid: ID.into(),
        title: format!("Unusual sessions of {}: {}", c.actor, title_parts.join(", ")),
        description,
        severity,
        risk_score: risk_in_band(severity, raw),
        p_value: volume.map(|v| v.p),
        p_value_adjusted: volume.map(|v| v.p_adj),
        observed: ok as f64,
        expected: volume.map(|v| v.model.mean()),
        baseline_days: days.floor() as u32,
        window_start: ws,
        window_end: we,
        provider: top(|r| Some(r.provider.as_str())).unwrap_or_default(),
        account_uid: c.account.clone(),
        region: None,
        actor_uid: Some(c.actor.clone()),
        src_ip: flagged_ip.or_else(|| top(|r| r.ip.as_deref())),
        user_agent: top(|r| r.agent.as_deref()),
        service: top(|r| Some(r.service.as_str())),
        operation: top(|r| Some(r.operation.as_str())),
        resource_uid: None,
        data_component: entries.first().map_or("logon_session_creation".into(), |e| e.data_component.clone()),
        attack_techniques: techniques,
        attack_version: if version.is_empty() { "17".into() } else { version },
        evidence_event_uids: rows.iter().take(cfg.max_evidence).map(|r| r.event_uid.clone()).collect(),
        evidence_count: rows.len() as u64,
        suppressed: false,
        suppression_reason: None,
        run_uid: ctx.run_uid.to_string(),
    }
}
