//! Plant secrets under many key spellings and nesting depths, in both wire
//! forms, and check that none survives into the canonical bytes and that
//! exactly the planted values are reported, at exactly their paths.

use std::path::PathBuf;

use auditlog_model::json::{to_canonical, Json, Object};
use auditlog_model::path;
use auditlog_model::record::{Form, ToJson};
use auditlog_model::Record;
use auditlog_redact::{Redactor, MASK};

/// Names the built-in rule must treat as secret: dotted, snake, kebab,
/// camel, capitals, plurals, acronyms, digits and spaces.
const SECRET_KEYS: [&str; 24] = [
    "kafka.api.secret",
    "aws.secret.access.key",
    "aws.redshift.password",
    "kafka.api.key",
    "aws.access.key.id",
    "clientSecret",
    "API_KEY",
    "x-auth-token",
    "Private-Key",
    "db_passwords",
    "apiKey",
    "AccessKeyId",
    "privatekey",
    "refresh_token",
    "oauth2Token",
    "client-credentials",
    "PASSWD",
    "ssl.keystore.password",
    "AWSSecretAccessKey",
    "Secrets",
    "session token",
    "ssl.key.password",
    "connection.password",
    "github_api_keys",
];

fn seed_record() -> Record {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/seed-examples/connector-01-CreateConnector-success.json");
    Record::parse(&std::fs::read(p).unwrap()).unwrap()
}

fn obj(members: Vec<(&str, Json)>) -> Json {
    Json::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// Wrap `leaf` (a `{key: value}` object) in `depth - 1` containers that
/// alternate object, array, object…, extending `at` to the leaf's object.
fn nest(depth: usize, leaf: Json, at: &mut String) -> Json {
    let mut steps = Vec::new();
    for d in 1..depth {
        steps.push(d % 2 == 1);
    }
    // Build inside out; render outside in.
    for (d, is_obj) in steps.iter().enumerate() {
        if *is_obj {
            path::push_key(at, &format!("level{d}"));
        } else {
            path::push_index(at, 1);
        }
    }
    let mut v = leaf;
    for (d, is_obj) in steps.iter().enumerate().rev() {
        v = if *is_obj {
            obj(vec![
                (&format!("level{d}"), v),
                ("note", Json::from("kept")),
            ])
        } else {
            Json::Array(vec![Json::from("kept in array"), v, Json::from(7u64)])
        };
    }
    v
}

struct Planted {
    secrets: Vec<String>,
    paths: Vec<String>,
}

/// Fill one `data` object with planted secrets and decoys; `part` is
/// `request` or `result`, `offset` keeps secret values unique across parts.
fn plant(part: &str, keys: &[&str], offset: usize, p: &mut Planted) -> Json {
    let base = format!("$.data.{part}.data");
    let mut data = Object::new();
    for (i, key) in keys.iter().enumerate() {
        let n = offset + i;
        let secret = format!("planted-{n:02}-Zq8vW");
        let mut at = path::key(&base, &format!("slot{n}"));
        let depth = 1 + n % 6;
        let v = nest(
            depth,
            obj(vec![(key, Json::from(secret.as_str()))]),
            &mut at,
        );
        p.paths.push(path::key(&at, key));
        p.secrets.push(secret);
        data.insert(format!("slot{n}"), v);
    }
    // A secret object: every string leaf goes, the shape stays.
    let creds_at = path::key(&base, "credentials");
    let mut creds = Object::new();
    for (k, v) in [
        ("user", "planted-user-Zq8vW"),
        ("kind", "planted-kind-Zq8vW"),
    ] {
        creds.insert(k, Json::from(v));
        p.paths.push(path::key(&creds_at, k));
        p.secrets.push(v.to_owned());
    }
    let list = vec![
        Json::from(format!("planted-{part}-list-Zq8vW")),
        Json::from(5u64),
        Json::Bool(true),
        Json::Null,
        Json::from(""),
    ];
    p.paths.push(path::index(&path::key(&creds_at, "list"), 0));
    p.secrets.push(format!("planted-{part}-list-Zq8vW"));
    creds.insert("list", Json::Array(list));
    data.insert("credentials", Json::Object(creds));
    // Decoys: not secret names, or values that carry no secret.
    for (k, v) in [
        ("tokenizer", Json::from("bpe")),
        ("keystore.type", Json::from("JKS")),
        ("name", Json::from("redshift-sink")),
        ("tasks.max", Json::from("1")),
        ("password", Json::Null),
        ("token", Json::from(42u64)),
        ("secret", Json::Bool(true)),
        ("apiKey", Json::from("")),
        ("kafka.api.key", Json::from(MASK)),
        ("valid.kafka.api.key", Json::from("true")),
        ("client_secret", Json::from("false")),
    ] {
        data.insert(k, v);
    }
    Json::Object(data)
}

fn planted_record(form: Form) -> (Json, Planted) {
    let mut rec = seed_record().to_json(form);
    let mut p = Planted {
        secrets: Vec::new(),
        paths: Vec::new(),
    };
    let (req_keys, res_keys) = SECRET_KEYS.split_at(10);
    let req = plant("request", req_keys, 0, &mut p);
    let res = plant("result", res_keys, req_keys.len(), &mut p);
    let data = rec.as_object_mut().unwrap().get_mut("data").unwrap();
    let data = data.as_object_mut().unwrap();
    for (part, v) in [("request", req), ("result", res)] {
        data.get_mut(part)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("data", v);
    }
    (rec, p)
}

#[test]
fn no_planted_secret_survives_in_either_wire_form() {
    for form in [Form::Camel, Form::Snake] {
        let (mut rec, planted) = planted_record(form);
        let before = to_canonical(&rec);
        for s in &planted.secrets {
            assert!(contains(&before, s), "{s} was planted");
        }
        let r = Redactor::with_defaults();
        let found = r.find_in_record(&rec);
        let changed = r.redact_record(&mut rec);
        assert_eq!(found, changed, "{form:?}: find and redact disagree");

        let bytes = to_canonical(&rec);
        for s in &planted.secrets {
            assert!(!contains(&bytes, s), "{form:?}: {s} survived");
        }
        let mut got = changed.clone();
        let mut want = planted.paths.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{form:?}: reported paths");
        assert_eq!(changed.len(), SECRET_KEYS.len() + 6, "{form:?}");
        assert!(contains(&bytes, "\"tokenizer\":\"bpe\""));
        assert!(contains(&bytes, "\"note\":\"kept\""));

        // Redacting again changes nothing.
        assert!(r.redact_record(&mut rec).is_empty());
        assert_eq!(to_canonical(&rec), bytes);
    }
}

#[test]
fn deepest_paths_render_like_the_validator() {
    let (_, planted) = planted_record(Form::Camel);
    assert!(
        planted
            .paths
            .iter()
            .any(|p| p == "$.data.request.data.slot5.level0[1].level2[1].level4.clientSecret"),
        "{:#?}",
        planted.paths
    );
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}
