//! Signed notes against the reference implementation's published example.

use auditlog_tlog::note::{NoteError, NoteSigner, NoteVerifier};

// The example key pair and note of Go's golang.org/x/mod/sumdb/note
// (note.go's package documentation and note_test.go). Ed25519 signatures
// are deterministic (RFC 8032), so signing must reproduce the note exactly.
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn the_go_example_signs_and_verifies_byte_for_byte() {
    let signer = NoteSigner::from_encoded(SKEY).unwrap();
    assert_eq!(signer.key_id(), 0xc74f_20a3);
    assert_eq!(signer.encoded(), SKEY);
    assert_eq!(signer.verifier().encoded(), VKEY);
    let note = signer.sign(TEXT).unwrap();
    assert_eq!(note, format!("{TEXT}\n{SIG}"));
    let v = NoteVerifier::from_encoded(VKEY).unwrap();
    assert_eq!(v.open(&note).unwrap(), TEXT);
}

#[test]
fn altered_notes_and_keys_are_refused_with_reasons() {
    let v = NoteVerifier::from_encoded(VKEY).unwrap();
    let note = format!("{TEXT}\n{SIG}");
    let altered = note.replace("cryptography", "Cryptography");
    assert!(matches!(
        v.open(&altered),
        Err(NoteError::BadSignature { .. })
    ));
    // Every single-byte change of the note is refused.
    let bytes = note.as_bytes();
    for i in 0..bytes.len() {
        let mut b = bytes.to_vec();
        b[i] ^= 0x01;
        if let Ok(s) = std::str::from_utf8(&b) {
            assert!(
                v.open(s).is_err(),
                "byte {i} changed and the note still verified"
            );
        }
    }
    // Another key's signature is ignored, so the note is unsigned for v.
    let other = NoteSigner::from_seed("PeterNeumann", [7; 32]).unwrap();
    assert!(matches!(
        v.open(&other.sign(TEXT).unwrap()),
        Err(NoteError::NotSigned { .. })
    ));
    // A cosignature by another key does not disturb verification.
    let cosigned = format!(
        "{note}{}",
        other.sign(TEXT).unwrap().split_once("\n\n").unwrap().1
    );
    assert_eq!(v.open(&cosigned).unwrap(), TEXT);
    // Mangled keys (Go's bad-key cases).
    for bad in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
    ] {
        assert!(NoteVerifier::from_encoded(bad).is_err(), "{bad}");
    }
    // Signing refuses texts that would not parse back.
    let s = NoteSigner::from_encoded(SKEY).unwrap();
    assert!(matches!(s.sign("no newline"), Err(NoteError::Text(_))));
    assert!(matches!(s.sign("a\n\nb\n"), Err(NoteError::Text(_))));
}
