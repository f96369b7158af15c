//! Who is inside the tenant: its mail domains (configured and learned), whether a
//! recipient is internal, and whether the initiator owns the mailbox it changed.

use std::collections::BTreeMap;

/// Consumer mail services whose domain is never learned as a tenant domain, even when a
/// guest's home UPN shows up as a person of the tenant (Entra sign-ins of B2B guests carry
/// their home UPN): forwarding to them must stay external.
pub(crate) const CONSUMER_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "qq.com",
    "163.com",
    "126.com",
    "zoho.com",
    "tutanota.com",
    "mail.com",
];

/// Domains that are shared by many tenants and so never name one (`kratos@onmicrosoft.com`
/// would otherwise make every `*.onmicrosoft.com` internal).
const SHARED_SUFFIXES: &[&str] = &[
    "onmicrosoft.com",
    "mail.onmicrosoft.com",
    "onmicrosoft.us",
    "partner.onmschina.cn",
];

/// The mail domains of one tenant, each with where it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantDomains {
    /// domain (lower-case) → source (`configured`, `user UPNs`, `Exchange DN`).
    pub domains: BTreeMap<String, &'static str>,
}

/// A syntactically usable domain that may be learned (not consumer, not shared, dotted).
pub(crate) fn learnable(domain: &str) -> Option<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = d.contains('.')
        && !d.starts_with('.')
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !CONSUMER_DOMAINS.contains(&d.as_str())
        && !SHARED_SUFFIXES.contains(&d.as_str());
    ok.then_some(d)
}

/// The domain a person's `actor_uid` teaches: the part after `@` of a UPN. Guest accounts
/// written `alice_fabrikam.com#EXT#@contoso.onmicrosoft.com` teach the tenant's own
/// domain (after the `@`); other identifiers with `#` (SharePoint `urn:spo:guest#…`) teach
/// nothing.
pub(crate) fn domain_of_upn(upn: &str) -> Option<String> {
    let (local, domain) = upn.rsplit_once('@')?;
    if local.is_empty() || (local.contains('#') && !local.to_ascii_lowercase().ends_with("#ext#")) {
        return None;
    }
    learnable(domain)
}

/// The tenant's initial domain named in an Exchange Online DN:
/// `…/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/AdeleV` → `contoso.onmicrosoft.com`.
pub(crate) fn hosted_org_domain(dn: &str) -> Option<String> {
    const MARK: &str = "microsoft exchange hosted organizations/";
    let lower = dn.to_ascii_lowercase();
    let at = lower.find(MARK)? + MARK.len();
    let rest = &dn[at..];
    learnable(rest.split(['/', '\\']).next()?)
}

impl TenantDomains {
    /// Adds a domain (if learnable) with its source; an earlier source is kept.
    pub(crate) fn add(&mut self, domain: &str, source: &'static str) {
        if let Some(d) = learnable(domain) {
            self.domains.entry(d).or_insert(source);
        }
    }

    /// The tenant domain a recipient domain belongs to: itself or a parent domain
    /// (`springfield.simpsons.com` belongs to `simpsons.com`); `None` when external.
    pub(crate) fn owning(&self, domain: &str) -> Option<&str> {
        let d = domain.trim().to_ascii_lowercase();
        self.domains
            .keys()
            .find(|t| d == **t || d.strip_suffix(t.as_str()).is_some_and(|p| p.ends_with('.')))
            .map(String::as_str)
    }

    /// `a, b (source)` listing for descriptions (at most 6 names).
    pub(crate) fn describe(&self) -> String {
        if self.domains.is_empty() {
            return "none known".to_string();
        }
        let mut parts: Vec<String> = self
            .domains
            .iter()
            .take(6)
            .map(|(d, s)| format!("{d} ({s})"))
            .collect();
        if self.domains.len() > 6 {
            parts.push(format!("and {} more", self.domains.len() - 6));
        }
        parts.join(", ")
    }
}

/// How the initiator relates to the mailbox owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Same,
    Different,
    /// The record does not let us tell (display name that does not match, unknown form,
    /// initiator without a UPN).
    Unknown,
}

/// A mailbox identity reduced to what can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ident {
    Upn(String, String),
    Alias(String),
    Name(Vec<String>),
    Unknown,
}

fn tokens(s: &str) -> Vec<String> {
    let mut t: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase)
        .collect();
    t.sort();
    t
}

/// True for ids that name no person: GUIDs, numbers, `444-55-66`.
fn opaque(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && s.chars().any(|c| c.is_ascii_digit())
}

fn ident(mailbox: &str) -> Ident {
    let m = mailbox.trim().trim_matches('"');
    if let Some((l, d)) = m.rsplit_once('@') {
        if !l.is_empty() && !d.is_empty() && !l.contains(['/', '\\', ' ']) {
            return Ident::Upn(l.to_lowercase(), d.to_lowercase());
        }
    }
    let lower = m.to_ascii_lowercase();
    let dn = lower.contains("microsoft exchange hosted organizations/")
        || lower.starts_with("/o=")
        || lower.contains(".prod.outlook.com/");
    if dn {
        let leaf = m.rsplit(['/', '=']).next().unwrap_or("").trim();
        return if leaf.is_empty() || opaque(leaf) {
            Ident::Unknown
        } else {
            Ident::Alias(leaf.to_lowercase())
        };
    }
    if m.is_empty() || m.contains(['/', '\\']) || opaque(m) {
        return Ident::Unknown;
    }
    if m.contains(' ') || m.contains(',') {
        return Ident::Name(tokens(m));
    }
    Ident::Alias(m.to_lowercase())
}

