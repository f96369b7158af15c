//! Property tests ("fuzzing") of the reading layer and every normaliser over arbitrary bytes
//! and over mutated real records, framed every way [`super::read`] accepts (JSON lines, JSON
//! array, `{"Records":[...]}`, `{"records":[...]}`, `{"value":[...]}`, CSV, gzip).
//!
//! Mutations: delete / duplicate / retype fields (string, number, bool, null, object,
//! array), huge numbers, deep nesting, empty strings, strings that look like dates, IPs,
//! ARNs, resource ids or JSON; then truncation at any byte, byte flips and invalid UTF-8.
//!
//! Properties, for every input: no panic; every record the framing yields ends as exactly
//! one of written (an event) / skipped / quarantined, with a snake_case reason, and
//! [`super::read::ObjectStats`] agrees with what the sink saw; a file-level rejection is the
//! object's only outcome; events carry the schema's required columns non-empty. When the
//! input's framing is intact the test knows the record count, and checks that every record
//! (`line:N`, `record:N`, `row:N`) is accounted for once.
//!
//! Seeds: every record of `data/samples/`, `tests/fixtures/` and `../shared/data/real/`
//! (skipped when absent), as the normalisers' own `raw_event`, plus one built-in record per
//! format so that each format is fuzzed without `../shared`.
//!
//! Cases: each property runs [`cases`] cases (sized so that this file runs in well under
//! 60 s in release on 2 cores). For a longer local run set `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=20000 cargo test --release --lib sources::fuzz_tests`; failures are
//! persisted by proptest under `proptest-regressions/` and the fixed ones are kept as
//! plain `#[test]`s at the end of this file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

