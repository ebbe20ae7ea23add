//! Property tests: redaction never panics, is idempotent, reports exactly
//! the leaves it changes, and `find_in_record` agrees with `redact_record`.

use auditlog_model::json::{self, Json, Number, Object};
use auditlog_redact::{RedactionConfig, Redactor, Replace, MASK};
use proptest::prelude::*;

/// Member names: secret and harmless ones, awkward spellings, and junk.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "password",
            "kafka.api.secret",
            "clientSecret",
            "API_KEY",
            "x-auth-token",
            "tokenizer",
            "name",
            "tasks.max",
            "valid.kafka.api.key",
            "credentials",
            "data",
            "request",
            "result",
            "ssn",
            "sentry.dsn",
            "Private-Key",
            "",
            "a\"b",
            "é_token",
            "0",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_.\\- ]{0,12}",
        any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| Json::Number(Number::from(n))),
        prop::sample::select(vec!["", "true", "false", MASK, "hunter2", "hmac-sha256:zz"])
            .prop_map(Json::from),
        any::<String>().prop_map(Json::String),
    ]
}

fn value() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|m| Json::Object(m.into_iter().collect::<Object>())),
        ]
    })
}

/// A record-shaped value with arbitrary request and result data, or
/// sometimes an arbitrary value in place of the whole record.
fn record() -> impl Strategy<Value = Json> {
    prop_oneof![
        4 => (value(), value()).prop_map(|(req, res)| {
            let part = |d: Json| Json::Object([("data".to_owned(), d)].into_iter().collect());
            let data: Object = [("request".to_owned(), part(req)), ("result".to_owned(), part(res))]
                .into_iter()
                .collect();
            Json::Object([("data".to_owned(), Json::Object(data))].into_iter().collect())
        }),
        1 => value(),
    ]
}

fn redactors() -> Vec<Redactor> {
    let rules = RedactionConfig {
        replace: Some(Replace::Hmac),
        hmac_key: Some("a long enough plain-text key".into()),
        deny_keys: vec!["*.dsn".into(), "s?n".into()],
        allow_keys: vec!["name".into()],
        deny_paths: vec!["result.data.*".into(), "request.data[*].name".into()],
        allow_paths: vec!["result.data.tasks.max".into(), "*.data.data".into()],
        ..Default::default()
    };
    vec![Redactor::with_defaults(), Redactor::new(&rules).unwrap()]
}

/// String leaves that differ between two trees of the same shape.
fn changed_leaves(a: &Json, b: &Json) -> usize {
    match (a, b) {
        (Json::String(x), Json::String(y)) => usize::from(x != y),
        (Json::Array(x), Json::Array(y)) => {
            x.iter().zip(y).map(|(p, q)| changed_leaves(p, q)).sum()
        }
        (Json::Object(x), Json::Object(y)) => x
            .iter()
            .zip(y.iter())
            .map(|((_, p), (_, q))| changed_leaves(p, q))
            .sum(),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn redaction_is_exact_and_idempotent(rec in record()) {
        for r in redactors() {
            let found = r.find_in_record(&rec);
            let mut once = rec.clone();
            let changed = r.redact_record(&mut once);
            prop_assert_eq!(&found, &changed);
            prop_assert_eq!(changed_leaves(&rec, &once), changed.len());
            // The second pass finds and changes nothing.
            prop_assert!(r.find_in_record(&once).is_empty());
            let mut twice = once.clone();
            prop_assert!(r.redact_record(&mut twice).is_empty());
            prop_assert_eq!(json::to_canonical(&twice), json::to_canonical(&once));
        }
    }

    #[test]
    fn redact_value_is_idempotent(v in value(), base in prop::sample::select(vec!["$.data.request.data", "$", "", "$.data[", "x"])) {
        for r in redactors() {
            let mut once = v.clone();
            let changed = r.redact_value(&mut once, base);
            prop_assert_eq!(changed_leaves(&v, &once), changed.len());
            for p in &changed {
                prop_assert!(p.starts_with(base));
            }
            let mut twice = once.clone();
            prop_assert!(r.redact_value(&mut twice, base).is_empty());
        }
    }

    #[test]
    fn configs_never_panic(globs in prop::collection::vec(any::<String>(), 0..4), paths in prop::collection::vec(any::<String>(), 0..4), key in any::<String>()) {
        let cfg = RedactionConfig {
            deny_keys: globs.clone(),
            allow_keys: globs,
            deny_paths: paths.clone(),
            allow_paths: paths,
            ..Default::default()
        };
        if let Ok(r) = Redactor::new(&cfg) {
            let mut v = Json::Object([(key, Json::from("s"))].into_iter().collect());
            let _ = r.redact_value(&mut v, "$.data.result.data");
        }
    }
}
