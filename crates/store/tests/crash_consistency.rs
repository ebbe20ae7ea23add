//! Crash consistency, with failures injected into the log's writes and syncs.
//!
//! Guards against:
//! - acknowledging a record that a crash can lose (ack only after sync);
//! - a torn write leaving garbage that later opens misread, or that makes the
//!   store refuse to start (the torn tail must be truncated);
//! - gaps or repeats in offsets after recovery;
//! - an index that is lost or behind the log (it must be rebuilt from the log);
//! - silent acceptance of corruption in the middle of the log (open must
//!   refuse, and `check` must name the offset).

mod common;
use common::{prepared, records, small};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditlog_store::log::{Fault, FaultAction};
use auditlog_store::{check, ConflictPolicy, Options, Outcome, Store};

fn stored(out: &[Outcome]) -> Vec<u64> {
    out.iter()
        .map(|o| match o {
            Outcome::Stored { offset, .. } => *offset,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Write batches until an injected fault hits write number `fail_at`, then
/// "crash" (drop) and reopen cleanly. Everything acknowledged must be there,
/// byte for byte, with offsets 0..n and no gaps; `check` must pass.
fn torn_write_scenario(fail_at: usize, action: FaultAction) {
    let dir = tempfile::tempdir().unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let hook = {
        let writes = writes.clone();
        Arc::new(move |f: Fault| match f {
            Fault::Write { .. } if writes.fetch_add(1, Ordering::SeqCst) == fail_at => action,
            _ => FaultAction::Proceed,
        })
    };
    let recs = records(fail_at as u64, 400);
    let mut acked: Vec<(u64, Vec<u8>)> = Vec::new();
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
            match store.append(
                chunk
                    .iter()
                    .map(|b| prepared(b, ConflictPolicy::Reject))
                    .collect(),
            ) {
                Ok(out) => acked.extend(stored(&out).into_iter().zip(chunk.iter().cloned())),
                Err(e) => {
                    assert!(e.to_string().contains("injected"), "{e}");
                    break;
                }
            }
        }
        // Once failed, the writer refuses all further work, even answering
        // duplicates, until a restart has re-read the log.
        assert!(store
            .append(vec![prepared(&recs[0], ConflictPolicy::Reject)])
            .is_err());
        assert!(store
            .append(vec![prepared(&records(777, 1)[0], ConflictPolicy::Reject)])
            .is_err());
    }
    let store = Store::open(dir.path(), small()).unwrap();
    for (off, bytes) in &acked {
        assert_eq!(
            store.get(*off).unwrap().as_deref(),
            Some(&bytes[..]),
            "acknowledged offset {off} lost"
        );
    }
    let n = store.committed();
    assert!(n >= acked.len() as u64);
    for off in 0..n {
        assert!(store.get(off).unwrap().is_some(), "gap at {off}");
    }
    // The store keeps working after recovery, continuing the offsets.
    let out = store
        .append(vec![prepared(&records(999, 1)[0], ConflictPolicy::Reject)])
        .unwrap();
    assert_eq!(stored(&out), vec![n]);
    store.close();
    let report = check(dir.path(), &mut |_, _| {}).unwrap();
    assert!(report.ok(), "{:#?}", report.problems);
}

#[test]
fn torn_writes_at_many_points() {
    for fail_at in 0..12 {
        for cut in [0, 1, 16, 17, 100, 1_000, 5_000] {
            torn_write_scenario(fail_at, FaultAction::Partial(cut));
        }
        torn_write_scenario(fail_at, FaultAction::Fail);
    }
}

#[test]
fn failed_sync_is_never_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let syncs = Arc::new(AtomicUsize::new(0));
    let hook = {
        let syncs = syncs.clone();
        Arc::new(move |f: Fault| match f {
            Fault::Sync if syncs.fetch_add(1, Ordering::SeqCst) == 3 => FaultAction::Fail,
            _ => FaultAction::Proceed,
        })
    };
    let recs = records(11, 100);
    let store = Store::open(
        dir.path(),
        Options {
            fault: Some(hook),
            ..small()
        },
    )
    .unwrap();
    let mut ok = 0;
    for chunk in recs.chunks(10) {
        if store
            .append(
                chunk
                    .iter()
                    .map(|b| prepared(b, ConflictPolicy::Reject))
                    .collect(),
            )
            .is_ok()
        {
            ok += 1;
        } else {
            break;
        }
    }
    assert_eq!(
        ok, 3,
        "the fourth commit's sync failed, so it and everything after is refused"
    );
    assert!(store.failure().unwrap().contains("injected sync failure"));
    drop(store);
    let store = Store::open(dir.path(), small()).unwrap();
    assert!(store.committed() >= 30);
}

