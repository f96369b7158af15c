//! Tests of `mail_forwarding_rule` on small Exchange lakes written with the real schema.

use serde_json::json;

use super::testkit::{exchange, signin, write_lake};
use super::*;
use crate::analytics::testlake::Ctx;
use crate::event::Event;
use crate::findings::Severity;
use crate::schema::Status;

const T: &str = "tenant-contoso";
const ALICE: &str = "alice@contoso.com";
const BOB: &str = "bob@contoso.com";
const CAROL: &str = "carol@contoso.com";
const DAY: i64 = 24 * HOUR_US;
const MIN: i64 = 60_000_000;

/// Sign-ins of the three people 30 days before the window: the tenant's domain
/// (contoso.com) is learned and it has 30 days of history.
fn people(ctx: &Ctx) -> Vec<Event<'static>> {
    let t = ctx.window_start_us() - 30 * DAY;
    [ALICE, BOB, CAROL]
        .iter()
        .enumerate()
        .map(|(i, u)| signin(&format!("s{i}"), t, T, u))
        .collect()
}

fn forward(uid: &str, t: i64, actor: &str, mailbox: &str, to: &str) -> Event<'static> {
    exchange(
        uid,
        t,
        T,
        actor,
        "Set-Mailbox",
        json!({"Identity": mailbox, "ForwardingSmtpAddress": format!("smtp:{to}"), "DeliverToMailboxAndForward": "True"}),
    )
}

fn by_mailbox<'a>(found: &'a [Finding], mailbox: &str) -> &'a Finding {
    found
        .iter()
        .find(|f| f.resource_uid.as_deref() == Some(mailbox))
        .unwrap_or_else(|| panic!("no finding on {mailbox}: {found:#?}"))
}

#[test]
fn external_forward_by_owner_is_medium_by_someone_else_high() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    // Both had made a forwarding-rule operation before, so neither is first-time.
    events.push(exchange(
        "old-a",
        ws - 20 * DAY,
        T,
        ALICE,
        "New-InboxRule",
        json!({"Name": "news", "MoveToFolder": "News"}),
    ));
    events.push(exchange(
        "old-b",
        ws - 20 * DAY,
        T,
        BOB,
        "New-InboxRule",
        json!({"Name": "news", "MoveToFolder": "News"}),
    ));
    events.push(forward(
        "a1",
        ws + HOUR_US,
        ALICE,
        ALICE,
        "alice.home@fabrikam.net",
    ));
    events.push(forward(
        "b1",
        ws + 2 * HOUR_US,
        BOB,
        CAROL,
        "drop@fabrikam.org",
    ));
    write_lake(ctx.dir.path(), &events);

    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 2, "{found:#?}");
    let a = by_mailbox(&found, ALICE);
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.risk_score, 55.0);
    assert_eq!(a.actor_uid.as_deref(), Some(ALICE));
    assert_eq!(a.title, "Mail forwarded outside the tenant to alice.home@fabrikam.net from alice@contoso.com by alice@contoso.com");
    assert_eq!(a.evidence_event_uids, vec!["a1"]);
    assert_eq!(a.operation.as_deref(), Some("Set-Mailbox"));
    assert_eq!(a.attack_techniques, vec!["T1114.003"]);
    assert_eq!(a.baseline_days, 30);
    assert!(
        a.description
            .contains("external: fabrikam.net is neither a tenant domain"),
        "{}",
        a.description
    );
    assert!(
        a.description.contains("contoso.com (user UPNs)"),
        "{}",
        a.description
    );
    assert!(
        a.description.contains("the initiator owns the mailbox"),
        "{}",
        a.description
    );
    assert!(
        a.description.contains(
            "made 1 earlier forwarding-rule operation(s) (in the 90 days before the window"
        ),
        "{}",
        a.description
    );
    let c = by_mailbox(&found, CAROL);
    assert_eq!(c.severity, Severity::High);
    assert!(
        c.description
            .contains("the initiator is NOT the mailbox owner"),
        "{}",
        c.description
    );
}

