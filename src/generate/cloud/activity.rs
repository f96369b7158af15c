//! Ordinary activity of the cloud estate on one UTC day, with the benign hard cases, as
//! [`Ev`]s.
//!
//! People work weekdays in their office hours (08–18 local, UTC+1 or UTC+0) and about one
//! day in twenty not at all; at weekends and on the two holidays (end − 17, end − 16)
//! almost nobody works (one person in ten looks in for under an hour). Automation runs on
//! UTC schedules every day. Every person makes each of their catalogued changes on their
//! first working days of the period, so that no routine change of theirs is "first seen"
//! after the learning period.

use super::super::rng::{hash, Rng};
use super::estate::*;

const HOUR: i64 = 3_600_000_000;
const MINUTE: i64 = 60_000_000;

/// Runner addresses of GitHub-hosted runners (Azure egress), one per run.
const RUNNERS: [&str; 6] = ["20.61.144.18", "20.61.145.203", "20.166.7.91", "4.175.33.120", "20.238.20.7", "20.103.84.66"];

/// The secrets each vault holds, `(subscription, vault)` → names.
pub(crate) fn vault_secrets(sub: usize, vault: usize) -> &'static [&'static str] {
    match (sub, vault) {
        (PROD, 0) => &["orders-db-conn", "stripe-api-key", "servicebus-conn", "smtp-relay-password", "jwt-signing-key"],
        (PROD, _) => &["datalake-sas", "sql-admin-password", "etl-source-token"],
        (DEV, _) => &["orders-db-conn-dev", "stripe-test-key", "feature-flags-token"],
        _ => &["siem-ingest-token", "pagerduty-key", "scanner-client-secret", "breakglass-hint"],
    }
}

/// Special days of the period (days since the epoch), clamped into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calendar {
    pub first: i64,
    pub last: i64,
}

impl Calendar {
    pub(crate) fn back(&self, n: i64) -> i64 {
        (self.last - n).max(self.first)
    }
    pub(crate) fn holiday(&self, day: i64) -> bool {
        self.last - self.first >= 20 && (day == self.back(17) || day == self.back(16))
    }
    /// First day of the new automation (`mi-etl-ingest`, `etl-runner@`).
    pub(crate) fn rollout(&self) -> i64 {
        self.first + (self.last - self.first) / 2
    }
    /// First day of Ahmed's admin work.
    pub(crate) fn role_change(&self) -> i64 {
        self.back(13)
    }
    /// The Terraform deployment burst.
    pub(crate) fn burst(&self) -> i64 {
        self.back(9)
    }
}

/// Builds one day's events.
pub(crate) struct Day {
    pub cal: Calendar,
    pub day: i64,
    pub scale: f64,
    pub rng: Rng,
    pub seed: u64,
    pub out: Vec<Ev>,
}

impl Day {
    pub(crate) fn new(seed: u64, scale: f64, cal: Calendar, day: i64) -> Self {
        Day { cal, day, scale, rng: Rng::new(hash(&[seed, 0xc10d, day as u64])), seed, out: Vec::new() }
    }

    fn start_us(&self) -> i64 {
        self.day * 24 * HOUR
    }

    /// Adds an event at `t_us`.
    pub(crate) fn push(&mut self, t_us: i64, who: usize, body: Body) -> &mut Ev {
        let seq = 1 << 40 | self.out.len() as u64;
        self.out.push(Ev { t_us, seq, who, ip: None, ua: None, via: None, body, label: NONE });
        self.out.last_mut().expect("just pushed")
    }

    fn arm(&mut self, t_us: i64, who: usize, sub: usize, op: &'static str, rid: String, props: Option<String>) -> &mut Ev {
        let phases = if op.ends_with("/write") && (op.contains("sites/write") || op.contains("workflows") || op.contains("eventSubscriptions")) {
            Phases::LongRunning
        } else {
            Phases::Sync
        };
        self.push(t_us, who, Body::Arm { sub, op, rid, phases, props })
    }

    fn kv(&mut self, t_us: i64, who: usize, sub: usize, vault: usize, op: &'static str, item: Option<&str>) -> &mut Ev {
        self.push(t_us, who, Body::Kv { sub, vault, op, item: item.map(str::to_string) })
    }

