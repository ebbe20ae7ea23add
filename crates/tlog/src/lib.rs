//! Transparency-log formats layered above the pure Merkle core
//! (`auditlog-merkle`): C2SP signed notes with Ed25519 keys ([`note`]),
//! C2SP tlog checkpoints ([`checkpoint`]) and verifiable export bundles
//! ([`bundle`]). Pure: no I/O, no async; keys come in as bytes or text and
//! notes go out as text. The server signs and stores; the CLI verifies.

#![deny(clippy::unwrap_used, clippy::panic)]

pub mod bundle;
pub mod checkpoint;
pub mod note;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use note::{NoteError, NoteSigner, NoteVerifier};
