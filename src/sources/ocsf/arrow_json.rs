//! Arrow arrays → `serde_json` values, one column at a time: the JSON record a Parquet row
//! would be had Security Lake written it as JSON.
//!
//! | Arrow type | JSON |
//! |---|---|
//! | null slot (any type) | `null`; a struct field or map entry that is null is left out, as OCSF JSON omits absent attributes |
//! | boolean, integers, floats | boolean, number (NaN / ±inf → `null`) |
//! | utf8 / large utf8 / utf8 view | string |
//! | binary (all widths) | string when UTF-8, else lower-case hex |
//! | timestamp (any unit, any zone) | RFC 3339 UTC text with `Z` and the unit's digits (`2024-03-04T10:00:00.123Z` for ms); a zone-less timestamp is read as UTC |
//! | struct | object of its non-null fields |
//! | list / large list | array |
//! | map | object (key text → value) |
//! | dictionary | its value's JSON |
//! | anything else (dates, decimals, durations, …) | the value's Arrow display text |
//!
//! Converting column-wise walks each nested array once per batch instead of once per row.

use arrow::array::{Array, AsArray, GenericListArray, MapArray, OffsetSizeTrait, StructArray};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, SecondsFormat};
use serde_json::{Map, Number, Value};

/// The JSON value of every slot of `a`, in order (`a.len()` values).
pub(super) fn values(a: &dyn Array) -> Vec<Value> {
    macro_rules! ints {
        ($t:ty) => {
            a.as_primitive::<$t>().iter().map(|x| x.map_or(Value::Null, Value::from)).collect()
        };
    }
    macro_rules! floats {
        ($t:ty) => {
            a.as_primitive::<$t>().iter().map(|x| float(x.map(f64::from))).collect()
        };
    }
    macro_rules! times {
        ($t:ty, $unit:expr) => {
            a.as_primitive::<$t>().iter().map(|x| x.map_or(Value::Null, |x| timestamp(x, $unit))).collect()
        };
    }
    let mut out: Vec<Value> = match a.data_type() {
        DataType::Null => vec![Value::Null; a.len()],
        DataType::Boolean => a.as_boolean().iter().map(|b| b.map_or(Value::Null, Value::Bool)).collect(),
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Float16 => a.as_primitive::<Float16Type>().iter().map(|x| float(x.map(f64::from))).collect(),
        DataType::Float32 => floats!(Float32Type),
        DataType::Float64 => floats!(Float64Type),
        DataType::Utf8 => a.as_string::<i32>().iter().map(string).collect(),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().map(string).collect(),
        DataType::Utf8View => a.as_string_view().iter().map(string).collect(),
        DataType::Binary => a.as_binary::<i32>().iter().map(binary).collect(),
        DataType::LargeBinary => a.as_binary::<i64>().iter().map(binary).collect(),
        DataType::BinaryView => a.as_binary_view().iter().map(binary).collect(),
        DataType::Timestamp(TimeUnit::Second, _) => times!(TimestampSecondType, TimeUnit::Second),
        DataType::Timestamp(TimeUnit::Millisecond, _) => times!(TimestampMillisecondType, TimeUnit::Millisecond),
        DataType::Timestamp(TimeUnit::Microsecond, _) => times!(TimestampMicrosecondType, TimeUnit::Microsecond),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => times!(TimestampNanosecondType, TimeUnit::Nanosecond),
        DataType::Struct(_) => struct_values(a.as_struct()),
        DataType::List(_) => list_values(a.as_list::<i32>()),
        DataType::LargeList(_) => list_values(a.as_list::<i64>()),
        DataType::Map(_, _) => map_values(a.as_map()),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let dict = values(d.values().as_ref());
            d.normalized_keys().into_iter().map(|k| dict.get(k).cloned().unwrap_or(Value::Null)).collect()
        }
        _ => formatted(a),
    };
    // A null slot is null whatever its storage holds (structs and lists keep child data
    // under a null parent).
    if let Some(nulls) = a.logical_nulls() {
        for (v, valid) in out.iter_mut().zip(nulls.iter()) {
            if !valid {
                *v = Value::Null;
            }
        }
    }
    out
}

/// One JSON object per row of `s`, holding its non-null fields (a top-level record batch
/// is converted as the struct of its columns).
pub(super) fn struct_values(s: &StructArray) -> Vec<Value> {
    let names = s.column_names();
    let mut cols: Vec<std::vec::IntoIter<Value>> = s.columns().iter().map(|c| values(c.as_ref()).into_iter()).collect();
    (0..s.len())
        .map(|_| {
            let mut m = Map::new();
            for (name, col) in names.iter().zip(cols.iter_mut()) {
                match col.next() {
                    Some(Value::Null) | None => {}
                    Some(v) => {
                        m.insert((*name).to_owned(), v);
                    }
                }
            }
            Value::Object(m)
        })
        .collect()
}

fn list_values<O: OffsetSizeTrait>(l: &GenericListArray<O>) -> Vec<Value> {
    let offsets = l.value_offsets();
    let mut items = values(l.values().as_ref()).into_iter().skip(offsets[0].as_usize());
    offsets.windows(2).map(|w| Value::Array(items.by_ref().take(w[1].as_usize() - w[0].as_usize()).collect())).collect()
}

