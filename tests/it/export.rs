//! `export` and `explain` on the kind of output the default pipeline makes: its sources (a
//! generated AWS / Microsoft 365 / Entra ID tenant, here 10 days at scale 0.02, plus the
//! real samples) run into a scratch lake, then exported.
//!
//! The OCSF output is validated against OCSF 1.8.0 compiled from `../shared/data/
//! ocsf-schema-1.8.0` by `scripts/ocsf/validate.py` in the Python environment of
//! `scripts/python-env.sh` (`$CLOUDSIFT_VENV`, default `~/.cache/cloudsift-venv`). Without
//! the schema sources or the environment that part is skipped with a message, unless
//! `CLOUDSIFT_REQUIRE_PYTHON=1`, where a missing environment fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// The default pipeline's kind of job in a scratch folder: a generated AWS organisation
/// and Microsoft 365 / Entra ID tenant (10 days at scale 0.02 instead of 30 at 0.05) plus
/// the bundled real samples, run to 2024-04-01. Returns the pipeline file.
fn run_pipeline(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("pipelines")).unwrap();
    std::os::unix::fs::symlink(repo.join("data"), dir.join("data")).unwrap();
    let generate = r#"generate = { out = "../out/generated", days = 10, seed = 7, scale = 0.02, end = "2024-03-31" }"#;
    let mut toml = String::from("[pipeline]\nname = \"export-test\"\n");
    for (name, url) in [("org", "AWSLogs"), ("m365", "Microsoft365"), ("entra", "EntraID")] {
        toml += &format!("\n[[sources]]\nname = \"{name}\"\nurl = \"../out/generated/{url}\"\n{generate}\n");
    }
    for sample in ["aws_cloudtrail", "m365_audit", "entra_id"] {
        toml += &format!("\n[[sources]]\nname = \"{sample}\"\nurl = \"../data/samples/{sample}\"\n");
    }
    toml += "\n[lake]\nurl = \"../out/lake\"\n\n[analytics.session_anomaly]\ndirectory = \"../out/generated/directory.csv\"\n\n[analytics.conditional_access_change]\nchange_requests = \"../out/generated/change_requests.csv\"\n";
    let pipeline = dir.join("pipelines/export-test.toml");
    std::fs::write(&pipeline, toml).unwrap();
    let out = run(&["run", pipeline.to_str().unwrap(), "--as-of", "2024-04-01", "--quiet", "--summary-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    pipeline
}

fn lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The validation environment's Python, or `None` (with the reason) when it is missing.
fn venv_python() -> Result<PathBuf, String> {
    let venv = std::env::var_os("CLOUDSIFT_VENV").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/cloudsift-venv"));
    let python = venv.join("bin/python");
    if !python.exists() {
        return Err(format!("no Python environment at {} (run scripts/python-env.sh)", venv.display()));
    }
    let ok = Command::new(&python).args(["-c", "import ocsf.compile, ocsf_json_schema, jsonschema"]).status().map(|s| s.success()).unwrap_or(false);
    if ok {
        Ok(python)
    } else {
        Err(format!("{} lacks scripts/ocsf/requirements.txt (run scripts/python-env.sh)", venv.display()))
    }
}

/// Runs the validator on `file`; returns its exit code and stdout.
fn validate(python: &Path, schema: &Path, file: &Path) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ocsf/validate.py");
    let out = Command::new(python).arg(script).arg(schema).arg(file).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_ocsf(pipeline: &Path, dir: &Path, findings: &[serde_json::Value]) {
    let file = dir.join("findings.ocsf.jsonl");
    let out = run(&["export", "--pipeline", pipeline.to_str().unwrap(), "--format", "ocsf", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), findings.len());
    // Same findings, same order; a statistical one carries its baseline.
    for (r, f) in records.iter().zip(findings) {
        assert_eq!(r["finding_info"]["uid"], f["finding_uid"]);
        assert_eq!(r["class_uid"], 2004);
    }
    let stat = findings.iter().position(|f| f["expected"].is_number() && f["p_value"].is_number()).expect("the run has a statistical finding");
    let aa = &records[stat]["anomaly_analyses"][0];
    assert_eq!(aa["baselines"][0]["observations"][0]["timespan"]["duration_days"], findings[stat]["baseline_days"]);
    assert_eq!(records[stat]["unmapped"]["p_value_adjusted"], findings[stat]["p_value_adjusted"]);
    assert!(records.iter().any(|r| r["evidences"][0]["actor"]["user"]["name"].is_string()), "evidence actors are read back from the lake");

    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ocsf-schema-1.8.0");
    if !schema.join("version.json").exists() {
        eprintln!("skipped OCSF validation: {} is missing", schema.display());
        return;
    }
    let python = match venv_python() {
        Ok(p) => p,
        Err(why) if std::env::var("CLOUDSIFT_REQUIRE_PYTHON").as_deref() == Ok("1") => panic!("CLOUDSIFT_REQUIRE_PYTHON=1 but {why}"),
        Err(why) => {
            eprintln!("skipped OCSF validation: {why}");
            return;
        }
    };
    let (code, stdout) = validate(&python, &schema, &file);
    assert_eq!(code, Some(0), "OCSF 1.8.0 violations:\n{stdout}");

    // The validator can fail: a wrong type, an unknown attribute, a bad enum id and a
    // missing required attribute, each named with its line and attribute path.
    let mut broken = records[..3].to_vec();
    broken[0]["time"] = serde_json::json!("2024-03-30T03:00:00Z");
    broken[1]["finding_info"]["analytic"]["rule_id"] = serde_json::json!("x");
    broken[2]["severity_id"] = serde_json::json!(42);
    broken[2]["metadata"].as_object_mut().unwrap().remove("version");
    let bad = dir.join("broken.jsonl");
    std::fs::write(&bad, broken.iter().map(|r| format!("{r}\n")).collect::<String>()).unwrap();
    let (code, stdout) = validate(&python, &schema, &bad);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("broken.jsonl:1: time: '2024-03-30T03:00:00Z' is not of type 'integer'"), "{stdout}");
    assert!(stdout.contains("broken.jsonl:2: finding_info.analytic: Additional properties are not allowed ('rule_id' was unexpected)"), "{stdout}");
    assert!(stdout.contains("broken.jsonl:3: severity_id: 42 is not one of"), "{stdout}");
    assert!(stdout.contains("broken.jsonl:3: metadata: 'version' is a required property"), "{stdout}");
}

