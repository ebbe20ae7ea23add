//! Conversion from `serde_json::Value` (what handlers usually hold) to the
//! model's lossless JSON.

use auditlog_model::json::{Json, Number, Object};

/// Convert a `serde_json::Value`. Numbers keep serde_json's text form.
pub fn from_serde(v: &serde_json::Value) -> Json {
    match v {
        serde_json::Value::Null => Json::Null,
        serde_json::Value::Bool(b) => Json::Bool(*b),
        serde_json::Value::Number(n) => {
            Number::new(&n.to_string()).map_or(Json::Null, Json::Number)
        }
        serde_json::Value::String(s) => Json::String(s.clone()),
        serde_json::Value::Array(a) => Json::Array(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(o) => {
            let mut out = Object::with_capacity(o.len());
            for (k, v) in o {
                out.insert(k.clone(), from_serde(v));
            }
            Json::Object(out)
        }
    }
}
