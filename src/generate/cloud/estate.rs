//! The Azure subscriptions, GCP projects and principals of the cloud estate, and the
//! lightweight event description ([`Ev`]) that `activity.rs` and `attacks.rs` produce and
//! `azure.rs` / `gcp.rs` render.

/// The Entra tenant that owns the subscriptions (the same tenant as the Microsoft 365 one).
pub(crate) const TENANT_ID: &str = "5d2c7a1f-4e68-4b3a-9f0e-8c41a57e0b3f";
/// Management groups the subscriptions sit in (under the tenant root group).
pub(crate) const MG_PROD: &str = "mg-fabrikam-prod";
pub(crate) const MG_NONPROD: &str = "mg-fabrikam-nonprod";
pub(crate) const MG_PLATFORM: &str = "mg-fabrikam-platform";

/// An Azure subscription.
#[derive(Debug)]
pub(crate) struct Sub {
    pub id: &'static str,
    pub mg: &'static str,
    /// Resource groups.
    pub rgs: &'static [&'static str],
    /// Function Apps (resource group index, name).
    pub sites: &'static [(usize, &'static str)],
    /// Key Vaults (resource group index, name).
    pub vaults: &'static [(usize, &'static str)],
    /// Logic Apps (resource group index, name).
    pub workflows: &'static [(usize, &'static str)],
    /// Storage accounts (resource group index, name) that Event Grid subscriptions watch.
    pub storage: &'static [(usize, &'static str)],
}

pub(crate) const PROD: usize = 0;
pub(crate) const DEV: usize = 1;
pub(crate) const SHARED: usize = 2;

pub(crate) const SUBS: [Sub; 3] = [
    Sub {
        id: "8b3e6f1a-2c4d-4e5f-9a0b-1c2d3e4f5a61",
        mg: MG_PROD,
        rgs: &["rg-prod-app", "rg-prod-data", "rg-prod-network"],
        sites: &[(0, "func-orders-prod"), (0, "func-billing-prod")],
        vaults: &[(0, "kv-prod-app"), (1, "kv-prod-data")],
        workflows: &[(0, "logic-invoice-intake")],
        storage: &[(1, "stprodordersdata01")],
    },
    Sub {
        id: "2f7a9c3e-5b1d-4a8e-8c6f-0d9e1b2a3c72",
        mg: MG_NONPROD,
        rgs: &["rg-dev-app", "rg-dev-sandbox"],
        sites: &[(0, "func-orders-dev"), (0, "func-billing-dev")],
        vaults: &[(0, "kv-dev-app")],
        workflows: &[(0, "logic-invoice-dev")],
        storage: &[(0, "stdevorders01")],
    },
    Sub {
        id: "c41d8e2b-7f3a-4b6c-9e1d-5a8b2c4d6e83",
        mg: MG_PLATFORM,
        rgs: &["rg-sec-logging", "rg-sec-keys"],
        sites: &[(0, "func-secops-enrich")],
        vaults: &[(1, "kv-shared-sec")],
        workflows: &[(0, "logic-sec-notify")],
        storage: &[(0, "stseclogarchive01")],
    },
];

/// A GCP project.
#[derive(Debug)]
pub(crate) struct Project {
    pub id: &'static str,
    pub number: &'static str,
    pub region: &'static str,
    pub functions: &'static [&'static str],
    pub secrets: &'static [&'static str],
    pub sinks: &'static [&'static str],
}

pub(crate) const GPROD: usize = 0;
pub(crate) const GDEV: usize = 1;
pub(crate) const GSEC: usize = 2;

pub(crate) const PROJECTS: [Project; 3] = [
    Project {
        id: "sift-prod-4821",
        number: "731942865014",
        region: "europe-west1",
        functions: &["orders-webhook", "invoice-render", "stock-sync"],
        secrets: &["orders-db-password", "stripe-api-key", "smtp-relay", "jwt-signing-key", "partner-sftp"],
        sinks: &["org-audit-to-sec", "prod-audit-archive"],
    },
    Project {
        id: "sift-dev-2273",
        number: "518830274466",
        region: "europe-west1",
        functions: &["orders-webhook", "invoice-render"],
        secrets: &["orders-db-password", "stripe-test-key"],
        sinks: &["dev-audit-to-sec"],
    },
    Project {
        id: "sift-sec-9914",
        number: "209475531886",
        region: "europe-north1",
        functions: &["finding-enricher"],
        secrets: &["siem-ingest-token"],
        sinks: &["sec-audit-bq"],
    },
];

