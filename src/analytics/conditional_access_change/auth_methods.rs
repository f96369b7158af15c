//! The authentication methods policy (`Update authentication methods policy`): each
//! modified property's before and after, flattened and judged field by field.
//!
//! Weakening: an external OpenID Connect / federation discovery URL or issuer set or
//! changed (Panther `Azure.Audit.OIDC.Changed`: a rogue identity provider signs users in);
//! a weaker method enabled; an MFA, registration or number-matching requirement switched
//! off. Strengthening: a phishing-resistant or app-based method enabled, a requirement
//! switched on. Method names follow the Graph `authenticationMethodConfiguration` ids.

use serde_json::Value;

use super::assess::{field_diff, listing, short, Assessment, Effect};
use super::policy;

/// Methods that are phishable or hand out standing access when enabled.
const WEAK_METHODS: &[&str] = &[
    "sms",
    "voice",
    "email",
    "softwareoath",
    "temporaryaccesspass",
];
/// Phishing-resistant or app-based methods.
const STRONG_METHODS: &[&str] = &[
    "fido2",
    "microsoftauthenticator",
    "x509certificate",
    "windowshelloforbusiness",
    "passkey",
    "passwordless",
];
/// Words of a setting whose `true` / `enabled` is a requirement.
const REQUIREMENTS: &[&str] = &[
    "mfa",
    "registration",
    "require",
    "enforce",
    "numbermatching",
];

/// Fills `a` (effect, reasons, changed fields) from `req` (`{name: {"old", "new"}}`).
pub(super) fn assess(req: &Value, a: &mut Assessment) {
    let Some(props) = req.as_object() else { return };
    let mut diff = Vec::new();
    for (name, v) in props {
        let side = |k: &str| policy::get(v, k).cloned().unwrap_or(Value::Null);
        let wrap = |x: Value| serde_json::json!({ name.as_str(): x });
        diff.extend(field_diff(&wrap(side("old")), &wrap(side("new"))));
    }
    a.changes = listing(&diff);
    for (path, old, new) in &diff {
        let p = path.to_ascii_lowercase();
        let (o, n) = (
            old.as_deref().map(str::to_ascii_lowercase),
            new.as_deref().map(str::to_ascii_lowercase),
        );
        let became = |on: &[&str]| {
            n.as_deref().is_some_and(|v| on.contains(&v))
                && !o.as_deref().is_some_and(|v| on.contains(&v))
        };
        let method = |list: &[&str]| list.iter().find(|m| p.contains(*m)).map(|m| m.to_string());
        let requirement = REQUIREMENTS.iter().any(|w| p.contains(w));
        let idp = p.contains("discoveryurl")
            || p.ends_with("issuer")
            || p.contains("openidconnect")
            || p.contains("federat");
        if idp && new.is_some() {
            a.weaker.push(format!(
                "external identity provider changed: {path} {} → {}",
                short(old),
                short(new)
            ));
        } else if let Some(m) = method(WEAK_METHODS).filter(|_| became(&["enabled", "true"])) {
            a.weaker.push(format!("weaker method enabled: {m}"));
        } else if requirement && became(&["false", "disabled"]) {
            a.weaker.push(format!(
                "{path} {} → {} (requirement removed)",
                short(old),
                short(new)
            ));
        } else if let Some(m) = method(STRONG_METHODS).filter(|_| became(&["enabled", "true"])) {
            a.stronger.push(format!("method enabled: {m}"));
        } else if requirement && became(&["true", "enabled"]) {
            a.stronger
                .push(format!("{path} {} → {}", short(old), short(new)));
        }
    }
    a.effect = if !a.weaker.is_empty() {
        Effect::Weakening
    } else if diff.is_empty() {
        Effect::Unknown
    } else if !a.stronger.is_empty() {
        Effect::Strengthening
    } else {
        Effect::Neutral
    };
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::assess::{assess, Effect};

    const AM: &str = "Update authentication methods policy";
    const CD: &str = "Core Directory";

    fn req(k: &str, o: Value, n: Value) -> String {
        json!({ k: {"old": o, "new": n} }).to_string()
    }

    #[test]
    fn identity_providers_methods_and_requirements() {
        let oidc = req(
            "OpenIdConnectConfiguration",
            json!({"discoveryUrl": "https://a/"}),
            json!({"discoveryUrl": "https://evil/"}),
        );
        let a = assess(CD, AM, Some(&oidc), None, |_| false).unwrap();
        assert_eq!(a.effect, Effect::Weakening);
        assert_eq!(a.weaker, vec!["external identity provider changed: OpenIdConnectConfiguration.discoveryUrl https://a/ → https://evil/"]);
        let a = assess(
            CD,
            AM,
            Some(&req("PasswordlessMFAEnabled", json!(false), json!(true))),
            None,
            |_| false,
        )
        .unwrap();
        assert_eq!(a.effect, Effect::Strengthening, "{a:?}");
        let sms = |state: &str| json!({"authenticationMethodConfigurations": [{"id": "Sms", "state": state}]});
        let a = assess(
            CD,
            AM,
            Some(&req("Policy", sms("disabled"), sms("enabled"))),
            None,
            |_| false,
        )
        .unwrap();
        assert_eq!(a.weaker, vec!["weaker method enabled: sms"]);
        assert_eq!(
            a.changes,
            vec!["Policy.authenticationMethodConfigurations[Sms].state: disabled → enabled"]
        );
        let campaign = req(
            "RegistrationEnforcement",
            json!({"state": "enabled"}),
            json!({"state": "disabled"}),
        );
        assert_eq!(
            assess(CD, AM, Some(&campaign), None, |_| false)
                .unwrap()
                .effect,
            Effect::Weakening
        );
        let label = req("Description", json!("old text"), json!("new text"));
        assert_eq!(
            assess(CD, AM, Some(&label), None, |_| false)
                .unwrap()
                .effect,
            Effect::Neutral
        );
        assert_eq!(
            assess(CD, AM, None, None, |_| false).unwrap().effect,
            Effect::Unknown
        );
    }
}
