//! The estate's labelled attacks (last five days) and the plan of their events.
//!
//! | id | analytic | what | day, UTC |
//! |---|---|---|---|
//! | `Z1-diagnostic-setting-deleted` | `logging_disabled` (T1562.008) | `sofia.rossi` (developer), from 193.189.100.195, deletes the prod Function App's diagnostic setting | end − 3, 22:14 |
//! | `Z2-keyvault-secret-sweep` | `secret_access_volume` (T1555.006) | `tom.becker` (≈ 2 dev secrets a day), from 91.219.236.18, lists the two prod vaults and reads 48 secret versions in 30 minutes | end − 2, 01:20 |
//! | `Z3-subscription-moved` | `resource_hierarchy_change` (T1666) | `marek.novak` (FinOps, only tags before), from 5.188.62.140, creates management group `mg-fabrikam-sandbox-ext` and moves the dev subscription into it | end − 4, 19:40 |
//! | `Z4-eventgrid-webhook` | `event_trigger_created` (T1546) | service principal `sp-reporting-sync` (reads secrets hourly), from 45.141.215.90, subscribes a webhook `https://hooks.relay-sync.example/api/ingest` to the prod orders storage account's blob events | end − 1, 11:05 |
//! | `Z5-quota-increase` | `quota_increase` (T1496.004) | `nina.berg`, from 103.251.167.20, raises the A100 vCPU quota of the dev subscription in three regions in 12 minutes | end − 5, 23:30 |
//! | `G1-log-sink-disabled` | `logging_disabled` (T1562.008) | `kai.schmidt`, from 185.243.218.41, disables the prod project's org-audit sink and deletes its archive sink | end − 3, 20:02 |
//! | `G2-sa-enumeration` | `enumeration_burst` (T1580) | the CI service account `gh-deployer@` (key leaked), from 45.155.205.233 with gcloud on a laptop, calls 14 discovery methods about 130 times across the three projects in 25 minutes | end − 2, 16:10 |
//! | `G3-cloud-function-new-principal` | `serverless_change` (T1648) | workload service account `orders-api@` (token stolen) creates Cloud Function `sys-health-sync` and makes it public (`allUsers` invoker) | end − 1, 09:47 |
//! | `G4-vertex-api-enabled` | `region_or_service_enabled` (T1496.004) | `omar.haddad` (data analyst), from 102.129.143.66, enables the Vertex AI API in the dev project | end − 4, 13:20 |
//! | `G5-gpu-quota-preferences` | `quota_increase` (T1496.004) | the same session asks Cloud Quotas for A100 GPUs in three regions | end − 4, 13:31 |
//!
//! No labelled principal did its labelled kind of action before; the benign hard cases
//! (`activity.rs`) never do these operations.

use super::super::rng::{hash, Rng};
use super::estate::*;

const MINUTE: i64 = 60_000_000;
const SECOND: i64 = 1_000_000;

/// A label before its event ids are known (they are the normalised ids of the rendered
/// records, filled in when the day is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Draft {
    pub attack_id: &'static str,
    pub analytic: &'static str,
    pub technique: &'static str,
    pub account_uid: String,
    pub actor_uid: String,
}

/// Every injected event, with the label drafts.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub events: Vec<Ev>,
    pub labels: Vec<Draft>,
}

struct Builder {
    plan: Plan,
    rng: Rng,
    first: i64,
    last: i64,
}

impl Builder {
    /// Unix µs of `h:m` UTC on day end − `back` (clamped into the period).
    fn at(&self, back: i64, h: i64, m: i64) -> i64 {
        let day = (self.last - back).max(self.first);
        (day * 24 * 60 + h * 60 + m) * MINUTE
    }

    fn label(&mut self, attack_id: &'static str, analytic: &'static str, technique: &'static str, account: &str, who: usize) -> u32 {
        self.plan.labels.push(Draft {
            attack_id,
            analytic,
            technique,
            account_uid: account.to_ascii_lowercase(),
            // As the normalisers key principals: Entra applications by object id.
            actor_uid: match PRINCIPALS[who].kind {
                Kind::Sp | Kind::Mi => PRINCIPALS[who].oid.to_ascii_lowercase(),
                Kind::User | Kind::Sa => PRINCIPALS[who].name.to_ascii_lowercase(),
            },
        });
        (self.plan.labels.len() - 1) as u32
    }

    #[allow(clippy::too_many_arguments)]
    fn ev(&mut self, t_us: i64, who: usize, ip: &'static str, ua: Option<&'static str>, body: Body, label: u32) {
        let seq = 2 << 40 | self.plan.events.len() as u64;
        self.plan.events.push(Ev { t_us, seq, who, ip: Some(ip), ua, via: None, body, label });
    }

