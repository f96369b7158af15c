//! Planned, legitimate changes that look like the attacks (benign hard cases), injected
//! through the same [`Builder`] as the attacks but never labelled:
//!
//! - the new employee `jordan.reyes` (Sales, New York) is created by IT three days before
//!   their first day (end − 6); from then on they work like their peers, from the New York
//!   office's shared address only;
//! - conditional-access changes by IT lead `kwame.mensah`, each inside the window of a change
//!   request in `change_requests.csv`: a report-only "Require compliant device for
//!   administrators" policy is added (end − 24), enforced (end − 13), and the legacy-auth
//!   block gets an exclusion for the scan-to-mail account (end − 3);
//! - Exchange admin `priya.raman` sets a mailbox quota (end − 20), forwards `nils.petersen`'s
//!   mail to his manager for a holiday (end − 18, cleared at end − 12), and forwards
//!   `tom.becker`'s mail to `felix.braun` when he goes on leave (end − 4): actor ≠ owner,
//!   internal recipient;
//! - people create inbox rules that move newsletters and notifications to folders (end − 20,
//!   − 15, − 9, − 1; one edit at − 5), and `emma.clarke` forwards escalations to her manager
//!   `james.turner@fabrikam-sift.com` (end − 2).

use super::activity::{Body, DirAudit, Ip, Params, Ua, Who};
use super::attacks::{Builder, Ticket};
use super::entra::{APP_EXO_POWERSHELL, APP_PORTAL};
use super::people::{BLOCK_LEGACY, COMPLIANT_ADMINS, DOMAIN};

/// Adds every benign planned record and the change requests.
pub(crate) fn benign(b: &mut Builder<'_>) {
    newcomer(b);
    inbox_rules(b);
    mailbox_admin(b);
    ca_changes(b);
}

fn newcomer(b: &mut Builder<'_>) {
    let t = b.t;
    let kwame = t.person("kwame.mensah");
    let start = t.people[t.newcomer as usize].active.0;
    let day = (start - 3).max(t.first);
    let at = b.local(kwame, day, 15, 20, 44);
    let p = &t.people[t.newcomer as usize];
    let list = |v: &str| Some(format!("[\"{v}\"]"));
    let audit = DirAudit {
        activity: "Add user",
        service: "Core Directory",
        category: "UserManagement",
        op_type: "Add",
        target_id: p.object_id.clone(),
        target_name: p.name.clone(),
        target_type: "User",
        target_upn: Some(p.upn.clone()),
        props: vec![
            (
                "AccountEnabled".into(),
                Some("[]".into()),
                Some("[true]".into()),
            ),
            ("DisplayName".into(), Some("[]".into()), list(&p.name)),
            ("UserPrincipalName".into(), Some("[]".into()), list(&p.upn)),
            ("Department".into(), Some("[]".into()), list(p.dept.name())),
            (
                "Included Updated Properties".into(),
                None,
                Some("\"AccountEnabled, DisplayName, UserPrincipalName, Department\"".into()),
            ),
        ],
    };
    let office = Ip::Office(t.people[kwame as usize].office);
    b.rec(
        at,
        Who::Person(kwame),
        office,
        Ua::Browser,
        Body::Audit(Box::new(audit)),
        false,
    );
}