#[test]
fn internal_subdomain_and_allowed_destinations_are_info() {
    let mut ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    events.push(forward(
        "i1",
        ws + HOUR_US,
        BOB,
        ALICE,
        "manager@sales.contoso.com",
    ));
    events.push(forward(
        "i2",
        ws + HOUR_US,
        BOB,
        CAROL,
        "archive@vault.example",
    ));
    events.push(exchange("r1", ws + HOUR_US, T, ALICE, "New-InboxRule", json!({"Name": "papers", "MoveToFolder": "Papers", "StopProcessingRules": "True", "FromAddressContainsWords": "journal"})));
    write_lake(ctx.dir.path(), &events);
    ctx.config.mail_forwarding_rule.allowed_destinations = vec!["vault.example".into()];
    let found = run(&ctx.ctx()).unwrap();
    // The organising rule (normal folder, stop processing) gives nothing.
    assert_eq!(found.len(), 2, "{found:#?}");
    let a = by_mailbox(&found, ALICE);
    assert_eq!(a.severity, Severity::Info);
    assert!(
        a.description
            .contains("internal: in tenant domain contoso.com"),
        "{}",
        a.description
    );
    assert_eq!(
        a.title,
        format!("Internal mail forwarding to manager@sales.contoso.com from {ALICE} by {BOB}")
    );
    let c = by_mailbox(&found, CAROL);
    assert_eq!(c.severity, Severity::Info);
    assert!(
        c.description.contains("allowed by allowed_destinations"),
        "{}",
        c.description
    );
    // Configured domains work without learning.
    let mut ctx2 = Ctx::new();
    write_lake(
        ctx2.dir.path(),
        &[forward("x", ws + HOUR_US, ALICE, ALICE, "me@contoso.com")],
    );
    ctx2.config.mail_forwarding_rule.learn_tenant_domains = false;
    assert_eq!(
        run(&ctx2.ctx()).unwrap()[0].severity,
        Severity::Medium,
        "nothing known: contoso.com is external"
    );
    ctx2.config.mail_forwarding_rule.tenant_domains = vec!["Contoso.com".into()];
    assert_eq!(run(&ctx2.ctx()).unwrap()[0].severity, Severity::Info);
}

#[test]
fn hiding_rules_without_forwarding() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    for u in [ALICE, BOB, CAROL] {
        events.push(exchange(
            &format!("old-{u}"),
            ws - 10 * DAY,
            T,
            u,
            "Set-InboxRule",
            json!({"Identity": "x"}),
        ));
    }
    events.push(exchange("h1", ws + HOUR_US, T, ALICE, "New-InboxRule", json!({"Name": "cleanup", "SubjectContainsWords": "Invoice overdue", "DeleteMessage": "True", "StopProcessingRules": "True"})));
    events.push(exchange(
        "h2",
        ws + HOUR_US,
        T,
        BOB,
        "New-InboxRule",
        json!({"Name": "feeds", "MoveToFolder": "RSS Feeds", "MarkAsRead": "True"}),
    ));
    events.push(exchange(
        "h3",
        ws + HOUR_US,
        T,
        CAROL,
        "New-InboxRule",
        json!({"Name": "..", "MoveToFolder": "carol:\\.."}),
    ));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 3, "{found:#?}");
    let a = by_mailbox(&found, ALICE);
    assert_eq!(a.severity, Severity::High, "{}", a.description);
    assert_eq!(
        a.title,
        format!("Inbox rule hides mail (deletes) in {ALICE} by {ALICE}")
    );
    assert!(
        a.description
            .contains("conditions on suspicious words (invoice)"),
        "{}",
        a.description
    );
    assert!(
        a.description
            .contains("SubjectContainsWords = \"Invoice overdue\""),
        "{}",
        a.description
    );
    assert_eq!(a.attack_techniques, vec!["T1564.008"]);
    let b = by_mailbox(&found, BOB);
    assert_eq!(b.severity, Severity::Medium);
    assert!(
        b.title.contains("marks as read, moves to \"RSS Feeds\""),
        "{}",
        b.title
    );
    assert_eq!(
        by_mailbox(&found, CAROL).severity,
        Severity::Medium,
        "a folder named with dots hides mail"
    );
}

#[test]
fn several_mailboxes_forwarding_to_one_destination_is_critical() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    events.push(exchange(
        "old",
        ws - 40 * DAY,
        T,
        BOB,
        "Set-InboxRule",
        json!({"Identity": "x"}),
    ));
    events.push(exchange(
        "old2",
        ws - 40 * DAY,
        T,
        ALICE,
        "Set-InboxRule",
        json!({"Identity": "x"}),
    ));
    // Carol's mailbox started forwarding to the drop box five days ago; now Alice's does.
    events.push(forward(
        "f-old",
        ws - 5 * DAY,
        BOB,
        CAROL,
        "drop@evil.example",
    ));
    events.push(exchange(
        "f-new",
        ws + HOUR_US,
        T,
        ALICE,
        "New-InboxRule",
        json!({"Name": "x", "Mailbox": ALICE, "ForwardTo": "Drop@Evil.example"}),
    ));
    events.push(forward(
        "f-other",
        ws + HOUR_US,
        ALICE,
        ALICE,
        "someone@else.example",
    ));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 2, "{found:#?}");
    let shared = found
        .iter()
        .find(|f| f.evidence_event_uids == vec!["f-new"])
        .unwrap();
    assert_eq!(shared.severity, Severity::Critical);
    assert!(
        shared
            .description
            .contains("2 mailboxes forward to drop@evil.example"),
        "{}",
        shared.description
    );
    let other = found
        .iter()
        .find(|f| f.evidence_event_uids == vec!["f-other"])
        .unwrap();
    assert_eq!(other.severity, Severity::Medium);
}

