//! The synthetic Azure subscriptions and GCP projects of Fabrikam Sift, written beside the
//! AWS organisation and the Microsoft 365 tenant over the same days, seed and scale.
//!
//! # What it writes
//! - `OUT/Azure/ActivityLog/resourceId=/SUBSCRIPTIONS/<SUB>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`:
//!   Azure Activity records as a subscription's diagnostic setting appends them to a storage
//!   account (one JSON object per line, per hour of the record's time). One ARM operation
//!   is a `Start` and a `Success` record (with an `Accept` between them for long-running
//!   writes) sharing a `correlationId` ([`azure`]).
//! - `OUT/Azure/KeyVault/resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/<VAULT>/y=…/PT1H.json`:
//!   Key Vault `AuditEvent` resource logs, the same way.
//! - `OUT/GCP/cloudaudit.googleapis.com/{activity,data_access}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`:
//!   Cloud Audit Logs entries as an organisation log sink exports them to Cloud Storage
//!   (JSON lines, hourly objects; long-running operations as `first` and `last` entries)
//!   ([`gcp`]).
//! - The [`AttackLabel`]s, which `generate` appends to `labels.jsonl` (`account_uid` = the
//!   lower-case subscription id or the project id, `actor_uid` = lower-case UPN, service
//!   account e-mail or the service principal's object id, `event_uids` = the ids cloudsift's
//!   normalisers give the labelled records: a content hash for Azure records, which carry
//!   no record id, and `insertId` for GCP).
//!
//! # The estate
//! Azure (tenant `5d2c7a1f-…`, the Microsoft 365 tenant): subscriptions `fabrikam-prod`,
//! `fabrikam-dev` and `fabrikam-shared-security` under management groups prod, non-prod
//! and platform, with resource groups, Function Apps, Key Vaults, Logic Apps, storage
//! accounts and Event Grid subscriptions. GCP (organisation 418273645501): projects
//! `sift-prod-4821`, `sift-dev-2273` and `sift-sec-9914` in three folders, with Cloud
//! Functions, Secret Manager secrets and log sinks. Principals ([`estate::PRINCIPALS`]):
//! - people in Berlin (UTC+1) and London (UTC+0) in office hours on weekdays: a platform
//!   admin (resource groups, app settings, NSG rules, a break-glass secret), developers (dev
//!   app settings and restarts, a few dev secrets; GCP function deploys, VM start/stop,
//!   console instance lists), a FinOps analyst (tags), a data analyst (BigQuery jobs);
//! - Terraform in GitHub Actions: `sp-terraform-ci` re-applies each subscription's app
//!   settings, Event Grid subscription, Logic App and diagnostic setting every night at
//!   02:00 (runner addresses change per run); `terraform@sift-sec-9914` (impersonated through
//!   workload identity federation, `serviceAccountDelegationInfo`) re-sets each project's
//!   export sink and a firewall rule every night at 03:00;
//! - CI deploys (`sp-func-deploy`, `gh-deployer@`) of Function Apps and Cloud Functions on
//!   weekdays; managed identities `mi-orders-api` (every 15 min) and `mi-billing-func`
//!   (30 min) and `sp-reporting-sync` (hourly) reading Key Vault secrets; `orders-api@`
//!   reading Secret Manager every 15 minutes; a CSPM scanner (`sp-cspm-scanner`,
//!   `scc-scanner@`) listing every vault and project every six hours.
//!
//! # Attacks (last five days; see `attacks.rs`)
//! | id | analytic | what |
//! |---|---|---|
//! | `Z1-diagnostic-setting-deleted` | `logging_disabled` (T1562.008) | developer `sofia.rossi`, new address, deletes the prod Function App's diagnostic setting at night |
//! | `Z2-keyvault-secret-sweep` | `secret_access_volume` (T1555.006) | `tom.becker` (≈ 2 dev secrets a day) reads 48 prod secret versions in 30 min from a new address |
//! | `Z3-subscription-moved` | `resource_hierarchy_change` (T1666) | FinOps `marek.novak` creates a management group and moves the dev subscription into it |
//! | `Z4-eventgrid-webhook` | `event_trigger_created` (T1546) | `sp-reporting-sync` subscribes an external webhook to the prod storage account's blob events |
//! | `Z5-quota-increase` | `quota_increase` (T1496.004) | `nina.berg` raises the A100 quota in three regions in 12 min |
//! | `G1-log-sink-disabled` | `logging_disabled` (T1562.008) | `kai.schmidt` disables the prod audit sink and deletes the archive sink |
//! | `G2-sa-enumeration` | `enumeration_burst` (T1580) | the CI service account's leaked key enumerates 14 discovery methods ≈ 100 times across three projects |
//! | `G3-cloud-function-new-principal` | `serverless_change` (T1648) | workload SA `orders-api@` creates a Cloud Function and makes it public |
//! | `G4-vertex-api-enabled` | `region_or_service_enabled` (T1496.004) | data analyst `omar.haddad` enables Vertex AI |
//! | `G5-gpu-quota-preferences` | `quota_increase` (T1496.004) | the same session asks for A100 GPUs in three regions |
//!
//! # Benign hard cases (must stay below medium; see `activity.rs`)
//! Weekends and two holidays (end − 17, end − 16: people away, automation on); a
//! deployment burst (end − 9, 14:00: Terraform creates a staging environment of about
//! twenty Azure resources and twenty GCP resources within an hour); an automation rollout
//! (`mi-etl-ingest` and `etl-runner@` start reading secrets mid-period and stay steady);
//! a role change (developer `ahmed.khan` does admin work — role assignments, policy
//! assignments, project IAM policies — from end − 13, change CHG-2024-0311); the nightly
//! Terraform re-application of diagnostic settings and sinks (logging kept on).
//!
//! # Volume
//! About 700 records a weekday at scale 0.05 (Key Vault reads and scanner sweeps are fixed
//! rates; people's uncatalogued noise and BigQuery jobs grow with the scale). Days are
//! generated in parallel, each from its own seeded stream, so output is byte-identical
//! for the same options.

