//! Ordinary activity of the tenant on one UTC day, as lightweight [`Rec`]s (who did what,
//! when, from where) that `records.rs` and `entra.rs` render.
//!
//! People work in their own office's local time (chrono-tz, so daylight-saving changes move
//! their UTC hours and nothing else): a weekday profile with a lunch dip, a few evening
//! sessions, almost nothing at weekends, about one day off in twenty. Every local hour of a
//! person is its own seeded stream, so a local hour that straddles UTC midnight (Kolkata's
//! half-hour offset, late evenings in Los Angeles) is generated identically by both days'
//! workers, each keeping its own part. Automation runs on UTC schedules (`automation.rs`).

use chrono::{Datelike, NaiveDate, Offset, TimeZone, Timelike, Weekday};

use super::super::rng::{hash, mix, unit, Rng};
use super::people::{Dept, Tenant, INTRANET, ONEDRIVE_FILES, SITES};

/// No fixed (labelled) id.
pub(crate) const NONE: u32 = u32::MAX;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Person(u16),
    /// The nightly backup application (SharePoint `app@sharepoint`, `application`).
    Backup,
    /// The Power Automate flow (`ServicePrincipal_<id>`, `service_principal`).
    Flow,
    /// `NT AUTHORITY\SYSTEM (Microsoft.Exchange.ServiceHost)` (`system`).
    ExchangeSystem,
    /// Microsoft's substrate management app in Entra audits (`service_principal`).
    Substrate,
}

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip {
    /// An office's egress, shared by everyone there.
    Office(u8),
    /// A person's home address.
    Home(u16),
    /// A literal address (hotel, attackers, Azure egress).
    Fixed(&'static str),
}

/// Which user agent a record carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ua {
    /// The person's browser.
    Browser,
    /// The person's Teams client.
    Teams,
    /// The OneDrive sync client.
    Sync,
    Fixed(&'static str),
}

/// Sign-in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInKind {
    Interactive,
    NonInteractive,
    ServicePrincipal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileOp {
    Accessed,
    Previewed,
    Modified,
    Downloaded,
    SyncDownloadedFull,
}

impl FileOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FileOp::Accessed => "FileAccessed",
            FileOp::Previewed => "FilePreviewed",
            FileOp::Modified => "FileModified",
            FileOp::Downloaded => "FileDownloaded",
            FileOp::SyncDownloadedFull => "FileSyncDownloadedFull",
        }
    }
}

/// A file: (team site, index) or (OneDrive owner, index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileRef {
    Site(u8, u32),
    OneDrive(u16, u32),
}

/// Exchange cmdlet `Parameters` as (Name, Value) in logged order.
pub(crate) type Params = Vec<(&'static str, String)>;

/// An Entra directory audit (rare: rendered from owned text).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DirAudit {
    pub activity: &'static str,
    /// `loggedByService`: `Conditional Access`, `Core Directory`.
    pub service: &'static str,
    /// Graph `category`: `Policy`, `UserManagement`.
    pub category: &'static str,
    /// `Add`, `Update`, `Delete`.
    pub op_type: &'static str,
    pub target_id: String,
    pub target_name: String,
    /// `Policy`, `User`.
    pub target_type: &'static str,
    pub target_upn: Option<String>,
    /// `(displayName, oldValue, newValue)`: values are the logged JSON text or null.
    pub props: Vec<(String, Option<String>, Option<String>)>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// An Entra sign-in through application `app` (index into [`super::entra::APPS`]);
    /// `error` 0 is success.
    SignIn {
        kind: SignInKind,
        app: u8,
        error: u32,
    },
    /// The unified audit log's Azure AD logon (`UserLoggedIn`, or `UserLoginFailed` when
    /// `error` is not 0).
    UserLoggedIn {
        app: u8,
        error: u32,
    },
    Teams,
    File {
        op: FileOp,
        file: FileRef,
    },
    /// `MailItemsAccessed` on the actor's own mailbox.
    Mail {
        items: u32,
    },
    /// An Exchange cmdlet; `object_id` names the mailbox (or the rule) it changed.
    Cmdlet {
        op: &'static str,
        object_id: String,
        params: Params,
    },
    Audit(Box<DirAudit>),
}

/// One record to render.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rec {
    /// Event time, Unix microseconds.
    pub t_us: i64,
    /// Stream and position in it: orders records with equal times.
    pub seq: u64,
    pub who: Who,
    pub ip: Ip,
    pub ua: Ua,
    pub body: Body,
    /// Index into the plan's fixed ids, or [`NONE`].
    pub fixed: u32,
}

