//! The synthetic Microsoft tenant `Fabrikam Sift`: offices, people, SharePoint sites and
//! their files, applications, and conditional-access policies.
//!
//! Names, departments, offices and time zones are fixed so that documentation and labels
//! can name them; the seed decides object ids, home addresses' details, user agents and all
//! activity.

use chrono_tz::Tz;

use super::super::rng::{hash, hash_str, mix, uuid_string};

/// The tenant id (`OrganizationId`, `tenantId`, `account_uid` of every record).
pub(crate) const TENANT_ID: &str = "5d2c7a1f-4e68-4b3a-9f0e-8c41a57e0b3f";
/// The verified domain of people's UPNs.
pub(crate) const DOMAIN: &str = "fabrikam-sift.com";
/// The initial `onmicrosoft.com` domain (Exchange object paths, break-glass account).
pub(crate) const ONMICROSOFT: &str = "fabrikamsift.onmicrosoft.com";
/// SharePoint team sites.
pub(crate) const SPO: &str = "https://fabrikamsift.sharepoint.com";
/// OneDrive personal sites.
pub(crate) const ODB: &str = "https://fabrikamsift-my.sharepoint.com";

/// Departments; each is a people's peer group in `directory.csv` and has a team site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dept {
    Finance,
    Engineering,
    Sales,
    Hr,
    It,
}

impl Dept {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dept::Finance => "Finance",
            Dept::Engineering => "Engineering",
            Dept::Sales => "Sales",
            Dept::Hr => "HR",
            Dept::It => "IT",
        }
    }

    /// Index into [`SITES`] of the department's team site.
    pub(crate) fn site(self) -> usize {
        self as usize
    }
}

/// A team site: (path under `/sites/`, document prefix, topics, number of files).
pub(crate) struct Site {
    pub path: &'static str,
    pub prefix: &'static str,
    pub topics: &'static [&'static str],
    pub files: u32,
}

/// Team sites in [`Dept`] order, then the company intranet everybody reads.
#[rustfmt::skip]
pub(crate) const SITES: &[Site] = &[
    Site { path: "Finance", prefix: "FIN", topics: &["Budget", "Forecast", "Invoice Register", "Payroll Accrual", "VAT Return", "Cash Flow", "Audit Evidence", "Expense Report"], files: 420 },
    Site { path: "Engineering", prefix: "ENG", topics: &["Design Doc", "Runbook", "Architecture", "Test Plan", "Release Notes", "Postmortem", "API Spec", "Roadmap"], files: 720 },
    Site { path: "Sales", prefix: "SLS", topics: &["Proposal", "Pricing", "Pipeline Review", "Contract", "Account Plan", "Quote", "Battlecard"], files: 400 },
    Site { path: "HR", prefix: "HR", topics: &["Offer Letter", "Onboarding Checklist", "Policy", "Review Form", "Headcount Plan", "Benefits"], files: 260 },
    Site { path: "IT", prefix: "IT", topics: &["Asset Register", "Change Log", "Network Diagram", "License Report", "Access Review"], files: 300 },
    Site { path: "Intranet", prefix: "COM", topics: &["All Hands", "Travel Policy", "Holiday Calendar", "Newsletter", "Org Chart", "Handbook"], files: 200 },
];
/// Index of the intranet in [`SITES`].
pub(crate) const INTRANET: usize = 5;
/// Files in each person's OneDrive.
pub(crate) const ONEDRIVE_FILES: u32 = 150;

const EXTS: &[&str] = &["docx", "xlsx", "pptx", "pdf", "xlsx", "docx", "csv"];

/// One file: site URL (with trailing `/`), folder relative to it, file name, extension.
pub(crate) struct File {
    pub site_url: String,
    pub folder: String,
    pub name: String,
    pub ext: &'static str,
}

impl File {
    /// `ObjectId` of a SharePoint record: the file's full URL.
    pub(crate) fn url(&self) -> String {
        format!("{}{}/{}", self.site_url, self.folder, self.name)
    }
}

/// An office: city, IANA zone, country code, egress address shared by everyone there.
pub(crate) struct Office {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub tz: Tz,
    pub egress: &'static str,
}

