//! `cloudsift generate`: a synthetic AWS organisation's CloudTrail logs, a Microsoft 365 /
//! Entra ID tenant's audit logs and an Azure subscription set and GCP project set over the
//! same days, with labelled attacks, for demos, tests, evaluation (precision/recall per
//! analytic) and benchmarks.
//!
//! # What it writes
//! - `OUT/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<16 alnum>.json.gz`:
//!   real CloudTrail S3 objects, each a gzip of `{"Records":[...]}` holding one account's
//!   records of one region delivered in one 5-minute window (only windows with events get an
//!   object). As in real trails, the key's date and time are the *delivery* time: a record
//!   can sit in a file of a later window, or of the next day.
//! - `OUT/Microsoft365/<YYYY-MM-DD>/<contentId>.json`: Office 365 Management Activity API
//!   content blobs (JSON arrays of audit records of one content type, delivered per hour,
//!   dated by delivery), and `OUT/EntraID/<YYYY-MM-DD>/PT1H-<HH>.json`: Entra sign-in and
//!   audit diagnostic records as Azure Monitor writes them to storage (JSON lines).
//! - `OUT/directory.csv` (`user_principal_name,time_zone,peer_group`) and
//!   `OUT/change_requests.csv` (`ticket_id,actor,target,start,end`): the side tables the
//!   session, file-access and conditional-access analytics read.
//! - `OUT/Azure/ActivityLog/resourceId=/SUBSCRIPTIONS/<SUB>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`
//!   and `OUT/Azure/KeyVault/resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/<VAULT>/y=…/PT1H.json`:
//!   Azure Activity and Key Vault `AuditEvent` records as diagnostic settings write them to a
//!   storage account (JSON lines); `OUT/GCP/cloudaudit.googleapis.com/{activity,data_access}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`:
//!   Cloud Audit Logs entries as a log sink exports them to Cloud Storage (`cloud.rs`).
//! - `OUT/labels.jsonl`: one [`AttackLabel`] per injected attack, the AWS ones (A1–A7)
//!   first, then the tenant's (M1–M5), then the Azure (Z1–Z5) and GCP (G1–G5) ones.
//!
//! # The organisation
//! Four accounts — `mgmt` 210987654321 (us-east-1), `prod` 318273645560 (eu-west-1 +
//! eu-central-1), `staging` 427182930455 and `security` 536271849302 (eu-west-1); IAM and
//! other global services log in us-east-1. Principals:
//! - ten people using IAM Identity Center permission sets (`AssumedRole` of
//!   `aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_<set>_<hex>` with the e-mail as
//!   session name), working in their office hours (UTC+1, UTC+0 or UTC−5) on weekdays, from a
//!   stable office or home address (some over IPv6), in the console or the CLI;
//! - IAM users: two people in prod (`marc.dubois`; `lena.fischer`, who reads about ten secrets
//!   every working hour), the nightly `svc-backup` script, and the root user signing in for
//!   billing about every two weeks;
//! - workloads: EC2 instance roles (`app-server-role`, session `i-…`, SSM heartbeats every
//!   5 minutes, instances replaced about weekly), Lambda execution roles (session = function
//!   name) with steady hourly secret reads;
//! - automation: Terraform in GitHub Actions (`github-actions-terraform`, via
//!   `AssumeRoleWithWebIdentity`; user agent `APN/1.0 HashiCorp/1.0 Terraform/…`; runner
//!   addresses change per run; drift plans every 6 h, a nightly apply that calls
//!   `UpdateTrail`, plans and applies in office hours), the AWS Config service-linked role,
//!   a cross-account `security-audit` scanner every 4 h (with a daily sweep of three unused
//!   regions), and AWS services (`AWSService` with `invokedBy`: EC2 and Lambda assuming roles,
//!   CloudTrail encrypting log files; Secrets Manager decrypting on a caller's behalf).
//!
//! # Attacks (`labels.jsonl`)
//! | id | analytic | what | day |
//! |---|---|---|---|
//! | `A1-stoplogging` | `logging_disabled` (T1562.008) | IAM user `marc.dubois` (stolen key, new IP) stops the prod trail after recon | end − 3, 21:47 |
//! | `A2-deletetrail` | `logging_disabled` (T1562.008) | the staging PowerUser SSO role, from a new IP, deletes the staging trail | end − 2, 03:12 |
//! | `A3-puteventselectors` | `logging_disabled` (T1562.008) | the prod EC2 instance role turns management events off | end − 1, 14:05 |
//! | `A4-secret-burst` | `secret_access_volume` (T1555.006) | Lambda role `billing-worker-role` (history ≈ 1 read/hour) reads 60 secrets in an hour | end − 1, 02:00 |
//! | `A5-new-principal-secrets` | `secret_access_volume` (T1555.006) | brand-new IAM user `svc-reporting-tmp` reads 45 secrets | end, 10:20 |
//! | `A6-bedrock-llmjacking` | `model_invocation_volume` (T1496.004) | the same stolen key as A1 invokes a Bedrock model 240 times in about three hours; the account never used Bedrock | end − 4, 01:02 |
//! | `A7-trail-stopped-overnight` | `log_source_silence` (T1562.008) | the leaked key of the forgotten staging IAM user `jenkins-legacy` stops the staging trail and starts it again seven hours later; no staging record is delivered in between | end − 20, 01:38–08:57 |
//!
//! None of these principals made its labelled call before. Benign look-alikes in the ordinary
//! activity: the CI role calls `UpdateTrail` every night in every account, and IAM user
//! `lena.fischer` reads about ten secrets in every working hour. An attack dated before the
//! first day (A1–A6 with fewer than five days, A7 with fewer than 21) happens on the first
//! day, with little history before it.
//!
//! # The Microsoft tenant (`tenant.rs`)
//! `Fabrikam Sift` (tenant id `5d2c7a1f-4e68-4b3a-9f0e-8c41a57e0b3f`, domains
//! `fabrikam-sift.com`, `fabrikamsift.onmicrosoft.com`): thirty people in Finance,
//! Engineering, Sales, HR and IT, in Berlin, London, New York, Los Angeles and Bengaluru,
//! working in their local office hours with daylight-saving changes (chrono-tz), from their
//! office's shared address or home; sign-ins, Teams sessions, SharePoint/OneDrive file
//! operations (heavy-tailed), mail access; a backup app downloading thousands of files every
//! night (`application`), a Power Automate flow (`service_principal`), Exchange's system
//! account (`system`), admins' mailbox changes and planned conditional-access changes.
//!
//! | id | analytic | what | day (local time) |
//! |---|---|---|---|
//! | `M1-session-new-ip-night` | `session_anomaly` (T1078.004) | `maria.gonzalez` from a new address: 19 interactive sign-ins and 6 Teams sessions in under 2 h | end − 4, 02:07 New York |
//! | `M2-sharepoint-mass-download` | `file_access_anomaly` (T1213.002) | `oliver.hughes` (≈ 20 files/day) downloads 340 distinct files in 50 min, new address, `python-requests/2.31.0` | end − 3, 13:05 London |
//! | `M3-inbox-rule-external-forward` | `mail_forwarding_rule` (T1114.003) | `katrin.vogel` creates a rule forwarding to `collector@proton-mail.example`, deleting and stopping processing | end − 2, 17:38 Berlin |
//! | `M4-admin-sets-mailbox-forwarding` | `mail_forwarding_rule` (T1114.003) | IT admin `dan.whitaker` sets `ForwardingSmtpAddress` of the CFO's and a controller's mailboxes to one external address | end − 5, 18:12 New York |
//! | `M5-ca-policy-weakened` | `conditional_access_change` (T1556.009) | IT admin `lukas.weber` disables "Require MFA for all users", no change request | end − 2, 14:41 Berlin |
//! | `M5-ca-policy-deleted` | `conditional_access_change` (T1556.009) | the same session deletes "Require MFA for administrators" | end − 2, 14:53 Berlin |
//!
//! Benign look-alikes: a new employee in the last week (office address only, peer-like
//! volume), a user travelling for two days (hotel address nobody else uses, office hours,
//! normal volume), the US and EU daylight-saving changes, internal forwarding (a user's rule
//! to a colleague, an admin forwarding a colleague's mailbox during leave), inbox rules
//! moving newsletters, three conditional-access changes inside change requests, the Finance
//! group's month-end file peak, the backup's nightly mass download.
//!
//! # The Azure and GCP estate (`cloud.rs`)
//! Subscriptions `fabrikam-prod`, `fabrikam-dev` and `fabrikam-shared-security` (tenant of
//! the Microsoft 365 tenant) and projects `sift-prod-4821`, `sift-dev-2273`,
//! `sift-sec-9914`: people in office hours, Terraform (a service principal; a service
//! account impersonated through workload identity federation) re-applying settings every
//! night, CI deploys of Function Apps and Cloud Functions, managed identities and workload
//! service accounts reading secrets steadily, a CSPM scanner listing everything every six
//! hours.
//!
//! | id | analytic | what | day (UTC) |
//! |---|---|---|---|
//! | `Z1-diagnostic-setting-deleted` | `logging_disabled` (T1562.008) | developer `sofia.rossi`, new address, deletes the prod Function App's diagnostic setting | end − 3, 22:14 |
//! | `Z2-keyvault-secret-sweep` | `secret_access_volume` (T1555.006) | `tom.becker` (≈ 2 dev secrets a day) reads 48 prod secret versions in 30 min | end − 2, 01:20 |
//! | `Z3-subscription-moved` | `resource_hierarchy_change` (T1666) | FinOps `marek.novak` creates a management group and moves the dev subscription into it | end − 4, 19:40 |
//! | `Z4-eventgrid-webhook` | `event_trigger_created` (T1546) | `sp-reporting-sync` subscribes an external webhook to prod blob events | end − 1, 11:05 |
//! | `Z5-quota-increase` | `quota_increase` (T1496.004) | `nina.berg` raises the A100 quota in three regions | end − 5, 23:30 |
//! | `G1-log-sink-disabled` | `logging_disabled` (T1562.008) | `kai.schmidt` disables the prod audit sink and deletes the archive sink | end − 3, 20:02 |
//! | `G2-sa-enumeration` | `enumeration_burst` (T1580) | the CI service account's leaked key calls 14 discovery methods ≈ 100 times in three projects | end − 2, 16:10 |
//! | `G3-cloud-function-new-principal` | `serverless_change` (T1648) | workload SA `orders-api@` creates a Cloud Function and makes it public | end − 1, 09:47 |
//! | `G4-vertex-api-enabled` | `region_or_service_enabled` (T1496.004) | data analyst `omar.haddad` enables Vertex AI | end − 4, 13:20 |
//! | `G5-gpu-quota-preferences` | `quota_increase` (T1496.004) | the same session asks for A100 GPUs in three regions | end − 4, 13:31 |
//!
//! Benign hard cases: a Terraform deployment burst (end − 9), an automation rollout
//! (mid-period), a developer's role change to admin work (end − 13), two holidays
//! (end − 17, − 16), weekends, and the nightly re-application of sinks and diagnostic
//! settings (logging kept on). About 17,000 records over 30 days at scale 0.05.
//!
//! # Volume and speed
//! `scale` multiplies the routine volume (fleet sizes, console/CLI session lengths, CI reads,
//! Config and scanner sweeps) but not the secret-read rates or the attacks, so the anomalies
//! stay anomalous at any scale. Scale 1.0 gives about 24 MB of JSON (≈ 16,000 records) per
//! day on average (weekdays more, weekends less). In the tenant it multiplies the
//! automation, mail-access and token-refresh volumes and heavy users' extra file access, not
//! the number of people nor their sign-ins, sessions and ordinary file access: about 5,600
//! records (7 MB of JSON) per weekday at scale 1.0 and 1,150 at 0.05 (about 2,500 and 170
//! on weekend days). Account-days and tenant days are generated in parallel (rayon), each
//! from its own seeded streams (the tenant's per person and local hour), so output is
//! byte-identical for the same options whatever the thread count; memory is one account-day
//! (or tenant day, with its blobs) of small event descriptions plus one object's JSON per
//! thread. Thirty days take about 10 s at scale 0.05 and 30 s at 1.0 on two cores, of which
//! the tenant takes 1–2 s.

