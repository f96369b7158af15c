//! A Conditional Access policy reduced to what decides its strength, read from either of
//! the two shapes Entra logs, and the comparison of a before and an after state.
//!
//! - Conditional Access service records carry the Microsoft Graph `conditionalAccessPolicy`
//!   (`state`, `conditions.users.includeUsers`, `grantControls.builtInControls`,
//!   `sessionControls.signInFrequency`, ...), documented at
//!   <https://learn.microsoft.com/en-us/graph/api/resources/conditionalaccesspolicy>.
//! - The Core Directory mirror (`Update policy`) carries `PolicyDetail`, a list of JSON
//!   strings in the directory's older shape (`State`, `Conditions.Users.Include[{Users:[…]}]`,
//!   `Controls[{Control:["Mfa"]}]`, `SignInFrequencyTimeSpan` `d.hh:mm:ss`). Microsoft does
//!   not document it; the mapping follows what the records show.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Whether the policy is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Enabled,
    ReportOnly,
    Disabled,
}

/// The parts of a policy that decide what it enforces.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Policy {
    pub name: Option<String>,
    pub state: Option<State>,
    /// Grant and block controls, lower-cased: `mfa`, `block`, `compliantdevice`,
    /// `domainjoineddevice`, `authenticationstrength`, ...
    pub controls: BTreeSet<String>,
    /// `AND` / `OR` between grant controls.
    pub operator: Option<String>,
    /// Condition lists deciding *to what* the policy applies, by dimension
    /// (`users`, `groups`, `roles`, `applications`, `locations`, `clientapptypes`, ...).
    pub include: BTreeMap<String, BTreeSet<String>>,
    /// Exclusions by dimension.
    pub exclude: BTreeMap<String, BTreeSet<String>>,
    /// Sign-in frequency in hours (0 = every time), when the control is on.
    pub sign_in_hours: Option<f64>,
    /// Persistent browser session mode (`always` / `never`).
    pub persistent_browser: Option<String>,
}

/// Include dimensions where an empty list means "any" (a condition not set): narrowing
/// them from empty to a value *reduces* coverage.
const ANY_WHEN_EMPTY: &[&str] = &[
    "clientapptypes",
    "userrisklevels",
    "signinrisklevels",
    "serviceprincipalrisklevels",
    "locations",
    "platforms",
    "insiderrisklevels",
];

/// Controls whose loss weakens a policy.
pub(crate) const STRONG_CONTROLS: &[&str] = &[
    "mfa",
    "block",
    "compliantdevice",
    "domainjoineddevice",
    "approvedapplication",
    "compliantapplication",
    "passwordchange",
    "authenticationstrength",
    "riskremediation",
];

fn lower_set(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.to_lowercase()),
                Value::Number(n) => Some(n.to_string()),
                Value::Object(_) => Some(x.to_string().to_lowercase()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => s
            .split(',')
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// Key lookup, exact then ASCII case-insensitive.
pub(crate) fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let m = v.as_object()?;
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn path<'v>(v: &'v Value, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().try_fold(v, |v, k| get(v, k))
}

fn control_name(c: &str) -> String {
    let c = c.to_lowercase();
    match c.as_str() {
        "requirecompliantdevice" => "compliantdevice".into(),
        "requiredomainjoineddevice" => "domainjoineddevice".into(),
        "requireapprovedapp" | "requireapprovedapplication" => "approvedapplication".into(),
        "requirecompliantapp" | "requirecompliantapplication" | "requireappprotectionpolicy" => {
            "compliantapplication".into()
        }
        "requiremfa" | "multifactorauthentication" => "mfa".into(),
        _ => c,
    }
}

fn state_of(s: &str) -> Option<State> {
    match s.to_ascii_lowercase().as_str() {
        "enabled" => Some(State::Enabled),
        "disabled" => Some(State::Disabled),
        "enabledforreportingbutnotenforced" | "reporting" | "reportonly" => Some(State::ReportOnly),
        _ => None,
    }
}