#[rustfmt::skip]
pub(crate) const OFFICES: &[Office] = &[
    Office { city: "Berlin", state: "Berlin", country: "DE", tz: chrono_tz::Europe::Berlin, egress: "198.51.100.23" },
    Office { city: "London", state: "England", country: "GB", tz: chrono_tz::Europe::London, egress: "203.0.113.41" },
    Office { city: "New York", state: "New York", country: "US", tz: chrono_tz::America::New_York, egress: "192.0.2.57" },
    Office { city: "Los Angeles", state: "California", country: "US", tz: chrono_tz::America::Los_Angeles, egress: "198.51.100.140" },
    Office { city: "Bengaluru", state: "Karnataka", country: "IN", tz: chrono_tz::Asia::Kolkata, egress: "203.0.113.188" },
];
const BER: u8 = 0;
const LON: u8 = 1;
const NYC: u8 = 2;
const LAX: u8 = 3;
const BLR: u8 = 4;

/// The hotel address of the travelling user (used by no one else).
pub(crate) const HOTEL_IP: &str = "192.0.2.201";
/// Attackers' addresses (VPN and hosting exits), one per scenario M1–M5; used by no one
/// else in the tenant.
pub(crate) const ATTACK_IPS: [&str; 5] = [
    "146.70.117.56",
    "91.132.139.204",
    "102.165.48.77",
    "45.146.164.110",
    "103.107.196.22",
];

/// Sign-in location (city, state, country code) of a literal address.
pub(crate) fn fixed_location(ip: &str) -> (&'static str, &'static str, &'static str) {
    match ip {
        HOTEL_IP => ("Paris", "Ile-de-France", "FR"),
        "146.70.117.56" => ("Amsterdam", "Noord-Holland", "NL"),
        "91.132.139.204" => ("Frankfurt am Main", "Hessen", "DE"),
        "102.165.48.77" => ("Lagos", "Lagos", "NG"),
        "45.146.164.110" => ("Bucharest", "Bucuresti", "RO"),
        "103.107.196.22" => ("Singapore", "Singapore", "SG"),
        _ => ("Amsterdam", "Noord-Holland", "NL"),
    }
}

/// Egress of the nightly backup application (an Azure address).
pub(crate) const BACKUP_IP: &str = "20.61.142.18";
/// Egress of the Power Automate flow (Logic Apps outbound address).
pub(crate) const FLOW_IP: &str = "52.174.54.218";

pub(crate) const UA_EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0";
pub(crate) const UA_CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
pub(crate) const UA_SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15";
pub(crate) const UA_TEAMS_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 Teams/24033.813.2773.520/49";
pub(crate) const UA_TEAMS_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Teams/24033.811.2738.2546/49";
pub(crate) const UA_SYNC: &str =
    "Microsoft SkyDriveSync 24.020.0128.0003 ship; Windows NT 10.0 (19045)";
pub(crate) const UA_BACKUP: &str = "SiftVault-Backup/3.8.1 (+https://siftvault.example/agent)";
pub(crate) const UA_FLOW: &str = "azure-logic-apps/1.0 (workflow 8f3c2d1e6b7a4c59a0e1d2f3b4c5d6e7; version 08584981726354901234)";

/// One person: a member of the tenant with a mailbox, a OneDrive and a rhythm.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// `first.last`.
    pub handle: &'static str,
    /// Lower-case UPN (`actor_uid` of the person's records).
    pub upn: String,
    /// The UPN with capitalised names, as some workloads log it.
    pub cased: String,
    pub name: String,
    pub dept: Dept,
    pub office: u8,
    /// Entra object id.
    pub object_id: String,
    /// Exchange / SharePoint PUID (16 upper-case hex digits).
    pub puid: String,
    pub home_ip: String,
    /// Share of workdays spent in the office (the rest at home).
    pub office_share: f64,
    /// Working day starts this many hours after the usual 08:00 (−1..=1).
    pub shift: i64,
    /// Interactive sign-ins per workday.
    pub signins: f64,
    /// Teams sessions per workday.
    pub teams: f64,
    /// File operations per workday at any scale.
    pub files: f64,
    /// Extra file operations per workday, multiplied by the scale (heavy users).
    pub heavy: f64,
    pub browser: &'static str,
    pub teams_ua: &'static str,
    /// Holds an admin role (Exchange cmdlets log `UserType` 2).
    pub admin: bool,
    /// Routine mailbox administration per workday (quotas, retention, litigation hold,
    /// client access; never forwarding): the Exchange admin and the help desk.
    pub mailbox_chores: f64,
    /// First and last active day (days since the epoch, inclusive).
    pub active: (i64, i64),
}

impl Person {
    pub(crate) fn tz(&self) -> Tz {
        OFFICES[self.office as usize].tz
    }

