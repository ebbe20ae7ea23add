//! Test helpers: hex decoding and a naive recursive RFC 6962 reference
//! (MTH, PATH, PROOF) written straight from the RFC's definitions, to
//! check the stored-hash implementation against.

#![allow(dead_code)] // Each test file uses a different part.

use auditlog_merkle::{empty_root, node_hash, Hash};

/// Decodes lowercase or uppercase hex; panics on anything else.
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes a 64-digit hex hash.
pub fn h(s: &str) -> Hash {
    unhex(s).try_into().unwrap()
}

/// RFC 6962 §2.1: the largest power of two smaller than `n` (n > 1).
fn k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[0:n]) over leaf hashes (RFC 6962 §2.1).
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = k(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]) (RFC 6962 §2.1.1).
pub fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 6962 §2.1.2), with the
/// conventional empty proof for m = 0 and m = n.
pub fn proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m == leaves.len() {
        return Vec::new();
    }
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(leaves)] };
    }
    let k = k(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], b);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// `h` with one bit flipped.
pub fn flip(h: &Hash) -> Hash {
    let mut x = *h;
    x[0] ^= 0x08;
    x
}
