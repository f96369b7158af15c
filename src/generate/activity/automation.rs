//! Automation and rare principals: Terraform CI runs (drift plans, office-hours plans and
//! applies, the nightly apply), AWS Config and the security scanner's sweeps, the nightly
//! backup script, the root user's billing sign-ins, and CloudTrail's log-file encryption.

use super::super::ops::{self, id};
use super::super::org::{EUW1, UNUSED, USE1};
use super::super::rng::{hash, unit};
use super::{weekday, Day, CONSOLE, ERR_NONE, ERR_THROTTLED, NONE};

impl Day<'_> {
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

    pub(super) fn ci(&mut self, actor: u16, webid: u16) {
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

    pub(super) fn config(&mut self, actor: u16) {
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

    pub(super) fn scanner(&mut self, actor: u16) {
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

    pub(super) fn backup(&mut self, actor: u16) {
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

    pub(super) fn root(&mut self, actor: u16) {
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

    pub(super) fn trail_kms(&mut self, actor: u16) {
        let op = id("kms:GenerateDataKey");
        for k in 0..288i64 {
            for _ in 0..self.rng.poisson(self.org.scale) {
                let t = self.start + k * 300 + self.rng.below(300) as i64;
                self.call(t, actor, op, EUW1, 0, 0, 0, 0, ERR_NONE);
            }
        }
    }
}
