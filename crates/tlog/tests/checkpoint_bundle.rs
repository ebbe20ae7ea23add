//! Checkpoints and bundles: round trips, and every alteration refused.

use auditlog_merkle::Tree;
use auditlog_tlog::bundle::{self, BundleError};
use auditlog_tlog::{Checkpoint, CheckpointError, NoteSigner};

fn signer() -> NoteSigner {
    NoteSigner::from_seed("auditlog.test/log", [42; 32]).unwrap()
}

#[test]
fn checkpoints_round_trip_and_bind_the_origin() {
    let c = Checkpoint {
        origin: "auditlog.test/log".into(),
        size: 12345,
        root: [9; 32],
        extensions: vec!["timestamp 1796143850".into()],
    };
    assert_eq!(
        c.text(),
        "auditlog.test/log\n12345\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\ntimestamp 1796143850\n"
    );
    assert_eq!(Checkpoint::parse(&c.text()).unwrap(), c);
    let note = c.sign(&signer()).unwrap();
    assert_eq!(Checkpoint::open(&note, &signer().verifier()).unwrap(), c);
    // Signed by the right key but naming another log.
    let other = Checkpoint {
        origin: "elsewhere".into(),
        ..c.clone()
    };
    assert!(matches!(
        Checkpoint::open(&other.sign(&signer()).unwrap(), &signer().verifier()),
        Err(CheckpointError::Origin { .. })
    ));
    for bad in [
        "o\n012\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
        "o\n12\nnot base64\n",
        "o\n12\n",
        "\n12\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
        "o\n-1\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
    }
}

/// A bundle of the records at `offsets` out of a log of `records`.
fn make_bundle(records: &[Vec<u8>], offsets: &[u64]) -> Vec<u8> {
    let mut tree = Tree::new();
    for r in records {
        tree.push(r);
    }
    let c = Checkpoint {
        origin: "auditlog.test/log".into(),
        size: tree.size(),
        root: tree.root(),
        extensions: Vec::new(),
    };
    let mut out =
        bundle::header_line(&c.sign(&signer()).unwrap(), offsets.len() as u64).into_bytes();
    for &o in offsets {
        let proof = tree.inclusion_proof(o, tree.size()).unwrap();
        out.extend(bundle::entry_line(o, &proof, &records[o as usize]));
    }
    out
}

fn records(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{{\"id\":\"r{i}\",\"n\":{i}}}").into_bytes())
        .collect()
}

#[test]
fn a_bundle_verifies_offline_and_any_altered_byte_fails() {
    let recs = records(37);
    let b = make_bundle(&recs, &[0, 3, 4, 20, 36]);
    let v = signer().verifier();
    for threads in [1, 2, 3] {
        let ok = bundle::verify(&b, &v, threads).unwrap();
        assert_eq!((ok.records, ok.checkpoint.size), (5, 37));
    }
    for i in 0..b.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut t = b.clone();
            t[i] ^= bit;
            assert!(
                bundle::verify(&t, &v, 2).is_err(),
                "byte {i} xor {bit:#x} ({:?}) changed and the bundle still verified",
                b[i] as char
            );
        }
    }
    // Dropped, duplicated and reordered lines.
    let lines: Vec<&[u8]> = b.split_inclusive(|c| *c == b'\n').collect();
    let drop: Vec<u8> = [lines[0], lines[1], lines[3], lines[4], lines[5]].concat();
    assert!(matches!(
        bundle::verify(&drop, &v, 1),
        Err(BundleError::Count { .. })
    ));
    let swap: Vec<u8> = [lines[0], lines[2], lines[1], lines[3], lines[4], lines[5]].concat();
    let e = bundle::verify(&swap, &v, 1).unwrap_err().to_string();
    assert!(e.contains("does not follow"), "{e}");
    // Another key.
    let stranger = NoteSigner::from_seed("auditlog.test/log", [1; 32]).unwrap();
    assert!(matches!(
        bundle::verify(&b, &stranger.verifier(), 1),
        Err(BundleError::Checkpoint(_))
    ));
}

#[test]
fn a_record_moved_to_another_offset_names_its_line() {
    let recs = records(8);
    let b = make_bundle(&recs, &[2, 5]);
    let text = String::from_utf8(b).unwrap();
    // Claim record 5 sits at offset 6: the proof no longer leads to the root.
    let moved = text.replace("{\"offset\":5,", "{\"offset\":6,");
    let e = bundle::verify(moved.as_bytes(), &signer().verifier(), 1).unwrap_err();
    assert!(
        matches!(
            e,
            BundleError::Proof {
                line: 3,
                offset: 6,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().starts_with("line 3 (offset 6)"), "{e}");
}
