//! Command-line types (clap derive). Only [`crate::app`] sees them: it turns them into
//! validated plans for the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Normalise cloud audit logs into one Parquet lake, learn per-principal baselines, and
/// report ATT&CK-mapped findings.
#[derive(Debug, Parser)]
#[command(name = "cloudsift", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bars and only warnings on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "\
Examples:
  cloudsift run pipelines/default.toml            ingest, detect and summarise the bundled demo
  cloudsift normalize trail.json.gz --quarantine-out bad.jsonl | jq .operation
  cloudsift ingest s3://trail-bucket/AWSLogs/ --lake ./lake
  cloudsift detect --lake ./lake --as-of 2024-03-05T00:00:00Z --fail-on high
  cloudsift findings --lake ./lake --min-severity medium
  cloudsift export --lake ./lake --format ocsf -o findings.ocsf.jsonl
  cloudsift explain --lake ./lake 3f9c2a1b
  cloudsift generate --out /tmp/org --days 30 --seed 7

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage or configuration error,
3 finished with quarantined input, 4 storage or internal error (or the lake is locked
by another run: retry later).";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: ingest new objects, score the days they touched, print a summary.
    #[command(after_help = "Example:\n  cloudsift run pipelines/default.toml --as-of 2024-03-05T00:00:00Z")]
    Run(RunArgs),
    /// Normalise files and print one JSON event per line (schema column names) on stdout.
    #[command(after_help = "Example:\n  cloudsift normalize AWSLogs/ --format cloudtrail --quarantine-out q.jsonl > events.jsonl\n\nExit code 3 when anything was quarantined.")]
    Normalize(NormalizeArgs),
    /// Normalise inputs into the hive-partitioned Parquet lake.
    #[command(after_help = "Example:\n  cloudsift ingest ./logs s3://bucket/AWSLogs/ --lake ./lake --storage-option aws_region=eu-west-1")]
    Ingest(IngestArgs),
    /// Score the lake's events with the analytics and write findings.
    #[command(after_help = "Example:\n  cloudsift detect --lake ./lake --as-of 2024-03-05T00:00:00Z --window-hours 24")]
    Detect(DetectArgs),
    /// List findings from the lake.
    #[command(after_help = "Example:\n  cloudsift findings --lake ./lake --since 2024-03-01 --min-severity high --output jsonl")]
    Findings(FindingsArgs),
    /// Export findings as OCSF Detection Finding (class 2004) JSON lines, CSV or JSON lines.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Explain one finding: its baseline, its evidence events, and where to look next.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Write a synthetic AWS organisation's CloudTrail with labelled attacks.
    #[command(after_help = "Example:\n  cloudsift generate --out /tmp/org --days 30 --seed 7 --scale 0.2")]
    Generate(GenerateArgs),
    /// Generate the labelled synthetic tenant, run every analytic on it, print recall and precision.
    #[command(after_help = "Examples:\n  cloudsift evaluate\n  cloudsift evaluate --days 60 --seed 11 --pipeline pipelines/default.toml --json\n\nAn alert is an unsuppressed finding at --alert-at or above; it matches an attack when\nits analytic, principal and at least one evidence event agree with the label.")]
    Evaluate(EvaluateArgs),
    /// Lint or list the detection catalogue.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Print the normalised event schema.
    Schema(SchemaArgs),
}

const EXPORT_EXAMPLES: &str = "\
Examples:
  cloudsift export --lake ./lake --format ocsf -o findings.ocsf.jsonl
  cloudsift export --pipeline pipelines/default.toml --format csv --min-severity medium -o findings.csv
  cloudsift export --lake ./lake --format jsonl --since 2024-03-01 --until 2024-03-08 --analytic enumeration_burst
  cloudsift export --lake ./lake --as-of 2024-03-05   (the findings of the 24 h before that instant)

ocsf: OCSF 1.8.0 Detection Finding JSON lines (cloud and security_control profiles), evidence
events read back from the lake; check with scripts/ocsf/validate.py. csv: one row per finding,
cells that a spreadsheet would run as a formula are prefixed with '. jsonl: the findings
schema, one object per line. Suppressed findings are included (OCSF status Suppressed).";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  cloudsift explain --lake ./lake 3f9c2a1b      (a unique prefix of the finding uid is enough)
  cloudsift explain --pipeline pipelines/default.toml 3f9c2a1b5e0d4c7a8b9e0f1a2b3c4d5e

Exit code 2 when no finding (or more than one) has that uid prefix.";

/// Source log format (`auto` detects it from content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum FormatArg {
    Auto,
    Cloudtrail,
    M365Audit,
    EntraAudit,
    EntraSignin,
    AzureActivity,
    KeyvaultAudit,
    GcpAudit,
    Ocsf,
}

