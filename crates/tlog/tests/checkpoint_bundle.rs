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

fn b64(h: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(h)
}

/// Replace proof element `k` of the record line at `offset` with `with`.
fn replace_proof_item(bundle: &[u8], offset: u64, k: usize, with: &str) -> Vec<u8> {
    let text = String::from_utf8(bundle.to_vec()).unwrap();
    let prefix = format!("{{\"offset\":{offset},\"proof\":[");
    let out: Vec<String> = text
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix(&prefix) {
            Some(rest) => {
                let at = k * 47 + 1;
                format!("{prefix}{}{with}{}", &rest[..at], &rest[at + 44..])
            }
            None => line.to_owned(),
        })
        .collect();
    out.concat().into_bytes()
}

/// A verifying thread reuses what earlier records' proofs established: the
/// record at offset 33 follows 32, so its path is hashed only up to the
/// node over 32..34 and its upper proof elements are compared with the
/// ones line 33 (offset 32) carried. Altering one of those upper elements
/// to another well-formed hash must still fail, and say which.
#[test]
fn an_altered_upper_proof_element_of_a_cached_path_fails_and_says_which() {
    let recs = records(64);
    let all: Vec<u64> = (0..64).collect();
    let b = make_bundle(&recs, &all);
    let v = signer().verifier();
    bundle::verify(&b, &v, 1).unwrap();
    // proof[0] of offset 33 is leaf 32 (hashed); proof[1..] are the
    // siblings of the node over 32..34 and above, all known from offset 32.
    for k in 1..6 {
        let t = replace_proof_item(&b, 33, k, &b64(&[7u8; 32]));
        let e = bundle::verify(&t, &v, 1).unwrap_err();
        assert!(
            matches!(
                e,
                BundleError::Contradicts {
                    line: 35,
                    offset: 33,
                    ..
                }
            ),
            "proof[{k}]: {e}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("line 35 (offset 33): the record is not in the log as checkpointed: ")
                && msg.contains(&format!("proof[{k}] is not the hash of"))
                && msg.contains("the proof of offset 32"),
            "{msg}"
        );
        // Each thread's first record is verified the plain way: same
        // verdict with the record at the start of a part.
        assert!(bundle::verify(&t, &v, 2).is_err());
    }
    // The lower element, which is hashed: the node over 32..34 then
    // contradicts the one offset 32's proof gave.
    let t = replace_proof_item(&b, 33, 0, &b64(&[7u8; 32]));
    let e = bundle::verify(&t, &v, 1).unwrap_err().to_string();
    assert!(
        e.contains("proof[0..=0] give the subtree over offsets 32..34 another hash"),
        "{e}"
    );
    // The record itself.
    let text = String::from_utf8(b.clone()).unwrap();
    let t = text.replace("\"id\":\"r33\"", "\"id\":\"r3x\"");
    let e = bundle::verify(t.as_bytes(), &v, 1).unwrap_err();
    assert!(
        matches!(e, BundleError::Contradicts { offset: 33, .. }),
        "{e}"
    );
}

/// Bundles of every size shape (right edges included) and subsets verify
/// on any number of threads, and any proof element replaced by another
/// well-formed hash fails, whether the verifier hashes it or compares it.
#[test]
fn known_paths_accept_exactly_what_the_plain_verifier_accepts() {
    let v = signer().verifier();
    let mut x = 99u64;
    let mut rnd = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    for size in [1u64, 2, 3, 5, 7, 8, 13, 31, 33, 64, 100] {
        let recs = records(size as usize);
        let mut tree = Tree::new();
        recs.iter().for_each(|r| {
            tree.push(r);
        });
        let all: Vec<u64> = (0..size).collect();
        let some: Vec<u64> = (0..size).filter(|_| rnd(3) != 0).collect();
        for offsets in [&all, &some] {
            let b = make_bundle(&recs, offsets);
            for threads in [1, 2, 3] {
                let ok = bundle::verify(&b, &v, threads).unwrap();
                assert_eq!(ok.records, offsets.len() as u64);
            }
            for &o in offsets.iter() {
                let len = tree.inclusion_proof(o, size).unwrap().len();
                for k in 0..len {
                    let t = replace_proof_item(&b, o, k, &b64(&[rnd(250) as u8 + 1; 32]));
                    for threads in [1, 2] {
                        assert!(
                            bundle::verify(&t, &v, threads).is_err(),
                            "size {size}, offset {o}, proof[{k}], {threads} thread(s)"
                        );
                    }
                }
            }
        }
    }
}

/// Fed in pieces, a bundle verifies as a whole, and a bad line is named by
/// its line number in the whole bundle.
#[test]
fn a_bundle_fed_in_pieces_names_lines_in_the_whole() {
    let recs = records(200);
    let all: Vec<u64> = (0..200).collect();
    let b = make_bundle(&recs, &all);
    let v = signer().verifier();
    let lines: Vec<&[u8]> = b.split_inclusive(|c| *c == b'\n').collect();
    let feed = |lines: &[&[u8]], threads| {
        let mut s = bundle::Verifier::new(lines[0], &v, threads)?;
        for piece in lines[1..].chunks(37) {
            s.feed(&piece.concat())?;
        }
        s.finish()
    };
    for threads in [1, 2, 3] {
        assert_eq!(feed(&lines, threads).unwrap().records, 200);
    }
    // Line 150 holds offset 148; give it offset 149's record.
    let mut bad = lines.clone();
    let moved = String::from_utf8(lines[149].to_vec())
        .unwrap()
        .replace("\"r148\",\"n\":148", "\"r149\",\"n\":149");
    bad[149] = moved.as_bytes();
    for threads in [1, 2, 3] {
        let e = feed(&bad, threads).unwrap_err().to_string();
        assert!(e.starts_with("line 150 (offset 148)"), "{threads}: {e}");
    }
    // Lines missing at the end.
    assert!(matches!(
        feed(&lines[..150], 2),
        Err(BundleError::Count {
            promised: 200,
            found: 149
        })
    ));
}
