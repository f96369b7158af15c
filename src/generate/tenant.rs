//! The synthetic Microsoft 365 / Entra ID tenant `Fabrikam Sift` (tenant id
//! `5d2c7a1f-4e68-4b3a-9f0e-8c41a57e0b3f`, domains `fabrikam-sift.com` and
//! `fabrikamsift.onmicrosoft.com`), written beside the AWS organisation over the same days,
//! seed and scale.
//!
//! # What it writes
//! - `OUT/Microsoft365/<YYYY-MM-DD>/<contentId>.json`: Office 365 Management Activity API
//!   content blobs, each a JSON array of audit records of one content type
//!   (`Audit.SharePoint`, `Audit.Exchange`, `Audit.General`, `Audit.AzureActiveDirectory`)
//!   delivered in one hour. The content id has the API's shape
//!   (`<start><ms><n>$<end><ms><n>$audit_sharepoint$Audit_SharePoint$emea0021`) and the
//!   folder is the delivery date: records arrive 10–60 minutes late (80 %), up to 6 hours
//!   (17 %) or up to 20 hours (3 %), so a record can sit in a blob of a later hour or day.
//! - `OUT/EntraID/<YYYY-MM-DD>/PT1H-<HH>.json`: Entra diagnostic-setting records as Azure
//!   Monitor appends them to storage, one JSON object per line, per hour of the event time
//!   (sign-ins of the three sign-in logs and directory audits mixed).
//! - `OUT/directory.csv` (`user_principal_name,time_zone,peer_group`: every person, IANA
//!   zone of their office, department) and `OUT/change_requests.csv`
//!   (`ticket_id,actor,target,start,end`: the approved conditional-access changes; `actor`
//!   is the lower-case UPN, `target` the policy id, times RFC 3339 UTC).
//! - The tenant's [`AttackLabel`]s, which `generate` appends to `labels.jsonl`
//!   (`account_uid` = tenant id, `actor_uid` = lower-case UPN).
//!
//! # The tenant
//! Thirty people in Finance (6), Engineering (9), Sales (8), HR (3) and IT (4, admins) in
//! offices in Berlin, London, New York, Los Angeles and Bengaluru, working in their local
//! office hours (daylight-saving changes included: the US on 2024-03-10, the EU on
//! 2024-03-31) from their office's shared egress address or their home address (a few over
//! IPv6). Per workday a person has 3–8 interactive sign-ins (each also an Azure AD
//! `UserLoggedIn`), 2–5 Teams sessions and 10–26 SharePoint/OneDrive file operations;
//! heavy users add 40–160 × scale more. Non-interactive sign-ins (25 × scale) and
//! `MailItemsAccessed` (40 × scale) fill in. Automation: the `SiftVault Backup` app
//! (`app@sharepoint`, actor type `application`) downloads about 2,400 × scale files every
//! night; the `Invoice Intake` Power Automate flow (`ServicePrincipal_<id>`,
//! `service_principal`) touches Finance files every 15 minutes on weekdays; Exchange's
//! system account (`system`) sets retention on a mailbox about daily; Microsoft's substrate
//! app updates a few users a day in Entra. The Exchange admin and the help desk make routine
//! mailbox changes (quotas, holds, client access; never forwarding) most workdays.
//!
//! # Attacks (last six days; see `attacks.rs`)
//! | id | analytic | what |
//! |---|---|---|
//! | `M1-session-new-ip-night` | `session_anomaly` (T1078.004) | `maria.gonzalez`, new address, 02:07–03:35 New York time, 19 sign-ins + 6 Teams sessions |
//! | `M2-sharepoint-mass-download` | `file_access_anomaly` (T1213.002) | `oliver.hughes` (≈ 20 files/day) downloads 340 distinct files in 50 min, new address, `python-requests/2.31.0` |
//! | `M3-inbox-rule-external-forward` | `mail_forwarding_rule` (T1114.003) | `katrin.vogel` creates a rule forwarding to `collector@proton-mail.example`, deleting, stopping processing |
//! | `M4-admin-sets-mailbox-forwarding` | `mail_forwarding_rule` (T1114.003) | admin `dan.whitaker` forwards the CFO's and a controller's mailboxes to `fin.reports@mailvault.example` |
//! | `M5-ca-policy-weakened` | `conditional_access_change` (T1556.009) | admin `lukas.weber` disables "Require MFA for all users", no ticket |
//! | `M5-ca-policy-deleted` | `conditional_access_change` (T1556.009) | the same session deletes "Require MFA for administrators", no ticket |
//!
//! # Benign look-alikes (must stay below medium; see `planned.rs`)
//! The new employee `jordan.reyes` (first day end − 6, office address only, peer-like
//! volume); `hannah.scott` travelling (end − 4 and − 3 from a hotel address nobody else
//! uses, office hours only, normal volume: at most a low finding); the DST changes; internal
//! forwarding (an inbox rule to a colleague, an admin forwarding a colleague's mailbox on
//! leave, and clearing it); inbox rules moving newsletters and notifications (one marks them
//! read); three conditional-access changes each inside a change request (one of them adds an
//! exclusion, a weakening); the month-end peak of the whole Finance group (3× file
//! operations on the last three weekdays of the month); the backup's nightly mass download.
//! With fewer than seven days the special days are clamped into the period.

