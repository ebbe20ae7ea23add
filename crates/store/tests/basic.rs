//! Append, read back byte for byte, deduplicate, handle id conflicts, reopen,
//! seal blocks and pass `check`, with small blocks and segments.

mod common;
use common::{prepared, records, small};

use auditlog_store::{check, ConflictPolicy, Options, Outcome, Store};

#[test]
fn append_read_reopen_check() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(7, 1_000);
    {
        let store = Store::open(dir.path(), small()).unwrap();
        for (i, chunk) in recs.chunks(97).enumerate() {
            let out = store
                .append(
                    chunk
                        .iter()
                        .map(|b| prepared(b, ConflictPolicy::Reject))
                        .collect(),
                )
                .unwrap();
            for (j, o) in out.iter().enumerate() {
                assert_eq!(
                    *o,
                    Outcome::Stored {
                        offset: (i * 97 + j) as u64,
                        conflicts_with: None
                    }
                );
            }
        }
        assert_eq!(store.committed(), 1_000);
        // Readable immediately, byte for byte, sealed or not.
        for (i, b) in recs.iter().enumerate() {
            assert_eq!(
                store.get(i as u64).unwrap().as_deref(),
                Some(&b[..]),
                "offset {i}"
            );
        }
        assert_eq!(store.get(1_000).unwrap(), None);
        let r = auditlog_model::Record::parse(&recs[500]).unwrap();
        let found = store.find_by_id(r.id.as_deref().unwrap(), None).unwrap();
        assert_eq!(found, vec![(500, recs[500].clone())]);
        assert!(store.find_by_id("no-such-id", None).unwrap().is_empty());
        store.close();
    }
    let store = Store::open(dir.path(), small()).unwrap();
    assert_eq!(store.committed(), 1_000);
    // Sealing happens in the background; wait for it to catch up.
    for _ in 0..200 {
        if store.stats().sealed_records >= 900 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(store.stats().sealed_blocks >= 9, "{:?}", store.stats());
    for (i, b) in recs.iter().enumerate().step_by(37) {
        assert_eq!(store.get(i as u64).unwrap().as_deref(), Some(&b[..]));
    }
    // Appending after reopen continues the offsets with no gap.
    let more = records(8, 10);
    let out = store
        .append(
            more.iter()
                .map(|b| prepared(b, ConflictPolicy::Reject))
                .collect(),
        )
        .unwrap();
    assert_eq!(
        out[0],
        Outcome::Stored {
            offset: 1_000,
            conflicts_with: None
        }
    );
    store.close();
    let report = check(dir.path(), &mut |_, _| {}).unwrap();
    assert!(report.ok(), "{:#?}", report.problems);
    assert_eq!(report.records, 1_010);
    assert!(report.sealed_blocks >= 10);
}

#[test]
fn duplicates_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), small()).unwrap();
    let recs = records(3, 300);
    let first = store
        .append(
            recs.iter()
                .map(|b| prepared(b, ConflictPolicy::Reject))
                .collect(),
        )
        .unwrap();
    assert!(first.iter().all(|o| matches!(o, Outcome::Stored { .. })));
    // The same records again, some sealed by now and some not: all duplicates.
    let again = store
        .append(
            recs.iter()
                .map(|b| prepared(b, ConflictPolicy::Reject))
                .collect(),
        )
        .unwrap();
    for (i, o) in again.iter().enumerate() {
        assert_eq!(*o, Outcome::Duplicate { offset: i as u64 });
    }
    // Duplicates within one batch.
    let one = records(4, 1).remove(0);
    let out = store
        .append(vec![
            prepared(&one, ConflictPolicy::Reject),
            prepared(&one, ConflictPolicy::Reject),
        ])
        .unwrap();
    assert_eq!(
        out,
        vec![
            Outcome::Stored {
                offset: 300,
                conflicts_with: None
            },
            Outcome::Duplicate { offset: 300 }
        ]
    );
    // Same (source, id), different content.
    let mut changed = auditlog_model::json::parse(&one).unwrap();
    changed
        .as_object_mut()
        .unwrap()
        .insert("subject", "crn://confluent.cloud/organization=other".into());
    let changed = auditlog_model::json::to_canonical(&changed);
    let out = store
        .append(vec![prepared(&changed, ConflictPolicy::Reject)])
        .unwrap();
    assert_eq!(out, vec![Outcome::Conflict { offset: 300 }]);
    let out = store
        .append(vec![prepared(&changed, ConflictPolicy::Store)])
        .unwrap();
    assert_eq!(
        out,
        vec![Outcome::Stored {
            offset: 301,
            conflicts_with: Some(300)
        }]
    );
    // Both are readable by id; the identical one is still a duplicate.
    let id = auditlog_model::Record::parse(&one).unwrap().id.unwrap();
    assert_eq!(store.find_by_id(&id, None).unwrap().len(), 2);
    let out = store
        .append(vec![prepared(&changed, ConflictPolicy::Reject)])
        .unwrap();
    assert_eq!(out, vec![Outcome::Duplicate { offset: 301 }]);
    assert_eq!(store.committed(), 302);
}

#[test]
fn records_without_ids_are_stored_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/seed-examples/flink-17-PatchStatement-success.json"
    ))
    .unwrap();
    let a = store
        .append(vec![prepared(&bytes, ConflictPolicy::Reject)])
        .unwrap();
    let b = store
        .append(vec![prepared(&bytes, ConflictPolicy::Reject)])
        .unwrap();
    assert_eq!(
        (a[0], b[0]),
        (
            Outcome::Stored {
                offset: 0,
                conflicts_with: None
            },
            Outcome::Stored {
                offset: 1,
                conflicts_with: None
            }
        )
    );
}

#[test]
fn concurrent_writers_share_commits_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path(), small()).unwrap());
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let store = store.clone();
        handles.push(std::thread::spawn(move || {
            let recs = records(100 + t, 500);
            let mut offsets = Vec::new();
            for chunk in recs.chunks(25) {
                for o in store
                    .append(
                        chunk
                            .iter()
                            .map(|b| prepared(b, ConflictPolicy::Reject))
                            .collect(),
                    )
                    .unwrap()
                {
                    match o {
                        Outcome::Stored { offset, .. } => offsets.push(offset),
                        other => panic!("{other:?}"),
                    }
                }
            }
            (recs, offsets)
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let (recs, offsets) = h.join().unwrap();
        for (b, o) in recs.iter().zip(&offsets) {
            assert_eq!(store.get(*o).unwrap().as_deref(), Some(&b[..]));
        }
        all.extend(offsets);
    }
    all.sort_unstable();
    assert_eq!(all, (0..2_000).collect::<Vec<u64>>());
}

#[test]
fn a_second_writer_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path(), Options::default()).unwrap();
    let e = Store::open(dir.path(), Options::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("is in use by another auditlog process"),
        "{e}"
    );
    // Readers are welcome.
    let ro = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(ro.committed(), 0);
}
