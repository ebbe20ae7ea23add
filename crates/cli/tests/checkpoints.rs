//! Signed checkpoints, proofs, verifiable exports and the witness, through
//! the real binaries: what an auditor does, and what they see when the log
//! or a bundle was tampered with.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use auditlog_merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash};
use auditlog_tlog::{Checkpoint, NoteVerifier};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::server::{get, ingest, json, Server};

fn hash(s: &str) -> Hash {
    B64.decode(s).unwrap().try_into().unwrap()
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hash(h.as_str().unwrap()))
        .collect()
}

fn key_of(url: &str) -> String {
    let (status, body) = get(&format!("{url}/v1/checkpoint/key"));
    assert_eq!(status, 200);
    String::from_utf8(body).unwrap().trim().to_owned()
}

/// The newest checkpoint once it covers at least `n` records.
fn checkpoint_at_least(url: &str, key: &NoteVerifier, n: u64) -> (String, Checkpoint) {
    let started = Instant::now();
    loop {
        let (status, body) = get(&format!("{url}/v1/checkpoint"));
        if status == 200 {
            let note = String::from_utf8(body).unwrap();
            let c = Checkpoint::open(&note, key).unwrap();
            if c.size >= n {
                return (note, c);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no checkpoint of {n} records"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const ORIGIN: &str = "audit.test/prod";

#[test]
fn checkpoints_are_signed_kept_and_proofs_verify_against_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--origin", ORIGIN, "--checkpoint-every", "1"]);
    // The key was generated on first start, readable by its owner only.
    let mode = std::fs::metadata(dir.path().join("signing.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let key = NoteVerifier::from_encoded(&key_of(&server.url)).unwrap();
    assert_eq!(key.name(), ORIGIN);

    let records = common::generated(600, 3, 4);
    ingest(&server.url, &records[..250]);
    let (_, first) = checkpoint_at_least(&server.url, &key, 250);
    ingest(&server.url, &records[250..]);
    let (_, second) = checkpoint_at_least(&server.url, &key, 600);
    assert!(second.size > first.size);

    // Inclusion of offset 7 (by offset and by id) against the newest.
    let stored = |o: u64| {
        let (_, body) = get(&format!("{}/v1/events/{o}", server.url));
        body
    };
    for q in [
        "offset=7".to_owned(),
        format!("id={}", json(&records[7])["id"].as_str().unwrap()),
    ] {
        let (status, body) = get(&format!(
            "{}/v1/proof/inclusion?{q}&tree_size={}",
            server.url, second.size
        ));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let p = json(&body);
        assert_eq!(p["offset"], 7);
        let leaf = leaf_hash(&stored(7));
        assert_eq!(hash(p["leaf_hash"].as_str().unwrap()), leaf);
        verify_inclusion(&leaf, 7, second.size, &hashes(&p["proof"]), &second.root).unwrap();
    }
    // Consistency between every kept checkpoint and the newest.
    let (_, body) = get(&format!("{}/v1/checkpoints?limit=1000", server.url));
    let kept = json(&body)["items"].as_array().unwrap().clone();
    assert!(kept.len() >= 2, "{kept:?}");
    for k in &kept {
        let old = Checkpoint::open(k["checkpoint"].as_str().unwrap(), &key).unwrap();
        let (status, body) = get(&format!(
            "{}/v1/proof/consistency?from={}&to={}",
            server.url, old.size, second.size
        ));
        assert_eq!(status, 200);
        verify_consistency(
            old.size,
            second.size,
            &hashes(&json(&body)["proof"]),
            &old.root,
            &second.root,
        )
        .unwrap();
    }
    // Bad requests name the field.
    for (q, field) in [
        ("offset=7&tree_size=999999", "tree_size"),
        ("tree_size=5", "offset"),
        ("offset=9&tree_size=5", "offset"),
    ] {
        let (status, body) = get(&format!("{}/v1/proof/inclusion?{q}", server.url));
        assert_eq!(status, 400, "{q}");
        assert!(String::from_utf8_lossy(&body).contains(field), "{q}");
    }
    let (status, body) = get(&format!("{}/v1/proof/consistency?from=9&to=3", server.url));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("from"));

    // Offline: every kept checkpoint verifies against the data directory,
    // and so does one the auditor saved.
    let saved = dir.path().join("../saved-checkpoint");
    let (note, _) = checkpoint_at_least(&server.url, &key, 600);
    std::fs::write(&saved, &note).unwrap();
    assert!(server.stop().success());
    let out = common::run(
        &[
            "verify",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--key",
            &key.encoded(),
            "--since",
            saved.to_str().unwrap(),
        ],
        b"",
    );
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", common::stderr(&out));
    assert!(text.contains("OK (checkpoints)"), "{text}");
    assert!(text.contains("OK (since)"), "{text}");
    let _ = std::fs::remove_file(saved);
}

#[test]
fn a_verifiable_export_checks_offline_and_any_altered_byte_fails() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--origin", ORIGIN]);
    let records = common::generated(400, 5, 3);
    ingest(&server.url, &records);
    let org = common::generated(1, 5, 3)[0].clone();
    let org = auditlog_model::Record::parse(&org)
        .unwrap()
        .organization()
        .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let bundle = out_dir.path().join("bundle.ndjson");
    let filter = format!("organization = {org}");
    let out = common::run(
        &[
            "export",
            "--verifiable",
            &filter,
            "-o",
            bundle.to_str().unwrap(),
            "--server",
            &server.url,
        ],
        b"",
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let key = key_of(&server.url);
    let want = records
        .iter()
        .filter(|r| {
            auditlog_model::Record::parse(r)
                .unwrap()
                .organization()
                .as_deref()
                == Some(org.as_str())
        })
        .count();
    assert!(want > 50 && want < 400, "{want}");
    let verify = |path: &std::path::Path| {
        common::run(&["verify", path.to_str().unwrap(), "--key", &key], b"")
    };
    let ok = verify(&bundle);
    let text = common::stdout(&ok);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("OK {want} record(s)")), "{text}");

    // Alter bytes across the bundle: every one fails, saying where.
    let bytes = std::fs::read(&bundle).unwrap();
    let altered = out_dir.path().join("altered.ndjson");
    let step = bytes.len() / 40;
    for i in (0..bytes.len()).step_by(step.max(1)) {
        let mut b = bytes.clone();
        b[i] = if b[i] == b'7' { b'8' } else { b'7' };
        std::fs::write(&altered, &b).unwrap();
        let out = verify(&altered);
        let text = common::stdout(&out);
        assert_eq!(out.status.code(), Some(1), "byte {i}: {text}");
        assert!(
            text.contains("FAILED") && text.contains("line"),
            "byte {i}: {text}"
        );
    }
    // The wrong key: refused, and said so.
    let other = auditlog_tlog::NoteSigner::from_seed(ORIGIN, [3; 32]).unwrap();
    let out = common::run(
        &[
            "verify",
            bundle.to_str().unwrap(),
            "--key",
            &other.verifier().encoded(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).contains("checkpoint does not verify"));
    // No key: a usage error that says what to give.
    let out = common::run(&["verify", bundle.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("--key"));
}

#[test]
fn the_witness_accepts_growth_and_refuses_a_forked_log() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Server::start(da.path(), &["--origin", ORIGIN, "--checkpoint-every", "1"]);
    let key = key_of(&a.url);
    let verifier = NoteVerifier::from_encoded(&key).unwrap();
    let records = common::generated(300, 9, 3);
    ingest(&a.url, &records[..100]);
    checkpoint_at_least(&a.url, &verifier, 100);
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("witness.json");
    let witness = |url: &str, key: Option<&str>| {
        let mut args = vec![
            "witness",
            "--server",
            url,
            "--state",
            state.to_str().unwrap(),
        ];
        if let Some(k) = key {
            args.extend(["--key", k]);
        }
        common::run(&args, b"")
    };
    let out = witness(&a.url, Some(&key));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    assert!(common::stdout(&out).contains("first checkpoint recorded"));
    ingest(&a.url, &records[100..200]);
    checkpoint_at_least(&a.url, &verifier, 200);
    let out = witness(&a.url, None);
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
    assert!(common::stdout(&out).contains("grew from 100 records, consistent"));
    let accepted = std::fs::read(&state).unwrap();

    // A fork: the same key and name, but a log whose first 200 records
    // differ (one record changed), served as the same log.
    std::fs::copy(da.path().join("signing.key"), db.path().join("signing.key")).unwrap();
    let b = Server::start(db.path(), &["--origin", ORIGIN, "--checkpoint-every", "1"]);
    let mut forked = records[..250].to_vec();
    forked[150] = records[299].clone();
    ingest(&b.url, &forked);
    checkpoint_at_least(&b.url, &verifier, 250);
    let out = witness(&b.url, None);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("REFUSED") && text.contains("forked or rewritten"),
        "{text}"
    );
    // The state still holds the last good checkpoint, so it keeps refusing.
    assert_eq!(std::fs::read(&state).unwrap(), accepted);
    assert_eq!(witness(&b.url, None).status.code(), Some(1));
    // And the honest log still passes.
    assert_eq!(witness(&a.url, None).status.code(), Some(0));
}
