//! Who the Microsoft 365 / Entra ID users are and what is normal for them: the user
//! directory (IANA time zone and peer group per user), local hour-of-week in the user's
//! zone, first-seen IPs and user agents with their prevalence in the tenant, and which
//! agents are scripts, sync clients or Microsoft services acting for a user. Shared by
//! [`super::session_anomaly`] and [`super::file_access_anomaly`].
//!
//! ## Directory settings (same three keys in both analytics' tables)
//! - `directory = "users.csv"`: a CSV file with the header
//!   `user_principal_name,time_zone,peer_group` (`time_zone` an IANA name such as
//!   `America/New_York`, `peer_group` free text such as a department; either may be
//!   empty, extra columns are ignored). Relative paths are resolved against the pipeline
//!   file's folder. UPNs are compared lower-cased (the lake's `actor_uid` for people).
//! - `time_zones = { "alice@example.com" = "America/New_York" }`: overrides the file.
//! - `default_time_zone = "Europe/Paris"`: for users with no zone; unset means UTC.
//!
//! Errors are [`crate::Error::Config`] naming the key (`analytics.<id>.time_zones."bob@x"`)
//! or the file and its row (the header is row 1). Users without any zone are profiled
//! in UTC and findings say so; the host's zone is never used (case P38).
//!
//! ## Novelty and prevalence ([`Activity`])
//! Built from one aggregate over every Microsoft 365 / Entra row of the lookback: per
//! (tenant, user, IP) and (tenant, user, user agent) the first use, the uses before the
//! scoring window and in it. IPv6 addresses count by their /64 ([`ip_key`]). Only
//! people's (`actor_type` `user`) rows that did not fail count: a failed attempt does
//! not make an address anyone's (a password spray against fifty accounts from one IP must
//! not make that IP "prevalent" before its one successful login). Rows whose agent is a
//! Microsoft service acting for the user ([`SERVICE_USER_AGENTS`]: Office for the web
//! back ends, Teams) are ignored for IPs: a service working on a user's document does
//! not give the user a new IP (case P40's lesson, for Microsoft 365).
//! Tenant prevalence of an IP is the set of other people who used it, split into those
//! who used it *before* the user first did and those who came after: an address that
//! other people used first is the tenant's (an office or VPN egress); one the user
//! brought into the tenant is new to it even if other accounts follow later (a second
//! stolen account behind the same attacker proxy does not make the address benign).
//!
//! ## Peer groups
//! The directory's `peer_group`; users without one are peers of every other person of
//! their tenant without a group. Automation (`actor_type` service_principal, application,
//! managed_identity, system, service_account; see [`crate::schema::ActorType::is_automation`])
//! is never anyone's peer. Peers are the people of the group active in the scoring
//! window (any Microsoft 365 / Entra row), counted with 0 when they did none of the
//! measured thing; [`peer_spread`] gives their nearest-rank quantile and the "far above"
//! threshold `factor` × max(quantile, 1).
//!
//! ## One scan
//! [`scan`] reads the lookback once (only the `provider=m365` / `provider=entra`
//! partitions, only the columns in [`SCAN_COLUMNS`]); the analytics run their group-bys
//! on that frame in memory. About 0.1 s per analytic on a lake of 100k rows (two cores;
//! the ignored test `perf_session_and_file_runs_on_100k_rows`).

mod activity;
mod directory;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use activity::{scan, Activity, Novelty, UserActivity, SCAN_COLUMNS};
pub use directory::{local_slot, Directory, DirectorySettings, LocalSlot, UserZone, ZoneSource};

/// Lower-case fragments of user agents of scripts and command-line HTTP clients: a
/// person's documents read through these are fetched by a program, the pattern of bulk
/// collection tools (rclone, PnP PowerShell, Graph scripts). Follows the agents that
/// Microsoft Sentinel's "SharePointFileOperation via devices with previously unseen user
/// agents" hunts and Elastic's Microsoft 365 rules name. Desktop Office agents such as
/// `Microsoft Office/16.0 (…; Microsoft Outlook …)` are not scripts and match none.
pub const SCRIPTED_USER_AGENTS: &[&str] = &[
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "curl/",
    "wget",
    "powershell",
    "sharepointpnp",
    "pnpcoresdk",
    "rclone",
    "go-http-client",
    "okhttp",
    "axios",
    "node-fetch",
    "postmanruntime",
    "libwww-perl",
    "apache-httpclient",
    "java/",
];