/// Relative activity by local hour on a workday: office hours with a lunch dip and a few
/// evening sessions.
const WORKDAY: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.004, 0.05, 0.5, 1.0, 1.0, 0.9, 0.45, 0.8, 1.0, 0.95, 0.8, 0.4,
    0.12, 0.06, 0.08, 0.06, 0.02, 0.0,
];

/// Weight of local hour `h` for a person whose day starts `shift` hours late, normalised so
/// that a workday sums to 1.
pub(crate) fn hour_weight(h: u32, shift: i64) -> f64 {
    let total: f64 = WORKDAY.iter().sum();
    let i = h as i64 - shift;
    if (0..24).contains(&i) {
        WORKDAY[i as usize] / total
    } else {
        0.0
    }
}

/// True on the last three weekdays of a month (Finance closes the books then).
pub(crate) fn month_end(date: NaiveDate) -> bool {
    let mut later_weekdays = 0;
    let mut d = date;
    while let Some(next) = d.succ_opt() {
        if next.month() != date.month() {
            break;
        }
        if next.weekday().num_days_from_monday() < 5 {
            later_weekdays += 1;
        }
        d = next;
    }
    date.weekday().num_days_from_monday() < 5 && later_weekdays < 3
}

/// Stream ids (high bits of [`Rec::seq`]).
pub(crate) const STREAM_PLAN: u64 = 1;
const STREAM_PERSON: u64 = 2;
pub(super) const STREAM_BACKUP: u64 = 3;
pub(super) const STREAM_FLOW: u64 = 4;
pub(super) const STREAM_SYSTEM: u64 = 5;

/// Collects one UTC day's records.
pub(crate) struct Day<'a> {
    pub t: &'a Tenant,
    /// Unix seconds of 00:00 UTC.
    pub start: i64,
    pub out: Vec<Rec>,
}

