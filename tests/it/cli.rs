//! Exit codes, help text, and the `normalize` contract.

use crate::{bin, run};
use std::io::Write;

#[test]
fn help_lists_examples_and_exit_codes() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Examples:") && text.contains("Exit codes:"), "{text}");
    for sub in ["run", "normalize", "ingest", "detect", "findings", "generate", "catalog", "schema"] {
        assert!(text.contains(sub), "--help lacks {sub}");
    }
}

#[test]
fn usage_error_exits_2() {
    assert_eq!(run(&["normalize"]).status.code(), Some(2));
    assert_eq!(run(&["normalize", "--format", "syslog", "x"]).status.code(), Some(2));
    let out = run(&["normalize", "/nonexistent/cloudsift/x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cloudsift/x.json"));
}

#[test]
fn normalize_prints_events_and_quarantines_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("t.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    writeln!(f, r#"{{"eventID":"a","eventTime":"2024-03-04T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","recipientAccountId":"1","userIdentity":{{"type":"Root","accountId":"1"}}}}"#).unwrap();
    writeln!(f, r#"{{"eventID":"a","eventTime":"2024-03-04T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","recipientAccountId":"1"}}"#).unwrap();
    writeln!(f, r#"{{"eventID":"b","eventTime""#).unwrap();
    drop(f);
    let q = dir.path().join("q.jsonl");
    let out = run(&["normalize", input.to_str().unwrap(), "--quarantine-out", q.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["time"], "2024-03-04T10:00:00Z");
    assert_eq!(events[0]["actor_uid"], "arn:aws:iam::1:root");
    assert_eq!(events[0]["source_locator"], "line:1");
    let quarantine = std::fs::read_to_string(&q).unwrap();
    let line: serde_json::Value = serde_json::from_str(quarantine.lines().next().unwrap()).unwrap();
    assert_eq!((line["reason"].as_str(), line["source_locator"].as_str()), (Some("invalid_json"), Some("line:3")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("read = written + duplicates + quarantined + skipped: 3 = 1 + 1 + 1 + 0"), "{stderr}");

    let out = run(&["normalize", "--keep-duplicates", input.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("t.jsonl");
    let line = r#"{"eventID":"ID","eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#;
    let text: String = (0..20_000).map(|i| line.replace("ID", &i.to_string()) + "\n").collect();
    std::fs::write(&input, text).unwrap();
    let mut child = bin().args(["normalize", input.to_str().unwrap()]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn schema_lists_every_column() {
    let out = run(&["schema", "--json"]);
    let cols: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, cloudsift::schema::COLUMNS.to_vec());
}

/// Regression: `detect`/`findings` on a lake path that does not exist printed an empty
/// result and exited 0, so a typo in a scheduled job looked green.
#[test]
fn missing_lake_is_an_input_error() {
    for cmd in [&["detect", "--lake", "/nonexistent/cloudsift-lake"][..], &["findings", "--lake", "/nonexistent/cloudsift-lake"][..]] {
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a cloudsift lake"), "{cmd:?}");
    }
}

/// Regression: `findings | head -1` panicked on the closed pipe (exit 101), `schema | head`
/// exited 4, and `normalize --quarantine-out Q | head` lost the quarantine file.
#[test]
fn closed_pipes_end_quietly_and_keep_the_quarantine() {
    use std::process::Stdio;
    let mut child = bin().args(["schema"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    assert!(matches!(child.wait().unwrap().code(), Some(0)));

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("t.jsonl");
    let good = r#"{"eventID":"ID","eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#;
    let mut text = String::from("{\"eventID\":\"bad\"\n");
    text.extend((0..20_000).map(|i| good.replace("ID", &i.to_string()) + "\n"));
    std::fs::write(&input, text).unwrap();
    let q = dir.path().join("q.jsonl");
    let mut child = bin()
        .args(["normalize", input.to_str().unwrap(), "--quarantine-out", q.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait().unwrap();
    let quarantine = std::fs::read_to_string(&q).expect("quarantine file written despite the closed pipe");
    assert!(quarantine.contains("\"source_locator\":\"line:1\""), "{quarantine}");
}

/// Regression: a symlink loop in an input folder stopped the whole batch with exit 4; now
/// the loop is quarantined as `unreadable_object` and the rest of the folder is read.
#[test]
fn symlink_loop_is_quarantined_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a.jsonl"), r#"{"eventID":"a","eventTime":"2024-03-04T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"1"}"#).unwrap();
    std::os::unix::fs::symlink("..", d.join("up")).unwrap();
    let out = run(&["normalize", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unreadable_object") && stderr.contains("2 = 1 + 0 + 1 + 0"), "{stderr}");
}

/// Regression: a storage error printed its cause five times (`{:#}` over causes that
/// already embed their source's text).
#[test]
fn error_causes_are_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let input = crate::samples("aws_cloudtrail/awsdocs_servicequotas_examples.jsonl");
    let out = run(&["ingest", input.to_str().unwrap(), "--lake", not_a_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");
}

/// Regression: `detect ... | head -1` exited 0 but left `state/lock.json` behind (the
/// closed pipe ended the process before the lock was released), so the next scheduled run
/// was refused for six hours. And a closed stderr made `ingest` panic (exit 101).
#[test]
fn closed_pipes_release_the_lake_lock_and_never_panic() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.to_str().unwrap();
    let input = crate::samples("aws_cloudtrail/invictus_stratus_2023-07-10");
    let mut child = bin().args(["ingest", input.to_str().unwrap(), "--lake", lake_s]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let mut child = bin().args(["detect", "--lake", lake_s, "--as-of", "2023-07-11"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(!lake.join("state/lock.json").exists(), "lock left behind");
    assert_eq!(run(&["detect", "--lake", lake_s, "--as-of", "2023-07-11"]).status.code(), Some(0));
}

/// Regression: quarantine lines for an unreadable folder entry named the folder root, not
/// the entry.
#[test]
fn an_unreadable_entry_is_named_in_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.json"), d.join("dangling.json")).unwrap();
    let q = dir.path().join("q.jsonl");
    let out = run(&["normalize", d.to_str().unwrap(), "--quarantine-out", q.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&q).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["reason"], "unreadable_object");
    assert!(line["source_object"].as_str().unwrap().ends_with("dangling.json"), "{line}");
}
