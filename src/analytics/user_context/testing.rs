//! Test events of Microsoft 365 / Entra ID, and real samples normalised with the sources
//! API; lakes are written with the shared `testlake::write_lake`.


use chrono::{DateTime, TimeZone, Utc};

use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

/// Tenant of the synthetic events.
pub const TENANT: &str = "aaaaaaaa-1111-2222-3333-444444444444";
/// Microseconds in one day.
pub const DAY_US: i64 = 24 * crate::profiles::HOUR_US;

/// µs of a UTC date-time.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_micros()
}

/// A UTC date-time.
pub fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
}

/// A person's M365 audit event of [`TENANT`] (status success).
pub fn m365(uid: &str, t: i64, actor: &str, ip: Option<&str>, service: &str, operation: &str) -> Event<'static> {
    let mut e = Event::new(
        t,
        uid.to_string().into(),
        Provider::M365,
        LogFormat::M365Audit,
        TENANT.into(),
        service.to_string().into(),
        operation.to_string().into(),
    );
    e.actor_uid = Some(actor.to_string().into());
    e.actor_type = ActorType::User;
    e.src_ip = ip.map(|i| i.to_string().into());
    e.status = Status::Success;
    e
}

/// An interactive Entra sign-in of [`TENANT`] (`SignInLogs` / `Sign-in activity`).
pub fn signin(uid: &str, t: i64, actor: &str, ip: &str, ok: bool) -> Event<'static> {
    let mut e = Event::new(
        t,
        uid.to_string().into(),
        Provider::Entra,
        LogFormat::EntraSignin,
        TENANT.into(),
        "SignInLogs".into(),
        "Sign-in activity".into(),
    );
    e.actor_uid = Some(actor.to_string().into());
    e.actor_type = ActorType::User;
    e.src_ip = Some(ip.to_string().into());
    e.status = if ok { Status::Success } else { Status::Failure };
    e
}

/// A SharePoint `FileAccessed` of `file` by `actor`.
pub fn file(uid: &str, t: i64, actor: &str, ip: &str, file: &str, agent: &str) -> Event<'static> {
    let mut e = m365(uid, t, actor, Some(ip), "SharePoint", "FileAccessed");
    e.resource_uid = Some(file.to_string().into());
    e.user_agent = Some(agent.to_string().into());
    e.status = Status::Unknown;
    e
}

pub use crate::analytics::testlake::write_lake;

/// Normalises a file under `../shared` with the sources API; `None` when absent.
pub fn normalise_shared(rel: &str) -> Option<Vec<Event<'static>>> {
    let path = crate::sources::testing::shared(rel)?;
    let sink = crate::sources::collect_file(&path, &crate::sources::ReadOptions::default()).unwrap();
    assert!(sink.rejects.is_empty(), "{rel}: {:?}", sink.rejects);
    Some(sink.events.into_iter().map(|(e, _)| e).collect())
}