    #[allow(clippy::too_many_arguments)]
    fn arm(&mut self, t: i64, who: usize, ip: &'static str, sub: usize, op: &'static str, rid: String, props: Option<String>, label: u32) {
        self.ev(t, who, ip, None, Body::Arm { sub, op, rid, phases: Phases::Sync, props }, label);
    }

    #[allow(clippy::too_many_arguments)]
    fn gcp(&mut self, t: i64, who: usize, ip: &'static str, ua: &'static str, project: usize, log: Log, service: &'static str, method: &'static str, resource: String, permission: &'static str, request: Option<String>, lro: bool, label: u32) {
        self.ev(t, who, ip, Some(ua), Body::Gcp { project, log, service, method, resource, permission, request, lro }, label);
    }
}

const UA_GCLOUD: &str = "google-cloud-sdk gcloud/467.0.0 command/gcloud.compute.instances.list invocation-id/5c1d environment/None environment-version/None client-os/LINUX client-os-ver/6.6.15 client-pltf-arch/x86_64 interactive/True from-script/False python/3.12.2 term/xterm-256color (Linux 6.6.15-amd64),gzip(gfe)";
const UA_BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0,gzip(gfe)";
const UA_PYTHON: &str = "google-api-python-client/2.120.0 gdcl/2.120.0 gl-python/3.11.8,gzip(gfe)";

