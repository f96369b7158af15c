//! Reading what a request asked for: small helpers over `request_params` /
//! `response_elements` JSON text (CloudTrail requestParameters, Azure properties, GCP
//! protoPayload.request), which nest differently per provider.

use serde_json::Value;

/// Parses JSON text; `None` for NULL or invalid text. A JSON string holding JSON (Azure's
/// `requestbody`) is decoded once more by [`decode_nested`].
pub fn parse(text: Option<&str>) -> Option<Value> {
    serde_json::from_str(text?).ok()
}

/// A string value that itself holds a JSON object or array, decoded; anything else as is.
pub fn decode_nested(v: &Value) -> Value {
    match v {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
        }
        _ => v.clone(),
    }
}

/// Every value under a key equal (ASCII case-insensitively) to `key`, at any depth, in
/// document order; nested JSON strings are decoded on the way.
pub fn find_all(v: &Value, key: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let x = decode_nested(x);
                if k.eq_ignore_ascii_case(key) {
                    out.push(x.clone());
                }
                find_all(&x, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| find_all(x, key, out)),
        _ => {}
    }
}

/// The first value under `key` at any depth.
pub fn find(v: &Value, key: &str) -> Option<Value> {
    let mut out = Vec::new();
    find_all(v, key, &mut out);
    out.into_iter().next()
}

/// Every string at any depth of `v` (values, not keys).
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// A JSON value as text: strings as they are, others as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A boolean that may be written as JSON bool or as the strings `true` / `false`.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_at_any_depth_through_nested_json_strings() {
        let v: Value = serde_json::from_str(
            r#"{"requestbody":"{\"properties\":{\"logs\":[{\"enabled\":false}]}}","a":{"Principal":"*"}}"#,
        )
        .unwrap();
        assert_eq!(find(&v, "enabled"), Some(Value::Bool(false)));
        assert_eq!(find(&v, "principal").map(|p| text(&p)), Some("*".to_string()));
        let mut s = Vec::new();
        strings(&serde_json::json!({"m": ["allUsers", {"x": "y"}], "n": 3}), &mut s);
        assert_eq!(s, vec!["allUsers", "y"]);
        assert_eq!(as_bool(&Value::String("False".into())), Some(false));
        assert_eq!(parse(Some("not json")), None);
    }
}
