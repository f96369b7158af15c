//! Grading a group of events: who the initiator is ([`ActorClass`]), what the operation
//! weighs ([`Weight`]), the initiator's history ([`Standing`]) and the resulting [`Grade`]
//! (the table in [`super`]'s docs).

use super::{Params, Row};
use crate::findings::Severity;
use crate::profiles;
use crate::schema::ActorType;

/// Who the initiator is, for grading (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActorClass {
    /// A person's own identity.
    Person,
    /// An assumed role that is not an SSO session: a workload or a person, unknown which.
    Role,
    /// A service principal, service account, managed identity, AWS service, or a role
    /// calling through an infrastructure-as-code agent.
    Automation,
    /// The record names no initiator, or its type is unknown.
    Unknown,
}

impl ActorClass {
    /// Class of the initiator of `rows` (one actor): automation when its type says so or
    /// when most calls carry an IaC agent; AWS SSO sessions (`AWSReservedSSO_` roles) are
    /// people.
    pub fn of(rows: &[&Row]) -> ActorClass {
        let Some(first) = rows.first() else {
            return ActorClass::Unknown;
        };
        let Some(actor) = first.actor.as_deref() else {
            return ActorClass::Unknown;
        };
        let iac = rows
            .iter()
            .filter(|r| r.user_agent.as_deref().is_some_and(profiles::is_iac_user_agent))
            .count();
        let t = first.actor_type;
        if t.is_automation() || iac * 2 > rows.len() {
            return ActorClass::Automation;
        }
        match t {
            ActorType::IamUser
            | ActorType::Root
            | ActorType::FederatedUser
            | ActorType::IdentityCenterUser
            | ActorType::User => ActorClass::Person,
            ActorType::AssumedRole if is_sso_role(actor) => ActorClass::Person,
            ActorType::AssumedRole => ActorClass::Role,
            _ => ActorClass::Unknown,
        }
    }

    /// Lower-case noun for descriptions.
    pub fn noun(self) -> &'static str {
        match self {
            ActorClass::Person => "person",
            ActorClass::Role => "role (workload or person)",
            ActorClass::Automation => "automation",
            ActorClass::Unknown => "unidentified initiator",
        }
    }
}

/// AWS IAM Identity Center permission-set roles: a person signed in through SSO.
fn is_sso_role(actor: &str) -> bool {
    actor.contains("AWSReservedSSO_") || actor.contains("/aws-reserved/sso.amazonaws.com/")
}

/// How much an operation matters by itself, set by each analytic from the operation and
/// its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    /// Everyday structure (create a resource group or project): −2 levels.
    Context,
    /// A deployment of new code or settings to an existing function or app
    /// ([`super::is_deploy`]): what CI/CD and developers do all day (Panther's Lambda
    /// update rules are INFO without alerts, Elastic's a building block, Splunk's a
    /// hunting search): −2 levels, so it is recorded (a person's first deploy low) and
    /// alerts only through its request or a count outlier.
    Deploy,
    /// A change worth reviewing when unusual: ±0.
    Change,
    /// Grants access, deletes, or enables a costly capability: +1.
    Sensitive,
    /// Dangerous by itself (leave the organisation, make a function public): +1, at least
    /// high, never suppressed.
    Severe,
}

/// The initiator's history for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// No initiator in the record; `days` of account history.
    Anonymous {
        /// Account history, days.
        days: u32,
    },
    /// The account has fewer than `min_history_days` days in the lake.
    Learning {
        /// Account history, days.
        days: u32,
    },
    /// No earlier success in scope within `history_days`.
    FirstTime {
        /// Account history, days.
        days: u32,
    },
    /// Earlier successes in scope, but not this operation routinely.
    Repeat {
        /// Account history, days.
        days: u32,
        /// Earlier successful events in scope before the window.
        before: u64,
        /// Distinct days of those.
        before_days: u32,
    },
    /// The same service and operation on ≥ `routine_min_days` distinct days before.
    Routine {
        /// Account history, days.
        days: u32,
        /// Distinct earlier days of this (service, operation).
        routine_days: u32,
    },
}

impl Standing {
    /// Account history behind the standing, days.
    pub fn days(&self) -> u32 {
        match *self {
            Standing::Anonymous { days }
            | Standing::Learning { days }
            | Standing::FirstTime { days }
            | Standing::Repeat { days, .. }
            | Standing::Routine { days, .. } => days,
        }
    }

