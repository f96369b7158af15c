//! ATT&CK technique names and tactics for the technique ids of the built-in catalogue, so
//! that exports carry `tactic` and names (findings store only ids).
//!
//! Source: MITRE ATT&CK Enterprise v16.1 technique pages (attack.mitre.org/techniques/...,
//! "Tactic:" line and title), the version every id below was checked against. T1685.002 is
//! ATT&CK v19's id for "Disable or Modify Cloud Logs" (T1562.008 before, see
//! [`crate::catalog::ATTACK_RENUMBERED`]); it carries T1562.008's name and tactic, and its
//! parent id is given without a name. Ids outside the table (user catalogues) are exported
//! with their id only.

/// Version of ATT&CK Enterprise the names and tactics of [`TECHNIQUES`] come from.
pub const TABLE_ATTACK_VERSION: &str = "16.1";

/// An ATT&CK tactic: id (`TA0005`) and name.
pub type Tactic = (&'static str, &'static str);

const INITIAL_ACCESS: Tactic = ("TA0001", "Initial Access");
const EXECUTION: Tactic = ("TA0002", "Execution");
const PERSISTENCE: Tactic = ("TA0003", "Persistence");
const PRIVILEGE_ESCALATION: Tactic = ("TA0004", "Privilege Escalation");
const DEFENSE_EVASION: Tactic = ("TA0005", "Defense Evasion");
const CREDENTIAL_ACCESS: Tactic = ("TA0006", "Credential Access");
const DISCOVERY: Tactic = ("TA0007", "Discovery");
const LATERAL_MOVEMENT: Tactic = ("TA0008", "Lateral Movement");
const COLLECTION: Tactic = ("TA0009", "Collection");
const IMPACT: Tactic = ("TA0040", "Impact");

/// `(technique or sub-technique id, name, tactics)`; the first tactic is the one the
/// catalogue's use of the technique serves (exported as `tactic`).
pub const TECHNIQUES: &[(&str, &str, &[Tactic])] = &[
    ("T1046", "Network Service Discovery", &[DISCOVERY]),
    ("T1053", "Scheduled Task/Job", &[EXECUTION, PERSISTENCE, PRIVILEGE_ESCALATION]),
    ("T1069", "Permission Groups Discovery", &[DISCOVERY]),
    ("T1069.003", "Cloud Groups", &[DISCOVERY]),
    ("T1078", "Valid Accounts", &[DEFENSE_EVASION, PERSISTENCE, PRIVILEGE_ESCALATION, INITIAL_ACCESS]),
    ("T1078.004", "Cloud Accounts", &[DEFENSE_EVASION, PERSISTENCE, PRIVILEGE_ESCALATION, INITIAL_ACCESS]),
    ("T1087", "Account Discovery", &[DISCOVERY]),
    ("T1087.004", "Cloud Account", &[DISCOVERY]),
    ("T1114", "Email Collection", &[COLLECTION]),
    ("T1114.003", "Email Forwarding Rule", &[COLLECTION]),
    ("T1213", "Data from Information Repositories", &[COLLECTION]),
    ("T1213.002", "Sharepoint", &[COLLECTION]),
    ("T1485", "Data Destruction", &[IMPACT]),
    ("T1496", "Resource Hijacking", &[IMPACT]),
    ("T1496.004", "Cloud Service Hijacking", &[IMPACT]),
    ("T1518", "Software Discovery", &[DISCOVERY]),
    ("T1518.001", "Security Software Discovery", &[DISCOVERY]),
    ("T1526", "Cloud Service Discovery", &[DISCOVERY]),
    ("T1528", "Steal Application Access Token", &[CREDENTIAL_ACCESS]),
    ("T1530", "Data from Cloud Storage", &[COLLECTION]),
    ("T1535", "Unused/Unsupported Cloud Regions", &[DEFENSE_EVASION]),
    ("T1546", "Event Triggered Execution", &[PERSISTENCE, PRIVILEGE_ESCALATION]),
    ("T1550", "Use Alternate Authentication Material", &[DEFENSE_EVASION, LATERAL_MOVEMENT]),
    ("T1550.001", "Application Access Token", &[DEFENSE_EVASION, LATERAL_MOVEMENT]),
    ("T1552", "Unsecured Credentials", &[CREDENTIAL_ACCESS]),
    ("T1555", "Credentials from Password Stores", &[CREDENTIAL_ACCESS]),
    ("T1555.006", "Cloud Secrets Management Stores", &[CREDENTIAL_ACCESS]),
    ("T1556", "Modify Authentication Process", &[CREDENTIAL_ACCESS, DEFENSE_EVASION, PERSISTENCE]),
    ("T1556.009", "Conditional Access Policies", &[DEFENSE_EVASION, CREDENTIAL_ACCESS, PERSISTENCE]),
    ("T1562", "Impair Defenses", &[DEFENSE_EVASION]),
    ("T1562.008", "Disable or Modify Cloud Logs", &[DEFENSE_EVASION]),
    ("T1564", "Hide Artifacts", &[DEFENSE_EVASION]),
    ("T1564.008", "Email Hiding Rules", &[DEFENSE_EVASION]),
    ("T1578", "Modify Cloud Compute Infrastructure", &[DEFENSE_EVASION]),
    ("T1578.005", "Modify Cloud Compute Configurations", &[DEFENSE_EVASION]),
    ("T1580", "Cloud Infrastructure Discovery", &[DISCOVERY]),
    ("T1619", "Cloud Storage Object Discovery", &[DISCOVERY]),
    ("T1648", "Serverless Execution", &[EXECUTION]),
    ("T1666", "Modify Cloud Resource Hierarchy", &[DEFENSE_EVASION]),
    ("T1685.002", "Disable or Modify Cloud Logs", &[DEFENSE_EVASION]),
];

/// Name and tactics of a technique id, when the table has it.
pub fn lookup(id: &str) -> Option<(&'static str, &'static [Tactic])> {
    TECHNIQUES.iter().find(|(t, _, _)| t.eq_ignore_ascii_case(id)).map(|(_, n, t)| (*n, *t))
}

/// The parent technique id of a sub-technique (`T1562.008` → `T1562`); `None` for a
/// technique.
pub fn parent(id: &str) -> Option<&str> {
    id.split_once('.').map(|(p, _)| p)
}
