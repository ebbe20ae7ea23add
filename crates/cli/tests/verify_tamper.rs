//! Tamper tests for `auditlog verify` through the real binary: 1,000 records
//! imported into a data directory, then the segment or tree file edited by
//! hand — one byte flipped, a record deleted, two records swapped, a hash
//! of the tree changed — each both crudely (checksums left wrong, frames
//! moved whole) and carefully (checksums and offsets rewritten to look
//! valid). `verify` must exit 1, name the first bad offset and say what is
//! wrong; untouched, it must exit 0 with the root an independent
//! computation gives; and it must never change a byte of what it checks.

mod common;
use common::{generated, run, stdout};

use std::path::{Path, PathBuf};

use auditlog_merkle::Tree;
use auditlog_store::log::frame::{encode_frame, FrameKind};

const N: usize = 1_000;
const SEG: &str = "log/00000000000000000000.seg";

/// A data directory holding N imported records, made once per test.
fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let mut body = Vec::new();
    for r in generated(N, 71, 3) {
        body.extend_from_slice(&r);
        body.push(b'\n');
    }
    std::fs::write(&input, body).unwrap();
    let data = dir.path().join("data");
    let o = run(
        &[
            "import",
            "--data-dir",
            data.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let segs = std::fs::read_dir(data.join("log")).unwrap().count();
    assert_eq!(segs, 1, "one segment: the edits below assume it");
    dir
}

/// The segment's frames: (byte position, offset field, payload).
fn frames(seg: &[u8]) -> Vec<(usize, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 16;
    while pos < seg.len() {
        let len = u32::from_le_bytes(seg[pos..pos + 4].try_into().unwrap()) as usize;
        let off = u64::from_le_bytes(seg[pos + 8..pos + 16].try_into().unwrap());
        out.push((pos, off, seg[pos + 17..pos + 17 + len].to_vec()));
        pos += 17 + len;
    }
    out
}

/// The 16-byte header of a segment based at 0, as the store writes it.
fn header() -> Vec<u8> {
    let mut h = b"ALOGSEG1".to_vec();
    h.extend_from_slice(&0u64.to_le_bytes());
    h
}

/// Run verify; return (exit code, stdout), and check it wrote nothing
/// (SQLite's shared-memory index of a WAL database, `-shm`, is rebuilt by
/// any reader, so it is not held to that).
fn verify(data: &Path, json: bool) -> (i32, String) {
    let before: Vec<(PathBuf, Vec<u8>)> = common::walk(data)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    let out = verify_live(data, json);
    for (p, b) in before {
        assert!(
            std::fs::read(&p).unwrap() == b,
            "verify changed {}",
            p.display()
        );
    }
    out
}

/// Run verify on a directory a server may be writing.
fn verify_live(data: &Path, json: bool) -> (i32, String) {
    let mut args = vec!["verify", "--data-dir", data.to_str().unwrap()];
    if json {
        args.extend(["--output", "json"]);
    }
    let o = run(&args, b"");
    (o.status.code().unwrap(), stdout(&o))
}

/// Apply `edit` to the segment of a fresh copy, verify, and return the
/// exit code and output.
fn tampered(edit: impl FnOnce(&mut Vec<u8>)) -> (i32, String) {
    let dir = imported();
    let data = dir.path().join("data");
    let path = data.join(SEG);
    let mut seg = std::fs::read(&path).unwrap();
    edit(&mut seg);
    std::fs::write(&path, &seg).unwrap();
    verify(&data, false)
}

fn assert_failed(code: i32, out: &str, first: u64, says: &[&str]) {
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(&format!("FAILED (tree): first bad offset {first}: ")),
        "{out}"
    );
    for s in says {
        assert!(out.contains(s), "missing {s:?} in:\n{out}");
    }
}

#[test]
fn untouched_verifies_with_the_root_an_independent_tree_gives() {
    let dir = imported();
    let data = dir.path().join("data");
    let seg = std::fs::read(data.join(SEG)).unwrap();
    let mut tree = Tree::new();
    for (_, _, p) in frames(&seg) {
        tree.push(&p);
    }
    assert_eq!(tree.size(), N as u64);
    let root: String = tree.root().iter().map(|b| format!("{b:02x}")).collect();
    let (code, out) = verify(&data, false);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("OK (tree): the Merkle tree matches the log: 1000 record(s) verified"),
        "{out}"
    );
    assert!(out.contains(&format!("tree size  {N}\n")), "{out}");
    assert!(out.contains(&format!("root       {root}\n")), "{out}");
    assert!(out.contains("root (b64) "), "{out}");
    let (code, out) = verify(&data, true);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["tree_size"], N as u64);
    assert_eq!(j["root"], root.as_str());
    // The same root as signed checkpoints write it.
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(tree.root())
    };
    assert_eq!(j["root_base64"], b64.as_str());
    assert_eq!(j["first_bad_offset"], serde_json::Value::Null);
    assert_eq!(j["checks"][0]["check"], "tree");
    assert_eq!(j["checks"][0]["log_records"], N as u64);
}

