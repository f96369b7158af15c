//! The command layer: turns [`crate::cli`] types into validated plans, runs them, and
//! returns the process exit code. `main.rs` only parses arguments, sets up logging and
//! maps errors.

mod detect;
mod evaluate;
mod explain;
mod export;
mod normalize;

use std::io::Write;

use crate::cli::{CatalogCommand, Cli, Command, FormatArg, GenerateArgs, IngestArgs, SchemaArgs};
use crate::lake::{self, IngestOptions, IngestSummary};
use crate::progress::Bar;
use crate::schema::LogFormat;
use crate::storage::Location;
use crate::{Error, Result};

/// Writes to stdout. A closed pipe (`cloudsift findings | head`) is
/// [`Error::ClosedOutput`]: the run unwinds (releasing the lake lock) and exits 0, since the
/// reader has what it wanted and everything else was already written.
///
/// # Errors
/// [`Error::ClosedOutput`], or [`Error::Io`] for other write failures.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::ClosedOutput),
        Err(source) => Err(Error::Io { path: "<stdout>".into(), source }),
    }
}

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head`) must not abort a run
/// halfway through writing the lake.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use errln;

/// `println!` through [`emit`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::app::emit(&format!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use outln;

/// How long a run's lake lock lasts before another run may take it over (a killed run's).
pub const LOCK_TTL: chrono::Duration = chrono::Duration::hours(6);

/// Exit codes of DESIGN.md "Running it".
pub mod exit {
    pub const OK: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const QUARANTINED: i32 = 3;
    pub const FAILURE: i32 = 4;
}

/// Runs one parsed command line; returns the exit code.
///
/// # Errors
/// Any [`Error`]; `main` maps it to an exit code with [`Error::exit_code`].
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Normalize(a) => normalize::run(&a),
        Command::Ingest(a) => ingest(&a, cli.quiet),
        Command::Schema(a) => schema(&a),
        Command::Run(a) => detect::run(&a, cli.quiet),
        Command::Detect(a) => detect::detect(&a),
        Command::Findings(a) => detect::list(&a),
        Command::Export(a) => export::run(&a),
        Command::Explain(a) => explain::run(&a),
        Command::Generate(a) => generate(&a, cli.quiet),
        Command::Evaluate(a) => evaluate::run(&a, cli.quiet),
        Command::Catalog(c) => catalog(&c),
    }
}

/// `--format` as the library's option (`None` = detect).
pub fn format_of(f: FormatArg) -> Option<LogFormat> {
    match f {
        FormatArg::Auto => None,
        FormatArg::Cloudtrail => Some(LogFormat::CloudTrail),
        FormatArg::M365Audit => Some(LogFormat::M365Audit),
        FormatArg::EntraAudit => Some(LogFormat::EntraAudit),
        FormatArg::EntraSignin => Some(LogFormat::EntraSignin),
        FormatArg::AzureActivity => Some(LogFormat::AzureActivity),
        FormatArg::KeyvaultAudit => Some(LogFormat::KeyVaultAudit),
        FormatArg::GcpAudit => Some(LogFormat::GcpAudit),
        FormatArg::Ocsf => Some(LogFormat::Ocsf),
    }
}

/// `KEY=VALUE` storage options.
fn storage_options(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Error::config("--storage-option", format!("`{kv}` is not KEY=VALUE")))
        })
        .collect()
}

fn ingest(a: &IngestArgs, quiet: bool) -> Result<i32> {
    let options = storage_options(&a.storage.storage_options)?;
    let inputs = a.inputs.iter().map(|i| Location::parse(i, &options)).collect::<Result<Vec<_>>>()?;
    let lake = Location::parse_output(&a.lake, &options)?;
    let opts = IngestOptions { format: format_of(a.format), keep_raw: !a.no_raw_event, reprocess: a.reprocess, ..Default::default() };
    let started = std::time::Instant::now();
    let _lock = lake::LakeLock::acquire(&lake, &opts.run_uid, LOCK_TTL)?;
    let summary = lake::ingest(&inputs, &lake, &opts, &Bar::new(quiet))?;
    print_ingest_summary(&summary, started.elapsed(), a.summary_json, quiet);
    Ok(if summary.quarantined > 0 { exit::QUARANTINED } else { exit::OK })
}

/// Prints an ingest summary: one JSON line on stdout, or human lines on stderr (with
/// `quiet`, only the warning about quarantined records).
pub fn print_ingest_summary(s: &IngestSummary, elapsed: std::time::Duration, json: bool, quiet: bool) {
    if json {
        let mut v = serde_json::to_value(s).expect("summary serialises");
        v["elapsed_seconds"] = serde_json::json!(elapsed.as_secs_f64());
        v.as_object_mut().map(|o| o.remove("parts"));
        let _ = emit(&format!("{v}\n"));
        return;
    }
    if quiet {
        if s.quarantined > 0 {
            errln!("warning: {} records quarantined: see quarantine/run={}/ in the lake", s.quarantined, s.run_uid);
        }
        return;
    }
    errln!(
        "ingest {}: {} objects read ({} already ingested), {:.1} MB in {:.1} s, {} parts",
        s.run_uid,
        s.objects_read,
        s.objects_already_ingested,
        s.bytes_read as f64 / 1e6,
        elapsed.as_secs_f64(),
        s.parts.len()
    );
    errln!("{}", s.accounting_line());
    if s.quarantined > 0 {
        errln!("{} records quarantined: see quarantine/run={}/ in the lake", s.quarantined, s.run_uid);
    }
}

fn schema(a: &SchemaArgs) -> Result<i32> {
    let schema = crate::schema::event_schema();
    let mut out = String::new();
    if a.json {
        let cols: Vec<serde_json::Value> = schema
            .fields()
            .iter()
            .map(|f| serde_json::json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
            .collect();
        out.push_str(&format!("{}\n", serde_json::Value::Array(cols)));
    } else {
        for f in schema.fields() {
            out.push_str(&format!("{:<20} {:<28} {}\n", f.name(), f.data_type().to_string(), if f.is_nullable() { "nullable" } else { "required" }));
        }
    }
    emit(&out)?;
    Ok(exit::OK)
}

fn generate(a: &GenerateArgs, quiet: bool) -> Result<i32> {
    let end = chrono::NaiveDate::parse_from_str(&a.end, "%Y-%m-%d").map_err(|_| Error::config("--end", format!("`{}` is not YYYY-MM-DD", a.end)))?;
    if a.days == 0 || !(a.scale > 0.0) {
        return Err(Error::config("--days/--scale", "both must be positive"));
    }
    let opts = crate::generate::GenerateOptions { out: a.out.clone(), days: a.days, seed: a.seed, end, scale: a.scale };
    let s = run_generate(&opts, &Bar::new(quiet))?;
    errln!(
        "generated {} CloudTrail events in {} objects ({:.1} MB of JSON), {} Microsoft 365 and {} Entra ID records in {} files ({:.1} MB), {} Azure Activity, {} Key Vault and {} GCP audit records in {} files ({:.1} MB), {} labelled attacks, under {} (labels.jsonl, directory.csv, change_requests.csv)",
        s.events,
        s.objects,
        s.uncompressed_bytes as f64 / 1e6,
        s.tenant.m365_records,
        s.tenant.entra_records,
        s.tenant.m365_blobs + s.tenant.entra_files,
        s.tenant.bytes as f64 / 1e6,
        s.cloud.activity_records,
        s.cloud.keyvault_records,
        s.cloud.gcp_entries,
        s.cloud.files,
        s.cloud.bytes as f64 / 1e6,
        s.attacks,
        a.out.display()
    );
    Ok(exit::OK)
}

fn run_generate(opts: &crate::generate::GenerateOptions, bar: &Bar) -> Result<crate::generate::GenerateSummary> {
    use crate::progress::Progress;
    bar.start("generate", None, "events");
    let last = std::sync::atomic::AtomicU64::new(0);
    let s = crate::generate::generate(opts, &|n| {
        let before = last.swap(n, std::sync::atomic::Ordering::Relaxed);
        bar.inc(n.saturating_sub(before));
    })?;
    bar.finish();
    Ok(s)
}

/// Settings the generated tenant needs, filled into `[analytics]` where the pipeline does
/// not set them: the tenant's user directory (time zones, peer groups) and its
/// change-request table, both written by the generator beside the logs.
pub(crate) fn generated_analytics_settings(analytics: &mut toml::Table, gen: &std::path::Path) {
    let path = |f: &str| toml::Value::String(gen.join(f).to_string_lossy().into_owned());
    let settings = [
        ("session_anomaly", "directory", "directory.csv"),
        ("file_access_anomaly", "directory", "directory.csv"),
        ("conditional_access_change", "change_requests", "change_requests.csv"),
        ("service_change_unexpected_initiator", "change_requests", "change_requests.csv"),
    ];
    for (analytic, key, file) in settings {
        if !gen.join(file).exists() {
            continue;
        }
        let table = analytics.entry(analytic).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(t) = table.as_table_mut() {
            t.entry(key).or_insert_with(|| path(file));
        }
    }
}

/// Makes a pipeline's generated source when its folder is missing or empty.
pub fn generate_if_missing(url: &str, g: &crate::pipeline::GenerateConfig, bar: &Bar) -> Result<()> {
    let out = std::path::PathBuf::from(&g.out);
    let has_files = std::fs::read_dir(url).map(|mut d| d.next().is_some()).unwrap_or(false);
    if has_files {
        return Ok(());
    }
    // Several sources share one generated corpus: when the corpus exists but lacks this
    // source's folder, it was made by an older cloudsift, and generating again would mix
    // corpora of different versions.
    if out.join("labels.jsonl").exists() {
        return Err(Error::config(
            "sources.generate",
            format!("{} holds a generated corpus without {url}; it was made by an older cloudsift: delete {} and run again", out.display(), out.display()),
        ));
    }
    let end = chrono::NaiveDate::parse_from_str(&g.end, "%Y-%m-%d").map_err(|_| Error::config("sources.generate.end", format!("`{}` is not YYYY-MM-DD", g.end)))?;
    let opts = crate::generate::GenerateOptions { out: out.clone(), days: g.days, seed: g.seed, end, scale: g.scale };
    let s = run_generate(&opts, bar)?;
    tracing::info!(events = s.events, objects = s.objects, attacks = s.attacks, out = %out.display(), "generated synthetic organisation");
    Ok(())
}

fn catalog(c: &CatalogCommand) -> Result<i32> {
    let expand = |paths: &[std::path::PathBuf]| -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                let mut v: Vec<_> = std::fs::read_dir(p).into_iter().flatten().flatten().map(|e| e.path()).filter(|f| f.extension().is_some_and(|x| x == "toml")).collect();
                v.sort();
                files.extend(v);
            } else {
                files.push(p.clone());
            }
        }
        files
    };
    match c {
        CatalogCommand::Lint { paths } => {
            let mut issues = Vec::new();
            for (origin, text) in crate::catalog::builtin_files() {
                issues.extend(crate::catalog::lint_str(text, origin));
            }
            for f in expand(paths) {
                issues.extend(crate::catalog::lint(&f));
            }
            for i in &issues {
                errln!("{i}");
            }
            if issues.is_empty() {
                errln!("catalogue ok");
                Ok(exit::OK)
            } else {
                errln!("{} problem(s)", issues.len());
                Ok(exit::USAGE)
            }
        }
        CatalogCommand::List { paths } => {
            let cat = if paths.is_empty() { crate::catalog::Catalog::load_builtin()? } else { crate::catalog::Catalog::load_dirs(&expand(paths))? };
            emit(&cat.render_table())?;
            Ok(exit::OK)
        }
    }
}
