//! C2SP tlog checkpoints (https://c2sp.org/tlog-checkpoint): the signed
//! statement "the log named ORIGIN had SIZE records with this root". The
//! text is three lines — origin, decimal size, base64 root — and optional
//! extension lines; it travels as a signed note ([`crate::note`]).

use auditlog_merkle::Hash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::note::{NoteError, NoteSigner, NoteVerifier};

/// Why a checkpoint was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed-note envelope failed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The text is not a checkpoint.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// Signed by the right key, but for another log.
    #[error("the checkpoint is for the log {got:?}, not {want:?}")]
    Origin {
        /// The origin in the checkpoint.
        got: String,
        /// The origin expected.
        want: String,
    },
}

/// A tree head: which log, how many records, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name, e.g. `auditlog.example.com/prod`.
    pub origin: String,
    /// Records in the tree.
    pub size: u64,
    /// The RFC 6962 root of the first `size` records.
    pub root: Hash,
    /// Extension lines (without newlines), kept as they are.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The checkpoint's text (what is signed).
    pub fn text(&self) -> String {
        let mut t = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            t.push_str(e);
            t.push('\n');
        }
        t
    }

    /// Parse a checkpoint's text.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = |m: &str| CheckpointError::Malformed(m.to_owned());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the text must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("line 1 (origin) is empty"))?;
        let size = lines
            .next()
            .ok_or_else(|| bad("line 2 (tree size) is missing"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad(&format!(
                "line 2 (tree size) {size:?} is not a decimal number without leading zeros"
            )));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| bad("line 2 (tree size) does not fit 64 bits"))?;
        let root = lines
            .next()
            .ok_or_else(|| bad("line 3 (root hash) is missing"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("line 3 (root hash) is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The signed note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, CheckpointError> {
        Ok(signer.sign(&self.text())?)
    }

    /// Verify a signed checkpoint by `verifier`, for the log named as the
    /// verifier's key (C2SP: the key name is the origin).
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
        let text = verifier.open(note)?;
        let c = Checkpoint::parse(text)?;
        if c.origin != verifier.name() {
            return Err(CheckpointError::Origin {
                got: c.origin,
                want: verifier.name().to_owned(),
            });
        }
        Ok(c)
    }
}
