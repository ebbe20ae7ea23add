//! The parsers and the validator never panic: every prefix of every seed file,
//! and many byte-level mutations of each, go through parse + validate. When a
//! mutant still parses, it must still round-trip losslessly.

use std::path::PathBuf;

use auditlog_model::json::{self, to_canonical};
use auditlog_model::record::{parse_record, Form};
use auditlog_model::Crn;
use auditlog_validate::validate;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn exercise(bytes: &[u8]) -> bool {
    match parse_record(bytes) {
        Ok(p) => {
            let _ = validate(&p.record);
            // Still lossless: the model gives back exactly what was parsed.
            let back = to_canonical(&p.record.to_json_value(Form::AsParsed));
            assert_eq!(
                back,
                p.canonical,
                "lossy round trip for input {:?}",
                String::from_utf8_lossy(bytes)
            );
            for s in [p.record.subject.as_deref(), p.record.resource_name()]
                .into_iter()
                .flatten()
            {
                let _ = Crn::parse(s);
            }
            true
        }
        Err(_) => false,
    }
}

#[test]
fn every_prefix_of_every_seed() {
    let mut parsed = 0;
    let mut total = 0;
    for (_, bytes) in seeds() {
        for n in 0..=bytes.len() {
            total += 1;
            if exercise(&bytes[..n]) {
                parsed += 1;
            }
        }
    }
    // Only the complete files (and those plus trailing whitespace trimmed) parse.
    assert!(
        (58..58 * 3).contains(&parsed),
        "{parsed} of {total} prefixes parsed"
    );
}

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn mutated_seeds() {
    let interesting: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\x00",
        b"\xff",
        b"\xc3",
        b"\\u",
        b"\\ud800",
        b"1e999999",
        b"-",
        b"0",
        b"null",
        b"crn://",
        b"=",
        b"/",
        b"%",
        b"%zz",
        b"FAILURE",
        b"\"User:",
        b"{\"a\":1,\"a\":2}",
    ];
    let mut rng = Lcg(0x5eed);
    let mut still_parsed = 0;
    for (name, bytes) in seeds() {
        for _ in 0..400 {
            let mut m = bytes.clone();
            let edits = 1 + rng.next() % 3;
            for _ in 0..edits {
                let pos = (rng.next() as usize) % (m.len() + 1);
                match rng.next() % 4 {
                    0 if pos < m.len() => m[pos] = rng.next() as u8,
                    1 if pos < m.len() => {
                        m.remove(pos);
                    }
                    2 => {
                        let ins = interesting[(rng.next() as usize) % interesting.len()];
                        m.splice(pos..pos, ins.iter().copied());
                    }
                    _ => {
                        // Overwrite a value inside a string with another seed's bytes.
                        let end = (pos + 16).min(m.len());
                        m.splice(pos..end, b"crn://confluent.cloud/a=%2".iter().copied());
                    }
                }
            }
            if exercise(&m) {
                still_parsed += 1;
            }
        }
        let _ = name;
    }
    assert!(still_parsed > 0, "some mutants should still be records");
}

#[test]
fn nesting_bombs_and_huge_inputs_are_refused_cleanly() {
    let bomb = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    assert!(json::parse(bomb.as_bytes()).is_err());
    let wide = format!("[{}1]", "1,".repeat(200_000));
    assert!(json::parse(wide.as_bytes()).is_ok());
    let long_key = format!("{{\"{}\":1}}", "k".repeat(1 << 20));
    assert!(parse_record(long_key.as_bytes()).is_ok());
}