/// Builds the plan for days `first..=last` (days since the epoch).
pub(crate) fn plan(seed: u64, first: i64, last: i64) -> Plan {
    let mut b = Builder { plan: Plan::default(), rng: Rng::new(hash(&[seed, 0xa77c])), first, last };

    // Z1: diagnostic setting deleted.
    let l = b.label("Z1-diagnostic-setting-deleted", "logging_disabled", "T1562.008", SUBS[PROD].id, SOFIA);
    let site = res_id(PROD, 0, "Microsoft.Web", "sites/func-orders-prod");
    let t = b.at(3, 22, 14);
    b.arm(t, SOFIA, "193.189.100.195", PROD, "Microsoft.Insights/diagnosticSettings/delete", format!("{site}/providers/Microsoft.Insights/diagnosticSettings/to-security-storage"), None, l);

    // Z2: Key Vault secret sweep.
    let l = b.label("Z2-keyvault-secret-sweep", "secret_access_volume", "T1555.006", SUBS[PROD].id, TOM);
    let mut t = b.at(2, 1, 20);
    let ua = "azsdk-python-keyvault-secrets/4.7.0 Python/3.12.2 (Linux-6.6.15-amd64-x86_64-with-glibc2.37)";
    for vault in 0..2 {
        b.ev(t, TOM, "91.219.236.18", Some(ua), Body::Kv { sub: PROD, vault, op: "SecretList", item: None }, NONE);
        t += 4 * SECOND;
        for s in super::activity::vault_secrets(PROD, vault) {
            for v in 0..6 {
                t += b.rng.range(10, 40) * SECOND / 2 + 1;
                let item = format!("{s}/{:032x}", hash(&[seed, v, s.len() as u64]) as u128 * 0x1_0000_0001);
                b.ev(t, TOM, "91.219.236.18", Some(ua), Body::Kv { sub: PROD, vault, op: "SecretGet", item: Some(item) }, l);
            }
        }
    }

    // Z3: management group created, subscription moved into it.
    let l = b.label("Z3-subscription-moved", "resource_hierarchy_change", "T1666", SUBS[DEV].id, MAREK);
    let mg = "/providers/Microsoft.Management/managementGroups/mg-fabrikam-sandbox-ext";
    let t = b.at(4, 19, 40);
    b.arm(t, MAREK, "5.188.62.140", DEV, "Microsoft.Management/managementGroups/write", mg.to_string(), None, l);
    b.arm(t + 3 * MINUTE, MAREK, "5.188.62.140", DEV, "Microsoft.Management/managementGroups/subscriptions/write", format!("{mg}/subscriptions/{}", SUBS[DEV].id), None, l);

    // Z4: Event Grid webhook by an unusual principal.
    let l = b.label("Z4-eventgrid-webhook", "event_trigger_created", "T1546", SUBS[PROD].id, SP_REPORTING);
    let st = res_id(PROD, 1, "Microsoft.Storage", "storageAccounts/stprodordersdata01");
    let body = super::json::lit(r#"{"properties":{"destination":{"endpointType":"WebHook","properties":{"endpointUrl":"https://hooks.relay-sync.example/api/ingest"}},"filter":{"includedEventTypes":["Microsoft.Storage.BlobCreated"]}}}"#);
    let t = b.at(1, 11, 5);
    b.ev(t, SP_REPORTING, "45.141.215.90", None, Body::Arm { sub: PROD, op: "Microsoft.EventGrid/eventSubscriptions/write", rid: format!("{st}/providers/Microsoft.EventGrid/eventSubscriptions/blob-sync"), phases: Phases::LongRunning, props: Some(format!(r#""requestbody":{body}"#)) }, l);

    // Z5: quota increases in three regions.
    let l = b.label("Z5-quota-increase", "quota_increase", "T1496.004", SUBS[DEV].id, NINA);
    let mut t = b.at(5, 23, 30);
    for region in ["eastus", "westus3", "southcentralus"] {
        let rid = format!("/subscriptions/{}/providers/Microsoft.Compute/locations/{region}/providers/Microsoft.Quota/quotas/standardNCADSA100v4Family", SUBS[DEV].id);
        let body = super::json::lit(r#"{"properties":{"limit":{"limitObjectType":"LimitValue","value":96},"name":{"value":"standardNCADSA100v4Family"}}}"#);
        b.arm(t, NINA, "103.251.167.20", DEV, "Microsoft.Quota/quotas/write", rid, Some(format!(r#""requestbody":{body}"#)), l);
        t += 4 * MINUTE + b.rng.range(0, 50) * SECOND;
    }

    // G1: log sink disabled, then another deleted.
    let p = &PROJECTS[GPROD];
    let l = b.label("G1-log-sink-disabled", "logging_disabled", "T1562.008", p.id, KAI);
    let sink = format!("projects/{}/sinks/{}", p.id, p.sinks[0]);
    let req = format!(r#""@type":"type.googleapis.com/google.logging.v2.UpdateSinkRequest","sinkName":"{sink}","sink":{{"name":"{}","disabled":true}},"updateMask":"disabled""#, p.sinks[0]);
    let t = b.at(3, 20, 2);
    b.gcp(t, KAI, "185.243.218.41", UA_BROWSER, GPROD, Log::Activity, "logging.googleapis.com", "google.logging.v2.ConfigServiceV2.UpdateSink", sink, "logging.sinks.update", Some(req), false, l);
    let sink = format!("projects/{}/sinks/{}", p.id, p.sinks[1]);
    let req = format!(r#""@type":"type.googleapis.com/google.logging.v2.DeleteSinkRequest","sinkName":"{sink}""#);
    b.gcp(t + 3 * MINUTE, KAI, "185.243.218.41", UA_BROWSER, GPROD, Log::Activity, "logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", sink, "logging.sinks.delete", Some(req), false, l);

    // G2: a leaked CI key enumerates the organisation.
    let l = b.label("G2-sa-enumeration", "enumeration_burst", "T1580", PROJECTS[GPROD].id, SA_DEPLOYER);
    let mut t = b.at(2, 16, 10);
    for round in 0..3 {
        for project in [GPROD, GDEV, GSEC] {
            let pid = PROJECTS[project].id;
            let num = PROJECTS[project].number;
            let calls: [(&str, &str, &str, String); 14] = [
                ("compute.googleapis.com", "v1.compute.instances.aggregatedList", "compute.instances.list", format!("projects/{pid}")),
                ("compute.googleapis.com", "v1.compute.firewalls.list", "compute.firewalls.list", format!("projects/{pid}/global/firewalls")),
                ("compute.googleapis.com", "v1.compute.networks.list", "compute.networks.list", format!("projects/{pid}/global/networks")),
                ("compute.googleapis.com", "v1.compute.disks.list", "compute.disks.list", format!("projects/{pid}/zones/europe-west1-b")),
                ("compute.googleapis.com", "v1.compute.snapshots.list", "compute.snapshots.list", format!("projects/{pid}/global/snapshots")),
                ("compute.googleapis.com", "v1.compute.projects.get", "compute.projects.get", format!("projects/{pid}")),
                ("compute.googleapis.com", "v1.compute.instances.list", "compute.instances.list", format!("projects/{pid}/zones/europe-west1-b")),
                ("storage.googleapis.com", "storage.buckets.list", "storage.buckets.list", "projects/_/buckets".to_string()),
                ("storage.googleapis.com", "storage.objects.list", "storage.objects.list", format!("projects/_/buckets/{pid}-artifacts")),
                ("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecrets", "secretmanager.secrets.list", format!("projects/{num}")),
                ("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecretVersions", "secretmanager.versions.list", format!("projects/{num}/secrets/{}", PROJECTS[project].secrets[0])),
                ("cloudresourcemanager.googleapis.com", "GetIamPolicy", "resourcemanager.projects.getIamPolicy", format!("projects/{pid}")),
                ("cloudresourcemanager.googleapis.com", "google.cloud.resourcemanager.v3.Projects.SearchProjects", "resourcemanager.projects.list", "projects".to_string()),
                ("cloudresourcemanager.googleapis.com", "google.cloud.resourcemanager.v3.Folders.SearchFolders", "resourcemanager.folders.list", "folders".to_string()),
            ];
            for (service, method, perm, res) in calls {
                if round > 0 && b.rng.chance(0.3) {
                    continue;
                }
                t += b.rng.range(2, 12) * SECOND;
                b.gcp(t, SA_DEPLOYER, "45.155.205.233", UA_GCLOUD, project, Log::DataAccess, service, method, res, perm, None, false, l);
            }
        }
    }

    // G3: a stolen workload token creates a public Cloud Function.
    let p = &PROJECTS[GPROD];
    let l = b.label("G3-cloud-function-new-principal", "serverless_change", "T1648", p.id, SA_ORDERS);
    let name = format!("projects/{}/locations/{}/functions/sys-health-sync", p.id, p.region);
    let req = format!(r#""@type":"type.googleapis.com/google.cloud.functions.v2.CreateFunctionRequest","parent":"projects/{}/locations/{}","functionId":"sys-health-sync","function":{{"name":"{name}","buildConfig":{{"runtime":"python312","entryPoint":"handler"}},"serviceConfig":{{"serviceAccountEmail":"{}"}}}}"#, p.id, p.region, PRINCIPALS[SA_ORDERS].name);
    let t = b.at(1, 9, 47);
    b.gcp(t, SA_ORDERS, "34.141.9.77", UA_PYTHON, GPROD, Log::Activity, "cloudfunctions.googleapis.com", "google.cloud.functions.v2.FunctionService.CreateFunction", name.clone(), "cloudfunctions.functions.create", Some(req), true, l);
    let req = format!(r#""@type":"type.googleapis.com/google.iam.v1.SetIamPolicyRequest","resource":"{name}","policy":{{"bindings":[{{"role":"roles/cloudfunctions.invoker","members":["allUsers"]}}]}}"#);
    b.gcp(t + 2 * MINUTE + 10 * SECOND, SA_ORDERS, "34.141.9.77", UA_PYTHON, GPROD, Log::Activity, "cloudfunctions.googleapis.com", "google.cloud.functions.v2.FunctionService.SetIamPolicy", name, "cloudfunctions.functions.setIamPolicy", Some(req), false, l);

    // G4 and G5: Vertex AI enabled, then GPU quota asked for.
    let p = &PROJECTS[GDEV];
    let l = b.label("G4-vertex-api-enabled", "region_or_service_enabled", "T1496.004", p.id, OMAR);
    let t = b.at(4, 13, 20);
    let res = format!("projects/{}/services/aiplatform.googleapis.com", p.number);
    let req = format!(r#""@type":"type.googleapis.com/google.api.serviceusage.v1.EnableServiceRequest","name":"{res}""#);
    b.gcp(t, OMAR, "102.129.143.66", UA_BROWSER, GDEV, Log::Activity, "serviceusage.googleapis.com", "google.api.serviceusage.v1.ServiceUsage.EnableService", res, "serviceusage.services.enable", Some(req), true, l);
    let l = b.label("G5-gpu-quota-preferences", "quota_increase", "T1496.004", p.id, OMAR);
    let mut t = t + 11 * MINUTE;
    for region in ["us-central1", "europe-west4", "asia-east1"] {
        let pref = format!("projects/{}/locations/global/quotaPreferences/a100-{region}", p.number);
        let req = format!(r#""@type":"type.googleapis.com/google.api.cloudquotas.v1.CreateQuotaPreferenceRequest","parent":"projects/{}/locations/global","quotaPreference":{{"service":"compute.googleapis.com","quotaId":"NVIDIA-A100-GPUS-per-project-region","dimensions":{{"region":"{region}"}},"quotaConfig":{{"preferredValue":"16"}}}}"#, p.number);
        b.gcp(t, OMAR, "102.129.143.66", UA_BROWSER, GDEV, Log::Activity, "cloudquotas.googleapis.com", "google.api.cloudquotas.v1.CloudQuotas.CreateQuotaPreference", pref, "cloudquotas.quotas.update", Some(req), false, l);
        t += 2 * MINUTE + b.rng.range(0, 40) * SECOND;
    }
    b.plan
}
