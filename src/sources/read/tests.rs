//! The streaming gzip path gives what the in-memory path gives: same events, same
//! rejections (reason, detail, locator, record text), and the size limit still holds.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

use super::stream::{survey, Survey};
use super::{read_into_with, ReadOptions};
use crate::event::Event;
use crate::schema::LogFormat;
use crate::sources::{Locator, Reject, Sink};

/// Everything a sink is told, as comparable values.
#[derive(Debug, Default, PartialEq)]
struct Full {
    events: Vec<(Value, String)>,
    /// (skip, reason, detail, locator, record text)
    rejects: Vec<(bool, String, String, String, Option<String>)>,
    text_size: Option<usize>,
}

impl Sink for Full {
    fn event(&mut self, e: &Event<'_>, loc: Locator) {
        self.events.push((serde_json::to_value(e).expect("events serialise"), loc.to_string()));
    }
    fn reject(&mut self, r: &Reject, loc: Locator, record: Option<&str>) {
        self.rejects.push((r.skip, r.reason.to_string(), r.detail.clone(), loc.to_string(), record.map(str::to_owned)));
    }
    fn text_size(&mut self, bytes: usize) {
        self.text_size = Some(bytes);
    }
}

/// A CloudTrail record with event id `id` (about 330 bytes).
fn record(id: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123:user/bob","accountId":"123","userName":"bob"}},"eventTime":"2024-03-04T10:{:02}:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{{"bucketName":"b","key":"k\u00e9y-{id}"}},"eventID":"ev-{id}","recipientAccountId":"123"}}"#,
        id % 60
    )
}

/// `{"<key>":[...]}` of `n` records, with `bad` put in place of the records at those indices.
fn document(key: &str, n: usize, bad: &[(usize, &str)]) -> String {
    let items: Vec<String> = (0..n).map(|i| bad.iter().find(|(j, _)| *j == i).map_or_else(|| record(i), |(_, b)| (*b).to_string())).collect();
    format!("{{\"{key}\": [\n{}\n]}}\n", items.join(",\n"))
}

/// `text` gzip'd as one member per piece, cut at `cuts` (byte offsets, ascending).
fn gzip_members(text: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut from = 0;
    for &to in cuts.iter().chain(std::iter::once(&text.len())) {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(&text[from..to]).unwrap();
        out.extend(enc.finish().unwrap());
        from = to;
    }
    out
}

/// (streamed with a 1 KiB threshold, read in memory as before).
fn both(data: &[u8], opts: &ReadOptions) -> (Full, Full) {
    let (mut streamed, mut memory) = (Full::default(), Full::default());
    read_into_with("t.json.gz", data, opts, &mut streamed, 1024);
    read_into_with("t.json.gz", data, opts, &mut memory, u64::MAX);
    (streamed, memory)
}

#[test]
fn records_array_split_across_gzip_members_streams_like_memory() {
    let text = document("Records", 300, &[]);
    // Cuts inside a record, inside a string and between two elements.
    let gz = gzip_members(text.as_bytes(), &[7, 20_000, text.find("ev-150").unwrap() + 2, text.len() - 3]);
    let cap = ReadOptions::default().max_decompressed_bytes;
    assert_eq!(survey(&gz, cap), Survey::Stream { key: "Records", only_key: true, text_bytes: text.len() });
    let (s, m) = both(&gz, &ReadOptions::default());
    assert_eq!(s.events.len(), 300);
    assert!(s.rejects.is_empty(), "{:?}", s.rejects);
    assert_eq!(s.events[150].1, "record:150");
    assert_eq!(s.events[150].0["event_uid"], "ev-150");
    assert_eq!(s.events[150].0["raw_event"], record(150).as_str(), "raw_event is the element's text, byte for byte");
    assert_eq!(s.text_size, Some(text.len()));
    assert_eq!(s, m);
    // And as the plain object reads.
    let mut plain = Full::default();
    read_into_with("t.json", text.as_bytes(), &ReadOptions::default(), &mut plain, 1024);
    assert_eq!(s.events, plain.events);
}

