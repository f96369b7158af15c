//! Analytics: one module per analytic family (DESIGN.md "Analytics"). Each reads the lake
//! through polars ([`crate::profiles`]), scores with [`crate::scoring`], and returns
//! [`Finding`]s; writing them is the caller's job ([`crate::findings::write_findings`]).
//!
//! Every analytic of DESIGN.md's catalogue, each on every provider whose events its
//! catalogue tag selects. Signals (every matching event is a finding, graded by context
//! and history): [`logging_disabled`], [`mail_forwarding_rule`],
//! [`conditional_access_change`], [`resource_hierarchy_change`], [`event_trigger_created`],
//! [`serverless_change`], [`region_or_service_enabled`], [`quota_increase`],
//! [`service_change_unexpected_initiator`]. Statistical (counts against the entity's own
//! and its peers' baselines): [`secret_access_volume`], [`session_anomaly`],
//! [`file_access_anomaly`], [`enumeration_burst`], [`model_invocation_volume`],
//! [`log_source_silence`].

pub mod conditional_access_change;
pub mod enumeration_burst;
pub mod event_trigger_created;
pub mod file_access_anomaly;
pub mod log_source_silence;
pub mod logging_disabled;
pub mod mail_forwarding_rule;
pub mod model_invocation_volume;
pub mod quota_increase;
pub mod region_or_service_enabled;
pub mod resource_hierarchy_change;
pub mod secret_access_volume;
pub mod serverless_change;
pub mod service_change_unexpected_initiator;
pub mod session_anomaly;
pub mod signal;
pub mod user_context;
pub mod volume;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::catalog::{Catalog, Entry};
use crate::findings::Finding;
use crate::{Error, Result};

/// `[analytics]` of the pipeline TOML: one table per analytic, each optional with
/// documented defaults (see the sub-structs).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// `[analytics.logging_disabled]`.
    #[serde(default)]
    pub logging_disabled: logging_disabled::LoggingDisabledConfig,
    /// `[analytics.secret_access_volume]`.
    #[serde(default)]
    pub secret_access_volume: secret_access_volume::SecretAccessVolumeConfig,
    /// `[analytics.session_anomaly]`.
    #[serde(default)]
    pub session_anomaly: session_anomaly::SessionAnomalyConfig,
    /// `[analytics.file_access_anomaly]`.
    #[serde(default)]
    pub file_access_anomaly: file_access_anomaly::FileAccessAnomalyConfig,
    /// `[analytics.mail_forwarding_rule]`.
    #[serde(default)]
    pub mail_forwarding_rule: mail_forwarding_rule::MailForwardingRuleConfig,
    /// `[analytics.conditional_access_change]`.
    #[serde(default)]
    pub conditional_access_change: conditional_access_change::ConditionalAccessChangeConfig,
    /// `[analytics.service_change_unexpected_initiator]`.
    #[serde(default)]
    pub service_change_unexpected_initiator: service_change_unexpected_initiator::ServiceChangeUnexpectedInitiatorConfig,
    /// `[analytics.enumeration_burst]`.
    #[serde(default)]
    pub enumeration_burst: enumeration_burst::EnumerationBurstConfig,
    /// `[analytics.quota_increase]`.
    #[serde(default)]
    pub quota_increase: quota_increase::QuotaIncreaseConfig,
    /// `[analytics.region_or_service_enabled]`.
    #[serde(default)]
    pub region_or_service_enabled: region_or_service_enabled::RegionOrServiceEnabledConfig,
    /// `[analytics.resource_hierarchy_change]`.
    #[serde(default)]
    pub resource_hierarchy_change: resource_hierarchy_change::ResourceHierarchyChangeConfig,
    /// `[analytics.event_trigger_created]`.
    #[serde(default)]
    pub event_trigger_created: event_trigger_created::EventTriggerCreatedConfig,
    /// `[analytics.serverless_change]`.
    #[serde(default)]
    pub serverless_change: serverless_change::ServerlessChangeConfig,
    /// `[analytics.model_invocation_volume]`.
    #[serde(default)]
    pub model_invocation_volume: model_invocation_volume::ModelInvocationVolumeConfig,
    /// `[analytics.log_source_silence]`.
    #[serde(default)]
    pub log_source_silence: log_source_silence::LogSourceSilenceConfig,
    /// The pipeline file's `[profiles]` (not a key of `[analytics]`): how far back the
    /// profile store keeps and reads baselines.
    #[serde(skip)]
    pub profiles: crate::profiles::store::ProfileSettings,
}

