//! Tests of `conditional_access_change` on small Entra lakes written with the real schema.

use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::analytics::mail_forwarding_rule::testkit::{entra_audit, signin, write_lake};
use crate::analytics::testlake::Ctx;
use crate::event::Event;

const T: &str = "tenant-1";
const ADMIN: &str = "admin@contoso.com";
const NEWBIE: &str = "newbie@contoso.com";
const CA: &str = "Conditional Access";
const CD: &str = "Core Directory";
const DAY: i64 = 24 * HOUR_US;
const MIN: i64 = 60_000_000;

fn pol(state: &str, controls: &[&str], exclude: &[&str]) -> Value {
    named("Require MFA for all", state, controls, exclude)
}

fn named(name: &str, state: &str, controls: &[&str], exclude: &[&str]) -> Value {
    json!({
        "id": "pol-1", "displayName": name, "state": state,
        "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": exclude}, "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": controls}
    })
}

fn ca(uid: &str, t: i64, actor: &str, op: &str, old: Value, new: Value) -> Event<'static> {
    entra_audit(
        uid,
        t,
        T,
        actor,
        (CA, op),
        "pol-1",
        Some(json!({"ConditionalAccessPolicy": {"old": old, "new": new}})),
    )
}

/// 30 days of history; the admin changed a policy 20 days ago (not first-time).
fn history(ctx: &Ctx) -> Vec<Event<'static>> {
    let t = ctx.window_start_us();
    vec![
        signin("s1", t - 30 * DAY, T, ADMIN),
        ca(
            "old",
            t - 20 * DAY,
            ADMIN,
            "Update conditional access policy",
            pol("disabled", &["mfa"], &[]),
            pol("enabled", &["mfa"], &[]),
        ),
    ]
}

fn one(found: &[Finding]) -> &Finding {
    assert_eq!(found.len(), 1, "{found:#?}");
    &found[0]
}

#[test]
fn weakening_is_high_and_critical_for_a_first_time_initiator() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = history(&ctx);
    events.push(ca(
        "w1",
        ws + HOUR_US,
        ADMIN,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("enabled", &["mfa"], &["eve-id"]),
    ));
    write_lake(ctx.dir.path(), &events);
    let f = run(&ctx.ctx()).unwrap();
    let f = one(&f);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.risk_score, 75.0);
    assert_eq!(f.title, "Conditional Access policy \"Require MFA for all\" weakened (users excluded: eve-id) by admin@contoso.com");
    assert_eq!(f.resource_uid.as_deref(), Some("pol-1"));
    assert_eq!(f.evidence_event_uids, vec!["w1"]);
    assert_eq!(f.attack_techniques, vec!["T1556.009"]);
    assert_eq!(f.baseline_days, 30);
    assert!(!f.suppressed);
    assert!(
        f.description
            .contains("Changed fields: conditions.users.excludeUsers: (none) → [eve-id]"),
        "{}",
        f.description
    );
    assert!(f.description.contains("This initiator made 1 Conditional Access change(s) in the 90 days before the window and 0 earlier in it; the tenant has 30 days of history"), "{}", f.description);

    let ctx2 = Ctx::new();
    let mut events = history(&ctx2);
    events.push(ca(
        "w2",
        ws + HOUR_US,
        NEWBIE,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("disabled", &["mfa"], &[]),
    ));
    write_lake(ctx2.dir.path(), &events);
    let f = run(&ctx2.ctx()).unwrap();
    let f = one(&f);
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title
            .contains("weakened (state enabled → disabled (no longer enforced))"),
        "{}",
        f.title
    );
    assert!(
        f.description
            .contains("First Conditional Access change by this initiator in 90 days (0 earlier)"),
        "{}",
        f.description
    );
}

