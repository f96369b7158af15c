//! One normalised audit record in memory ([`Event`]) and the Arrow builder that collects
//! events into `RecordBatch`es of [`crate::schema::event_schema`] ([`EventBatchBuilder`]).
//!
//! Normalisers fill an `Event` that borrows from the decoded input (`Cow`), so the common
//! case copies each string once: into the Arrow buffers.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, StringBuilder, TimestampMicrosecondBuilder, UInt16Builder, UInt8Builder,
};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

use crate::schema::{self, ActorType, LogFormat, Provider, Status};

/// Text that may borrow from the input buffer.
pub type Text<'a> = Cow<'a, str>;

/// A normalised audit record; field meanings are those of the columns in [`crate::schema`].
#[derive(Debug, Clone, Serialize)]
pub struct Event<'a> {
    /// Microseconds since the Unix epoch, UTC, from the record's own event-time field.
    #[serde(serialize_with = "ser_time")]
    pub time: i64,
    pub event_uid: Text<'a>,
    pub provider: Provider,
    pub log_format: LogFormat,
    pub account_uid: Text<'a>,
    pub region: Option<Text<'a>>,
    pub actor_uid: Option<Text<'a>>,
    pub actor_name: Option<Text<'a>>,
    pub actor_type: ActorType,
    pub actor_session_uid: Option<Text<'a>>,
    pub actor_account_uid: Option<Text<'a>>,
    pub src_ip: Option<Text<'a>>,
    pub src_port: Option<u16>,
    pub src_host: Option<Text<'a>>,
    pub user_agent: Option<Text<'a>>,
    pub service: Text<'a>,
    pub operation: Text<'a>,
    pub status: Status,
    pub status_raw: Option<Text<'a>>,
    pub error_code: Option<Text<'a>>,
    pub error_message: Option<Text<'a>>,
    pub resource_uid: Option<Text<'a>>,
    /// JSON text exactly as logged.
    pub request_params: Option<Text<'a>>,
    /// JSON text exactly as logged.
    pub response_elements: Option<Text<'a>>,
    /// The whole record as JSON text.
    pub raw_event: Option<Text<'a>>,
}

fn ser_time<S: serde::Serializer>(us: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*us))
}

/// RFC 3339 UTC with a `Z` and microseconds when they are not zero.
pub fn format_time(us: i64) -> String {
    match DateTime::<Utc>::from_timestamp_micros(us) {
        Some(t) if us % 1_000_000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => us.to_string(),
    }
}

impl<'a> Event<'a> {
    /// An event with the required columns set and everything optional empty.
    pub fn new(
        time: i64,
        event_uid: Text<'a>,
        provider: Provider,
        log_format: LogFormat,
        account_uid: Text<'a>,
        service: Text<'a>,
        operation: Text<'a>,
    ) -> Self {
        Event {
            time,
            event_uid,
            provider,
            log_format,
            account_uid,
            region: None,
            actor_uid: None,
            actor_name: None,
            actor_type: ActorType::None,
            actor_session_uid: None,
            actor_account_uid: None,
            src_ip: None,
            src_port: None,
            src_host: None,
            user_agent: None,
            service,
            operation,
            status: Status::Unknown,
            status_raw: None,
            error_code: None,
            error_message: None,
            resource_uid: None,
            request_params: None,
            response_elements: None,
            raw_event: None,
        }
    }