impl<'a> Day<'a> {
    pub(crate) fn new(t: &'a Tenant, day: i64) -> Self {
        Day {
            t,
            start: day * 86_400,
            out: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, rec: Rec) {
        if (self.start * 1_000_000..(self.start + 86_400) * 1_000_000).contains(&rec.t_us) {
            self.out.push(rec);
        }
    }

    /// Everything but the planned events.
    pub(crate) fn ordinary(&mut self) {
        for i in 0..self.t.people.len() as u16 {
            self.person(i);
        }
        self.backup();
        self.flow();
        self.system();
    }

    /// Person `i`'s local hours that overlap this UTC day.
    fn person(&mut self, i: u16) {
        let t = self.t;
        let p = &t.people[i as usize];
        let tz = p.tz();
        for k in -2..25i64 {
            let slot = self.start + k * 3600;
            let off = tz
                .offset_from_utc_datetime(
                    &chrono::DateTime::from_timestamp(slot, 0)
                        .unwrap_or_default()
                        .naive_utc(),
                )
                .fix();
            let hour_start = slot - (off.local_minus_utc() as i64).rem_euclid(3600);
            if hour_start + 3600 <= self.start || hour_start >= self.start + 86_400 {
                continue;
            }
            let local = chrono::DateTime::from_timestamp(hour_start, 0)
                .unwrap_or_default()
                .with_timezone(&tz);
            let date = local.date_naive();
            let day_num = date
                .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
                .num_days();
            if !t.is_active(i, day_num) {
                continue;
            }
            let day_hash = hash(&[t.seed, 0xd0ff, i as u64, day_num as u64]);
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            let factor = if weekend {
                0.03
            } else if unit(day_hash) < 0.05 && i != t.newcomer {
                0.0 // a day off
            } else {
                1.0
            };
            let travelling = i == t.traveller && t.travel_days.contains(&day_num);
            if travelling && !(8..18).contains(&local.hour()) {
                continue; // at the hotel only during the working day
            }
            let w = hour_weight(local.hour(), p.shift) * factor;
            if w == 0.0 {
                continue;
            }
            let at_office = unit(mix(day_hash)) < p.office_share && (7..19).contains(&local.hour());
            let ip = if travelling {
                Ip::Fixed(super::people::HOTEL_IP)
            } else if at_office || i == t.newcomer {
                Ip::Office(p.office)
            } else {
                Ip::Home(i)
            };
            let mut rng = Rng::new(hash(&[t.seed, 0x4077, i as u64, hour_start as u64]));
            // Stream bits: person (48..56), local hour (24..48), record number (0..24).
            let stream = STREAM_PERSON << 56
                | (i as u64) << 48
                | ((hour_start / 1800) as u64 & 0xff_ffff) << 24;
            let mut n = 0u64;
            let at = |rng: &mut Rng| hour_start * 1_000_000 + rng.below(3_600_000_000) as i64;
            let rec = |rng: &mut Rng, body: Body, ua: Ua, n: &mut u64| {
                *n += 1;
                Rec {
                    t_us: at(rng),
                    seq: stream | *n,
                    who: Who::Person(i),
                    ip,
                    ua,
                    body,
                    fixed: NONE,
                }
            };
            let scale = t.scale;
            let user_apps: &[u8] = if p.admin {
                &[0, 1, 2, 3, 5, 5, 6]
            } else {
                &[0, 1, 2, 3, 4]
            };
            for _ in 0..rng.poisson(p.signins * w) {
                let app = *rng.pick(user_apps);
                let error = if rng.chance(0.04) {
                    *rng.pick(&[50126u32, 50074])
                } else {
                    0
                };
                let r = rec(
                    &mut rng,
                    Body::SignIn {
                        kind: SignInKind::Interactive,
                        app,
                        error,
                    },
                    Ua::Browser,
                    &mut n,
                );
                let mut logon = r.clone();
                logon.t_us += 1_000_000 + rng.below(2_000_000) as i64;
                n += 1;
                logon.seq = stream | n;
                logon.body = Body::UserLoggedIn { app, error };
                self.push(r);
                self.push(logon);
            }
            for _ in 0..rng.poisson(25.0 * scale * w) {
                let app = *rng.pick(&[1u8, 4, 4, 3]);
                let r = rec(
                    &mut rng,
                    Body::SignIn {
                        kind: SignInKind::NonInteractive,
                        app,
                        error: 0,
                    },
                    Ua::Teams,
                    &mut n,
                );
                self.push(r);
            }
            for _ in 0..rng.poisson(p.teams * w) {
                let r = rec(&mut rng, Body::Teams, Ua::Teams, &mut n);
                self.push(r);
            }
            let peak = if p.dept == Dept::Finance && month_end(date) {
                3.0
            } else {
                1.0
            };
            for _ in 0..rng.poisson((p.files + p.heavy * scale) * w * peak) {
                let file = self.pick_file(&mut rng, i);
                let op = match rng.weighted(&[0.55, 0.15, 0.12, 0.10, 0.08]) {
                    0 => FileOp::Accessed,
                    1 => FileOp::Previewed,
                    2 => FileOp::Modified,
                    3 => FileOp::Downloaded,
                    _ => FileOp::SyncDownloadedFull,
                };
                let ua = if op == FileOp::SyncDownloadedFull {
                    Ua::Sync
                } else {
                    Ua::Browser
                };
                let r = rec(&mut rng, Body::File { op, file }, ua, &mut n);
                self.push(r);
            }
            for _ in 0..rng.poisson(40.0 * scale * w) {
                let items = 1 + rng.below(12) as u32;
                let r = rec(&mut rng, Body::Mail { items }, Ua::Browser, &mut n);
                self.push(r);
            }
            for _ in 0..rng.poisson(p.mailbox_chores * w) {
                let body = self.mailbox_chore(&mut rng);
                let r = rec(&mut rng, body, Ua::Browser, &mut n);
                self.push(r);
            }
        }
    }

    /// An admin's routine change to someone's mailbox: never a forwarding parameter.
    fn mailbox_chore(&self, rng: &mut Rng) -> Body {
        let people = &self.t.people;
        let target = &people[rng.below(people.len() as u64) as usize];
        let (op, name, value) = *rng.pick(&[
            (
                "Set-Mailbox",
                "ProhibitSendQuota",
                "49.5 GB (53,150,220,288 bytes)",
            ),
            ("Set-Mailbox", "LitigationHoldEnabled", "True"),
            (
                "Set-Mailbox",
                "RetentionPolicy",
                "Fabrikam 7-year retention",
            ),
            ("Set-Mailbox", "MessageCopyForSentAsEnabled", "True"),
            ("Set-CASMailbox", "ActiveSyncEnabled", "False"),
            ("Set-CASMailbox", "OWAEnabled", "True"),
        ]);
        Body::Cmdlet {
            op,
            object_id: target.mailbox_path(),
            params: vec![("Identity", target.upn.clone()), (name, value.to_string())],
        }
    }

    /// A file a person opens: mostly the department's site, then OneDrive and the intranet;
    /// popular files far more often (a power law over the site's list).
    fn pick_file(&self, rng: &mut Rng, i: u16) -> FileRef {
        let p = &self.t.people[i as usize];
        let skewed = |rng: &mut Rng, n: u32| ((n as f64) * rng.f64().powf(2.5)) as u32 % n;
        match rng.weighted(&[0.6, 0.25, 0.15]) {
            0 => {
                let s = p.dept.site();
                FileRef::Site(s as u8, skewed(rng, SITES[s].files))
            }
            1 => FileRef::OneDrive(i, skewed(rng, ONEDRIVE_FILES)),
            _ => FileRef::Site(INTRANET as u8, skewed(rng, SITES[INTRANET].files)),
        }
    }
}
