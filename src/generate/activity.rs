//! Ordinary activity of one account on one UTC day, as lightweight [`Spec`]s (what happened,
//! when, by whom) that `record.rs` later renders to CloudTrail JSON.
//!
//! Rhythms: people work in their own office hours on weekdays (with a lunch dip, rare
//! evening/weekend on-call, and days off); EC2 agents heartbeat every 5 minutes; Lambda load
//! follows a daily curve; CI runs on a schedule (drift plans every 6 h, a nightly apply, plans
//! and applies during office hours on weekdays); AWS Config and a security scanner sweep on
//! fixed hours; application secret reads are a steady Poisson rate per hour.

use super::ops::{self, id, OPS};
use super::org::{Behaviour, Fleet, LambdaFn, Org, Person, EUW1, UNUSED, USE1};
use super::rng::{hash, unit, Rng};

/// `flags`: the call was made in the web console.
pub(crate) const CONSOLE: u8 = 1;
/// `flags`: KMS call made by Secrets Manager on the caller's behalf (`invokedBy`).
pub(crate) const VIA_SECRETS: u8 = 2;

/// `err` values.
pub(crate) const ERR_NONE: u8 = 0;
/// The operation's usual error (see [`ops::OpDef::usual_error`]).
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

    fn person(&mut self, actor: u16, p: &Person) {
        let org = self.org;
        let a = &org.actors[actor as usize];
        let acct = &org.accounts[self.account as usize];
        let scale = org.scale;
        let internal = (a.srcs.len() - 1) as u8; // "AWS Internal" is last
        let iam_user = matches!(a.ident, super::org::Ident::IamUser { .. });
        let login = id("signin:ConsoleLogin");
        for hour in 0..24i64 {
            let utc = self.start + hour * 3600;
            let local = utc + p.tz as i64 * 3600;
            let local_day = local.div_euclid(86_400);
            let lh = local.rem_euclid(86_400) / 3600;
            let wd = weekday(local_day);
            if unit(hash(&[org.seed, p.id, local_day as u64, 1])) < 0.1 {
                continue; // day off
            }
            // Office or home (or home over IPv6) for the whole local day.
            let where_ = unit(hash(&[org.seed, p.id, local_day as u64, 2]));
            let src: u8 = if where_ < 0.6 {
                0
            } else if internal >= 3 && where_ < 0.8 {
                2
            } else {
                1
            };
            let intensity = person_intensity(wd, lh);
            let sessions = self.rng.poisson(p.level * intensity);
            for _ in 0..sessions {
                let console = self.rng.chance(p.console);
                let w: Vec<f64> = p.focus.iter().map(|f| f.1).collect();
                let focus = org.focus(p.focus[self.rng.weighted(&w)].0);
                let mean = if console { 45.0 } else { 15.0 };
                let n = 1 + self.rng.poisson(mean * scale);
                let region = if self.rng.chance(0.85) {
                    acct.home
                } else {
                    *self.rng.pick(&acct.regions)
                };
                let agent: u8 = if console {
                    0
                } else if self.rng.chance(0.7) {
                    1
                } else {
                    2
                };
                let session = self.rng.next_u64() as u32;
                let flags = if console { CONSOLE } else { 0 };
                let mut t = utc + self.rng.below(3600) as i64;
                if console && iam_user {
                    let err = if self.rng.chance(0.03) {
                        ERR_USUAL
                    } else {
                        ERR_NONE
                    };
                    self.call(t, actor, login, USE1, src, agent, flags, session, err);
                    t += 2 + self.rng.below(20) as i64;
                    if err != ERR_NONE {
                        self.call(t, actor, login, USE1, src, agent, flags, session, ERR_NONE);
                        t += 2 + self.rng.below(20) as i64;
                    }
                }
                for _ in 0..n {
                    let write = !focus.writes.is_empty() && self.rng.chance(0.06);
                    let op = if write {
                        *self.rng.pick(&focus.writes)
                    } else {
                        *self.rng.pick(&focus.reads)
                    };
                    let err = if write && !p.can_write {
                        ERR_DENIED
                    } else {
                        self.ordinary_err(op, 0.01)
                    };
                    let (s, g) = if console && self.rng.chance(0.04) {
                        (internal, 3)
                    } else {
                        (src, agent)
                    };
                    self.call(t, actor, op, region, s, g, flags, session, err);
                    t += if console {
                        if self.rng.chance(0.6) {
                            0
                        } else {
                            self.rng.exp(15.0) as i64
                        }
                    } else {
                        1 + self.rng.exp(12.0) as i64
                    };
                }
            }
            // A steady reader of secrets (scripts run through the working day).
            if p.secret_rate > 0.0 && wd < 5 && (9..17).contains(&lh) {
                for _ in 0..self.rng.poisson(p.secret_rate) {
                    let t = utc + self.rng.below(3600) as i64;
                    let extra = self.rng.below(acct.secrets.len() as u64) as u32;
                    self.push(
                        t,
                        actor,
                        self.secret_value,
                        acct.home,
                        src,
                        2,
                        0,
                        hour as u32,
                        ERR_NONE,
                        extra,
                        u16::MAX,
                        NONE,
                    );
                }
            }
        }
    }

    fn fleet(&mut self, actor: u16, f: &Fleet) {
        let org = self.org;
        let n = ((f.base as f64 * org.scale).round() as u32).max(1);
        let heartbeat = id("ssm:UpdateInstanceInformation");
        let assume = id("sts:AssumeRole");
        let (ecr, logs) = (id("ecr:GetAuthorizationToken"), id("logs:CreateLogStream"));
        let hourly = [
            (id("kms:Decrypt"), 0.5),
            (id("ec2:DescribeTags"), 0.1),
            (id("sts:GetCallerIdentity"), 0.3),
        ];
        let mut sessions = Vec::with_capacity(n as usize);
        for slot in 0..n {
            // Instances are replaced about weekly, staggered across the fleet.
            let epoch = (self.num + slot as i64 * 3).div_euclid(7);
            let session = slot.wrapping_mul(100_003) ^ (epoch as u32).wrapping_mul(7919);
            sessions.push(session);
            let offset = (hash(&[org.seed, actor as u64, slot as u64]) % 300) as i64;
            for k in 0..288 {
                let t = self.start + k * 300 + offset + self.rng.below(3) as i64;
                self.push(
                    t,
                    actor,
                    heartbeat,
                    f.region,
                    0,
                    0,
                    0,
                    session,
                    ERR_NONE,
                    0,
                    u16::MAX,
                    NONE,
                );
            }
            for j in 0..4 {
                let t = self.start + j * 21_600 + offset * 60 % 21_600;
                let extra = self.rng.next_u64() as u32;
                self.push(
                    t, f.svc, assume, f.region, 0, 0, 0, session, ERR_NONE, extra, actor, NONE,
                );
            }
            for j in 0..2 {
                let t = self.start + j * 43_200 + offset * 97 % 43_200;
                self.call(t, actor, ecr, f.region, 0, 1, 0, session, ERR_NONE);
            }
            let t = self.start + offset * 13;
            let err = if self.rng.chance(0.3) {
                ERR_USUAL
            } else {
                ERR_NONE
            };
            self.call(t, actor, logs, f.region, 0, 1, 0, session, err);
            for hour in 0..24 {
                for (op, rate) in hourly {
                    for _ in 0..self.rng.poisson(rate) {
                        let t = self.start + hour * 3600 + self.rng.below(3600) as i64;
                        self.call(t, actor, op, f.region, 0, 1, 0, session, ERR_NONE);
                    }
                }
            }
        }
        self.app_secrets(actor, f.secret_rate, f.region, &sessions);
    }

    /// Application secret reads: a steady Poisson rate per hour, each app mostly reading
    /// its own two secrets.
    fn app_secrets(&mut self, actor: u16, rate: f64, region: u8, sessions: &[u32]) {
        let nsec = self.org.accounts[self.account as usize].secrets.len() as u64;
        let home = hash(&[actor as u64]) % nsec;
        for hour in 0..24 {
            for _ in 0..self.rng.poisson(rate) {
                let t = self.start + hour * 3600 + self.rng.below(3600) as i64;
                let session = *self.rng.pick(sessions);
                let extra = ((home + self.rng.below(2)) % nsec) as u32;
                self.push(
                    t,
                    actor,
                    self.secret_value,
                    region,
                    0,
                    1,
                    0,
                    session,
                    ERR_NONE,
                    extra,
                    u16::MAX,
                    NONE,
                );
            }
        }
    }

    fn lambda(&mut self, actor: u16, l: &LambdaFn) {
        let org = self.org;
        let assume = id("sts:AssumeRole");
        let others = [
            id("ssm:GetParameter"),
            id("kms:Decrypt"),
            id("dynamodb:DescribeTable"),
            id("sts:GetCallerIdentity"),
        ];
        if l.weekly {
            if weekday(self.num) == 0 {
                let t0 = self.start + 6 * 3600 + self.rng.below(60) as i64;
                let extra = self.rng.next_u64() as u32;
                self.push(
                    t0, l.svc, assume, l.region, 0, 0, 0, 0, ERR_NONE, extra, actor, NONE,
                );
                let nsec = org.accounts[self.account as usize].secrets.len() as u32;
                for k in 0..3 {
                    self.push(
                        t0 + 1 + k,
                        actor,
                        self.secret_value,
                        l.region,
                        0,
                        0,
                        0,
                        0,
                        ERR_NONE,
                        (6 + k as u32) % nsec,
                        u16::MAX,
                        NONE,
                    );
                }
                for k in 0..4 {
                    self.call(t0 + 3 + k, actor, others[2], l.region, 0, 0, 0, 0, ERR_NONE);
                }
            }
            return;
        }
        for hour in 0..24i64 {
            // Customer traffic: higher in European day time, never zero.
            let load = 0.4 + 0.6 * person_intensity(0, (hour + 1) % 24);
            let session = ((self.num * 24 + hour) / 6) as u32; // NAT address changes every 6 h
            for _ in 0..self
                .rng
                .poisson((l.calls * 0.1).max(0.5) * load * org.scale)
            {
                let t = self.start + hour * 3600 + self.rng.below(3600) as i64;
                let extra = self.rng.next_u64() as u32;
                self.push(
                    t, l.svc, assume, l.region, 0, 0, 0, session, ERR_NONE, extra, actor, NONE,
                );
            }
            for _ in 0..self.rng.poisson(l.calls * load * org.scale) {
                let t = self.start + hour * 3600 + self.rng.below(3600) as i64;
                let op = *self.rng.pick(&others);
                self.call(t, actor, op, l.region, 0, 0, 0, session, ERR_NONE);
            }
        }
        let sessions: Vec<u32> = (0..4).map(|q| ((self.num * 24) / 6) as u32 + q).collect();
        self.app_secrets(actor, l.secret_rate, l.region, &sessions);
    }

    /// CI runs of the day: (start, kind) with kind 0 plan, 1 apply, 2 nightly apply. The
    /// schedule is shared by all accounts (one pipeline deploys them all).
    fn ci_runs(&self) -> Vec<(i64, u8)> {
        let seed = self.org.seed;
        let wd = weekday(self.num);
        let mut runs = Vec::new();
        for hour in 0..24i64 {
            let h = |k: u64| hash(&[seed, 0xc1, self.num as u64, hour as u64, k]);
            let minute = |k: u64| (h(k + 100) % 50) as i64 * 60 + (h(k + 200) % 60) as i64;
            if hour % 6 == 0 {
                runs.push((hour * 3600 + 5 * 60, 0));
            }
            if hour == 2 {
                runs.push((hour * 3600 + 20 * 60, 2));
            }
            if wd < 5 && (7..18).contains(&hour) {
                for k in 0..2 {
                    if unit(h(k)) < 0.45 {
                        runs.push((hour * 3600 + minute(k), 0));
                    }
                }
                if unit(h(9)) < 0.25 {
                    runs.push((hour * 3600 + minute(9), 1));
                }
            }
        }
        runs
    }

    fn ci(&mut self, actor: u16, webid: u16) {
        let org = self.org;
        let acct = &org.accounts[self.account as usize];
        let web = id("sts:AssumeRoleWithWebIdentity");
        let (update, status) = (
            id("cloudtrail:UpdateTrail"),
            id("cloudtrail:GetTrailStatus"),
        );
        for (start, kind) in self.ci_runs() {
            let run = hash(&[org.seed, self.num as u64, start as u64]) as u32;
            let mut t = self.start + start + self.account as i64 * 7;
            let extra = self.rng.next_u64() as u32;
            self.push(
                t, webid, web, acct.home, 0, 0, 0, run, ERR_NONE, extra, actor, NONE,
            );
            t += 2;
            let reads = self.rng.poisson(70.0 * org.scale).max(5);
            for _ in 0..reads {
                let op = *self.rng.pick(&org.ci_reads);
                let err = if self.rng.chance(0.01) {
                    ERR_THROTTLED
                } else {
                    self.ordinary_err(op, 0.0)
                };
                self.call(t, actor, op, acct.home, 0, 0, 0, run, err);
                t += self.rng.exp(1.0) as i64;
            }
            if kind >= 1 {
                for _ in 0..1 + self.rng.poisson(3.0) {
                    let op = *self.rng.pick(&org.ci_writes);
                    self.call(t, actor, op, acct.home, 0, 0, 0, run, ERR_NONE);
                    t += 1 + self.rng.below(4) as i64;
                }
            }
            if kind == 2 {
                // Routine: the nightly apply re-asserts the trail settings.
                self.call(t, actor, update, acct.trail_region, 0, 0, 0, run, ERR_NONE);
                self.call(
                    t + 1,
                    actor,
                    status,
                    acct.trail_region,
                    0,
                    0,
                    0,
                    run,
                    ERR_NONE,
                );
            }
        }
    }

    fn region_of(&mut self) -> u8 {
        let acct = &self.org.accounts[self.account as usize];
        if self.rng.chance(0.8) {
            acct.home
        } else {
            *self.rng.pick(&acct.regions)
        }
    }

    fn config(&mut self, actor: u16) {
        let org = self.org;
        for hour in 0..24i64 {
            let n = self.rng.poisson(18.0 * org.scale);
            for _ in 0..n {
                let t = self.start + hour * 3600 + self.rng.below(3600) as i64;
                let (op, region) = (*self.rng.pick(&org.config_reads), self.region_of());
                self.call(t, actor, op, region, 0, 0, 0, 0, ERR_NONE);
            }
            if hour % 6 == 3 {
                let mut t = self.start + hour * 3600 + 600;
                for _ in 0..self.rng.poisson(70.0 * org.scale) {
                    let (op, region) = (*self.rng.pick(&org.config_reads), self.region_of());
                    self.call(t, actor, op, region, 0, 0, 0, 0, ERR_NONE);
                    t += self.rng.exp(4.0) as i64;
                }
            }
        }
    }

    fn scanner(&mut self, actor: u16) {
        let org = self.org;
        let sweep = ops::ids(&[
            "ec2:DescribeInstances",
            "ec2:DescribeVpcs",
            "ec2:DescribeSecurityGroups",
        ]);
        for hour in [1i64, 5, 9, 13, 17, 21] {
            let mut t = self.start + hour * 3600 + 15 * 60 + self.account as i64 * 40;
            let session = (self.num * 24 + hour) as u32;
            for _ in 0..self.rng.poisson(150.0 * org.scale) {
                let (op, region) = (*self.rng.pick(&org.scanner_reads), self.region_of());
                let err = self.ordinary_err(op, 0.02);
                self.call(t, actor, op, region, 0, 0, 0, session, err);
                t += self.rng.exp(4.0) as i64;
            }
            if hour == 1 {
                for &r in UNUSED {
                    for &op in &sweep {
                        self.call(t, actor, op, r, 0, 0, 0, session, ERR_NONE);
                        t += 1;
                    }
                }
            }
        }
    }

    fn backup(&mut self, actor: u16) {
        let mut t = self.start + 90 * 60 + self.rng.below(120) as i64;
        let ops = ops::ids(&[
            "ec2:DescribeVolumes",
            "ec2:CreateSnapshot",
            "ec2:CreateTags",
            "ec2:DescribeSnapshots",
            "ec2:DeleteSnapshot",
        ]);
        self.call(t, actor, ops[0], EUW1, 0, 0, 0, 0, ERR_NONE);
        for _ in 0..3 {
            t += 2 + self.rng.below(5) as i64;
            self.call(t, actor, ops[1], EUW1, 0, 0, 0, 0, ERR_NONE);
            self.call(t + 1, actor, ops[2], EUW1, 0, 0, 0, 0, ERR_NONE);
        }
        t += 30;
        self.call(t, actor, ops[3], EUW1, 0, 0, 0, 0, ERR_NONE);
        for _ in 0..3 {
            t += 1 + self.rng.below(3) as i64;
            self.call(t, actor, ops[4], EUW1, 0, 0, 0, 0, ERR_NONE);
        }
    }

    fn root(&mut self, actor: u16) {
        let org = self.org;
        if weekday(self.num) >= 5 || (self.num + org.seed as i64 % 14).rem_euclid(14) != 0 {
            return;
        }
        let mut t = self.start + 9 * 3600 + self.rng.below(3600) as i64;
        self.call(
            t,
            actor,
            id("signin:ConsoleLogin"),
            USE1,
            0,
            0,
            CONSOLE,
            0,
            ERR_NONE,
        );
        let ops = ops::ids(&[
            "ce:GetCostAndUsage",
            "organizations:DescribeOrganization",
            "organizations:ListAccounts",
            "iam:GetAccountSummary",
        ]);
        for _ in 0..4 + self.rng.below(5) {
            t += 3 + self.rng.below(40) as i64;
            let op = *self.rng.pick(&ops);
            self.call(t, actor, op, USE1, 0, 0, CONSOLE, 0, ERR_NONE);
        }
    }

    fn trail_kms(&mut self, actor: u16) {
        let op = id("kms:GenerateDataKey");
        for k in 0..288i64 {
            for _ in 0..self.rng.poisson(self.org.scale) {
                let t = self.start + k * 300 + self.rng.below(300) as i64;
                self.call(t, actor, op, EUW1, 0, 0, 0, 0, ERR_NONE);
            }
        }
    }
}