use super::{read_object, Locator, ReadOptions, Reject, Sink};
use crate::event::Event;
use crate::schema::LogFormat;

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    // Shrinking multi-kilobyte inputs can take minutes; a few hundred steps find the culprit.
    ProptestConfig { cases: cases(default), max_shrink_iters: 512, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------
// The checking sink.

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Written,
    Rejected { skip: bool, reason: &'static str },
}

#[derive(Default, Debug)]
struct Tally {
    outcomes: Vec<(String, Outcome)>,
    /// Contract violations seen in events (checked inside the sink, where events live).
    bad_events: Vec<String>,
}

impl Sink for Tally {
    fn event(&mut self, e: &Event<'_>, loc: Locator) {
        let blank = |s: &str| s.trim().is_empty();
        let mut problems = Vec::new();
        for (name, v) in [("event_uid", &e.event_uid), ("account_uid", &e.account_uid), ("service", &e.service), ("operation", &e.operation)] {
            if blank(v) {
                problems.push(format!("required `{name}` is empty"));
            }
        }
        let optional = [("actor_uid", &e.actor_uid), ("actor_name", &e.actor_name), ("src_ip", &e.src_ip), ("region", &e.region)];
        for (name, v) in optional {
            if v.as_deref().is_some_and(blank) {
                problems.push(format!("`{name}` is Some(empty)"));
            }
        }
        if !problems.is_empty() {
            self.bad_events.push(format!("{loc}: {problems:?} in {e:?}"));
        }
        self.outcomes.push((loc.to_string(), Outcome::Written));
    }
    fn reject(&mut self, r: &Reject, loc: Locator, _record: Option<&str>) {
        self.outcomes.push((loc.to_string(), Outcome::Rejected { skip: r.skip, reason: r.reason }));
    }
}

/// Reads `data` and checks the properties every input must meet; returns the tally.
fn check(data: &[u8], format: Option<LogFormat>) -> Result<Tally, TestCaseError> {
    let mut t = Tally::default();
    let opts = ReadOptions { format, ..ReadOptions::default() };
    let stats = read_object("fuzz/object.json", data, &opts, &mut t);
    prop_assert!(t.bad_events.is_empty(), "events break the schema contract: {:?}", t.bad_events);
    let (mut ev, mut q, mut sk) = (0, 0, 0);
    for (loc, o) in &t.outcomes {
        match o {
            Outcome::Written => ev += 1,
            Outcome::Rejected { skip, reason } => {
                prop_assert!(is_snake_case(reason), "reason `{reason}` at {loc} is not snake_case");
                if *skip {
                    sk += 1;
                } else {
                    q += 1;
                }
            }
        }
    }
    prop_assert_eq!((stats.events, stats.quarantined, stats.skipped), (ev, q, sk), "ObjectStats disagree with the sink");
    let mut per_loc: BTreeMap<&str, usize> = BTreeMap::new();
    for (loc, _) in &t.outcomes {
        *per_loc.entry(loc.as_str()).or_default() += 1;
    }
    // Normalisers give one event per record today (the trait allows more): a second outcome
    // at one locator would be a record counted twice.
    for (loc, n) in &per_loc {
        prop_assert_eq!(*n, 1usize, "{} outcomes at {}: {:?}", n, loc, t.outcomes);
    }
    if per_loc.contains_key("file") {
        prop_assert_eq!(t.outcomes.len(), 1, "a file-level rejection is not the only outcome: {:?}", t.outcomes);
    }
    Ok(t)
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The locators of a tally, in order.
fn locators(t: &Tally) -> Vec<String> {
    t.outcomes.iter().map(|(l, _)| l.clone()).collect()
}

// ---------------------------------------------------------------------------------------
// Seeds.

/// Seed records by format and CSV exports (header + first rows).
struct Seeds {
    records: Vec<(LogFormat, Vec<String>)>,
    csv: Vec<String>,
}

/// One record per format, so every normaliser is fuzzed even without `../shared`.
const BUILT_IN: &[(LogFormat, &str)] = &[
    (LogFormat::CloudTrail, r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::111122223333:assumed-role/Admin/s","accountId":"111122223333","accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Admin","userName":"Admin"}}},"eventTime":"2024-03-04T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestParameters":{"name":"main"},"responseElements":null,"eventID":"e1","recipientAccountId":"111122223333"}"#),
    (LogFormat::M365Audit, r#"{"CreationTime":"2024-03-04T10:30:00","Id":"a1","Operation":"New-InboxRule","OrganizationId":"o1","RecordType":1,"UserType":2,"Workload":"Exchange","ClientIP":"[2001:db8::1]:443","UserId":"Adele@contoso.com","Parameters":[{"Name":"ForwardTo","Value":"x@evil.example"}],"ResultStatus":"True"}"#),
    (LogFormat::EntraAudit, r#"{"id":"x1","activityDateTime":"2024-08-01T12:00:00Z","activityDisplayName":"Update application","loggedByService":"Core Directory","result":"failure","resultReason":"Insufficient privileges","initiatedBy":{"app":{"appId":"A1","displayName":"Automation","servicePrincipalId":"SP-1"}},"targetResources":[{"id":"t1","modifiedProperties":[{"displayName":"Notes","oldValue":"not {json","newValue":"\"ok\""}]}]}"#),
    (LogFormat::EntraSignin, r#"{"id":"s1","createdDateTime":"2024-08-01T12:00:00Z","userPrincipalName":"Adele@contoso.com","userId":"u1","appDisplayName":"Office 365","ipAddress":"203.0.113.9","status":{"errorCode":50126,"failureReason":"Invalid password"},"location":{"countryOrRegion":"NL"}}"#),
    (LogFormat::AzureActivity, r#"{"time":"2024-01-01T00:00:00Z","resourceId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","category":"Administrative","resultType":"Success","callerIpAddress":"198.51.100.2","correlationId":"c1","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"a@b.c"}}}"#),
    (LogFormat::KeyVaultAudit, r#"{"time":"2024-06-01T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/V","operationName":"SecretGet","category":"AuditEvent","resultType":"Success","resultSignature":"Forbidden","callerIpAddress":"198.51.100.1","correlationId":"k1","identity":{"claim":{"oid":"O-1","appid":"A-1"}},"properties":{"id":"https://v.vault.azure.net/secrets/s","httpStatusCode":403}}"#),
    (LogFormat::GcpAudit, r#"{"insertId":"i1","logName":"projects/p1/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"d@p1.iam.gserviceaccount.com"},"requestMetadata":{"callerIp":"::ffff:198.51.100.4","callerSuppliedUserAgent":"terraform/1.7"},"serviceName":"iam.googleapis.com","methodName":"google.iam.admin.v1.CreateServiceAccountKey","resourceName":"projects/-/serviceAccounts/x","request":{"b":1},"status":{"code":7,"message":"denied"}},"resource":{"type":"service_account","labels":{"project_id":"p1"}},"timestamp":"2024-01-15T08:02:00.123456789Z"}"#),
];

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut by_format: BTreeMap<LogFormat, Vec<String>> = BTreeMap::new();
        for (f, r) in BUILT_IN {
            by_format.entry(*f).or_default().push((*r).to_string());
        }
        let mut csv = Vec::new();
        let dirs = [root.join("data/samples"), root.join("tests/fixtures"), root.join("../shared/data/real")];
        for dir in dirs.iter().filter(|d| d.exists()) {
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten().filter(|e| e.file_type().is_file()) {
                let path = entry.path();
                let Ok(data) = std::fs::read(path) else { continue };
                if path.extension().is_some_and(|x| x == "csv") {
                    // Header and the first rows are enough to fuzz a CSV export's framing.
                    let text = String::from_utf8_lossy(&data);
                    csv.push(text.lines().take(12).collect::<Vec<_>>().join("\n"));
                }
                let mut sink = super::CollectSink::default();
                read_object(&path.to_string_lossy(), &data, &ReadOptions::default(), &mut sink);
                for (e, _) in sink.events {
                    // One line each (some samples are pretty-printed documents).
                    if let Some(Ok(Value::Object(m))) = e.raw_event.map(|r| serde_json::from_str::<Value>(&r)) {
                        by_format.entry(e.log_format).or_default().push(Value::Object(m).to_string());
                    }
                }
            }
        }
        // A spread of at most 48 distinct records per format keeps the strategies small.
        let records = by_format
            .into_iter()
            .map(|(f, mut v)| {
                v.sort();
                v.dedup();
                let step = v.len().div_ceil(48).max(1);
                (f, v.into_iter().step_by(step).collect())
            })
            .collect();
        Seeds { records, csv }
    })
}

/// Any seed record of any format.
fn seed_record() -> impl Strategy<Value = (LogFormat, String)> {
    let all: Vec<(LogFormat, String)> = seeds().records.iter().flat_map(|(f, v)| v.iter().map(move |r| (*f, r.clone()))).collect();
    proptest::sample::select(all)
}

// ---------------------------------------------------------------------------------------
// Mutations.

/// Text values that trip parsers: dates out of range or in odd forms, IP-ish and ARN-ish
/// text, JSON inside strings, control and non-BMP characters.
const TRICKY: &[&str] = &[
    "", " ", "\t", "null", "0", "-1", "true", "{}", "[]", "{\"a\":1}", "[1,2", "\"", "\\",
    "2024-02-30T00:00:00Z", "2024-13-01T25:61:61Z", "9999-12-31T23:59:59.9999999Z", "0000-01-01T00:00:00Z",
    "-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "1970-01-01", "2024-03-04 10:00:00+99:99", "2024-03-04T10:00",
    "1709546400", "1709546400000", "99999999999999999999", "1.2.3.4", "1.2.3.4:65536", "1.2.3.4:0", "[::1]:443", "[::1",
    "::ffff:10.0.0.1", "fe80::1%eth0", "999.999.999.999", "lambda.amazonaws.com", "AWS Internal", "arn:aws:iam::123:role/",
    "arn:aws:sts::", "arn:", "/", "/subscriptions/", "/SUBSCRIPTIONS//RESOURCEGROUPS//PROVIDERS/", "/tenants//providers/Microsoft.aadiam",
    "smtp:", "SMTP:a@b", "@", "\u{0}", "é", "😀", "\u{feff}", "\u{3000}", "a\"b\\c", "HIDDEN_DUE_TO_SECURITY_REASONS",
];

/// A JSON value to put where a field was; `Raw` is text spliced in after serialising
/// (values `serde_json::Value` cannot hold: huge numbers, nesting past the parser's limit).
#[derive(Debug, Clone)]
enum Repl {
    Value(Value),
    Raw(String),
}

fn replacement() -> impl Strategy<Value = Repl> {
    prop_oneof![
        Just(Repl::Value(Value::Null)),
        any::<bool>().prop_map(|b| Repl::Value(b.into())),
        any::<i64>().prop_map(|n| Repl::Value(n.into())),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| Repl::Value(f.into())),
        proptest::sample::select(TRICKY).prop_map(|s| Repl::Value(s.into())),
        "\\PC{0,24}".prop_map(|s| Repl::Value(s.into())),
        Just(Repl::Value(serde_json::json!({}))),
        Just(Repl::Value(serde_json::json!({"type": "x", "value": 1, "": null}))),
        Just(Repl::Value(serde_json::json!([]))),
        Just(Repl::Value(serde_json::json!([1, "a", null, {"b": []}]))),
        proptest::sample::select(&["1e400", "-1e400", "123456789012345678901234567890", "-9223372036854775809", "18446744073709551616", "0.000000000000000000000000000001e-400"][..])
            .prop_map(|s| Repl::Raw(s.to_string())),
        (1usize..300).prop_map(|d| Repl::Raw(format!("{}{}", "[".repeat(d), "]".repeat(d)))),
        (1usize..300).prop_map(|d| Repl::Raw(format!("{}1{}", "{\"a\":".repeat(d), "}".repeat(d)))),
        (1usize..200_000).prop_map(|n| Repl::Value("x".repeat(n).into())),
    ]
}

/// A structural edit at a path (each step picks a child by index modulo the child count).
#[derive(Debug, Clone)]
enum Edit {
    Delete(Vec<u32>),
    Retype(Vec<u32>, Repl),
    /// Repeats one top-level key (`{"k":1,"k":2}`), which `serde_json::Value` cannot hold.
    DuplicateKey(u32),
}

/// A byte-level edit at a position given as a fraction of the length (0..=u16::MAX).
#[derive(Debug, Clone)]
enum ByteEdit {
    Truncate(u16),
    Flip(u16, u8),
    InvalidUtf8(u16, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let path = proptest::collection::vec(any::<u32>(), 1..4);
    prop_oneof![
        path.clone().prop_map(Edit::Delete),
        (path, replacement()).prop_map(|(p, r)| Edit::Retype(p, r)),
        any::<u32>().prop_map(Edit::DuplicateKey),
    ]
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        any::<u16>().prop_map(ByteEdit::Truncate),
        (any::<u16>(), 1u8..=255).prop_map(|(p, x)| ByteEdit::Flip(p, x)),
        (any::<u16>(), 0u8..4).prop_map(|(p, k)| ByteEdit::InvalidUtf8(p, k)),
    ]
}

fn is_container(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// Applies `op` (delete or replace) to the node `path` leads to; raw splices are recorded
/// in `raws` and put in as placeholders.
fn apply(v: &mut Value, path: &[u32], repl: Option<&Repl>, raws: &mut Vec<String>) {
    let mut put = |slot: &mut Value| {
        *slot = match repl {
            Some(Repl::Value(x)) => x.clone(),
            Some(Repl::Raw(r)) => {
                raws.push(r.clone());
                Value::String(format!("\u{1}RAW{}\u{1}", raws.len() - 1))
            }
            None => Value::Null,
        }
    };
    let Some((sel, rest)) = path.split_first() else { return put(v) };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(*sel as usize % m.len()).cloned().expect("index in range");
            if rest.is_empty() || !is_container(&m[&key]) {
                match repl {
                    None => {
                        m.remove(&key);
                    }
                    Some(_) => put(m.get_mut(&key).expect("key present")),
                }
            } else {
                apply(m.get_mut(&key).expect("key present"), rest, repl, raws);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = *sel as usize % a.len();
            if rest.is_empty() || !is_container(&a[i]) {
                match repl {
                    None => {
                        a.remove(i);
                    }
                    Some(_) => put(&mut a[i]),
                }
            } else {
                apply(&mut a[i], rest, repl, raws);
            }
        }
        _ => {
            if repl.is_some() {
                put(v)
            }
        }
    }
}

/// A seed record after `edits` and `byte_edits`. Record text never holds a line break
/// (so JSON-lines framing keeps one record per line) and is never blank.
fn mutate(seed: &str, edits: &[Edit], byte_edits: &[ByteEdit]) -> Vec<u8> {
    let mut text = seed.to_string();
    if !edits.is_empty() {
        let mut v: Value = serde_json::from_str(seed).expect("seed records are JSON");
        let mut raws = Vec::new();
        let mut dup = None;
        for e in edits {
            match e {
                Edit::Delete(p) => apply(&mut v, p, None, &mut raws),
                Edit::Retype(p, r) => apply(&mut v, p, Some(r), &mut raws),
                Edit::DuplicateKey(k) => dup = Some(*k),
            }
        }
        text = v.to_string();
        for (i, r) in raws.iter().enumerate() {
            text = text.replace(&format!("\"\\u0001RAW{i}\\u0001\""), r);
        }
        if let (Some(k), Value::Object(m)) = (dup, &v) {
            if let Some((key, val)) = m.iter().nth(k as usize % m.len().max(1)) {
                let entry = format!("{}:{},", Value::String(key.clone()), val);
                text.insert_str(1, &entry);
            }
        }
    }
    let mut bytes = text.into_bytes();
    for b in byte_edits {
        let at = |frac: u16, len: usize| (frac as usize * len) / (u16::MAX as usize + 1);
        match *b {
            ByteEdit::Truncate(f) => bytes.truncate(at(f, bytes.len())),
            ByteEdit::Flip(f, x) if !bytes.is_empty() => {
                let i = at(f, bytes.len());
                bytes[i] ^= x;
            }
            ByteEdit::Flip(..) => {}
            ByteEdit::InvalidUtf8(f, k) => {
                let bad: &[u8] = [&[0xff][..], &[0xc3], &[0xed, 0xa0, 0x80], &[0xf4, 0x90, 0x80, 0x80]][k as usize];
                let i = at(f, bytes.len() + 1);
                bytes.splice(i..i, bad.iter().copied());
            }
        }
    }
    for b in &mut bytes {
        if *b == b'\n' || *b == b'\r' {
            *b = b' ';
        }
    }
    let blank = std::str::from_utf8(&bytes).map_or(bytes.iter().all(u8::is_ascii_whitespace), |s| s.trim().is_empty());
    if blank {
        bytes = b"x".to_vec();
    }
    bytes
}

/// One mutated record: (its seed's format, bytes).
fn mutated_record() -> impl Strategy<Value = (LogFormat, Vec<u8>)> {
    (seed_record(), proptest::collection::vec(edit(), 0..4), proptest::collection::vec(byte_edit(), 0..2))
        .prop_map(|((f, seed), e, b)| (f, mutate(&seed, &e, &b)))
}

/// `None` (detect) or any forced `--format`, right or wrong.
fn format_choice() -> impl Strategy<Value = Option<LogFormat>> {
    prop_oneof![3 => Just(None), 1 => proptest::sample::select(LogFormat::ALL).prop_map(Some)]
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

mod props;
