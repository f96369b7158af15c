//! What one forwarding-rule record asks for: destinations, hiding actions, conditions and
//! the mailbox, read by parameter *name* from `request_params` (the M365 normaliser's
//! object keyed by `Name`) and, for the few fields the unified audit log keeps outside its
//! Name/Value bags (`MailboxOwnerUPN`, an alert's `Name` and `Data`), from `raw_event`.
//!
//! Parameter names follow the Exchange Online cmdlet references (`New-InboxRule`,
//! `Set-InboxRule`, `Set-Mailbox`, `New-TransportRule`) and the `OperationProperties` of
//! Outlook's `UpdateInboxRules` (`RuleName`, `RuleActions`, `RuleCondition`, `RuleState`,
//! `RuleOperation`, `ServerRule`). Names are compared ASCII case-insensitively (Panther's
//! copies lower-case the record's keys, not the parameter names, but exports vary).

use serde_json::{Map, Value};

/// Which cmdlet family a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// `Set-Mailbox` forwarding (`ForwardingSmtpAddress`, `ForwardingAddress`).
    MailboxForwarding,
    /// `New-InboxRule`, `Set-InboxRule`, `Enable-InboxRule`.
    InboxRule,
    /// Outlook's `UpdateInboxRules` (client-side rules).
    ClientRule,
    /// `New-TransportRule` / `Set-TransportRule` / `Enable-TransportRule`: organisation-wide.
    TransportRule,
    /// `AlertTriggered` "Creation of forwarding/redirect rule".
    Alert,
}

impl Kind {
    /// The kind of an Exchange / Security & Compliance operation name.
    pub(crate) fn of(operation: &str) -> Option<Kind> {
        let op = operation.to_ascii_lowercase();
        Some(match op.as_str() {
            "set-mailbox" => Kind::MailboxForwarding,
            "updateinboxrules" => Kind::ClientRule,
            "alerttriggered" => Kind::Alert,
            _ if op.ends_with("-inboxrule") => Kind::InboxRule,
            _ if op.ends_with("-transportrule") => Kind::TransportRule,
            _ => return None,
        })
    }
}

/// Parameters whose values are forwarding, redirect or copy destinations.
pub(crate) const DESTINATION_PARAMS: &[&str] = &[
    "ForwardTo",
    "ForwardAsAttachmentTo",
    "RedirectTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
    "RedirectMessageTo",
    "BlindCopyTo",
    "CopyTo",
    "AddToRecipients",
];

/// Stands for a client rule's recipient that the record does not show as an address.
pub(crate) const UNSHOWN_RECIPIENT: &str = "(recipient not shown)";

/// The name of Microsoft's built-in alert policy this analytic keeps from `AlertTriggered`.
pub(crate) const FORWARDING_ALERT: &str = "Creation of forwarding/redirect rule";

/// What one record asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RuleChange {
    /// The mailbox as logged (`Identity` of Set-Mailbox, `Mailbox` of an inbox rule, the
    /// mailbox part of the rule's DN, `MailboxOwnerUPN`); `None` for transport rules.
    pub mailbox: Option<String>,
    /// The rule's name (`Name`, `RuleName`, or the part after `\` of the rule's DN).
    pub rule_name: Option<String>,
    /// Destination addresses, lower-cased, `smtp:` removed (recipient names without `@`
    /// kept as written, lower-cased: they cannot be placed inside or outside the tenant).
    pub destinations: Vec<String>,
    /// A `Set-Mailbox` that empties `ForwardingSmtpAddress` / `ForwardingAddress`.
    pub clears_forwarding: bool,
    /// `DeliverToMailboxAndForward` false: the owner keeps no copy.
    pub no_copy: bool,
    /// `DeleteMessage`, `SoftDeleteMessage`, `PermanentDelete` or a client rule's delete action.
    pub deletes: bool,
    /// `MarkAsRead`.
    pub marks_read: bool,
    /// `MoveToFolder` as logged (its last path segment).
    pub move_folder: Option<String>,
    /// `StopProcessingRules` (or a client rule's `ExitAfterExecution` state).
    pub stop: bool,
    /// Conditions as (parameter, value): `SubjectContainsWords`, `BodyContainsWords`, ...
    pub conditions: Vec<(String, String)>,
    /// A client rule removed (`RemoveMailboxRule`): nothing to grade.
    pub removed: bool,
    /// For an alert: its name, and the user it names.
    pub alert_name: Option<String>,
    /// For an alert: the user whose rule raised it (`Data.f3u`, else `Data.suid`).
    pub alert_user: Option<String>,
}