mod activity;
mod attacks;
mod cloud;
mod json;
mod ops;
mod org;
mod record;
mod rng;
mod tenant;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate};
use flate2::write::GzEncoder;
use flate2::Compression;
use rayon::prelude::*;

pub use attacks::AttackLabel;
pub use cloud::CloudSummary;
pub use tenant::TenantSummary;

use crate::{Error, Result};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Output folder; `AWSLogs/`, `Microsoft365/`, `EntraID/`, `Azure/`, `GCP/`, the two
    /// CSV side tables and `labels.jsonl` are written inside it. It must not already hold
    /// any of the five log folders with files (corpora of different options must not mix).
    pub out: PathBuf,
    /// Number of days, ending with `end` (at least 1).
    pub days: u32,
    /// Seed: the same options give byte-identical output.
    pub seed: u64,
    /// Last day generated (UTC).
    pub end: NaiveDate,
    /// Multiplies routine event volume; 1.0 ≈ 24 MB of uncompressed JSON per day (20–40).
    pub scale: f64,
}

impl GenerateOptions {
    /// Default number of days.
    pub const DEFAULT_DAYS: u32 = 30;
    /// Default seed.
    pub const DEFAULT_SEED: u64 = 7;

    /// Default last day: a fixed date, so that a default run is reproducible.
    pub fn default_end() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 31).expect("valid date")
    }

    /// Options with the defaults: 30 days ending 2024-03-31, seed 7, scale 1.0.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        GenerateOptions {
            out: out.into(),
            days: Self::DEFAULT_DAYS,
            seed: Self::DEFAULT_SEED,
            end: Self::default_end(),
            scale: 1.0,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    /// CloudTrail objects (`.json.gz` files).
    pub objects: u64,
    /// CloudTrail records, attacks included.
    pub events: u64,
    /// Bytes of CloudTrail JSON before compression.
    pub uncompressed_bytes: u64,
    /// Lines in `labels.jsonl` (AWS, tenant, Azure and GCP attacks).
    pub attacks: u64,
    /// The Microsoft 365 / Entra ID tenant.
    pub tenant: TenantSummary,
    /// The Azure subscriptions and GCP projects.
    pub cloud: CloudSummary,
}

