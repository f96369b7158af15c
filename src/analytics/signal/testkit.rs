//! Test helpers for the signal analytics: events and lakes of any provider, and the
//! labelled Panther rule tests (one lake per event, since Panther reuses event ids).


use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::analytics::{AnalyticsConfig, DetectContext};
use crate::catalog::Catalog;
use crate::event::Event;
use crate::findings::{Finding, Severity};
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, LogFormat, Provider, Status};
use crate::sources::{read_object, CollectSink, ReadOptions};

/// Microseconds in a day.
pub const DAY: i64 = 24 * HOUR_US;
/// Microseconds in a minute.
pub const MIN: i64 = 60_000_000;

/// The account used for a provider's synthetic events.
pub fn account(p: Provider) -> &'static str {
    match p {
        Provider::Aws => "111122223333",
        Provider::Azure => "00000000-0000-0000-0000-00000000aaaa",
        Provider::Gcp => "test-project",
        Provider::M365 | Provider::Entra => "tenant-1",
    }
}

/// A successful event of `p` at `t_us` by `actor` (NULL when `None`).
pub fn ev(
    p: Provider,
    uid: &str,
    t_us: i64,
    actor: Option<(&str, ActorType)>,
    service: &str,
    operation: &str,
) -> Event<'static> {
    let format = match p {
        Provider::Aws => LogFormat::CloudTrail,
        Provider::Azure => LogFormat::AzureActivity,
        Provider::Gcp => LogFormat::GcpAudit,
        Provider::M365 => LogFormat::M365Audit,
        Provider::Entra => LogFormat::EntraAudit,
    };
    let mut e = Event::new(
        t_us,
        uid.to_string().into(),
        p,
        format,
        account(p).into(),
        service.to_string().into(),
        operation.to_string().into(),
    );
    if let Some((a, t)) = actor {
        e.actor_uid = Some(a.to_string().into());
        e.actor_type = t;
    }
    e.status = Status::Success;
    e
}

/// Writes events as `events/provider=P/date=D/part-N.parquet` (one new file per provider
/// and day per call, so calls add up).
pub use crate::analytics::testlake::append_lake as write_lake;

/// A temporary lake with the builtin catalogue and default settings, scored up to `as_of`
/// over `window`.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub catalog: Catalog,
    pub config: AnalyticsConfig,
    pub as_of: DateTime<Utc>,
    pub window: Duration,
}

impl Lab {
    /// as_of 2024-03-15 00:00 UTC, 24 h window.
    pub fn new() -> Lab {
        Lab {
            dir: tempfile::tempdir().unwrap(),
            catalog: Catalog::load_builtin().unwrap(),
            config: AnalyticsConfig::default(),
            as_of: Utc.with_ymd_and_hms(2024, 3, 15, 0, 0, 0).unwrap(),
            window: Duration::hours(24),
        }
    }
    pub fn ctx(&self) -> DetectContext<'_> {
        DetectContext {
            lake_root: self.dir.path(),
            as_of: self.as_of,
            window: self.window,
            catalog: &self.catalog,
            config: &self.config,
            run_uid: "run-test",
        }
    }
    /// Window start, µs.
    pub fn start(&self) -> i64 {
        (self.as_of - self.window).timestamp_micros()
    }
    pub fn write(&self, events: &[Event<'_>]) {
        write_lake(self.dir.path(), events);
    }
}

/// Normalises one raw record (a line of a JSON-lines file) with the crate's readers.
pub fn normalise(record: &str) -> Vec<Event<'static>> {
    let mut sink = CollectSink::default();
    read_object("case.jsonl", format!("{record}\n").as_bytes(), &ReadOptions::default(), &mut sink);
    sink.events.into_iter().map(|(e, _)| e).collect()
}

/// A labelled Panther test: `line` of the events file, rule, test name, label.
#[derive(Debug, Clone)]
pub struct Case {
    pub line: usize,
    pub rule: String,
    pub test: String,
    pub expected: bool,
}

/// The events file's lines and the labels of `rules` for one source folder
/// (`aws_cloudtrail`, `azure_activity`, `gcp_audit`); `None` when the data is absent.
pub fn panther(source: &str, rules: &[&str]) -> Option<(Vec<String>, Vec<Case>)> {
    let events = crate::sources::testing::shared(&format!("data/real/{source}/panther_rule_tests.events.jsonl"))?;
    let labels = crate::sources::testing::shared(&format!("data/labels/{source}/panther_rule_tests.labels.jsonl"))?;
    let lines = std::fs::read_to_string(events).unwrap().lines().map(str::to_owned).collect();
    let mut cases = Vec::new();
    for l in std::fs::read_to_string(labels).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let rule = v["rule_id"].as_str().unwrap();
        if rules.contains(&rule) {
            cases.push(Case {
                line: v["line"].as_u64().unwrap() as usize,
                rule: rule.to_string(),
                test: v["test_name"].as_str().unwrap_or("").to_string(),
                expected: v["expected_result"].as_bool().unwrap(),
            });
        }
    }
    Some((lines, cases))
}

/// Runs `analytic` on a lake holding only `events`, scored over the 30 days up to one hour
/// after the last event.
pub fn run_alone(
    events: &[Event<'_>],
    analytic: fn(&DetectContext) -> crate::Result<Vec<Finding>>,
) -> Vec<Finding> {
    let Some(last) = events.iter().map(|e| e.time).max() else {
        return Vec::new();
    };
    let mut lab = Lab::new();
    lab.as_of = DateTime::<Utc>::from_timestamp_micros(last + HOUR_US).unwrap();
    lab.window = Duration::days(30);
    lab.write(events);
    analytic(&lab.ctx()).unwrap()
}

/// The highest unsuppressed severity among findings (None when there are none).
pub fn top(found: &[Finding]) -> Option<Severity> {
    found.iter().filter(|f| !f.suppressed).map(|f| f.severity).max()
}
