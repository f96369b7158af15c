//! The command layer: turns [`crate::cli`] types into validated plans, runs them, and
//! returns the process exit code. `main.rs` only parses arguments, sets up logging and
//! maps errors.

mod normalize;

use std::io::Write;

use crate::cli::{Cli, Command, FormatArg, IngestArgs, SchemaArgs};
use crate::lake::{self, IngestOptions, IngestSummary};
use crate::progress::Bar;
use crate::schema::LogFormat;
use crate::storage::Location;
use crate::{Error, Result};

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
        Command::Run(_) | Command::Detect(_) | Command::Findings(_) | Command::Generate(_) | Command::Catalog(_) => {
            Err(Error::config("command", "this subcommand is being wired up"))
        }
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
    let summary = lake::ingest(&inputs, &lake, &opts, &Bar::new(quiet))?;
    print_ingest_summary(&summary, started.elapsed(), a.summary_json);
    Ok(if summary.quarantined > 0 { exit::QUARANTINED } else { exit::OK })
}

/// Prints an ingest summary: one JSON line on stdout, or human lines on stderr.
pub fn print_ingest_summary(s: &IngestSummary, elapsed: std::time::Duration, json: bool) {
    if json {
        let mut v = serde_json::to_value(s).expect("summary serialises");
        v["elapsed_seconds"] = serde_json::json!(elapsed.as_secs_f64());
        v.as_object_mut().map(|o| o.remove("parts"));
        println!("{v}");
        return;
    }
    eprintln!(
        "ingest {}: {} objects read ({} already ingested), {:.1} MB in {:.1} s, {} parts",
        s.run_uid,
        s.objects_read,
        s.objects_already_ingested,
        s.bytes_read as f64 / 1e6,
        elapsed.as_secs_f64(),
        s.parts.len()
    );
    eprintln!("{}", s.accounting_line());
    if s.quarantined > 0 {
        eprintln!("{} records quarantined: see quarantine/run={}.jsonl in the lake", s.quarantined, s.run_uid);
    }
}

fn schema(a: &SchemaArgs) -> Result<i32> {
    let schema = crate::schema::event_schema();
    let mut out = std::io::stdout().lock();
    if a.json {
        let cols: Vec<serde_json::Value> = schema
            .fields()
            .iter()
            .map(|f| serde_json::json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(cols)).map_err(io_err)?;
    } else {
        for f in schema.fields() {
            writeln!(out, "{:<20} {:<28} {}", f.name(), f.data_type().to_string(), if f.is_nullable() { "nullable" } else { "required" })
                .map_err(io_err)?;
        }
    }
    Ok(exit::OK)
}

fn io_err(source: std::io::Error) -> Error {
    Error::Io { path: "<stdout>".into(), source }
}
