//! The one integration-test binary: golden runs of the `cloudsift` executable.
//!
//! - `cli`: exit codes, `--help`, the `normalize` contract on small inputs.
//! - `microsoft`: Microsoft 365 / Entra ID samples, late records, recorded stories.
//! - `pipeline`: ingest → lake → detect → findings on real samples (skipped cleanly when
//!   `../shared/data/real` is absent).

mod cli;
mod microsoft;
mod pipeline;

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
