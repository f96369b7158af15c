//! `run`, `detect` and `findings`: the detection half of the command layer.
//!
//! `run` scores whole UTC days: every day that received new rows in this run's ingest, or
//! that an earlier run left pending because it was still in progress, and that ends at or
//! before `--as-of`, is scored as one window against the history before it. A first run
//! backfills, a re-run with no new objects scores nothing again, and findings keep
//! deterministic ids (a re-scored day replaces its findings, never duplicates them).
//! A lake on an object store is ingested there and scored on a local mirror
//! ([`crate::lake::mirror`]), whose rebuilt profile days and findings are uploaded before
//! the run's journal entry is closed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{exit, outln, print_ingest_summary};
use crate::analytics::{self, AnalyticsConfig, DetectContext};
use crate::catalog::Catalog;
use crate::cli::{DetectArgs, FindingsArgs, OutputArg, RunArgs, SeverityArg};
use crate::findings::{self, Finding, Severity};
use crate::lake::{self, IngestOptions};
use crate::pipeline::Pipeline;
use crate::progress::{Bar, Progress};
use crate::storage::Location;
use crate::suppressions::{self, Suppression};
use crate::{Error, Result};

/// Parses `--as-of` / `--since`: RFC 3339, or `YYYY-MM-DD` (midnight UTC).
///
/// # Errors
/// [`Error::Config`] naming the flag.
pub fn parse_instant(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| Error::config(flag, format!("`{text}` is neither RFC 3339 nor YYYY-MM-DD")))
}

