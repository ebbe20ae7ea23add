//! Crash consistency of the Merkle tree file, with failures injected into
//! its writes and syncs and crash states made by hand.
//!
//! Guards against:
//! - acknowledging a record whose tree hashes a crash can lose;
//! - a crash between the log's sync and the tree's write, or inside the
//!   tree's write, leaving a tree that does not match the log after reopen
//!   (it must be extended and repaired from the log);
//! - recovery silently rewriting a tree that contradicts the log, or
//!   silently cutting records the tree proves were durable: both are
//!   evidence, so open must refuse and change nothing.

mod common;
use common::{prepared, records, small};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditlog_merkle::{stored_hash_count, Tree};
use auditlog_store::log::frame::{encode_frame, FrameKind};
use auditlog_store::log::{Fault, FaultAction, LogError};
use auditlog_store::{
    verify_tree, ConflictPolicy, Options, Outcome, Store, StoreError, TreeFileError,
};

fn append(store: &Store, chunk: &[Vec<u8>]) -> Result<Vec<Outcome>, StoreError> {
    store.append(
        chunk
            .iter()
            .map(|b| prepared(b, ConflictPolicy::Reject))
            .collect(),
    )
}

/// The tree of the records the store holds now.
fn tree_of(store: &Store) -> Tree {
    let mut t = Tree::new();
    for off in 0..store.committed() {
        t.push(&store.get(off).unwrap().unwrap());
    }
    t
}

/// The store's tree is exactly the tree of its log, at several sizes, and
/// the offline check agrees.
fn assert_tree_is_the_logs(dir: &Path, store: &Store) {
    let want = tree_of(store);
    assert_eq!(store.tree_size(), store.committed());
    let n = want.size();
    for k in [0, 1, n / 3, n / 2, n.saturating_sub(1), n] {
        assert_eq!(
            store.root_at(k).unwrap(),
            want.root_at(k).unwrap(),
            "size {k}"
        );
    }
    let report = verify_tree(dir, &mut |_, _| {}).unwrap();
    assert!(report.ok(), "{:#?}", report.problems);
    assert_eq!(report.tree_leaves, n);
    assert_eq!(report.root, Some(want.root()));
}

/// Write batches until an injected fault hits tree write (or sync) number
/// `fail_at`, crash, reopen: every acknowledged record is there and the
/// tree is the log's.
fn tree_fault_scenario(fail_at: usize, on_sync: bool, action: FaultAction) {
    let dir = tempfile::tempdir().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let hook = {
        let n = n.clone();
        Arc::new(move |f: Fault| match f {
            Fault::TreeWrite { .. } if !on_sync && n.fetch_add(1, Ordering::SeqCst) == fail_at => {
                action
            }
            Fault::TreeSync if on_sync && n.fetch_add(1, Ordering::SeqCst) == fail_at => action,
            _ => FaultAction::Proceed,
        })
    };
    let recs = records(30 + fail_at as u64, 300);
    let mut acked = Vec::new();
    {
        let store = Store::open(
            dir.path(),
            Options {
                fault: Some(hook),
                ..small()
            },
        )
        .unwrap();
        for chunk in recs.chunks(20) {
            match append(&store, chunk) {
                Ok(out) => acked.extend(out.into_iter().zip(chunk.iter().cloned())),
                Err(e) => {
                    assert!(e.to_string().contains("injected"), "{e}");
                    break;
                }
            }
        }
        assert_eq!(acked.len(), fail_at * 20, "acknowledged up to the fault");
        // Poisoned until reopened.
        assert!(append(&store, &records(777, 1)).is_err());
    }
    let store = Store::open(dir.path(), small()).unwrap();
    for (o, bytes) in &acked {
        let Outcome::Stored { offset, .. } = o else {
            panic!("{o:?}")
        };
        assert_eq!(store.get(*offset).unwrap().as_deref(), Some(&bytes[..]));
    }
    // The failed commit's records were synced to the log before its tree
    // write, so they are there (unacknowledged, but durable).
    assert_eq!(store.committed(), acked.len() as u64 + 20);
    assert_tree_is_the_logs(dir.path(), &store);
    // And it goes on.
    append(&store, &records(999, 3)).unwrap();
    assert_tree_is_the_logs(dir.path(), &store);
}

