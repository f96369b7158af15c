//! `mail_forwarding_rule`: placeholder until the analytic lands (issue 3).

use serde::Deserialize;

use super::DetectContext;
use crate::findings::Finding;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "mail_forwarding_rule";

/// `[analytics.mail_forwarding_rule]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailForwardingRuleConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
}

impl Default for MailForwardingRuleConfig {
    fn default() -> Self {
        MailForwardingRuleConfig { enabled: true }
    }
}

impl MailForwardingRuleConfig {
    /// Checks value ranges; errors name the key (`analytics.mail_forwarding_rule.<key>`).
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Makes relative paths in the settings absolute against `base` (the pipeline file's folder).
    pub fn resolve_paths(&mut self, _base: &std::path::Path) {}
}

/// Runs the analytic over `ctx`'s window.
pub fn run(_ctx: &DetectContext) -> Result<Vec<Finding>> {
    Ok(Vec::new())
}