pub(crate) fn severity_of(s: SeverityArg) -> Severity {
    match s {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

fn analytics_config(p: &Pipeline) -> Result<AnalyticsConfig> {
    let origin = p.file.display().to_string();
    let mut config = AnalyticsConfig::deserialize(toml::Value::Table(p.analytics.clone())).map_err(|e| Error::config(format!("{origin}: [analytics]"), e.to_string()))?;
    config.resolve_paths(p.file.parent().unwrap_or(Path::new(".")));
    config.profiles = p.profiles;
    Ok(config)
}

use serde::Deserialize as _;

fn load_catalog(extra: &[std::path::PathBuf]) -> Result<Catalog> {
    if extra.is_empty() {
        Catalog::load_builtin()
    } else {
        Catalog::load_dirs(extra)
    }
}

/// What scoring needs besides the lake: settings, catalogue, the pipeline's exceptions and
/// the run's own instant (which exceptions' expiry is judged against).
struct Scoring<'a> {
    catalog: &'a Catalog,
    config: &'a AnalyticsConfig,
    suppressions: &'a [Suppression],
    run_as_of: DateTime<Utc>,
    run_uid: &'a str,
}

/// Scores each day in `days` (UTC), applies the exceptions and writes the findings; returns
/// them with each exception's part in the run, and adds the findings files written to
/// `written` (what a lake mirror uploads).
fn detect_days(lake_root: &Path, days: &BTreeSet<NaiveDate>, s: &Scoring, progress: &dyn Progress, written: &mut Vec<std::path::PathBuf>) -> Result<(Vec<Finding>, Vec<suppressions::Report>)> {
    progress.start("detect", Some(days.len() as u64), "days");
    let mut all = Vec::new();
    let mut reports = suppressions::apply(s.suppressions, &mut [], s.run_as_of);
    for day in days {
        let as_of = (*day + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        let ctx = DetectContext { lake_root, as_of, window: Duration::hours(24), catalog: s.catalog, config: s.config, run_uid: s.run_uid };
        let mut found = analytics::run_all(&ctx)?;
        for (total, day) in reports.iter_mut().zip(suppressions::apply(s.suppressions, &mut found, s.run_as_of)) {
            total.matched += day.matched;
        }
        written.extend(findings::write_findings(lake_root, &found)?);
        all.extend(found);
        progress.inc(1);
    }
    progress.finish();
    Ok((all, reports))
}

/// Warns about exceptions that no longer hide anything or soon will not, so that their
/// owners renew or remove them (the scheduler's log keeps the warning).
fn warn_exceptions(reports: &[suppressions::Report]) {
    for r in reports {
        match r.state {
            suppressions::State::Expired => tracing::warn!(
                "{:?} `{}` (owner {}) expired at {}: it no longer suppresses; {} finding(s) of this run matched it",
                r.kind, r.id, r.owner, r.expires_at.format("%Y-%m-%d %H:%M UTC"), r.matched
            ),
            suppressions::State::Expiring => tracing::warn!("{:?} `{}` (owner {}) expires at {}", r.kind, r.id, r.owner, r.expires_at.format("%Y-%m-%d %H:%M UTC")),
            suppressions::State::Active => {}
        }
    }
}

/// The days whose events and profiles scoring `days` reads on a lake mirror: the forget
/// window (plus the day `profiles::store::update` also checks) before the first day scored,
/// or before `as_of`'s day when none is, through the day after `as_of`'s.
fn mirror_days(days: &BTreeSet<NaiveDate>, as_of: DateTime<Utc>, settings: &crate::profiles::store::ProfileSettings) -> std::ops::RangeInclusive<NaiveDate> {
    let cutoff = as_of.date_naive();
    let first = days.first().copied().unwrap_or(cutoff).min(cutoff);
    (first - Duration::days(i64::from(settings.forget_days) + 1))..=(cutoff + Duration::days(1))
}

/// What one pipeline run did: the ingest summary, the days scored and the findings.
pub(crate) struct RunOutcome {
    pub total: lake::IngestSummary,
    pub days: BTreeSet<NaiveDate>,
    pub found: Vec<Finding>,
    /// Each `[[suppressions]]` / `[[allowlist]]` entry's state and matches in this run.
    pub exceptions: Vec<suppressions::Report>,
    pub lake_root: std::path::PathBuf,
    pub started: std::time::Instant,
    /// What the profile store's update did (days rebuilt, current, forgotten).
    pub profiles: crate::profiles::store::UpdateSummary,
    /// What the lake mirror downloaded, when the lake is on an object store.
    pub mirror: Option<lake::mirror::PullSummary>,
}

/// Generates missing synthetic sources, ingests every source, scores the days that got new
/// rows (and pending ones) up to `as_of`, and writes the findings; holds the lake lock.
pub(crate) fn execute(p: &Pipeline, as_of: DateTime<Utc>, bar: &Bar) -> Result<RunOutcome> {
    let config = analytics_config(p)?;
    let catalog = load_catalog(&p.catalog_extra)?;
    for s in &p.sources {
        if let Some(g) = &s.generate {
            super::generate_if_missing(&s.url, g, bar)?;
        }
    }
    let lake = Location::parse_output(&p.lake_url, &p.storage_options)?;
    let run_uid = lake::new_run_uid();
    let _lock = lake::LakeLock::acquire(&lake, &run_uid, super::LOCK_TTL)?;
    // Days whose rows an earlier, killed run wrote but never scored (see lake::RunJournal).
    let (journal, unfinished) = lake::RunJournal::begin(&lake, &run_uid)?;
    let started = std::time::Instant::now();
    let mut total = lake::IngestSummary { run_uid: run_uid.clone(), ..Default::default() };
    let cutoff = as_of.date_naive();
    for s in &p.sources {
        let mut input = Location::parse(&s.url, &p.storage_options)?;
        if let Some(days) = s.lookback_days {
            input = input.with_date_range(crate::storage::DateRange::new(cutoff - Duration::days(i64::from(days)), cutoff));
        }
        let opts = IngestOptions { format: s.format, keep_raw: p.keep_raw_event, run_uid: run_uid.clone(), ..Default::default() };
        let one = lake::ingest(&[input], &lake, &opts, bar)?;
        total.merge(one);
    }
    // Days that got new rows, plus those an earlier run left pending because they were not
    // complete yet (today's partial day): a day is scored once it is over, whether or not
    // more rows arrive for it later.
    let touched = total.parts.iter().filter_map(|p| p.split("date=").nth(1)?.get(..10).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()));
    let (days, pending): (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>) =
        load_pending(&lake)?.into_iter().chain(unfinished).chain(touched).collect::<BTreeSet<_>>().into_iter().partition(|d| *d < cutoff);
    // An object-store lake is scored on a local mirror of the days scoring reads (see
    // lake::mirror); the lock on the store is held until profiles and findings are back.
    let (mut mirror, pulled) = match lake.local_path() {
        Some(_) => (None, None),
        None => {
            let mut m = lake::Mirror::open(&lake, &lake::mirror::default_cache_root())?;
            let pulled = m.pull(mirror_days(&days, as_of, &config.profiles))?;
            tracing::debug!("lake mirror {}: {} file(s) downloaded ({} bytes), {} current, {} deleted", m.root().display(), pulled.downloaded, pulled.bytes, pulled.current, pulled.deleted);
            (Some(m), Some(pulled))
        }
    };
    let lake_root = match (&mirror, lake.local_path()) {
        (Some(m), _) => m.root().to_path_buf(),
        (None, Some(p)) => p.to_path_buf(),
        (None, None) => unreachable!("a lake is local or mirrored"),
    };
    // The profile store follows the lake before scoring: only the days whose event files
    // changed in this run (or a killed one) are rebuilt, days past the forget window go.
    let oldest_window = days.first().map_or(as_of, |d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    let profiles = crate::profiles::store::update(&lake_root, oldest_window, as_of, &config.profiles, bar)?;
    let scoring = Scoring { catalog: &catalog, config: &config, suppressions: &p.suppressions, run_as_of: as_of, run_uid: &run_uid };
    let mut written = Vec::new();
    let (found, exceptions) = detect_days(&lake_root, &days, &scoring, bar, &mut written)?;
    warn_exceptions(&exceptions);
    if let Some(m) = &mut mirror {
        let (up, gone) = m.push_profiles()?;
        let (f_up, f_gone) = m.push_findings(&written)?;
        tracing::info!("lake mirror: {up} profile day(s) uploaded, {gone} deleted; {f_up} findings file(s) uploaded, {f_gone} deleted");
    }
    save_pending(&lake, &pending)?;
    journal.finish()?;
    Ok(RunOutcome { total, days, found, exceptions, lake_root, started, profiles, mirror: pulled })
}

/// `cloudsift run PIPELINE`.
pub fn run(a: &RunArgs, quiet: bool) -> Result<i32> {
    let p = Pipeline::load(&a.pipeline)?;
    let as_of = a.as_of.as_deref().map(|t| parse_instant("--as-of", t)).transpose()?.unwrap_or_else(Utc::now);
    let bar = Bar::new(quiet || a.summary_json);
    let RunOutcome { total, days, found, exceptions, lake_root, started, profiles, mirror } = execute(&p, as_of, &bar)?;
    if !a.summary_json {
        print_ingest_summary(&total, started.elapsed(), false, quiet);
        if !quiet {
            if let Some(m) = &mirror {
                outln!("lake {} scored on its local mirror {}: {} file(s) downloaded ({} bytes), {} current", p.lake_url, lake_root.display(), m.downloaded, m.bytes, m.current)?;
            }
            outln!("profiles: {} day(s) rebuilt from new events, {} current, {} forgotten", profiles.built.len(), profiles.current, profiles.removed.len())?;
        }
    }
    let code = exit_code(&found, a.fail_on, total.quarantined);
    if a.summary_json {
        let mut v = serde_json::to_value(&total).expect("summary serialises");
        v.as_object_mut().map(|o| o.remove("parts"));
        v["pipeline"] = serde_json::json!(p.name);
        v["as_of"] = serde_json::json!(as_of.to_rfc3339());
        v["days_scored"] = serde_json::json!(days.len());
        v["profile_days_built"] = serde_json::json!(profiles.built.len());
        v["profile_days_forgotten"] = serde_json::json!(profiles.removed.len());
        if let Some(m) = &mirror {
            v["mirror_files_downloaded"] = serde_json::json!(m.downloaded);
            v["mirror_bytes_downloaded"] = serde_json::json!(m.bytes);
        }
        v["findings"] = serde_json::json!(found.len());
        v["findings_suppressed"] = serde_json::json!(found.iter().filter(|f| f.suppressed).count());
        v["findings_by_severity"] = serde_json::json!(count_by(&found, |f| f.severity.as_str().to_string()));
        v["findings_by_analytic"] = serde_json::json!(count_by(&found, |f| f.analytic_uid.clone()));
        v["exceptions"] = serde_json::json!(exceptions);
        v["elapsed_seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
        v["exit_code"] = serde_json::json!(code);
        outln!("{v}")?;
    } else {
        print_detect_summary(&found, &format!("{} day(s) with new events", days.len()), &lake_root)?;
        print_exceptions(&exceptions)?;
    }
    Ok(code)
}

/// `state/pending_days.json`: days with rows that were not complete when last scored.
const PENDING: &str = "state/pending_days.json";

fn load_pending(lake: &Location) -> Result<BTreeSet<NaiveDate>> {
    match lake.get_rel(PENDING)? {
        Some(b) => serde_json::from_slice(&b).map_err(|e| Error::lake(PENDING, e)),
        None => Ok(BTreeSet::new()),
    }
}

fn save_pending(lake: &Location, days: &BTreeSet<NaiveDate>) -> Result<()> {
    if days.is_empty() {
        return lake.delete(PENDING);
    }
    lake.put(PENDING, bytes::Bytes::from(serde_json::to_vec(days).expect("dates serialise")))
}

/// Counts unsuppressed findings by `key`.
fn count_by(found: &[Finding], key: impl Fn(&Finding) -> String) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in found.iter().filter(|f| !f.suppressed) {
        *m.entry(key(f)).or_insert(0) += 1;
    }
    m
}

fn exit_code(found: &[Finding], fail_on: Option<SeverityArg>, quarantined: u64) -> i32 {
    if let Some(t) = fail_on {
        let t = severity_of(t);
        if found.iter().any(|f| !f.suppressed && f.severity >= t) {
            return exit::FINDINGS;
        }
    }
    if quarantined > 0 {
        exit::QUARANTINED
    } else {
        exit::OK
    }
}

fn print_detect_summary(found: &[Finding], scored: &str, lake_root: &Path) -> Result<()> {
    let suppressed = found.iter().filter(|f| f.suppressed).count();
    outln!(
        "scored {scored}; {} finding(s) written under {}/findings ({suppressed} suppressed as routine or allowed)",
        found.len(),
        lake_root.display()
    )?;
    let by: BTreeMap<(String, String), usize> = found.iter().filter(|f| !f.suppressed).fold(BTreeMap::new(), |mut m, f| {
        *m.entry((f.analytic_uid.clone(), f.severity.as_str().to_string())).or_insert(0) += 1;
        m
    });
    if !by.is_empty() {
        outln!("\n{:<40} {:<10} {:>6}", "analytic", "severity", "count")?;
        for ((a, s), n) in &by {
            outln!("{a:<40} {s:<10} {n:>6}")?;
        }
    }
    let mut top: Vec<&Finding> = found.iter().filter(|f| !f.suppressed).collect();
    top.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.risk_score.total_cmp(&a.risk_score)));
    if !top.is_empty() {
        outln!("\nTop findings:")?;
        let shown: Vec<Finding> = top.into_iter().take(15).cloned().collect();
        super::emit(&findings::render_table(&shown))?;
        outln!("\nMore: cloudsift findings --lake {} --min-severity medium", lake_root.display())?;
    }
    Ok(())
}

