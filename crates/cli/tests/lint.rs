//! `auditlog lint` over the seed corpus (pinned as a snapshot) and over bad input.

mod common;
use common::{run, stderr, stdout};

/// Every finding for every seed file. Refresh with `UPDATE_EXPECT=1 cargo test -p auditlog-cli --test lint`
/// after reviewing the change.
#[test]
fn seed_corpus_diagnostics_snapshot() {
    let o = run(&["lint", "tests/data/seed-examples"], b"");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the corpus has error-level findings: {}",
        stderr(&o)
    );
    expect_test::expect_file!["../../../tests/data/lint/seed-examples.txt"].assert_eq(&stdout(&o));
    assert_eq!(
        stderr(&o).trim(),
        "58 records in 58 inputs: 8 errors, 104 warnings, 0 info"
    );
}

#[test]
fn json_output_has_paths_codes_and_severities() {
    let o = run(
        &["lint", "tests/data/seed-examples", "--output", "json"],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v.as_array().unwrap();
    assert_eq!(findings.len(), 112);
    for f in findings {
        assert!(f["path"].as_str().unwrap().starts_with('$'), "{f}");
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
        assert!(!f["code"].as_str().unwrap().is_empty());
        assert!(f["file"]
            .as_str()
            .unwrap()
            .starts_with("tests/data/seed-examples/"));
    }
    // Every file the corpus README calls inconsistent is named.
    let files: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    for name in [
        "connector-10-GetConnectors-failure",
        "connector-11-PauseConnector-success",
        "flink-16-UpdateStatement-success",
    ] {
        assert!(files.iter().any(|f| f.contains(name)), "{name}");
    }
}

#[test]
fn clean_records_pass_and_strict_fails_on_warnings() {
    let o = run(
        &[
            "lint",
            "tests/data/seed-examples/connector-01-CreateConnector-success.json",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = run(
        &[
            "lint",
            "--strict",
            "tests/data/seed-examples/flink-10-ListWorkspace-success.json",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("warning[method_alias]"));
}

#[test]
fn reads_stdin_arrays_and_ndjson_and_reports_bad_lines() {
    let good = std::fs::read(
        common::root().join("tests/data/seed-examples/connector-01-CreateConnector-success.json"),
    )
    .unwrap();
    let one_line = auditlog_line(&good);
    let input = format!("{one_line}\n{{\"id\": \n{one_line}\n");
    let o = run(&["lint", "-"], input.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("-:2: error[invalid_json] $.id: unexpected end of input"),
        "{out}"
    );
    assert!(out.contains("-:3: info[duplicate_record]"), "{out}");
    assert!(
        stderr(&o).starts_with("3 records in 1 input"),
        "{}",
        stderr(&o)
    );

    let array = format!("[{one_line}, 42]");
    let o = run(&["lint"], array.as_bytes());
    assert!(
        stdout(&o).contains("error[not_a_record] $: a record must be a JSON object, found number"),
        "{}",
        stdout(&o)
    );
}

fn auditlog_line(pretty: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(pretty).unwrap();
    serde_json::to_string(&v).unwrap()
}

#[test]
fn missing_files_are_usage_errors() {
    let o = run(&["lint", "no/such/file.json"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no/such/file.json: no such file or directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn user_catalog_teaches_new_methods() {
    let dir = std::env::temp_dir().join(format!("auditlog-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cat = dir.join("extra.toml");
    std::fs::write(
        &cat,
        r#"version = 1
[[method]]
name = "FrobConnector"
resource_type = "CONNECTOR"
event_type = "io.confluent.cloud/request"
access_type = "MODIFICATION"
description = "A request to frob a connector."
"#,
    )
    .unwrap();
    let rec = std::fs::read_to_string(
        common::root().join("tests/data/seed-examples/connector-01-CreateConnector-success.json"),
    )
    .unwrap()
    .replace("\"CreateConnector\"", "\"FrobConnector\"");
    let o = run(&["lint", "-"], rec.as_bytes());
    assert!(stdout(&o).contains("unknown_method"));
    let o = run(
        &["--catalog", cat.to_str().unwrap(), "lint", "-"],
        rec.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let _ = std::fs::remove_dir_all(dir);
}
