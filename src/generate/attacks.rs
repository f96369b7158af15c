//! Labelled attacks injected near the end of the period (so that weeks of history precede
//! them), and the `labels.jsonl` lines that describe them.
//!
//! | id | analytic | what | day |
//! |---|---|---|---|
//! | `A1-stoplogging` | `logging_disabled` | IAM user `marc.dubois` (stolen key, new IP) stops the prod trail after recon | end − 3, 21:47 |
//! | `A2-deletetrail` | `logging_disabled` | the staging PowerUser SSO role deletes the staging trail | end − 2, 03:12 |
//! | `A3-puteventselectors` | `logging_disabled` | the prod EC2 instance role turns management events off | end − 1, 14:05 |
//! | `A4-secret-burst` | `secret_access_volume` | Lambda role `billing-worker-role` (history ≈ 1 read/hour) reads 60 secrets in an hour | end − 1, 02:00 |
//! | `A5-new-principal-secrets` | `secret_access_volume` | brand-new IAM user `svc-reporting-tmp` reads 45 secrets | end, 10:20 |
//! | `A6-bedrock-llmjacking` | `model_invocation_volume` | `marc.dubois`'s stolen key invokes Claude 240 times in about three hours, in an account that never used Bedrock | end − 4, 01:02 |
//! | `A7-trail-stopped-overnight` | `log_source_silence` | the leaked key of the forgotten staging IAM user `jenkins-legacy` stops the staging trail at 01:38 and starts it again at 08:57: the account's CloudTrail is silent for seven hours | end − 20, 01:38–08:57 |
//!
//! A7 is a silence, not only an event: while the trail is stopped CloudTrail records
//! nothing for the account, so [`Plan::silence`] removes every ordinary record of those
//! hours; only StopLogging (the last record before) and StartLogging (the first after)
//! remain, as in a real trail. End − 20 leaves the analytic its 7 (of up to 28) days of
//! hourly history and three weeks for an hour-of-week expectation.
//!
//! Each principal had never made its labelled call before. The benign look-alikes are in the
//! ordinary activity: the CI role runs UpdateTrail every night, and IAM user `lena.fischer`
//! reads about ten secrets every working hour.

use serde::{Deserialize, Serialize};

use super::activity::{Day, ERR_NONE};
use super::ops::id;
use super::org::{Org, PROD, STAGING};
use super::rng::{hash, Rng};

/// One line of `labels.jsonl`: an injected attack and the events that make it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackLabel {
    /// Stable id of the scenario (`A1-stoplogging`).
    pub attack_id: String,
    /// The cloudsift analytic that should find it (`logging_disabled`, `secret_access_volume`).
    pub analytic: String,
    /// MITRE ATT&CK technique id (`T1562.008`, `T1555.006`).
    pub technique: String,
    /// `recipientAccountId` of the events.
    pub account_uid: String,
    /// The principal as cloudsift normalises it: IAM user ARN, or role ARN for an assumed role.
    pub actor_uid: String,
    /// Time of the first labelled event, RFC 3339 UTC.
    pub start: String,
    /// Time of the last labelled event, RFC 3339 UTC.
    pub end: String,
    /// `eventID`s of the labelled events (context calls such as recon are not listed).
    pub event_uids: Vec<String>,
    /// Other analytics that should also find the attack, scored like `analytic` (absent
    /// from `labels.jsonl` when empty); see [`also_found_by`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// The analytics besides its own that should find an attack: a first change of a cloud
/// service by a principal who never changed it (a quota, an API enabled, a Conditional
/// Access policy) is also `service_change_unexpected_initiator`'s (DESIGN.md, "conditional
/// access policy changes without a change request"; its anchor is Sentinel's "first
/// operation by an initiator").
pub fn also_found_by(attack_id: &str) -> Vec<String> {
    const UNEXPECTED_INITIATOR: [&str; 5] = ["Z5-quota-increase", "G4-vertex-api-enabled", "G5-gpu-quota-preferences", "M5-ca-policy-weakened", "M5-ca-policy-deleted"];
    if UNEXPECTED_INITIATOR.contains(&attack_id) {
        vec!["service_change_unexpected_initiator".to_string()]
    } else {
        Vec::new()
    }
}

/// One injected event.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub account: u8,
    /// Days since the epoch.
    pub day: i64,
    pub t: i64,
    pub actor: u16,
    pub op: u16,
    pub region: u8,
    pub session: u32,
    pub extra: u32,
    /// Index into [`Plan::ids`], or `u32::MAX` for unlabelled context events.
    pub fixed: u32,
}

/// A stopped trail: no record of `account` with `from < t < to` (Unix seconds) is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Silence {
    pub account: u8,
    /// Time of the StopLogging call (its own record is delivered).
    pub from: i64,
    /// Time of the StartLogging call (its own record is delivered).
    pub to: i64,
}

/// Everything injected, with the labels.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub ids: Vec<String>,
    pub events: Vec<Planned>,
    pub labels: Vec<AttackLabel>,
    pub silences: Vec<Silence>,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

