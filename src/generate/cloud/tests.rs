//! Cloud-estate generator tests: determinism, every record normalised by the real
//! normalisers with nothing quarantined, labels, Start/Success pairs, the benign hard
//! cases and volume.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::*;
use crate::event::Event;
use crate::schema::{ActorType, LogFormat};
use crate::sources::{collect_file, ReadOptions};

/// 2024-03-31 as days since the epoch.
const END: i64 = 19_813;

fn gen(days: i64, seed: u64) -> (tempfile::TempDir, CloudSummary, Vec<AttackLabel>) {
    let dir = tempfile::tempdir().unwrap();
    let (s, labels) = write(dir.path(), seed, 0.05, END - days + 1, END, &AtomicU64::new(0)).unwrap();
    (dir, s, labels)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Every record normalised (format detected from content), with its file; panics on any
/// rejection.
fn events(dir: &Path) -> Vec<(PathBuf, Event<'static>)> {
    let mut out = Vec::new();
    for p in files(dir) {
        let sink = collect_file(&p, &ReadOptions::default()).unwrap();
        assert!(sink.rejects.is_empty(), "{}: {:?}", p.display(), sink.rejects);
        out.extend(sink.events.into_iter().map(|(e, _)| (p.clone(), e)));
    }
    out
}

fn lines(dir: &Path, under: &str) -> Vec<Value> {
    files(&dir.join(under))
        .iter()
        .flat_map(|p| std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<Value>>())
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, sa, la) = gen(6, 11);
    let (b, sb, lb) = gen(6, 11);
    let (c, _, _) = gen(6, 12);
    assert_eq!(sa, sb);
    assert_eq!(la, lb);
    let fa = files(a.path());
    assert!(fa.len() > 100, "{} files", fa.len());
    assert_eq!(fa.iter().map(|p| p.strip_prefix(a.path()).unwrap().to_path_buf()).collect::<Vec<_>>(), files(b.path()).iter().map(|p| p.strip_prefix(b.path()).unwrap().to_path_buf()).collect::<Vec<_>>());
    for p in &fa {
        let q = b.path().join(p.strip_prefix(a.path()).unwrap());
        assert_eq!(std::fs::read(p).unwrap(), std::fs::read(&q).unwrap(), "{}", p.display());
    }
    let any_differs = fa.iter().any(|p| {
        let q = c.path().join(p.strip_prefix(a.path()).unwrap());
        std::fs::read(p).ok() != std::fs::read(&q).ok()
    });
    assert!(any_differs);
}

#[test]
fn every_record_normalises_in_its_format_with_a_typed_actor() {
    let (dir, s, _) = gen(30, 7);
    let evs = events(dir.path());
    assert_eq!(evs.len() as u64, s.records());
    let mut by_format: BTreeMap<&str, u64> = BTreeMap::new();
    for (p, e) in &evs {
        let path = p.to_string_lossy();
        let want = if path.contains("/Azure/ActivityLog/") {
            LogFormat::AzureActivity
        } else if path.contains("/Azure/KeyVault/") {
            LogFormat::KeyVaultAudit
        } else {
            LogFormat::GcpAudit
        };
        assert_eq!(e.log_format, want, "{path}");
        *by_format.entry(want.as_str()).or_default() += 1;
        assert!(!matches!(e.actor_type, ActorType::None | ActorType::Unknown), "{path}: {:?}", e.actor_uid);
        // The hour folder is the record's own hour.
        let hour = chrono::DateTime::from_timestamp_micros(e.time).unwrap().format("%H").to_string();
        assert!(path.contains(&format!("h={hour}/")) || path.contains(&format!("/{hour}:00:00_")), "{path}");
    }
    assert_eq!(by_format["azure_activity"], s.activity_records);
    assert_eq!(by_format["keyvault_audit"], s.keyvault_records);
    assert_eq!(by_format["gcp_audit"], s.gcp_entries);
    // Automation is recognisable from the actor type alone.
    let types: HashMap<&str, ActorType> = evs.iter().map(|(_, e)| (e.actor_uid.as_deref().unwrap(), e.actor_type)).collect();
    assert_eq!(types["priya.nair@fabrikam-sift.com"], ActorType::User);
    assert_eq!(types["terraform@sift-sec-9914.iam.gserviceaccount.com"], ActorType::ServiceAccount);
    assert_eq!(types[estate::PRINCIPALS[estate::MI_ORDERS].oid], ActorType::ManagedIdentity);
    assert_eq!(types[estate::PRINCIPALS[estate::SP_TERRAFORM].oid], ActorType::ServicePrincipal);
    // Impersonation keeps the federated caller.
    let tf = evs.iter().find(|(_, e)| e.actor_uid.as_deref() == Some("terraform@sift-sec-9914.iam.gserviceaccount.com")).unwrap();
    assert_eq!(tf.1.actor_session_uid.as_deref(), Some(estate::TF_SUBJECT));
}