#[test]
fn a_flipped_byte_names_its_offset() {
    let (code, out) = tampered(|seg| {
        let (pos, _, p) = &frames(seg)[345];
        seg[pos + 17 + p.len() / 2] ^= 0x01;
    });
    assert_failed(
        code,
        &out,
        345,
        &["offset 345: the stored record's bytes do not hash to the tree's leaf (frame checksum fails too)"],
    );
}

#[test]
fn a_record_rewritten_with_a_valid_checksum_names_its_offset() {
    let (code, out) = tampered(|seg| {
        let mut payloads: Vec<Vec<u8>> = frames(seg).into_iter().map(|f| f.2).collect();
        let p = &mut payloads[345];
        let at = p.iter().position(|b| b.is_ascii_digit()).unwrap();
        p[at] = if p[at] == b'9' { b'8' } else { p[at] + 1 };
        *seg = forge_with_header(&payloads);
    });
    assert_failed(
        code,
        &out,
        345,
        &["offset 345: the stored record's bytes do not hash to the tree's leaf (the frame's checksum is valid: the record was rewritten along with its checksum)"],
    );
}

#[test]
fn a_deleted_record_is_found_whether_its_frame_is_cut_out_or_the_log_rewritten() {
    // Cut out: the later frames keep their offsets, so they are misnumbered too.
    let (code, out) = tampered(|seg| {
        let f = frames(seg);
        let (a, b) = (f[500].0, f[501].0);
        seg.drain(a..b);
    });
    let says = [
        "offsets 500..=998 hold the records that the tree has at offsets 501..=999 (each 1 offset(s) lower than in the tree: record(s) before them are missing from the log); the tree's record at offset 500 is not in the log (deleted?)",
        "the log ends at offset 999 but the tree has 1000 leaves: 1 record(s) the tree holds are not in the log",
    ];
    assert_failed(code, &out, 500, &says);
    assert!(
        out.contains(
            "offsets 500..=998: their frames (the first at 00000000000000000000.seg byte "
        ),
        "{out}"
    );
    assert!(out.contains("say they hold offsets 501..=999"), "{out}");
    // Rewritten without it, renumbered, every checksum valid.
    let (code, out) = tampered(|seg| {
        let mut payloads: Vec<Vec<u8>> = frames(seg).into_iter().map(|f| f.2).collect();
        payloads.remove(500);
        *seg = forge_with_header(&payloads);
    });
    assert_failed(code, &out, 500, &says);
    assert!(!out.contains("says it holds offset"), "{out}");
    // The last record deleted: only the lengths differ.
    let (code, out) = tampered(|seg| {
        let f = frames(seg);
        seg.truncate(f[N - 1].0);
    });
    assert_failed(
        code,
        &out,
        999,
        &["the log ends at offset 999 but the tree has 1000 leaves"],
    );
}

#[test]
fn swapped_records_are_named_both_ways() {
    let swap = |seg: &mut Vec<u8>, renumber: bool| {
        let mut f = frames(seg);
        f.swap(100, 200);
        let mut new = header();
        for (i, (_, off, p)) in f.iter().enumerate() {
            let off = if renumber { i as u64 } else { *off };
            encode_frame(&mut new, off, FrameKind::Record, p);
        }
        *seg = new;
    };
    let says = ["offsets 100 and 200 are swapped: offset 100 holds the record that the tree has at offset 200, and offset 200 the one it has at offset 100 (records reordered)"];
    let (code, out) = tampered(|seg| swap(seg, false));
    assert_failed(code, &out, 100, &says);
    assert!(out.contains("says it holds offset 200"), "{out}");
    let (code, out) = tampered(|seg| swap(seg, true));
    assert_failed(code, &out, 100, &says);
    // Neighbours too.
    let (code, out) = tampered(|seg| {
        let mut payloads: Vec<Vec<u8>> = frames(seg).into_iter().map(|f| f.2).collect();
        payloads.swap(7, 8);
        *seg = forge_with_header(&payloads);
    });
    assert_failed(code, &out, 7, &["offsets 7 and 8 are swapped"]);
}

#[test]
fn an_inserted_record_is_named() {
    let (code, out) = tampered(|seg| {
        let mut payloads: Vec<Vec<u8>> = frames(seg).into_iter().map(|f| f.2).collect();
        let extra = generated(1, 72, 1).remove(0);
        payloads.insert(300, extra);
        *seg = forge_with_header(&payloads);
    });
    assert_failed(
        code,
        &out,
        300,
        &[
            "offset 300 holds a record the tree does not have; the tree's record at offset 300 is at offset 301 of the log (a record inserted?)",
            "offsets 301..=999 hold the records that the tree has at offsets 300..=998 (each 1 offset(s) higher than in the tree",
            "offsets 1000..=1000 are in the log but not in the tree",
        ],
    );
}