impl AnalyticsConfig {
    /// Checks value ranges; errors are [`Error::Config`] naming the key
    /// (`analytics.secret_access_volume.fdr_q`).
    pub fn validate(&self) -> Result<()> {
        self.profiles.validate()?;
        self.session_anomaly.validate()?;
        self.file_access_anomaly.validate()?;
        self.mail_forwarding_rule.validate()?;
        self.conditional_access_change.validate()?;
        self.service_change_unexpected_initiator.validate()?;
        self.enumeration_burst.validate()?;
        self.quota_increase.validate()?;
        self.region_or_service_enabled.validate()?;
        self.resource_hierarchy_change.validate()?;
        self.event_trigger_created.validate()?;
        self.serverless_change.validate()?;
        self.model_invocation_volume.validate()?;
        self.log_source_silence.validate()?;
        let s = &self.secret_access_volume;
        let key = |k: &str| format!("analytics.secret_access_volume.{k}");
        if !(s.fdr_q > 0.0 && s.fdr_q <= 1.0) {
            return Err(Error::config(
                key("fdr_q"),
                format!("must be in (0, 1], got {}", s.fdr_q),
            ));
        }
        if !(s.dispersion_alpha > 0.0 && s.dispersion_alpha < 1.0) {
            return Err(Error::config(
                key("dispersion_alpha"),
                format!("must be in (0, 1), got {}", s.dispersion_alpha),
            ));
        }
        if s.max_history_days < s.min_history_days || s.max_history_days == 0 {
            return Err(Error::config(
                key("max_history_days"),
                format!(
                    "must be ≥ min_history_days ({}) and > 0, got {}",
                    s.min_history_days, s.max_history_days
                ),
            ));
        }
        if s.min_ratio.is_nan() || s.min_ratio < 0.0 {
            return Err(Error::config(
                key("min_ratio"),
                format!("must be ≥ 0, got {}", s.min_ratio),
            ));
        }
        Ok(())
    }
}

impl AnalyticsConfig {
    /// Makes relative paths in the settings (the change-request table) absolute against
    /// `base`, the pipeline file's folder, so a job runs the same from any directory.
    pub fn resolve_paths(&mut self, base: &Path) {
        self.session_anomaly.resolve_paths(base);
        self.file_access_anomaly.resolve_paths(base);
        self.mail_forwarding_rule.resolve_paths(base);
        self.conditional_access_change.resolve_paths(base);
        self.service_change_unexpected_initiator.resolve_paths(base);
    }
}

/// What one detection run scores.
pub struct DetectContext<'a> {
    /// Local lake folder; events at `lake_root/events/provider=P/date=YYYY-MM-DD/*.parquet`.
    pub lake_root: &'a Path,
    /// End of the scoring window (exclusive).
    pub as_of: DateTime<Utc>,
    /// Scoring window length (default 24 h); history is everything before its start.
    pub window: Duration,
    /// Operation → tags and techniques.
    pub catalog: &'a Catalog,
    /// `[analytics]` settings.
    pub config: &'a AnalyticsConfig,
    /// Written into every finding's `run_uid`.
    pub run_uid: &'a str,
}