    /// One sentence for descriptions; `scope` names what was searched ("event-trigger
    /// operation").
    pub fn sentence(&self, scope: &str, p: &Params) -> String {
        match *self {
            Standing::Anonymous { days } => format!(
                "The record names no initiator, so its history cannot be checked ({days} days of account history)."
            ),
            Standing::Learning { days } => format!(
                "Learning: the account has {days} days in the lake (fewer than {}), too few to call this initiator new or routine.",
                p.min_history_days
            ),
            Standing::FirstTime { days } => format!(
                "First {scope} by this initiator in {days} days of the account's history."
            ),
            Standing::Repeat { days, before: 0, .. } => format!(
                "This initiator already made an earlier {scope} in the window (none in the {days} days before it)."
            ),
            Standing::Repeat { days, before, before_days } => format!(
                "This initiator made {before} earlier {scope}(s) on {before_days} day(s) in the {days} days before the window."
            ),
            Standing::Routine { days, routine_days } => format!(
                "Routine: this initiator called the same operation on {routine_days} distinct earlier days within history_days = {} (routine_min_days = {}; {days} whole days of account history).",
                p.history_days, p.routine_min_days
            ),
        }
    }
}

/// What [`grade`] decides: a severity, the reasons, and a suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// The severity.
    pub severity: Severity,
    /// Why, in order (joined with "; " in the description).
    pub reasons: Vec<String>,
    /// Why the finding is kept but not alerting.
    pub suppressed: Option<String>,
}

fn level(s: Severity) -> i32 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i32
}

fn severity_at(level: i32) -> Severity {
    Severity::ALL[level.clamp(0, 4) as usize]
}

impl Grade {
    /// Raises the severity by `steps` levels (capped at critical), with a reason.
    pub fn raise(&mut self, steps: i32, reason: impl Into<String>) {
        self.severity = severity_at(level(self.severity) + steps);
        self.reasons.push(reason.into());
    }

    /// Raises the severity to at least `floor`, with a reason; lifts a routine suppression.
    pub fn at_least(&mut self, floor: Severity, reason: impl Into<String>) {
        if level(self.severity) < level(floor) {
            self.severity = floor;
        }
        self.suppressed = None;
        self.reasons.push(reason.into());
    }
}

/// Grades one group (see the module docs' table). `all_failed`: every event failed.
pub fn grade(class: ActorClass, standing: &Standing, weight: Weight, all_failed: bool) -> Grade {
    if all_failed {
        let (l, why) = match weight {
            Weight::Context | Weight::Deploy => (0, "every attempt failed (nothing changed)"),
            Weight::Severe => (2, "every attempt failed, but attempting this at all is a signal"),
            _ => (1, "every attempt failed (nothing changed); repeated failures are worth a look"),
        };
        return Grade { severity: severity_at(l), reasons: vec![why.to_string()], suppressed: None };
    }
    let person = matches!(class, ActorClass::Person | ActorClass::Unknown);
    let (base, why, routine) = match (standing, class) {
        (Standing::Anonymous { .. }, _) => (2, "initiator unknown", false),
        (Standing::FirstTime { .. }, _) if person => (3, "a person doing this for the first time", false),
        (Standing::FirstTime { .. }, _) => (2, "a non-human or shared identity doing this for the first time", false),
        (Standing::Learning { .. }, _) if person => (2, "a person, while the baseline is still being learned", false),
        (Standing::Learning { .. }, ActorClass::Role) => (1, "a shared role, while the baseline is still being learned", false),
        (Standing::Learning { .. }, _) => (0, "automation, while the baseline is still being learned", false),
        (Standing::Repeat { .. }, _) if person => (1, "a person who has done this before", false),
        (Standing::Repeat { .. }, _) => (1, "a non-human or shared identity that has done this before", false),
        (Standing::Routine { .. }, _) if person => (1, "a person doing this routinely", false),
        (Standing::Routine { .. }, _) => (0, "automation doing this routinely", true),
    };
    let mut reasons = vec![why.to_string()];
    let l = match weight {
        Weight::Context => {
            reasons.push("everyday structural change (−2)".into());
            base - 2
        }
        Weight::Deploy => {
            reasons.push("a deployment, what developers and pipelines do all day (−2)".into());
            base - 2
        }
        Weight::Change => base,
        Weight::Sensitive => {
            reasons.push("sensitive operation (+1)".into());
            base + 1
        }
        Weight::Severe => {
            reasons.push("dangerous by itself (+1, at least high)".into());
            (base + 1).max(3)
        }
    };
    let suppressed = (routine && weight != Weight::Severe).then(|| {
        "routine: the same non-human or shared initiator made this call on enough distinct earlier days".to_string()
    });
    Grade { severity: severity_at(l), reasons, suppressed }
}
