//! `conditional_access_change`: placeholder until the analytic lands (issue 3).

use serde::Deserialize;

use super::DetectContext;
use crate::findings::Finding;
use crate::Result;

/// The analytic's id (`analytic_uid` of its findings).
pub const ID: &str = "conditional_access_change";

/// `[analytics.conditional_access_change]` in the pipeline TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConditionalAccessChangeConfig {
    /// Run the analytic. Default `true`.
    pub enabled: bool,
}

impl Default for ConditionalAccessChangeConfig {
    fn default() -> Self {
        ConditionalAccessChangeConfig { enabled: true }
    }
}

impl ConditionalAccessChangeConfig {
    /// Checks value ranges; errors name the key (`analytics.conditional_access_change.<key>`).
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
