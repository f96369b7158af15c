//! Test helper: Amazon Security Lake–shaped Parquet objects built from OCSF JSON records.
//!
//! Shared by the unit tests (`sources::ocsf::parquet`) and the integration test
//! `tests/it/ocsf_parquet.rs` (which includes this file by path), so it names only external
//! crates. The schemas follow the Security Lake tables: source version 1 wrote OCSF
//! `1.0.0-rc.2` (API Activity = class 3005, `time` int64 epoch ms, no `cloud.account`,
//! `unmapped` a `map<string,string>` of flattened CloudTrail keys); version 2 writes OCSF 1.1
//! (class 6003, `cloud.account.uid`, `time_dt`, `api.request.data` and `unmapped` as JSON text).
//! Files are written without the embedded Arrow schema, as non-Arrow writers (Security Lake's)
//! leave them, so the reader sees only Parquet logical types.

#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray, StructArray,
    TimestampMillisecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}
fn int32(name: &str) -> Field {
    Field::new(name, DataType::Int32, true)
}
fn int64(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}
fn boolean(name: &str) -> Field {
    Field::new(name, DataType::Boolean, true)
}
fn ts_ms(name: &str) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true)
}
fn strct(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}
fn list(name: &str, item: DataType) -> Field {
    Field::new(name, DataType::List(Arc::new(Field::new("element", item, true))), true)
}
fn string_map(name: &str) -> Field {
    let kv = Fields::from(vec![Field::new("key", DataType::Utf8, false), utf8("value")]);
    Field::new(name, DataType::Map(Arc::new(Field::new("key_value", DataType::Struct(kv), false)), false), true)
}

fn product() -> Field {
    strct("product", vec![utf8("version"), utf8("name"), utf8("vendor_name"), strct("feature", vec![utf8("name")])])
}

/// Security Lake source version 1 (OCSF 1.0.0-rc.2 API Activity, class 3005).
pub fn security_lake_v1_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        strct("metadata", vec![product(), utf8("event_code"), utf8("uid"), list("profiles", DataType::Utf8), utf8("version")]),
        int64("time"),
        strct("cloud", vec![utf8("region"), utf8("provider")]),
        strct(
            "api",
            vec![
                strct("response", vec![utf8("error"), utf8("message")]),
                utf8("operation"),
                utf8("version"),
                strct("service", vec![utf8("name")]),
                strct("request", vec![utf8("uid")]),
            ],
        ),
        list(
            "resources",
            DataType::Struct(Fields::from(vec![utf8("uid"), utf8("account_uid"), utf8("type")])),
        ),
        strct(
            "actor",
            vec![
                strct("user", vec![utf8("type"), utf8("name"), utf8("uid"), utf8("uuid"), utf8("account_uid"), utf8("credential_uid")]),
                strct("session", vec![int64("created_time"), boolean("mfa"), utf8("issuer")]),
                utf8("invoked_by"),
                strct("idp", vec![utf8("name")]),
            ],
        ),
        strct("http_request", vec![utf8("user_agent")]),
        strct("src_endpoint", vec![utf8("uid"), utf8("ip"), utf8("domain")]),
        utf8("class_name"),
        int32("class_uid"),
        utf8("category_name"),
        int32("category_uid"),
        int32("severity_id"),
        utf8("severity"),
        utf8("activity_name"),
        int32("activity_id"),
        int64("type_uid"),
        utf8("type_name"),
        utf8("status"),
        utf8("status_code"),
        utf8("status_detail"),
        int32("status_id"),
        boolean("is_mfa"),
        string_map("unmapped"),
    ]))
}

/// Security Lake source version 2 (OCSF 1.1 API Activity, class 6003); `time` is int64
/// epoch milliseconds, or `timestamp[ms, UTC]` when `time_as_timestamp`.
pub fn security_lake_v2_schema(time_as_timestamp: bool) -> SchemaRef {
    let account = || strct("account", vec![utf8("uid")]);
    Arc::new(Schema::new(vec![
        strct("metadata", vec![product(), utf8("event_code"), utf8("uid"), list("profiles", DataType::Utf8), utf8("version")]),
        if time_as_timestamp { ts_ms("time") } else { int64("time") },
        ts_ms("time_dt"),
        strct("cloud", vec![utf8("region"), utf8("provider"), account()]),
        strct(
            "api",
            vec![
                strct("response", vec![utf8("error"), utf8("message"), utf8("data")]),
                utf8("operation"),
                utf8("version"),
                strct("service", vec![utf8("name")]),
                strct("request", vec![utf8("data"), utf8("uid")]),
            ],
        ),
        strct(
            "actor",
            vec![
                strct("user", vec![utf8("type"), utf8("name"), utf8("uid"), utf8("uid_alt"), account(), utf8("credential_uid")]),
                strct("session", vec![int64("created_time"), boolean("is_mfa"), utf8("issuer")]),
                utf8("invoked_by"),
                strct("idp", vec![utf8("name")]),
            ],
        ),
        strct("http_request", vec![utf8("user_agent")]),
        strct("src_endpoint", vec![utf8("uid"), utf8("ip"), utf8("domain")]),
        list(
            "resources",
            DataType::Struct(Fields::from(vec![utf8("uid"), strct("owner", vec![account()]), utf8("type")])),
        ),
        utf8("class_name"),
        int32("class_uid"),
        utf8("category_name"),
        int32("category_uid"),
        int32("severity_id"),
        utf8("severity"),
        utf8("activity_name"),
        int32("activity_id"),
        int64("type_uid"),
        utf8("type_name"),
        utf8("status"),
        int32("status_id"),
        utf8("unmapped"),
    ]))
}