/// What kind of principal, as the logs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An Entra / Google Workspace user (UPN or e-mail).
    User,
    /// An Entra service principal (app registration).
    Sp,
    /// An Azure managed identity.
    Mi,
    /// A GCP service account.
    Sa,
}

/// A principal. People act in both clouds with the same address; automation in one.
#[derive(Debug)]
pub(crate) struct Principal {
    /// UPN / e-mail (people, service accounts) or display name (service principals,
    /// managed identities).
    pub name: &'static str,
    pub kind: Kind,
    /// Entra object id (Azure principals).
    pub oid: &'static str,
    /// Entra application id (service principals, managed identities).
    pub appid: &'static str,
    /// The usual source address (office, home, runner range, Azure / GCP egress).
    pub ip: &'static str,
    /// Local office hours offset from UTC (people), hours.
    pub utc_offset: i64,
}

const fn person(name: &'static str, oid: &'static str, ip: &'static str, utc_offset: i64) -> Principal {
    Principal { name, kind: Kind::User, oid, appid: "", ip, utc_offset }
}

const fn app(name: &'static str, kind: Kind, oid: &'static str, appid: &'static str, ip: &'static str) -> Principal {
    Principal { name, kind, oid, appid, ip, utc_offset: 0 }
}

// People (Berlin office UTC+1 shares 195.90.12.34; London UTC+0 shares 81.128.44.7).
pub(crate) const PRIYA: usize = 0; // cloud platform admin (Azure + GCP)
pub(crate) const TOM: usize = 1; // developer, Azure
pub(crate) const SOFIA: usize = 2; // developer, Azure
pub(crate) const AHMED: usize = 3; // developer, admin from end − 13 (role change)
pub(crate) const MAREK: usize = 4; // FinOps, tags and cost views
pub(crate) const NINA: usize = 5; // developer, Azure
pub(crate) const KAI: usize = 6; // developer, GCP
pub(crate) const LEA: usize = 7; // developer, GCP
pub(crate) const OMAR: usize = 8; // data analyst, GCP
// Azure automation.
pub(crate) const SP_TERRAFORM: usize = 9;
pub(crate) const SP_DEPLOY: usize = 10;
pub(crate) const SP_REPORTING: usize = 11;
pub(crate) const SP_SCANNER: usize = 12;
pub(crate) const MI_ORDERS: usize = 13;
pub(crate) const MI_BILLING: usize = 14;
pub(crate) const MI_ETL: usize = 15; // rolled out mid-period
// GCP service accounts.
pub(crate) const SA_TERRAFORM: usize = 16;
pub(crate) const SA_DEPLOYER: usize = 17;
pub(crate) const SA_ORDERS: usize = 18;
pub(crate) const SA_SCANNER: usize = 19;
pub(crate) const SA_ETL: usize = 20; // rolled out mid-period

