//! `mail_forwarding_rule` on the real samples of `../shared/data/real/m365_audit` (skipped
//! when absent): Panther's labelled `Microsoft365.Exchange.External.Forwarding` tests and
//! the Sentinel training lab's two inbox rules.

use chrono::Duration;

use super::testkit::{fixture_events, labels, real_events, write_lake};
use super::*;
use crate::analytics::testlake::Ctx;
use crate::event::Event;
use crate::findings::Severity;

/// Runs the analytic on a lake holding only `events`, with the window ending an hour
/// after the last one.
fn run_alone(events: &[Event<'static>]) -> Vec<Finding> {
    let mut ctx = Ctx::new();
    let last = events.iter().map(|e| e.time).max().unwrap();
    ctx.as_of = time(last) + Duration::hours(1);
    write_lake(ctx.dir.path(), events);
    run(&ctx.ctx()).unwrap()
}

/// Each Panther test event in a lake of its own (Panther evaluates each test alone, and
/// the events reuse one `id`): `expected_result` true → a finding at medium or above;
/// false → nothing above info.
#[test]
fn panther_external_forwarding_labels() {
    let (Some(events), Some(labels)) = (
        real_events("data/real/m365_audit/panther_rule_tests.events.jsonl"),
        labels("data/labels/m365_audit/panther_rule_tests.labels.jsonl"),
    ) else {
        eprintln!("skipped: ../shared/data/real/m365_audit is absent");
        return;
    };
    let mut checked = 0;
    let mut seen = Vec::new();
    for (locator, e) in events {
        let Some((rule, expected)) = labels.get(&locator) else {
            continue;
        };
        if rule != "Microsoft365.Exchange.External.Forwarding" {
            continue;
        }
        let found = run_alone(&[e]);
        let top = found.iter().map(|f| f.severity).max();
        seen.push(format!("{locator}: {top:?}"));
        if *expected {
            assert!(
                top >= Some(Severity::Medium),
                "{locator} is labelled true: {found:#?}"
            );
        } else {
            assert!(
                top <= Some(Severity::Info),
                "{locator} is labelled false: {found:#?}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 10, "{seen:?}");
    // The measured grades, so a change in grading is seen here first.
    assert_eq!(
        seen,
        [
            "line:1: Some(High)",
            "line:2: Some(Info)",
            "line:3: Some(Critical)",
            "line:4: Some(High)",
            "line:5: Some(High)",
            "line:6: Some(High)",
            "line:7: Some(Info)",
            "line:8: Some(Medium)",
            "line:9: Some(Info)",
            "line:10: None",
        ]
    );
}

/// Panther's "Similar Domain" and "Subdomain" cases explained in the descriptions.
#[test]
fn panther_domain_cases_say_why() {
    let Some(events) = real_events("data/real/m365_audit/panther_rule_tests.events.jsonl") else {
        return;
    };
    let at = |l: &str| events.iter().find(|(loc, _)| loc == l).unwrap().1.clone();
    let sub = run_alone(&[at("line:7")]);
    assert!(
        sub[0]
            .description
            .contains("internal: in tenant domain simpsons.com"),
        "{}",
        sub[0].description
    );
    let similar = run_alone(&[at("line:8")]);
    assert!(
        similar[0]
            .description
            .contains("external: simpsons2.com is neither a tenant domain"),
        "{}",
        similar[0].description
    );
    // Line 6's mailbox is a DN whose leaf is the initiator's alias; the DN names the tenant.
    let dn = run_alone(&[at("line:6")]);
    assert!(
        dn[0].description.contains("the initiator owns the mailbox"),
        "{}",
        dn[0].description
    );
    assert!(
        dn[0]
            .description
            .contains("simpsons.onmicrosoft.com (user UPNs)"),
        "{}",
        dn[0].description
    );
}

/// The training lab's `New-InboxRule`s by AdeleV: a delete on "covid-19" and a move to
/// Junk on "do not open", both stopping later rules: hiding rules (T1564.008), high.
#[test]
fn sentinel_lab_inbox_rules_are_hiding_rules() {
    let Some(events) =
        real_events("data/real/m365_audit/sentinel_lab_OfficeActivity_inbox_rule.csv")
    else {
        eprintln!("skipped: ../shared/data/real/m365_audit is absent");
        return;
    };
    let events: Vec<Event<'static>> = events.into_iter().map(|(_, e)| e).collect();
    assert_eq!(events.len(), 2);
    let mut found = run_alone(&events);
    found.sort_by_key(|f| f.window_start);
    assert_eq!(found.len(), 2, "{found:#?}");
    for f in &found {
        assert_eq!(f.severity, Severity::High, "{}", f.description);
        assert_eq!(
            f.actor_uid.as_deref(),
            Some("adelev@contoso.onmicrosoft.com")
        );
        assert!(
            f.description.contains("the initiator owns the mailbox"),
            "{}",
            f.description
        );
        assert!(
            f.attack_techniques.contains(&"T1564.008".to_string()),
            "{:?}",
            f.attack_techniques
        );
    }
    assert_eq!(
        found[0].title,
        "Inbox rule hides mail (deletes) in AdeleV by adelev@contoso.onmicrosoft.com"
    );
    assert!(
        found[0].description.contains("suspicious words (covid)"),
        "{}",
        found[0].description
    );
    assert_eq!(
        found[1].title,
        "Inbox rule hides mail (moves to \"Junk Email\") in AdeleV by adelev@contoso.onmicrosoft.com"
    );
    // The second rule comes 40 minutes after the first: not the initiator's first.
    assert!(
        found[1]
            .description
            .contains("made 1 earlier forwarding-rule operation(s)"),
        "{}",
        found[1].description
    );
    assert!(
        found[1]
            .description
            .contains("suspicious words (do not open)"),
        "{}",
        found[1].description
    );
}

/// The hand-written fixture `tests/fixtures/m365/forwarding_rules_handbuilt.jsonl`, read by
/// the M365 normaliser: an Outlook client rule that forwards "invoice" mail to a drop box
/// and deletes it (with Microsoft's alert for it), an administrator forwarding another
/// mailbox to the same drop box, an internal journaling transport rule and a repair.
#[test]
fn handbuilt_fixture_end_to_end() {
    let events: Vec<Event<'static>> = fixture_events("forwarding_rules_handbuilt.jsonl")
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(events.len(), 5);
    let mut found = run_alone(&events);
    found.sort_by_key(|f| f.window_start);
    let got: Vec<(Severity, Vec<String>)> = found
        .iter()
        .map(|f| (f.severity, f.evidence_event_uids.clone()))
        .collect();
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            (Severity::Critical, ids(&["fx-urule-1", "fx-alert-1"])),
            (Severity::Critical, ids(&["fx-setmbx-1"])),
            (Severity::Info, ids(&["fx-transport-1"])),
            (Severity::Info, ids(&["fx-clear-1"])),
        ]
    );
    let rule = &found[0];
    assert_eq!(rule.resource_uid.as_deref(), Some("pat@fabrikam-fx.com"));
    for part in [
        "collector@mailbox-drop.example — external",
        "2 mailboxes forward to collector@mailbox-drop.example",
        "conditions on suspicious words (invoice)",
        "stops processing later rules",
        "Microsoft's alert 'Creation of forwarding/redirect rule' fired",
    ] {
        assert!(
            rule.description.contains(part),
            "{part}: {}",
            rule.description
        );
    }
    assert!(found[1]
        .description
        .contains("the initiator is NOT the mailbox owner"));
    assert!(found[2]
        .description
        .contains("internal: in tenant domain fabrikam-fx.com"));
    assert_eq!(
        found[3].title,
        "Mailbox forwarding removed from sam@fabrikam-fx.com by admin@fabrikam-fx.com"
    );
}