    /// Exchange object path of the mailbox (`ObjectId` prefix of inbox-rule records).
    pub(crate) fn mailbox_path(&self) -> String {
        let server = if OFFICES[self.office as usize].country == "US" {
            "NAMPR06A004"
        } else {
            "EURPR02A011"
        };
        format!(
            "{server}.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/{ONMICROSOFT}/{}",
            self.handle
        )
    }

    /// The person's OneDrive URL.
    pub(crate) fn onedrive(&self) -> String {
        format!("{ODB}/personal/{}/", self.upn.replace(['.', '@', '-'], "_"))
    }
}

struct PersonSpec {
    handle: &'static str,
    dept: Dept,
    office: u8,
    files: f64,
    heavy: f64,
    office_share: f64,
    admin: bool,
}

const fn p(
    handle: &'static str,
    dept: Dept,
    office: u8,
    files: f64,
    heavy: f64,
    office_share: f64,
) -> PersonSpec {
    PersonSpec {
        handle,
        dept,
        office,
        files,
        heavy,
        office_share,
        admin: false,
    }
}

const fn admin(handle: &'static str, office: u8, files: f64) -> PersonSpec {
    PersonSpec {
        handle,
        dept: Dept::It,
        office,
        files,
        heavy: 0.0,
        office_share: 0.6,
        admin: true,
    }
}

use Dept::*;

#[rustfmt::skip]
const PEOPLE: &[PersonSpec] = &[
    p("margaret.olsen", Finance, LON, 14.0, 0.0, 0.8),
    p("raj.patel", Finance, LON, 22.0, 40.0, 0.7),
    p("julia.schneider", Finance, BER, 20.0, 0.0, 0.6),
    p("michael.brooks", Finance, NYC, 18.0, 0.0, 0.5),
    p("ana.ferreira", Finance, BER, 20.0, 0.0, 0.7),
    p("deepa.iyer", Finance, BLR, 24.0, 90.0, 0.8),
    p("oliver.hughes", Engineering, LON, 20.0, 0.0, 0.5),
    p("felix.braun", Engineering, BER, 18.0, 0.0, 0.4),
    p("sarah.kim", Engineering, LAX, 22.0, 0.0, 0.3),
    p("arjun.nair", Engineering, BLR, 20.0, 0.0, 0.9),
    p("lena.hoffmann", Engineering, BER, 26.0, 160.0, 0.5),
    p("kevin.wu", Engineering, LAX, 24.0, 120.0, 0.2),
    p("ravi.kumar", Engineering, BLR, 18.0, 0.0, 0.9),
    p("tom.becker", Engineering, BER, 16.0, 0.0, 0.6),
    p("mei.lin", Engineering, LAX, 20.0, 0.0, 0.0),
    p("maria.gonzalez", Sales, NYC, 16.0, 0.0, 0.6),
    p("james.turner", Sales, LON, 14.0, 0.0, 0.7),
    p("emma.clarke", Sales, LON, 15.0, 0.0, 0.8),
    p("ryan.cooper", Sales, NYC, 18.0, 0.0, 0.5),
    p("lucy.bennett", Sales, LAX, 16.0, 0.0, 0.4),
    p("hannah.scott", Sales, LON, 15.0, 0.0, 0.6),
    p("nils.petersen", Sales, BER, 14.0, 0.0, 0.7),
    p("jordan.reyes", Sales, NYC, 16.0, 0.0, 1.0),
    p("katrin.vogel", Hr, BER, 14.0, 0.0, 0.7),
    p("lisa.wagner", Hr, BER, 16.0, 0.0, 0.6),
    p("aisha.khan", Hr, LON, 15.0, 0.0, 0.5),
    admin("kwame.mensah", LON, 12.0),
    admin("priya.raman", BLR, 12.0),
    admin("dan.whitaker", NYC, 10.0),
    admin("lukas.weber", BER, 12.0),
];

/// A conditional-access policy as Entra serialises it in audit `modifiedProperties`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    pub id: String,
    pub name: &'static str,
    pub created: String,
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    pub state: &'static str,
    pub include_users: Vec<String>,
    pub exclude_users: Vec<String>,
    pub include_roles: Vec<&'static str>,
    pub include_apps: Vec<&'static str>,
    pub client_app_types: Vec<&'static str>,
    pub controls: Vec<&'static str>,
}

/// Entra role template ids used by the admin policies.
const ROLE_GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const ROLE_EXCHANGE_ADMIN: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";

/// Policy indices.
pub(crate) const MFA_ALL: usize = 0;
pub(crate) const BLOCK_LEGACY: usize = 1;
pub(crate) const MFA_ADMINS: usize = 2;
pub(crate) const COMPLIANT_ADMINS: usize = 3;

