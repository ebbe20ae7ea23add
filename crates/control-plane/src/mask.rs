//! Masking secrets in what the control plane answers its callers, as
//! Confluent does (`"kafka.api.secret": "****************"`). Audit data
//! carries them in clear: the SDK redacts them before a record leaves.

/// What a secret value is shown as.
pub(crate) const MASK: &str = "****************";

/// Whether a config key names a secret: a word of it (split at punctuation
/// and camel-case boundaries) is `secret`, `password`, `passwd`, `token` or
/// `credential(s)`, or two adjacent words are `api key`, `access key` or
/// `private key`. `valid.*` keys are flags about a secret, not secrets.
pub(crate) fn is_secret_key(key: &str) -> bool {
    if key.to_ascii_lowercase().starts_with("valid.") {
        return false;
    }
    let words = words(key);
    let single = |w: &str| {
        matches!(
            w,
            "secret"
                | "secrets"
                | "password"
                | "passwords"
                | "passwd"
                | "token"
                | "tokens"
                | "credential"
                | "credentials"
                | "apikey"
                | "accesskey"
                | "privatekey"
        )
    };
    words.iter().any(|w| single(w))
        || words.windows(2).any(|p| {
            matches!(
                (p[0].as_str(), p[1].as_str()),
                ("api" | "access" | "private", "key" | "keys")
            )
        })
}

fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        // `clientSecret` is two words.
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::is_secret_key;

    #[test]
    fn secret_keys() {
        for k in [
            "kafka.api.secret",
            "kafka.api.key",
            "aws.redshift.password",
            "aws.access.key.id",
            "aws.secret.access.key",
            "clientSecret",
            "x-auth-token",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "tasks.max",
            "valid.kafka.api.key",
            "topics",
            "keystore.type",
            "tokenizer",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