    #[allow(clippy::too_many_arguments)]
    fn gcp(&mut self, t_us: i64, who: usize, project: usize, log: Log, service: &'static str, method: &'static str, resource: String, permission: &'static str, request: Option<String>, lro: bool) -> &mut Ev {
        self.push(t_us, who, Body::Gcp { project, log, service, method, resource, permission, request, lro })
    }

    /// Whether person `p` works today, and the UTC µs of their office day's start.
    fn workday(&mut self, p: usize) -> Option<i64> {
        let wd = weekday(self.day);
        let start = self.start_us() + (8 - PRINCIPALS[p].utc_offset) * HOUR;
        if wd >= 5 || self.cal.holiday(self.day) {
            return None;
        }
        (self.rng.chance(0.95) || self.early()).then_some(start)
    }

    /// The first five days: every person makes each of their catalogued changes.
    fn early(&self) -> bool {
        self.day < self.cal.first + 5
    }

    /// A random time in a person's office day (10 h from `start`), avoiding lunch.
    fn office_time(&mut self, start: i64) -> i64 {
        let h = *self.rng.pick(&[0, 1, 1, 2, 2, 3, 5, 6, 6, 7, 7, 8, 9]);
        start + h * HOUR + self.rng.range(0, HOUR - 1)
    }

    fn noise(&mut self, base: f64) -> u32 {
        self.rng.poisson(base * (self.scale / 0.05).clamp(0.5, 40.0))
    }

    /// Everything ordinary of the day, then the benign hard cases.
    pub(crate) fn ordinary(&mut self) {
        self.azure_people();
        self.gcp_people();
        self.azure_automation();
        self.gcp_automation();
        if self.day >= self.cal.role_change() {
            self.role_change();
        }
        if self.day == self.cal.burst() {
            self.burst();
        }
        // Weekends and holidays: one person in ten looks in briefly.
        if weekday(self.day) >= 5 || self.cal.holiday(self.day) {
            for p in [PRIYA, TOM, KAI] {
                if self.rng.chance(0.1) {
                    let t = self.start_us() + self.rng.range(9, 16) * HOUR;
                    let site = self.rng.below(2) as usize;
                    let rid = res_id(DEV, 0, "Microsoft.Web", &format!("sites/{}", SUBS[DEV].sites[site].1));
                    self.arm(t, p, DEV, "Microsoft.Web/sites/restart/action", rid, None);
                }
            }
        }
    }

    fn azure_people(&mut self) {
        for p in [PRIYA, TOM, SOFIA, AHMED, MAREK, NINA] {
            let Some(start) = self.workday(p) else { continue };
            let early = self.early();
            if p == MAREK {
                for _ in 0..self.rng.range(1, 4) {
                    let t = self.office_time(start);
                    let sub = self.rng.below(3) as usize;
                    let rid = format!("/subscriptions/{}/providers/Microsoft.Resources/tags/default", SUBS[sub].id);
                    self.arm(t, p, sub, "Microsoft.Resources/tags/write", rid, None);
                }
                continue;
            }
            if p == PRIYA {
                if early || self.rng.chance(0.4) {
                    let t = self.office_time(start);
                    let sub = self.rng.below(3) as usize;
                    let rg = self.rng.below(SUBS[sub].rgs.len() as u64) as usize;
                    self.arm(t, p, sub, "Microsoft.Resources/subscriptions/resourceGroups/write", rg_id(sub, rg), None);
                }
                if early || self.rng.chance(0.5) {
                    let t = self.office_time(start);
                    let rid = res_id(PROD, 0, "Microsoft.Web", &format!("sites/{}/config/appsettings", SUBS[PROD].sites[0].1));
                    self.arm(t, p, PROD, "Microsoft.Web/sites/config/write", rid, None);
                }
                for _ in 0..self.rng.range(1, 3) {
                    let t = self.office_time(start);
                    let rid = res_id(PROD, 2, "Microsoft.Network", "networkSecurityGroups/nsg-prod-app/securityRules/allow-https");
                    self.arm(t, p, PROD, "Microsoft.Network/networkSecurityGroups/securityRules/write", rid, None);
                }
                if self.rng.chance(0.4) {
                    let t = self.office_time(start);
                    self.kv(t, p, SHARED, 0, "SecretGet", Some("breakglass-hint"));
                }
                continue;
            }
            // Developers: app settings and restarts in dev, some dev secrets.
            let n = if early { 1 } else { self.rng.range(0, 2) };
            for _ in 0..n {
                let t = self.office_time(start);
                let site = SUBS[DEV].sites[self.rng.below(2) as usize].1;
                let rid = res_id(DEV, 0, "Microsoft.Web", &format!("sites/{site}/config/appsettings"));
                self.arm(t, p, DEV, "Microsoft.Web/sites/config/write", rid, None);
            }
            // Now and then a developer tries a prod setting and is denied.
            if self.rng.chance(0.05) {
                let t = self.office_time(start);
                let rid = res_id(PROD, 0, "Microsoft.Web", &format!("sites/{}/config/appsettings", SUBS[PROD].sites[0].1));
                self.push(t, p, Body::Arm { sub: PROD, op: "Microsoft.Web/sites/config/write", rid, phases: Phases::Denied, props: None });
            }
            for _ in 0..self.noise(1.5) {
                let t = self.office_time(start);
                let site = SUBS[DEV].sites[self.rng.below(2) as usize].1;
                let rid = res_id(DEV, 0, "Microsoft.Web", &format!("sites/{site}"));
                self.arm(t, p, DEV, "Microsoft.Web/sites/restart/action", rid, None);
            }
            let reads = if p == TOM { self.rng.range(1, 3) } else { self.rng.range(0, 1) };
            for _ in 0..reads {
                let t = self.office_time(start);
                let s = *self.rng.pick(vault_secrets(DEV, 0));
                self.kv(t, p, DEV, 0, "SecretGet", Some(s));
            }
        }
    }