/// The tenant and the days it is generated for.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub seed: u64,
    pub scale: f64,
    /// First and last day generated (days since the epoch).
    pub first: i64,
    pub last: i64,
    pub people: Vec<Person>,
    /// The new employee (first day in the last week).
    pub newcomer: u16,
    /// The travelling user and the two days at the hotel.
    pub traveller: u16,
    pub travel_days: [i64; 2],
    /// Conditional-access policies as they are at the start of the period.
    pub policies: Vec<Policy>,
    /// Application (client) ids of the backup app and the flow.
    pub backup_app: String,
    pub flow_app: String,
    /// Their service principals' object ids (`servicePrincipalId`, `ServicePrincipal_<id>`).
    pub backup_sp: String,
    pub flow_sp: String,
    pub breakglass_id: String,
    /// Object id of the scan-to-mail account the planned legacy-auth exclusion adds.
    pub scanner_id: String,
}

fn guid(seed: u64, tag: u64, key: &str) -> String {
    let h = hash(&[seed, tag, hash_str(key)]);
    uuid_string(h, mix(h))
}

fn capitalise(handle: &str) -> String {
    handle
        .split('.')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Tenant {
    /// The tenant for `first..=last` (days since the epoch). Every special day (new
    /// employee's start, travel, leave) is clamped into the period.
    pub(crate) fn build(seed: u64, scale: f64, first: i64, last: i64) -> Self {
        let day = |back: i64| (last - back).max(first);
        let browsers = [UA_EDGE_WIN, UA_CHROME_MAC, UA_EDGE_WIN, UA_SAFARI_MAC];
        let people: Vec<Person> = PEOPLE
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let h = hash(&[seed, 0x9e0, hash_str(s.handle)]);
                let nets = ["192.0.2", "198.51.100", "203.0.113"];
                // A few homes are on IPv6-only broadband (documentation prefix).
                let home_ip = if i % 7 == 3 {
                    format!(
                        "2001:db8:{:x}:{:x}::{:x}",
                        0x7a00 + i,
                        (h >> 16) & 0xfff,
                        (h >> 40) & 0xfff | 1
                    )
                } else {
                    format!("{}.{}", nets[i % 3], 60 + i)
                };
                let browser = browsers[(h % 4) as usize];
                let name = capitalise(s.handle).replace('.', " ");
                Person {
                    handle: s.handle,
                    upn: format!("{}@{DOMAIN}", s.handle),
                    cased: format!("{}@{DOMAIN}", capitalise(s.handle)),
                    name,
                    dept: s.dept,
                    office: s.office,
                    object_id: guid(seed, 1, s.handle),
                    puid: format!(
                        "{:016X}",
                        0x1003_2000_0000_0000u64 | (mix(h) & 0xffff_ffff_ffff)
                    ),
                    home_ip,
                    office_share: s.office_share,
                    shift: (h >> 8) as i64 % 3 - 1,
                    signins: 3.0 + ((h >> 12) % 4) as f64 + if s.admin { 2.0 } else { 0.0 },
                    teams: 2.0 + ((h >> 20) % 4) as f64,
                    files: s.files,
                    heavy: s.heavy,
                    browser,
                    teams_ua: if browser == UA_EDGE_WIN {
                        UA_TEAMS_WIN
                    } else {
                        UA_TEAMS_MAC
                    },
                    admin: s.admin,
                    mailbox_chores: match s.handle {
                        "priya.raman" => 1.2,
                        "dan.whitaker" => 0.6,
                        _ => 0.0,
                    },
                    active: (i64::MIN, i64::MAX),
                }
            })
            .collect();
        let mut t = Tenant {
            seed,
            scale,
            first,
            last,
            people,
            newcomer: 0,
            traveller: 0,
            travel_days: [day(4), day(3)],
            policies: Vec::new(),
            backup_app: guid(seed, 2, "backup"),
            flow_app: guid(seed, 2, "flow"),
            backup_sp: guid(seed, 4, "backup"),
            flow_sp: guid(seed, 4, "flow"),
            breakglass_id: guid(seed, 1, "breakglass"),
            scanner_id: guid(seed, 1, "scan-to-mail"),
        };
        t.newcomer = t.person("jordan.reyes");
        t.traveller = t.person("hannah.scott");
        let newcomer = t.newcomer as usize;
        t.people[newcomer].active.0 = day(6);
        // Goes on leave the day the Exchange admin forwards the mailbox to a colleague.
        let leaver = t.person("tom.becker") as usize;
        t.people[leaver].active.1 = day(4) - 1;
        let everyone = vec!["All".to_string()];
        t.policies = vec![
            Policy {
                id: guid(seed, 3, "mfa-all"),
                name: "Require MFA for all users",
                created: "2023-06-12T09:41:27.4417712+00:00".to_string(),
                state: "enabled",
                include_users: everyone.clone(),
                exclude_users: vec![t.breakglass_id.clone()],
                include_roles: vec![],
                include_apps: vec!["All"],
                client_app_types: vec!["all"],
                controls: vec!["mfa"],
            },
            Policy {
                id: guid(seed, 3, "block-legacy"),
                name: "Block legacy authentication",
                created: "2023-06-12T09:52:03.1180245+00:00".to_string(),
                state: "enabled",
                include_users: everyone,
                exclude_users: vec![t.breakglass_id.clone()],
                include_roles: vec![],
                include_apps: vec!["All"],
                client_app_types: vec!["exchangeActiveSync", "other"],
                controls: vec!["block"],
            },
            Policy {
                id: guid(seed, 3, "mfa-admins"),
                name: "Require MFA for administrators",
                created: "2023-02-20T14:05:51.9023310+00:00".to_string(),
                state: "enabled",
                include_users: vec![],
                exclude_users: vec![t.breakglass_id.clone()],
                include_roles: vec![ROLE_GLOBAL_ADMIN, ROLE_EXCHANGE_ADMIN],
                include_apps: vec!["All"],
                client_app_types: vec!["all"],
                controls: vec!["mfa"],
            },
            Policy {
                id: guid(seed, 3, "compliant-admins"),
                name: "Require compliant device for administrators",
                created: "".to_string(),
                state: "enabledForReportingButNotEnforced",
                include_users: vec![],
                exclude_users: vec![t.breakglass_id.clone()],
                include_roles: vec![ROLE_GLOBAL_ADMIN, ROLE_EXCHANGE_ADMIN],
                include_apps: vec!["All"],
                client_app_types: vec!["all"],
                controls: vec!["compliantDevice"],
            },
        ];
        t
    }

    /// Index of the person with `handle`.
    ///
    /// # Panics
    /// When no such person exists (a programming error in the scenario tables).
    pub(crate) fn person(&self, handle: &str) -> u16 {
        self.people
            .iter()
            .position(|p| p.handle == handle)
            .unwrap_or_else(|| panic!("no person {handle}")) as u16
    }

    /// Whether person `i` works on day `d` (days since the epoch) at all.
    pub(crate) fn is_active(&self, i: u16, d: i64) -> bool {
        let (a, b) = self.people[i as usize].active;
        (a..=b).contains(&d)
    }

    /// File `k` of team site `site`.
    pub(crate) fn site_file(&self, site: usize, k: u32) -> File {
        let s = &SITES[site];
        let h = hash(&[self.seed, 0xf11e, site as u64, k as u64]);
        let topic = s.topics[(h % s.topics.len() as u64) as usize];
        let ext = EXTS[((h >> 8) % EXTS.len() as u64) as usize];
        let folder = format!(
            "Shared Documents/{}",
            ["General", "Projects", "Archive", "2024", "Templates"][((h >> 16) % 5) as usize]
        );
        File {
            site_url: format!("{SPO}/sites/{}/", s.path),
            folder,
            name: format!("{}-{:04} {topic}.{ext}", s.prefix, k + 100),
            ext,
        }
    }

    /// File `k` of person `i`'s OneDrive.
    pub(crate) fn onedrive_file(&self, i: u16, k: u32) -> File {
        let p = &self.people[i as usize];
        let h = hash(&[self.seed, 0x0d1e, i as u64, k as u64]);
        let words = [
            "Notes",
            "Draft",
            "Meeting Notes",
            "Slides",
            "Analysis",
            "Checklist",
            "Summary",
        ];
        let ext = EXTS[((h >> 8) % EXTS.len() as u64) as usize];
        File {
            site_url: p.onedrive(),
            folder: "Documents".to_string(),
            name: format!(
                "{} {:03}.{ext}",
                words[(h % words.len() as u64) as usize],
                k + 1
            ),
            ext,
        }
    }

    /// Total number of distinct files (team sites plus every OneDrive).
    pub(crate) fn file_count(&self) -> u32 {
        SITES.iter().map(|s| s.files).sum::<u32>() + ONEDRIVE_FILES * self.people.len() as u32
    }
}