/// Severity threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipeline file (TOML).
    #[arg(default_value = "pipelines/default.toml")]
    pub pipeline: PathBuf,
    /// End of the detection window (RFC 3339 or YYYY-MM-DD, UTC); default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Exit 1 when a finding at or above this severity was written.
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
    /// Print one machine-readable JSON summary line on stdout instead of the table.
    #[arg(long)]
    pub summary_json: bool,
}

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// Files or folders (read recursively, in sorted order).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Write quarantined and skipped records here as JSON lines.
    #[arg(long)]
    pub quarantine_out: Option<PathBuf>,
    /// Print every record, also repeated (provider, account_uid, event_uid) keys.
    #[arg(long)]
    pub keep_duplicates: bool,
    /// Leave `raw_event` out of the output.
    #[arg(long)]
    pub no_raw_event: bool,
}

#[derive(Debug, Args)]
pub struct StorageArgs {
    /// object_store option KEY=VALUE (e.g. aws_endpoint=http://127.0.0.1:9000); repeatable.
    #[arg(long = "storage-option", value_name = "KEY=VALUE")]
    pub storage_options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files, folders or object-store URL prefixes.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Lake location (path or URL).
    #[arg(long)]
    pub lake: String,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Leave `raw_event` out of the lake.
    #[arg(long)]
    pub no_raw_event: bool,
    /// Read objects again even if the manifest lists them.
    #[arg(long)]
    pub reprocess: bool,
    /// Print one machine-readable JSON summary line on stdout.
    #[arg(long)]
    pub summary_json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Lake folder.
    #[arg(long)]
    pub lake: PathBuf,
    /// End of the window (RFC 3339 or YYYY-MM-DD, UTC); default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Window length in hours.
    #[arg(long, default_value_t = 24)]
    pub window_hours: u32,
    /// Pipeline file whose [analytics] and [catalog] settings apply.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub fail_on: Option<SeverityArg>,
}

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    Table,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[arg(long)]
    pub lake: PathBuf,
    /// Only findings whose window ends at or after this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum)]
    pub min_severity: Option<SeverityArg>,
    #[arg(long, value_enum, default_value = "table")]
    pub output: OutputArg,
}

/// Where findings are read: a lake folder, or the lake of a pipeline file.
#[derive(Debug, Args)]
pub struct LakeSourceArgs {
    /// Lake folder.
    #[arg(long, required_unless_present = "pipeline", conflicts_with = "pipeline")]
    pub lake: Option<PathBuf>,
    /// Pipeline file (TOML) whose `[lake] url` to read.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
}

/// `cloudsift export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    Ocsf,
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: LakeSourceArgs,
    #[arg(long, value_enum, default_value = "ocsf")]
    pub format: ExportFormatArg,
    /// Only findings whose window ends at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, conflicts_with = "as_of")]
    pub since: Option<String>,
    /// Only findings whose window ends before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, conflicts_with = "as_of")]
    pub until: Option<String>,
    /// Only findings whose window ends in the 24 hours up to this time (a `detect --as-of` run's).
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, value_enum)]
    pub min_severity: Option<SeverityArg>,
    /// Only this analytic's findings (repeatable).
    #[arg(long = "analytic", value_name = "ID")]
    pub analytics: Vec<String>,
    /// Write here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The finding's uid, or a prefix of it that only one finding has.
    pub finding_uid: String,
    #[command(flatten)]
    pub source: LakeSourceArgs,
    /// Most evidence events to print.
    #[arg(long, default_value_t = 20)]
    pub max_events: usize,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub out: PathBuf,
    /// Days of activity.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Last day generated (YYYY-MM-DD).
    #[arg(long, default_value = "2024-03-31")]
    pub end: String,
    /// Volume multiplier (1.0 ≈ 20–40 MB of JSON per day).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Keep the generated tenant and the lake here (reused on the next run: the tenant is
    /// only generated when `DIR/generated/labels.jsonl` is missing); default: a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Days of activity (60: onboarding, holidays, a role change and an automation rollout
    /// all fall inside, with weeks of history before the attacks).
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Last day generated (YYYY-MM-DD).
    #[arg(long, default_value = "2024-03-31")]
    pub end: String,
    /// Volume multiplier of the generator.
    #[arg(long, default_value_t = 0.05)]
    pub scale: f64,
    /// Take the [analytics] settings (and extra catalogues) from this pipeline file.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
    /// Lowest severity that counts as an alert.
    #[arg(long, value_enum, default_value = "medium")]
    pub alert_at: SeverityArg,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check catalogue files (the built-in ones and any given).
    Lint {
        /// Extra catalogue files or folders.
        paths: Vec<PathBuf>,
    },
    /// List catalogue entries.
    List {
        /// Extra catalogue files or folders.
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
