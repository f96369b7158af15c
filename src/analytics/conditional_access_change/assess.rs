//! What one audit record did to a policy: which record family it is, whether it is a
//! Conditional Access policy at all, and whether the change weakens, strengthens or leaves
//! the policy's effect (module docs, "Classification").

use std::collections::BTreeMap;

use serde_json::Value;

use super::policy::{self, compare, Policy};

/// Which record family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    /// The Conditional Access service's own record (Graph policy before and after).
    CaService,
    /// The Core Directory's mirror of a policy object (`PolicyDetail`).
    CoreDirectory,
    /// The authentication methods policy.
    AuthMethods,
}

/// Add, update or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    Add,
    Update,
    Delete,
}

/// The effect on sign-in security, ordered so that the worst is the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Effect {
    Strengthening,
    Neutral,
    Unknown,
    Weakening,
}

/// What one record did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assessment {
    pub source: Source,
    pub op: Op,
    pub effect: Effect,
    /// The policy's display name, when any part of the record names it.
    pub name: Option<String>,
    pub weaker: Vec<String>,
    pub stronger: Vec<String>,
    /// Changed fields, `path: old → new`.
    pub changes: Vec<String>,
    /// An enforced policy that required MFA (or blocked) was deleted.
    pub deleted_enforced_mfa: bool,
}

/// Most changed fields listed per record.
const MAX_CHANGES: usize = 12;
/// Fields that change on every write and say nothing.
const NOISE: &[&str] = &[
    "modifieddatetime",
    "createddatetime",
    "version",
    "id",
    "templateid",
];
/// Of [`NOISE`], the keys skipped only at the top of a policy (a nested `id`, such as an
/// authentication strength's, is a real change).
const TOP_ONLY: &[&str] = &["id", "templateid"];
/// The record family of (`service`, `operation`), or `None` for operations outside it.
pub(crate) fn source_of(service: &str, operation: &str) -> Option<Source> {
    let op = operation.to_ascii_lowercase();
    if op.contains("authentication methods policy") {
        Some(Source::AuthMethods)
    } else if service.eq_ignore_ascii_case("Conditional Access") {
        Some(Source::CaService)
    } else if op.ends_with("policy") {
        Some(Source::CoreDirectory)
    } else {
        None
    }
}

fn op_of(operation: &str) -> Op {
    let op = operation.to_ascii_lowercase();
    if op.starts_with("add") {
        Op::Add
    } else if op.starts_with("delete") || op.starts_with("hard delete") || op.starts_with("remove")
    {
        Op::Delete
    } else {
        Op::Update
    }
}