struct Builder<'a> {
    org: &'a Org,
    plan: Plan,
    rng: Rng,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        account: u8,
        t: i64,
        actor: u16,
        op: &str,
        region: u8,
        session: u32,
        extra: u32,
        labelled: bool,
    ) -> Option<usize> {
        let fixed = if labelled {
            let (a, b) = (self.rng.next_u64(), self.rng.next_u64());
            self.plan.ids.push(super::rng::uuid_string(a, b));
            (self.plan.ids.len() - 1) as u32
        } else {
            u32::MAX
        };
        self.plan.events.push(Planned {
            account,
            day: t.div_euclid(86_400),
            t,
            actor,
            op: id(op),
            region,
            session,
            extra,
            fixed,
        });
        labelled.then_some(fixed as usize)
    }

    #[allow(clippy::too_many_arguments)]
    fn label(
        &mut self,
        attack_id: &str,
        analytic: &str,
        technique: &str,
        account: u8,
        actor: u16,
        ids: &[usize],
        times: &[i64],
    ) {
        let org = self.org;
        let acct = &org.accounts[account as usize];
        self.plan.labels.push(AttackLabel {
            attack_id: attack_id.into(),
            analytic: analytic.into(),
            technique: technique.into(),
            account_uid: acct.id.into(),
            actor_uid: org.actors[actor as usize].uid(acct),
            start: rfc3339(*times.iter().min().expect("an attack has events")),
            end: rfc3339(*times.iter().max().expect("an attack has events")),
            event_uids: ids.iter().map(|&i| self.plan.ids[i].clone()).collect(),
            also: also_found_by(attack_id),
        });
    }
}

