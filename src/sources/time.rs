//! Event-time parsing shared by the normalisers. Every result is microseconds since the
//! Unix epoch, UTC. Text without a zone is UTC (M365 `CreationTime`, DESIGN.md), never the
//! machine's local zone, so `TZ` cannot change a result.

use chrono::{DateTime, NaiveDateTime};

/// Parses RFC 3339 / ISO 8601 text: `2024-03-04T10:00:00Z`, `...+11:00`, `...0000000Z`
/// (7 fraction digits, truncated to microseconds), `2024-03-04T10:00:00` (UTC),
/// `2024-03-04 10:00:00+11:00`. `None` when the text is not a time.
pub fn parse_iso(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    // A space instead of `T`, or a zone without a colon.
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    let naive = t.trim_end_matches(['Z', 'z']);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    None
}

/// Fast path for CloudTrail's `YYYY-MM-DDTHH:MM:SSZ` (no fraction); falls back to
/// [`parse_iso`] for anything else.
pub fn parse_cloudtrail(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z' {
        let n = |r: std::ops::Range<usize>| -> Option<i64> {
            let mut v = 0i64;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + i64::from(c - b'0');
            }
            Some(v)
        };
        let (y, mo, d, h, mi, s) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return parse_iso(text);
        }
        let days = days_from_civil(y, mo as u32, d as u32);
        return Some(((days * 24 + h) * 60 + mi) * 60_000_000 + s * 1_000_000);
    }
    parse_iso(text)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch milliseconds (OCSF `time`) to microseconds.
pub fn from_epoch_millis(ms: i64) -> i64 {
    ms.saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        let base = 1_709_546_400_000_000; // 2024-03-04T10:00:00Z
        assert_eq!(parse_iso("2024-03-04T10:00:00Z"), Some(base));
        assert_eq!(parse_iso("2024-03-04T10:00:00"), Some(base));
        assert_eq!(parse_iso("2024-03-04T21:00:00+11:00"), Some(base));
        assert_eq!(parse_iso("2024-03-04 21:00:00+11:00"), Some(base));
        assert_eq!(parse_iso("2024-03-04T10:00:00.1234567Z"), Some(base + 123_456));
        assert_eq!(parse_iso("2024-03-04T10:00:00.5"), Some(base + 500_000));
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn cloudtrail_fast_path_agrees_with_chrono() {
        for t in ["2024-02-29T23:59:59Z", "1999-12-31T00:00:00Z", "2023-07-10T11:42:36Z"] {
            assert_eq!(parse_cloudtrail(t), parse_iso(t), "{t}");
        }
        assert_eq!(parse_cloudtrail("2024-13-01T00:00:00Z"), None);
    }
}