#[test]
fn first_time_initiator_is_critical_only_with_history() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    events.push(forward(
        "n1",
        ws + HOUR_US,
        CAROL,
        CAROL,
        "carol@fabrikam.net",
    ));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(found[0].title.contains("by carol@contoso.com"));
    assert!(
        found[0]
            .description
            .contains("First forwarding-rule operation by this initiator in 30 days"),
        "{}",
        found[0].description
    );

    // Learning: a tenant onboarded the same day.
    let fresh = Ctx::new();
    write_lake(
        fresh.dir.path(),
        &[
            signin("s", ws, T, CAROL),
            forward("n1", ws + HOUR_US, CAROL, CAROL, "carol@fabrikam.net"),
        ],
    );
    let found = run(&fresh.ctx()).unwrap();
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(
        found[0]
            .description
            .contains("learning: the tenant has 0 days of history"),
        "{}",
        found[0].description
    );
}

#[test]
fn repairs_failures_and_unresolved_recipients() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    events.push(exchange("c1", ws + HOUR_US, T, BOB, "Set-Mailbox", json!({"Identity": ALICE, "ForwardingSmtpAddress": null, "DeliverToMailboxAndForward": "False"})));
    let mut failed = forward("x1", ws + HOUR_US, CAROL, CAROL, "c@fabrikam.net");
    failed.status = Status::Failure;
    events.push(failed);
    events.push(exchange(
        "u1",
        ws + HOUR_US,
        T,
        BOB,
        "Set-Mailbox",
        json!({"Identity": BOB, "ForwardingAddress": "Dana Scully"}),
    ));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 3, "{found:#?}");
    let clear = by_mailbox(&found, ALICE);
    assert_eq!(clear.severity, Severity::Info);
    assert_eq!(
        clear.title,
        format!("Mailbox forwarding removed from {ALICE} by {BOB}")
    );
    let f = by_mailbox(&found, CAROL);
    assert_eq!(f.severity, Severity::Low);
    assert!(
        f.title.ends_with("(attempt failed) by carol@contoso.com"),
        "{}",
        f.title
    );
    assert_eq!(by_mailbox(&found, BOB).severity, Severity::Low);
}

#[test]
fn one_finding_per_rule_and_hour_with_stable_ids() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    events.push(exchange(
        "old",
        ws - 3 * DAY,
        T,
        ALICE,
        "Set-InboxRule",
        json!({"Identity": "x"}),
    ));
    let rule = |uid: &str, t: i64, to: &str| {
        exchange(
            uid,
            t,
            T,
            ALICE,
            "Set-InboxRule",
            json!({"Identity": format!("{ALICE}\\fw"), "ForwardTo": to}),
        )
    };
    events.push(rule("e1", ws + 3 * HOUR_US + 5 * MIN, "x@fabrikam.net"));
    events.push(rule("e2", ws + 3 * HOUR_US + 9 * MIN, "y@fabrikam.net"));
    events.push(rule("e3", ws + 5 * HOUR_US, "x@fabrikam.net"));
    write_lake(ctx.dir.path(), &events);
    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by_key(|f| f.window_start);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].evidence_event_uids, vec!["e1", "e2"]);
    assert_eq!(found[0].evidence_count, 2);
    assert!(
        found[0].title.contains("x@fabrikam.net (+1)"),
        "{}",
        found[0].title
    );
    assert!(
        found[0].description.contains("Rule: \"fw\""),
        "{}",
        found[0].description
    );
    assert_eq!(found[1].evidence_event_uids, vec!["e3"]);
    let again: Vec<String> = {
        let mut v = run(&ctx.ctx()).unwrap();
        v.sort_by_key(|f| f.window_start);
        v.into_iter().map(|f| f.finding_uid).collect()
    };
    assert_eq!(
        again,
        found
            .iter()
            .map(|f| f.finding_uid.clone())
            .collect::<Vec<_>>()
    );
    assert_ne!(found[0].finding_uid, found[1].finding_uid);
}

