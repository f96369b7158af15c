//! Ordinary activity of one account on one UTC day, as lightweight [`Spec`]s (what happened,
//! when, by whom) that `record.rs` later renders to CloudTrail JSON.
//!
//! Rhythms: people work in their own office hours on weekdays (with a lunch dip, rare
//! evening/weekend on-call, and days off); EC2 agents heartbeat every 5 minutes; Lambda load
//! follows a daily curve; CI runs on a schedule (drift plans every 6 h, a nightly apply, plans
//! and applies during office hours on weekdays); AWS Config and a security scanner sweep on
//! fixed hours; application secret reads are a steady Poisson rate per hour.

mod automation;
mod people;
mod workloads;

use super::ops::{id, OPS};
use super::org::{Behaviour, Org, USE1};
use super::rng::{hash, Rng};

/// `flags`: the call was made in the web console.
pub(crate) const CONSOLE: u8 = 1;
/// `flags`: KMS call made by Secrets Manager on the caller's behalf (`invokedBy`).
pub(crate) const VIA_SECRETS: u8 = 2;

/// `err` values.
pub(crate) const ERR_NONE: u8 = 0;
/// The operation's usual error (see [`super::ops::OpDef::usual_error`]).
pub(crate) const ERR_USUAL: u8 = 1;
pub(crate) const ERR_DENIED: u8 = 2;
pub(crate) const ERR_THROTTLED: u8 = 3;

/// No fixed event id / no target.
pub(crate) const NONE: u32 = u32::MAX;

/// One event to render.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// Event time, Unix seconds.
    pub t: i64,
    /// Delivery window (Unix seconds / 300) of the object the record lands in.
    pub window: i64,
    /// Order of creation (ties in time keep it, so output does not depend on sort stability).
    pub seq: u32,
    pub actor: u16,
    /// Actor an AssumeRole call is about (`u16::MAX` when none).
    pub target: u16,
    pub op: u16,
    pub region: u8,
    /// Index into the actor's `srcs`.
    pub src: u8,
    /// Index into the actor's `agents`.
    pub agent: u8,
    pub err: u8,
    pub flags: u8,
    /// Actor-specific session number (instance, CI run, console session).
    pub session: u32,
    /// Random bits that choose resources (secret, bucket, ...).
    pub extra: u32,
    /// Index of a fixed (labelled) event id, or [`NONE`].
    pub fixed: u32,
}

/// Collects the specs of one account-day.
pub(crate) struct Day<'a> {
    pub org: &'a Org,
    pub account: u8,
    /// Unix seconds of 00:00 UTC.
    pub start: i64,
    /// Days since 1970-01-01.
    pub num: i64,
    pub rng: Rng,
    pub out: Vec<Spec>,
    secret_value: u16,
    kms_decrypt: u16,
}

/// Monday = 0 for a day number since the epoch (1970-01-01 was a Thursday).
pub(crate) fn weekday(day_num: i64) -> i64 {
    (day_num + 3).rem_euclid(7)
}

/// Relative activity of a person at a local hour: office hours on weekdays with a lunch dip,
/// little in the evening, almost nothing at weekends or at night.
pub(crate) fn person_intensity(weekday: i64, hour: i64) -> f64 {
    const OFFICE: [f64; 24] = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.4, 0.9, 1.0, 1.0, 0.5, 0.8, 1.0, 1.0, 0.9, 0.6,
        0.15, 0.05, 0.04, 0.03, 0.0, 0.0,
    ];
    if weekday < 5 {
        OFFICE[hour as usize]
    } else if (10..20).contains(&hour) {
        0.015
    } else {
        0.0
    }
}

impl<'a> Day<'a> {
    pub(crate) fn new(org: &'a Org, account: u8, day_num: i64) -> Self {
        Day {
            org,
            account,
            start: day_num * 86_400,
            num: day_num,
            rng: Rng::new(hash(&[org.seed, 0xda7a, account as u64, day_num as u64])),
            out: Vec::new(),
            secret_value: id("secretsmanager:GetSecretValue"),
            kms_decrypt: id("kms:Decrypt"),
        }
    }

    /// Adds one event (dropped when it falls outside the day) and, for a successful
    /// GetSecretValue, the KMS Decrypt that Secrets Manager makes on the caller's behalf.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        t: i64,
        actor: u16,
        op: u16,
        region: u8,
        src: u8,
        agent: u8,
        flags: u8,
        session: u32,
        err: u8,
        extra: u32,
        target: u16,
        fixed: u32,
    ) {
        if t < self.start || t >= self.start + 86_400 {
            return;
        }
        let def = &OPS[op as usize];
        let region = if def.global { USE1 } else { region };
        // Delivery: usually within 1–5 minutes, sometimes up to 15.
        let delay = if self.rng.chance(0.02) {
            self.rng.range(300, 900)
        } else {
            self.rng.range(45, 290)
        };
        let seq = self.out.len() as u32;
        self.out.push(Spec {
            t,
            window: (t + delay).div_euclid(300),
            seq,
            actor,
            target,
            op,
            region,
            src,
            agent,
            err,
            flags,
            session,
            extra,
            fixed,
        });
        if op == self.secret_value && err == ERR_NONE {
            self.push(
                t,
                actor,
                self.kms_decrypt,
                region,
                0,
                0,
                flags | VIA_SECRETS,
                session,
                ERR_NONE,
                extra,
                u16::MAX,
                NONE,
            );
        }
    }

    /// Adds a call with random resource bits and no fixed id.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        t: i64,
        actor: u16,
        op: u16,
        region: u8,
        src: u8,
        agent: u8,
        flags: u8,
        session: u32,
        err: u8,
    ) {
        let extra = self.rng.next_u64() as u32;
        self.push(
            t,
            actor,
            op,
            region,
            src,
            agent,
            flags,
            session,
            err,
            extra,
            u16::MAX,
            NONE,
        );
    }

    /// An error for an ordinary call: the op's usual error sometimes, rare denials.
    fn ordinary_err(&mut self, op: u16, denied_rate: f64) -> u8 {
        if self.rng.chance(denied_rate) {
            ERR_DENIED
        } else if OPS[op as usize].usual_error.is_some()
            && OPS[op as usize].name != "ConsoleLogin"
            && self.rng.chance(0.25)
        {
            ERR_USUAL
        } else {
            ERR_NONE
        }
    }

    /// Generates the ordinary activity of every actor of the account.
    pub(crate) fn ordinary(&mut self) {
        let org = self.org;
        for (i, a) in org.actors.iter().enumerate() {
            if a.account != self.account {
                continue;
            }
            let i = i as u16;
            match &a.behaviour {
                Behaviour::Person(p) => self.person(i, p),
                Behaviour::Fleet(f) => self.fleet(i, f),
                Behaviour::Lambda(l) => self.lambda(i, l),
                Behaviour::Ci { webid } => self.ci(i, *webid),
                Behaviour::Config => self.config(i),
                Behaviour::Scanner => self.scanner(i),
                Behaviour::Backup => self.backup(i),
                Behaviour::RootBilling => self.root(i),
                Behaviour::TrailKms => self.trail_kms(i),
                Behaviour::Dormant | Behaviour::Passive => {}
            }
        }
    }
}
