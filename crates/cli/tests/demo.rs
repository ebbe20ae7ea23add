//! `auditlog demo --exit` as the README runs it: serve and the control plane
//! in one process, every audited method called, a summary, the next steps,
//! and the records on disk afterwards.

mod common;

use std::process::Command;

use common::server::free_port;

#[test]
fn the_demo_calls_every_method_and_leaves_the_records_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spool = dir.path().join("spool");
    let out = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["demo", "--exit", "--output", "json"])
        .args(["--addr", &format!("127.0.0.1:{}", free_port())])
        .args([
            "--control-plane-addr",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .arg("--data-dir")
        .arg(&data)
        .arg("--spool-dir")
        .arg(&spool)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The JSON summary follows the banner line: one entry per catalog method.
    let start = stdout.find("\n{\n").unwrap() + 1;
    let end = stdout.find("\n}\n").unwrap() + 2;
    let summary: serde_json::Value = serde_json::from_str(&stdout[start..end]).unwrap();
    assert_eq!(summary.as_object().unwrap().len(), 34, "{summary}");
    assert!(summary
        .as_object()
        .unwrap()
        .values()
        .all(|m| m["ok"].as_u64().unwrap() >= 1));
    assert!(
        stdout.contains("192 calls: 95 succeeded, 97 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("192 emitted, 192 delivered"), "{stdout}");
    assert!(stdout.contains("try next:"));

    // The records are on disk, and the failures carry their status codes.
    let q = common::run(
        &[
            "query",
            "--data-dir",
            data.to_str().unwrap(),
            "error_code = 403",
            "--output",
            "ndjson",
            "--limit",
            "1000",
        ],
        b"",
    );
    assert!(q.status.success(), "{}", common::stderr(&q));
    let forbidden = common::stdout(&q).lines().count();
    assert!(forbidden >= 2, "{forbidden} records with error_code 403");
    let all = common::run(
        &[
            "query",
            "--data-dir",
            data.to_str().unwrap(),
            "--output",
            "ndjson",
            "--limit",
            "1000",
        ],
        b"",
    );
    assert_eq!(common::stdout(&all).lines().count(), 192);
}