    /// A copy that owns all its text (for records decoded from an embedded JSON string).
    pub fn into_owned(self) -> Event<'static> {
        fn o(t: Text<'_>) -> Text<'static> {
            Cow::Owned(t.into_owned())
        }
        fn oo(t: Option<Text<'_>>) -> Option<Text<'static>> {
            t.map(o)
        }
        Event {
            time: self.time,
            event_uid: o(self.event_uid),
            provider: self.provider,
            log_format: self.log_format,
            account_uid: o(self.account_uid),
            region: oo(self.region),
            actor_uid: oo(self.actor_uid),
            actor_name: oo(self.actor_name),
            actor_type: self.actor_type,
            actor_session_uid: oo(self.actor_session_uid),
            actor_account_uid: oo(self.actor_account_uid),
            src_ip: oo(self.src_ip),
            src_port: self.src_port,
            src_host: oo(self.src_host),
            user_agent: oo(self.user_agent),
            service: o(self.service),
            operation: o(self.operation),
            status: self.status,
            status_raw: oo(self.status_raw),
            error_code: oo(self.error_code),
            error_message: oo(self.error_message),
            resource_uid: oo(self.resource_uid),
            request_params: oo(self.request_params),
            response_elements: oo(self.response_elements),
            raw_event: oo(self.raw_event),
        }
    }

    /// The deduplication key of DESIGN.md: (provider, account_uid, event_uid), hashed to
    /// 128 bits so that a set of keys for millions of events stays small.
    pub fn dedup_key(&self) -> u128 {
        dedup_key(self.provider.as_str(), &self.account_uid, &self.event_uid)
    }
}

/// 128-bit key of (provider, account_uid, event_uid); fields separated by a byte that
/// cannot occur in UTF-8 text so that ("a","bc") and ("ab","c") differ.
pub fn dedup_key(provider: &str, account_uid: &str, event_uid: &str) -> u128 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(provider.as_bytes());
    h.update([0xff]);
    h.update(account_uid.as_bytes());
    h.update([0xff]);
    h.update(event_uid.as_bytes());
    let d = h.finalize();
    u128::from_le_bytes(d[..16].try_into().expect("sha256 is 32 bytes"))
}

/// `YYYY-MM-DD` and hour-of-week (Monday 00h = 0) of a UTC microsecond timestamp.
pub fn date_and_hour_of_week(us: i64) -> (String, u8) {
    let t = DateTime::<Utc>::from_timestamp_micros(us).unwrap_or_default();
    let how = t.weekday().num_days_from_monday() * 24 + t.hour();
    (t.format("%Y-%m-%d").to_string(), how as u8)
}

/// Collects events into one Arrow `RecordBatch` of the lake schema.
pub struct EventBatchBuilder {
    time: TimestampMicrosecondBuilder,
    strings: Vec<StringBuilder>,
    src_port: UInt16Builder,
    hour_of_week: UInt8Builder,
    keys: Vec<u128>,
    bytes: usize,
    /// The last (day number, `YYYY-MM-DD`) formatted: rows of one object share a day, and
    /// formatting a date per row costs more than the rest of the row's columns.
    day_cache: (i64, String),
}

/// Index into `EventBatchBuilder::strings` for each string column (schema order minus
/// `time`, `src_port`, `hour_of_week`).
mod col {
    pub const EVENT_UID: usize = 0;
    pub const PROVIDER: usize = 1;
    pub const LOG_FORMAT: usize = 2;
    pub const ACCOUNT_UID: usize = 3;
    pub const REGION: usize = 4;
    pub const ACTOR_UID: usize = 5;
    pub const ACTOR_NAME: usize = 6;
    pub const ACTOR_TYPE: usize = 7;
    pub const ACTOR_SESSION_UID: usize = 8;
    pub const ACTOR_ACCOUNT_UID: usize = 9;
    pub const SRC_IP: usize = 10;
    pub const SRC_HOST: usize = 11;
    pub const USER_AGENT: usize = 12;
    pub const SERVICE: usize = 13;
    pub const OPERATION: usize = 14;
    pub const STATUS: usize = 15;
    pub const STATUS_RAW: usize = 16;
    pub const ERROR_CODE: usize = 17;
    pub const ERROR_MESSAGE: usize = 18;
    pub const RESOURCE_UID: usize = 19;
    pub const REQUEST_PARAMS: usize = 20;
    pub const RESPONSE_ELEMENTS: usize = 21;
    pub const RAW_EVENT: usize = 22;
    pub const SOURCE_OBJECT: usize = 23;
    pub const SOURCE_LOCATOR: usize = 24;
    pub const DATE: usize = 25;
    pub const INGEST_RUN_UID: usize = 26;
    pub const COUNT: usize = 27;
}

impl Default for EventBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBatchBuilder {
    pub fn new() -> Self {
        EventBatchBuilder {
            // One builder serves one object (tens to thousands of rows): start small and let
            // the buffers grow, rather than zeroing 1024-row buffers per object.
            time: TimestampMicrosecondBuilder::with_capacity(64).with_timezone("UTC"),
            strings: (0..col::COUNT).map(|_| StringBuilder::with_capacity(64, 1024)).collect(),
            src_port: UInt16Builder::with_capacity(64),
            hour_of_week: UInt8Builder::with_capacity(64),
            keys: Vec::new(),
            bytes: 0,
            day_cache: (i64::MIN, String::new()),
        }
    }

