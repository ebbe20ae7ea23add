//! Configuration from TOML, its error messages, rule precedence and the
//! HMAC replacement.

use auditlog_model::json::{self, Json};
use auditlog_redact::{RedactError, RedactionConfig, Redactor, Replace, MASK};

#[derive(Debug, serde::Deserialize)]
struct File {
    redaction: RedactionConfig,
}

fn from_toml(text: &str) -> Result<RedactionConfig, String> {
    toml::from_str::<File>(text)
        .map(|f| f.redaction)
        .map_err(|e| e.to_string())
}

fn redactor(text: &str) -> Redactor {
    Redactor::new(&from_toml(text).unwrap()).unwrap()
}

fn err(text: &str) -> String {
    Redactor::new(&from_toml(text).unwrap())
        .unwrap_err()
        .to_string()
}

/// A record whose `result.data` is `data`.
fn record(data: &str) -> Json {
    let text = format!(
        r#"{{"specversion":"1.0","data":{{"result":{{"status":"SUCCESS","data":{data}}}}}}}"#
    );
    json::parse(text.as_bytes()).unwrap()
}

fn result_data(r: &Json) -> String {
    let d = r
        .get("data")
        .and_then(|d| d.get("result"))
        .and_then(|d| d.get("data"));
    String::from_utf8(json::to_canonical(d.unwrap())).unwrap()
}

#[test]
fn a_full_table_parses() {
    let c = from_toml(
        r#"
[redaction]
replace = "hmac"
hmac_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
defaults = true
deny_keys = ["*.dsn", "ssn"]
allow_keys = ["valid.*"]
deny_paths = ["request.data.config.dsn", "result.data.user_configs.*"]
allow_paths = ["result.data.user_configs.name"]
"#,
    )
    .unwrap();
    assert_eq!(c.replace, Some(Replace::Hmac));
    assert_eq!(c.deny_keys, ["*.dsn", "ssn"]);
    assert!(Redactor::new(&c).is_ok());
    // Debug output never shows the key.
    assert!(!format!("{c:?}").contains("0001020304"), "{c:?}");
    assert!(!format!("{:?}", Redactor::new(&c).unwrap()).contains("0001020304"));
    // Every field is optional.
    assert!(Redactor::new(&from_toml("[redaction]\n").unwrap()).is_ok());
}

#[test]
fn config_errors_say_what_to_fix() {
    let e = from_toml("[redaction]\ndeny_key = [\"ssn\"]\n").unwrap_err();
    assert!(
        e.contains("unknown field `deny_key`") && e.contains("deny_keys"),
        "{e}"
    );
    let e = from_toml("[redaction]\nreplace = \"sha1\"\n").unwrap_err();
    assert!(
        e.contains("unknown variant `sha1`, expected `mask` or `hmac`"),
        "{e}"
    );

    let e = err("[redaction]\ndeny_keys = [\"ok\", \"pass[wd]\"]\n");
    assert_eq!(e, "deny_keys[1] = \"pass[wd]\" is not a valid key glob: '[' is not supported; only `*` (any run of characters) and `?` (one character) are special, and case is ignored");
    let e = err("[redaction]\nallow_keys = [\"\"]\n");
    assert!(
        e.starts_with("allow_keys[0] = \"\" is not a valid key glob: it is empty"),
        "{e}"
    );

    let e = err("[redaction]\ndeny_paths = [\"result.data..x\"]\n");
    assert!(e.starts_with("deny_paths[0] = \"result.data..x\" is not a valid path (at character 13): empty member name"), "{e}");
    let e = err("[redaction]\nallow_paths = [\"user_configs.password\"]\n");
    assert!(
        e.contains("must start with `request.data` or `result.data`"),
        "{e}"
    );
    let e = err("[redaction]\ndeny_paths = [\"result.data.pass*\"]\n");
    assert!(e.contains("deny_keys"), "{e}");

    assert_eq!(
        Redactor::new(&from_toml("[redaction]\nreplace = \"hmac\"\n").unwrap()).unwrap_err(),
        RedactError::MissingHmacKey
    );
    let e = err("[redaction]\nreplace = \"hmac\"\n");
    assert!(
        e.contains("needs hmac_key") && e.contains("openssl rand -hex 32"),
        "{e}"
    );
    let e = err("[redaction]\nreplace = \"hmac\"\nhmac_key = \"short\"\n");
    assert!(e.contains("hmac_key is 5 bytes; use at least 16"), "{e}");
    let e = err("[redaction]\nhmac_key = \"000102030405060708090a0b0c0d0e0f\"\n");
    assert!(e.contains("set replace = \"hmac\""), "{e}");
}

