//! A small ordered JSON writer for the generated Microsoft, Azure and Google records.
//!
//! The crate's `serde_json` sorts object keys (no `preserve_order`), while the services
//! write keys in their own order (`CreationTime`, `Id`, `Operation`, ...; `time`,
//! `resourceId`, ...; `protoPayload`, `insertId`, ...). Records
//! are written key by key here so that the files read like the real ones; strings are
//! escaped by `serde_json`, so the output is always valid JSON.

/// Writes one JSON object's members in call order. Created by [`Obj::open`] (which writes
/// `{`); [`Obj::close`] writes `}`.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

/// Writes one JSON array's elements in call order.
pub(crate) struct Arr<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

impl<'a> Obj<'a> {
    pub(crate) fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(b':');
        self.out
    }

    /// `"k":"v"`.
    pub(crate) fn s(&mut self, k: &str, v: &str) -> &mut Self {
        let out = self.key(k);
        push_str(out, v);
        self
    }

    /// `"k":"v"` or `"k":null`.
    pub(crate) fn opt(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.s(k, v),
            None => self.null(k),
        }
    }

    /// `"k":n`.
    pub(crate) fn n(&mut self, k: &str, v: i64) -> &mut Self {
        let out = self.key(k);
        out.extend_from_slice(v.to_string().as_bytes());
        self
    }

    /// `"k":true|false`.
    pub(crate) fn b(&mut self, k: &str, v: bool) -> &mut Self {
        let out = self.key(k);
        out.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// `"k":null`.
    pub(crate) fn null(&mut self, k: &str) -> &mut Self {
        self.key(k).extend_from_slice(b"null");
        self
    }

    /// `"k":{...}` written by `f`.
    pub(crate) fn o(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let out = self.key(k);
        let mut inner = Obj::open(out);
        f(&mut inner);
        inner.close();
        self
    }

    /// `"k":[...]` written by `f`.
    pub(crate) fn a(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) -> &mut Self {
        let out = self.key(k);
        out.push(b'[');
        let mut inner = Arr { out, first: true };
        f(&mut inner);
        inner.out.push(b']');
        self
    }

    /// `"k":[]`.
    pub(crate) fn empty(&mut self, k: &str) -> &mut Self {
        self.key(k).extend_from_slice(b"[]");
        self
    }

    /// `"k":<json>`: `json` must be valid JSON text (an object's members are written
    /// with [`Obj::members`]).
    pub(crate) fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k).extend_from_slice(json.as_bytes());
        self
    }

    /// Appends members given as JSON text without braces (`"a":1,"b":"x"`).
    pub(crate) fn members(&mut self, text: &str) -> &mut Self {
        if text.is_empty() {
            return self;
        }
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(text.as_bytes());
        self
    }

    /// `"k":[{...}]`: a one-element array of the object written by `f`.
    pub(crate) fn a1(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.a(k, |a| {
            a.o(f);
        })
    }

    /// Writes `}`.
    pub(crate) fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string literal of `s`.
pub(crate) fn lit(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

impl Arr<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// An object element.
    pub(crate) fn o(&mut self, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.sep();
        let mut inner = Obj::open(self.out);
        f(&mut inner);
        inner.close();
        self
    }

    /// A string element.
    pub(crate) fn s(&mut self, v: &str) -> &mut Self {
        self.sep();
        push_str(self.out, v);
        self
    }

    /// `{"Name":name,"Value":value}`, the Exchange / UAL Name-Value pair.
    pub(crate) fn nv(&mut self, name: &str, value: &str) -> &mut Self {
        self.o(|o| {
            o.s("Name", name).s("Value", value);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_call_order_and_strings_are_escaped() {
        let mut v = Vec::new();
        let mut o = Obj::open(&mut v);
        o.s("Z", "a\"b\\").n("A", -3).b("m", true).null("n");
        o.o("inner", |i| {
            i.opt("x", None).opt("y", Some("é"));
        });
        o.a("list", |a| {
            a.nv("Name1", "V").s("plain");
        });
        o.empty("e");
        o.close();
        let text = String::from_utf8(v).unwrap();
        assert_eq!(
            text,
            r#"{"Z":"a\"b\\","A":-3,"m":true,"n":null,"inner":{"x":null,"y":"é"},"list":[{"Name":"Name1","Value":"V"},"plain"],"e":[]}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["Z"], "a\"b\\");
    }
}