/// The Arrow array of type `dt` holding `vals` (`None` / JSON null → null). Strings take
/// any JSON value (non-strings as their JSON text, as Security Lake stores `data` and
/// `unmapped`); timestamps take epoch milliseconds or RFC 3339 text.
///
/// # Panics
/// On a type this helper does not build.
pub fn array(dt: &DataType, vals: &[Option<&Value>]) -> ArrayRef {
    let present = |v: &Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let int = |v: &Option<&Value>| present(v).and_then(|v| v.as_i64());
    match dt {
        DataType::Utf8 => Arc::new(
            vals.iter()
                .map(|v| present(v).map(|v| if let Value::String(s) = v { s } else { v.to_string() }))
                .collect::<StringArray>(),
        ),
        DataType::Int32 => Arc::new(vals.iter().map(|v| int(v).map(|x| x as i32)).collect::<Int32Array>()),
        DataType::Int64 => Arc::new(vals.iter().map(int).collect::<Int64Array>()),
        DataType::Boolean => Arc::new(vals.iter().map(|v| present(v).and_then(|v| v.as_bool())).collect::<BooleanArray>()),
        DataType::Timestamp(TimeUnit::Millisecond, tz) => {
            let ms = |v: &Option<&Value>| match present(v)? {
                Value::String(s) => chrono::DateTime::parse_from_rfc3339(&s).ok().map(|t| t.timestamp_millis()),
                other => other.as_i64(),
            };
            Arc::new(vals.iter().map(ms).collect::<TimestampMillisecondArray>().with_timezone_opt(tz.clone()))
        }
        DataType::Struct(fields) => {
            let valid: Vec<bool> = vals.iter().map(|v| present(v).is_some_and(|v| v.is_object())).collect();
            let children = fields
                .iter()
                .map(|f| {
                    let sub: Vec<Option<&Value>> = vals.iter().map(|v| v.filter(|v| v.is_object()).and_then(|o| o.get(f.name()))).collect();
                    array(f.data_type(), &sub)
                })
                .collect();
            Arc::new(StructArray::new(fields.clone(), children, Some(NullBuffer::from(valid))))
        }
        DataType::List(item) => {
            let (mut items, mut lens, mut valid) = (Vec::new(), Vec::new(), Vec::new());
            for v in vals {
                let a = v.and_then(Value::as_array);
                valid.push(a.is_some());
                lens.push(a.map_or(0, Vec::len));
                items.extend(a.into_iter().flatten().map(Some));
            }
            let child = array(item.data_type(), &items);
            Arc::new(ListArray::new(item.clone(), OffsetBuffer::from_lengths(lens), child, Some(NullBuffer::from(valid))))
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else { panic!("map entries are a struct") };
            let (mut keys, mut items, mut lens, mut valid) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for v in vals {
                let o = v.and_then(Value::as_object);
                valid.push(o.is_some());
                lens.push(o.map_or(0, serde_json::Map::len));
                for (k, x) in o.into_iter().flatten() {
                    keys.push(k.clone());
                    items.push(Some(x));
                }
            }
            let entries_array = StructArray::new(kv.clone(), vec![Arc::new(StringArray::from(keys)), array(kv[1].data_type(), &items)], None);
            Arc::new(MapArray::new(
                entries.clone(),
                OffsetBuffer::from_lengths(lens),
                entries_array,
                Some(NullBuffer::from(valid)),
                *sorted,
            ))
        }
        other => panic!("testkit builds no {other} column"),
    }
}

/// `rows` (JSON objects) as one record batch of `schema`; keys outside the schema are dropped.
pub fn batch(schema: &SchemaRef, rows: &[Value]) -> RecordBatch {
    let cols = schema
        .fields()
        .iter()
        .map(|f| array(f.data_type(), &rows.iter().map(|r| r.get(f.name())).collect::<Vec<_>>()))
        .collect();
    RecordBatch::try_new(schema.clone(), cols).expect("columns match the schema")
}

/// A Parquet object of `rows` with `compression`, `rows_per_group` rows per row group, and
/// no embedded Arrow schema.
pub fn parquet(schema: &SchemaRef, rows: &[Value], compression: Compression, rows_per_group: usize) -> Vec<u8> {
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let options = ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new_with_options(&mut buf, schema.clone(), options).expect("writer opens");
    w.write(&batch(schema, rows)).expect("batch writes");
    w.close().expect("footer writes");
    buf
}
