//! `auditlog tail`: the newest matches from a data directory, and
//! `tail -f -n 0` against a server prints only records that arrive after
//! it started (not the history).

mod common;

use std::time::Duration;

use common::server::{ingest, Server};

fn id_of(r: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_newest_matches_then_only_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let records = common::generated(50, 31, 2);
    ingest(&server.url, &records);

    // The last three records, oldest first, from the data directory.
    let out = common::run(
        &[
            "tail",
            "-n",
            "3",
            "-o",
            "ndjson",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    let got: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["record"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let want: Vec<String> = records[47..].iter().map(|r| id_of(r)).collect();
    assert_eq!(got, want);

    // Following with -n 0: nothing of the 50 already stored, then the new one.
    let (mut follow, rx) = common::spawn_lines(&[
        "tail",
        "-f",
        "-n",
        "0",
        "-o",
        "ndjson",
        "--server",
        &server.url,
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let fresh = common::generated(51, 31, 2).pop().unwrap();
    ingest(&server.url, std::slice::from_ref(&fresh));
    let first = rx.recv_timeout(Duration::from_secs(30));
    let _ = follow.kill();
    let _ = follow.wait();
    let first = first.expect("tail -f printed nothing within 30 s");
    assert!(
        first.contains(&id_of(&fresh)),
        "the first line printed is not the new record: {first}"
    );
}
