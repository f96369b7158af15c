//! The one integration-test binary: golden runs of the `cloudsift` executable.
//!
//! - `cli`: exit codes, `--help`, the `normalize` contract on small inputs.
//! - `corrupt`: a corpus with ~1% damaged files is fully accounted for.
//! - `crash`: runs SIGKILLed at random points, then resumed.
//! - `evaluate`: recall, precision and the naive baseline on the generated estate.
//! - `exceptions`: `[[suppressions]]` / `[[allowlist]]` in force and expired.
//! - `export`: export (ocsf/csv/jsonl) and explain; OCSF 1.8.0 validation via scripts/ocsf/validate.py.
//! - `microsoft`: Microsoft 365 / Entra ID samples, late records, recorded stories.
//! - `ocsf_parquet`: Amazon Security Lake Parquet beside raw CloudTrail.
//! - `profiles`: the profile store beside the lake, rebuilt only for days whose events change.
//! - `storage`: runs on S3 (moto), Azure Blob (Azurite) and GCS (fake-gcs-server, reads
//!   only) started by scripts/storage-servers.sh.
//! - `pipeline`: ingest → lake → detect → findings on real samples (skipped cleanly when
//!   `../shared/data/real` is absent).

mod cli;
mod corrupt;
mod crash;
mod evaluate;
mod exceptions;
mod export;
mod microsoft;
mod ocsf_parquet;
mod pipeline;
mod profiles;
mod storage;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloudsift"))
}

/// Runs the binary with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("cloudsift runs")
}

/// `../shared/data/real/<sub>` when present.
pub fn real(sub: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real").join(sub);
    p.exists().then_some(p)
}

/// The project's bundled samples.
pub fn samples(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples").join(sub)
}
