//! Which secrets a read touched, and the sentence that says what a principal read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::super::volume::{self, Evidence, Population, Row};

/// A secret's name without its version, so that versions of one secret count once:
/// - Key Vault item URLs `https://<vault>.vault.azure.net/{secrets|keys|certificates}/<name>[/<version>]`
///   keep `…/<name>` (lower-cased host, the name as logged);
/// - GCP Secret Manager `projects/<p>/secrets/<s>/versions/<n>` keeps `projects/<p>/secrets/<s>`;
/// - anything else (ARNs, ARM ids, parameter names) is kept as is.
pub fn secret_key(name: &str) -> String {
    let trimmed = name.trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("https://") {
        let mut parts = rest.split('/');
        let host = parts.next().unwrap_or_default().to_ascii_lowercase();
        let segs: Vec<&str> = parts.collect();
        if host.contains(".vault.") && segs.len() >= 2 && ["secrets", "keys", "certificates"].contains(&segs[0]) {
            return format!("https://{host}/{}/{}", segs[0], segs[1]);
        }
        return trimmed.to_string();
    }
    if let Some(i) = trimmed.find("/versions/") {
        if trimmed.starts_with("projects/") && trimmed[..i].contains("/secrets/") {
            return trimmed[..i].to_string();
        }
    }
    trimmed.to_string()
}

/// Secret names a read touched (see [`secret_key`]): `resource_uid`, else the request's
/// `secretId`, `name`, `names`, `secretIdList` or (GetPasswordData) `instanceId` — the
/// CloudTrail requestParameters of the catalogued APIs, and GCP's request `name`.
pub fn secrets_of(resource: Option<&str>, request: Option<&str>) -> Vec<String> {
    if let Some(r) = resource {
        return vec![secret_key(r)];
    }
    let Some(serde_json::Value::Object(m)) = request.and_then(|r| serde_json::from_str(r).ok()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["secretId", "SecretId", "name", "Name", "names", "Names", "secretIdList", "SecretIdList", "instanceId"] {
        match m.get(key) {
            Some(serde_json::Value::String(v)) => out.push(secret_key(v)),
            Some(serde_json::Value::Array(vs)) => out.extend(vs.iter().filter_map(|v| v.as_str().map(secret_key))),
            _ => {}
        }
    }
    out
}

/// Distinct secrets named by `rows` (0 when none is named).
pub(super) fn distinct_secrets<'a>(rows: impl Iterator<Item = &'a Row>) -> usize {
    rows.flat_map(|r| secrets_of(r.resource.as_deref(), r.request.as_deref())).collect::<BTreeSet<_>>().len()
}

/// The description's first sentences, and the one secret of the hour if there is exactly one.
pub(super) struct ReadText {
    pub read: String,
    pub single_secret: Option<String>,
}

/// What `actor` read in the scored hour (`ev`) and, when the burst straddles hours, in
/// the whole window (`all`), with the distinct secrets.
pub(super) fn reads(
    actor: &str,
    population: Population,
    ev: &Evidence,
    all: &[&Row],
    hour_start: DateTime<Utc>,
    hour_end: DateTime<Utc>,
    observed: u64,
) -> ReadText {
    let names = |rows: &[&Row]| -> BTreeSet<String> {
        rows.iter().flat_map(|r| secrets_of(r.resource.as_deref(), r.request.as_deref())).collect()
    };
    let secrets = names(&ev.rows);
    let window_secrets = names(all);
    let shown: Vec<&str> = secrets.iter().take(10).map(String::as_str).collect();
    let more = secrets.len().saturating_sub(shown.len());
    let secret_text = format!(
        "{} distinct secrets in the hour ({}{}), {} in the window",
        secrets.len(),
        if shown.is_empty() { "names not logged".to_string() } else { shown.join(", ") },
        if more > 0 { format!(", +{more} more") } else { String::new() },
        window_secrets.len(),
    );
    let breakdown: Vec<String> = ev.by_operation().iter().map(|((_, op), n)| format!("{op} ×{n}")).collect();
    let failed = ev.failed();
    // The busiest hour is scored, but a burst often straddles an hour boundary: say what
    // the whole window holds so that no read of the burst goes unreported.
    let window_text = if all.len() > ev.rows.len() {
        let mut window_ops: BTreeMap<&str, usize> = BTreeMap::new();
        for r in all {
            *window_ops.entry(&r.operation).or_default() += 1;
        }
        let (first, last) = all.iter().fold((i64::MAX, i64::MIN), |(a, b), r| (a.min(r.t), b.max(r.t)));
        format!(
            " In the whole window it made {} secret reads ({}) between {} and {} UTC.",
            all.len(),
            window_ops.iter().map(|(op, n)| format!("{op} ×{n}")).collect::<Vec<_>>().join(", "),
            volume::stamp(first),
            volume::stamp(last),
        )
    } else {
        String::new()
    };
    let read = format!(
        "{actor} ({}) made {observed} secret reads between {} and {} UTC ({}{}); {secret_text}.{window_text}",
        population.as_str(),
        hour_start.format("%Y-%m-%d %H:%M"),
        hour_end.format("%H:%M"),
        breakdown.join(", "),
        if failed > 0 { format!("; {failed} failed") } else { String::new() },
    );
    ReadText { read, single_secret: (secrets.len() == 1).then(|| shown[0].to_string()) }
}