impl std::ops::AddAssign for GenerateSummary {
    fn add_assign(&mut self, o: Self) {
        self.objects += o.objects;
        self.events += o.events;
        self.uncompressed_bytes += o.uncompressed_bytes;
        self.attacks += o.attacks;
        self.tenant += o.tenant;
        self.cloud += o.cloud;
    }
}

/// Writes the corpus described by `opts`. `progress` is called from the calling thread
/// about ten times a second with the number of records written so far, and once at the end.
///
/// # Errors
/// [`Error::Config`] for bad options or an output folder that already holds `AWSLogs/`,
/// `Microsoft365/`, `EntraID/`, `Azure/` or `GCP/` with files;
/// [`Error::Io`] (with the path) when a folder or file cannot be written.
pub fn generate(opts: &GenerateOptions, progress: &dyn Fn(u64)) -> Result<GenerateSummary> {
    if opts.days == 0 || opts.days > 3660 {
        return Err(Error::config(
            "generate.days",
            format!("must be between 1 and 3660, not {}", opts.days),
        ));
    }
    if !(opts.scale.is_finite() && opts.scale > 0.0 && opts.scale <= 10_000.0) {
        return Err(Error::config(
            "generate.scale",
            format!(
                "must be a number above 0 (and at most 10000), not {}",
                opts.scale
            ),
        ));
    }
    for folder in std::iter::once("AWSLogs").chain(tenant::FOLDERS).chain(cloud::FOLDERS) {
        let logs = opts.out.join(folder);
        if std::fs::read_dir(&logs).is_ok_and(|mut d| d.next().is_some()) {
            return Err(Error::config(
                "generate.out",
                format!(
                    "{} already holds generated logs; choose an empty folder or remove it first",
                    logs.display()
                ),
            ));
        }
    }
    let last = opts
        .end
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
        .num_days();
    let first = last - (opts.days as i64 - 1);
    let org = org::Org::build(opts.seed, opts.scale);
    let plan = attacks::plan(&org, first, last);
    let units: Vec<(u8, i64)> = (first..=last)
        .flat_map(|d| (0..org.accounts.len() as u8).map(move |a| (a, d)))
        .collect();
    let written = AtomicU64::new(0);
    let result = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut aws = units
                .par_iter()
                .map(|&(account, day)| {
                    write_account_day(&org, &plan, &opts.out, account, day, &written)
                })
                .try_reduce(GenerateSummary::default, |mut a, b| {
                    a += b;
                    Ok(a)
                })?;
            let (tenant, labels) =
                tenant::write(&opts.out, opts.seed, opts.scale, first, last, &written)?;
            aws.tenant = tenant;
            let (estate, cloud_labels) =
                cloud::write(&opts.out, opts.seed, opts.scale, first, last, &written)?;
            aws.cloud = estate;
            Ok::<_, Error>((aws, labels, cloud_labels))
        });
        while !worker.is_finished() {
            progress(written.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        worker
            .join()
            .map_err(|_| Error::Internal("a generator thread panicked".into()))
    })?;
    let (mut summary, tenant_labels, cloud_labels) = result?;
    let labels_path = opts.out.join("labels.jsonl");
    let mut text = String::new();
    for l in plan.labels.iter().chain(&tenant_labels).chain(&cloud_labels) {
        text.push_str(
            &serde_json::to_string(l)
                .map_err(|e| Error::Internal(format!("label to JSON: {e}")))?,
        );
        text.push('\n');
    }
    write_file(&labels_path, text.as_bytes())?;
    summary.attacks = (plan.labels.len() + tenant_labels.len() + cloud_labels.len()) as u64;
    progress(
        summary.events
            + summary.tenant.m365_records
            + summary.tenant.entra_records
            + summary.cloud.records(),
    );
    Ok(summary)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Generates, renders and writes the objects of one account-day.
