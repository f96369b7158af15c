//! Progress reporting as a trait, so the library never draws: the CLI passes a
//! terminal bar ([`Bar`]), tests and notebooks pass [`Silent`].

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Receives progress of one long stage.
pub trait Progress: Sync {
    /// A stage starts; `total` in `unit`s when known.
    fn start(&self, stage: &str, total: Option<u64>, unit: &str);
    /// `n` more units done.
    fn inc(&self, n: u64);
    /// The stage is over.
    fn finish(&self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>, _: &str) {}
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}

/// An indicatif bar on stderr; hidden when stderr is not a terminal (cron, CI, Jupyter).
pub struct Bar {
    bar: ProgressBar,
}

impl Default for Bar {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Bar {
    /// `hidden` forces the bar off (`--quiet`).
    pub fn new(hidden: bool) -> Self {
        let bar = ProgressBar::hidden();
        if !hidden {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn start(&self, stage: &str, total: Option<u64>, unit: &str) {
        self.bar.reset();
        let template = match total {
            Some(t) => {
                self.bar.set_length(t);
                format!("{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})")
            }
            None => format!("{{prefix:>10}} {{spinner}} {{pos}} {unit} ({{per_sec}})"),
        };
        self.bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
        self.bar.set_prefix(stage.to_string());
    }
    fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
