//! Every seed example parses and round-trips losslessly, in both wire forms.
//! Values are compared as JSON values (key order free), and cross-checked with
//! `serde_json` as an independent parser.

use std::path::PathBuf;

use auditlog_model::json::{self, to_canonical, Json};
use auditlog_model::record::{Form, ToJson, WireForm};
use auditlog_model::{parse_record, Record};

fn seed_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_has_all_58_examples() {
    assert_eq!(seed_files().len(), 58);
}

#[test]
fn every_seed_parses_and_round_trips() {
    for path in seed_files() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let original = json::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let parsed = parse_record(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));

        // Model -> JSON keeps every member and value.
        let back = parsed.record.to_json(Form::AsParsed);
        assert_eq!(back, original, "{name}: model lost or changed something");

        // Canonical bytes from the tree and from the model agree.
        assert_eq!(parsed.canonical, parsed.record.to_canonical(), "{name}");

        // An independent parser sees the same value in the canonical bytes.
        let theirs: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&parsed.canonical).unwrap();
        assert_eq!(
            ours, theirs,
            "{name}: canonical form differs from input per serde_json"
        );
    }
}

#[test]
fn seeds_convert_between_wire_forms() {
    let mut snake_seen = 0;
    for path in seed_files() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let r = Record::parse(&std::fs::read(&path).unwrap()).unwrap();
        if r.wire_form() == WireForm::Snake {
            snake_seen += 1;
        }
        for form in [Form::Camel, Form::Snake] {
            let written = to_canonical(&r.to_json(form));
            let reparsed = Record::parse(&written).unwrap();
            assert_eq!(reparsed, r.with_form(form), "{name} via {form:?}");
            let expect = if form == Form::Camel {
                WireForm::Camel
            } else {
                WireForm::Snake
            };
            assert_eq!(reparsed.wire_form(), expect, "{name} via {form:?}");
        }
        // Converting there and back restores the original exactly when it was uniform.
        if r.wire_form() != WireForm::Mixed {
            let form = if r.wire_form() == WireForm::Camel {
                Form::Camel
            } else {
                Form::Snake
            };
            let other = if form == Form::Camel {
                Form::Snake
            } else {
                Form::Camel
            };
            let there = Record::parse(&to_canonical(&r.to_json(other))).unwrap();
            let back: Json = there.to_json(form);
            assert_eq!(back, r.to_json(Form::AsParsed), "{name}");
        }
    }
    assert_eq!(
        snake_seen, 4,
        "the corpus has four AuditLog.v2 (snake_case) records"
    );
}

#[test]
fn snake_and_camel_records_expose_the_same_fields() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples");
    let snake =
        Record::parse(&std::fs::read(dir.join("flink-03-DeleteComputePool-success.json")).unwrap())
            .unwrap();
    assert_eq!(snake.method_name(), Some("DeleteComputePool"));
    assert_eq!(snake.principal().id, Some("u-ab1cd2"));
    assert_eq!(snake.access_type(), Some("MODIFICATION"));
    assert_eq!(
        snake.primary_resource().unwrap().resource_id.as_deref(),
        Some("lfcp-a1b2c3")
    );
    assert_eq!(
        snake.organization().as_deref(),
        Some("ffffffff-gggg-hhhh-iiii-jjjjjjjjjjjj")
    );
    assert_eq!(snake.environment().as_deref(), Some("env-123abc"));
    assert_eq!(snake.client_ips().collect::<Vec<_>>(), ["1.2.3.4"]);
    let camel = Record::parse(&to_canonical(&snake.to_json(Form::Camel))).unwrap();
    assert_eq!(camel.method_name(), snake.method_name());
    assert_eq!(camel.principal(), snake.principal());
}