/// (`type`, `displayName`) of the first target of a raw Entra audit record, in its
/// diagnostic (`properties.targetResources`), Graph or Sentinel (`TargetResources` as text)
/// shape.
pub(crate) fn raw_target(raw: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(Ok(v)) = raw.map(serde_json::from_str::<Value>) else {
        return (None, None);
    };
    let targets = policy::get(&v, "properties")
        .and_then(|p| policy::get(p, "targetResources"))
        .or_else(|| policy::get(&v, "targetResources"));
    let decoded;
    let targets = match targets {
        Some(Value::String(s)) => {
            decoded = serde_json::from_str::<Value>(s).ok();
            decoded.as_ref()
        }
        other => other,
    };
    let first = targets.and_then(Value::as_array).and_then(|a| a.first());
    let field = |k: &str| {
        first
            .and_then(|t| policy::get(t, k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    (field("type"), field("displayName"))
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let lk = k.to_ascii_lowercase();
                if NOISE.contains(&lk.as_str())
                    && (prefix.is_empty() || !TOP_ONLY.contains(&lk.as_str()))
                {
                    continue;
                }
                flatten(&join(k), x, out);
            }
        }
        Value::Array(a) => {
            // Objects, or strings holding objects (PolicyDetail's list): flattened, keyed by
            // their `id` when every one has one.
            let objects: Vec<Value> = a
                .iter()
                .filter_map(|x| match x {
                    Value::Object(_) => Some(x.clone()),
                    Value::String(s) => serde_json::from_str::<Value>(s)
                        .ok()
                        .filter(Value::is_object),
                    _ => None,
                })
                .collect();
            if !a.is_empty() && objects.len() == a.len() {
                let ids: Vec<Option<String>> = objects
                    .iter()
                    .map(|o| {
                        o.get("id")
                            .map(|i| i.as_str().map_or(i.to_string(), str::to_string))
                    })
                    .collect();
                for (i, (o, id)) in objects.iter().zip(&ids).enumerate() {
                    let p = match (id, objects.len(), ids.iter().all(Option::is_some)) {
                        (Some(id), _, true) => format!("{prefix}[{id}]"),
                        (_, 1, _) => prefix.to_string(),
                        _ => format!("{prefix}[{i}]"),
                    };
                    flatten(&p, o, out);
                }
            } else if !a.is_empty() {
                // An empty list is the same as an absent one (Graph writes both).
                let mut items: Vec<String> = a
                    .iter()
                    .map(|x| x.as_str().map_or(x.to_string(), str::to_string))
                    .collect();
                items.sort();
                out.insert(prefix.to_string(), format!("[{}]", items.join(", ")));
            }
        }
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => flatten(prefix, &inner, out),
            _ => {
                out.insert(prefix.to_string(), s.clone());
            }
        },
        Value::Null => {}
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// `(path, old, new)` of every field that differs (absent = `None`).
pub(super) fn field_diff(
    old: &Value,
    new: &Value,
) -> Vec<(String, Option<String>, Option<String>)> {
    let (mut o, mut n) = (BTreeMap::new(), BTreeMap::new());
    flatten("", old, &mut o);
    flatten("", new, &mut n);
    let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .map(|k| (k.clone(), o.get(k).cloned(), n.get(k).cloned()))
        .collect()
}

pub(super) fn short(v: &Option<String>) -> String {
    match v {
        None => "(none)".into(),
        Some(s) if s.chars().count() > 80 => format!("{}…", s.chars().take(80).collect::<String>()),
        Some(s) => s.clone(),
    }
}

pub(super) fn listing(diff: &[(String, Option<String>, Option<String>)]) -> Vec<String> {
    let mut out: Vec<String> = diff
        .iter()
        .take(MAX_CHANGES)
        .map(|(p, o, n)| format!("{p}: {} → {}", short(o), short(n)))
        .collect();
    if diff.len() > MAX_CHANGES {
        out.push(format!("and {} more fields", diff.len() - MAX_CHANGES));
    }
    out
}

/// Assesses one record. `request` is `request_params` (`{name: {"old", "new"}}`), `raw`
/// is `raw_event` (for the target's type and name). `known_ca(id, name)` tells whether the
/// tenant's Conditional Access records ever named this policy. Returns `None` for a Core
/// Directory record that is not a Conditional Access policy.
pub(crate) fn assess(
    service: &str,
    operation: &str,
    request: Option<&str>,
    raw: Option<&str>,
    known_ca: impl Fn(Option<&str>) -> bool,
) -> Option<Assessment> {
    let source = source_of(service, operation)?;
    let op = op_of(operation);
    let req: Value = request
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let (target_type, target_name) = raw_target(raw);
    let mut a = Assessment {
        source,
        op,
        effect: Effect::Unknown,
        name: target_name.clone(),
        weaker: Vec::new(),
        stronger: Vec::new(),
        changes: Vec::new(),
        deleted_enforced_mfa: false,
    };
    if source == Source::AuthMethods {
        super::auth_methods::assess(&req, &mut a);
        return Some(a);
    }
    let (prop, reader): (&str, fn(&Value) -> Option<Policy>) = match source {
        Source::CaService => ("ConditionalAccessPolicy", Policy::from_graph),
        _ => ("PolicyDetail", Policy::from_policy_detail),
    };
    let side = |k: &str| {
        policy::get(&req, prop)
            .and_then(|p| policy::get(p, k))
            .filter(|v| !v.is_null())
    };
    let (old_v, new_v) = (side("old"), side("new"));
    let (old, new) = (old_v.and_then(reader), new_v.and_then(reader));
    if source == Source::CoreDirectory {
        let has_detail = old_v.is_some() || new_v.is_some();
        let by_detail = old.is_some() || new.is_some();
        let by_name = target_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("Policy"))
            && (known_ca(target_name.as_deref())
                || target_name.as_deref().is_some_and(looks_like_ca));
        // PolicyDetail decides when present: other directory policies share the operation.
        if !(by_detail || (!has_detail && by_name)) {
            return None;
        }
    }
    a.name = a
        .name
        .or_else(|| new.as_ref().or(old.as_ref()).and_then(|p| p.name.clone()));
    if let (Some(o), Some(n)) = (old_v, new_v) {
        a.changes = listing(&field_diff(o, n));
    }
    match (op, &old, &new) {
        (Op::Add, _, Some(n)) if n.enforced() => a.stronger.push("new enforced policy".into()),
        (Op::Add, _, _) => {}
        (Op::Delete, Some(o), _) if o.enforced() => {
            a.weaker.push(format!(
                "enforced policy deleted (controls: {})",
                o.controls.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            a.deleted_enforced_mfa = o.requires_mfa();
        }
        (Op::Delete, Some(_), _) => {}
        (Op::Delete, None, _) => a
            .weaker
            .push("policy deleted (its state is not in the record)".into()),
        (Op::Update, Some(o), Some(n)) => {
            let (w, s) = compare(o, n);
            a.weaker = w;
            a.stronger = s;
        }
        (Op::Update, _, _) => {}
    }
    a.effect = if !a.weaker.is_empty() {
        Effect::Weakening
    } else if op == Op::Update && (old.is_none() || new.is_none()) {
        Effect::Unknown
    } else if !a.stronger.is_empty() {
        Effect::Strengthening
    } else {
        Effect::Neutral
    };
    Some(a)
}

/// Display names that name a Conditional Access policy (Microsoft's templates and common
/// naming: "Require multifactor authentication for admins", "Block legacy authentication",
/// "CA001 ..."). Used only for Core Directory records without `PolicyDetail`.
pub(crate) fn looks_like_ca(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "mfa",
        "multifactor",
        "multi-factor",
        "conditional access",
        "require ",
        "block ",
        "compliant",
        "legacy auth",
        "sign-in frequency",
        "sign-in risk",
        "user risk",
    ]
    .iter()
    .any(|w| n.contains(w))
        || (n.starts_with("ca")
            && n[2..].starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == ' ' || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CA: &str = "Conditional Access";

    fn ca_update(old: Value, new: Value) -> String {
        json!({"ConditionalAccessPolicy": {"old": old, "new": new}}).to_string()
    }

    #[test]
    fn graph_records() {
        let pol = |state: &str, ctl: &[&str]| json!({"id": "p1", "displayName": "Require MFA", "state": state, "conditions": {"users": {"includeUsers": ["All"]}}, "grantControls": {"operator": "OR", "builtInControls": ctl}, "modifiedDateTime": state});
        let a = assess(
            CA,
            "Update conditional access policy",
            Some(&ca_update(pol("enabled", &["mfa"]), pol("enabled", &[]))),
            None,
            |_| false,
        )
        .unwrap();
        assert_eq!(a.effect, Effect::Weakening);
        assert_eq!(a.name.as_deref(), Some("Require MFA"));
        assert_eq!(
            a.changes,
            vec!["grantControls.builtInControls: [mfa] → (none)"],
            "modifiedDateTime is noise"
        );
        let a = assess(CA, "Update conditional access policy", None, None, |_| {
            false
        })
        .unwrap();
        assert_eq!(a.effect, Effect::Unknown);
        let del =
            json!({"ConditionalAccessPolicy": {"old": pol("enabled", &["mfa"]), "new": null}})
                .to_string();
        let a = assess(
            CA,
            "Delete conditional access policy",
            Some(&del),
            None,
            |_| false,
        )
        .unwrap();
        assert!(a.deleted_enforced_mfa && a.effect == Effect::Weakening);
        let del =
            json!({"ConditionalAccessPolicy": {"old": pol("disabled", &["mfa"]), "new": null}})
                .to_string();
        assert_eq!(
            assess(
                CA,
                "Delete conditional access policy",
                Some(&del),
                None,
                |_| false
            )
            .unwrap()
            .effect,
            Effect::Neutral
        );
        let add = json!({"ConditionalAccessPolicy": {"old": null, "new": pol("enabledForReportingButNotEnforced", &["mfa"])}}).to_string();
        assert_eq!(
            assess(
                CA,
                "Add conditional access policy",
                Some(&add),
                None,
                |_| false
            )
            .unwrap()
            .effect,
            Effect::Neutral
        );
    }

    #[test]
    fn core_directory_only_for_ca_policies() {
        let raw = |name: &str, ty: &str| {
            json!({"properties": {"targetResources": [{"displayName": name, "type": ty}]}})
                .to_string()
        };
        let cd = "Core Directory";
        assert!(assess(
            cd,
            "Delete policy",
            None,
            Some(&raw("Default token lifetime", "Policy")),
            |_| false
        )
        .is_none());
        let a = assess(
            cd,
            "Delete policy",
            None,
            Some(&raw(
                "Require multifactor authentication for all users",
                "Policy",
            )),
            |_| false,
        )
        .unwrap();
        assert_eq!(
            (a.source, a.op, a.effect),
            (Source::CoreDirectory, Op::Delete, Effect::Weakening)
        );
        assert!(assess(
            cd,
            "Delete policy",
            None,
            Some(&raw("Finance", "Policy")),
            |n| n == Some("Finance")
        )
        .is_some());
        assert!(assess(
            cd,
            "Delete policy",
            None,
            Some(&raw("Require MFA", "Application")),
            |_| false
        )
        .is_none());
        let other = json!({"PolicyDetail": {"old": ["{\"TokenIssuancePolicy\":{}}"], "new": ["{\"TokenIssuancePolicy\":{\"x\":1}}"]}}).to_string();
        assert!(assess(
            cd,
            "Update policy",
            Some(&other),
            Some(&raw("Require MFA", "Policy")),
            |_| false
        )
        .is_none());
        assert_eq!(
            assess(
                cd,
                "Added policy",
                None,
                Some(&raw("Block legacy authentication", "Policy")),
                |_| false
            )
            .unwrap()
            .effect,
            Effect::Neutral
        );
        assert!(looks_like_ca("CA001 - Block legacy auth") && !looks_like_ca("Cafeteria"));
    }
}