mod activity;
mod attacks;
mod automation;
mod entra;
use super::json;
mod people;
mod planned;
mod records;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::DateTime;
use rayon::prelude::*;

use super::attacks::AttackLabel;
use super::rng::{hash, Rng};
use crate::{Error, Result};
use activity::{Day, NONE};
use records::{Content, Render, Sink};

/// Folders under `OUT` that hold the tenant's logs.
pub(crate) const FOLDERS: [&str; 2] = ["Microsoft365", "EntraID"];

/// What the tenant generator wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantSummary {
    /// Management Activity API content blobs (`Microsoft365/**.json`).
    pub m365_blobs: u64,
    /// Audit records in them.
    pub m365_records: u64,
    /// Hourly Entra files (`EntraID/**/PT1H-HH.json`).
    pub entra_files: u64,
    /// Entra records (lines) in them.
    pub entra_records: u64,
    /// Bytes of JSON written (both sources).
    pub bytes: u64,
    /// Tenant attack labels (lines appended to `labels.jsonl`).
    pub attacks: u64,
}

impl std::ops::AddAssign for TenantSummary {
    fn add_assign(&mut self, o: Self) {
        self.m365_blobs += o.m365_blobs;
        self.m365_records += o.m365_records;
        self.entra_files += o.entra_files;
        self.entra_records += o.entra_records;
        self.bytes += o.bytes;
        self.attacks += o.attacks;
    }
}