/// `90.00:00:00` / `12:00:00` → hours.
fn timespan_hours(s: &str) -> Option<f64> {
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if r.contains(':') => (d.parse::<f64>().ok()?, r),
        _ => (0.0, s),
    };
    let mut parts = rest.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next().unwrap_or("0").parse().ok()?;
    Some(days * 24.0 + h + m / 60.0)
}

impl Policy {
    /// Reads a Graph `conditionalAccessPolicy` object; `None` for anything else (null).
    pub(crate) fn from_graph(v: &Value) -> Option<Policy> {
        v.as_object()?;
        let mut p = Policy {
            name: get(v, "displayName")
                .and_then(Value::as_str)
                .map(str::to_string),
            state: get(v, "state").and_then(Value::as_str).and_then(state_of),
            ..Policy::default()
        };
        let grant = get(v, "grantControls");
        if let Some(g) = grant.filter(|g| g.is_object()) {
            p.controls = lower_set(get(g, "builtInControls"))
                .into_iter()
                .map(|c| control_name(&c))
                .collect();
            if get(g, "authenticationStrength").is_some_and(|a| !a.is_null()) {
                p.controls.insert("authenticationstrength".into());
            }
            if !lower_set(get(g, "termsOfUse")).is_empty() {
                p.controls.insert("termsofuse".into());
            }
            p.operator = get(g, "operator")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase);
        }
        let c = get(v, "conditions");
        let dims: &[(&[&str], &str, bool)] = &[
            (&["users", "includeUsers"], "users", true),
            (&["users", "excludeUsers"], "users", false),
            (&["users", "includeGroups"], "groups", true),
            (&["users", "excludeGroups"], "groups", false),
            (&["users", "includeRoles"], "roles", true),
            (&["users", "excludeRoles"], "roles", false),
            (
                &["applications", "includeApplications"],
                "applications",
                true,
            ),
            (
                &["applications", "excludeApplications"],
                "applications",
                false,
            ),
            (&["applications", "includeUserActions"], "useractions", true),
            (&["locations", "includeLocations"], "locations", true),
            (&["locations", "excludeLocations"], "locations", false),
            (&["platforms", "includePlatforms"], "platforms", true),
            (&["platforms", "excludePlatforms"], "platforms", false),
            (&["clientAppTypes"], "clientapptypes", true),
            (&["userRiskLevels"], "userrisklevels", true),
            (&["signInRiskLevels"], "signinrisklevels", true),
            (
                &["servicePrincipalRiskLevels"],
                "serviceprincipalrisklevels",
                true,
            ),
        ];
        if let Some(c) = c {
            for (keys, dim, include) in dims {
                let set = lower_set(path(c, keys));
                let target = if *include {
                    &mut p.include
                } else {
                    &mut p.exclude
                };
                target.entry((*dim).to_string()).or_default().extend(set);
            }
            for (key, include) in [
                ("includeGuestsOrExternalUsers", true),
                ("excludeGuestsOrExternalUsers", false),
            ] {
                if let Some(g) = path(c, &["users", key]).filter(|g| !g.is_null()) {
                    let target = if include {
                        &mut p.include
                    } else {
                        &mut p.exclude
                    };
                    target
                        .entry("guests".into())
                        .or_default()
                        .insert(g.to_string().to_lowercase());
                }
            }
        }
        if let Some(f) = path(v, &["sessionControls", "signInFrequency"]).filter(|f| f.is_object())
        {
            let on = get(f, "isEnabled").and_then(Value::as_bool).unwrap_or(true);
            let every_time = get(f, "frequencyInterval")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case("everyTime"));
            let value = get(f, "value").and_then(Value::as_f64);
            let per = match get(f, "type")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("days") => 24.0,
                _ => 1.0,
            };
            p.sign_in_hours = match (on, every_time, value) {
                (false, _, _) => None,
                (true, true, _) => Some(0.0),
                (true, false, Some(v)) => Some(v * per),
                (true, false, None) => None,
            };
        }
        p.persistent_browser = path(v, &["sessionControls", "persistentBrowser"])
            .filter(|b| get(b, "isEnabled").and_then(Value::as_bool).unwrap_or(true))
            .and_then(|b| get(b, "mode"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        Some(p)
    }

    /// Reads the Core Directory `PolicyDetail` (a list of JSON strings, or one object);
    /// `None` when it is not a Conditional Access policy (no `Conditions` nor `Controls`:
    /// token lifetime, home realm discovery and other directory policies share the record).
    pub(crate) fn from_policy_detail(v: &Value) -> Option<Policy> {
        let obj = match v {
            Value::Array(a) => a.iter().find_map(|x| match x {
                Value::String(s) => serde_json::from_str::<Value>(s)
                    .ok()
                    .filter(Value::is_object),
                Value::Object(_) => Some(x.clone()),
                _ => None,
            })?,
            Value::String(s) => serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_object)?,
            Value::Object(_) => v.clone(),
            _ => return None,
        };
        if get(&obj, "Conditions").is_none() && get(&obj, "Controls").is_none() {
            return None;
        }
        let mut p = Policy {
            state: get(&obj, "State")
                .and_then(Value::as_str)
                .and_then(state_of),
            ..Policy::default()
        };
        if let Some(Value::Array(controls)) = get(&obj, "Controls") {
            for c in controls {
                for name in lower_set(get(c, "Control")) {
                    p.controls.insert(control_name(&name));
                }
            }
        }
        if let Some(Value::Object(conds)) = get(&obj, "Conditions") {
            for body in conds.values() {
                for (side, include) in [("Include", true), ("Exclude", false)] {
                    let Some(Value::Array(items)) = get(body, side) else {
                        continue;
                    };
                    for item in items {
                        let Some(m) = item.as_object() else { continue };
                        for (k, vals) in m {
                            let dim = match k.to_ascii_lowercase().as_str() {
                                "clienttypes" => "clientapptypes".to_string(),
                                "deviceplatforms" => "platforms".to_string(),
                                "signinrisks" => "signinrisklevels".to_string(),
                                "userrisks" => "userrisklevels".to_string(),
                                other => other.to_string(),
                            };
                            let target = if include {
                                &mut p.include
                            } else {
                                &mut p.exclude
                            };
                            target.entry(dim).or_default().extend(lower_set(Some(vals)));
                        }
                    }
                }
            }
        }
        let sif_on = lower_set(get(&obj, "SessionControls")).contains("signinfrequency");
        if sif_on {
            p.sign_in_hours = get(&obj, "SignInFrequencyTimeSpan")
                .and_then(Value::as_str)
                .and_then(timespan_hours);
        }
        Some(p)
    }

    /// Enforced (state enabled, or unknown state, which Entra writes only for enabled
    /// policies in older records).
    pub(crate) fn enforced(&self) -> bool {
        matches!(self.state, Some(State::Enabled) | None)
    }

    /// Requires MFA (or an authentication strength) or blocks.
    pub(crate) fn requires_mfa(&self) -> bool {
        ["mfa", "authenticationstrength", "block"]
            .iter()
            .any(|c| self.controls.contains(*c))
    }
}

