//! `cloudsift evaluate` on the generated multi-cloud estate (60 days, seed 7): the quality
//! bars of the README, checked so that a drop fails.

use std::collections::HashMap;

use serde_json::Value;

use crate::run;

/// Labelled attacks per analytic in the 60-day corpus (AWS A1–A7, Microsoft M1–M5, Azure
/// Z1–Z5, GCP G1–G5).
const ATTACKS: [(&str, u64); 15] = [
    ("logging_disabled", 5),
    ("secret_access_volume", 3),
    ("session_anomaly", 1),
    ("file_access_anomaly", 1),
    ("mail_forwarding_rule", 2),
    ("conditional_access_change", 2),
    ("quota_increase", 2),
    ("resource_hierarchy_change", 1),
    ("event_trigger_created", 1),
    ("enumeration_burst", 1),
    ("serverless_change", 1),
    ("region_or_service_enabled", 1),
    ("model_invocation_volume", 1),
    ("log_source_silence", 1),
    // Z5, G4, G5 and M5's two changes: first changes by principals who never made one.
    ("service_change_unexpected_initiator", 5),
];

fn by_analytic(v: &Value, key: &str) -> HashMap<String, Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no {key} in {v}")).iter().map(|a| (a["analytic"].as_str().unwrap().to_string(), a.clone())).collect()
}

/// Recall ≥ 0.95 and precision ≥ 0.9 for every analytic with labels, and fewer false
/// alerts than the naive mean + 3σ baseline for every statistical analytic where the naive
/// baseline has any.
#[test]
fn every_analytic_meets_the_quality_bar_and_beats_the_naive_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["evaluate", "--days", "60", "--work", dir.path().to_str().unwrap(), "--json", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["quarantined"], 0, "{v}");
    assert_eq!(v["days"], 60);
    let scores = by_analytic(&v, "analytics");
    for (analytic, attacks) in ATTACKS {
        let a = scores.get(analytic).unwrap_or_else(|| panic!("{analytic} missing from {v}"));
        assert_eq!(a["attacks"].as_u64(), Some(attacks), "{a}");
        assert!(a["recall"].as_f64().unwrap() >= 0.95, "recall of {a}");
    }
    for a in scores.values() {
        if let Some(p) = a["precision"].as_f64() {
            assert!(p >= 0.9, "precision of {a}");
        }
    }
    let naive = by_analytic(&v, "naive_mean_3sd");
    assert_eq!(naive.len(), 6, "{v}");
    let mut beaten = 0;
    for (analytic, n) in &naive {
        let ours = scores.get(analytic).map_or(0, |a| a["false_alerts"].as_u64().unwrap());
        let theirs = n["false_alerts"].as_u64().unwrap();
        assert!(ours <= theirs, "{analytic}: cloudsift {ours} false alerts, naive {theirs}");
        if theirs > 0 {
            assert!(ours < theirs, "{analytic}: cloudsift {ours} false alerts, naive {theirs}");
            beaten += 1;
        }
    }
    // The naive rule fires falsely on secrets, sessions, files and enumeration.
    assert!(beaten >= 4, "{v}");
}
