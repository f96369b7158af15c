//! Test helpers of the volume analytics: events of any provider, lakes with one
//! partition per provider and day, and the labelled Panther fixtures of `../shared`.

use std::path::Path;

use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};
use crate::sources::{Locator, ReadOptions};

pub use crate::analytics::user_context::testing::{at, utc, write_lake, DAY_US};
pub use crate::profiles::HOUR_US;

/// A successful event of `provider` (log format: CloudTrail, Azure Activity or GCP audit)
/// in `account` by `actor` (`None`: no actor).
#[allow(clippy::too_many_arguments)]
pub fn event(
    provider: Provider,
    account: &str,
    uid: &str,
    t: i64,
    actor: Option<&str>,
    actor_type: ActorType,
    service: &str,
    operation: &str,
) -> Event<'static> {
    let format = match provider {
        Provider::Aws => LogFormat::CloudTrail,
        Provider::Azure => LogFormat::AzureActivity,
        Provider::Gcp => LogFormat::GcpAudit,
        Provider::M365 => LogFormat::M365Audit,
        Provider::Entra => LogFormat::EntraAudit,
    };
    let mut e = Event::new(
        t,
        uid.to_string().into(),
        provider,
        format,
        account.to_string().into(),
        service.to_string().into(),
        operation.to_string().into(),
    );
    e.actor_uid = actor.map(|a| a.to_string().into());
    e.actor_type = if actor.is_some() { actor_type } else { ActorType::None };
    e.status = Status::Success;
    e
}

/// Writes `events` into `root` (one Parquet file per provider and day).
pub fn lake(root: &Path, events: &[Event<'_>]) {
    write_lake(root, events)
}

/// One label of a Panther fixture file (`../shared/data/labels/<source>/...`).
#[derive(Debug, Clone)]
pub struct Label {
    /// 1-based line of the events file.
    pub line: usize,
    /// Panther's rule id.
    pub rule_id: String,
    /// `expected_result`: the rule should fire on the event.
    pub expected: bool,
}

/// Events of a fixture file with their 1-based line.
pub type LinedEvents = Vec<(usize, Event<'static>)>;

/// The events (with their 1-based line) and labels of
/// `../shared/data/real/<source>/panther_rule_tests.events.jsonl`; `None` when absent.
/// Lines that do not normalise (Panther fixtures without `eventTime`) are simply missing.
pub fn panther(source: &str) -> Option<(LinedEvents, Vec<Label>)> {
    let events = crate::sources::testing::shared(&format!("data/real/{source}/panther_rule_tests.events.jsonl"))?;
    let labels = crate::sources::testing::shared(&format!("data/labels/{source}/panther_rule_tests.labels.jsonl"))?;
    let sink = crate::sources::collect_file(&events, &ReadOptions::default()).expect("fixture reads");
    let events = sink
        .events
        .into_iter()
        .filter_map(|(e, loc)| match loc {
            Locator::Line(n) => Some((n, e)),
            _ => None,
        })
        .collect();
    let labels = std::fs::read_to_string(labels)
        .expect("labels read")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("label is JSON");
            Label {
                line: v["line"].as_u64().expect("line") as usize,
                rule_id: v["rule_id"].as_str().unwrap_or_default().to_string(),
                expected: v["expected_result"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    Some((events, labels))
}

/// Every event of a file or folder under `../shared` (rejections tolerated); `None` when
/// absent.
pub fn shared_events(rel: &str) -> Option<Vec<Event<'static>>> {
    let path = crate::sources::testing::shared(rel)?;
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        v
    } else {
        vec![path]
    };
    let mut out = Vec::new();
    for f in files {
        let sink = crate::sources::collect_file(&f, &ReadOptions::default()).expect("shared file reads");
        out.extend(sink.events.into_iter().map(|(e, _)| e));
    }
    Some(out)
}