#[test]
fn transport_rules_client_rules_and_alerts() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut events = people(&ctx);
    for u in [ALICE, BOB] {
        events.push(exchange(
            &format!("old-{u}"),
            ws - 10 * DAY,
            T,
            u,
            "Set-InboxRule",
            json!({"Identity": "x"}),
        ));
    }
    events.push(exchange(
        "tr",
        ws + HOUR_US,
        T,
        BOB,
        "New-TransportRule",
        json!({"Name": "Journal", "BlindCopyTo": "collect@evil.example"}),
    ));
    let mut client = exchange(
        "ur",
        ws + 2 * HOUR_US,
        T,
        ALICE,
        "UpdateInboxRules",
        json!({"RuleOperation": "AddMailboxRule", "RuleName": "sync", "RuleActions": "[{\"ActionType\":\"Forward\",\"Recipients\":[\"SMTP:alice@fabrikam.net\"]}]"}),
    );
    client.raw_event = Some(
        json!({"Operation": "UpdateInboxRules", "MailboxOwnerUPN": ALICE})
            .to_string()
            .into(),
    );
    events.push(client);
    let alert = |uid: &str, t: i64, user: &str| {
        let mut e = exchange(
            uid,
            t,
            T,
            "SecurityComplianceAlerts",
            "AlertTriggered",
            json!({}),
        );
        e.service = "SecurityComplianceCenter".into();
        e.actor_type = crate::schema::ActorType::System;
        e.raw_event = Some(json!({"Name": "Creation of forwarding/redirect rule", "Data": json!({"f3u": user}).to_string()}).to_string().into());
        e
    };
    events.push(alert("al1", ws + 2 * HOUR_US + MIN, ALICE));
    events.push(alert("al2", ws + 6 * HOUR_US, CAROL));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 3, "{found:#?}");
    let tr = by_mailbox(&found, "(organisation)");
    assert_eq!(tr.severity, Severity::High);
    assert!(
        tr.description.contains("organisation-wide transport rule"),
        "{}",
        tr.description
    );
    let cr = by_mailbox(&found, ALICE);
    assert_eq!(cr.severity, Severity::Medium);
    assert_eq!(
        cr.evidence_event_uids,
        vec!["ur", "al1"],
        "the alert joins the rule's finding"
    );
    assert_eq!(cr.evidence_count, 2);
    let lone = by_mailbox(&found, CAROL);
    assert_eq!(lone.severity, Severity::Medium);
    assert_eq!(
        lone.title,
        format!("Microsoft alert 'Creation of forwarding/redirect rule' for {CAROL}")
    );
}

#[test]
fn guests_and_consumer_domains_are_not_tenant_domains() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut guest = signin("g", ws - DAY, T, "ann@fabrikam.net");
    guest.actor_account_uid = Some("home-tenant-of-ann".into());
    let mut events = people(&ctx);
    events.extend([guest, signin("gm", ws - DAY, T, "someone@gmail.com")]);
    events.push(exchange(
        "old",
        ws - 3 * DAY,
        T,
        ALICE,
        "Set-InboxRule",
        json!({"Identity": "x"}),
    ));
    events.push(forward(
        "f1",
        ws + HOUR_US,
        ALICE,
        ALICE,
        "alice@fabrikam.net",
    ));
    events.push(forward("f2", ws + HOUR_US, ALICE, ALICE, "alice@gmail.com"));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 2);
    assert!(
        found.iter().all(|f| f.severity == Severity::Medium),
        "{found:#?}"
    );
}

#[test]
fn empty_lake_and_config_validation() {
    let ctx = Ctx::new();
    assert!(run(&ctx.ctx()).unwrap().is_empty());
    let c = MailForwardingRuleConfig::default();
    assert!(c.validate().is_ok());
    let parse = |t: &str| toml::from_str::<MailForwardingRuleConfig>(t);
    assert!(
        parse("tenant_domain = []").is_err(),
        "unknown keys are rejected"
    );
    let c = parse("tenant_domains = ['contoso.com']\nhistory_days = 30").unwrap();
    assert_eq!(
        (
            c.history_days,
            c.min_history_days,
            c.shared_destination_min_mailboxes
        ),
        (30, 7, 2)
    );
    let err = |t: &str| parse(t).unwrap().validate().unwrap_err().to_string();
    assert!(err("tenant_domains = ['contoso.com', 'gmail.com']")
        .contains("analytics.mail_forwarding_rule.tenant_domains[1]"));
    assert!(err("tenant_domains = ['onmicrosoft.com']").contains("tenant_domains[0]"));
    assert!(
        err("min_history_days = 100").contains("analytics.mail_forwarding_rule.min_history_days")
    );
    assert!(
        err("shared_destination_min_mailboxes = 1").contains("shared_destination_min_mailboxes")
    );
    assert!(err("max_evidence = 0").contains("max_evidence"));
    assert!(err("suspicious_keywords = ['ok', ' ']").contains("suspicious_keywords[1]"));
}
