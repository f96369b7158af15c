//! People's working days: sessions in their office hours (lunch dip, days off, rare
//! evening or weekend on-call), console sign-ins, reads and writes of their focus areas,
//! and the steady secret reads of the few who have them.

use super::super::ops::id;
use super::super::org::{Ident, Person, USE1};
use super::super::rng::{hash, unit};
use super::{person_intensity, weekday, Day, CONSOLE, ERR_DENIED, ERR_NONE, ERR_USUAL, NONE};

impl Day<'_> {
    pub(super) fn person(&mut self, actor: u16, p: &Person) {
        let org = self.org;
        let a = &org.actors[actor as usize];
        let acct = &org.accounts[self.account as usize];
        let scale = org.scale;
        let internal = (a.srcs.len() - 1) as u8; // "AWS Internal" is last
        let iam_user = matches!(a.ident, Ident::IamUser { .. });
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
}
