//! `cloudsift evaluate`: generate the labelled synthetic tenant, run the whole pipeline on
//! it, and print recall, precision and false alerts per 1,000 active principal-days for
//! each analytic ([`crate::evaluate`]).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::detect::{execute, RunOutcome};
use super::{errln, exit, outln};
use crate::catalog::Catalog;
use crate::cli::EvaluateArgs;
use crate::evaluate;
use crate::generate::{AttackLabel, GenerateOptions};
use crate::pipeline::{Pipeline, Source};
use crate::progress::Bar;
use crate::schema::LogFormat;
use crate::{Error, Result};

/// The generator's output folders and the format of each.
const GENERATED: &[(&str, Option<LogFormat>)] = &[
    ("AWSLogs", Some(LogFormat::CloudTrail)),
    ("Microsoft365", Some(LogFormat::M365Audit)),
    ("EntraID", None),
    // Activity and Key Vault records side by side, detected per record.
    ("Azure", None),
    ("GCP", Some(LogFormat::GcpAudit)),
];

/// `cloudsift evaluate`.
pub fn run(a: &EvaluateArgs, quiet: bool) -> Result<i32> {
    let end = NaiveDate::parse_from_str(&a.end, "%Y-%m-%d").map_err(|_| Error::config("--end", format!("`{}` is not YYYY-MM-DD", a.end)))?;
    if a.days == 0 || !(a.scale > 0.0) {
        return Err(Error::config("--days/--scale", "both must be positive"));
    }
    let temp;
    let work: PathBuf = match &a.work {
        Some(w) => w.clone(),
        None => {
            temp = tempfile::tempdir().map_err(|source| Error::Io { path: std::env::temp_dir(), source })?;
            temp.path().to_path_buf()
        }
    };
    let gen = work.join("generated");
    let bar = Bar::new(quiet || a.json);
    if gen.join("labels.jsonl").exists() {
        errln!("reusing the generated tenant in {}", gen.display());
    } else {
        let opts = GenerateOptions { out: gen.clone(), days: a.days, seed: a.seed, end, scale: a.scale };
        super::run_generate(&opts, &bar)?;
    }
    let lake = work.join("lake");
    if lake.exists() {
        std::fs::remove_dir_all(&lake).map_err(|source| Error::Io { path: lake.clone(), source })?;
    }
    let pipeline = evaluation_pipeline(&gen, &lake, a.pipeline.as_deref())?;
    let as_of = (end + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let RunOutcome { found, lake_root, total, .. } = execute(&pipeline, as_of, &bar)?;
    let labels = read_labels(&gen.join("labels.jsonl"))?;
    let alert_at = super::detect::severity_of(a.alert_at);
    let scores = evaluate::score(&labels, &found, alert_at);
    let principal_days = evaluate::active_principal_days(&lake_root)?;
    let catalog = if pipeline.catalog_extra.is_empty() { Catalog::load_builtin()? } else { Catalog::load_dirs(&pipeline.catalog_extra)? };
    let naive_alerts = evaluate::naive::alerts(&lake_root, &catalog)?;
    let naive = evaluate::naive::score(&labels, &naive_alerts);
    if a.json {
        let v = serde_json::json!({
            "days": a.days, "seed": a.seed, "scale": a.scale, "end": a.end,
            "events": total.written, "quarantined": total.quarantined,
            "alert_severity": alert_at.as_str(), "active_principal_days": principal_days,
            "analytics": scores.iter().map(|s| serde_json::json!({
                "analytic": s.analytic, "attacks": s.attacks, "detected": s.detected,
                "recall": s.recall(), "alerts": s.alerts, "true_alerts": s.true_alerts,
                "precision": s.precision(), "false_alerts": s.false_alerts(),
                "false_alerts_per_1k_principal_days": if principal_days > 0 { s.false_alerts() as f64 * 1000.0 / principal_days as f64 } else { 0.0 },
                "findings": s.findings,
            })).collect::<Vec<_>>(),
            "naive_mean_3sd": naive.iter().map(|n| serde_json::json!({
                "analytic": n.analytic, "attacks": n.attacks, "detected": n.detected,
                "alerts": n.alerts, "true_alerts": n.true_alerts, "false_alerts": n.false_alerts(),
                "false_alerts_per_1k_principal_days": if principal_days > 0 { n.false_alerts() as f64 * 1000.0 / principal_days as f64 } else { 0.0 },
            })).collect::<Vec<_>>(),
        });
        outln!("{v}")?;
    } else {
        outln!(
            "generated tenant: {} days ending {}, seed {}, scale {}; {} events, {} labelled attacks\n",
            a.days, a.end, a.seed, a.scale, total.written, labels.len()
        )?;
        super::emit(&evaluate::render(&scores, principal_days, alert_at))?;
        outln!("")?;
        super::emit(&evaluate::render_comparison(&scores, &naive, principal_days))?;
    }
    Ok(if total.quarantined > 0 { exit::QUARANTINED } else { exit::OK })
}

/// A pipeline over the generated folders, with the analytics settings of `settings_from`
/// (a pipeline file) when given, and the generator's user directory and change-request
/// table filled in where that file does not set them.
fn evaluation_pipeline(gen: &Path, lake: &Path, settings_from: Option<&Path>) -> Result<Pipeline> {
    let (analytics, catalog_extra, suppressions) = match settings_from {
        Some(p) => {
            let p = Pipeline::load(p)?;
            (p.analytics, p.catalog_extra, p.suppressions)
        }
        None => (toml::Table::new(), Vec::new(), Vec::new()),
    };
    let sources = GENERATED
        .iter()
        .filter(|(dir, _)| gen.join(dir).is_dir())
        .map(|(dir, format)| Source { name: dir.to_string(), url: gen.join(dir).to_string_lossy().into_owned(), format: *format, generate: None, lookback_days: None })
        .collect();
    let mut pipeline = Pipeline {
        name: "evaluate".into(),
        file: gen.join("evaluate.toml"),
        sources,
        lake_url: lake.to_string_lossy().into_owned(),
        keep_raw_event: false,
        window_hours: 24,
        catalog_extra,
        analytics,
        storage_options: Vec::new(),
        suppressions,
        profiles: Default::default(),
    };
    super::generated_analytics_settings(&mut pipeline.analytics, gen);
    Ok(pipeline)
}

fn read_labels(path: &Path) -> Result<Vec<AttackLabel>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.into(), source })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| Error::Input { path: format!("{}:{}", path.display(), i + 1), message: e.to_string() }))
        .collect()
}
