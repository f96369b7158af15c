//! The properties and the regression cases they found; see the parent module's docs.

use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use super::*;

/// How a list of records is framed into one object.
#[derive(Debug, Clone, Copy)]
enum Envelope {
    Array,
    RecordsUpper,
    RecordsLower,
    GraphValue,
}

fn envelope(e: Envelope, records: &[Vec<u8>]) -> Vec<u8> {
    let (open, close): (&[u8], &[u8]) = match e {
        Envelope::Array => (b"[", b"]"),
        Envelope::RecordsUpper => (b"{\"Records\":[", b"]}"),
        Envelope::RecordsLower => (b"{\"records\":[", b"]}"),
        Envelope::GraphValue => (b"{\"@odata.context\":\"x\",\"value\":[", b"]}"),
    };
    let mut out = open.to_vec();
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r);
    }
    out.extend_from_slice(close);
    out
}

/// UTF-16 LE with a byte-order mark, as PowerShell's `Out-File` writes.
fn utf16le(text: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(text).ok()?;
    Some([0xff, 0xfe].into_iter().chain(s.encode_utf16().flat_map(u16::to_le_bytes)).collect())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A CSV export as (optional `sep=` line, header, rows).
fn parse_csv(text: &str) -> (Option<String>, Vec<String>, Vec<Vec<String>>) {
    let (sep, body) = match text.lines().next().filter(|l| l.trim().starts_with("sep=")) {
        Some(l) => (Some(l.to_string()), text.split_once('\n').map_or("", |(_, r)| r)),
        None => (None, text),
    };
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(body.as_bytes());
    let header = r.headers().map(|h| h.iter().map(str::to_string).collect()).unwrap_or_default();
    let rows = r.records().flatten().map(|rec| rec.iter().map(str::to_string).collect()).collect();
    (sep, header, rows)
}

/// A CSV cell edit: (row, column, new text or `None` to drop the cell).
type CellEdit = (u32, u32, Option<String>);

fn cell_edit() -> impl Strategy<Value = CellEdit> {
    let text = prop_oneof![
        proptest::sample::select(TRICKY).prop_map(str::to_string),
        "\\PC{0,24}",
        Just("a,b\n\"c\"\r\n".to_string()),
        Just("{\"Records\":[".to_string()),
    ];
    (any::<u32>(), any::<u32>(), proptest::option::weighted(0.85, text))
}

fn write_csv(sep: Option<&str>, header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    w.write_record(header).expect("in-memory CSV");
    for r in rows {
        w.write_record(r).expect("in-memory CSV");
    }
    let body = w.into_inner().expect("in-memory CSV");
    match sep {
        Some(s) => [s.as_bytes(), b"\n", &body].concat(),
        None => body,
    }
}

/// Prefixes that steer the framing of arbitrary bytes.
const PREFIXES: &[&[u8]] = &[
    b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", b"{", b"{\"Records\":[", b"[", b"\xef\xbb\xbf", b"\xff\xfe",
    b"\xfe\xff", b"PAR1", b"sep=;\n", b"a,b\n",
];

proptest! {
    #![proptest_config(config(20_000))]

    /// Arbitrary bytes, some behind a prefix that steers the framing (gzip magic, `{`, `[`,
    /// byte-order marks, Parquet magic, Excel's `sep=`).
    #[test]
    fn arbitrary_bytes_are_accounted_for(
        prefix in proptest::sample::select(PREFIXES),
        body in proptest::collection::vec(any::<u8>(), 0..600),
        format in format_choice(),
    ) {
        check(&[prefix, &body[..]].concat(), format)?;
    }
}

proptest! {
    #![proptest_config(config(15_000))]

    /// JSON lines: a good first record, then mutated ones (any encoding damage included),
    /// maybe with a byte-order mark, CRLF line ends, UTF-16 or gzip around it. Every
    /// non-blank line is accounted for once.
    #[test]
    fn json_lines_account_for_every_line(
        (_, first) in seed_record(),
        rest in proptest::collection::vec(mutated_record(), 1..8),
        bom in any::<bool>(),
        crlf in any::<bool>(),
        wrap in 0u8..4,
        format in format_choice(),
    ) {
        let first = first.into_bytes();
        let lines: Vec<&[u8]> = std::iter::once(&first[..]).chain(rest.iter().map(|(_, r)| &r[..])).collect();
        // A UTF-8 BOM re-encoded as UTF-16 would be a second BOM inside the text.
        let mut text = if bom && wrap != 2 { vec![0xef, 0xbb, 0xbf] } else { Vec::new() };
        for l in &lines {
            text.extend_from_slice(l);
            text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        let data = match wrap {
            1 => gzip(&text),
            // UTF-16 only for text that is UTF-8 (a UTF-16 file cannot hold the bad bytes).
            2 => utf16le(&text).unwrap_or(text),
            _ => text,
        };
        let t = check(&data, format)?;
        let want: Vec<String> = (1..=lines.len()).map(|i| format!("line:{i}")).collect();
        prop_assert_eq!(sorted(locators(&t)), sorted(want));
    }

    /// Arrays and `{"Records"|"records"|"value":[...]}` documents of mutated records: each
    /// record is accounted for once when the document parses, else the file is one
    /// `invalid_json` rejection.
    #[test]
    fn envelopes_account_for_every_record(
        recs in proptest::collection::vec(mutated_record(), 1..8),
        env in proptest::sample::select(&[Envelope::Array, Envelope::RecordsUpper, Envelope::RecordsLower, Envelope::GraphValue][..]),
        gz in any::<bool>(),
        format in format_choice(),
    ) {
        let recs: Vec<Vec<u8>> = recs.into_iter().map(|(_, r)| r).collect();
        let text = envelope(env, &recs);
        let t = check(&if gz { gzip(&text) } else { text.clone() }, format)?;
        // Whole-document parses: the nesting limit counts the envelope's levels too.
        let strict = serde_json::from_slice::<Value>(&text).is_ok() && recs.iter().all(|r| serde_json::from_slice::<Value>(r).is_ok_and(|v| v.is_object()));
        let loose = serde_json::from_slice::<&RawValue>(&text).is_ok();
        let per_record: Vec<String> = (0..recs.len()).map(|i| format!("record:{i}")).collect();
        let got = sorted(locators(&t));
        if strict {
            prop_assert_eq!(&got, &per_record, "{:?} {:?}: {}", format, t.outcomes, String::from_utf8_lossy(&text[..text.len().min(3000)]));
        } else if !loose {
            prop_assert_eq!(&got, &vec!["file".to_string()]);
            // Bad UTF-8 inside a string is found by the text decoder before the JSON parser.
            prop_assert!(
                matches!(t.outcomes[0].1, Outcome::Rejected { skip: false, reason: "invalid_json" | "invalid_encoding" }),
                "{:?}", t.outcomes
            );
        } else {
            prop_assert!(got == per_record || got == vec!["file".to_string()], "{:?}", got);
        }
    }

    /// CSV exports with edited cells (any text, quotes and line breaks inside cells, cells
    /// dropped): every data row is accounted for once, as `row:N`.
    #[test]
    fn csv_rows_are_each_accounted_for(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(cell_edit(), 0..6),
        format in format_choice(),
    ) {
        let seeds = &seeds().csv;
        prop_assume!(!seeds.is_empty());
        let (sep, header, mut rows) = parse_csv(&seeds[pick.index(seeds.len())]);
        prop_assume!(!rows.is_empty() && header.len() > 1);
        for (r, c, text) in edits {
            let n = rows.len();
            let row = &mut rows[r as usize % n];
            let c = c as usize % row.len().max(1);
            match text {
                Some(t) if c < row.len() => row[c] = t,
                Some(t) => row.push(t),
                None if row.len() > 1 => { row.remove(c); }
                None => {}
            }
        }
        let t = check(&write_csv(sep.as_deref(), &header, &rows), format)?;
        let want: Vec<String> = (0..rows.len()).map(|i| format!("row:{}", i + 2)).collect();
        prop_assert_eq!(sorted(locators(&t)), sorted(want));
    }

    /// A CSV export damaged at the byte level: no panic, every outcome accounted for.
    #[test]
    fn damaged_csv_is_accounted_for(
        pick in any::<proptest::sample::Index>(),
        damage in proptest::collection::vec(byte_edit(), 1..4),
        format in format_choice(),
    ) {
        let seeds = &seeds().csv;
        prop_assume!(!seeds.is_empty());
        let mut data = seeds[pick.index(seeds.len())].clone().into_bytes();
        for d in &damage {
            // Reuse the record mutator's byte edits on the whole file (line breaks kept).
            let at = |f: u16, len: usize| (f as usize * len) / (u16::MAX as usize + 1);
            match *d {
                ByteEdit::Truncate(f) => data.truncate(at(f, data.len())),
                ByteEdit::Flip(f, x) if !data.is_empty() => { let i = at(f, data.len()); data[i] ^= x; }
                ByteEdit::Flip(..) => {}
                ByteEdit::InvalidUtf8(f, _) => { let i = at(f, data.len() + 1); data.insert(i, 0xff); }
            }
        }
        check(&data, format)?;
    }

    /// A gzip object cut short anywhere after its magic bytes is one file-level rejection
    /// (`truncated_gzip`, or `invalid_gzip` when the cut leaves a corrupt header); a flipped
    /// byte costs at most the object, never the process.
    #[test]
    fn damaged_gzip_is_one_file_rejection(
        recs in proptest::collection::vec(mutated_record(), 1..6),
        cut in any::<proptest::sample::Index>(),
        flip in (any::<proptest::sample::Index>(), 1u8..=255),
    ) {
        let text: Vec<u8> = recs.iter().flat_map(|(_, r)| r.iter().copied().chain([b'\n'])).collect();
        let gz = gzip(&text);
        let at = 2 + cut.index(gz.len() - 2);
        let t = check(&gz[..at], None)?;
        prop_assert_eq!(t.outcomes.len(), 1);
        prop_assert_eq!(t.outcomes[0].0.as_str(), "file");
        prop_assert!(matches!(t.outcomes[0].1, Outcome::Rejected { skip: false, reason: "truncated_gzip" | "invalid_gzip" }), "{:?}", t.outcomes);
        let mut flipped = gz.clone();
        let i = flip.0.index(flipped.len());
        flipped[i] ^= flip.1;
        check(&flipped, None)?;
    }
}

/// Every seed read alone with its own format forced gives exactly one event: the seeds are
/// good records, so the properties above start from valid input (and `raw_event` can be
/// replayed, as the quarantine file promises).
#[test]
fn every_seed_record_replays_to_one_event() {
    let s = seeds();
    let formats: Vec<LogFormat> = s.records.iter().map(|(f, _)| *f).collect();
    assert_eq!(formats, LogFormat::ALL.to_vec(), "a seed for every format");
    for (f, recs) in &s.records {
        for r in recs {
            let mut c = super::super::CollectSink::default();
            read_object("seed.json", r.as_bytes(), &ReadOptions { format: Some(*f), ..ReadOptions::default() }, &mut c);
            assert_eq!((c.events.len(), c.rejects.len()), (1, 0), "{f}: {r} gave {:?}", c.rejects);
        }
    }
}

/// The mutator is not vacuous: over a fixed-seed sample of mutated records, some still
/// normalise and some are quarantined, so the properties above see both paths.
#[test]
fn mutated_records_reach_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha));
    let strategy = mutated_record();
    let (mut written, mut quarantined) = (0, 0);
    for _ in 0..400 {
        let (format, rec) = strategy.new_tree(&mut runner).expect("strategy draws").current();
        let mut c = super::super::CollectSink::default();
        read_object("m.json", &rec, &ReadOptions { format: Some(format), ..ReadOptions::default() }, &mut c);
        written += c.events.len();
        quarantined += c.rejects.iter().filter(|(r, _)| !r.skip).count();
    }
    assert!(written >= 40 && quarantined >= 40, "written {written}, quarantined {quarantined} of 400");
}