fn map_values(m: &MapArray) -> Vec<Value> {
    let offsets = m.value_offsets();
    let start = usize::try_from(offsets[0]).unwrap_or(0);
    let mut keys = values(m.keys().as_ref()).into_iter().skip(start);
    let mut vals = values(m.values().as_ref()).into_iter().skip(start);
    offsets
        .windows(2)
        .map(|w| {
            let mut obj = Map::new();
            for _ in w[0]..w[1] {
                let (k, v) = (keys.next().unwrap_or(Value::Null), vals.next().unwrap_or(Value::Null));
                let key = match k {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                if !v.is_null() {
                    obj.insert(key, v);
                }
            }
            Value::Object(obj)
        })
        .collect()
}

fn float(x: Option<f64>) -> Value {
    x.and_then(Number::from_f64).map_or(Value::Null, Value::Number)
}

fn string(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn binary(b: Option<&[u8]>) -> Value {
    b.map_or(Value::Null, |b| Value::String(std::str::from_utf8(b).map_or_else(|_| hex::encode(b), str::to_owned)))
}

/// RFC 3339 UTC text of `x` units since the epoch; `null` outside chrono's range.
fn timestamp(x: i64, unit: TimeUnit) -> Value {
    let (per_sec, nanos_per, format) = match unit {
        TimeUnit::Second => (1, 0, SecondsFormat::Secs),
        TimeUnit::Millisecond => (1_000, 1_000_000, SecondsFormat::Millis),
        TimeUnit::Microsecond => (1_000_000, 1_000, SecondsFormat::Micros),
        TimeUnit::Nanosecond => (1_000_000_000, 1, SecondsFormat::Nanos),
    };
    let nanos = u32::try_from(x.rem_euclid(per_sec) * nanos_per).unwrap_or(0);
    DateTime::from_timestamp(x.div_euclid(per_sec), nanos)
        .map_or(Value::Null, |t| Value::String(t.to_rfc3339_opts(format, true)))
}

fn formatted(a: &dyn Array) -> Vec<Value> {
    let Ok(f) = ArrayFormatter::try_new(a, &FormatOptions::default()) else {
        return vec![Value::Null; a.len()];
    };
    (0..a.len()).map(|i| if a.is_null(i) { Value::Null } else { Value::String(f.value(i).to_string()) }).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BinaryArray, Date32Array, DictionaryArray, Float64Array, Int32Array, ListArray, StringArray,
        TimestampMillisecondArray, TimestampNanosecondArray,
    };
    use arrow::buffer::{NullBuffer, OffsetBuffer};
    use arrow::datatypes::{Field, Fields};
    use serde_json::json;

    use super::*;

    #[test]
    fn scalars_times_and_fallbacks() {
        let ts: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(1_709_546_400_123), None]).with_timezone("UTC"));
        assert_eq!(values(ts.as_ref()), vec![json!("2024-03-04T10:00:00.123Z"), Value::Null]);
        // Zone-less nanoseconds: UTC, all nine digits; before 1970 too.
        let ns = TimestampNanosecondArray::from(vec![1_709_546_400_000_000_001, -1]);
        assert_eq!(values(&ns), vec![json!("2024-03-04T10:00:00.000000001Z"), json!("1969-12-31T23:59:59.999999999Z")]);
        assert_eq!(values(&Float64Array::from(vec![1.5, f64::NAN])), vec![json!(1.5), Value::Null]);
        assert_eq!(values(&BinaryArray::from(vec![&b"ok"[..], &[0xff, 0x00][..]])), vec![json!("ok"), json!("ff00")]);
        assert_eq!(values(&Date32Array::from(vec![19786])), vec![json!("2024-03-04")]);
        let dict: DictionaryArray<Int32Type> = vec![Some("b"), None, Some("a"), Some("b")].into_iter().collect();
        assert_eq!(values(&dict), vec![json!("b"), Value::Null, json!("a"), json!("b")]);
    }

    #[test]
    fn nested_structs_lists_and_null_parents() {
        // resources: [{uid}] per row; row 1 is a null list whose offsets still span an item.
        let uid = Arc::new(StringArray::from(vec![Some("arn:1"), Some("arn:2"), Some("hidden"), None]));
        let item = Fields::from(vec![Field::new("uid", DataType::Utf8, true)]);
        let items = StructArray::new(item.clone(), vec![uid], None);
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Struct(item), true)),
            OffsetBuffer::new(vec![0, 2, 3, 4].into()),
            Arc::new(items),
            Some(NullBuffer::from(vec![true, false, true])),
        );
        assert_eq!(values(&list), vec![json!([{"uid": "arn:1"}, {"uid": "arn:2"}]), Value::Null, json!([{}])]);

        // A struct whose null slot hides child data, and a null field left out.
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), Some(2), None]));
        let s = StructArray::new(
            Fields::from(vec![Field::new("n", DataType::Int32, true)]),
            vec![ints],
            Some(NullBuffer::from(vec![true, false, true])),
        );
        assert_eq!(values(&s), vec![json!({"n": 1}), Value::Null, json!({})]);
    }
}
