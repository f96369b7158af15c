//! Workloads: EC2 fleets (SSM heartbeats every 5 minutes, weekly instance replacement,
//! application calls), Lambda functions on a daily load curve, and the steady Poisson secret
//! reads of both.

use super::super::ops::id;
use super::super::org::{Fleet, LambdaFn};
use super::super::rng::hash;
use super::{person_intensity, weekday, Day, ERR_NONE, ERR_USUAL, NONE};

impl Day<'_> {
    pub(super) fn fleet(&mut self, actor: u16, f: &Fleet) {
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

    pub(super) fn lambda(&mut self, actor: u16, l: &LambdaFn) {
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
}
