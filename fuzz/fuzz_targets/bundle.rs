//! Fuzz the bundle verifier, which reads files from anyone: no input may
//! panic, and the in-memory verifier and the streamed one agree on whether
//! a bundle verifies. Inputs starting with 0xB5 edit a small valid bundle
//! instead (so the fuzzer starts deep inside the format): the rest of the
//! input is (position, byte) pairs XORed into it.
#![no_main]

use auditlog_merkle::Tree;
use auditlog_tlog::bundle::{self, Verifier};
use auditlog_tlog::{Checkpoint, NoteSigner, NoteVerifier};
use libfuzzer_sys::fuzz_target;

fn signer() -> NoteSigner {
    NoteSigner::from_seed("auditlog.fuzz/log", [7; 32]).expect("a fixed seed is a key")
}

/// A bundle of records 1, 2 and 4 of a 6-record log, signed by `signer()`.
fn valid_bundle() -> Vec<u8> {
    let records: Vec<Vec<u8>> = (0..6)
        .map(|i| format!("{{\"id\":\"r{i}\",\"specversion\":\"1.0\"}}").into_bytes())
        .collect();
    let mut tree = Tree::new();
    for r in &records {
        tree.push(r);
    }
    let c = Checkpoint {
        origin: "auditlog.fuzz/log".into(),
        size: tree.size(),
        root: tree.root(),
        extensions: Vec::new(),
    };
    let offsets = [1u64, 2, 4];
    let mut out = bundle::header_line(&c.sign(&signer()).expect("signing"), 3).into_bytes();
    for &o in &offsets {
        let proof = tree.inclusion_proof(o, tree.size()).expect("in range");
        out.extend(bundle::entry_line(o, &proof, &records[o as usize]));
    }
    out
}

/// The streamed verifier: header, then the records in two pieces split at
/// a line boundary.
fn streamed(data: &[u8], key: &NoteVerifier) -> bool {
    let Some(end) = data.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let (header, rest) = data.split_at(end + 1);
    let Ok(mut v) = Verifier::new(header, key, 2) else {
        return false;
    };
    let mid = rest[..rest.len() / 2]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    v.feed(&rest[..mid]).is_ok() && v.feed(&rest[mid..]).is_ok() && v.finish().is_ok()
}

fuzz_target!(|data: &[u8]| {
    let key = signer().verifier();
    let input = match data.split_first() {
        Some((0xB5, edits)) => {
            let mut b = valid_bundle();
            for pair in edits.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % b.len();
                b[at] ^= pair[2];
            }
            b
        }
        _ => data.to_vec(),
    };
    let whole = bundle::verify(&input, &key, 2).is_ok();
    if data.first() == Some(&0xB5) && input == valid_bundle() {
        assert!(whole, "a genuine bundle must verify");
    }
    assert_eq!(whole, streamed(&input, &key), "the two verifiers disagree");
    if let Ok(s) = std::str::from_utf8(&input) {
        let _ = Checkpoint::parse(s);
        let _ = Checkpoint::open(s, &key);
    }
});
