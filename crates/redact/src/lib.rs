//! Secret redaction for audit records: find values held under secret-looking
//! keys (or configured paths) in `request.data` and `result.data`, and replace
//! them with a fixed mask or a keyed HMAC.
//!
//! The SDK runs this before a record leaves the service that emits it; the
//! server runs the same rules on ingest as a second line of defence. The
//! rules (also in `docs/redaction.md`):
//!
//! - **Built-in key rule** (on unless `defaults = false`). A member name is
//!   split into words at `.`, `_`, `-`, space and every other ASCII
//!   punctuation, at lower→Upper camel boundaries, at acronym ends
//!   (`AWSSecret` → `AWS Secret`) and between letters and digits; words are
//!   compared case-insensitively and a trailing plural `s` is ignored. The
//!   name is secret when a word is `secret`, `password`, `passwd`, `token`,
//!   `credential`, `privatekey`, `apikey` or `accesskey`, or two adjacent
//!   words are `private key`, `api key` or `access key`. So `kafka.api.secret`,
//!   `aws.access.key.id`, `clientSecret`, `API_KEY`, `x-auth-token` and
//!   `db_passwords` are secret; `tokenizer`, `keystore.type` and `tasks.max`
//!   are not. Names starting with `valid.` are allowed by default.
//! - **Configured rules**: `deny_keys` / `allow_keys` are case-insensitive
//!   globs over member names (`*` any run, `?` one character);
//!   `deny_paths` / `allow_paths` are paths relative to the record's `data`
//!   (`result.data.user_configs["kafka.api.secret"]`, `*` one step, `[]` or
//!   `[*]` any array index).
//! - **Precedence** at each member or element: an allow path, then a deny
//!   path, then an allow key, then a deny key (built-in or configured); if
//!   none applies it inherits its parent's verdict. So allow beats deny and
//!   paths beat keys. An allow rule clears the node it matches, not the
//!   members inside it: they are still judged by their own names.
//! - **What is replaced**: every string leaf of a secret node (a secret
//!   object or array keeps its shape). Never replaced: `null`, booleans,
//!   numbers, `""`, `"true"`, `"false"`, the mask itself and values already
//!   in HMAC form (`hmac-sha256:` and 64 lowercase hex digits), so published
//!   Confluent records pass unchanged and redacting twice changes nothing.
//! - **Scope**: [`Redactor::redact_record`] looks only at `data.request.data`
//!   and `data.result.data`; other parts of a record (authenticationInfo,
//!   requestMetadata, …) are left alone.
//!
//! Pure: no I/O, no async, no global state.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod config;
mod glob;
mod pattern;
mod redactor;
mod walk;
mod words;

pub use config::{RedactError, RedactionConfig, Replace};
pub use redactor::Redactor;

/// What a secret string becomes under [`Replace::Mask`]: 16 asterisks, the
/// same mask Confluent's published records show.
pub const MASK: &str = "****************";

/// The prefix of a value replaced under [`Replace::Hmac`].
pub const HMAC_PREFIX: &str = "hmac-sha256:";
