//! The built-in key rule: does a member name, split into words, say "secret"?

/// Words that make a name secret on their own (with an optional plural `s`).
/// The one-word forms of the pairs below are here because `APIKey` and
/// `apikey` have no boundary to split at.
const SECRET_WORDS: [&str; 8] = [
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "privatekey",
    "apikey",
    "accesskey",
];

/// First words of the adjacent pairs `private key`, `api key`, `access key`.
const PAIR_FIRST: [&str; 3] = ["private", "api", "access"];

/// Whether `key` is secret under the built-in rule (see the crate docs).
pub(crate) fn is_secret_key(key: &str) -> bool {
    // Acronym splitting (`AWSSecret` → `AWS Secret`) can also cut a word
    // written in capitals with a lower-case plural (`TOKENs` → `TOKE Ns`), so
    // the name is tried both ways and is secret if either finds a match.
    may_hold_a_secret_word(key) && (has_secret_word(key, false) || has_secret_word(key, true))
}

/// Stems, one of which every secret word or pair contains (`passw` for
/// `password`/`passwd`; `key` for the one-word and two-word key forms).
const STEMS: [&[u8]; 5] = [b"secret", b"passw", b"token", b"credential", b"key"];

/// A quick test that rules most names out: words are slices of the name,
/// so a name without any stem (ignoring case) has no secret word. Every
/// member name of every ingested record's data passes through here.
fn may_hold_a_secret_word(key: &str) -> bool {
    let b = key.as_bytes();
    (0..b.len()).any(|i| {
        STEMS.iter().any(|stem| {
            b.get(i..i + stem.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(stem))
        })
    })
}

fn has_secret_word(key: &str, acronyms: bool) -> bool {
    let mut prev: Option<&str> = None;
    for w in Words::new(key, acronyms) {
        if SECRET_WORDS.iter().any(|t| word_is(w, t)) {
            return true;
        }
        if let Some(p) = prev {
            if word_is(w, "key") && PAIR_FIRST.iter().any(|f| p.eq_ignore_ascii_case(f)) {
                return true;
            }
        }
        prev = Some(w);
    }
    false
}

/// `w` equals `target` ignoring ASCII case, or is `target` plus `s`.
fn word_is(w: &str, target: &str) -> bool {
    let (w, t) = (w.as_bytes(), target.as_bytes());
    if w.len() == t.len() {
        return w.eq_ignore_ascii_case(t);
    }
    w.len() == t.len() + 1
        && w.get(..t.len()).is_some_and(|p| p.eq_ignore_ascii_case(t))
        && matches!(w.last(), Some(b's' | b'S'))
}

/// The words of a name, as slices of it (no allocation).
struct Words<'a> {
    s: &'a str,
    pos: usize,
    acronyms: bool,
}

impl<'a> Words<'a> {
    fn new(s: &'a str, acronyms: bool) -> Self {
        Words {
            s,
            pos: 0,
            acronyms,
        }
    }
}

/// ASCII punctuation and space separate words; other bytes (letters, digits,
/// non-ASCII) belong to them.
fn is_separator(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_alphanumeric()
}

/// Whether a new word starts at `i` inside a run of word bytes.
fn boundary(b: &[u8], i: usize, acronyms: bool) -> bool {
    let (Some(&prev), Some(&cur)) = (b.get(i.wrapping_sub(1)), b.get(i)) else {
        return false;
    };
    let next = b.get(i + 1).copied();
    (prev.is_ascii_lowercase() && cur.is_ascii_uppercase())
        || (prev.is_ascii_alphabetic() && cur.is_ascii_digit())
        || (prev.is_ascii_digit() && cur.is_ascii_alphabetic())
        || (acronyms
            && prev.is_ascii_uppercase()
            && cur.is_ascii_uppercase()
            && next.is_some_and(|n| n.is_ascii_lowercase()))
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        while b.get(self.pos).is_some_and(|&c| is_separator(c)) {
            self.pos += 1;
        }
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        let mut end = start + 1;
        while b
            .get(end)
            .is_some_and(|&c| !is_separator(c) && !boundary(b, end, self.acronyms))
        {
            end += 1;
        }
        self.pos = end;
        // Boundaries fall only next to ASCII bytes, so both ends are char
        // boundaries; `get` keeps that an assumption we never index on.
        self.s.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_spelling() {
        fn w(s: &str) -> Vec<&str> {
            Words::new(s, true).collect()
        }
        assert_eq!(w("kafka.api.secret"), ["kafka", "api", "secret"]);
        assert_eq!(w("clientSecret"), ["client", "Secret"]);
        assert_eq!(w("AWSSecretKey"), ["AWS", "Secret", "Key"]);
        assert_eq!(w("x-auth-token"), ["x", "auth", "token"]);
        assert_eq!(w("oauth2Token"), ["oauth", "2", "Token"]);
        assert_eq!(w("__a  b__"), ["a", "b"]);
        assert_eq!(w("clé_secrète"), ["clé", "secrète"]);
        assert!(w("").is_empty());
    }

    #[test]
    fn the_quick_test_never_rules_out_a_secret_name() {
        // Every secret word and pair in many spellings, alone and inside
        // other names: whatever the full rule calls secret passes the
        // quick test.
        let words = SECRET_WORDS
            .iter()
            .map(|w| w.to_string())
            .chain(PAIR_FIRST.iter().map(|f| format!("{f}.key")));
        for w in words {
            let upper = w.to_uppercase();
            let camel: String = w
                .split('.')
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            for form in [w.clone(), upper, camel] {
                for name in [
                    form.clone(),
                    format!("{form}s"),
                    format!("x_{form}"),
                    format!("aws{form}Id"),
                    format!("A-{form}-2"),
                ] {
                    let full = has_secret_word(&name, false) || has_secret_word(&name, true);
                    assert!(
                        !full || may_hold_a_secret_word(&name),
                        "{name}: secret, but ruled out"
                    );
                }
            }
        }
        assert!(!may_hold_a_secret_word("tasks.max"));
        assert!(!may_hold_a_secret_word("connector.class"));
        assert!(may_hold_a_secret_word("KeyStore"));
    }

    #[test]
    fn the_documented_examples() {
        for k in [
            "kafka.api.secret",
            "aws.secret.access.key",
            "aws.redshift.password",
            "kafka.api.key",
            "aws.access.key.id",
            "clientSecret",
            "API_KEY",
            "x-auth-token",
            "Private-Key",
            "db_passwords",
            "APIKey",
            "apikey",
            "AWSSecretAccessKey",
            "TOKENs",
            "credentials",
            "PASSWD",
            "s3_secret_2",
            "accessKeys",
        ] {
            assert!(is_secret_key(k), "{k} should be secret");
        }
        for k in [
            "tokenizer",
            "keystore.type",
            "name",
            "tasks.max",
            "key",
            "access",
            "api.version",
            "private.link",
            "secretary",
            "passwordless",
            "",
            "...",
        ] {
            assert!(!is_secret_key(k), "{k} should not be secret");
        }
    }
}