#[test]
fn thirty_days_are_a_modest_corpus() {
    let (_dir, s, _) = gen(30, 7);
    assert!((12_000..=30_000).contains(&s.records()), "{s:?}");
    assert!(s.activity_records > 1_500 && s.keyvault_records > 6_000 && s.gcp_entries > 5_000, "{s:?}");
}

#[test]
fn start_and_success_records_share_a_correlation_id() {
    let (dir, _, _) = gen(5, 3);
    let recs = lines(dir.path(), "Azure/ActivityLog");
    let mut ops: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in &recs {
        ops.entry(r["correlationId"].as_str().unwrap().to_string()).or_default().push(r);
    }
    assert!(ops.len() > 120, "{} operations", ops.len());
    let mut accepted = 0;
    for (id, rs) in &ops {
        let kinds: Vec<&str> = rs.iter().map(|r| r["resultType"].as_str().unwrap()).collect();
        assert_eq!(kinds.first(), Some(&"Start"), "{id}: {kinds:?}");
        assert!(matches!(kinds.last(), Some(&"Success") | Some(&"Failure")), "{id}: {kinds:?}");
        accepted += kinds.contains(&"Accept") as usize;
        assert!(rs.windows(2).all(|w| w[0]["time"].as_str() <= w[1]["time"].as_str()), "{id}");
        assert!(rs.iter().all(|r| r["operationName"] == rs[0]["operationName"] && r["resourceId"] == rs[0]["resourceId"]));
        let op = rs[0]["operationName"].as_str().unwrap();
        assert_eq!(op, op.to_ascii_uppercase());
    }
    assert!(accepted > 10, "{accepted} long-running operations");
}

#[test]
fn labels_name_the_actor_and_the_normalised_events() {
    let (dir, _, labels) = gen(30, 7);
    let ids: Vec<&str> = labels.iter().map(|l| l.attack_id.as_str()).collect();
    assert_eq!(ids.len(), 10, "{ids:?}");
    let analytics: HashSet<&str> = labels.iter().map(|l| l.analytic.as_str()).collect();
    for a in ["logging_disabled", "secret_access_volume", "resource_hierarchy_change", "event_trigger_created", "quota_increase", "enumeration_burst", "serverless_change", "region_or_service_enabled"] {
        assert!(analytics.contains(a), "{a}");
    }
    let evs = events(dir.path());
    let by_uid: HashMap<&str, &Event<'static>> = evs.iter().map(|(_, e)| (&*e.event_uid, e)).collect();
    assert_eq!(by_uid.len(), evs.len(), "event uids are unique");
    let last_days = (END - 4) * 86_400_000_000;
    let expected_counts = [("Z1-diagnostic-setting-deleted", 2), ("Z2-keyvault-secret-sweep", 48), ("Z3-subscription-moved", 4), ("Z5-quota-increase", 6), ("G1-log-sink-disabled", 2), ("G3-cloud-function-new-principal", 3), ("G5-gpu-quota-preferences", 3)];
    for l in &labels {
        let start = chrono::DateTime::parse_from_rfc3339(&l.start).unwrap().timestamp_micros();
        let end = chrono::DateTime::parse_from_rfc3339(&l.end).unwrap().timestamp_micros() + 1_000_000;
        assert!(start >= last_days - 86_400_000_000, "{}: {}", l.attack_id, l.start);
        for u in &l.event_uids {
            let e = by_uid.get(u.as_str()).unwrap_or_else(|| panic!("{}: {u} not in the corpus", l.attack_id));
            assert_eq!(e.actor_uid.as_deref(), Some(l.actor_uid.as_str()), "{}", l.attack_id);
            assert!((start..end).contains(&e.time), "{}", l.attack_id);
        }
        if let Some((_, n)) = expected_counts.iter().find(|(id, _)| *id == l.attack_id) {
            assert_eq!(l.event_uids.len(), *n, "{}", l.attack_id);
        }
    }
    let g2 = labels.iter().find(|l| l.attack_id == "G2-sa-enumeration").unwrap();
    assert!(g2.event_uids.len() >= 80, "{}", g2.event_uids.len());
}