type Obj = Map<String, Value>;

fn get<'m>(m: &'m Obj, key: &str) -> Option<&'m Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A scalar or list value as text (lists joined with `;`); `None` for null / empty.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join(";"))
        }
        // ModifiedProperties become {"NewValue", "OldValue"}: the new value is the request.
        Value::Object(o) => get(o, "NewValue").and_then(text),
        Value::Null => None,
    }
}

/// `True`, `$true`, `1` (any case) → true.
pub(crate) fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "$true" | "1" | "yes"
    )
}

fn param(p: &Obj, name: &str) -> Option<String> {
    get(p, name).and_then(text)
}

fn flag(p: &Obj, name: &str) -> bool {
    param(p, name).is_some_and(|v| truthy(&v))
}

/// Email addresses in free text: tokens with one `@` and a dotted domain, `smtp:` removed,
/// lower-cased, in order of appearance, de-duplicated. Handles `a@x.com;b@y.com`,
/// `"Name" [SMTP:a@x.com]`, JSON text and Outlook's `RuleActions`.
pub(crate) fn addresses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ';' | ',' | '[' | ']' | '"' | '<' | '>' | '(' | ')' | '\'' | '{' | '}' | '\\'
            )
    }) {
        let mut t = raw.trim_matches(|c: char| matches!(c, '.' | ':' | '='));
        if t.len() > 5 && t[..5].eq_ignore_ascii_case("smtp:") {
            t = &t[5..];
        }
        let Some((local, domain)) = t.split_once('@') else {
            continue;
        };
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
        {
            continue;
        }
        let a = t.to_lowercase();
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Destinations of one parameter value: its addresses, else (a directory recipient named
/// without an address, e.g. `ForwardingAddress = "Bob Smith"`) the value itself.
fn destinations_of(value: &str) -> Vec<String> {
    let found = addresses(value);
    if !found.is_empty() {
        return found;
    }
    value
        .split(';')
        .map(|p| p.trim().trim_matches('"').to_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The last segment of a folder path (`AdeleV:\Junk Email` → `Junk Email`).
fn folder_leaf(v: &str) -> String {
    v.rsplit(['\\', '/', ':'])
        .next()
        .unwrap_or(v)
        .trim()
        .to_string()
}

/// `.../Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/AdeleV\rule2` →
/// (`…/AdeleV`, `rule2`); other text → (text, None).
pub(crate) fn split_rule_dn(v: &str) -> (&str, Option<&str>) {
    match v.rsplit_once('\\') {
        Some((mailbox, rule)) if !mailbox.is_empty() && !rule.is_empty() => (mailbox, Some(rule)),
        _ => (v, None),
    }
}

/// The AuditData of a raw record (a Purview export wraps it as text under `AuditData`).
fn audit_data(raw: Option<&str>) -> Option<Obj> {
    let Ok(Value::Object(outer)) = serde_json::from_str::<Value>(raw?) else {
        return None;
    };
    match get(&outer, "AuditData") {
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        },
        Some(Value::Object(m)) => Some(m.clone()),
        _ => Some(outer),
    }
}

/// Reads one record. `request` is `request_params`, `resource` is `resource_uid`, `raw`
/// is `raw_event` (may be absent: only `UpdateInboxRules`' owner and alerts need it).
pub(crate) fn parse(
    kind: Kind,
    request: Option<&str>,
    resource: Option<&str>,
    raw: Option<&str>,
) -> RuleChange {
    let p: Obj = match request.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => m,
        _ => Obj::new(),
    };
    let mut c = RuleChange::default();
    match kind {
        Kind::Alert => {
            let rec = audit_data(raw);
            c.alert_name = rec.as_ref().and_then(|r| get(r, "Name")).and_then(text);
            let data = rec
                .as_ref()
                .and_then(|r| get(r, "Data"))
                .and_then(|d| match d {
                    Value::String(s) => serde_json::from_str::<Obj>(s).ok(),
                    Value::Object(m) => Some(m.clone()),
                    _ => None,
                });
            c.alert_user = data
                .as_ref()
                .and_then(|d| param(d, "f3u").or_else(|| param(d, "suid")))
                .map(|u| u.to_lowercase());
            c.mailbox = c.alert_user.clone();
            return c;
        }
        Kind::ClientRule => parse_client_rule(&p, &mut c),
        _ => {}
    }
    for name in DESTINATION_PARAMS {
        let Some(v) = get(&p, name) else { continue };
        match text(v) {
            Some(t) => {
                for d in destinations_of(&t) {
                    if !c.destinations.contains(&d) {
                        c.destinations.push(d);
                    }
                }
            }
            // Present but empty: `Set-Mailbox -ForwardingSmtpAddress $null`.
            None if kind == Kind::MailboxForwarding && name.starts_with("Forwarding") => {
                c.clears_forwarding = true
            }
            None => {}
        }
    }
    if !c.destinations.is_empty() {
        c.clears_forwarding = false;
    }
    c.no_copy = param(&p, "DeliverToMailboxAndForward").is_some_and(|v| !truthy(&v));
    c.deletes |= [
        "DeleteMessage",
        "SoftDeleteMessage",
        "PermanentDelete",
        "DeleteMessages",
    ]
    .iter()
    .any(|n| flag(&p, n));
    c.marks_read |= flag(&p, "MarkAsRead");
    c.stop |= flag(&p, "StopProcessingRules");
    if c.move_folder.is_none() {
        c.move_folder = param(&p, "MoveToFolder").map(|f| folder_leaf(&f));
    }
    for (k, v) in &p {
        let lk = k.to_ascii_lowercase();
        if lk.ends_with("containswords") || lk.ends_with("matchespatterns") {
            if let Some(t) = text(v) {
                c.conditions.push((k.clone(), t));
            }
        }
    }
    // The mailbox: Set-Mailbox's Identity; an inbox rule's Mailbox, else the mailbox part
    // of its Identity or DN; the owner of a client rule.
    let identity = param(&p, "Identity");
    c.mailbox = match kind {
        Kind::MailboxForwarding => identity.clone().or_else(|| resource.map(str::to_string)),
        Kind::InboxRule => param(&p, "Mailbox")
            .or_else(|| {
                identity
                    .as_deref()
                    .and_then(|i| split_rule_dn(i).1.map(|_| split_rule_dn(i).0.to_string()))
            })
            .or_else(|| {
                resource.and_then(|r| split_rule_dn(r).1.map(|_| split_rule_dn(r).0.to_string()))
            }),
        Kind::ClientRule => audit_data(raw)
            .and_then(|r| get(&r, "MailboxOwnerUPN").and_then(text))
            .or_else(|| resource.map(|r| split_rule_dn(r).0.to_string())),
        Kind::TransportRule | Kind::Alert => None,
    };
    if c.rule_name.is_none() {
        c.rule_name = match kind {
            Kind::MailboxForwarding => None,
            _ => param(&p, "Name")
                .or_else(|| {
                    identity
                        .as_deref()
                        .map(|i| split_rule_dn(i).1.unwrap_or(i).to_string())
                })
                .or_else(|| resource.and_then(|r| split_rule_dn(r).1.map(str::to_string))),
        };
    }
    c
}

/// `UpdateInboxRules`: `RuleOperation`, `RuleName`, `RuleState` (`ExitAfterExecution` =
/// stop processing), `RuleCondition`, and the actions in `RuleActions` / `ServerRule`
/// (JSON text or Outlook's own words: `ForwardToRecipientsAction`, `Delete`, ...).
fn parse_client_rule(p: &Obj, c: &mut RuleChange) {
    c.removed =
        param(p, "RuleOperation").is_some_and(|o| o.to_ascii_lowercase().contains("remove"));
    c.rule_name = param(p, "RuleName");
    c.stop = param(p, "RuleState")
        .is_some_and(|s| s.to_ascii_lowercase().contains("exitafterexecution"));
    if let Some(cond) = param(p, "RuleCondition") {
        c.conditions.push(("RuleCondition".into(), cond));
    }
    let mut actions = String::new();
    for (k, v) in p {
        let lk = k.to_ascii_lowercase();
        if lk == "ruleactions"
            || lk == "serverrule"
            || v.as_str().is_some_and(|s| s.ends_with("RecipientsAction"))
        {
            if let Some(t) = text(v) {
                actions.push_str(&t);
                actions.push('\n');
            }
        }
    }
    let a = actions.to_ascii_lowercase();
    let forwards = ["forward", "redirect"].iter().any(|w| a.contains(w));
    if forwards {
        c.destinations = addresses(&actions);
        if c.destinations.is_empty() {
            // Recipients logged as Exchange DNs or entry ids: forwarding, destination unknown.
            c.destinations.push(UNSHOWN_RECIPIENT.to_string());
        }
    }
    c.deletes = a.contains("delete");
    c.marks_read = a.contains("markasread") || a.contains("mark as read");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_the_shapes_exchange_logs() {
        assert_eq!(
            addresses("smtp:Peter@FamilyGuy.com"),
            vec!["peter@familyguy.com"]
        );
        assert_eq!(
            addresses("a@x.com;b@y.org, \"Bob\" [SMTP:bob@z.net]"),
            vec!["a@x.com", "b@y.org", "bob@z.net"]
        );
        assert!(addresses("homer.simpson").is_empty());
        assert!(addresses("user@localhost").is_empty());
        assert_eq!(destinations_of("Bob Smith"), vec!["bob smith"]);
    }

    #[test]
    fn set_mailbox_forward_and_clear() {
        let c = parse(
            Kind::MailboxForwarding,
            Some(
                r#"{"Identity":"homer@simpsons.com","ForwardingSmtpAddress":"smtp:evil@x.com","DeliverToMailboxAndForward":"False"}"#,
            ),
            Some("homer"),
            None,
        );
        assert_eq!(c.destinations, vec!["evil@x.com"]);
        assert!(c.no_copy && !c.clears_forwarding);
        assert_eq!(c.mailbox.as_deref(), Some("homer@simpsons.com"));
        let c = parse(
            Kind::MailboxForwarding,
            Some(r#"{"Identity":"homer","ForwardingSmtpAddress":null}"#),
            None,
            None,
        );
        assert!(c.clears_forwarding && c.destinations.is_empty());
    }

    #[test]
    fn inbox_rule_actions_conditions_and_mailbox_from_the_dn() {
        let c = parse(
            Kind::InboxRule,
            Some(r#"{"MoveToFolder":"AdeleV:\\Junk Email","Name":"rule2","StopProcessingRules":"True","SubjectContainsWords":"do not open"}"#),
            Some("NAM.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/AdeleV\\rule2"),
            None,
        );
        assert_eq!(c.move_folder.as_deref(), Some("Junk Email"));
        assert!(c.stop && !c.deletes);
        assert_eq!(
            c.conditions,
            vec![(
                "SubjectContainsWords".to_string(),
                "do not open".to_string()
            )]
        );
        assert_eq!(c.rule_name.as_deref(), Some("rule2"));
        assert_eq!(
            c.mailbox.as_deref(),
            Some("NAM.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/AdeleV")
        );
    }

    #[test]
    fn client_rule_and_alert() {
        let c = parse(
            Kind::ClientRule,
            Some(
                r#"{"RuleOperation":"AddMailboxRule","RuleName":".","RuleState":"Enabled, ExitAfterExecution","RuleActions":"[{\"ActionType\":\"Forward\",\"Recipients\":[\"SMTP:drop@evil.example\"]},{\"ActionType\":\"Delete\"}]"}"#,
            ),
            Some("bob@contoso.com"),
            Some(r#"{"MailboxOwnerUPN":"bob@contoso.com","Operation":"UpdateInboxRules"}"#),
        );
        assert_eq!(c.destinations, vec!["drop@evil.example"]);
        assert!(c.deletes && c.stop && !c.removed);
        assert_eq!(c.mailbox.as_deref(), Some("bob@contoso.com"));
        let a = parse(
            Kind::Alert,
            None,
            Some("alert-1"),
            Some(
                r#"{"Name":"Creation of forwarding/redirect rule","Data":"{\"f3u\":\"Bob@Contoso.com\",\"op\":\"New-InboxRule\"}"}"#,
            ),
        );
        assert_eq!(a.alert_name.as_deref(), Some(FORWARDING_ALERT));
        assert_eq!(a.alert_user.as_deref(), Some("bob@contoso.com"));
        assert_eq!(Kind::of("Set-TransportRule"), Some(Kind::TransportRule));
        assert_eq!(Kind::of("Get-Mailbox"), None);
    }
}
