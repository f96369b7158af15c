//! The severity table of the module docs as a pure function of a group's facts.

use super::tenant::Owner;
use crate::findings::Severity;

/// What a group of records (one rule or forward, one hour) does, after the recipients were
/// placed inside or outside the tenant.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// (address, its domain) outside every tenant domain and not allowed by configuration.
    pub external: Vec<(String, String)>,
    /// (address, why internal: the tenant domain it belongs to, or "allowed").
    pub internal: Vec<(String, String)>,
    /// Recipients named without an address (`ForwardingAddress = "Bob Smith"`).
    pub unresolved: Vec<String>,
    /// Hiding actions in words: `deletes`, `marks as read`, `moves to "RSS Feeds"`.
    pub hides: Vec<String>,
    /// Suspicious keywords found in the conditions.
    pub keywords: Vec<String>,
    /// `StopProcessingRules`.
    pub stop: bool,
    /// `DeliverToMailboxAndForward` false.
    pub no_copy: bool,
    /// Initiator vs mailbox owner; `None` for organisation-wide transport rules.
    pub owner: Option<Owner>,
    /// A transport rule (every mailbox it matches).
    pub org_wide: bool,
    /// A `Set-Mailbox` that removes forwarding.
    pub clears: bool,
    /// Evidence events and how many of them failed.
    pub n: usize,
    pub failed: usize,
    /// External destinations also targeted from other mailboxes: (address, mailboxes).
    pub shared: Vec<(String, usize)>,
    /// No earlier forwarding-rule operation by the initiator within the history.
    pub first_time: bool,
    /// The tenant has at least `min_history_days` in the lake.
    pub enough_history: bool,
}

/// A grade and the reasons behind it, in the order they apply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Grade {
    pub severity: Severity,
    pub reasons: Vec<String>,
}

impl Facts {
    /// Forwards anywhere (any recipient at all).
    pub(crate) fn forwards(&self) -> bool {
        !(self.external.is_empty() && self.internal.is_empty() && self.unresolved.is_empty())
    }
}

/// The module docs' severity table; `None` when the group is not a finding (an organising
/// rule that neither forwards nor hides).
pub(crate) fn grade(f: &Facts) -> Option<Grade> {
    let external = !f.external.is_empty();
    let hides = !f.hides.is_empty();
    let g = |severity, reasons: Vec<String>| Some(Grade { severity, reasons });
    if f.clears && !f.forwards() {
        return g(
            Severity::Info,
            vec!["forwarding removed from the mailbox (a repair)".into()],
        );
    }
    if !external && !hides {
        if !f.unresolved.is_empty() {
            return g(
                if f.failed == f.n { Severity::Info } else { Severity::Low },
                vec!["forwards to a directory recipient the record names without an address, so it cannot be placed inside or outside the tenant".into()],
            );
        }
        if !f.internal.is_empty() {
            return g(Severity::Info, vec!["every recipient is inside the tenant (or allowed by configuration) and the rule hides nothing".into()]);
        }
        return None;
    }
    // An owner's rule that only marks mail as read (filing notifications into a folder) is
    // the commonest legitimate rule there is; it hides mail only together with a delete, an
    // obscure folder, suspicious keywords, forwarding, or someone else's hand.
    let only_marks_read = f.hides.iter().all(|h| h == "marks as read");
    if !external && only_marks_read && f.keywords.is_empty() && f.owner != Some(Owner::Different) && !f.org_wide {
        return None;
    }
    let mut reasons = Vec::new();
    if external {
        reasons.push("forwards outside the tenant (T1114.003)".to_string());
    }
    if hides {
        reasons.push(format!("hides mail: {} (T1564.008)", f.hides.join(", ")));
    }
    if f.failed == f.n {
        reasons.push("every attempt failed, so nothing was changed".into());
        return g(Severity::Low, reasons);
    }
    let mut aggravating = Vec::new();
    if f.owner == Some(Owner::Different) {
        aggravating.push("the initiator is not the mailbox owner".to_string());
    }
    if f.org_wide {
        aggravating.push(
            "an organisation-wide transport rule, applying to every mailbox it matches".into(),
        );
    }
    if external && hides {
        aggravating.push("forwards and hides the originals".into());
    }
    if !f.keywords.is_empty() {
        aggravating.push(format!(
            "conditions on suspicious words ({})",
            f.keywords.join(", ")
        ));
    }
    if external && f.no_copy {
        aggravating.push("the owner keeps no copy (DeliverToMailboxAndForward false)".into());
    }
    if external && f.stop {
        aggravating.push("stops processing later rules".into());
    }
    let mut severity = match aggravating.len() {
        0 => Severity::Medium,
        1 => Severity::High,
        _ => Severity::Critical,
    };
    reasons.extend(aggravating);
    if let Some((dest, n)) = f
        .shared
        .iter()
        .max_by_key(|(d, n)| (*n, std::cmp::Reverse(d.clone())))
    {
        severity = Severity::Critical;
        reasons.push(format!(
            "{n} mailboxes forward to {dest} (several mailboxes forwarding to one destination)"
        ));
    }
    if f.first_time && f.enough_history {
        severity = Severity::Critical;
        reasons.push("first forwarding-rule operation by this initiator".into());
    }
    g(severity, reasons)
}