#[test]
fn deletes_adds_strengthening_and_unknown() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = history(&ctx);
    let del = |uid: &str, t: i64, id: &str, old: Value| {
        entra_audit(
            uid,
            t,
            T,
            ADMIN,
            (CA, "Delete conditional access policy"),
            id,
            Some(json!({"ConditionalAccessPolicy": {"old": old, "new": null}})),
        )
    };
    events.push(del(
        "d1",
        ws + HOUR_US,
        "pol-1",
        pol("enabled", &["mfa"], &[]),
    ));
    events.push(del(
        "d2",
        ws + HOUR_US,
        "pol-2",
        pol("disabled", &["mfa"], &[]),
    ));
    events.push(entra_audit("a1", ws + 2 * HOUR_US, T, ADMIN, (CA, "Add conditional access policy"), "pol-3", Some(json!({"ConditionalAccessPolicy": {"old": null, "new": pol("enabled", &["block"], &[])}}))));
    events.push(entra_audit(
        "u1",
        ws + 3 * HOUR_US,
        T,
        ADMIN,
        (CA, "Update conditional access policy"),
        "pol-4",
        None,
    ));
    events.push(entra_audit("s1", ws + 4 * HOUR_US, T, ADMIN, (CA, "Update conditional access policy"), "pol-5", Some(json!({"ConditionalAccessPolicy": {"old": pol("enabled", &["mfa"], &["x"]), "new": pol("enabled", &["mfa", "compliantDevice"], &[])}}))));
    let mut failed = ca(
        "f1",
        ws + 5 * HOUR_US,
        ADMIN,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("disabled", &["mfa"], &[]),
    );
    failed.resource_uid = Some("pol-6".into());
    failed.status = crate::schema::Status::Failure;
    events.push(failed);
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    let by = |id: &str| {
        found
            .iter()
            .find(|f| f.resource_uid.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id}: {found:#?}"))
    };
    assert_eq!(found.len(), 6);
    assert_eq!(by("pol-1").severity, Severity::Critical);
    assert!(by("pol-1")
        .description
        .contains("an enforced policy requiring MFA or blocking access was deleted"));
    assert_eq!(
        by("pol-1").title,
        "Conditional Access policy \"Require MFA for all\" deleted by admin@contoso.com"
    );
    assert_eq!(
        by("pol-2").severity,
        Severity::Info,
        "deleting a disabled policy changes nothing enforced"
    );
    assert_eq!(by("pol-3").severity, Severity::Info);
    assert!(by("pol-3").title.contains("added"), "{}", by("pol-3").title);
    assert_eq!(by("pol-4").severity, Severity::Medium);
    assert!(by("pol-4")
        .description
        .contains("unknown: the record has no before/after state"));
    let s = by("pol-5");
    assert_eq!(s.severity, Severity::Info);
    assert!(
        s.description.contains(
            "Strengthens: grant controls added: compliantdevice; users no longer excluded: x"
        ),
        "{}",
        s.description
    );
    assert_eq!(by("pol-6").severity, Severity::Low);
    assert!(by("pol-6")
        .title
        .ends_with("(attempt failed) by admin@contoso.com"));
}

fn detail(controls: bool) -> Value {
    let c = if controls {
        r#","Controls":[{"Control":["Mfa"]}]"#
    } else {
        ""
    };
    json!([format!(
        r#"{{"Version":1,"State":"Enabled","Conditions":{{"Users":{{"Include":[{{"Users":["All"]}}]}}}}{c}}}"#
    )])
}

#[test]
fn a_core_directory_mirror_is_counted_once() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = history(&ctx);
    let t = ws + 2 * HOUR_US;
    // Entra writes the mirror a fraction of a second before the Conditional Access record;
    // the mirror's target id differs here (as in Panther's samples), and names are absent.
    events.push(entra_audit(
        "m1",
        t,
        T,
        ADMIN,
        (CD, "Update policy"),
        "dir-obj-9",
        Some(json!({"PolicyDetail": {"old": detail(true), "new": detail(false)}})),
    ));
    events.push(ca(
        "c1",
        t + 400_000,
        ADMIN,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("enabled", &[], &[]),
    ));
    // A lone mirror an hour later, and a token-lifetime policy that is no CA policy.
    events.push(entra_audit(
        "m2",
        t + HOUR_US,
        T,
        ADMIN,
        (CD, "Update policy"),
        "dir-obj-7",
        Some(json!({"PolicyDetail": {"old": detail(true), "new": detail(false)}})),
    ));
    events.push(entra_audit("tl", t + HOUR_US, T, ADMIN, (CD, "Update policy"), "dir-obj-8", Some(json!({"PolicyDetail": {"old": ["{\"TokenLifetimePolicy\":{\"Version\":1}}"], "new": ["{\"TokenLifetimePolicy\":{\"Version\":2}}"]}}))));
    write_lake(ctx.dir.path(), &events);
    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by_key(|f| f.window_start);
    assert_eq!(found.len(), 2, "{found:#?}");
    let (pair, lone) = (&found[0], &found[1]);
    assert_eq!(pair.evidence_event_uids, vec!["m1", "c1"]);
    assert_eq!(pair.observed, 1.0);
    assert_eq!(pair.service.as_deref(), Some(CA));
    assert_eq!(pair.severity, Severity::High);
    assert!(
        pair.description
            .contains("1 Core Directory record(s) mirror the same change"),
        "{}",
        pair.description
    );
    assert_eq!(lone.evidence_event_uids, vec!["m2"]);
    assert_eq!(lone.severity, Severity::High);
    assert!(
        lone.description
            .contains("Graded from the Core Directory record"),
        "{}",
        lone.description
    );
    assert!(
        lone.description
            .contains("Weakens: grant controls lost: mfa"),
        "{}",
        lone.description
    );
}