/// One line per exception that is expired, expiring, or hid something in this run.
fn print_exceptions(reports: &[suppressions::Report]) -> Result<()> {
    let shown: Vec<&suppressions::Report> = reports.iter().filter(|r| r.matched > 0 || r.state != suppressions::State::Active).collect();
    if shown.is_empty() {
        return Ok(());
    }
    outln!("\n{:<28} {:<12} {:<9} {:<17} {:>7}  owner", "exception", "kind", "state", "expires (UTC)", "matched")?;
    for r in shown {
        let state = match r.state {
            suppressions::State::Active => "active",
            suppressions::State::Expiring => "expiring",
            suppressions::State::Expired => "EXPIRED",
        };
        let kind = match r.kind {
            suppressions::Kind::Suppression => "suppression",
            suppressions::Kind::Allowlist => "allowlist",
        };
        outln!("{:<28} {kind:<12} {state:<9} {:<17} {:>7}  {}", r.id, r.expires_at.format("%Y-%m-%d %H:%M"), r.matched, r.owner)?;
    }
    if reports.iter().any(|r| r.state == suppressions::State::Expired) {
        outln!("Expired exceptions hide nothing: their matches above are reported as findings. Renew or remove them.")?;
    }
    Ok(())
}

/// A lake folder the user named must exist: a typo in a scheduled job must not look green.
/// An object-store URL is refused naming the local mirror `run` keeps of it.
fn existing_lake(lake: &Path) -> Result<()> {
    let text = lake.to_string_lossy();
    if text.contains("://") && !text.starts_with("file://") {
        let mirror = lake::mirror::mirror_dir(&lake::mirror::default_cache_root(), &text).join("lake");
        return Err(Error::config(
            "--lake",
            format!("`detect` and `findings` read a local lake folder; an object-store lake is scored by `cloudsift run`, which keeps a local mirror of it (findings included) at {}", mirror.display()),
        ));
    }
    if lake.join("events").is_dir() || lake.join("findings").is_dir() {
        Ok(())
    } else {
        Err(Error::Input { path: lake.display().to_string(), message: "not a cloudsift lake (no events/ or findings/ folder); run `cloudsift ingest` first".into() })
    }
}

