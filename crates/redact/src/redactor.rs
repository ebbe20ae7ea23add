//! [`Redactor`]: a validated configuration and the public entry points.

use std::fmt;

use auditlog_model::json::Json;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{RedactError, RedactionConfig, Replace};
use crate::glob::KeyGlob;
use crate::pattern::{self, Seg, Step};
use crate::walk::Cx;

/// Shortest HMAC key accepted, in bytes.
const MIN_KEY_BYTES: usize = 16;

/// Validated redaction rules, ready to apply. Cheap to clone and share.
#[derive(Debug, Clone)]
pub struct Redactor {
    pub(crate) replace: Replacer,
    pub(crate) defaults: bool,
    pub(crate) deny_keys: Vec<KeyGlob>,
    pub(crate) allow_keys: Vec<KeyGlob>,
    pub(crate) deny_paths: Vec<Vec<Seg>>,
    pub(crate) allow_paths: Vec<Vec<Seg>>,
}

#[derive(Clone)]
pub(crate) enum Replacer {
    Mask,
    /// The keyed MAC, prepared once and cloned per value.
    Hmac(Hmac<Sha256>),
}

// By hand, so the key never reaches a log.
impl fmt::Debug for Replacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Replacer::Mask => f.write_str("Mask"),
            Replacer::Hmac(_) => f.write_str("Hmac(<key hidden>)"),
        }
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::with_defaults()
    }
}

impl Redactor {
    /// Validate `cfg`: every glob and path, and the HMAC key when needed.
    pub fn new(cfg: &RedactionConfig) -> Result<Redactor, RedactError> {
        let replace = match (cfg.replace.unwrap_or_default(), &cfg.hmac_key) {
            (Replace::Mask, None) => Replacer::Mask,
            (Replace::Mask, Some(_)) => return Err(RedactError::UnusedHmacKey),
            (Replace::Hmac, None) => return Err(RedactError::MissingHmacKey),
            (Replace::Hmac, Some(k)) => Replacer::Hmac(keyed(k)?),
        };
        Ok(Redactor {
            replace,
            defaults: cfg.defaults.unwrap_or(true),
            deny_keys: globs("deny_keys", &cfg.deny_keys)?,
            allow_keys: globs("allow_keys", &cfg.allow_keys)?,
            deny_paths: paths("deny_paths", &cfg.deny_paths)?,
            allow_paths: paths("allow_paths", &cfg.allow_paths)?,
        })
    }

    /// The built-in key rules, replacing with [`crate::MASK`].
    pub fn with_defaults() -> Redactor {
        Redactor {
            replace: Replacer::Mask,
            defaults: true,
            deny_keys: Vec::new(),
            allow_keys: Vec::new(),
            deny_paths: Vec::new(),
            allow_paths: Vec::new(),
        }
    }

    /// Whether no rule can ever mark anything secret (`defaults = false` and
    /// no deny rule), so walks can be skipped.
    fn inert(&self) -> bool {
        !self.defaults && self.deny_keys.is_empty() && self.deny_paths.is_empty()
    }

    /// Redact `request.data` and `result.data` of one record, given the whole
    /// record JSON (a CloudEvents envelope whose `data` holds the payload;
    /// both wire forms spell these members the same). Returns the paths
    /// changed, in document order, e.g.
    /// `$.data.request.data.user_configs["kafka.api.secret"]`.
    pub fn redact_record(&self, record: &mut Json) -> Vec<String> {
        let mut out = Vec::new();
        if self.inert() {
            return out;
        }
        let Some(data) = record.as_object_mut().and_then(|o| o.get_mut("data")) else {
            return out;
        };
        let Some(data) = data.as_object_mut() else {
            return out;
        };
        for (part, base) in PARTS {
            let inner = data
                .get_mut(part)
                .and_then(Json::as_object_mut)
                .and_then(|o| o.get_mut("data"));
            if let Some(v) = inner {
                let prefix = [Step::Key(part), Step::Key("data")];
                let cx = Cx {
                    prefix: Some(&prefix),
                    base,
                };
                self.redact_root(v, &cx, &mut out);
            }
        }
        out
    }