fn write_account_day(
    org: &org::Org,
    plan: &attacks::Plan,
    out: &Path,
    account: u8,
    day_num: i64,
    written: &AtomicU64,
) -> Result<GenerateSummary> {
    let mut day = activity::Day::new(org, account, day_num);
    day.ordinary();
    plan.inject(&mut day);
    plan.silence(&mut day);
    let mut specs = std::mem::take(&mut day.out);
    specs.sort_unstable_by_key(|s| (s.region, s.window, s.t, s.seq));

    let acct = &org.accounts[account as usize];
    let day_start = day_num * 86_400;
    let date = DateTime::from_timestamp(day_start, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let render = record::Render {
        org,
        account: acct,
        day_start,
        date,
        fixed_ids: &plan.ids,
    };
    let mut rng = rng::Rng::new(rng::hash(&[
        org.seed,
        0x7e4d,
        account as u64,
        day_num as u64,
    ]));
    let mut json = Vec::with_capacity(1 << 20);
    let mut gz = Vec::with_capacity(1 << 18);
    let mut made_dir = PathBuf::new();
    let mut summary = GenerateSummary::default();
    for group in specs.chunk_by(|a, b| a.region == b.region && a.window == b.window) {
        json.clear();
        json.extend_from_slice(b"{\"Records\":[");
        for (i, s) in group.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            render.record(&mut json, s, &mut rng);
        }
        json.extend_from_slice(b"]}");

        let region = org::REGIONS[group[0].region as usize];
        let stamp = DateTime::from_timestamp((group[0].window + 1) * 300, 0).unwrap_or_default();
        let dir = out.join(format!(
            "AWSLogs/{}/CloudTrail/{region}/{}",
            acct.id,
            stamp.format("%Y/%m/%d")
        ));
        if dir != made_dir {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            made_dir.clone_from(&dir);
        }
        let mut suffix = Vec::with_capacity(16);
        rng::push_alnum(&mut suffix, &mut rng, 16);
        let name = format!(
            "{}_CloudTrail_{region}_{}_{}.json.gz",
            acct.id,
            stamp.format("%Y%m%dT%H%MZ"),
            std::str::from_utf8(&suffix).expect("alnum is ASCII")
        );
        gz.clear();
        let mut enc = GzEncoder::new(&mut gz, Compression::fast());
        std::io::Write::write_all(&mut enc, &json)
            .and_then(|_| enc.finish().map(|_| ()))
            .map_err(|source| Error::Io {
                path: dir.join(&name),
                source,
            })?;
        write_file(&dir.join(&name), &gz)?;

        summary.objects += 1;
        summary.events += group.len() as u64;
        summary.uncompressed_bytes += json.len() as u64;
        written.fetch_add(group.len() as u64, Ordering::Relaxed);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
