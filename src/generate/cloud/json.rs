//! A minimal ordered JSON object writer: Azure and Google write their keys in their own
//! order (`time`, `resourceId`, ...; `protoPayload`, `insertId`, ...), which the crate's
//! `serde_json` (sorted maps) would not keep. Strings are escaped by `serde_json`, so the
//! output is always valid JSON.

/// Writes one JSON object's members in call order; [`Obj::open`] writes `{`,
/// [`Obj::close`] writes `}`.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

fn push_str(out: &mut Vec<u8>, s: &str) {
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

    /// `"k":{...}` written by `f`.
    pub(crate) fn o(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let out = self.key(k);
        let mut inner = Obj::open(out);
        f(&mut inner);
        inner.close();
        self
    }

    /// `"k":[{...}]`: a one-element array of the object written by `f`.
    pub(crate) fn a1(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let out = self.key(k);
        out.push(b'[');
        let mut inner = Obj::open(out);
        f(&mut inner);
        inner.close();
        self.out.push(b']');
        self
    }

    pub(crate) fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string literal of `s`.
pub(crate) fn lit(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}