#[test]
fn torn_and_failed_tree_writes_recover_to_the_log() {
    for fail_at in [0, 1, 4, 9] {
        for action in [
            FaultAction::Fail,
            FaultAction::Partial(0),
            FaultAction::Partial(1),
            FaultAction::Partial(31),
            FaultAction::Partial(32),
            FaultAction::Partial(33),
            FaultAction::Partial(700),
        ] {
            tree_fault_scenario(fail_at, false, action);
        }
    }
}

#[test]
fn a_failed_tree_sync_is_never_acknowledged() {
    for fail_at in [0, 3] {
        tree_fault_scenario(fail_at, true, FaultAction::Fail);
    }
}

/// 500 records in commits of 20, closed cleanly: blocks of 100 leave
/// 400..500 unsealed, and the last commit's hashes are the file's tail.
fn five_hundred(dir: &Path) -> (Vec<Vec<u8>>, u64, u64) {
    let recs = records(40, 500);
    let store = Store::open(dir, small()).unwrap();
    for chunk in recs.chunks(20) {
        append(&store, chunk).unwrap();
    }
    store.close();
    let last_commit = 32 + 32 * stored_hash_count(480);
    let end = 32 + 32 * stored_hash_count(500);
    assert_eq!(
        std::fs::metadata(dir.join("tree")).unwrap().len(),
        end,
        "a tree file of 500 leaves"
    );
    (recs, last_commit, end)
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to.join("log")).unwrap();
    for e in std::fs::read_dir(from)
        .unwrap()
        .chain(std::fs::read_dir(from.join("log")).unwrap())
    {
        let p = e.unwrap().path();
        if p.is_file() && p.file_name().unwrap() != "LOCK" {
            std::fs::copy(&p, to.join(p.strip_prefix(from).unwrap())).unwrap();
        }
    }
}

/// What a crash can leave of the last commit's tree write — nothing, a
/// prefix cut at any byte, or its length with zeros (the size reached disk,
/// the data did not) — is recomputed from the log on open.
#[test]
fn crash_states_of_the_last_tree_write_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let (_, last_commit, end) = five_hundred(dir.path());
    let full = std::fs::read(dir.path().join("tree")).unwrap();
    let copy = tempfile::tempdir().unwrap();
    let mut states: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in (last_commit..=end)
        .step_by(13)
        .chain([last_commit + 31, end - 1])
    {
        states.push((format!("cut at {cut}"), full[..cut as usize].to_vec()));
    }
    for from in [last_commit, last_commit + 32 * 7, end - 32] {
        let mut z = full.clone();
        z[from as usize..].fill(0);
        states.push((format!("zeros from {from}"), z));
    }
    // Zeros in the middle of the write, whole hashes on both sides.
    let mut z = full.clone();
    z[last_commit as usize + 64..last_commit as usize + 640].fill(0);
    states.push(("zeros inside".into(), z));
    // Torn while being created: an empty file or part of the header.
    states.push(("empty".into(), Vec::new()));
    states.push(("header cut".into(), full[..5].to_vec()));
    for (what, bytes) in states {
        copy_dir(dir.path(), copy.path());
        std::fs::write(copy.path().join("tree"), &bytes).unwrap();
        let store = Store::open(copy.path(), small()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(store.committed(), 500, "{what}");
        assert_tree_is_the_logs(copy.path(), &store);
        drop(store);
        assert_eq!(
            std::fs::read(copy.path().join("tree")).unwrap(),
            full,
            "{what}: repaired byte for byte"
        );
    }
}