/// An inbox-rule cmdlet by the mailbox owner from their office.
fn rule(
    b: &mut Builder<'_>,
    handle: &str,
    back: i64,
    (h, m): (u32, u32),
    op: &'static str,
    name: &str,
    extra: &[(&'static str, &str)],
) {
    let who = b.t.person(handle);
    let p = &b.t.people[who as usize];
    let object_id = format!("{}\\{name}", p.mailbox_path());
    let mut params: Params = vec![
        ("AlwaysDeleteOutlookRulesBlob", "False".into()),
        ("Force", "False".into()),
    ];
    params.push(if op == "New-InboxRule" {
        ("Name", name.into())
    } else {
        ("Identity", name.into())
    });
    params.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let ip = Ip::Office(p.office);
    let at = b.local(who, b.day(back), h, m, 9);
    b.rec(
        at,
        Who::Person(who),
        ip,
        Ua::Browser,
        Body::Cmdlet {
            op,
            object_id,
            params,
        },
        false,
    );
}

fn inbox_rules(b: &mut Builder<'_>) {
    let newsletters = [
        ("MoveToFolder", "Newsletters"),
        ("FromAddressContainsWords", "newsletter;digest"),
        ("StopProcessingRules", "False"),
    ];
    rule(
        b,
        "ana.ferreira",
        20,
        (14, 20),
        "New-InboxRule",
        "Newsletters",
        &newsletters,
    );
    rule(
        b,
        "ryan.cooper",
        15,
        (11, 2),
        "New-InboxRule",
        "Vendor updates",
        &[
            ("MoveToFolder", "Vendors"),
            ("FromAddressContainsWords", "updates@"),
            ("StopProcessingRules", "False"),
        ],
    );
    rule(
        b,
        "sarah.kim",
        9,
        (10, 45),
        "New-InboxRule",
        "CI notifications",
        &[
            ("MoveToFolder", "CI"),
            ("From", "notifications@github.com"),
            ("MarkAsRead", "True"),
        ],
    );
    rule(
        b,
        "ryan.cooper",
        5,
        (16, 31),
        "Set-InboxRule",
        "Vendor updates",
        &[("MoveToFolder", "Vendors\\2024")],
    );
    let james = format!("james.turner@{DOMAIN}");
    rule(
        b,
        "emma.clarke",
        2,
        (11, 20),
        "New-InboxRule",
        "Escalations to James",
        &[
            ("SubjectContainsWords", "escalation;urgent"),
            ("ForwardTo", &james),
            ("StopProcessingRules", "False"),
        ],
    );
    rule(
        b,
        "lisa.wagner",
        1,
        (9, 14),
        "New-InboxRule",
        "Newsletters",
        &newsletters,
    );
}

fn mailbox_admin(b: &mut Builder<'_>) {
    let priya = b.t.person("priya.raman");
    let office = Ip::Office(b.t.people[priya as usize].office);
    let changes: [(i64, (u32, u32), &str, Params); 4] = [
        (
            20,
            (11, 10),
            "lucy.bennett",
            vec![
                ("ProhibitSendQuota", "49.5 GB (53,150,220,288 bytes)".into()),
                (
                    "ProhibitSendReceiveQuota",
                    "50 GB (53,687,091,200 bytes)".into(),
                ),
            ],
        ),
        (
            18,
            (10, 5),
            "nils.petersen",
            vec![
                (
                    "ForwardingSmtpAddress",
                    format!("smtp:james.turner@{DOMAIN}"),
                ),
                ("DeliverToMailboxAndForward", "True".into()),
            ],
        ),
        (
            12,
            (9, 50),
            "nils.petersen",
            vec![
                ("ForwardingSmtpAddress", String::new()),
                ("DeliverToMailboxAndForward", "False".into()),
            ],
        ),
        (
            4,
            (9, 30),
            "tom.becker",
            vec![
                (
                    "ForwardingSmtpAddress",
                    format!("smtp:felix.braun@{DOMAIN}"),
                ),
                ("DeliverToMailboxAndForward", "True".into()),
            ],
        ),
    ];
    for (back, (h, m), target, params) in changes {
        let at = b.local(priya, b.day(back), h, m, 27);
        b.signin(
            at - 240_000_000,
            priya,
            office,
            Ua::Browser,
            APP_EXO_POWERSHELL,
            false,
        );
        let v = b.t.person(target);
        let p = &b.t.people[v as usize];
        let mut all = vec![("Identity", p.upn.clone())];
        all.extend(params);
        let body = Body::Cmdlet {
            op: "Set-Mailbox",
            object_id: p.mailbox_path(),
            params: all,
        };
        b.rec(at, Who::Person(priya), office, Ua::Browser, body, false);
    }
}

fn ca_changes(b: &mut Builder<'_>) {
    let kwame = b.t.person("kwame.mensah");
    let office = Ip::Office(b.t.people[kwame as usize].office);
    let scanner = b.t.scanner_id.clone();
    let steps: [(&str, i64, (u32, u32), usize); 3] = [
        ("CHG0041187", 24, (10, 12), COMPLIANT_ADMINS),
        ("CHG0041302", 13, (10, 40), COMPLIANT_ADMINS),
        ("CHG0041455", 3, (14, 5), BLOCK_LEGACY),
    ];
    for (ticket, back, (h, m), index) in steps {
        let day = b.day(back);
        let at = b.local(kwame, day, h, m, 52);
        b.signin(
            at - 300_000_000,
            kwame,
            office,
            Ua::Browser,
            APP_PORTAL,
            false,
        );
        let new = match (ticket, b.policies[index].clone()) {
            ("CHG0041187", _) => {
                let mut p = b.t.policies[COMPLIANT_ADMINS].clone();
                p.created = String::new();
                p
            }
            ("CHG0041302", Some(mut p)) => {
                p.state = "enabled";
                p
            }
            (_, Some(mut p)) => {
                p.exclude_users.push(scanner.clone());
                p
            }
            (_, None) => unreachable!("the policy exists before it is updated"),
        };
        let target = new.id.clone();
        b.ca_change(at, kwame, office, index, Some(new), false);
        // The approved window: an hour before to two hours after the planned time.
        let planned = at / 1_000_000;
        b.plan.tickets.push(Ticket {
            id: ticket.to_string(),
            actor: b.t.people[kwame as usize].upn.clone(),
            target,
            start: planned - planned.rem_euclid(3600) - 3600,
            end: planned - planned.rem_euclid(3600) + 2 * 3600,
        });
    }
}