/// Lower-case fragments of agents of Microsoft 365 services that act on a user's
/// document or chat from Microsoft's own address space (Office for the web back ends,
/// Teams). Their rows carry the user as actor but the IP of a Microsoft data centre, so
/// they are left out of IP novelty. Taken from the Sentinel Training Lab's OfficeActivity
/// export, where every row with these agents has a 52.x / 104.x / 40.x Microsoft address.
/// `OneDriveMpc-Transform_Thumbnail` is *not* listed: in the same export it carries the
/// user's own client address (175.45.176.99).
pub const SERVICE_USER_AGENTS: &[&str] = &["mswac", "officepods", "officewordwrs", "skypespaces"];

/// Lower-case fragments of the OneDrive sync client's agent. Sync traffic is profiled
/// apart from a person's interactive file access: a first sync downloads a whole library.
pub const SYNC_USER_AGENTS: &[&str] = &["skydrivesync", "onedrivesync", "onedrive sync"];

fn has_fragment(user_agent: &str, fragments: &[&str]) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    fragments.iter().any(|f| ua.contains(f))
}

/// True when `user_agent` is a script or command-line HTTP client ([`SCRIPTED_USER_AGENTS`]).
pub fn is_scripted_user_agent(user_agent: &str) -> bool {
    has_fragment(user_agent, SCRIPTED_USER_AGENTS)
}

/// True when `user_agent` is a Microsoft service acting for the user ([`SERVICE_USER_AGENTS`]).
pub fn is_service_user_agent(user_agent: &str) -> bool {
    has_fragment(user_agent, SERVICE_USER_AGENTS)
}

/// True for OneDrive sync traffic: a `FileSync…` operation or a sync-client agent
/// ([`SYNC_USER_AGENTS`]).
pub fn is_sync(operation: &str, user_agent: Option<&str>) -> bool {
    operation.starts_with("FileSync") || user_agent.is_some_and(|ua| has_fragment(ua, SYNC_USER_AGENTS))
}

/// The address an IP counts as for novelty: IPv4 as is, IPv6 as its /64 prefix
/// (`2001:db8:1:2::/64`). IPv6 hosts rotate the low 64 bits (RFC 8981 temporary
/// addresses) several times a day, so exact IPv6 addresses would make every laptop "new"
/// daily; the /64 is the subscriber's network. Text that is not an IP is kept as is.
pub fn ip_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(|| ip.to_string(), |v4| v4.to_string()),
        _ => ip.to_string(),
    }
}

/// The peer-group key of a user: the directory's group, or `""` for "the tenant's people
/// without a group".
pub fn peer_key<'a>(directory: &'a Directory, user: &str) -> &'a str {
    directory.peer_group(user).unwrap_or("")
}

/// Nearest-rank quantile of a non-empty sample: the ⌈q·n⌉-th smallest value (q in (0, 1]).
pub fn nearest_rank(values: &[u64], q: f64) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or(0)
}

/// How a peer population's counts spread: `n` peers, their `quantile`, the "far above"
/// `threshold` = factor × max(quantile, 1), and the busiest three (UPN, count).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerSpread {
    /// Peers counted (the user excluded).
    pub n: usize,
    /// Nearest-rank quantile of the peers' counts.
    pub quantile: u64,
    /// `factor` × max(`quantile`, 1): at or above it a count is far above the peers.
    pub threshold: f64,
    /// The busiest peers, at most three, busiest first (ties by name).
    pub top: Vec<(String, u64)>,
}

/// The spread of `counts` ((UPN, count) of the peers, the user excluded); `None` with
/// fewer than `min_peers` peers. The floor of 1 keeps peers who did nothing from making
/// any single event "far above" them.
pub fn peer_spread(mut counts: Vec<(String, u64)>, min_peers: usize, quantile: f64, factor: f64) -> Option<PeerSpread> {
    if counts.len() < min_peers.max(1) {
        return None;
    }
    let values: Vec<u64> = counts.iter().map(|x| x.1).collect();
    let q = nearest_rank(&values, quantile);
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts.truncate(3);
    Some(PeerSpread { n: values.len(), quantile: q, threshold: factor * (q.max(1) as f64), top: counts })
}

/// A human-readable list of at most `max` items, with "+N more".
pub(crate) fn short_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}, +{more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Places a statistical risk score inside the band of the severity the analytic decided,
/// so that ranking by risk and filtering by severity agree (bands of
/// [`crate::findings::Severity::from_risk_score`]).
pub(crate) fn risk_in_band(severity: crate::findings::Severity, raw: f64) -> f64 {
    use crate::findings::Severity::*;
    let (lo, hi) = match severity {
        Info => (0.0, 19.9),
        Low => (20.0, 39.9),
        Medium => (40.0, 69.9),
        High => (70.0, 89.9),
        Critical => (90.0, 100.0),
    };
    raw.clamp(lo, hi)
}