#[test]
fn hmac_known_answers() {
    // Expected values computed with Python's standard library:
    //   hmac.new(bytes(range(32)), b"hunter2", hashlib.sha256).hexdigest()
    //   hmac.new(b"correct horse battery staple", b"hunter2", hashlib.sha256).hexdigest()
    let hex_key = redactor(
        "[redaction]\nreplace = \"hmac\"\nhmac_key = \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"\n",
    );
    let text_key =
        redactor("[redaction]\nreplace = \"hmac\"\nhmac_key = \"correct horse battery staple\"\n");
    for (r, want) in [
        (
            hex_key,
            "hmac-sha256:8629d712da366318588317f3f98c728c71d4819f843d95db8803c019c561c1e7",
        ),
        (
            text_key,
            "hmac-sha256:ff9c3894c2d894c2bd06eee6afe31116aa0d98fe3c03d92a2d8c37833d056c8f",
        ),
    ] {
        let mut v = record(r#"{"password":"hunter2","db":{"password":"hunter2"}}"#);
        let changed = r.redact_record(&mut v);
        assert_eq!(
            changed,
            [
                "$.data.result.data.password",
                "$.data.result.data.db.password"
            ]
        );
        assert_eq!(
            result_data(&v),
            format!(r#"{{"db":{{"password":"{want}"}},"password":"{want}"}}"#)
        );
        // An HMAC is left alone the second time.
        assert!(r.redact_record(&mut v).is_empty());
    }
}

#[test]
fn secret_containers_keep_their_shape() {
    let mut v = record(r#"{"credentials":{"user":"u","pw":"p","n":3,"list":["a",null,["b"]]}}"#);
    let changed = Redactor::with_defaults().redact_record(&mut v);
    assert_eq!(changed.len(), 4, "{changed:?}");
    let m = MASK;
    assert_eq!(
        result_data(&v),
        format!(
            r#"{{"credentials":{{"list":["{m}",null,["{m}"]],"n":3,"pw":"{m}","user":"{m}"}}}}"#
        )
    );
}

#[test]
fn precedence_allow_beats_deny_and_paths_beat_keys() {
    let r = redactor(
        r#"
[redaction]
deny_keys = ["*.dsn", "ssn"]
allow_keys = ["public_token", "valid.*"]
deny_paths = ["result.data.cfg.public_token", "result.data.items[].name", "result.data.conn"]
allow_paths = ["result.data.cfg.password", "result.data.conn.host"]
"#,
    );
    let mut v = record(
        r#"{"cfg":{"password":"a","public_token":"b","sentry.DSN":"c","SSN":"d","token":"e"},
            "other":{"public_token":"f"},
            "items":[{"name":"g"},{"name":"h"}],
            "conn":{"host":"i","port":"j","valid.x":"k"}}"#,
    );
    let changed = Redactor::find_in_record(&r, &v);
    assert_eq!(changed, r.redact_record(&mut v));
    assert_eq!(
        changed,
        [
            // deny path beats allow key
            "$.data.result.data.cfg.public_token",
            "$.data.result.data.cfg[\"sentry.DSN\"]",
            "$.data.result.data.cfg.SSN",
            "$.data.result.data.cfg.token",
            "$.data.result.data.items[0].name",
            "$.data.result.data.items[1].name",
            // conn is secret by path; host is allowed by path, valid.x by key
            "$.data.result.data.conn.port",
        ]
    );
    let s = result_data(&v);
    assert!(
        s.contains(r#""password":"a""#),
        "allow path beats built-in key: {s}"
    );
    assert!(
        s.contains(r#""other":{"public_token":"f"}"#),
        "allow key beats built-in: {s}"
    );
    assert!(
        s.contains(r#""host":"i""#) && s.contains(r#""valid.x":"k""#),
        "{s}"
    );
}

#[test]
fn allow_clears_a_node_not_its_members() {
    let r = redactor("[redaction]\nallow_paths = [\"result.data.credentials\"]\n");
    let mut v = record(r#"{"credentials":{"type":"oauth","client_secret":"x"}}"#);
    assert_eq!(
        r.redact_record(&mut v),
        ["$.data.result.data.credentials.client_secret"]
    );
}

#[test]
fn defaults_off_leaves_only_configured_rules() {
    let r = redactor("[redaction]\ndefaults = false\ndeny_keys = [\"*ssn\"]\n");
    let mut v = record(r#"{"password":"p","ssn":"1","valid.ssn":"2"}"#);
    assert_eq!(
        r.redact_record(&mut v),
        [
            "$.data.result.data.ssn",
            "$.data.result.data[\"valid.ssn\"]"
        ]
    );
    let none = redactor("[redaction]\ndefaults = false\n");
    assert!(none
        .redact_record(&mut record(r#"{"password":"p"}"#))
        .is_empty());
}

#[test]
fn only_request_and_result_data_are_scanned() {
    let text = r#"{"data":{"authenticationInfo":{"password":"a"},"request":{"password":"b","data":{"password":"c"}},
        "result":{"data":{"token":"d"}},"password":"e"},"password":"f"}"#;
    let mut v = json::parse(text.as_bytes()).unwrap();
    assert_eq!(
        Redactor::with_defaults().redact_record(&mut v),
        ["$.data.request.data.password", "$.data.result.data.token"]
    );
    for odd in [
        "[]",
        "1",
        r#"{"data":[]}"#,
        r#"{"data":{"request":"x","result":{"data":"y"}}}"#,
    ] {
        let mut v = json::parse(odd.as_bytes()).unwrap();
        assert!(
            Redactor::with_defaults().redact_record(&mut v).is_empty(),
            "{odd}"
        );
    }
    // A whole part can be secret by path, even when it is a bare string.
    let r = redactor("[redaction]\ndeny_paths = [\"result.data\"]\n");
    let mut v = json::parse(br#"{"data":{"result":{"data":"y"}}}"#).unwrap();
    assert_eq!(r.redact_record(&mut v), ["$.data.result.data"]);
}

#[test]
fn redact_value_reports_under_its_base_and_applies_paths_there() {
    let r = redactor("[redaction]\ndeny_paths = [\"request.data.config.dsn\"]\n");
    let mut body = json::parse(br#"{"config":{"dsn":"pg://u:p@h/db","apiKey":"k"}}"#).unwrap();
    assert_eq!(
        r.redact_value(&mut body, "$.data.request.data"),
        [
            "$.data.request.data.config.dsn",
            "$.data.request.data.config.apiKey"
        ]
    );
    // Elsewhere only key rules apply, and paths still start at the base.
    let mut body = json::parse(br#"{"config":{"dsn":"x","apiKey":"k"}}"#).unwrap();
    assert_eq!(r.redact_value(&mut body, "body"), ["body.config.apiKey"]);
    let mut s = Json::from("bare");
    assert!(r.redact_value(&mut s, "$.data.request.data.x").is_empty());
}
