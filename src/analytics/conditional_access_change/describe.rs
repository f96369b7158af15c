//! Titles and descriptions of `conditional_access_change` findings.

use super::assess::{Effect, Op, Source};
use super::change_requests::ChangeRequest;
use super::{time, Change, ConditionalAccessChangeConfig};
use crate::findings::Severity;

/// Everything a finding's text is made of.
pub(super) struct Text<'a> {
    pub cfg: &'a ConditionalAccessChangeConfig,
    pub members: &'a [&'a Change<'a>],
    pub actor: Option<&'a str>,
    pub name: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub effect: Effect,
    pub severity: Severity,
    pub deleted_mfa: bool,
    pub first_time: bool,
    pub enough: bool,
    /// Tenant history before the window, days (capped at `history_days`).
    pub days: u32,
    /// The initiator's successful changes in `history_days` before the window.
    pub n_earlier: usize,
    /// Its successful changes earlier in the window than this group.
    pub n_in_window: usize,
    pub ticket: Option<&'a ChangeRequest>,
}

impl Text<'_> {
    fn what(&self) -> String {
        let main = self.members[0].main;
        match (main.a.source, self.name) {
            (Source::AuthMethods, _) => "Authentication methods policy".to_string(),
            (_, Some(n)) => format!("Conditional Access policy \"{n}\""),
            (_, None) => format!(
                "Conditional Access policy {}",
                self.resource.unwrap_or("(unnamed)")
            ),
        }
    }

    fn weaker(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in self.members {
            for w in c.items().flat_map(|i| i.a.weaker.iter()) {
                if !v.contains(w) {
                    v.push(w.clone());
                }
            }
        }
        v
    }

    pub(super) fn title(&self) -> String {
        let who = self.actor.unwrap_or("an unidentified principal");
        let deleted = self.members.iter().any(|c| c.main.a.op == Op::Delete);
        let added = self.members.iter().all(|c| c.main.a.op == Op::Add);
        let verb = match self.effect {
            Effect::Weakening if deleted => "deleted".to_string(),
            Effect::Weakening => format!(
                "weakened ({})",
                self.weaker().first().cloned().unwrap_or_default()
            ),
            Effect::Unknown => "changed (effect not in the record)".into(),
            _ if deleted => "deleted".into(),
            _ if added => "added".into(),
            Effect::Strengthening => "strengthened".into(),
            Effect::Neutral => "changed (no weakening)".into(),
        };
        let failed = if self.members.iter().all(|c| c.main.failed) {
            " (attempt failed)"
        } else {
            ""
        };
        format!("{} {verb}{failed} by {who}", self.what())
    }

    pub(super) fn description(&self) -> String {
        let who = self.actor.unwrap_or("An unidentified principal");
        let mut ops: Vec<String> = self
            .members
            .iter()
            .flat_map(|c| c.items())
            .map(|i| format!("{} ({})", i.operation, i.service))
            .collect();
        ops.sort();
        ops.dedup();
        let mains: Vec<i64> = self.members.iter().map(|c| c.main.t).collect();
        let mirrors: usize = self.members.iter().map(|c| c.mirrors.len()).sum();
        let mut out = format!(
            "{who} made {} change(s) to {}{} between {} and {}: {}.",
            self.members.len(),
            self.what(),
            self.resource
                .map_or(String::new(), |r| format!(" (id {r})")),
            time(*mains.iter().min().unwrap_or(&0)).to_rfc3339(),
            time(*mains.iter().max().unwrap_or(&0)).to_rfc3339(),
            ops.join(", "),
        );
        if mirrors > 0 {
            out.push_str(&format!(
                " {mirrors} Core Directory record(s) mirror the same change and are counted once."
            ));
        }
        if self
            .members
            .iter()
            .any(|c| c.main.a.source == Source::CoreDirectory)
        {
            out.push_str(" Graded from the Core Directory record (no Conditional Access record of the change is in the lake).");
        }
        let weaker = self.weaker();
        let mut stronger: Vec<String> = Vec::new();
        let mut changes: Vec<String> = Vec::new();
        for i in self.members.iter().flat_map(|c| c.items()) {
            for s in &i.a.stronger {
                if !stronger.contains(s) {
                    stronger.push(s.clone());
                }
            }
            for s in &i.a.changes {
                if !changes.contains(s) && changes.len() < 16 {
                    changes.push(s.clone());
                }
            }
        }
        let effect = match self.effect {
            Effect::Weakening => "weakening",
            Effect::Unknown => "unknown: the record has no before/after state",
            Effect::Neutral => "neutral",
            Effect::Strengthening => "strengthening",
        };
        out.push_str(&format!(" Effect: {effect}."));
        if !weaker.is_empty() {
            out.push_str(&format!(" Weakens: {}.", weaker.join("; ")));
        }
        if !stronger.is_empty() {
            out.push_str(&format!(" Strengthens: {}.", stronger.join("; ")));
        }
        if !changes.is_empty() {
            out.push_str(&format!(" Changed fields: {}.", changes.join("; ")));
        }
        let h = self.cfg.history_days;
        let tenant = if self.enough {
            format!(
                "the tenant has {} days of history (≥ min_history_days = {})",
                self.days, self.cfg.min_history_days
            )
        } else {
            format!(
                "learning: the tenant has only {} days of history (fewer than min_history_days = {}), so a first-time initiator is not raised",
                self.days, self.cfg.min_history_days
            )
        };
        let initiator = if self.actor.is_none() {
            "The record names no initiator, so its history cannot be checked".to_string()
        } else if self.first_time {
            format!("First Conditional Access change by this initiator in {h} days ({} earlier); {tenant}", self.n_earlier)
        } else {
            format!(
                "This initiator made {} Conditional Access change(s) in the {h} days before the window and {} earlier in it; {tenant}",
                self.n_earlier, self.n_in_window
            )
        };
        out.push_str(&format!(" {initiator}."));
        let why = match self.severity {
            Severity::Critical if self.deleted_mfa => {
                "an enforced policy requiring MFA or blocking access was deleted"
            }
            Severity::Critical => "a weakening by a first-time initiator",
            Severity::High => "a weakening",
            Severity::Medium => "the effect cannot be told from the record",
            Severity::Low => "every attempt failed, so nothing changed",
            Severity::Info => "nothing was weakened",
        };
        out.push_str(&format!(" Severity {}: {why}.", self.severity));
        match self.ticket {
            Some(t) => out.push_str(&format!(" Covered by {}: kept, suppressed.", t.reason())),
            None if self.cfg.change_requests.is_some() => {
                out.push_str(" No change request covers it.")
            }
            None => {}
        }
        out.push_str(
            " Signal per Sentinel 'Conditional Access Policy Modified by New User', Elastic 'Entra ID Conditional Access Policy Modified' and Panther Azure.Audit.PolicyChanged / Azure.Audit.MFADisabled, graded by cloudsift.",
        );
        out
    }
}