#[test]
fn a_mirror_whose_record_follows_the_window_is_left_to_the_next_window() {
    let ctx = Ctx::new();
    let end = ctx.as_of_us();
    let mut events = history(&ctx);
    events.push(entra_audit(
        "m1",
        end - 300_000,
        T,
        ADMIN,
        (CD, "Update policy"),
        "pol-1",
        Some(json!({"PolicyDetail": {"old": detail(true), "new": detail(false)}})),
    ));
    events.push(ca(
        "c1",
        end + 200_000,
        ADMIN,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("enabled", &[], &[]),
    ));
    write_lake(ctx.dir.path(), &events);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
}

fn with_requests(ctx: &mut Ctx, path: PathBuf) {
    ctx.config.conditional_access_change.change_requests = Some(path);
}

fn two_changes(ctx: &Ctx) {
    let ws = ctx.window_start_us();
    let mut events = history(ctx);
    events.push(ca(
        "w1",
        ws + 10 * HOUR_US,
        ADMIN,
        "Update conditional access policy",
        pol("enabled", &["mfa"], &[]),
        pol("enabled", &["mfa"], &["eve-id"]),
    ));
    let (o, n) = (
        named("Block legacy", "enabled", &["block"], &[]),
        named("Block legacy", "disabled", &["block"], &[]),
    );
    let mut other = ca(
        "w2",
        ws + 20 * HOUR_US + 5 * MIN,
        ADMIN,
        "Update conditional access policy",
        o,
        n,
    );
    other.resource_uid = Some("pol-2".into());
    events.push(other);
    write_lake(ctx.dir.path(), &events);
}

fn check_suppression(found: &[Finding], reason: &str) {
    assert_eq!(found.len(), 2);
    let a = found
        .iter()
        .find(|f| f.resource_uid.as_deref() == Some("pol-1"))
        .unwrap();
    assert!(a.suppressed);
    assert_eq!(a.severity, Severity::High, "same severity, suppressed");
    assert_eq!(a.suppression_reason.as_deref(), Some(reason));
    let b = found
        .iter()
        .find(|f| f.resource_uid.as_deref() == Some("pol-2"))
        .unwrap();
    assert!(!b.suppressed && b.suppression_reason.is_none());
    assert!(
        b.description.contains("No change request covers it."),
        "{}",
        b.description
    );
    assert!(
        b.description
            .contains("made 1 Conditional Access change(s) in the 90 days before"),
        "{}",
        b.description
    );
}

#[test]
fn change_requests_from_csv() {
    let mut ctx = Ctx::new();
    two_changes(&ctx);
    let p = ctx.dir.path().join("crs.csv");
    // CHG-2 names pol-2 but another initiator; CHG-3 covers the wrong day.
    std::fs::write(
        &p,
        "ticket_id,actor,target,start,end\nCHG-1,Admin@Contoso.com,require mfa for all,2024-03-14,2024-03-14\nCHG-2,other@contoso.com,pol-2,2024-03-14,2024-03-14\nCHG-3,admin@contoso.com,pol-2,2024-03-13,2024-03-13\n",
    )
    .unwrap();
    with_requests(&mut ctx, p);
    let found = run(&ctx.ctx()).unwrap();
    check_suppression(&found, "change request CHG-1 (admin@contoso.com, require mfa for all, 2024-03-14T00:00:00+00:00..2024-03-14T23:59:59.999999+00:00)");
}

