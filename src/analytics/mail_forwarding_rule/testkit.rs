//! Test lakes of Microsoft 365 and Entra rows, shared by the `mail_forwarding_rule` and
//! `conditional_access_change` tests. `analytics::testlake::write_lake` writes every row
//! under `provider=aws`; this one partitions by each event's provider, as the lake does,
//! and never deduplicates (Panther's test events reuse one `id`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::event::{Event, EventBatchBuilder};
use crate::schema::{ActorType, LogFormat, Provider, Status};
use crate::sources::{read_object, CollectSink, ReadOptions};

/// Writes `events` as `events/provider=P/date=D/part-<n>.parquet`; a second call adds
/// files next to the first ones.
pub(crate) fn write_lake(root: &Path, events: &[Event<'_>]) {
    let mut parts: BTreeMap<(String, String), Vec<&Event<'_>>> = BTreeMap::new();
    for e in events {
        let date = crate::event::date_and_hour_of_week(e.time).0;
        parts
            .entry((e.provider.as_str().to_string(), date))
            .or_default()
            .push(e);
    }
    for ((provider, date), evs) in parts {
        let dir = root.join(format!("events/provider={provider}/date={date}"));
        std::fs::create_dir_all(&dir).unwrap();
        let n = std::fs::read_dir(&dir).unwrap().count();
        let mut b = EventBatchBuilder::new();
        for (i, e) in evs.iter().enumerate() {
            b.push(e, "test.json", &format!("record:{i}"), "run-ingest");
        }
        let batch = b.finish();
        let file = std::fs::File::create(dir.join(format!("part-{n}.parquet"))).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
}

/// A successful Exchange record of tenant `tenant` by the person `actor` (a UPN).
pub(crate) fn exchange(
    uid: &str,
    t_us: i64,
    tenant: &str,
    actor: &str,
    operation: &str,
    params: serde_json::Value,
) -> Event<'static> {
    let mut e = Event::new(
        t_us,
        uid.to_string().into(),
        Provider::M365,
        LogFormat::M365Audit,
        tenant.to_string().into(),
        "Exchange".into(),
        operation.to_string().into(),
    );
    e.actor_uid = Some(actor.to_lowercase().into());
    e.actor_name = Some(actor.to_string().into());
    e.actor_type = ActorType::User;
    e.status = Status::Success;
    e.src_ip = Some("203.0.113.7".into());
    e.request_params = Some(params.to_string().into());
    e
}

/// A successful Entra audit record of (`service` = loggedByService, `operation`) by the
/// person `actor` on the target `resource`, with `modifiedProperties` already in the
/// lake's `{name: {"old", "new"}}` form.
pub(crate) fn entra_audit(
    uid: &str,
    t_us: i64,
    tenant: &str,
    actor: &str,
    (service, operation): (&str, &str),
    resource: &str,
    params: Option<serde_json::Value>,
) -> Event<'static> {
    let mut e = Event::new(
        t_us,
        uid.to_string().into(),
        Provider::Entra,
        LogFormat::EntraAudit,
        tenant.to_string().into(),
        service.to_string().into(),
        operation.to_string().into(),
    );
    e.actor_uid = Some(actor.to_lowercase().into());
    e.actor_type = ActorType::User;
    e.status = Status::Success;
    e.resource_uid = Some(resource.to_string().into());
    e.request_params = params.map(|p| p.to_string().into());
    e
}

/// A person's sign-in (teaches the tenant's domains and starts its history).
pub(crate) fn signin(uid: &str, t_us: i64, tenant: &str, actor: &str) -> Event<'static> {
    let mut e = Event::new(
        t_us,
        uid.to_string().into(),
        Provider::Entra,
        LogFormat::EntraSignin,
        tenant.to_string().into(),
        "SignInLogs".into(),
        "Sign-in activity".into(),
    );
    e.actor_uid = Some(actor.to_lowercase().into());
    e.actor_type = ActorType::User;
    e.status = Status::Success;
    e
}

/// Every event of the hand-written fixture `tests/fixtures/m365/<name>`, normalised as
/// [`real_events`] does.
pub(crate) fn fixture_events(name: &str) -> Vec<(String, Event<'static>)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/m365");
    events_at(&dir.join(name)).expect("the fixture is in the repository")
}

/// Every event of a real sample under `../shared` with its locator (`line:3`, `row:2`),
/// normalised by the crate's readers with `raw_event` kept and no deduplication; `None`
/// when the sample is absent.
pub(crate) fn real_events(rel: &str) -> Option<Vec<(String, Event<'static>)>> {
    events_at(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared")
            .join(rel),
    )
}

fn events_at(path: &Path) -> Option<Vec<(String, Event<'static>)>> {
    let data = std::fs::read(path).ok()?;
    let mut sink = CollectSink::default();
    read_object(
        &path.to_string_lossy(),
        &data,
        &ReadOptions::default(),
        &mut sink,
    );
    assert!(
        sink.rejects.is_empty(),
        "{}: {:?}",
        path.display(),
        sink.rejects
    );
    Some(
        sink.events
            .into_iter()
            .map(|(e, loc)| (loc.to_string(), e))
            .collect(),
    )
}

/// Labels of a Panther file: line → (rule_id, expected_result); `None` when absent.
pub(crate) fn labels(rel: &str) -> Option<BTreeMap<String, (String, bool)>> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    format!("line:{}", v["line"]),
                    (
                        v["rule_id"].as_str().unwrap().to_string(),
                        v["expected_result"].as_bool().unwrap(),
                    ),
                )
            })
            .collect(),
    )
}