mod activity;
mod attacks;
mod azure;
mod estate;
mod gcp;
use super::json;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::DateTime;
use rayon::prelude::*;

use super::attacks::AttackLabel;
use super::rng::{hash, Rng};
use crate::schema::LogFormat;
use crate::sources::{normaliser, NormaliseOptions};
use crate::{Error, Result};
use estate::{Body, NONE, SUBS};

/// Folders under `OUT` that hold the estate's logs.
pub(crate) const FOLDERS: [&str; 2] = ["Azure", "GCP"];

/// What the cloud-estate generator wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloudSummary {
    /// Azure Activity records (lines).
    pub activity_records: u64,
    /// Key Vault `AuditEvent` records (lines).
    pub keyvault_records: u64,
    /// GCP Cloud Audit Logs entries (lines).
    pub gcp_entries: u64,
    /// Files written (all three).
    pub files: u64,
    /// Bytes of JSON written.
    pub bytes: u64,
    /// Labels (lines appended to `labels.jsonl`).
    pub attacks: u64,
}

impl CloudSummary {
    /// Every record written.
    pub fn records(&self) -> u64 {
        self.activity_records + self.keyvault_records + self.gcp_entries
    }
}

impl std::ops::AddAssign for CloudSummary {
    fn add_assign(&mut self, o: Self) {
        self.activity_records += o.activity_records;
        self.keyvault_records += o.keyvault_records;
        self.gcp_entries += o.gcp_entries;
        self.files += o.files;
        self.bytes += o.bytes;
        self.attacks += o.attacks;
    }
}

/// The object a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKey {
    Activity { sub: usize, hour: i64 },
    Kv { sub: usize, vault: usize, hour: i64 },
    Gcp { data_access: bool, hour: i64 },
}

impl FileKey {
    fn path(&self) -> String {
        let stamp = |hour: i64, f: &str| DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default().format(f).to_string();
        let azure = "y=%Y/m=%m/d=%d/h=%H/m=00/PT1H.json";
        match *self {
            FileKey::Activity { sub, hour } => {
                format!("Azure/ActivityLog/resourceId=/SUBSCRIPTIONS/{}/{}", SUBS[sub].id.to_ascii_uppercase(), stamp(hour, azure))
            }
            FileKey::Kv { sub, vault, hour } => {
                let (rg, name) = SUBS[sub].vaults[vault];
                let rid = estate::res_id(sub, rg, "Microsoft.KeyVault", &format!("vaults/{name}"));
                format!("Azure/KeyVault/resourceId={}/{}", rid.to_ascii_uppercase(), stamp(hour, azure))
            }
            FileKey::Gcp { data_access, hour } => format!(
                "GCP/cloudaudit.googleapis.com/{}/{}",
                if data_access { "data_access" } else { "activity" },
                stamp(hour, "%Y/%m/%d/%H:00:00_%H:59:59_S0.json")
            ),
        }
    }

    fn format(&self) -> LogFormat {
        match self {
            FileKey::Activity { .. } => LogFormat::AzureActivity,
            FileKey::Kv { .. } => LogFormat::KeyVaultAudit,
            FileKey::Gcp { .. } => LogFormat::GcpAudit,
        }
    }
}

/// One rendered record.
#[derive(Debug)]
pub(crate) struct Line {
    pub t_us: i64,
    pub file: FileKey,
    pub text: Vec<u8>,
    /// The label of its event, or [`NONE`].
    pub label: u32,
}

/// A labelled record: (label index, time µs, event uid).
type Labelled = (u32, i64, String);