impl DetectContext<'_> {
    /// Start of the scoring window (inclusive): `as_of - window`.
    pub fn window_start(&self) -> DateTime<Utc> {
        self.as_of - self.window
    }

    /// The profile store's operation groups over `[from, to)`, `from` clamped to the forget
    /// window before the scoring window: the baseline the analytics
    /// read first-seen times, routine days and the operations present from, instead of
    /// every event of the lookback (see [`crate::profiles::store::operations`]).
    ///
    /// # Errors
    /// [`Error::Lake`] / [`Error::Io`] for unreadable event files or profile folders.
    pub fn summary(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<polars::prelude::LazyFrame> {
        let from = self.config.profiles.clamp(from, self.window_start());
        crate::profiles::store::operations(self.lake_root, from, to)
    }

    /// The profile store's hourly counts over `[from, to)` (see
    /// [`crate::profiles::store::hourly`]).
    ///
    /// # Errors
    /// As [`DetectContext::summary`].
    pub fn hourly_profile(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<polars::prelude::LazyFrame> {
        let from = self.config.profiles.clamp(from, self.window_start());
        crate::profiles::store::hourly(self.lake_root, from, to)
    }
}

/// Every analytic's id, in the order [`run_all`] runs them (the keys of `[analytics.<id>]`).
pub const ANALYTIC_IDS: [&str; 15] = [
    "logging_disabled",
    "secret_access_volume",
    "session_anomaly",
    "file_access_anomaly",
    "mail_forwarding_rule",
    "conditional_access_change",
    "service_change_unexpected_initiator",
    "enumeration_burst",
    "quota_increase",
    "region_or_service_enabled",
    "resource_hierarchy_change",
    "event_trigger_created",
    "serverless_change",
    "model_invocation_volume",
    "log_source_silence",
];

/// Runs every enabled analytic and returns their findings (logging_disabled first).
/// An empty or missing lake gives no findings. Errors: [`Error::Config`] for invalid
/// settings or a non-positive window; [`Error::Lake`] / [`Error::Io`] for unreadable lake files.
pub fn run_all(ctx: &DetectContext) -> Result<Vec<Finding>> {
    ctx.config.validate()?;
    if ctx.window <= Duration::zero() {
        return Err(Error::config(
            "window",
            format!("must be positive, got {}", ctx.window),
        ));
    }
    let mut out = Vec::new();
    if ctx.config.logging_disabled.enabled {
        out.extend(logging_disabled::run(ctx)?);
    }
    if ctx.config.secret_access_volume.enabled {
        out.extend(secret_access_volume::run(ctx)?);
    }
    if ctx.config.session_anomaly.enabled {
        out.extend(session_anomaly::run(ctx)?);
    }
    if ctx.config.file_access_anomaly.enabled {
        out.extend(file_access_anomaly::run(ctx)?);
    }
    if ctx.config.mail_forwarding_rule.enabled {
        out.extend(mail_forwarding_rule::run(ctx)?);
    }
    if ctx.config.conditional_access_change.enabled {
        out.extend(conditional_access_change::run(ctx)?);
    }
    if ctx.config.service_change_unexpected_initiator.enabled {
        out.extend(service_change_unexpected_initiator::run(ctx)?);
    }
    if ctx.config.enumeration_burst.enabled {
        out.extend(enumeration_burst::run(ctx)?);
    }
    if ctx.config.quota_increase.enabled {
        out.extend(quota_increase::run(ctx)?);
    }
    if ctx.config.region_or_service_enabled.enabled {
        out.extend(region_or_service_enabled::run(ctx)?);
    }
    if ctx.config.resource_hierarchy_change.enabled {
        out.extend(resource_hierarchy_change::run(ctx)?);
    }
    if ctx.config.event_trigger_created.enabled {
        out.extend(event_trigger_created::run(ctx)?);
    }
    if ctx.config.serverless_change.enabled {
        out.extend(serverless_change::run(ctx)?);
    }
    if ctx.config.model_invocation_volume.enabled {
        out.extend(model_invocation_volume::run(ctx)?);
    }
    if ctx.config.log_source_silence.enabled {
        out.extend(log_source_silence::run(ctx)?);
    }
    Ok(out)
}

/// The most frequent non-NULL value (ties: the smallest, for determinism).
pub(crate) fn most_common<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in values.flatten() {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(v, _)| v.to_string())
}

/// Techniques of the entries in first-seen order, and the newest ATT&CK version among
/// them (as written in the catalogue; empty when none).
pub(crate) fn union_techniques(entries: &[&Entry]) -> (Vec<String>, String) {
    let mut techniques: Vec<String> = Vec::new();
    for t in entries.iter().flat_map(|e| &e.techniques) {
        if !techniques.contains(t) {
            techniques.push(t.clone());
        }
    }
    let version = entries
        .iter()
        .filter_map(|e| Some((e.attack_major()?, e.attack_version.clone()?)))
        .max()
        .map(|(_, v)| v)
        .unwrap_or_default();
    (techniques, version)
}

/// Test lakes: events written with the real lake schema and partition layout.
#[cfg(test)]
pub(crate) mod testlake {
    use std::collections::BTreeMap;
    use std::path::Path;

    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::event::{Event, EventBatchBuilder};
    use crate::schema::{ActorType, LogFormat, Provider, Status};

