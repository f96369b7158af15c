//! Suppressions and allow-lists from the pipeline file: known, accepted activity that an
//! analytic would otherwise report, each with an owner, a reason and an expiry.
//!
//! ```toml
//! # Hide one pattern of findings (a finding that is understood and accepted).
//! [[suppressions]]
//! id = "dr-test-stoplogging"
//! analytic = "logging_disabled"          # an analytic id, or "*" for every analytic
//! actor = "arn:aws:sts::*:assumed-role/dr-drill-*"   # glob over actor_uid
//! account = "318273645560"               # glob over account_uid
//! operation = "StopLogging"              # glob over operation
//! max_severity = "high"                  # never hide anything above this (default: critical)
//! owner = "secops@example.com"
//! reason = "quarterly disaster-recovery drill, CHG-1042"
//! expires = "2024-06-30"                 # last day it applies (UTC), or an RFC 3339 instant
//!
//! # Known-good principals or networks for some analytics (same keys).
//! [[allowlist]]
//! id = "ci-runners"
//! analytic = "session_anomaly"
//! src_ip = "203.0.113.0/24"              # an address or a CIDR block
//! owner = "platform@example.com"
//! reason = "GitHub Actions self-hosted runners' NAT"
//! expires = "2025-01-31"
//! ```
//!
//! An entry matches a finding when every matcher it sets matches (unset matchers match
//! anything; a matcher on a field the finding lacks does not match) and the finding's
//! severity is at most `max_severity`. A matching finding is still written, with
//! `suppressed = true` and a `suppression_reason` naming the entry, its owner and expiry, so
//! that an audit can see what was hidden; alert counts, `--fail-on` and exports of alerts
//! skip it.
//!
//! **Expiry** is judged against the run's `--as-of` instant (the wall clock for scheduled
//! runs), not against the finding's time: once an entry has expired it hides nothing, and
//! the run summary lists it as expired with the number of findings it would have hidden, so
//! that the owner renews or removes it instead of it silently widening. Entries expiring
//! within [`EXPIRY_WARNING_DAYS`] are listed as `expiring`.
//!
//! The two tables differ only in their meaning to a reader (and in the `kind` shown in the
//! summary): a suppression describes a finding pattern, an allow-list entry a principal,
//! network or user agent trusted for an analytic. This follows the exception-list model of
//! Elastic rule exceptions and Splunk ES suppressions, with the mandatory expiry and owner
//! that Sentinel automation rules' expiration offers but does not require.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use glob::Pattern;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::findings::{Finding, Severity};
use crate::{Error, Result};

/// Entries that expire within this many days of the run are reported as `expiring`.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// One `[[suppressions]]` or `[[allowlist]]` table as written in the pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionConfig {
    /// Short unique name, shown in findings and the summary.
    pub id: String,
    /// Analytic id, or `*` for all.
    pub analytic: String,
    /// Glob over `actor_uid` (`*` any run of characters, `?` one character).
    #[serde(default)]
    pub actor: Option<String>,
    /// Glob over `account_uid`.
    #[serde(default)]
    pub account: Option<String>,
    /// An IP address or CIDR block that the finding's `src_ip` must fall in.
    #[serde(default)]
    pub src_ip: Option<String>,
    /// Glob over the finding's `user_agent`.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Glob over the finding's `operation`.
    #[serde(default)]
    pub operation: Option<String>,
    /// Glob over the finding's `resource_uid`.
    #[serde(default)]
    pub resource: Option<String>,
    /// Highest severity the entry may hide (`info` … `critical`); default `critical`.
    #[serde(default)]
    pub max_severity: Option<String>,
    /// Who answers for the entry (a person or team address).
    pub owner: String,
    /// Why the activity is accepted (a ticket, a known job).
    pub reason: String,
    /// Last day the entry applies (`YYYY-MM-DD`, through 23:59:59 UTC), or an RFC 3339 instant.
    pub expires: String,
}

/// Which table an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Suppression,
    Allowlist,
}

/// A validated entry.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub id: String,
    pub kind: Kind,
    analytic: Option<String>,
    actor: Option<Pattern>,
    account: Option<Pattern>,
    src_ip: Option<IpNet>,
    user_agent: Option<Pattern>,
    operation: Option<Pattern>,
    resource: Option<Pattern>,
    max_severity: Severity,
    pub owner: String,
    pub reason: String,
    /// First instant at which the entry no longer applies.
    pub expires_at: DateTime<Utc>,
}

/// Where an entry stands at a run's `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Active,
    /// Active, but expires within [`EXPIRY_WARNING_DAYS`].
    Expiring,
    /// Past its expiry: hides nothing.
    Expired,
}

/// One entry's part in a run, for the run summary.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub id: String,
    pub kind: Kind,
    pub owner: String,
    pub expires_at: DateTime<Utc>,
    pub state: State,
    /// Findings of this run the entry hid (active) or would have hidden (expired).
    pub matched: usize,
}