/// Cut the last segment inside the last batch — at every byte of its first
/// frame, at every frame boundary and its neighbours, and at a stride
/// elsewhere: recovery keeps exactly the frames that are whole.
#[test]
fn truncation_at_every_byte_of_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(5, 30);
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        store
            .append(
                recs[..25]
                    .iter()
                    .map(|b| prepared(b, ConflictPolicy::Reject))
                    .collect(),
            )
            .unwrap();
        store
            .append(
                recs[25..]
                    .iter()
                    .map(|b| prepared(b, ConflictPolicy::Reject))
                    .collect(),
            )
            .unwrap();
    }
    let seg = dir.path().join("log/00000000000000000000.seg");
    let full = std::fs::read(&seg).unwrap();
    let tail_len: usize = recs[25..].iter().map(|r| r.len() + 17).sum();
    let tail_start = full.len() - tail_len;
    let copy = tempfile::tempdir().unwrap();
    let mut cuts: Vec<usize> = (tail_start..tail_start + recs[25].len() + 18).collect();
    let mut b = tail_start;
    for r in &recs[25..] {
        b += r.len() + 17;
        cuts.extend([b - 1, b, b + 1]);
    }
    cuts.extend((tail_start..full.len()).step_by(61));
    cuts.retain(|c| *c <= full.len());
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        let _ = std::fs::remove_dir_all(copy.path());
        std::fs::create_dir_all(copy.path().join("log")).unwrap();
        std::fs::copy(dir.path().join("FORMAT"), copy.path().join("FORMAT")).unwrap();
        std::fs::write(
            copy.path().join("log/00000000000000000000.seg"),
            &full[..cut],
        )
        .unwrap();
        let store = Store::open(copy.path(), Options::default()).unwrap();
        // Whole frames in the cut prefix survive; a partial one does not.
        let mut whole = 25;
        let mut end = tail_start;
        for r in &recs[25..] {
            if end + r.len() + 17 > cut {
                break;
            }
            whole += 1;
            end += r.len() + 17;
        }
        assert_eq!(store.committed(), whole as u64, "cut at {cut}");
        for (i, r) in recs.iter().take(whole).enumerate() {
            assert_eq!(store.get(i as u64).unwrap().as_deref(), Some(&r[..]));
        }
        drop(store);
        assert_eq!(
            std::fs::metadata(copy.path().join("log/00000000000000000000.seg"))
                .unwrap()
                .len(),
            end as u64,
            "torn bytes truncated"
        );
    }
}

#[test]
fn corruption_inside_the_log_is_refused_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(6, 600);
    {
        let store = Store::open(dir.path(), small()).unwrap();
        for chunk in recs.chunks(50) {
            store
                .append(
                    chunk
                        .iter()
                        .map(|b| prepared(b, ConflictPolicy::Reject))
                        .collect(),
                )
                .unwrap();
        }
    }
    let segs = auditlog_store::log::list_segments(&dir.path().join("log")).unwrap();
    assert!(segs.len() > 3, "small segments roll");
    // Flip one byte inside the payload of the first record of the second segment.
    let (base, path) = &segs[1];
    let mut bytes = std::fs::read(path).unwrap();
    bytes[16 + 17 + 5] ^= 0x01;
    std::fs::write(path, &bytes).unwrap();
    let report = check(dir.path(), &mut |_, _| {}).unwrap();
    assert!(!report.ok());
    assert_eq!(
        report.problems[0].offset,
        Some(*base),
        "{:#?}",
        report.problems
    );
    assert!(
        report.problems[0].what.contains("checksum"),
        "{:#?}",
        report.problems
    );
    // Opening re-reads only the unsealed tail, so the damage may be outside
    // what it scans; when the store is opened from scratch it is refused.
    std::fs::remove_file(dir.path().join("index.db")).unwrap();
    let e = Store::open(dir.path(), small()).unwrap_err();
    assert!(e.to_string().contains("corrupt"), "{e}");
    assert!(
        e.to_string().contains(&format!("expected offset {base}")),
        "{e}"
    );
}

#[test]
fn a_lost_index_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(9, 700);
    {
        let store = Store::open(dir.path(), small()).unwrap();
        for chunk in recs.chunks(70) {
            store
                .append(
                    chunk
                        .iter()
                        .map(|b| prepared(b, ConflictPolicy::Reject))
                        .collect(),
                )
                .unwrap();
        }
    }
    for f in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    let store = Store::open(dir.path(), small()).unwrap();
    assert_eq!(store.committed(), 700);
    for (i, r) in recs.iter().enumerate().step_by(13) {
        assert_eq!(store.get(i as u64).unwrap().as_deref(), Some(&r[..]));
    }
    // Idempotency survives the rebuild.
    let out = store
        .append(
            recs[..10]
                .iter()
                .map(|b| prepared(b, ConflictPolicy::Reject))
                .collect(),
        )
        .unwrap();
    assert!(out
        .iter()
        .enumerate()
        .all(|(i, o)| *o == Outcome::Duplicate { offset: i as u64 }));
    store.close();
    assert!(check(dir.path(), &mut |_, _| {}).unwrap().ok());
}