/// Risk score (0–100) of a severity, kept inside [`Severity::from_risk_score`]'s band.
pub(crate) fn risk(severity: Severity) -> f64 {
    match severity {
        Severity::Info => 10.0,
        Severity::Low => 30.0,
        Severity::Medium => 55.0,
        Severity::High => 75.0,
        Severity::Critical => 90.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext() -> Facts {
        Facts {
            external: vec![("x@evil.com".into(), "evil.com".into())],
            owner: Some(Owner::Same),
            n: 1,
            ..Facts::default()
        }
    }

    #[test]
    fn severity_table() {
        assert_eq!(grade(&ext()).unwrap().severity, Severity::Medium);
        let mut f = ext();
        f.owner = Some(Owner::Different);
        assert_eq!(grade(&f).unwrap().severity, Severity::High);
        f.no_copy = true;
        assert_eq!(grade(&f).unwrap().severity, Severity::Critical);
        let mut f = ext();
        f.shared = vec![("x@evil.com".into(), 2)];
        let g = grade(&f).unwrap();
        assert_eq!(g.severity, Severity::Critical);
        assert!(
            g.reasons
                .iter()
                .any(|r| r.contains("2 mailboxes forward to x@evil.com")),
            "{g:?}"
        );
        let mut f = ext();
        f.first_time = true;
        assert_eq!(
            grade(&f).unwrap().severity,
            Severity::Medium,
            "first time needs history"
        );
        f.enough_history = true;
        assert_eq!(grade(&f).unwrap().severity, Severity::Critical);
        let mut f = ext();
        f.failed = 1;
        assert_eq!(grade(&f).unwrap().severity, Severity::Low);
    }

    #[test]
    fn hiding_internal_and_organising_rules() {
        let hide = Facts {
            hides: vec!["deletes".into()],
            stop: true,
            n: 1,
            owner: Some(Owner::Same),
            ..Facts::default()
        };
        assert_eq!(
            grade(&hide).unwrap().severity,
            Severity::Medium,
            "stop alone does not raise a hiding rule"
        );
        let mut k = hide.clone();
        k.keywords = vec!["covid".into()];
        assert_eq!(grade(&k).unwrap().severity, Severity::High);
        let internal = Facts {
            internal: vec![("m@x.com".into(), "x.com".into())],
            owner: Some(Owner::Different),
            n: 1,
            ..Facts::default()
        };
        assert_eq!(grade(&internal).unwrap().severity, Severity::Info);
        // Filing notifications: the owner moves them to a normal folder and marks them read.
        let filing = Facts {
            n: 1,
            hides: vec!["marks as read".into()],
            owner: Some(Owner::Same),
            first_time: true,
            enough_history: true,
            ..Facts::default()
        };
        assert_eq!(grade(&filing), None);
        let by_other = Facts { owner: Some(Owner::Different), ..filing.clone() };
        assert!(grade(&by_other).is_some_and(|g| g.severity >= Severity::High));
        let organise = Facts {
            stop: true,
            n: 1,
            ..Facts::default()
        };
        assert_eq!(grade(&organise), None);
        let clear = Facts {
            clears: true,
            n: 1,
            ..Facts::default()
        };
        assert_eq!(grade(&clear).unwrap().severity, Severity::Info);
        let unresolved = Facts {
            unresolved: vec!["bob smith".into()],
            n: 1,
            ..Facts::default()
        };
        assert_eq!(grade(&unresolved).unwrap().severity, Severity::Low);
        assert_eq!(risk(Severity::High), 75.0);
        assert_eq!(
            Severity::from_risk_score(risk(Severity::Medium)),
            Severity::Medium
        );
    }
}