fn check_csv_and_selection(pipeline: &Path, findings: &[serde_json::Value]) {
    let p = pipeline.to_str().unwrap();
    let out = run(&["export", "--pipeline", p, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    assert_eq!(&rows[0][0], findings[0]["finding_uid"].as_str().unwrap());

    let high = lines(&run(&["export", "--pipeline", p, "--format", "jsonl", "--min-severity", "high"]));
    let want = findings.iter().filter(|f| ["high", "critical"].contains(&f["severity"].as_str().unwrap())).count();
    assert!(want > 0);
    assert_eq!(high.len(), want);
    let one = lines(&run(&["export", "--pipeline", p, "--format", "jsonl", "--analytic", "logging_disabled", "--since", "2024-03-01", "--until", "2024-04-01"]));
    let want = findings.iter().filter(|f| f["analytic_uid"] == "logging_disabled" && f["window_end"].as_str().unwrap() >= "2024-03-01" && f["window_end"].as_str().unwrap() < "2024-04-01").count();
    assert!(want > 0);
    assert_eq!(one.len(), want);
    let out = run(&["export", "--lake", "/nonexistent/cloudsift-lake", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
}

fn check_explain(pipeline: &Path, findings: &[serde_json::Value]) {
    let p = pipeline.to_str().unwrap();
    let f = findings.iter().find(|f| f["expected"].is_number() && f["p_value"].is_number()).unwrap();
    let uid = f["finding_uid"].as_str().unwrap();
    let out = run(&["explain", "--pipeline", p, &uid[..10]]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("Finding {uid}")), "{text}");
    assert!(text.contains(&format!("history     {} day(s)", f["baseline_days"])), "{text}");
    assert!(text.contains(&format!("expected    {:.3}", f["expected"].as_f64().unwrap())), "{text}");
    assert!(text.contains(&format!("adjusted (Benjamini-Hochberg) {:.3e}", f["p_value_adjusted"].as_f64().unwrap())), "{text}");
    let first = f["evidence_event_uids"][0].as_str().unwrap();
    assert!(text.contains(first), "evidence event {first} not shown:\n{text}");
    assert!(text.contains("cloudsift normalize ") && text.contains("cloudsift export --lake"), "{text}");

    let signal = findings.iter().find(|f| f["analytic_uid"] == "logging_disabled" && f["baseline_days"] == 0).unwrap();
    let text = String::from_utf8_lossy(&run(&["explain", "--pipeline", p, signal["finding_uid"].as_str().unwrap()]).stdout).into_owned();
    assert!(text.contains("signal, no baseline"), "{text}");

    let out = run(&["explain", "--pipeline", p, "zzzz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no finding has a uid starting with `zzzz`"));
}

#[test]
fn export_and_explain_the_default_pipelines_output() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = run_pipeline(dir.path());
    let findings = lines(&run(&["export", "--pipeline", pipeline.to_str().unwrap(), "--format", "jsonl"]));
    assert!(findings.len() > 50, "{} findings", findings.len());
    check_csv_and_selection(&pipeline, &findings);
    check_explain(&pipeline, &findings);
    check_ocsf(&pipeline, dir.path(), &findings);
}
