//! The deployment configuration (`[redaction]` in TOML) and its errors.

use std::fmt;

use serde::Deserialize;

/// Deployment configuration, deserialisable from TOML (a `[redaction]`
/// table). Unknown fields are an error, so a misspelt rule is not silently
/// ignored.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionConfig {
    /// "mask" (default) or "hmac"
    pub replace: Option<Replace>,
    /// hex or plain-text key for HMAC-SHA256 (required when replace = "hmac")
    pub hmac_key: Option<String>,
    /// keep the built-in key rules (default true)
    pub defaults: Option<bool>,
    /// extra key globs that are secret (case-insensitive, `*` and `?`), e.g. "*.dsn", "ssn"
    #[serde(default)]
    pub deny_keys: Vec<String>,
    /// key globs never redacted, e.g. "valid.*"
    #[serde(default)]
    pub allow_keys: Vec<String>,
    /// JSON paths (relative to the record's data, e.g. "request.data.config.dsn",
    /// "result.data.user_configs.*", with `*` for one segment and `[]`/`[*]`
    /// for any array index) whose values are secret
    #[serde(default)]
    pub deny_paths: Vec<String>,
    /// JSON paths never redacted (beat every deny rule)
    #[serde(default)]
    pub allow_paths: Vec<String>,
}

// Written by hand so that logging a configuration never prints the key.
impl fmt::Debug for RedactionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactionConfig")
            .field("replace", &self.replace)
            .field("hmac_key", &self.hmac_key.as_ref().map(|_| "<hidden>"))
            .field("defaults", &self.defaults)
            .field("deny_keys", &self.deny_keys)
            .field("allow_keys", &self.allow_keys)
            .field("deny_paths", &self.deny_paths)
            .field("allow_paths", &self.allow_paths)
            .finish()
    }
}

/// What a secret value is replaced with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Replace {
    /// [`crate::MASK`], the same for every value.
    #[default]
    Mask,
    /// `hmac-sha256:` + lowercase hex of HMAC-SHA256(key, value): equal
    /// secrets give equal replacements, so they can be correlated without
    /// being revealed.
    Hmac,
}

/// A configuration that cannot be used. Each message names the offending
/// field and entry and says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// A key glob uses syntax other than `*` and `?`, or is empty.
    #[error("{field}[{index}] = {glob:?} is not a valid key glob: {why}")]
    BadGlob {
        field: &'static str,
        index: usize,
        glob: String,
        why: String,
    },
    /// A path does not parse, or names a place redaction never looks at.
    #[error("{field}[{index}] = {path:?} is not a valid path (at character {column}): {why}")]
    BadPath {
        field: &'static str,
        index: usize,
        path: String,
        /// 1-based character position of the problem.
        column: usize,
        why: String,
    },
    /// `replace = "hmac"` without `hmac_key`.
    #[error("replace = \"hmac\" needs hmac_key (at least 16 bytes: 32+ hex digits or a long passphrase); generate one with `openssl rand -hex 32`")]
    MissingHmacKey,
    /// The HMAC key is too short to keep replacements from being guessed.
    #[error("hmac_key is {bytes} bytes; use at least 16 (32+ hex digits or a long passphrase), e.g. `openssl rand -hex 32`")]
    WeakHmacKey { bytes: usize },
    /// `hmac_key` is set but `replace` is not `"hmac"`, which would silently
    /// ignore the key.
    #[error("hmac_key is set but replace is \"mask\", so the key would be unused; set replace = \"hmac\" or remove hmac_key")]
    UnusedHmacKey,
}
