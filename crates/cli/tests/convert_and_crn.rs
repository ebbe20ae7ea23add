//! `auditlog convert` round-trips the corpus between wire forms; `auditlog crn`
//! parses, explains bad input and tests containment.

mod common;
use common::{run, stderr, stdout};

#[test]
fn convert_to_snake_and_back_restores_the_camel_seeds() {
    let o = run(
        &["convert", "--to", "snake", "tests/data/seed-examples"],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let snake = o.stdout;
    assert_eq!(snake.iter().filter(|&&b| b == b'\n').count(), 58);
    assert!(!String::from_utf8_lossy(&snake).contains("\"serviceName\""));

    let o = run(&["convert", "--to", "camel", "-"], &snake);
    assert_eq!(o.status.code(), Some(0));
    let camel: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let mut files: Vec<_> = std::fs::read_dir(common::root().join("tests/data/seed-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut checked = 0;
    for (path, back) in files.iter().zip(&camel) {
        let text = std::fs::read_to_string(path).unwrap();
        if text.contains("\"service_name\"") {
            continue; // snake originals come back camel, as asked
        }
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(&original, back, "{}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 54);
}

#[test]
fn convert_refuses_records_it_would_damage() {
    let o = run(
        &["convert", "--to", "snake"],
        br#"{"data":{"serviceName":"a","service_name":"b"}}"#,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("$.data.service_name and \"serviceName\" are two spellings of one member"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn crn_parse_and_contains() {
    let crn = "crn://confluent.cloud/organization=o-1/environment=env-abc123/cloud-cluster=lkc-1/connector=lcc-1";
    let o = run(&["crn", "parse", crn, "--output", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["environment"], "env-abc123");
    assert_eq!(v[0]["resource"], "connector=lcc-1");

    let o = run(
        &[
            "crn",
            "contains",
            "crn://confluent.cloud/organization=o-1/environment=env-abc123",
            crn,
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("yes:"));
    let o = run(
        &[
            "crn",
            "contains",
            "crn://confluent.cloud/organization=o-1/environment=env-other",
            crn,
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));

    let o = run(
        &[
            "crn",
            "parse",
            "crn://confluent.cloud/organization=o/environment",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("segment has no '='"), "{err}");
    let caret = format!("\n{}^", " ".repeat(2 + 37));
    assert!(
        err.contains(&caret),
        "caret under byte 37, the bad segment: {err}"
    );
}