/// Writes the estate for days `first..=last` (days since the epoch) under `out`; adds the
/// number of records written to `written` as it goes. Returns the summary and the labels.
///
/// # Errors
/// [`Error::Io`] (with the path) when a folder or file cannot be written;
/// [`Error::Internal`] when a labelled record does not normalise (a generator bug).
pub(crate) fn write(out: &Path, seed: u64, scale: f64, first: i64, last: i64, written: &AtomicU64) -> Result<(CloudSummary, Vec<AttackLabel>)> {
    let cal = activity::Calendar { first, last };
    let plan = attacks::plan(seed, first, last);
    let days = (first..=last)
        .into_par_iter()
        .map(|d| write_day(&plan, out, seed, scale, cal, d, written))
        .collect::<Result<Vec<_>>>()?;
    let mut summary = CloudSummary::default();
    let mut hits: Vec<Labelled> = Vec::new();
    for (s, h) in days {
        summary += s;
        hits.extend(h);
    }
    hits.sort_by(|a, b| (a.0, a.1, &a.2).cmp(&(b.0, b.1, &b.2)));
    let mut labels = Vec::with_capacity(plan.labels.len());
    for (i, d) in plan.labels.iter().enumerate() {
        let mine: Vec<&Labelled> = hits.iter().filter(|h| h.0 as usize == i).collect();
        let (Some(a), Some(b)) = (mine.first(), mine.last()) else { continue };
        labels.push(AttackLabel {
            attack_id: d.attack_id.to_string(),
            analytic: d.analytic.to_string(),
            technique: d.technique.to_string(),
            account_uid: d.account_uid.clone(),
            actor_uid: d.actor_uid.clone(),
            start: rfc3339(a.1),
            end: rfc3339(b.1),
            event_uids: mine.iter().map(|h| h.2.clone()).collect(),
            also: super::attacks::also_found_by(d.attack_id),
        });
    }
    summary.attacks = labels.len() as u64;
    Ok((summary, labels))
}

fn rfc3339(t_us: i64) -> String {
    DateTime::from_timestamp(t_us.div_euclid(1_000_000), 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The normalised `event_uid` of one rendered record.
fn event_uid(line: &Line) -> Result<String> {
    let text = std::str::from_utf8(&line.text).map_err(|e| Error::Internal(format!("generated record is not UTF-8: {e}")))?;
    let mut events = Vec::new();
    normaliser(line.file.format())
        .normalise(text, &NormaliseOptions { keep_raw: false }, &mut events)
        .map_err(|r| Error::Internal(format!("generated {} record does not normalise ({}): {text}", line.file.format().as_str(), r.reason)))?;
    events
        .first()
        .map(|e| e.event_uid.to_string())
        .ok_or_else(|| Error::Internal(format!("generated record gave no event: {text}")))
}

/// The records of one UTC day, rendered and in time order.
pub(crate) fn day_lines(plan: &attacks::Plan, seed: u64, scale: f64, cal: activity::Calendar, day: i64) -> Vec<Line> {
    let mut d = activity::Day::new(seed, scale, cal, day);
    d.ordinary();
    let mut evs = d.out;
    evs.extend(plan.events.iter().filter(|e| e.t_us.div_euclid(86_400_000_000) == day).cloned());
    evs.sort_by_key(|e| (e.t_us, e.seq));
    let day_end = (day + 1) * 86_400_000_000;
    let mut rng = Rng::new(hash(&[seed, 0xc1d0, day as u64]));
    let mut lines = Vec::with_capacity(evs.len() * 2);
    for ev in &evs {
        match ev.body {
            Body::Arm { .. } => azure::arm(ev, &mut rng, day_end, &mut lines),
            Body::Kv { .. } => azure::kv(ev, &mut rng, &mut lines),
            Body::Gcp { .. } => gcp::entry(ev, &mut rng, day_end, &mut lines),
        }
    }
    lines.sort_by_key(|l| l.t_us);
    lines
}

fn write_day(plan: &attacks::Plan, out: &Path, seed: u64, scale: f64, cal: activity::Calendar, day: i64, written: &AtomicU64) -> Result<(CloudSummary, Vec<Labelled>)> {
    let lines = day_lines(plan, seed, scale, cal, day);
    let mut hits = Vec::new();
    let mut files: BTreeMap<FileKey, Vec<u8>> = BTreeMap::new();
    let mut s = CloudSummary::default();
    for line in &lines {
        if line.label != NONE {
            hits.push((line.label, line.t_us, event_uid(line)?));
        }
        let buf = files.entry(line.file).or_default();
        buf.extend_from_slice(&line.text);
        buf.push(b'\n');
        match line.file {
            FileKey::Activity { .. } => s.activity_records += 1,
            FileKey::Kv { .. } => s.keyvault_records += 1,
            FileKey::Gcp { .. } => s.gcp_entries += 1,
        }
    }
    for (key, buf) in files {
        let path = out.join(key.path());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        }
        std::fs::write(&path, &buf).map_err(|source| Error::Io { path: path.clone(), source })?;
        s.files += 1;
        s.bytes += buf.len() as u64;
    }
    written.fetch_add(s.records(), Ordering::Relaxed);
    Ok((s, hits))
}

#[cfg(test)]
mod tests;
