//! The four accounts' resource names (trail, secrets, buckets, roles, functions, parameters,
//! tables, stacks, KMS key) and NAT addresses, derived from the account id.

use super::super::rng::{hash_str, mix, uuid_string};
use super::{Account, EUC1, EUW1};

/// One account with its resources; `secrets` get the six-character suffix Secrets Manager
/// appends to ARNs.
pub(super) fn account(
    id: &'static str,
    name: &'static str,
    home: u8,
    regions: Vec<u8>,
    trail: &str,
    secrets: &[&str],
) -> Account {
    let h = hash_str(id);
    let sfx = |s: &str| {
        let x = mix(h ^ hash_str(s));
        let alnum: String = (0..6)
            .map(|i| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [((x >> (i * 6)) % 62) as usize] as char
            })
            .collect();
        (s.to_string(), alnum)
    };
    Account {
        id,
        name,
        home,
        nat_ips: regions
            .iter()
            .map(|&r| {
                let x = mix(h ^ r as u64);
                let first = if r == EUW1 {
                    "52.16"
                } else if r == EUC1 {
                    "18.192"
                } else {
                    "54.84"
                };
                format!("{first}.{}.{}", (x >> 8) % 256, x % 254 + 1)
            })
            .collect(),
        regions,
        trail: trail.to_string(),
        trail_region: home,
        secrets: secrets.iter().map(|s| sfx(s)).collect(),
        buckets: ["assets", "artifacts", "data-lake", "backups", "access-logs"]
            .iter()
            .map(|b| format!("acme-{name}-{b}-{}", &id[8..]))
            .collect(),
        roles: [
            "app-server-role",
            "billing-worker-role",
            "github-actions-terraform",
            "security-audit",
            "AWSServiceRoleForConfig",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        functions: [
            "billing-worker",
            "image-resizer",
            "api-authorizer",
            "weekly-report",
        ]
        .iter()
        .map(|f| format!("{name}-{f}"))
        .collect(),
        params: [
            "/app/db/host",
            "/app/db/port",
            "/app/feature-flags",
            "/app/api/base-url",
            "/shared/vpc/id",
        ]
        .iter()
        .map(|p| format!("/{name}{p}"))
        .collect(),
        tables: vec!["orders", "customers", "sessions", "invoices"],
        stacks: ["network", "app", "data", "monitoring"]
            .iter()
            .map(|s| format!("{name}-{s}"))
            .collect(),
        key_id: uuid_string(mix(h ^ 1), mix(h ^ 2)),
    }
}
