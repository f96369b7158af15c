//! `[analytics.mail_forwarding_rule]`: parameters, defaults and their checks.

use std::path::Path;

use serde::Deserialize;

use super::tenant;
use crate::{Error, Result};

/// `[analytics.mail_forwarding_rule]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailForwardingRuleConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
    /// The tenant's mail domains (`contoso.com`); subdomains are internal too. Default empty
    /// (learned from the lake, see `learn_tenant_domains`).
    pub tenant_domains: Vec<String>,
    /// Learn tenant domains from people's UPNs and Exchange DNs in the lake (module docs).
    /// Default `true`.
    pub learn_tenant_domains: bool,
    /// Destinations treated as internal: full addresses, or domains (subdomains included),
    /// e.g. a migration partner or an archiving service. Default empty.
    pub allowed_destinations: Vec<String>,
    /// Days before the window searched for the initiator's earlier forwarding-rule
    /// operations and other mailboxes forwarding to the same destination. Default 90.
    pub history_days: u32,
    /// Days of tenant history required before "first-time initiator" raises a finding to
    /// critical (the same rule as `logging_disabled`). Default 7.
    pub min_history_days: u32,
    /// Distinct mailboxes forwarding to one external destination that make it critical.
    /// Default 2.
    pub shared_destination_min_mailboxes: u32,
    /// Folders a rule hides mail in (last path segment, case-insensitive; a name starting
    /// with "RSS" and a name without letters or digits count too). Default: the folders of
    /// Sentinel "Malicious Mailbox Rules (BEC)" and Elastic's hiding rule: Archive, Conversation
    /// History, Deleted Items, Junk Email, Junk E-mail, RSS Feeds, RSS Subscriptions.
    pub obscure_folders: Vec<String>,
    /// Words (case-insensitive substrings) in a rule's conditions that mark it as hiding
    /// security or finance mail. Default: Sentinel "Malicious Inbox Rule"'s list (helpdesk,
    /// alert, suspicious, fake, malicious, phish, spam, do not click, do not open, hijack,
    /// fatal) plus common BEC words (invoice, payment, wire, bank, remittance, password,
    /// security, hacked, compromise, virus, covid, mfa, verify).
    pub suspicious_keywords: Vec<String>,
    /// Most `event_uid`s listed as evidence per finding (`evidence_count` has the full
    /// number). Default 200.
    pub max_evidence: usize,
}

impl Default for MailForwardingRuleConfig {
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
        MailForwardingRuleConfig {
            enabled: true,
            tenant_domains: Vec::new(),
            learn_tenant_domains: true,
            allowed_destinations: Vec::new(),
            history_days: 90,
            min_history_days: 7,
            shared_destination_min_mailboxes: 2,
            obscure_folders: words(&[
                "Archive",
                "Conversation History",
                "Deleted Items",
                "Junk Email",
                "Junk E-mail",
                "RSS Feeds",
                "RSS Subscriptions",
            ]),
            suspicious_keywords: words(&[
                "helpdesk",
                "help desk",
                "alert",
                "suspicious",
                "fake",
                "malicious",
                "phish",
                "spam",
                "do not click",
                "do not open",
                "hijack",
                "fatal",
                "invoice",
                "payment",
                "wire",
                "bank",
                "remittance",
                "password",
                "security",
                "hacked",
                "compromise",
                "virus",
                "covid",
                "mfa",
                "verify",
            ]),
            max_evidence: 200,
        }
    }
}

impl MailForwardingRuleConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.mail_forwarding_rule.<key>`).
    pub fn validate(&self) -> Result<()> {
        let key = |k: &str| format!("analytics.mail_forwarding_rule.{k}");
        if self.min_history_days > self.history_days {
            return Err(Error::config(
                key("min_history_days"),
                format!(
                    "must be ≤ history_days ({}), got {}",
                    self.history_days, self.min_history_days
                ),
            ));
        }
        if self.shared_destination_min_mailboxes < 2 {
            return Err(Error::config(
                key("shared_destination_min_mailboxes"),
                format!(
                    "must be at least 2 (one mailbox is not several), got {}",
                    self.shared_destination_min_mailboxes
                ),
            ));
        }
        if self.max_evidence == 0 {
            return Err(Error::config(key("max_evidence"), "must be at least 1"));
        }
        for (i, d) in self.tenant_domains.iter().enumerate() {
            if tenant::learnable(d).is_none() {
                return Err(Error::config(
                    format!("{}[{i}]", key("tenant_domains")),
                    format!("`{d}` is not a tenant mail domain (a dotted name, not a consumer or shared domain such as onmicrosoft.com)"),
                ));
            }
        }
        for (name, list) in [
            ("allowed_destinations", &self.allowed_destinations),
            ("obscure_folders", &self.obscure_folders),
            ("suspicious_keywords", &self.suspicious_keywords),
        ] {
            if let Some(i) = list.iter().position(|v| v.trim().is_empty()) {
                return Err(Error::config(
                    format!("{}[{i}]", key(name)),
                    "must not be empty",
                ));
            }
        }
        Ok(())
    }

    /// Makes relative paths in the settings absolute against `base` (none today).
    pub fn resolve_paths(&mut self, _base: &Path) {}

    pub(super) fn allowed(&self, address: &str, domain: &str) -> bool {
        self.allowed_destinations.iter().any(|a| {
            let a = a.trim().to_ascii_lowercase();
            if a.contains('@') {
                a == address
            } else {
                let a = a.trim_start_matches("*.").trim_start_matches('@');
                domain == a || domain.strip_suffix(a).is_some_and(|p| p.ends_with('.'))
            }
        })
    }

    pub(super) fn obscure(&self, folder: &str) -> bool {
        let f = folder.trim();
        !f.chars().any(char::is_alphanumeric)
            || f.to_ascii_lowercase().starts_with("rss")
            || self
                .obscure_folders
                .iter()
                .any(|o| o.trim().eq_ignore_ascii_case(f))
    }
}
