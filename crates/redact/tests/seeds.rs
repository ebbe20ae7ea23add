//! Confluent's published records pass through redaction unchanged: their
//! secrets are already masked, and their `"valid.…": "true"` flags are kept.

use std::path::PathBuf;

use auditlog_model::json::{self, to_canonical};
use auditlog_model::record::{Form, ToJson};
use auditlog_model::Record;
use auditlog_redact::{RedactionConfig, Redactor, Replace, MASK};

fn seed_dir() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples");
    if here.is_dir() {
        here
    } else {
        PathBuf::from("/work/shared/corpus/seed-examples")
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(seed_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn redactors() -> Vec<Redactor> {
    let hmac = RedactionConfig {
        replace: Some(Replace::Hmac),
        hmac_key: Some("000102030405060708090a0b0c0d0e0f".into()),
        ..Default::default()
    };
    vec![Redactor::with_defaults(), Redactor::new(&hmac).unwrap()]
}

#[test]
fn every_seed_comes_out_byte_identical() {
    let all = seeds();
    assert!(all.len() >= 58, "found {} seeds", all.len());
    let mut masks_seen = 0;
    for (name, bytes) in &all {
        masks_seen += usize::from(bytes.windows(MASK.len()).any(|w| w == MASK.as_bytes()));
        let original = json::parse(bytes).unwrap();
        let canonical = to_canonical(&original);
        for r in redactors() {
            assert!(r.find_in_record(&original).is_empty(), "{name}");
            let mut v = original.clone();
            let changed = r.redact_record(&mut v);
            assert!(changed.is_empty(), "{name}: {changed:?}");
            assert_eq!(to_canonical(&v), canonical, "{name}");
        }
    }
    // The corpus really exercises the exemptions.
    assert!(masks_seen >= 3, "{masks_seen}");
}

#[test]
fn seeds_in_the_other_wire_form_are_unchanged_too() {
    for (name, bytes) in seeds() {
        let rec = Record::parse(&bytes).unwrap();
        for form in [Form::Camel, Form::Snake] {
            let mut v = rec.to_json(form);
            let before = to_canonical(&v);
            assert!(
                Redactor::with_defaults().redact_record(&mut v).is_empty(),
                "{name} {form:?}"
            );
            assert_eq!(to_canonical(&v), before);
        }
    }
}