/// A tree shorter than the log is normal for the commit a running writer
/// has synced to the log but not yet to the tree; with no writer, it is not.
#[test]
fn records_past_the_trees_end_fail_unless_a_writer_is_running() {
    let dir = imported();
    let data = dir.path().join("data");
    let path = data.join("tree");
    let t = std::fs::read(&path).unwrap();
    std::fs::write(
        &path,
        &t[..32 + 32 * auditlog_merkle::stored_hash_count(900) as usize],
    )
    .unwrap();
    let (code, out) = verify(&data, false);
    assert_failed(
        code,
        &out,
        900,
        &["offsets 900..=999 are in the log but not in the tree, and no writer is running: the tree file was cut short, or a crash has not been recovered yet"],
    );
    let lock = std::fs::File::open(data.join("LOCK")).unwrap();
    lock.lock().unwrap();
    let (code, out) = verify(&data, false);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("OK (tree): the Merkle tree matches the log: 900 record(s) verified"),
        "{out}"
    );
    assert!(
        out.contains("note: the log holds 100 record(s) past the tree's end (offsets 900..=999): a commit in progress"),
        "{out}"
    );
}

#[test]
fn an_edited_tree_file_is_named_too() {
    let dir = imported();
    let data = dir.path().join("data");
    let path = data.join("tree");
    let orig = std::fs::read(&path).unwrap();
    let stored = |offset: u64| 32 + 32 * auditlog_merkle::stored_hash_count(offset) as usize;
    // A leaf hash changed (offset 610, whose pair with 611 is complete).
    let mut t = orig.clone();
    t[stored(610) + 3] ^= 0x80;
    std::fs::write(&path, &t).unwrap();
    let (code, out) = verify(&data, false);
    assert_failed(
        code,
        &out,
        610,
        &[
            "offset 610: the tree's leaf hash was changed: the stored record matches the tree's hash above it, not its leaf",
            "the tree file's hash of offsets 610..=611",
        ],
    );
    // An interior hash changed: the one over 0..=3, stored after leaf 3.
    let mut t = orig.clone();
    t[stored(3) + 32 * 2] ^= 0x01;
    std::fs::write(&path, &t).unwrap();
    let (code, out) = verify(&data, false);
    assert_failed(
        code,
        &out,
        0,
        &["the tree file's hash of offsets 0..=3 (stored hash 6) is not the hash of its two halves"],
    );
    // No tree at all.
    std::fs::remove_file(&path).unwrap();
    let (code, out) = verify(&data, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("there is no Merkle tree file"), "{out}");
}

/// `serve` SIGKILLed under load, again and again: while it runs, the tree
/// check passes (a commit in flight is only a note); after each restart,
/// which recovers the tree from the log, too; and after a clean stop the
/// whole of verify passes with every committed record in the tree.
#[test]
fn a_server_killed_under_load_verifies_after_every_restart() {
    use common::server::{committed, post, Server};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url.clone();
    let clients: Vec<_> = (0..2u64)
        .map(|c| {
            let (stop, url) = (stop.clone(), url.clone());
            std::thread::spawn(move || {
                let mut seed = 100 + c;
                // Paced, so the log stays small enough for each verify to
                // be quick while kills still land mid-commit.
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    let mut body = Vec::new();
                    for r in generated(50, seed, 2) {
                        body.extend_from_slice(&r);
                        body.push(b'\n');
                    }
                    // Refused connections while the server restarts are fine.
                    let _ = post(
                        &format!("{url}/v1/events:batch"),
                        "application/x-ndjson",
                        &body,
                    );
                    seed += 2;
                }
            })
        })
        .collect();
    // While the server writes, only the tree check is asserted: checks of
    // what the server signs meanwhile are not this test's subject.
    let tree_ok = |when: &str| {
        let (_, out) = verify_live(dir.path(), true);
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["checks"][0]["check"], "tree", "{out}");
        assert_eq!(j["checks"][0]["ok"], true, "{when}: {out}");
    };
    for round in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(150 + 70 * round));
        tree_ok(&format!("while running, round {round}"));
        server.crash_and_restart();
        tree_ok(&format!("after restart {round}"));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let n = committed(&server.url);
    assert!(n > 0);
    server.stop();
    let (code, out) = verify(dir.path(), true);
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["tree_size"], n, "{out}");
    assert_eq!(j["checks"][0]["log_records"], n, "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["verify"], b"");
    assert_eq!(o.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["verify", "--data-dir", dir.path().to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("not an auditlog data directory"));
}

/// A segment of these payloads, renumbered from 0 with valid checksums:
/// what a careful forger writes.
fn forge_with_header(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut seg = header();
    for (i, p) in payloads.iter().enumerate() {
        encode_frame(&mut seg, i as u64, FrameKind::Record, p);
    }
    seg
}