    /// A successful AWS CloudTrail event of account 111122223333 at `t_us`.
    pub fn ev(
        uid: &str,
        t_us: i64,
        actor: &str,
        actor_type: ActorType,
        service: &str,
        operation: &str,
    ) -> Event<'static> {
        let mut e = Event::new(
            t_us,
            uid.to_string().into(),
            Provider::Aws,
            LogFormat::CloudTrail,
            "111122223333".into(),
            service.to_string().into(),
            operation.to_string().into(),
        );
        e.actor_uid = Some(actor.to_string().into());
        e.actor_type = actor_type;
        e.status = Status::Success;
        e
    }

    /// Writes events as `events/provider=P/date=D/part-0.parquet`, one file per provider and
    /// day, without deduplication (Panther fixtures reuse ids); a second call replaces the
    /// partitions it writes.
    pub fn write_lake(root: &Path, events: &[Event<'_>]) {
        write_parts(root, events, || "part-0.parquet".to_string());
    }

    /// As [`write_lake`], but each call writes new files (`part-N.parquet`), so calls add up.
    pub fn append_lake(root: &Path, events: &[Event<'_>]) {
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        write_parts(root, events, || format!("part-append-{}.parquet", FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    }

    fn write_parts(root: &Path, events: &[Event<'_>], name: impl Fn() -> String) {
        let mut by_day: BTreeMap<(String, String), Vec<&Event<'_>>> = BTreeMap::new();
        for e in events {
            let date = crate::event::date_and_hour_of_week(e.time).0;
            by_day.entry((e.provider.as_str().to_string(), date)).or_default().push(e);
        }
        for ((provider, date), evs) in by_day {
            let dir = root.join(format!("events/provider={provider}/date={date}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut b = EventBatchBuilder::new();
            for (i, e) in evs.iter().enumerate() {
                b.push(e, "test.json", &format!("record:{i}"), "run-ingest");
            }
            let batch = b.finish();
            let file = std::fs::File::create(dir.join(name())).unwrap();
            let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
        }
    }

    /// A temporary lake, the builtin catalogue, default config, as_of 2024-03-15 00:00 UTC
    /// and a 24 h window.
    pub struct Ctx {
        pub dir: tempfile::TempDir,
        pub catalog: Catalog,
        pub config: AnalyticsConfig,
        pub as_of: DateTime<Utc>,
    }

    impl Ctx {
        pub fn new() -> Ctx {
            Ctx {
                dir: tempfile::tempdir().unwrap(),
                catalog: Catalog::load_builtin().unwrap(),
                config: AnalyticsConfig::default(),
                as_of: Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap(),
            }
        }
        pub fn ctx(&self) -> DetectContext<'_> {
            DetectContext {
                lake_root: self.dir.path(),
                as_of: self.as_of,
                window: Duration::hours(24),
                catalog: &self.catalog,
                config: &self.config,
                run_uid: "run-test",
            }
        }
        pub fn as_of_us(&self) -> i64 {
            self.as_of.timestamp_micros()
        }
        pub fn window_start_us(&self) -> i64 {
            self.as_of_us() - 24 * crate::profiles::HOUR_US
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testlake::Ctx;
    use super::*;

    #[test]
    fn config_parses_defaults_and_rejects_unknown_keys() {
        let c: AnalyticsConfig = toml::from_str("[secret_access_volume]\nfdr_q = 0.05\n").unwrap();
        assert_eq!(c.secret_access_volume.fdr_q, 0.05);
        assert_eq!(c.secret_access_volume.min_history_days, 7);
        assert_eq!(c.logging_disabled.history_days, 90);
        assert!(toml::from_str::<AnalyticsConfig>("[logging_disabled]\nhistory = 3\n").is_err());
        assert!(toml::from_str::<AnalyticsConfig>("[nope]\n").is_err());
        let bad: AnalyticsConfig = toml::from_str("[secret_access_volume]\nfdr_q = 0.0\n").unwrap();
        let err = bad.validate().unwrap_err();
        assert!(
            err.to_string()
                .contains("analytics.secret_access_volume.fdr_q"),
            "{err}"
        );
    }

    #[test]
    fn run_all_on_missing_lake_is_empty() {
        let ctx = Ctx::new();
        assert!(run_all(&ctx.ctx()).unwrap().is_empty());
    }

    #[test]
    fn helpers() {
        let v = [Some("b"), None, Some("a"), Some("b"), Some("a")];
        assert_eq!(most_common(v.into_iter()), Some("a".into()));
        assert_eq!(most_common([None::<&str>].into_iter()), None);
    }
}
