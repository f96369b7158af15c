//! The `cloudsift` binary: parse arguments, set up logging, run, map errors to exit codes.

use std::io::{IsTerminal, Write};

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cloudsift::app;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use cloudsift::cli::Cli;

fn main() {
    let cli = Cli::parse();
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "warn",
        (false, 0) => "warn,cloudsift=info",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    let code = match app::run(cli) {
        Ok(code) => code,
        Err(cloudsift::Error::ClosedOutput) => 0,
        Err(err) => {
            let code = err.exit_code();
            let _ = writeln!(std::io::stderr(), "error: {}", message_chain(&anyhow::Error::from(err)));
            code
        }
    };
    std::process::exit(code);
}

/// The error and its causes, each cause shown once: storage errors already embed their
/// source's text, and `{:#}` would print it again at every level.
fn message_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