fn covers_all(dim: &str, set: &BTreeSet<String>) -> bool {
    set.contains("all") || (set.is_empty() && ANY_WHEN_EMPTY.contains(&dim))
}

fn names(v: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    v.into_iter()
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Weakening and strengthening effects of going from `old` to `new` (both present).
pub(crate) fn compare(old: &Policy, new: &Policy) -> (Vec<String>, Vec<String>) {
    let (mut weaker, mut stronger) = (Vec::new(), Vec::new());
    let st = |s: Option<State>| match s {
        Some(State::Enabled) => "enabled",
        Some(State::ReportOnly) => "report-only",
        Some(State::Disabled) => "disabled",
        None => "unknown",
    };
    match (old.enforced(), new.enforced()) {
        (true, false) => {
            weaker.push(format!(
                "state {} → {} (no longer enforced)",
                st(old.state),
                st(new.state)
            ));
            return (weaker, stronger);
        }
        (false, true) => {
            stronger.push(format!(
                "state {} → {} (now enforced)",
                st(old.state),
                st(new.state)
            ));
            return (weaker, stronger);
        }
        (false, false) => return (weaker, stronger),
        (true, true) => {}
    }
    let lost: Vec<&String> = old
        .controls
        .difference(&new.controls)
        .filter(|c| STRONG_CONTROLS.contains(&c.as_str()))
        .collect();
    if !lost.is_empty() {
        weaker.push(format!("grant controls lost: {}", names(lost)));
    }
    let gained: Vec<&String> = new
        .controls
        .difference(&old.controls)
        .filter(|c| STRONG_CONTROLS.contains(&c.as_str()))
        .collect();
    if !gained.is_empty() {
        stronger.push(format!("grant controls added: {}", names(gained)));
    }
    if new.controls.len() > 1
        && old.operator.as_deref() == Some("AND")
        && new.operator.as_deref() == Some("OR")
    {
        weaker.push("grant operator AND → OR (one control is enough)".into());
    }
    let dims: BTreeSet<&String> = old.include.keys().chain(new.include.keys()).collect();
    let empty = BTreeSet::new();
    for dim in dims {
        let (o, n) = (
            old.include.get(dim).unwrap_or(&empty),
            new.include.get(dim).unwrap_or(&empty),
        );
        let (oa, na) = (covers_all(dim, o), covers_all(dim, n));
        if oa && !na {
            weaker.push(format!(
                "{dim} narrowed from all to {}",
                if n.is_empty() {
                    "none".into()
                } else {
                    names(n)
                }
            ));
        } else if !oa && na {
            stronger.push(format!("{dim} widened to all"));
        } else if !oa && !na {
            let removed: Vec<&String> = o.difference(n).collect();
            let added: Vec<&String> = n.difference(o).collect();
            if !removed.is_empty() {
                weaker.push(format!("{dim} no longer included: {}", names(removed)));
            } else if !added.is_empty() {
                stronger.push(format!("{dim} now also included: {}", names(added)));
            }
        }
    }
    let dims: BTreeSet<&String> = old.exclude.keys().chain(new.exclude.keys()).collect();
    for dim in dims {
        let (o, n) = (
            old.exclude.get(dim).unwrap_or(&empty),
            new.exclude.get(dim).unwrap_or(&empty),
        );
        let added: Vec<&String> = n.difference(o).collect();
        let removed: Vec<&String> = o.difference(n).collect();
        if !added.is_empty() {
            weaker.push(format!("{dim} excluded: {}", names(added)));
        }
        if !removed.is_empty() {
            stronger.push(format!("{dim} no longer excluded: {}", names(removed)));
        }
    }
    match (old.sign_in_hours, new.sign_in_hours) {
        (Some(o), Some(n)) if n > o => {
            weaker.push(format!("sign-in frequency lengthened {o} h → {n} h"))
        }
        (Some(o), Some(n)) if n < o => {
            stronger.push(format!("sign-in frequency shortened {o} h → {n} h"))
        }
        (Some(o), None) => weaker.push(format!("sign-in frequency ({o} h) removed")),
        (None, Some(n)) => stronger.push(format!("sign-in frequency set to {n} h")),
        _ => {}
    }
    if new.persistent_browser.as_deref() == Some("always")
        && old.persistent_browser.as_deref() != Some("always")
    {
        weaker.push("persistent browser sessions allowed".into());
    }
    (weaker, stronger)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(state: &str, controls: &[&str], exclude_users: &[&str]) -> Policy {
        Policy::from_graph(&json!({
            "displayName": "Require MFA", "state": state,
            "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": exclude_users}, "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
            "grantControls": {"operator": "OR", "builtInControls": controls},
            "sessionControls": {"signInFrequency": {"value": 1, "type": "days", "isEnabled": true}}
        }))
        .unwrap()
    }

    #[test]
    fn weakening_and_strengthening() {
        let base = graph("enabled", &["mfa"], &[]);
        assert_eq!(
            compare(&base, &graph("disabled", &["mfa"], &[])).0,
            vec!["state enabled → disabled (no longer enforced)"]
        );
        assert_eq!(
            compare(
                &base,
                &graph("enabledForReportingButNotEnforced", &["mfa"], &[])
            )
            .0,
            vec!["state enabled → report-only (no longer enforced)"]
        );
        assert_eq!(
            compare(&base, &graph("enabled", &[], &[])).0,
            vec!["grant controls lost: mfa"]
        );
        assert_eq!(
            compare(&base, &graph("enabled", &["mfa"], &["eve-id"])).0,
            vec!["users excluded: eve-id"]
        );
        let (w, s) = compare(&graph("enabled", &["mfa"], &["eve-id"]), &base);
        assert!(w.is_empty());
        assert_eq!(s, vec!["users no longer excluded: eve-id"]);
        assert_eq!(
            compare(&graph("disabled", &[], &[]), &base).1,
            vec!["state disabled → enabled (now enforced)"]
        );
        let mut long = base.clone();
        long.sign_in_hours = Some(24.0 * 90.0);
        assert_eq!(
            compare(&base, &long).0,
            vec!["sign-in frequency lengthened 24 h → 2160 h"]
        );
        let mut fewer_apps = base.clone();
        fewer_apps
            .include
            .insert("applications".into(), ["office365".to_string()].into());
        assert_eq!(
            compare(&base, &fewer_apps).0,
            vec!["applications narrowed from all to office365"]
        );
        let mut browser_only = base.clone();
        browser_only
            .include
            .insert("clientapptypes".into(), ["browser".to_string()].into());
        assert_eq!(
            compare(&base, &browser_only).0,
            vec!["clientapptypes narrowed from all to browser"]
        );
        // Nothing enforced before or after: no effect.
        assert_eq!(
            compare(
                &graph("disabled", &["mfa"], &[]),
                &graph("disabled", &[], &[])
            ),
            (vec![], vec![])
        );
    }

    #[test]
    fn legacy_policy_detail() {
        let old = json!(["{\"Version\":1,\"State\":\"Enabled\",\"Conditions\":{\"Applications\":{\"Include\":[{\"Applications\":[\"None\"]}]},\"Users\":{\"Include\":[{\"Users\":[\"All\"]}]}},\"Controls\":[{\"Control\":[\"Mfa\"]}],\"SessionControls\":[\"SignInFrequency\"],\"SignInFrequencyTimeSpan\":\"90.00:00:00\"}"]);
        let new = json!(["{\"Version\":1,\"State\":\"Enabled\",\"Conditions\":{\"Applications\":{\"Include\":[{\"Applications\":[\"None\"]}]},\"Users\":{\"Include\":[{\"Users\":[\"All\"]}]}},\"SessionControls\":[\"SignInFrequency\"],\"SignInFrequencyTimeSpan\":\"90.00:00:00\"}"]);
        let (o, n) = (
            Policy::from_policy_detail(&old).unwrap(),
            Policy::from_policy_detail(&new).unwrap(),
        );
        assert_eq!(o.controls, ["mfa".to_string()].into());
        assert_eq!(o.sign_in_hours, Some(2160.0));
        assert_eq!(compare(&o, &n).0, vec!["grant controls lost: mfa"]);
        assert_eq!(
            Policy::from_policy_detail(&json!(["{\"TokenLifetimePolicy\":{\"Version\":1}}"])),
            None
        );
        assert_eq!(timespan_hours("12:30:00"), Some(12.5));
    }
}
