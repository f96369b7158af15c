//! `conditional_access_change` on Panther's labelled Entra ID tests
//! (`../shared/data/real/entra_id/panther_rule_tests.events.jsonl`, skipped when absent):
//! `Azure.Audit.OIDC.Changed` (lines 1–2), `Azure.Audit.MFADisabled` (26–28) and
//! `Azure.Audit.PolicyChanged` (31–33).

use chrono::Duration;

use super::*;
use crate::analytics::mail_forwarding_rule::testkit::{
    fixture_events, labels, real_events, write_lake,
};
use crate::analytics::testlake::Ctx;
use crate::event::Event;

const EVENTS: &str = "data/real/entra_id/panther_rule_tests.events.jsonl";
const LABELS: &str = "data/labels/entra_id/panther_rule_tests.labels.jsonl";
const RULES: [&str; 3] = [
    "Azure.Audit.OIDC.Changed",
    "Azure.Audit.MFADisabled",
    "Azure.Audit.PolicyChanged",
];

fn run_alone(events: &[Event<'static>]) -> Vec<Finding> {
    let mut ctx = Ctx::new();
    ctx.as_of = time(events.iter().map(|e| e.time).max().unwrap()) + Duration::hours(1);
    write_lake(ctx.dir.path(), events);
    run(&ctx.ctx()).unwrap()
}

/// (locator, expected_result, highest severity, findings) of one labelled line.
type Graded = (String, bool, Option<Severity>, Vec<Finding>);

/// The highest severity per labelled line, each event in a lake of its own.
fn grades() -> Option<Vec<Graded>> {
    let (events, labels) = (real_events(EVENTS)?, labels(LABELS)?);
    let mut out = Vec::new();
    for (locator, e) in events {
        let Some((rule, expected)) = labels.get(&locator) else {
            continue;
        };
        if !RULES.contains(&rule.as_str()) {
            continue;
        }
        let found = run_alone(&[e]);
        out.push((
            locator,
            *expected,
            found.iter().map(|f| f.severity).max(),
            found,
        ));
    }
    Some(out)
}

/// Labelled true → medium or above. Labelled false → info or nothing, except line 28
/// (see below).
#[test]
fn panther_policy_labels() {
    let Some(grades) = grades() else {
        eprintln!("skipped: ../shared/data/real/entra_id is absent");
        return;
    };
    let seen: Vec<String> = grades
        .iter()
        .map(|(l, _, s, _)| format!("{l}: {s:?}"))
        .collect();
    assert_eq!(
        seen,
        [
            "line:1: Some(High)",
            "line:2: Some(Info)",
            "line:26: Some(High)",
            "line:27: Some(Info)",
            "line:28: Some(High)",
            "line:31: Some(Critical)",
            "line:32: Some(High)",
            "line:33: Some(Info)",
        ]
    );
    for (locator, expected, top, found) in &grades {
        if locator == "line:28" {
            continue;
        }
        if *expected {
            assert!(
                *top >= Some(Severity::Medium),
                "{locator} is labelled true: {found:#?}"
            );
        } else {
            assert!(
                *top <= Some(Severity::Info),
                "{locator} is labelled false: {found:#?}"
            );
        }
    }
}

/// Line 28 ("MFA Disabled from another log", labelled false for `Azure.Audit.MFADisabled`
/// because that rule reads only the Conditional Access service's records) is the Core
/// Directory mirror of line 26's change: its `PolicyDetail` loses `Controls: [Mfa]`, with
/// the same `ModifiedDateTime` (2024-11-27T03:31:25.4989035). Alone in a lake it is that
/// weakening, graded high; next to its Conditional Access record it is folded into one
/// finding. Panther's own `Azure.Audit.PolicyChanged` fires on it (operation `Update policy`).
#[test]
fn panther_line_28_is_the_mirror_of_line_26() {
    let Some(events) = real_events(EVENTS) else {
        return;
    };
    let at = |l: &str| events.iter().find(|(loc, _)| loc == l).unwrap().1.clone();
    let alone = run_alone(&[at("line:28")]);
    assert_eq!(alone.len(), 1);
    assert!(
        alone[0]
            .description
            .contains("Weakens: grant controls lost: mfa"),
        "{}",
        alone[0].description
    );
    // The two records in one tenant (Panther's samples give them different tenant ids
    // and a different initiator, so both are set to line 26's).
    let (ca, mut mirror) = (at("line:26"), at("line:28"));
    mirror.account_uid = ca.account_uid.clone();
    mirror.actor_uid = ca.actor_uid.clone();
    let both = run_alone(&[ca, mirror]);
    assert_eq!(both.len(), 1, "{both:#?}");
    assert_eq!(
        both[0].evidence_event_uids,
        vec!["Directory_123145", "IPCGraph_123456789"]
    );
    assert_eq!(both[0].service.as_deref(), Some("Conditional Access"));
    assert_eq!(both[0].severity, Severity::High);
}

/// What the descriptions say for the three rules' true cases.
#[test]
fn panther_true_cases_say_why() {
    let Some(grades) = grades() else { return };
    let desc = |l: &str| {
        grades.iter().find(|g| g.0 == l).unwrap().3[0]
            .description
            .clone()
    };
    assert!(desc("line:1").contains("external identity provider changed: OpenIdConnectConfiguration.discoveryUrl https://login.microsoftonline.com/tenant-abc/.well-known/openid-configuration → https://attacker-idp.evil.com/.well-known/openid-configuration"), "{}", desc("line:1"));
    assert!(
        desc("line:26").contains("Weakens: grant controls lost: mfa"),
        "{}",
        desc("line:26")
    );
    assert!(
        desc("line:31").contains("an enforced policy requiring MFA or blocking access was deleted"),
        "{}",
        desc("line:31")
    );
    assert!(
        desc("line:32").contains("policy deleted (its state is not in the record)"),
        "{}",
        desc("line:32")
    );
    assert!(
        desc("line:2").contains("Strengthens: method enabled: passwordless"),
        "{}",
        desc("line:2")
    );
    let title = |l: &str| grades.iter().find(|g| g.0 == l).unwrap().3[0].title.clone();
    assert_eq!(title("line:32"), "Conditional Access policy \"Require multifactor authentication for all users\" deleted by denethor@lotr.com");
    assert_eq!(title("line:33"), "Conditional Access policy \"Require multifactor authentication for all users\" added by kratos@onmicrosoft.com");
}

/// The hand-written fixture `tests/fixtures/m365/entra_conditional_access_handbuilt.jsonl`
/// (diagnostic-setting shape): a Core Directory mirror and its Conditional Access record
/// excluding a break-glass account from "CA002", and a token-lifetime policy update; with
/// `tests/fixtures/m365/change_requests.csv`, whose CHG-2041 covers the exclusion.
#[test]
fn handbuilt_fixture_with_a_change_request() {
    let events: Vec<Event<'static>> = fixture_events("entra_conditional_access_handbuilt.jsonl")
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    let mut ctx = Ctx::new();
    ctx.as_of = time(events.iter().map(|e| e.time).max().unwrap()) + Duration::hours(1);
    write_lake(ctx.dir.path(), &events);
    let plain = run(&ctx.ctx()).unwrap();
    assert_eq!(plain.len(), 1, "{plain:#?}");
    let f = &plain[0];
    assert_eq!(f.severity, Severity::High);
    assert!(!f.suppressed);
    assert_eq!(
        f.evidence_event_uids,
        vec!["Directory_fx_1", "IPCGraph_fx_1"]
    );
    assert_eq!(
        f.title,
        "Conditional Access policy \"CA002 - Require MFA for admins\" weakened (users excluded: b7e10000-0000-4000-8000-000000000b9a) by admin@fabrikam-fx.com"
    );
    let mut config = ctx.config.clone();
    config.conditional_access_change.change_requests = Some(PathBuf::from("change_requests.csv"));
    config.resolve_paths(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/m365"));
    ctx.config = config;
    let covered = run(&ctx.ctx()).unwrap();
    assert_eq!(covered.len(), 1);
    assert!(covered[0].suppressed);
    assert_eq!(
        (covered[0].severity, &covered[0].finding_uid),
        (Severity::High, &f.finding_uid)
    );
    assert_eq!(
        covered[0].suppression_reason.as_deref(),
        Some("change request CHG-2041 (admin@fabrikam-fx.com, CA002 - Require MFA for admins, 2024-03-14T09:00:00+00:00..2024-03-14T12:00:00+00:00)")
    );
}