    /// What [`Redactor::redact_record`] would change, changing nothing (for a
    /// server that rejects instead of masking).
    pub fn find_in_record(&self, record: &Json) -> Vec<String> {
        let mut out = Vec::new();
        if self.inert() {
            return out;
        }
        let Some(data) = record.get("data").and_then(Json::as_object) else {
            return out;
        };
        for (part, base) in PARTS {
            if let Some(v) = data.get(part).and_then(|r| r.get("data")) {
                let prefix = [Step::Key(part), Step::Key("data")];
                let cx = Cx {
                    prefix: Some(&prefix),
                    base,
                };
                self.find_root(v, &cx, &mut out);
            }
        }
        out
    }

    /// Redact an arbitrary value (e.g. a request body before it becomes
    /// `request.data`). `base` is the value's path in the record, used as the
    /// start of every reported path; when it is under `$.data`
    /// (`$.data.request.data`) path rules apply too, otherwise only key rules
    /// do. Key rules judge the members inside `v`, not `v` itself.
    pub fn redact_value(&self, v: &mut Json, base: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.inert() {
            return out;
        }
        let parsed = pattern::parse(base, false).ok();
        let steps: Option<Vec<Step<'_>>> = parsed.as_ref().and_then(|segs| {
            segs.iter()
                .map(|s| match s {
                    Seg::Key(k) => Some(Step::Key(k)),
                    Seg::Index(i) => Some(Step::Index(*i)),
                    Seg::Any | Seg::AnyIndex => None,
                })
                .collect()
        });
        // A relative rule path (no `$`) is not a base; only `$.data…` anchors.
        let anchored = base.starts_with('$');
        let cx = Cx {
            prefix: steps.as_deref().filter(|_| anchored),
            base,
        };
        self.redact_root(v, &cx, &mut out);
        out
    }

    /// The replacement for one secret string.
    pub(crate) fn replacement(&self, s: &str) -> String {
        match &self.replace {
            Replacer::Mask => crate::MASK.to_owned(),
            Replacer::Hmac(mac) => {
                let mut m = mac.clone();
                m.update(s.as_bytes());
                let tag = m.finalize().into_bytes();
                let mut out = String::with_capacity(crate::HMAC_PREFIX.len() + 2 * tag.len());
                out.push_str(crate::HMAC_PREFIX);
                for b in tag {
                    out.push(hex_digit(b >> 4));
                    out.push(hex_digit(b & 0xf));
                }
                out
            }
        }
    }
}

/// The two parts redact_record looks at, with their rendered paths.
const PARTS: [(&str, &str); 2] = [
    ("request", "$.data.request.data"),
    ("result", "$.data.result.data"),
];

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

/// The key as bytes: an even-length string of hex digits is decoded as hex;
/// anything else is taken as UTF-8 text.
fn key_bytes(k: &str) -> Vec<u8> {
    let b = k.as_bytes();
    let is_hex = !b.is_empty() && b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit);
    if !is_hex {
        return b.to_vec();
    }
    b.chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

fn keyed(k: &str) -> Result<Hmac<Sha256>, RedactError> {
    let bytes = key_bytes(k);
    if bytes.len() < MIN_KEY_BYTES {
        return Err(RedactError::WeakHmacKey { bytes: bytes.len() });
    }
    // HMAC takes keys of any length; the error arm is unreachable but typed.
    Hmac::<Sha256>::new_from_slice(&bytes)
        .map_err(|_| RedactError::WeakHmacKey { bytes: bytes.len() })
}

fn globs(field: &'static str, list: &[String]) -> Result<Vec<KeyGlob>, RedactError> {
    list.iter()
        .enumerate()
        .map(|(index, g)| {
            KeyGlob::new(g).map_err(|why| RedactError::BadGlob {
                field,
                index,
                glob: g.clone(),
                why,
            })
        })
        .collect()
}

fn paths(field: &'static str, list: &[String]) -> Result<Vec<Vec<Seg>>, RedactError> {
    list.iter()
        .enumerate()
        .map(|(index, p)| {
            let bad = |column, why| RedactError::BadPath {
                field,
                index,
                path: p.clone(),
                column,
                why,
            };
            let segs = pattern::parse(p, true).map_err(|(c, why)| bad(c, why))?;
            pattern::check_scope(&segs).map_err(|why| bad(1, why))?;
            Ok(segs)
        })
        .collect()
}