#[test]
fn change_requests_from_parquet() {
    use arrow::array::{ArrayRef, Date32Array, StringArray, TimestampMicrosecondArray};
    use arrow::record_batch::RecordBatch;
    let mut ctx = Ctx::new();
    two_changes(&ctx);
    let ws = ctx.window_start_us();
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("Ticket_Id", Arc::new(StringArray::from(vec!["CHG-9"]))),
        (
            "actor",
            Arc::new(StringArray::from(vec!["admin@contoso.com"])),
        ),
        ("target", Arc::new(StringArray::from(vec![None::<&str>]))),
        (
            "start",
            Arc::new(TimestampMicrosecondArray::from(vec![ws + 9 * HOUR_US]).with_timezone("UTC")),
        ),
        // 2024-03-14 as days since the epoch: the whole day.
        ("end", Arc::new(Date32Array::from(vec![19796]))),
    ];
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    // No extension: the file is recognised by its magic bytes.
    let p = ctx.dir.path().join("requests.table");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    with_requests(&mut ctx, p);
    let found = run(&ctx.ctx()).unwrap();
    // The ticket names no target, but starts at 09:00: it covers pol-1 (10:00) and pol-2 (20:05).
    assert!(found.iter().all(|f| f.suppressed), "{found:#?}");
    assert_eq!(
        found[0].suppression_reason.as_deref(),
        Some("change request CHG-9 (admin@contoso.com, *, 2024-03-14T09:00:00+00:00..2024-03-14T23:59:59.999999+00:00)")
    );
}

#[test]
fn change_request_errors_and_paths() {
    let mut ctx = Ctx::new();
    two_changes(&ctx);
    let missing = ctx.dir.path().join("missing.csv");
    with_requests(&mut ctx, missing);
    let e = run(&ctx.ctx()).unwrap_err();
    assert!(matches!(e, Error::Config { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("analytics.conditional_access_change.change_requests")
            && msg.contains("missing.csv"),
        "{msg}"
    );
    let p = ctx.dir.path().join("bad.csv");
    std::fs::write(&p, "ticket_id,actor,start,end\nCHG-1,a@b.c,2024-01-01,2024-01-02\nCHG-2,a@b.c,2024-01-01,soon\n").unwrap();
    with_requests(&mut ctx, p);
    assert!(run(&ctx.ctx())
        .unwrap_err()
        .to_string()
        .contains("row:3: field `end`"));

    let mut c: ConditionalAccessChangeConfig =
        toml::from_str("change_requests = 'crs/approved.csv'").unwrap();
    c.resolve_paths(Path::new("/etc/cloudsift"));
    assert_eq!(
        c.change_requests,
        Some(PathBuf::from("/etc/cloudsift/crs/approved.csv"))
    );
    let mut abs: ConditionalAccessChangeConfig =
        toml::from_str("change_requests = '/data/crs.parquet'").unwrap();
    abs.resolve_paths(Path::new("/etc"));
    assert_eq!(
        abs.change_requests,
        Some(PathBuf::from("/data/crs.parquet"))
    );
}

#[test]
fn authentication_methods_policy() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = history(&ctx);
    let am = |uid: &str, t: i64, k: &str, o: Value, n: Value| {
        entra_audit(
            uid,
            t,
            T,
            ADMIN,
            (CD, "Update authentication methods policy"),
            "authenticationMethodsPolicy",
            Some(json!({ k: {"old": o, "new": n} })),
        )
    };
    events.push(am(
        "o1",
        ws + HOUR_US,
        "Policy",
        json!({"authenticationMethodConfigurations": [{"id": "Sms", "state": "disabled"}]}),
        json!({"authenticationMethodConfigurations": [{"id": "Sms", "state": "enabled"}]}),
    ));
    write_lake(ctx.dir.path(), &events);
    let f = run(&ctx.ctx()).unwrap();
    let f = one(&f);
    assert_eq!(
        f.severity,
        Severity::High,
        "the admin changed a policy before: not first-time"
    );
    assert_eq!(
        f.title,
        "Authentication methods policy weakened (weaker method enabled: sms) by admin@contoso.com"
    );
    assert_eq!(f.attack_techniques, vec!["T1556", "T1556.009"]);
}

#[test]
fn config_defaults_and_validation() {
    let c = ConditionalAccessChangeConfig::default();
    assert!(c.validate().is_ok());
    assert_eq!(
        (
            c.history_days,
            c.min_history_days,
            c.mirror_seconds,
            c.change_requests.clone()
        ),
        (90, 7, 60, None)
    );
    assert!(toml::from_str::<ConditionalAccessChangeConfig>("change_request = 'x'").is_err());
    let err = |t: &str| {
        toml::from_str::<ConditionalAccessChangeConfig>(t)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string()
    };
    assert!(err("min_history_days = 91")
        .contains("analytics.conditional_access_change.min_history_days"));
    assert!(
        err("mirror_seconds = 0").contains("analytics.conditional_access_change.mirror_seconds")
    );
    assert!(err("max_evidence = 0").contains("max_evidence"));
    assert!(
        err("change_requests = ''").contains("analytics.conditional_access_change.change_requests")
    );
    assert!(run(&Ctx::new().ctx()).unwrap().is_empty());
}