impl Suppression {
    /// Validates one table; `key` is its place in the file (`suppressions[2]`).
    ///
    /// # Errors
    /// [`Error::Config`] naming `key.<field>` for an empty owner or reason, an unknown
    /// analytic, a bad glob, address, severity or expiry.
    pub fn from_config(c: &SuppressionConfig, kind: Kind, key: &str, known_analytics: &[&str]) -> Result<Self> {
        let err = |field: &str, msg: String| Error::config(format!("{key}.{field}"), msg);
        for (field, v) in [("id", &c.id), ("owner", &c.owner), ("reason", &c.reason)] {
            if v.trim().is_empty() {
                return Err(err(field, "must not be empty: every exception needs an id, an owner and a reason".into()));
            }
        }
        let analytic = match c.analytic.as_str() {
            "*" => None,
            a if known_analytics.contains(&a) => Some(a.to_string()),
            a => return Err(err("analytic", format!("unknown analytic `{a}`; valid: *, {}", known_analytics.join(", ")))),
        };
        let glob = |field: &str, v: &Option<String>| -> Result<Option<Pattern>> {
            v.as_deref().map(|p| Pattern::new(p).map_err(|e| err(field, format!("bad glob `{p}`: {e}")))).transpose()
        };
        let src_ip = c
            .src_ip
            .as_deref()
            .map(|s| s.parse::<IpNet>().or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from)).map_err(|_| err("src_ip", format!("`{s}` is neither an IP address nor a CIDR block"))))
            .transpose()?;
        let max_severity = match &c.max_severity {
            None => Severity::Critical,
            Some(s) => Severity::parse(s).ok_or_else(|| err("max_severity", format!("unknown severity `{s}`; valid: info, low, medium, high, critical")))?,
        };
        let expires_at = parse_expiry(&c.expires).ok_or_else(|| err("expires", format!("`{}` is neither YYYY-MM-DD nor RFC 3339", c.expires)))?;
        Ok(Self {
            id: c.id.clone(),
            kind,
            analytic,
            actor: glob("actor", &c.actor)?,
            account: glob("account", &c.account)?,
            src_ip,
            user_agent: glob("user_agent", &c.user_agent)?,
            operation: glob("operation", &c.operation)?,
            resource: glob("resource", &c.resource)?,
            max_severity,
            owner: c.owner.clone(),
            reason: c.reason.clone(),
            expires_at,
        })
    }

    /// Whether the entry describes `f` (expiry aside).
    pub fn matches(&self, f: &Finding) -> bool {
        let glob = |p: &Option<Pattern>, v: Option<&str>| p.as_ref().is_none_or(|p| v.is_some_and(|v| p.matches(v)));
        self.analytic.as_deref().is_none_or(|a| a == f.analytic_uid)
            && f.severity <= self.max_severity
            && glob(&self.actor, f.actor_uid.as_deref())
            && glob(&self.account, Some(&f.account_uid))
            && glob(&self.user_agent, f.user_agent.as_deref())
            && glob(&self.operation, f.operation.as_deref())
            && glob(&self.resource, f.resource_uid.as_deref())
            && self.src_ip.as_ref().is_none_or(|net| f.src_ip.as_deref().and_then(|ip| ip.parse::<std::net::IpAddr>().ok()).is_some_and(|ip| net.contains(&ip)))
    }

    /// The entry's state at `as_of`.
    pub fn state(&self, as_of: DateTime<Utc>) -> State {
        if as_of >= self.expires_at {
            State::Expired
        } else if self.expires_at - as_of <= Duration::days(EXPIRY_WARNING_DAYS) {
            State::Expiring
        } else {
            State::Active
        }
    }

    fn label(&self) -> String {
        let kind = match self.kind {
            Kind::Suppression => "suppression",
            Kind::Allowlist => "allow-list entry",
        };
        format!("{kind} `{}` (owner {}, until {}): {}", self.id, self.owner, self.expires_at.format("%Y-%m-%d %H:%M UTC"), self.reason)
    }
}

/// `YYYY-MM-DD` names the last day the entry applies, so it expires at the next midnight.
fn parse_expiry(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some((d + Duration::days(1)).and_hms_opt(0, 0, 0)?.and_utc())
}

/// Validates every `[[suppressions]]` and `[[allowlist]]` table of a pipeline file; `origin`
/// (the file's path) prefixes the keys that errors name.
///
/// # Errors
/// As [`Suppression::from_config`], plus a duplicate `id`.
pub fn build(origin: &str, suppressions: &[SuppressionConfig], allowlist: &[SuppressionConfig], known_analytics: &[&str]) -> Result<Vec<Suppression>> {
    let mut out: Vec<Suppression> = Vec::new();
    let tables = [(Kind::Suppression, "suppressions", suppressions), (Kind::Allowlist, "allowlist", allowlist)];
    for (kind, table, entries) in tables {
        for (i, c) in entries.iter().enumerate() {
            let key = format!("{origin}: {table}[{i}]");
            let s = Suppression::from_config(c, kind, &key, known_analytics)?;
            if out.iter().any(|o| o.id == s.id) {
                return Err(Error::config(format!("{key}.id"), format!("`{}` is used twice; ids name entries in findings and must be unique", s.id)));
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// Marks the findings that an entry in force at `as_of` hides, and reports every entry.
///
/// A finding already suppressed by its analytic (a change request, a routine change) keeps
/// its own reason; the first matching entry in file order wins otherwise. Expired entries
/// hide nothing but count what they would have hidden.
pub fn apply(entries: &[Suppression], found: &mut [Finding], as_of: DateTime<Utc>) -> Vec<Report> {
    let mut reports: Vec<Report> = entries
        .iter()
        .map(|s| Report { id: s.id.clone(), kind: s.kind, owner: s.owner.clone(), expires_at: s.expires_at, state: s.state(as_of), matched: 0 })
        .collect();
    for f in found.iter_mut().filter(|f| !f.suppressed) {
        let mut hidden = false;
        for (s, r) in entries.iter().zip(reports.iter_mut()) {
            if !s.matches(f) {
                continue;
            }
            r.matched += 1;
            if r.state != State::Expired && !hidden {
                f.suppressed = true;
                f.suppression_reason = Some(s.label());
                hidden = true;
            }
        }
    }
    reports
}

#[cfg(test)]
mod tests;