/// A hash that is neither right nor zero cannot come from a crash: the
/// record or the tree was changed. Open refuses, names the offset, and
/// changes nothing, so the evidence survives.
#[test]
fn a_tree_that_contradicts_the_log_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, _, _) = five_hundred(dir.path());
    let copy = tempfile::tempdir().unwrap();

    // A hash changed in the tree (leaf 450's).
    copy_dir(dir.path(), copy.path());
    let path = copy.path().join("tree");
    let mut t = std::fs::read(&path).unwrap();
    t[(32 + 32 * stored_hash_count(450)) as usize] ^= 1;
    std::fs::write(&path, &t).unwrap();
    let e = Store::open(copy.path(), small()).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Tree(TreeFileError::Contradicts { offset: 450, .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("auditlog verify"), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        t,
        "the tree is left as found"
    );

    // A record rewritten in the log, checksum and all (offset 470).
    copy_dir(dir.path(), copy.path());
    let (seg, pos) = locate(copy.path(), 470);
    let bytes = std::fs::read(&seg).unwrap();
    let mut forged = recs[470].clone();
    let at = forged.iter().position(|b| *b == b'2').unwrap();
    forged[at] = b'3';
    let mut frame = Vec::new();
    encode_frame(&mut frame, 470, FrameKind::Record, &forged);
    let mut new = bytes[..pos].to_vec();
    new.extend_from_slice(&frame);
    new.extend_from_slice(&bytes[pos + 17 + recs[470].len()..]);
    std::fs::write(&seg, &new).unwrap();
    let e = Store::open(copy.path(), small()).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Tree(TreeFileError::Contradicts { offset: 470, .. })
        ),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        new,
        "the log is left as found"
    );

    // Removing the tree is how an operator accepts the log as it is.
    std::fs::remove_file(copy.path().join("tree")).unwrap();
    let store = Store::open(copy.path(), small()).unwrap();
    assert_tree_is_the_logs(copy.path(), &store);
}

/// The tree is written only after the log's sync, so a log shorter than
/// the tree lost durable records: open refuses rather than cutting the
/// tree to match, and a damaged frame the tree covers is corruption, not a
/// torn tail to truncate away (which is what the log alone would do).
#[test]
fn records_the_tree_proves_durable_are_never_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (recs, _, _) = five_hundred(dir.path());
    let copy = tempfile::tempdir().unwrap();

    // The log cut at a frame boundary: three records gone.
    copy_dir(dir.path(), copy.path());
    let (seg, pos) = locate(copy.path(), 497);
    let bytes = std::fs::read(&seg).unwrap();
    std::fs::write(&seg, &bytes[..pos]).unwrap();
    let tree_before = std::fs::read(copy.path().join("tree")).unwrap();
    let e = Store::open(copy.path(), small()).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Tree(TreeFileError::LogShorter {
                log_records: 497,
                tree_leaves: 500
            })
        ),
        "{e}"
    );
    assert_eq!(
        std::fs::read(copy.path().join("tree")).unwrap(),
        tree_before
    );

    // One payload byte flipped in the last record of the last segment.
    copy_dir(dir.path(), copy.path());
    let (seg, pos) = locate(copy.path(), 499);
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = pos + 17 + recs[499].len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let e = Store::open(copy.path(), small()).unwrap_err();
    assert!(
        matches!(e, StoreError::Log(LogError::Corrupt { expected: 499, .. })),
        "{e}"
    );
    assert!(e.to_string().contains("not a torn write"), "{e}");
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "nothing truncated");

    // Without the tree, the same damage is indistinguishable from a torn
    // write and is cut (the log's own rule for its last segment).
    std::fs::remove_file(copy.path().join("tree")).unwrap();
    let store = Store::open(copy.path(), small()).unwrap();
    assert_eq!(store.committed(), 499);
}

/// The segment holding `offset`, and the byte position of its frame there.
fn locate(dir: &Path, offset: u64) -> (PathBuf, usize) {
    let segs = auditlog_store::log::list_segments(&dir.join("log")).unwrap();
    let (base, path) = segs.into_iter().rev().find(|(b, _)| *b <= offset).unwrap();
    let seg = std::fs::read(&path).unwrap();
    let mut pos = 16;
    for _ in base..offset {
        let len = u32::from_le_bytes(seg[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 17 + len;
    }
    (path, pos)
}