/// Plans the attacks for the period `first..=last` (days since the epoch). An attack dated
/// before `first` (a short period) happens on `first`.
pub(crate) fn plan(org: &Org, first: i64, last: i64) -> Plan {
    let mut b = Builder {
        org,
        plan: Plan::default(),
        rng: Rng::new(hash(&[org.seed, 0xa77a])),
    };
    let day = |back: i64| (last - back).max(first) * 86_400;
    let at = |back: i64, h: i64, m: i64, s: i64| day(back) + h * 3600 + m * 60 + s;
    let prod = &org.accounts[PROD as usize];
    let staging = &org.accounts[STAGING as usize];

    // A1: stolen IAM user key stops the prod trail after a little recon.
    let marc = org.actor(PROD, "attacker:marc.dubois");
    let t = at(3, 21, 47, 12);
    for (dt, op) in [
        (-300, "sts:GetCallerIdentity"),
        (-240, "cloudtrail:DescribeTrails"),
        (-200, "cloudtrail:GetTrailStatus"),
    ] {
        b.event(PROD, t + dt, marc, op, prod.trail_region, 0, 0, false);
    }
    let i = b
        .event(
            PROD,
            t,
            marc,
            "cloudtrail:StopLogging",
            prod.trail_region,
            0,
            0,
            true,
        )
        .expect("labelled");
    b.label(
        "A1-stoplogging",
        "logging_disabled",
        "T1562.008",
        PROD,
        marc,
        &[i],
        &[t],
    );

    // A2: a PowerUser SSO session from an unseen address deletes the staging trail.
    let tom = org.actor(STAGING, "attacker:tom.becker");
    let t = at(2, 3, 12, 40);
    b.event(
        STAGING,
        t - 95,
        tom,
        "cloudtrail:DescribeTrails",
        staging.trail_region,
        1,
        0,
        false,
    );
    let i = b
        .event(
            STAGING,
            t,
            tom,
            "cloudtrail:DeleteTrail",
            staging.trail_region,
            1,
            0,
            true,
        )
        .expect("labelled");
    b.label(
        "A2-deletetrail",
        "logging_disabled",
        "T1562.008",
        STAGING,
        tom,
        &[i],
        &[t],
    );

    // A3: the prod instance role (credentials taken from an instance) weakens event selectors.
    let app = org.actor(PROD, "attacker:app-server-role");
    let t = at(1, 14, 5, 31);
    let session = ((t.div_euclid(86_400)).div_euclid(7) as u32).wrapping_mul(7919); // slot 0 of the fleet
    b.event(
        PROD,
        t - 40,
        app,
        "cloudtrail:GetEventSelectors",
        prod.trail_region,
        session,
        0,
        false,
    );
    let i = b
        .event(
            PROD,
            t,
            app,
            "cloudtrail:PutEventSelectors",
            prod.trail_region,
            session,
            0,
            true,
        )
        .expect("labelled");
    b.label(
        "A3-puteventselectors",
        "logging_disabled",
        "T1562.008",
        PROD,
        app,
        &[i],
        &[t],
    );

    // A4: the billing worker's role reads 60 secrets in one hour (history: about one an hour).
    let worker = org.actor(PROD, "billing-worker");
    let t0 = at(1, 2, 0, 0);
    let nsec = prod.secrets.len() as u32;
    let mut times: Vec<i64> = (0..60).map(|_| t0 + b.rng.below(3600) as i64).collect();
    times.sort_unstable();
    let session = ((t0.div_euclid(3600)) / 6) as u32;
    let ids: Vec<usize> = times
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            b.event(
                PROD,
                t,
                worker,
                "secretsmanager:GetSecretValue",
                prod.home,
                session,
                k as u32 % nsec,
                true,
            )
            .expect("labelled")
        })
        .collect();
    b.label(
        "A4-secret-burst",
        "secret_access_volume",
        "T1555.006",
        PROD,
        worker,
        &ids,
        &times,
    );

    // A5: a principal never seen before lists and reads 45 secrets.
    let tmp = org.actor(PROD, "svc-reporting-tmp");
    let t0 = at(0, 10, 20, 5);
    b.event(
        PROD,
        t0,
        tmp,
        "sts:GetCallerIdentity",
        prod.home,
        0,
        0,
        false,
    );
    b.event(
        PROD,
        t0 + 4,
        tmp,
        "secretsmanager:ListSecrets",
        prod.home,
        0,
        0,
        false,
    );
    b.event(
        PROD,
        t0 + 9,
        tmp,
        "secretsmanager:ListSecrets",
        prod.home,
        0,
        1,
        false,
    );
    let mut t = t0 + 30;
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for k in 0..45u32 {
        t += 10 + b.rng.below(80) as i64;
        times.push(t);
        ids.push(
            b.event(
                PROD,
                t,
                tmp,
                "secretsmanager:GetSecretValue",
                prod.home,
                0,
                k % nsec,
                true,
            )
            .expect("labelled"),
        );
    }
    b.label(
        "A5-new-principal-secrets",
        "secret_access_volume",
        "T1555.006",
        PROD,
        tmp,
        &ids,
        &times,
    );

    // A6: LLMjacking — the stolen key of A1 runs Claude prompts all night through a
    // reverse proxy (Sysdig TRT, 2024), in an account that never invoked a model.
    let mut t = at(4, 1, 2, 30);
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..240 {
        t += 20 + b.rng.below(40) as i64;
        times.push(t);
        ids.push(b.event(PROD, t, marc, "bedrock:InvokeModel", prod.home, 0, 0, true).expect("labelled"));
    }
    b.label("A6-bedrock-llmjacking", "model_invocation_volume", "T1496.004", PROD, marc, &ids, &times);

    // A7: a leaked key of a forgotten IAM user stops the staging trail for the night and
    // starts it again before the working day, so that a "trail not logging" check at
    // office hours finds it on (Stratus Red Team `aws.defense-evasion.cloudtrail-stop`).
    // What the key did in between is not in the logs: that is the point.
    let legacy = org.actor(STAGING, "attacker:jenkins-legacy");
    let (stop, start) = (at(20, 1, 38, 21), at(20, 8, 57, 40));
    for (dt, op) in [
        (-190, "sts:GetCallerIdentity"),
        (-150, "cloudtrail:DescribeTrails"),
        (-120, "cloudtrail:GetTrailStatus"),
    ] {
        b.event(STAGING, stop + dt, legacy, op, staging.trail_region, 0, 0, false);
    }
    let off = b.event(STAGING, stop, legacy, "cloudtrail:StopLogging", staging.trail_region, 0, 0, true).expect("labelled");
    let on = b.event(STAGING, start, legacy, "cloudtrail:StartLogging", staging.trail_region, 0, 0, true).expect("labelled");
    b.event(STAGING, start + 25, legacy, "cloudtrail:GetTrailStatus", staging.trail_region, 0, 0, false);
    b.plan.silences.push(Silence { account: STAGING, from: stop, to: start });
    b.label("A7-trail-stopped-overnight", "log_source_silence", "T1562.008", STAGING, legacy, &[off, on], &[stop, start]);
    b.plan
}

impl Plan {
    /// Removes from `day` the records that a stopped trail ([`Silence`]) does not deliver.
    /// Run after [`Plan::inject`]: the attacker's own calls inside the silence vanish too.
    pub(crate) fn silence(&self, day: &mut Day<'_>) {
        let account = day.account;
        let stops: Vec<&Silence> = self.silences.iter().filter(|s| s.account == account).collect();
        if !stops.is_empty() {
            day.out.retain(|e| !stops.iter().any(|s| s.from < e.t && e.t < s.to));
        }
    }

    /// Adds the injected events of one account-day to `day`.
    pub(crate) fn inject(&self, day: &mut Day<'_>) {
        let (account, num) = (day.account, day.num);
        for e in self
            .events
            .iter()
            .filter(|e| e.account == account && e.day == num)
        {
            day.push(
                e.t,
                e.actor,
                e.op,
                e.region,
                0,
                0,
                0,
                e.session,
                ERR_NONE,
                e.extra,
                u16::MAX,
                e.fixed,
            );
        }
    }
}