#[test]
fn bad_elements_in_the_middle_are_quarantined_with_their_index() {
    let no_time = r#"{"eventID":"x","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"123"}"#;
    let text = document("Records", 40, &[(17, "42"), (18, no_time), (25, r#"{"unrelated":true}"#)]);
    let gz = gzip_members(text.as_bytes(), &[]);
    let (s, m) = both(&gz, &ReadOptions::default());
    assert_eq!(s, m);
    assert_eq!(s.events.len(), 37);
    let where_why: Vec<(&str, &str, Option<&str>)> = s.rejects.iter().map(|r| (r.3.as_str(), r.1.as_str(), r.4.as_deref())).collect();
    assert_eq!(where_why.len(), 3, "{where_why:?}");
    assert_eq!(where_why[0].0, "record:17");
    assert_eq!(where_why[0].2, Some("42"));
    assert_eq!(where_why[1], ("record:18", "missing_event_time", Some(no_time)));
    assert_eq!(where_why[2].0, "record:25");
    assert!(s.rejects.iter().all(|r| !r.0), "all quarantined, none skipped");
}

#[test]
fn size_limit_is_enforced_while_streaming() {
    let text = document("Records", 200, &[]);
    let gz = gzip_members(text.as_bytes(), &[1000]);
    let at = |cap: u64| ReadOptions { max_decompressed_bytes: cap, ..ReadOptions::default() };
    // One byte over the limit is refused, exactly at it is read.
    let cap = text.len() as u64 - 1;
    assert_eq!(survey(&gz, cap), Survey::OverCap);
    let (s, m) = both(&gz, &at(cap));
    assert_eq!(s, m);
    assert!(s.events.is_empty());
    assert_eq!(s.rejects.len(), 1);
    assert_eq!((s.rejects[0].1.as_str(), s.rejects[0].3.as_str()), ("decompressed_size_limit", "file"));
    let (s, m) = both(&gz, &at(text.len() as u64));
    assert_eq!((s.events.len(), s.rejects.len()), (200, 0));
    assert_eq!(s, m);
    // Broken JSON early on does not hide a breach of the limit further on.
    let broken = format!("{{\"Records\":[{{\"oops\" 1}},{}", &text[12..]);
    let gz = gzip_members(broken.as_bytes(), &[]);
    assert_eq!(survey(&gz, 5000), Survey::OverCap);
    let (s, m) = both(&gz, &at(5000));
    assert_eq!(s, m);
    assert_eq!(s.rejects[0].1, "decompressed_size_limit");
}

#[test]
fn documents_the_stream_cannot_prove_fall_back_to_memory() {
    let cap = ReadOptions::default().max_decompressed_bytes;
    let doc = document("Records", 50, &[]);
    let lines: String = (0..50).map(|i| record(i) + "\n").collect();
    let dup = format!("{{\"Records\":[{}],\"pad\":\"{}\",\"Records\":[{}]}}", record(1), "x".repeat(2000), record(2));
    let digest = format!("{{\"digestStartTime\":\"2024-03-04T00:00:00Z\",\"logFiles\":[{}]}}", (0..40).map(|i| format!("{{\"s3Object\":\"o{i}\",\"hashValue\":\"{}\"}}", "a".repeat(40))).collect::<Vec<_>>().join(","));
    let not_utf8 = {
        let mut b = doc.clone().into_bytes();
        let at = doc.find("ev-30").unwrap();
        b[at] = 0xe9;
        b
    };
    let truncated = {
        let gz = gzip_members(doc.as_bytes(), &[]);
        gz[..gz.len() * 2 / 3].to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("JSON lines", gzip_members(lines.as_bytes(), &[]), ""),
        ("duplicate key", gzip_members(dup.as_bytes(), &[]), "invalid_json"),
        ("digest", gzip_members(digest.as_bytes(), &[]), "cloudtrail_digest"),
        ("not UTF-8", gzip_members(&not_utf8, &[]), "invalid_encoding"),
        ("truncated gzip", truncated, "truncated_gzip"),
        ("Records not an array", gzip_members(format!("{{\"Records\":{{\"a\":\"{}\"}}}}", "x".repeat(2000)).as_bytes(), &[]), "unrecognised_format"),
    ];
    for (what, gz, reason) in cases {
        assert_eq!(survey(&gz, cap), Survey::Fallback, "{what}");
        let (s, m) = both(&gz, &ReadOptions::default());
        assert_eq!(s, m, "{what}");
        match reason {
            "" => assert_eq!((s.events.len(), s.rejects.len()), (50, 0), "{what}"),
            r => assert!(s.rejects.iter().any(|x| x.1 == r), "{what}: {:?}", s.rejects),
        }
    }
}

#[test]
fn azure_records_and_graph_pages_stream_with_detection() {
    let entra = |i: usize| format!(r#"{{"time":"2024-05-01T08:00:00Z","category":"SignInLogs","tenantId":"T","operationName":"Sign-in activity","resultType":"0","properties":{{"id":"s{i}","userPrincipalName":"u{i}@example.com","userId":"U{i}","ipAddress":"198.51.100.{}","status":{{"errorCode":0}}}}}}"#, i % 250);
    let items: Vec<String> = (0..30).map(entra).collect();
    let azure = format!("{{\"records\":[{}]}}", items.join(","));
    let gz = gzip_members(azure.as_bytes(), &[333]);
    let cap = ReadOptions::default().max_decompressed_bytes;
    assert_eq!(survey(&gz, cap), Survey::Stream { key: "records", only_key: true, text_bytes: azure.len() });
    let (s, m) = both(&gz, &ReadOptions::default());
    assert_eq!(s, m);
    assert_eq!(s.events.len(), 30, "{:?}", s.rejects);
    assert_eq!(s.events[0].0["log_format"], LogFormat::EntraSignin.as_str());
    // A Graph page: the array is not the first key and a link follows it.
    let page = format!("\u{feff}{{\"@odata.context\":\"x\",\"value\":[{}],\"@odata.nextLink\":\"https://graph/next\"}}", items.join(","));
    let gz = gzip_members(page.as_bytes(), &[]);
    assert_eq!(survey(&gz, cap), Survey::Stream { key: "value", only_key: false, text_bytes: page.len() - 3 });
    let (s, m) = both(&gz, &ReadOptions::default());
    assert_eq!(s, m);
    assert_eq!(s.events.len(), 30, "{:?}", s.rejects);
}

#[test]
fn values_cut_by_the_window_or_longer_than_it_are_read_whole() {
    // A number that straddles the end of the first 1 MiB window, then a record of 3 MiB
    // (longer than the window, which must grow), then ordinary records.
    let head = "{\"pad\":\"";
    let pad = (1 << 20) - 5 - head.len() - "\",\"n\":".len();
    let big = record(1).replace("\"bucketName\":\"b\"", &format!("\"bucketName\":\"{}\"", "b".repeat(3 << 20)));
    let text = format!("{head}{}\",\"n\":1234567890,\"Records\":[{},{big},{}]}}", "p".repeat(pad), record(0), record(2));
    assert_eq!(&text[(1 << 20) - 5..(1 << 20) + 5], "1234567890");
    let gz = gzip_members(text.as_bytes(), &[]);
    let cap = ReadOptions::default().max_decompressed_bytes;
    assert_eq!(survey(&gz, cap), Survey::Stream { key: "Records", only_key: false, text_bytes: text.len() });
    let (s, m) = both(&gz, &ReadOptions::default());
    assert_eq!(s, m);
    assert_eq!(s.events.len(), 3, "{:?}", s.rejects);
    assert_eq!(s.events[1].0["raw_event"].as_str().map(str::len), Some(big.len()));
}