/// A mailbox for titles: a DN's last segment (`…/contoso.onmicrosoft.com/AdeleV` →
/// `AdeleV`); anything else as logged.
pub(crate) fn short_mailbox(mailbox: &str) -> &str {
    match ident(mailbox) {
        Ident::Alias(_) if mailbox.contains('/') => {
            mailbox.rsplit(['/', '=']).next().unwrap_or(mailbox).trim()
        }
        _ => mailbox,
    }
}

/// A stable per-tenant key of a mailbox for grouping and counting: the UPN's local part,
/// the alias, the display name's sorted words, else the text lower-cased.
pub(crate) fn mailbox_key(mailbox: &str) -> String {
    match ident(mailbox) {
        Ident::Upn(l, _) => l,
        Ident::Alias(a) => a,
        Ident::Name(t) => t.join(" "),
        Ident::Unknown => mailbox.trim().to_lowercase(),
    }
}

/// Compares the initiator (`actor_uid`, a lower-case UPN for people) with the mailbox
/// identity, which Exchange logs as a UPN, an alias, a display name or a DN:
/// - UPN: the same address, or the same local part in two tenant domains (the vanity and
///   the `onmicrosoft.com` address of one person);
/// - alias or DN leaf: equal to the UPN's local part (Exchange's default alias);
/// - display name: the same words as the local part split on `.`, `_`, `-`
///   (`Homer Simpson` ~ `homer.simpson`); a mismatch stays unknown (display names and
///   UPNs often differ);
/// - anything else, or an initiator without a UPN: unknown.
pub(crate) fn owner_relation(actor: Option<&str>, mailbox: &str, tenant: &TenantDomains) -> Owner {
    let Some((al, ad)) = actor.and_then(|a| a.rsplit_once('@')) else {
        return Owner::Unknown;
    };
    let (al, ad) = (al.to_lowercase(), ad.to_lowercase());
    match ident(mailbox) {
        Ident::Upn(l, d) => {
            let same_domain =
                d == ad || (tenant.owning(&d).is_some() && tenant.owning(&ad).is_some());
            if l == al && same_domain {
                Owner::Same
            } else {
                Owner::Different
            }
        }
        Ident::Alias(a) => {
            if a == al {
                Owner::Same
            } else {
                Owner::Different
            }
        }
        Ident::Name(words) => {
            if words == tokens(&al) {
                Owner::Same
            } else {
                Owner::Unknown
            }
        }
        Ident::Unknown => Owner::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(ds: &[&str]) -> TenantDomains {
        let mut t = TenantDomains::default();
        for d in ds {
            t.add(d, "configured");
        }
        t
    }

    #[test]
    fn subdomains_are_internal_lookalikes_are_not() {
        let t = tenant(&["simpsons.com", "simpsons.onmicrosoft.com"]);
        assert_eq!(t.owning("springfield.simpsons.com"), Some("simpsons.com"));
        assert_eq!(t.owning("SIMPSONS.com"), Some("simpsons.com"));
        assert_eq!(t.owning("simpsons2.com"), None);
        assert_eq!(t.owning("notsimpsons.com"), None);
        assert_eq!(t.owning("familyguy.com"), None);
    }

    #[test]
    fn learning_skips_consumer_shared_and_guest_forms() {
        assert_eq!(
            domain_of_upn("homer@Simpsons.com"),
            Some("simpsons.com".into())
        );
        assert_eq!(domain_of_upn("bob@gmail.com"), None);
        assert_eq!(domain_of_upn("kratos@onmicrosoft.com"), None);
        assert_eq!(
            domain_of_upn("ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
            Some("contoso.onmicrosoft.com".into())
        );
        assert_eq!(domain_of_upn("urn:spo:guest#ann@fabrikam.com"), None);
        assert_eq!(domain_of_upn("NT AUTHORITY\\SYSTEM"), None);
        assert_eq!(
            hosted_org_domain("NAMPR06A003.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/AdeleV\\rule2"),
            Some("contoso.onmicrosoft.com".into())
        );
    }

    #[test]
    fn owner_forms() {
        let t = tenant(&["simpsons.com", "simpsons.onmicrosoft.com"]);
        let homer = Some("homer.simpson@simpsons.com");
        assert_eq!(
            owner_relation(homer, "homer.simpson@simpsons.onmicrosoft.com", &t),
            Owner::Same
        );
        assert_eq!(
            owner_relation(homer, "marge.simpson@simpsons.onmicrosoft.com", &t),
            Owner::Different
        );
        assert_eq!(
            owner_relation(homer, "homer.simpson@evil.com", &t),
            Owner::Different
        );
        assert_eq!(
            owner_relation(homer, "ABC1.prod.outlook.com/Microsoft Exchange Hosted Organizations/simpsons.onmicrosoft.com/homer.simpson", &t),
            Owner::Same
        );
        assert_eq!(owner_relation(homer, "Homer Simpson", &t), Owner::Same);
        assert_eq!(owner_relation(homer, "Simpson, Marge", &t), Owner::Unknown);
        assert_eq!(owner_relation(homer, "marge", &t), Owner::Different);
        assert_eq!(
            owner_relation(homer, "Invalid/Path/Format", &t),
            Owner::Unknown
        );
        assert_eq!(
            owner_relation(Some("nt authority\\system"), "homer", &t),
            Owner::Unknown
        );
        assert_eq!(mailbox_key("Homer.Simpson@simpsons.com"), "homer.simpson");
        assert_eq!(short_mailbox("N.prod.outlook.com/Microsoft Exchange Hosted Organizations/c.onmicrosoft.com/AdeleV"), "AdeleV");
        assert_eq!(short_mailbox("Invalid/Path/Format"), "Invalid/Path/Format");
        assert_eq!(mailbox_key("x.prod.outlook.com/Microsoft Exchange Hosted Organizations/c.onmicrosoft.com/AdeleV"), "adelev");
    }
}
