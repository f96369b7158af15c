//! Lenient JSON field types shared by the normalisers.
//!
//! Vendors change a field's JSON type between records (a number where a string was, an
//! object where a string was). A typed field that rejects the record for that would lose a
//! whole event over one column, so scalar fields are read with [`Lenient`]: strings are
//! borrowed when unescaped, numbers and booleans become their JSON text, `null` is absent,
//! and an object or array is kept as its JSON text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A scalar read leniently; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lenient<'a>(pub Option<Cow<'a, str>>);

impl<'a> Lenient<'a> {
    /// The text, `None` for absent, `null` or empty / whitespace-only text.
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// Takes the text out, dropping empty values (never an empty-string column value).
    pub fn take(self) -> Option<Cow<'a, str>> {
        self.0.filter(|s| !s.trim().is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON scalar")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Lenient(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Lenient::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // Structure where a scalar was expected: keep a marker, not a crash.
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient(Some(Cow::Borrowed("{…}"))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(Some(Cow::Borrowed("[…]"))))
            }
        }
        d.deserialize_any(V)
    }
}

/// JSON text of a raw value, `None` for JSON `null` (DESIGN.md: "JSON null stays NULL").
pub fn json_text<'a>(raw: Option<&'a RawValue>) -> Option<Cow<'a, str>> {
    raw.map(RawValue::get).filter(|t| *t != "null").map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct R<'a> {
        #[serde(borrow, default)]
        a: Lenient<'a>,
    }

    fn a(json: &str) -> Option<String> {
        serde_json::from_str::<R>(json).unwrap().a.take().map(|c| c.into_owned())
    }

    #[test]
    fn scalars_of_any_type() {
        assert_eq!(a(r#"{"a":"x"}"#).as_deref(), Some("x"));
        assert_eq!(a(r#"{"a":"x\"y"}"#).as_deref(), Some("x\"y"));
        assert_eq!(a(r#"{"a":12}"#).as_deref(), Some("12"));
        assert_eq!(a(r#"{"a":true}"#).as_deref(), Some("true"));
        assert_eq!(a(r#"{"a":null}"#), None);
        assert_eq!(a(r#"{"a":""}"#), None);
        assert_eq!(a(r#"{}"#), None);
        assert_eq!(a(r#"{"a":{"b":1}}"#).as_deref(), Some("{…}"));
    }

    #[test]
    fn null_body_is_null() {
        let raw: &RawValue = serde_json::from_str("null").unwrap();
        assert_eq!(json_text(Some(raw)), None);
        let raw: &RawValue = serde_json::from_str(r#"{"tasks":[]}"#).unwrap();
        assert_eq!(json_text(Some(raw)).as_deref(), Some(r#"{"tasks":[]}"#));
    }
}