/// `cloudsift detect`.
pub fn detect(a: &DetectArgs) -> Result<i32> {
    existing_lake(&a.lake)?;
    let (config, catalog, exceptions) = match &a.pipeline {
        Some(path) => {
            let p = Pipeline::load(path)?;
            (analytics_config(&p)?, load_catalog(&p.catalog_extra)?, p.suppressions)
        }
        None => (AnalyticsConfig::default(), Catalog::load_builtin()?, Vec::new()),
    };
    if a.window_hours == 0 {
        return Err(Error::config("--window-hours", "must be at least 1"));
    }
    let as_of = a.as_of.as_deref().map(|t| parse_instant("--as-of", t)).transpose()?.unwrap_or_else(Utc::now);
    let run_uid = lake::new_run_uid();
    let lake_loc = Location::parse_output(&a.lake.to_string_lossy(), &[])?;
    let _lock = lake::LakeLock::acquire(&lake_loc, &run_uid, super::LOCK_TTL)?;
    let window_start = as_of - Duration::hours(i64::from(a.window_hours));
    crate::profiles::store::update(&a.lake, window_start, as_of, &config.profiles, &crate::progress::Bar::default())?;
    let ctx = DetectContext { lake_root: &a.lake, as_of, window: Duration::hours(i64::from(a.window_hours)), catalog: &catalog, config: &config, run_uid: &run_uid };
    let mut found = analytics::run_all(&ctx)?;
    let reports = suppressions::apply(&exceptions, &mut found, as_of);
    warn_exceptions(&reports);
    findings::write_findings(&a.lake, &found)?;
    let window = format!("{} .. {}", ctx.window_start().format("%Y-%m-%d %H:%M"), as_of.format("%Y-%m-%d %H:%M UTC"));
    print_detect_summary(&found, &window, &a.lake)?;
    print_exceptions(&reports)?;
    Ok(exit_code(&found, a.fail_on, 0))
}

/// `cloudsift findings`.
pub fn list(a: &FindingsArgs) -> Result<i32> {
    existing_lake(&a.lake)?;
    let since = a.since.as_deref().map(|t| parse_instant("--since", t)).transpose()?;
    let mut found = findings::read_findings(&a.lake, since)?;
    if let Some(min) = a.min_severity {
        let min = severity_of(min);
        found.retain(|f| f.severity >= min);
    }
    found.sort_by(|x, y| x.window_end.cmp(&y.window_end).then(x.finding_uid.cmp(&y.finding_uid)));
    match a.output {
        OutputArg::Table => super::emit(&findings::render_table(&found))?,
        OutputArg::Jsonl => {
            let mut buf = Vec::new();
            findings::write_jsonl(&mut buf, &found).map_err(|source| Error::Io { path: "<stdout>".into(), source })?;
            super::emit(&String::from_utf8_lossy(&buf))?;
        }
    }
    Ok(exit::OK)
}
