//! Helpers shared by the normalisers' unit tests: a sink that keeps events as JSON (schema
//! column names, plus `source_locator`) and the paths of `../shared`, which tests skip
//! cleanly when absent.

use std::path::PathBuf;

use serde_json::Value;

use super::{read_object, Locator, ReadOptions, Reject, Sink};
use crate::event::Event;
use crate::schema::LogFormat;

/// Events as JSON and rejections, in input order.
#[derive(Default, Debug)]
pub(crate) struct Collect {
    pub events: Vec<Value>,
    /// (skipped, reason, locator)
    pub rejects: Vec<(bool, String, String)>,
}

impl Sink for Collect {
    fn event(&mut self, e: &Event<'_>, loc: Locator) {
        let mut v = serde_json::to_value(e).expect("events serialise");
        v["source_locator"] = loc.to_string().into();
        self.events.push(v);
    }
    fn reject(&mut self, r: &Reject, loc: Locator, _record: Option<&str>) {
        self.rejects.push((r.skip, r.reason.to_string(), loc.to_string()));
    }
}

impl Collect {
    /// The event read from `locator` (`line:3`, `record:0`, `row:2`).
    pub(crate) fn at(&self, locator: &str) -> &Value {
        self.events.iter().find(|e| e["source_locator"] == locator).unwrap_or_else(|| panic!("no event at {locator}"))
    }

    /// Rejection reasons with their count, sorted.
    pub(crate) fn reasons(&self) -> Vec<(String, usize)> {
        let mut m = std::collections::BTreeMap::<String, usize>::new();
        for (_, r, _) in &self.rejects {
            *m.entry(r.clone()).or_default() += 1;
        }
        m.into_iter().collect()
    }
}

/// A path under `../shared`, `None` when that folder is absent.
pub(crate) fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(rel);
    p.exists().then_some(p)
}

/// Reads `data` as an object named `name`.
pub(crate) fn run_named(name: &str, data: &[u8], format: Option<LogFormat>) -> Collect {
    let mut c = Collect::default();
    let opts = ReadOptions { format, ..ReadOptions::default() };
    read_object(name, data, &opts, &mut c);
    c
}

/// Reads `data` as an object named `t.json`.
pub(crate) fn run_bytes(data: &[u8], format: Option<LogFormat>) -> Collect {
    run_named("t.json", data, format)
}

/// Reads a file under `../shared` (named by its path); `None` when absent.
pub(crate) fn run_file(rel: &str, format: Option<LogFormat>) -> Option<Collect> {
    let p = shared(rel)?;
    Some(run_named(&p.to_string_lossy(), &std::fs::read(&p).expect("shared file reads"), format))
}

/// `request_params` of an event, parsed.
pub(crate) fn params(e: &Value) -> Value {
    serde_json::from_str(e["request_params"].as_str().expect("request_params is text")).expect("request_params is JSON")
}