#[test]
fn benign_cases_never_do_the_attack_operations() {
    let (dir, _, labels) = gen(30, 7);
    let labelled: HashSet<&str> = labels.iter().flat_map(|l| l.event_uids.iter().map(String::as_str)).collect();
    let evs = events(dir.path());
    let attack_ops = ["MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "MICROSOFT.MANAGEMENT/MANAGEMENTGROUPS/WRITE", "MICROSOFT.QUOTA/QUOTAS/WRITE", "google.logging.v2.ConfigServiceV2.DeleteSink", "google.cloud.functions.v2.FunctionService.CreateFunction", "google.api.serviceusage.v1.ServiceUsage.EnableService", "google.api.cloudquotas.v1.CloudQuotas.CreateQuotaPreference"];
    let mut people_per_day: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, e) in &evs {
        let attack = labelled.contains(&*e.event_uid);
        if !attack && e.status != crate::schema::Status::Unknown {
            assert!(!attack_ops.contains(&&*e.operation), "{} by {:?}", e.operation, e.actor_uid);
            if e.operation == "google.logging.v2.ConfigServiceV2.UpdateSink" {
                assert!(e.request_params.as_deref().unwrap().contains(r#""disabled":false"#));
            }
        }
        if e.actor_type == ActorType::User && !attack {
            *people_per_day.entry(e.time.div_euclid(86_400_000_000)).or_default() += 1;
        }
    }
    let cal = activity::Calendar { first: END - 29, last: END };
    let holiday = people_per_day.get(&cal.back(17)).copied().unwrap_or(0);
    let weekday_max = people_per_day.iter().filter(|(d, _)| estate::weekday(**d) < 5).map(|(_, n)| *n).max().unwrap();
    assert!(holiday * 10 < weekday_max, "holiday {holiday} vs weekday {weekday_max}");
    // The rolled-out automation starts mid-period and is steady after.
    let etl = "etl-runner@sift-prod-4821.iam.gserviceaccount.com";
    let etl_days: BTreeMap<i64, usize> = evs.iter().filter(|(_, e)| e.actor_uid.as_deref() == Some(etl)).fold(BTreeMap::new(), |mut m, (_, e)| {
        *m.entry(e.time.div_euclid(86_400_000_000)).or_default() += 1;
        m
    });
    assert_eq!(etl_days.keys().next(), Some(&cal.rollout()));
    assert!(etl_days.iter().skip(1).all(|(_, n)| *n == 72), "{etl_days:?}");
    // The role change: Ahmed's IAM work only in the last two weeks.
    let ahmed_iam: Vec<i64> = evs.iter().filter(|(_, e)| e.actor_uid.as_deref() == Some("ahmed.khan@fabrikam-sift.com") && e.operation == "SetIamPolicy").map(|(_, e)| e.time.div_euclid(86_400_000_000)).collect();
    assert!(!ahmed_iam.is_empty() && ahmed_iam.iter().all(|d| *d >= cal.role_change()));
}