    /// A builder for the rows of one object whose text is `text_bytes` long: the JSON
    /// columns are reserved up front (a reservation that is never written costs no memory).
    pub fn for_text(text_bytes: usize) -> Self {
        let mut b = Self::new();
        if text_bytes > 1 << 20 {
            let rows = text_bytes / 1024;
            b.strings[col::RAW_EVENT] = StringBuilder::with_capacity(rows, text_bytes);
            b.strings[col::REQUEST_PARAMS] = StringBuilder::with_capacity(rows, text_bytes / 4);
        }
        b
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Approximate bytes of string data held (for memory budgets).
    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// Dedup keys of the rows, in row order.
    pub fn keys(&self) -> &[u128] {
        &self.keys
    }

    /// Appends one event; `date` is its `YYYY-MM-DD` (the caller partitions by it).
    pub fn push(
        &mut self,
        e: &Event<'_>,
        source_object: &str,
        source_locator: &str,
        ingest_run_uid: &str,
    ) {
        let day = e.time.div_euclid(86_400_000_000);
        if self.day_cache.0 != day {
            self.day_cache = (day, date_and_hour_of_week(e.time).0);
        }
        let date = std::mem::take(&mut self.day_cache.1);
        // 1970-01-01 was a Thursday (day 3 of a Monday-based week).
        let how = ((day + 3).rem_euclid(7) * 24 + e.time.rem_euclid(86_400_000_000) / 3_600_000_000) as u8;
        self.time.append_value(e.time);
        self.src_port.append_option(e.src_port);
        self.hour_of_week.append_value(how);
        self.keys.push(e.dedup_key());
        let mut bytes = 0usize;
        let mut put = |i: usize, v: Option<&str>| {
            bytes += v.map_or(0, str::len);
            self.strings[i].append_option(v);
        };
        put(col::EVENT_UID, Some(&e.event_uid));
        put(col::PROVIDER, Some(e.provider.as_str()));
        put(col::LOG_FORMAT, Some(e.log_format.as_str()));
        put(col::ACCOUNT_UID, Some(&e.account_uid));
        put(col::REGION, e.region.as_deref());
        put(col::ACTOR_UID, e.actor_uid.as_deref());
        put(col::ACTOR_NAME, e.actor_name.as_deref());
        put(col::ACTOR_TYPE, Some(e.actor_type.as_str()));
        put(col::ACTOR_SESSION_UID, e.actor_session_uid.as_deref());
        put(col::ACTOR_ACCOUNT_UID, e.actor_account_uid.as_deref());
        put(col::SRC_IP, e.src_ip.as_deref());
        put(col::SRC_HOST, e.src_host.as_deref());
        put(col::USER_AGENT, e.user_agent.as_deref());
        put(col::SERVICE, Some(&e.service));
        put(col::OPERATION, Some(&e.operation));
        put(col::STATUS, Some(e.status.as_str()));
        put(col::STATUS_RAW, e.status_raw.as_deref());
        put(col::ERROR_CODE, e.error_code.as_deref());
        put(col::ERROR_MESSAGE, e.error_message.as_deref());
        put(col::RESOURCE_UID, e.resource_uid.as_deref());
        put(col::REQUEST_PARAMS, e.request_params.as_deref());
        put(col::RESPONSE_ELEMENTS, e.response_elements.as_deref());
        put(col::RAW_EVENT, e.raw_event.as_deref());
        put(col::SOURCE_OBJECT, Some(source_object));
        put(col::SOURCE_LOCATOR, Some(source_locator));
        put(col::DATE, Some(&date));
        put(col::INGEST_RUN_UID, Some(ingest_run_uid));
        self.day_cache.1 = date;
        self.bytes += bytes + 32;
    }

    /// Takes the rows collected so far as a `RecordBatch` and leaves the builder empty.
    pub fn finish(&mut self) -> RecordBatch {
        let mut s: Vec<ArrayRef> =
            self.strings.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let take = |s: &mut Vec<ArrayRef>, i: usize| s[i].clone();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.time.finish()),
            take(&mut s, col::EVENT_UID),
            take(&mut s, col::PROVIDER),
            take(&mut s, col::LOG_FORMAT),
            take(&mut s, col::ACCOUNT_UID),
            take(&mut s, col::REGION),
            take(&mut s, col::ACTOR_UID),
            take(&mut s, col::ACTOR_NAME),
            take(&mut s, col::ACTOR_TYPE),
            take(&mut s, col::ACTOR_SESSION_UID),
            take(&mut s, col::ACTOR_ACCOUNT_UID),
            take(&mut s, col::SRC_IP),
            Arc::new(self.src_port.finish()),
            take(&mut s, col::SRC_HOST),
            take(&mut s, col::USER_AGENT),
            take(&mut s, col::SERVICE),
            take(&mut s, col::OPERATION),
            take(&mut s, col::STATUS),
            take(&mut s, col::STATUS_RAW),
            take(&mut s, col::ERROR_CODE),
            take(&mut s, col::ERROR_MESSAGE),
            take(&mut s, col::RESOURCE_UID),
            take(&mut s, col::REQUEST_PARAMS),
            take(&mut s, col::RESPONSE_ELEMENTS),
            take(&mut s, col::RAW_EVENT),
            take(&mut s, col::SOURCE_OBJECT),
            take(&mut s, col::SOURCE_LOCATOR),
            take(&mut s, col::DATE),
            Arc::new(self.hour_of_week.finish()),
            take(&mut s, col::INGEST_RUN_UID),
        ];
        self.keys.clear();
        self.bytes = 0;
        RecordBatch::try_new(schema::event_schema(), columns)
            .expect("EventBatchBuilder columns follow event_schema")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event<'static> {
        let mut e = Event::new(
            1_709_546_400_000_000,
            "id-1".into(),
            Provider::Aws,
            LogFormat::CloudTrail,
            "111122223333".into(),
            "cloudtrail.amazonaws.com".into(),
            "StopLogging".into(),
        );
        e.src_port = Some(443);
        e
    }

    #[test]
    fn batch_matches_schema_and_derives_date() {
        let mut b = EventBatchBuilder::new();
        b.push(&sample(), "a.json", "record:0", "run-1");
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), schema::event_schema());
        let date = batch
            .column_by_name(schema::DATE)
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap()
            .value(0)
            .to_string();
        assert_eq!(date, "2024-03-04");
        // 2024-03-04 is a Monday; 10:00 UTC is hour 10 of the week.
        let (_, how) = date_and_hour_of_week(1_709_546_400_000_000);
        assert_eq!(how, 10);
    }

    #[test]
    fn cached_date_and_hour_of_week_match_chrono_across_days() {
        let mut b = EventBatchBuilder::new();
        let times = [-1i64, 0, 86_399_999_999, 86_400_000_000, 1_709_546_400_000_000, 1_709_596_799_000_000, 1_709_596_800_000_000];
        for t in times {
            let mut e = sample();
            e.time = t;
            b.push(&e, "o", "record:0", "r");
        }
        let batch = b.finish();
        let dates = batch.column_by_name(schema::DATE).unwrap().as_any().downcast_ref::<arrow::array::StringArray>().unwrap().clone();
        let hows = batch.column_by_name(schema::HOUR_OF_WEEK).unwrap().as_any().downcast_ref::<arrow::array::UInt8Array>().unwrap().clone();
        for (i, t) in times.iter().enumerate() {
            let (d, h) = date_and_hour_of_week(*t);
            assert_eq!((dates.value(i), hows.value(i)), (d.as_str(), h), "time {t}");
        }
    }

    #[test]
    fn dedup_key_separates_fields() {
        assert_ne!(dedup_key("aws", "a", "bc"), dedup_key("aws", "ab", "c"));
        assert_eq!(sample().dedup_key(), dedup_key("aws", "111122223333", "id-1"));
    }

    #[test]
    fn time_formats_with_z() {
        assert_eq!(format_time(1_709_546_400_000_000), "2024-03-04T10:00:00Z");
        assert_eq!(format_time(1_709_546_400_000_123), "2024-03-04T10:00:00.000123Z");
    }
}