/// Writes the tenant for days `first..=last` (days since the epoch) under `out`; adds the
/// number of records written to `written` as it goes. Returns the summary and the labels.
///
/// # Errors
/// [`Error::Io`] (with the path) when a folder or file cannot be written.
pub(crate) fn write(
    out: &Path,
    seed: u64,
    scale: f64,
    first: i64,
    last: i64,
    written: &AtomicU64,
) -> Result<(TenantSummary, Vec<AttackLabel>)> {
    let t = people::Tenant::build(seed, scale, first, last);
    let plan = attacks::plan(&t);
    let mut summary = (first..=last)
        .into_par_iter()
        .map(|d| write_day(&t, &plan, out, d, written))
        .try_reduce(TenantSummary::default, |mut a, b| {
            a += b;
            Ok(a)
        })?;
    write_file(&out.join("directory.csv"), directory_csv(&t).as_bytes())?;
    write_file(
        &out.join("change_requests.csv"),
        tickets_csv(&plan.tickets).as_bytes(),
    )?;
    summary.attacks = plan.labels.len() as u64;
    Ok((summary, plan.labels))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn make_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn date_of(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Delay between an event and the content blob that carries it, in seconds.
fn delivery_delay(rng: &mut Rng) -> i64 {
    let u = rng.f64();
    if u < 0.80 {
        rng.range(600, 3600)
    } else if u < 0.97 {
        rng.range(3600, 6 * 3600)
    } else {
        rng.range(6 * 3600, 20 * 3600)
    }
}

/// The content id of a blob: window start and end stamps, the content type, a region.
/// `day` (the generating day) makes ids unique when two days deliver into one hour.
fn content_id(seed: u64, day: i64, window: i64, c: Content) -> String {
    let h = hash(&[seed, 0xb10b, day as u64, window as u64, c as u64]);
    let stamp = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .format("%Y%m%d%H%M%S")
            .to_string()
    };
    let n1 = (h % 100_000) * 10 + (day & 1) as u64;
    let n2 = ((h >> 20) % 100_000) * 10 + (day & 1) as u64;
    let name = c.name().replace('.', "_");
    format!(
        "{}{:03}{n1:06}${}{:03}{n2:06}${}${name}$emea{:04}",
        stamp(window * 3600 + (h >> 40) as i64 % 60),
        (h >> 8) % 1000,
        stamp(window * 3600 + 3599),
        (h >> 30) % 1000,
        name.to_lowercase(),
        10 + (h >> 50) % 30
    )
}

/// Generates, renders and writes one UTC day of the tenant.
fn write_day(
    t: &people::Tenant,
    plan: &attacks::Plan,
    out: &Path,
    day: i64,
    written: &AtomicU64,
) -> Result<TenantSummary> {
    let mut d = Day::new(t, day);
    d.ordinary();
    let mut recs = d.out;
    recs.extend(
        plan.recs
            .iter()
            .filter(|r| r.t_us.div_euclid(86_400_000_000) == day)
            .cloned(),
    );
    recs.sort_unstable_by_key(|r| (r.t_us, r.seq));

    let render = Render { t };
    let mut rng = Rng::new(hash(&[t.seed, 0x7e2a, day as u64]));
    let mut blobs: BTreeMap<(i64, Content), (Vec<u8>, u64)> = BTreeMap::new();
    let mut hours: Vec<(Vec<u8>, u64)> = vec![(Vec::new(), 0); 24];
    for r in &recs {
        let fresh;
        let id = if r.fixed == NONE {
            fresh = records::new_id(&r.body, &mut rng);
            fresh.as_str()
        } else {
            plan.ids[r.fixed as usize].as_str()
        };
        match records::sink(&r.body) {
            Sink::Entra => {
                let h = (r.t_us.div_euclid(1_000_000) - day * 86_400) / 3600;
                let (buf, n) = &mut hours[h as usize];
                render.entra(buf, r, id, &mut rng);
                *n += 1;
            }
            Sink::M365(c) => {
                let window =
                    (r.t_us.div_euclid(1_000_000) + delivery_delay(&mut rng)).div_euclid(3600);
                let (buf, n) = blobs.entry((window, c)).or_default();
                buf.push(if *n == 0 { b'[' } else { b',' });
                render.m365(buf, r, id, &mut rng);
                *n += 1;
            }
        }
    }

    let mut s = TenantSummary::default();
    let mut made = String::new();
    for ((window, c), (mut buf, n)) in blobs {
        buf.push(b']');
        let date = date_of(window * 3600);
        let dir = out.join("Microsoft365").join(&date);
        if made != date {
            make_dir(&dir)?;
            made = date;
        }
        write_file(
            &dir.join(format!("{}.json", content_id(t.seed, day, window, c))),
            &buf,
        )?;
        s.m365_blobs += 1;
        s.m365_records += n;
        s.bytes += buf.len() as u64;
    }
    let date = date_of(day * 86_400);
    let dir = out.join("EntraID").join(&date);
    for (h, (buf, n)) in hours.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        if s.entra_files == 0 {
            make_dir(&dir)?;
        }
        write_file(&dir.join(format!("PT1H-{h:02}.json")), buf)?;
        s.entra_files += 1;
        s.entra_records += n;
        s.bytes += buf.len() as u64;
    }
    written.fetch_add(s.m365_records + s.entra_records, Ordering::Relaxed);
    Ok(s)
}

fn directory_csv(t: &people::Tenant) -> String {
    let mut s = String::from("user_principal_name,time_zone,peer_group\n");
    for p in &t.people {
        s.push_str(&format!("{},{},{}\n", p.upn, p.tz().name(), p.dept.name()));
    }
    s
}

fn tickets_csv(tickets: &[attacks::Ticket]) -> String {
    let mut s = String::from("ticket_id,actor,target,start,end\n");
    for k in tickets {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            k.id,
            k.actor,
            k.target,
            attacks::rfc3339(k.start),
            attacks::rfc3339(k.end)
        ));
    }
    s
}

#[cfg(test)]
mod tests;