pub(crate) const PRINCIPALS: [Principal; 21] = [
    person("priya.nair@fabrikam-sift.com", "3f6a1c2e-8d4b-4f7a-9b1c-2e3d4f5a6b01", "195.90.12.34", 1),
    person("tom.becker@fabrikam-sift.com", "7c2d9e4f-1a3b-4c5d-8e6f-7a8b9c0d1e02", "195.90.12.34", 1),
    person("sofia.rossi@fabrikam-sift.com", "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c03", "81.128.44.7", 0),
    person("ahmed.khan@fabrikam-sift.com", "d4e5f6a7-8b9c-4d0e-9f1a-2b3c4d5e6f04", "81.128.44.7", 0),
    person("marek.novak@fabrikam-sift.com", "e5f6a7b8-9c0d-4e1f-8a2b-3c4d5e6f7a05", "195.90.12.34", 1),
    person("nina.berg@fabrikam-sift.com", "f6a7b8c9-0d1e-4f2a-9b3c-4d5e6f7a8b06", "195.90.12.34", 1),
    person("kai.schmidt@fabrikam-sift.com", "", "195.90.12.34", 1),
    person("lea.martin@fabrikam-sift.com", "", "81.128.44.7", 0),
    person("omar.haddad@fabrikam-sift.com", "", "81.128.44.7", 0),
    app("sp-terraform-ci", Kind::Sp, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c10", "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e111", "20.61.144.0"),
    app("sp-func-deploy", Kind::Sp, "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d11", "7a2f3e4d-5c6b-4a79-8887-b6c5d4e3f212", "20.61.144.0"),
    app("sp-reporting-sync", Kind::Sp, "2c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e12", "8b3a4f5e-6d7c-4b8a-9998-c7d6e5f4a313", "20.50.101.17"),
    app("sp-cspm-scanner", Kind::Sp, "3d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f13", "9c4b5a6f-7e8d-4c9b-8aa9-d8e7f6a5b414", "52.232.19.240"),
    app("mi-orders-api", Kind::Mi, "4e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a14", "ad5c6b7a-8f9e-4dac-9bba-e9f8a7b6c515", "20.73.226.41"),
    app("mi-billing-func", Kind::Mi, "5f6a7b8c-9d0e-4f1a-9b2c-4d5e6f7a8b15", "be6d7c8b-9a0f-4ebd-8ccb-fa09b8c7d616", "20.73.226.42"),
    app("mi-etl-ingest", Kind::Mi, "6a7b8c9d-0e1f-4a2b-8c3d-5e6f7a8b9c16", "cf7e8d9c-0b1a-4fce-9ddc-0b1ac9d8e717", "20.73.226.58"),
    app("terraform@sift-sec-9914.iam.gserviceaccount.com", Kind::Sa, "", "", "140.82.112.21"),
    app("gh-deployer@sift-dev-2273.iam.gserviceaccount.com", Kind::Sa, "", "", "140.82.112.22"),
    app("orders-api@sift-prod-4821.iam.gserviceaccount.com", Kind::Sa, "", "", "35.205.61.12"),
    app("scc-scanner@sift-sec-9914.iam.gserviceaccount.com", Kind::Sa, "", "", "35.228.93.7"),
    app("etl-runner@sift-prod-4821.iam.gserviceaccount.com", Kind::Sa, "", "", "35.205.61.44"),
];

/// Azure portal and Azure CLI application ids (the `appid` claim of people's tokens).
pub(crate) const APP_PORTAL: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
pub(crate) const APP_AZ_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// Which Azure Activity records one ARM operation leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phases {
    /// `Start` then `Success` (synchronous writes and actions).
    Sync,
    /// `Start`, `Accept` (HTTP 202) and `Success` (long-running writes).
    LongRunning,
    /// `Start` then `Failure` (denied or failed).
    Denied,
}

/// Which GCP audit log an entry goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Log {
    Activity,
    DataAccess,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// An ARM operation in subscription `sub`: `op` in REST spelling
    /// (`Microsoft.Web/sites/config/write`), `rid` the resource id in ARM's mixed case,
    /// `props` extra `properties` members as JSON object text without braces (e.g.
    /// `"requestbody":"{...}"`).
    Arm { sub: usize, op: &'static str, rid: String, phases: Phases, props: Option<String> },
    /// A Key Vault data-plane request: `op` (`SecretGet`), vault `(sub, vault index)`,
    /// `item` the secret name for item operations.
    Kv { sub: usize, vault: usize, op: &'static str, item: Option<String> },
    /// A Cloud Audit Logs entry in project `project`: `lro` writes the long-running
    /// operation's first and last entries; `request` is the request object's members
    /// (JSON text without braces, `@type` excluded).
    Gcp {
        project: usize,
        log: Log,
        service: &'static str,
        method: &'static str,
        resource: String,
        permission: &'static str,
        request: Option<String>,
        lro: bool,
    },
}

/// No label.
pub(crate) const NONE: u32 = u32::MAX;

/// One event: who did what, when, from where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ev {
    /// Unix µs.
    pub t_us: i64,
    /// Tie-breaker (stream and index), so the sort order is total.
    pub seq: u64,
    /// Index into [`PRINCIPALS`].
    pub who: usize,
    /// Source address (`None`: the principal's usual one).
    pub ip: Option<&'static str>,
    /// User agent (GCP; Key Vault `clientInfo`), `None`: the principal's usual one.
    pub ua: Option<&'static str>,
    /// GCP impersonation: the caller that impersonated the service account.
    pub via: Option<&'static str>,
    pub body: Body,
    /// Index of the label this event belongs to, or [`NONE`].
    pub label: u32,
}

/// The Terraform workload-identity subject (GitHub Actions on the infra repository).
pub(crate) const TF_SUBJECT: &str =
    "principal://iam.googleapis.com/projects/209475531886/locations/global/workloadIdentityPools/github/subject/repo:fabrikam-sift/infra:ref:refs/heads/main";

/// ARM id of a resource group.
pub(crate) fn rg_id(sub: usize, rg: usize) -> String {
    format!("/subscriptions/{}/resourceGroups/{}", SUBS[sub].id, SUBS[sub].rgs[rg])
}

/// ARM id of a resource `provider/type/name` in a resource group.
pub(crate) fn res_id(sub: usize, rg: usize, typ: &str, name: &str) -> String {
    format!("{}/providers/{typ}/{name}", rg_id(sub, rg))
}

/// Day of the week of a day number (0 = Monday).
pub(crate) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}
