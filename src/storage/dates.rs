//! Listing by date range: the folders of date-partitioned log layouts are pruned by name,
//! so a run over one day of an organisation trail lists that day's keys, not years of them.
//!
//! Recognised layouts (the date folders may sit at any depth):
//! - CloudTrail to S3: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`
//!   (AWS CloudTrail User Guide, "Finding your CloudTrail log files"); the organisation
//!   trail adds `AWSLogs/<org-id>/<account>/...` in front, which changes nothing here.
//! - Cloud Logging sinks to GCS: `<log-name>/YYYY/MM/DD/<hour>:00:00_<hour>:59:59_S0.json`
//!   (Google Cloud "Routing logs to Cloud Storage, log organisation").
//! - Azure diagnostic settings to Blob storage: `.../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`
//!   (Azure Monitor "Send to Azure Storage" blob path), and `year=`/`month=`/`day=` hive
//!   folders. The second `m=` of the Azure path is the minute: it follows the day, so it is
//!   not read as a month.
//!
//! A year folder is a 4-digit name in 1970..=2100 (or `y=`/`year=`); a month folder must
//! follow a year folder and a day folder a month folder, each in range. Keys outside any
//! recognised date folder are always listed: nothing tells their date.

use chrono::{Datelike, NaiveDate};

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// The days `from..=to` (swapped when given in reverse order).
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        if from <= to {
            DateRange { from, to }
        } else {
            DateRange { from: to, to: from }
        }
    }
}

/// The last date folder seen on the way down a key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Level {
    #[default]
    None,
    Year(i32),
    Month(i32, u32),
    /// A whole day matched: everything below is listed.
    Day,
}

/// What the folders above a key say about its date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatePath {
    level: Level,
}

/// The number in `seg` (`2024`, `y=2024`, `year=2024`) when it has `digits` digits.
fn number(seg: &str, digits: usize, names: &[&str]) -> Option<u32> {
    let v = match seg.split_once('=') {
        Some((k, v)) if names.contains(&k.to_ascii_lowercase().as_str()) => v,
        Some(_) => return None,
        None => seg,
    };
    (v.len() == digits && v.bytes().all(|b| b.is_ascii_digit())).then(|| v.parse().ok()).flatten()
}

impl DatePath {
    /// True once a whole day folder inside the range was reached.
    pub fn is_day(&self) -> bool {
        self.level == Level::Day
    }

    /// Goes down into the folder `seg`; `None` when every key below it lies outside `range`.
    pub fn descend(self, seg: &str, range: &DateRange) -> Option<DatePath> {
        let (f, t) = (range.from, range.to);
        let level = match self.level {
            Level::Day => Level::Day,
            Level::None => match number(seg, 4, &["y", "year"]) {
                Some(y) if (1970..=2100).contains(&y) => {
                    let y = y as i32;
                    if y < f.year() || y > t.year() {
                        return None;
                    }
                    Level::Year(y)
                }
                _ => Level::None,
            },
            Level::Year(y) => match number(seg, 2, &["m", "month"]) {
                Some(m) if (1..=12).contains(&m) => {
                    if (y, m) < (f.year(), f.month()) || (y, m) > (t.year(), t.month()) {
                        return None;
                    }
                    Level::Month(y, m)
                }
                // A year folder followed by something else was not a date after all.
                _ => Level::None,
            },
            Level::Month(y, m) => match number(seg, 2, &["d", "day"]).and_then(|d| NaiveDate::from_ymd_opt(y, m, d)) {
                Some(date) => {
                    if date < f || date > t {
                        return None;
                    }
                    Level::Day
                }
                _ => Level::None,
            },
        };
        Some(DatePath { level })
    }

    /// Follows every folder of `key` (its last part, the object's name, is not a folder);
    /// `None` when the key lies outside `range`.
    pub fn of_folders(key: &str, range: &DateRange) -> Option<DatePath> {
        let mut parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
        parts.pop();
        Self::of_prefix(&parts, range)
    }

    /// Follows every segment of a prefix (all are folders).
    pub fn of_prefix(segments: &[&str], range: &DateRange) -> Option<DatePath> {
        segments.iter().try_fold(DatePath::default(), |d, s| d.descend(s, range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn keeps(key: &str, from: &str, to: &str) -> bool {
        DatePath::of_folders(key, &DateRange::new(day(from), day(to))).is_some()
    }

    #[test]
    fn cloudtrail_gcs_and_azure_layouts_are_pruned_by_day() {
        let ct = "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2024/03/31/111122223333_CloudTrail_eu-west-1_20240331T2355Z_x.json.gz";
        assert!(keeps(ct, "2024-03-31", "2024-03-31"));
        assert!(keeps(ct, "2024-03-01", "2024-04-02"));
        assert!(!keeps(ct, "2024-04-01", "2024-04-01"));
        assert!(!keeps(ct, "2023-01-01", "2024-03-30"));
        let gcs = "cloudaudit.googleapis.com/activity/2024/03/31/00:00:00_00:59:59_S0.json";
        assert!(keeps(gcs, "2024-03-31", "2024-03-31"));
        assert!(!keeps(gcs, "2024-03-30", "2024-03-30"));
        let az = "insights-activity-logs/resourceId=/SUBSCRIPTIONS/S/y=2024/m=03/d=31/h=23/m=00/PT1H.json";
        assert!(keeps(az, "2024-03-31", "2024-03-31"));
        assert!(!keeps(az, "2024-04-01", "2024-04-30"));
    }

    #[test]
    fn folders_that_are_not_dates_are_kept() {
        // No date folders at all: nothing tells the date.
        assert!(keeps("logs/a/b.json", "2024-01-01", "2024-01-01"));
        // A 4-digit folder followed by a non-month is not a date; 13 is not a month.
        assert!(!keeps("x/2024/eu-west-1/2020/01/01/f", "2024-06-01", "2024-06-01"));
        assert!(keeps("x/2024/eu-west-1/f", "2024-06-01", "2024-06-01"));
        assert!(keeps("x/2024/13/f.json", "2024-06-01", "2024-06-01"));
        // A year out of range is pruned at the year folder, before any month is listed.
        let r = DateRange::new(day("2024-03-31"), day("2024-03-31"));
        assert_eq!(DatePath::default().descend("2023", &r), None);
        let d = DatePath::of_prefix(&["AWSLogs", "1", "CloudTrail", "r", "2024", "03", "31"], &r).unwrap();
        assert!(d.is_day());
        // A day that does not exist is no date folder.
        assert!(keeps("x/2024/03/32/f", "2024-03-01", "2024-03-01"));
        assert!(!keeps("x/2024/02/29/f", "2024-03-01", "2024-03-01"));
    }
}
