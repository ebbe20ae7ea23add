//! C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: the
//! envelope transparency logs use for checkpoints, byte-compatible with Go's
//! `golang.org/x/mod/sumdb/note` (its published example verifies here).
//!
//! A note is a text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key id[4] || signature[64])>`. The key id is the
//! first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 in key encodings and key ids.
const ED25519: u8 = 0x01;
/// What starts a signature line: U+2014 and a space.
const DASH: &str = "\u{2014} ";
/// Go's cap on signature lines.
const MAX_SIGNATURES: usize = 100;

/// Why a note or key was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// A key encoding is malformed.
    #[error("malformed key: {0}")]
    Key(String),
    /// The text cannot be signed (it must end in a newline, have no blank
    /// line, and no control characters but newlines).
    #[error("the text cannot be signed: {0}")]
    Text(String),
    /// The note is not a text, a blank line and signature lines.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// No signature line is by the expected key.
    #[error("the note has no signature by {name} (key id {key_id:08x})")]
    NotSigned {
        /// The key's name.
        name: String,
        /// The key's id.
        key_id: u32,
    },
    /// A signature line by the expected key does not verify: the text or
    /// the signature was altered, or it was signed by another key.
    #[error("the signature by {name} does not verify: the note's text or signature was altered")]
    BadSignature {
        /// The key's name.
        name: String,
    },
}

/// The key id of an Ed25519 key named `name`.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::Key(format!(
            "the name {name:?} must be non-empty, without spaces or '+'"
        )));
    }
    Ok(())
}

/// A signing key: a name (by convention the log's origin) and an Ed25519
/// private key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    // Never print the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id()))
            .finish()
    }
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed (the caller draws it from the
    /// operating system's random source).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<NoteSigner, NoteError> {
        check_name(name)?;
        Ok(NoteSigner {
            name: name.to_owned(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Parse Go's private key encoding
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`.
    pub fn from_encoded(skey: &str) -> Result<NoteSigner, NoteError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("a private key starts with PRIVATE+KEY+".into()))?;
        let (name, id, key) = split_key(rest)?;
        let seed: [u8; 32] = key
            .try_into()
            .map_err(|_| NoteError::Key("an Ed25519 private key is 32 bytes".into()))?;
        let s = NoteSigner::from_seed(name, seed)?;
        if s.key_id() != id {
            return Err(NoteError::Key(format!(
                "the key id {id:08x} does not match the key ({:08x})",
                s.key_id()
            )));
        }
        Ok(s)
    }

    /// Go's private key encoding (keep it secret).
    pub fn encoded(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id(),
            B64.encode(k)
        )
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.key.verifying_key().as_bytes())
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Sign `text` (ending in a newline, no blank line, no control
    /// characters but newlines): the whole note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') {
            return Err(NoteError::Text("it must end with a newline".into()));
        }
        if text.contains("\n\n") || text.starts_with('\n') {
            return Err(NoteError::Text("it must not contain a blank line".into()));
        }
        if text.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Text(
                "it must not contain control characters other than newlines".into(),
            ));
        }
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.key_id().to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{DASH}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// A verification key: a name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parse the verifier key encoding `<name>+<hex key id>+<base64(0x01 || public key)>`.
    pub fn from_encoded(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let (name, id, key) = split_key(vkey.trim())?;
        check_name(name)?;
        let public: [u8; 32] = key
            .try_into()
            .map_err(|_| NoteError::Key("an Ed25519 public key is 32 bytes".into()))?;
        if key_id(name, &public) != id {
            return Err(NoteError::Key(format!(
                "the key id {id:08x} does not match the key ({:08x})",
                key_id(name, &public)
            )));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|e| NoteError::Key(format!("not an Ed25519 public key: {e}")))?;
        Ok(NoteVerifier {
            name: name.to_owned(),
            key,
        })
    }

    /// The verifier key encoding (safe to publish).
    pub fn encoded(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id(), B64.encode(k))
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.key.as_bytes())
    }

    /// Check that `note` carries a valid signature by this key, and return
    /// its text. Signature lines by other keys are ignored (witnesses may
    /// cosign), but one by this key that fails rejects the note.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let (text, sigs) = split_note(note)?;
        let id = self.key_id();
        for (name, blob) in sigs {
            if name != self.name || blob.len() < 4 || blob[..4] != id.to_be_bytes() {
                continue;
            }
            let sig = ed25519_dalek::Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::Malformed("an Ed25519 signature is 64 bytes".into()))?;
            return self
                .key
                .verify_strict(text.as_bytes(), &sig)
                .map(|()| text)
                .map_err(|_| NoteError::BadSignature {
                    name: self.name.clone(),
                });
        }
        Err(NoteError::NotSigned {
            name: self.name.clone(),
            key_id: id,
        })
    }
}

/// `<name>+<8 hex>+<base64(0x01 || key)>` → (name, id, key bytes).
fn split_key(s: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Key(
            "expected <name>+<hex key id>+<base64 key>".into(),
        ));
    };
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(NoteError::Key(format!(
            "the key id {id:?} must be 8 lower-case hex digits"
        )));
    }
    let id = u32::from_str_radix(id, 16).map_err(|e| NoteError::Key(e.to_string()))?;
    let raw = B64
        .decode(key)
        .map_err(|e| NoteError::Key(format!("the key is not base64: {e}")))?;
    match raw.split_first() {
        Some((&ED25519, k)) => Ok((name, id, k.to_vec())),
        Some((t, _)) => Err(NoteError::Key(format!(
            "signature type {t:#04x} is not Ed25519 (0x01)"
        ))),
        None => Err(NoteError::Key("the key is empty".into())),
    }
}

/// A signature line: the key name and the decoded `key id || signature`.
type SignatureLine<'a> = (&'a str, Vec<u8>);

/// A note's text (with its final newline) and its signature lines.
fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), NoteError> {
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "a note has no control characters other than newlines".into(),
        ));
    }
    let split = note.rfind("\n\n").ok_or_else(|| {
        NoteError::Malformed("no blank line between the text and the signatures".into())
    })?;
    let text = &note[..split + 1];
    let sigs = &note[split + 2..];
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the last signature line does not end with a newline".into(),
        ));
    }
    let mut out = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        let rest = line.strip_prefix(DASH).ok_or_else(|| {
            NoteError::Malformed(format!(
                "signature line {line:?} does not start with an em dash"
            ))
        })?;
        let (name, b64) = rest.split_once(' ').ok_or_else(|| {
            NoteError::Malformed(format!("signature line {line:?} has no signature"))
        })?;
        let blob = B64.decode(b64).map_err(|e| {
            NoteError::Malformed(format!("the signature of {name} is not base64: {e}"))
        })?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed(format!(
                "the signature of {name} is too short"
            )));
        }
        out.push((name, blob));
    }
    if out.is_empty() || out.len() > MAX_SIGNATURES {
        return Err(NoteError::Malformed(format!(
            "a note has 1 to {MAX_SIGNATURES} signature lines, not {}",
            out.len()
        )));
    }
    Ok((text, out))
}