    fn gcp_people(&mut self) {
        for p in [KAI, LEA, OMAR, PRIYA] {
            let Some(start) = self.workday(p) else { continue };
            let early = self.early();
            let project = if p == PRIYA { self.rng.below(3) as usize } else { GDEV };
            let pid = PROJECTS[project].id;
            // Console pages list instances.
            for _ in 0..self.rng.range(1, 4) {
                let t = self.office_time(start);
                let zone = format!("projects/{pid}/zones/{}-b", PROJECTS[project].region);
                self.gcp(t, p, project, Log::DataAccess, "compute.googleapis.com", "v1.compute.instances.list", zone, "compute.instances.list", None, false);
            }
            match p {
                KAI => {
                    if early || self.rng.chance(0.5) {
                        let t = self.office_time(start);
                        let f = *self.rng.pick(PROJECTS[GDEV].functions);
                        let name = format!("projects/{pid}/locations/{}/functions/{f}", PROJECTS[GDEV].region);
                        let req = format!(r#""@type":"type.googleapis.com/google.cloud.functions.v2.UpdateFunctionRequest","function":{{"name":"{name}"}},"updateMask":"buildConfig.source""#);
                        self.gcp(t, p, GDEV, Log::Activity, "cloudfunctions.googleapis.com", "google.cloud.functions.v2.FunctionService.UpdateFunction", name, "cloudfunctions.functions.update", Some(req), true);
                    }
                    for _ in 0..self.rng.range(0, 2) {
                        let t = self.office_time(start);
                        let s = *self.rng.pick(PROJECTS[GDEV].secrets);
                        let name = format!("projects/{}/secrets/{s}/versions/latest", PROJECTS[GDEV].number);
                        self.gcp(t, p, GDEV, Log::DataAccess, "secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", name, "secretmanager.versions.access", None, false);
                    }
                }
                LEA => {
                    for _ in 0..self.noise(1.0) {
                        let t = self.office_time(start);
                        let name = format!("projects/{pid}/zones/europe-west1-b/instances/dev-vm-{}", self.rng.range(1, 4));
                        let m = *self.rng.pick(&["v1.compute.instances.start", "v1.compute.instances.stop"]);
                        self.gcp(t, p, GDEV, Log::Activity, "compute.googleapis.com", m, name, "compute.instances.start", None, true);
                    }
                }
                OMAR => {
                    for _ in 0..self.noise(3.0) {
                        let t = self.office_time(start);
                        let name = format!("projects/{}/jobs/bquxjob_{:x}", PROJECTS[GPROD].id, self.rng.next_u64() >> 20);
                        self.gcp(t, p, GPROD, Log::DataAccess, "bigquery.googleapis.com", "google.cloud.bigquery.v2.JobService.InsertJob", name, "bigquery.jobs.create", None, false);
                    }
                }
                _ => {
                    if self.rng.chance(0.3) {
                        let t = self.office_time(start);
                        let name = format!("projects/{pid}/global/firewalls/allow-iap-ssh");
                        self.gcp(t, p, project, Log::Activity, "compute.googleapis.com", "v1.compute.firewalls.patch", name, "compute.firewalls.update", None, true);
                    }
                }
            }
        }
    }

    fn azure_automation(&mut self) {
        let day0 = self.start_us();
        // Terraform's nightly apply (perpetual diffs re-applied every night).
        for sub in [PROD, DEV, SHARED] {
            let t0 = day0 + 2 * HOUR + sub as i64 * 7 * MINUTE + self.rng.range(0, 4 * MINUTE);
            let runner = *self.rng.pick(&RUNNERS);
            let s = &SUBS[sub];
            let mut t = t0;
            let mut step = |d: &mut Day, op: &'static str, rid: String, props: Option<String>| {
                t += d.rng.range(2, 40) * 1_000_000;
                d.arm(t, SP_TERRAFORM, sub, op, rid, props).ip = Some(runner);
            };
            for (rg, site) in s.sites {
                step(self, "Microsoft.Web/sites/config/write", res_id(sub, *rg, "Microsoft.Web", &format!("sites/{site}/config/appsettings")), None);
            }
            let (rg, st) = s.storage[0];
            let func = res_id(sub, s.sites[0].0, "Microsoft.Web", &format!("sites/{}/functions/OnBlobCreated", s.sites[0].1));
            let egs = format!(r#""requestbody":{}"#, super::json::lit(&format!(r#"{{"properties":{{"destination":{{"endpointType":"AzureFunction","properties":{{"resourceId":"{func}"}}}},"filter":{{"includedEventTypes":["Microsoft.Storage.BlobCreated"]}}}}}}"#)));
            step(self, "Microsoft.EventGrid/eventSubscriptions/write", format!("{}/providers/Microsoft.EventGrid/eventSubscriptions/egs-blob-created", res_id(sub, rg, "Microsoft.Storage", &format!("storageAccounts/{st}"))), Some(egs));
            let (rg, wf) = s.workflows[0];
            step(self, "Microsoft.Logic/workflows/write", res_id(sub, rg, "Microsoft.Logic", &format!("workflows/{wf}")), None);
            let diag = format!(r#""requestbody":{}"#, super::json::lit(r#"{"properties":{"storageAccountId":"/subscriptions/c41d8e2b-7f3a-4b6c-9e1d-5a8b2c4d6e83/resourceGroups/rg-sec-logging/providers/Microsoft.Storage/storageAccounts/stseclogarchive01","logs":[{"category":"FunctionAppLogs","enabled":true}],"metrics":[{"category":"AllMetrics","enabled":true}]}}"#));
            let site = res_id(sub, s.sites[0].0, "Microsoft.Web", &format!("sites/{}", s.sites[0].1));
            step(self, "Microsoft.Insights/diagnosticSettings/write", format!("{site}/providers/Microsoft.Insights/diagnosticSettings/to-security-storage"), Some(diag));
        }
        // Function App deploys by CI on weekdays.
        if weekday(self.day) < 5 {
            for _ in 0..self.rng.range(1, 4) {
                let sub = if self.rng.chance(0.4) { PROD } else { DEV };
                let t = day0 + self.rng.range(8 * HOUR, 17 * HOUR);
                let (rg, site) = SUBS[sub].sites[self.rng.below(2) as usize];
                let runner = *self.rng.pick(&RUNNERS);
                self.arm(t, SP_DEPLOY, sub, "Microsoft.Web/sites/config/write", res_id(sub, rg, "Microsoft.Web", &format!("sites/{site}/config/appsettings")), None).ip = Some(runner);
                self.arm(t + 20 * 1_000_000, SP_DEPLOY, sub, "Microsoft.Web/sites/syncfunctiontriggers/action", res_id(sub, rg, "Microsoft.Web", &format!("sites/{site}")), None).ip = Some(runner);
            }
        }
        // Steady secret reads by workloads.
        for (who, sub, vault, every, from) in [
            (MI_ORDERS, PROD, 0, 15, self.cal.first),
            (MI_BILLING, PROD, 0, 30, self.cal.first),
            (SP_REPORTING, SHARED, 0, 60, self.cal.first),
            (MI_ETL, PROD, 1, 20, self.cal.rollout()),
        ] {
            if self.day < from {
                continue;
            }
            let first_minute = if self.day == from { 10 * 60 } else { 0 };
            let secrets = vault_secrets(sub, vault);
            let offset = self.rng.range(0, every - 1);
            let mut m = first_minute + offset;
            while m < 24 * 60 {
                let t = day0 + m * MINUTE + self.rng.range(0, 50_000_000);
                let s = secrets[(m / every) as usize % secrets.len()];
                self.kv(t, who, sub, vault, "SecretGet", Some(s));
                m += every;
            }
        }
        // The CSPM scanner's sweep of every vault every six hours.
        for sweep in 0..4 {
            let mut t = day0 + (sweep * 6 * 60 + 30) * MINUTE;
            for sub in [PROD, DEV, SHARED] {
                for vault in 0..SUBS[sub].vaults.len() {
                    for op in ["VaultGet", "SecretList", "KeyList", "CertificateList"] {
                        t += self.rng.range(200_000, 3_000_000);
                        self.kv(t, SP_SCANNER, sub, vault, op, None);
                    }
                }
            }
        }
    }

    fn gcp_automation(&mut self) {
        let day0 = self.start_us();
        // Terraform's nightly apply: re-sets each project's export sink (same destination).
        for (i, project) in [GPROD, GDEV, GSEC].into_iter().enumerate() {
            let p = &PROJECTS[project];
            let t = day0 + 3 * HOUR + i as i64 * 5 * MINUTE + self.rng.range(0, 3 * MINUTE);
            let sink = format!("projects/{}/sinks/{}", p.id, p.sinks[0]);
            let req = format!(
                r#""@type":"type.googleapis.com/google.logging.v2.UpdateSinkRequest","sinkName":"{sink}","sink":{{"name":"{}","destination":"storage.googleapis.com/fabrikam-sift-audit-archive","filter":"logName:\"cloudaudit.googleapis.com\"","disabled":false}},"updateMask":"filter""#,
                p.sinks[0]
            );
            self.gcp(t, SA_TERRAFORM, project, Log::Activity, "logging.googleapis.com", "google.logging.v2.ConfigServiceV2.UpdateSink", sink, "logging.sinks.update", Some(req), false).via = Some(TF_SUBJECT);
            let name = format!("projects/{}/global/firewalls/allow-health-checks", p.id);
            self.gcp(t + 30_000_000, SA_TERRAFORM, project, Log::Activity, "compute.googleapis.com", "v1.compute.firewalls.patch", name, "compute.firewalls.update", None, true).via = Some(TF_SUBJECT);
        }
        // Cloud Functions deploys by CI on weekdays.
        if weekday(self.day) < 5 {
            for _ in 0..self.rng.range(1, 3) {
                let project = if self.rng.chance(0.5) { GPROD } else { GDEV };
                let p = &PROJECTS[project];
                let f = *self.rng.pick(p.functions);
                let name = format!("projects/{}/locations/{}/functions/{f}", p.id, p.region);
                let req = format!(r#""@type":"type.googleapis.com/google.cloud.functions.v2.UpdateFunctionRequest","function":{{"name":"{name}"}}"#);
                let t = day0 + self.rng.range(8 * HOUR, 17 * HOUR);
                self.gcp(t, SA_DEPLOYER, project, Log::Activity, "cloudfunctions.googleapis.com", "google.cloud.functions.v2.FunctionService.UpdateFunction", name, "cloudfunctions.functions.update", Some(req), true);
            }
        }
        // Secret Manager reads by workloads.
        for (who, every, from) in [(SA_ORDERS, 15, self.cal.first), (SA_ETL, 20, self.cal.rollout())] {
            if self.day < from {
                continue;
            }
            let p = &PROJECTS[GPROD];
            let mut m = if self.day == from { 10 * 60 } else { 0 } + self.rng.range(0, every - 1);
            while m < 24 * 60 {
                let s = p.secrets[(m / every) as usize % p.secrets.len()];
                let name = format!("projects/{}/secrets/{s}/versions/latest", p.number);
                let t = day0 + m * MINUTE + self.rng.range(0, 50_000_000);
                self.gcp(t, who, GPROD, Log::DataAccess, "secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", name, "secretmanager.versions.access", None, false);
                m += every;
            }
        }
        // The security scanner's inventory sweep every six hours, in every project.
        for sweep in 0..4 {
            let mut t = day0 + (sweep * 6 * 60 + 45) * MINUTE;
            for project in [GPROD, GDEV, GSEC] {
                let pid = PROJECTS[project].id;
                for (service, method, perm, res) in [
                    ("compute.googleapis.com", "v1.compute.instances.aggregatedList", "compute.instances.list", format!("projects/{pid}")),
                    ("compute.googleapis.com", "v1.compute.firewalls.list", "compute.firewalls.list", format!("projects/{pid}/global/firewalls")),
                    ("compute.googleapis.com", "v1.compute.networks.list", "compute.networks.list", format!("projects/{pid}/global/networks")),
                    ("storage.googleapis.com", "storage.buckets.list", "storage.buckets.list", "projects/_/buckets".to_string()),
                    ("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecrets", "secretmanager.secrets.list", format!("projects/{}", PROJECTS[project].number)),
                    ("cloudresourcemanager.googleapis.com", "GetIamPolicy", "resourcemanager.projects.getIamPolicy", format!("projects/{pid}")),
                ] {
                    t += self.rng.range(300_000, 4_000_000);
                    self.gcp(t, SA_SCANNER, project, Log::DataAccess, service, method, res, perm, None, false);
                }
            }
        }
    }

    /// Ahmed, a developer, takes over platform administration from end − 13 (change
    /// CHG-2024-0311): role assignments, resource groups for teams, IAM policies and
    /// service accounts, in office hours from his usual address.
    fn role_change(&mut self) {
        let Some(start) = self.workday(AHMED) else { return };
        for _ in 0..self.rng.range(1, 3) {
            let t = self.office_time(start);
            let sub = self.rng.below(3) as usize;
            let rid = format!("/subscriptions/{}/providers/Microsoft.Authorization/roleAssignments/{}", SUBS[sub].id, super::super::rng::uuid_string(self.rng.next_u64(), self.rng.next_u64()));
            self.arm(t, AHMED, sub, "Microsoft.Authorization/roleAssignments/write", rid, None);
        }
        if self.rng.chance(0.3) {
            let t = self.office_time(start);
            let rid = format!("/subscriptions/{}/providers/Microsoft.Authorization/policyAssignments/require-tags", SUBS[DEV].id);
            self.arm(t, AHMED, DEV, "Microsoft.Authorization/policyAssignments/write", rid, None);
        }
        for _ in 0..self.rng.range(1, 3) {
            let t = self.office_time(start);
            let project = self.rng.below(3) as usize;
            let pid = PROJECTS[project].id;
            let req = r#""@type":"type.googleapis.com/google.iam.v1.SetIamPolicyRequest","resource":"projects/"#.to_string() + pid + "\"";
            self.gcp(t, AHMED, project, Log::Activity, "cloudresourcemanager.googleapis.com", "SetIamPolicy", format!("projects/{pid}"), "resourcemanager.projects.setIamPolicy", Some(req), false);
            self.gcp(t - 40_000_000, AHMED, project, Log::DataAccess, "cloudresourcemanager.googleapis.com", "GetIamPolicy", format!("projects/{pid}"), "resourcemanager.projects.getIamPolicy", None, false);
        }
    }

    /// Terraform applies a new staging environment: about thirty resources in an hour in
    /// the dev subscription and the dev project, none of them catalogued as sensitive.
    fn burst(&mut self) {
        let day0 = self.start_us();
        let runner = *self.rng.pick(&RUNNERS);
        let mut t = day0 + 14 * HOUR + 3 * MINUTE;
        let rg = format!("/subscriptions/{}/resourceGroups/rg-payments-stg", SUBS[DEV].id);
        let mut items: Vec<(&'static str, String)> = vec![("Microsoft.Resources/subscriptions/resourceGroups/write", rg.clone())];
        for (op, name) in [
            ("Microsoft.Network/virtualNetworks/write", "virtualNetworks/vnet-payments-stg"),
            ("Microsoft.Network/virtualNetworks/subnets/write", "virtualNetworks/vnet-payments-stg/subnets/snet-app"),
            ("Microsoft.Network/virtualNetworks/subnets/write", "virtualNetworks/vnet-payments-stg/subnets/snet-data"),
            ("Microsoft.Network/networkSecurityGroups/write", "networkSecurityGroups/nsg-payments-stg"),
            ("Microsoft.Network/privateEndpoints/write", "privateEndpoints/pe-payments-kv"),
            ("Microsoft.Network/privateDnsZones/write", "privateDnsZones/privatelink.vaultcore.azure.net"),
            ("Microsoft.Storage/storageAccounts/write", "storageAccounts/stpaymentsstg01"),
            ("Microsoft.Storage/storageAccounts/blobServices/containers/write", "storageAccounts/stpaymentsstg01/blobServices/default/containers/receipts"),
            ("Microsoft.KeyVault/vaults/write", "vaults/kv-payments-stg"),
            ("Microsoft.Web/serverfarms/write", "serverfarms/asp-payments-stg"),
            ("Microsoft.Web/sites/write", "sites/func-payments-stg"),
            ("Microsoft.Insights/components/write", "components/appi-payments-stg"),
            ("Microsoft.ManagedIdentity/userAssignedIdentities/write", "userAssignedIdentities/id-payments-stg"),
            ("Microsoft.ServiceBus/namespaces/write", "namespaces/sb-payments-stg"),
            ("Microsoft.ServiceBus/namespaces/queues/write", "namespaces/sb-payments-stg/queues/payments"),
        ] {
            let ns = op.split('/').next().unwrap_or_default();
            items.push((op, format!("{rg}/providers/{ns}/{name}")));
        }
        for i in 0..4 {
            items.push(("Microsoft.Authorization/roleAssignments/write", format!("{rg}/providers/Microsoft.Authorization/roleAssignments/{}", super::super::rng::uuid_string(hash(&[self.seed, i]), hash(&[i, self.seed])))));
        }
        for (op, rid) in items {
            t += self.rng.range(5, 90) * 1_000_000;
            self.arm(t, SP_TERRAFORM, DEV, op, rid, None).ip = Some(runner);
        }
        let pid = PROJECTS[GDEV].id;
        let mut t = day0 + 14 * HOUR + 20 * MINUTE;
        let mut gitems: Vec<(&'static str, &'static str, String, &'static str)> = Vec::new();
        for i in 1..=6 {
            gitems.push(("compute.googleapis.com", "v1.compute.instances.insert", format!("projects/{pid}/zones/europe-west1-b/instances/payments-stg-{i}"), "compute.instances.create"));
        }
        for r in ["allow-lb", "allow-iap", "deny-egress", "allow-internal"] {
            gitems.push(("compute.googleapis.com", "v1.compute.firewalls.insert", format!("projects/{pid}/global/firewalls/payments-stg-{r}"), "compute.firewalls.create"));
        }
        gitems.push(("compute.googleapis.com", "v1.compute.networks.insert", format!("projects/{pid}/global/networks/payments-stg"), "compute.networks.create"));
        gitems.push(("compute.googleapis.com", "v1.compute.subnetworks.insert", format!("projects/{pid}/regions/europe-west1/subnetworks/payments-stg"), "compute.subnetworks.create"));
        for b in ["payments-stg-receipts", "payments-stg-exports", "payments-stg-tfstate"] {
            gitems.push(("storage.googleapis.com", "storage.buckets.create", format!("projects/_/buckets/{b}"), "storage.buckets.create"));
        }
        for topic in ["payments-events", "payments-dlq", "payments-audit"] {
            gitems.push(("pubsub.googleapis.com", "google.pubsub.v1.Publisher.CreateTopic", format!("projects/{pid}/topics/{topic}"), "pubsub.topics.create"));
        }
        for sa in ["payments-api", "payments-worker"] {
            gitems.push(("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccount", format!("projects/{pid}/serviceAccounts/{sa}@{pid}.iam.gserviceaccount.com"), "iam.serviceAccounts.create"));
        }
        for (service, method, res, perm) in gitems {
            t += self.rng.range(5, 70) * 1_000_000;
            let lro = service == "compute.googleapis.com";
            self.gcp(t, SA_TERRAFORM, GDEV, Log::Activity, service, method, res, perm, None, lro).via = Some(TF_SUBJECT);
        }
    }
}
