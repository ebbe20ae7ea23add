//! Properties: the canonical text of any expression the parser can produce
//! parses back to the same expression, and no input makes the parser panic.

use auditlog_filter::{parse_at, Cmp, Expr, Field, Glob, Leaf};
use auditlog_model::fields::query_words;
use auditlog_model::Crn;
use proptest::prelude::*;

const NOW: i64 = 1_795_348_800_000_000_000;

fn field() -> impl Strategy<Value = Field> {
    prop::sample::select(Field::ALL.to_vec())
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop::sample::select(vec![Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge])
}

/// Values with every character the lexer treats specially, but no `/`:
/// a `/` would make a client IP a CIDR and could make a resource a CRN,
/// which the parser normalises.
fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.@:=*!<>\"\\\\(),\téİ-]{0,10}"
}

fn crn_scope() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                "organization",
                "environment",
                "cloud-cluster",
                "topic",
            ]),
            "[a-zA-Z0-9 /=%,()é-]{1,6}",
        ),
        0..4,
    )
    .prop_map(|segs| {
        let mut c = Crn::confluent_cloud();
        for (k, v) in segs {
            c = c.child(k, &v).unwrap();
        }
        c.to_string()
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    let l = prop_oneof![
        (field(), prop::collection::vec(value(), 1..4))
            .prop_map(|(field, values)| Leaf::Eq { field, values }),
        (field(), "[a-zA-Z0-9 /*?,()\"=é-]{0,8}").prop_map(|(field, p)| Leaf::Glob {
            field,
            pattern: Glob::new(&p)
        }),
        crn_scope().prop_map(|scope| Leaf::Within { scope }),
        (any::<u32>(), 0u8..=32).prop_map(|(a, len)| {
            let prefix = len + 96;
            let net = u128::from(std::net::Ipv4Addr::from(a).to_ipv6_mapped());
            Leaf::Cidr {
                net: net & mask(prefix),
                prefix,
            }
        }),
        (any::<u128>(), 0u8..=128).prop_map(|(n, prefix)| Leaf::Cidr {
            net: n & mask(prefix),
            prefix
        }),
        (cmp(), any::<i64>()).prop_map(|(op, nanos)| Leaf::Time { op, nanos }),
        (cmp(), any::<i64>()).prop_map(|(op, value)| Leaf::Code { op, value }),
        value().prop_map(|value| Leaf::Id { value }),
        // Words as the parser makes them, from arbitrary text.
        "\\PC{1,16}"
            .prop_map(|s| query_words(&s))
            .prop_filter("a phrase needs a word", |w| !w.is_empty())
            .prop_map(|words| Leaf::Text { words }),
    ];
    prop_oneof![9 => l.prop_map(Expr::Leaf), 1 => Just(Expr::True)]
}

fn mask(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// Expressions in the parser's normal form: `And`/`Or` have two or more children.
fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|x| Expr::Not(Box::new(x))),
        ]
    })
}

/// Filter-shaped text from the language's own tokens, to reach deep parser
/// states that random strings rarely do.
fn tokens() -> impl Strategy<Value = String> {
    let tok = prop::sample::select(vec![
        "method",
        "ip",
        "time",
        "crn",
        "scope",
        "id",
        "text",
        "code",
        "=",
        "!=",
        ":",
        ">",
        ">=",
        "<",
        "in",
        "NOT IN",
        "within",
        "(",
        ")",
        ",",
        "\"",
        "\\",
        "AND",
        "or",
        "not",
        "!",
        "&&",
        "||",
        "*",
        "x",
        "Delete*",
        "-1h",
        "now",
        "2026-11-22",
        "10.0.0.0/8",
        "::/0",
        "404",
        "crn://confluent.cloud/organization=o",
        "crn:///a=b",
        "lcc-23orvm",
        "é",
        "İ",
    ]);
    let sep = prop::sample::select(vec!["", " ", " ", "  "]);
    prop::collection::vec((tok, sep), 0..14)
        .prop_map(|v| v.into_iter().flat_map(|(t, s)| [t, s]).collect())
}

fn round_trips(src: &str) -> Result<(), TestCaseError> {
    if let Ok(f) = parse_at(src, NOW) {
        let text = f.to_string();
        let g = parse_at(&text, NOW)
            .map_err(|e| TestCaseError::fail(format!("{src:?} -> {text:?}: {e}")))?;
        prop_assert_eq!(&g.expr, &f.expr, "{:?} -> {:?}", src, text);
        prop_assert_eq!(g.to_string(), text);
        let _ = f.explain();
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn display_round_trips(e in expr()) {
        let text = e.to_string();
        let f = parse_at(&text, NOW)
            .map_err(|err| TestCaseError::fail(format!("{text:?}: {err}")))?;
        prop_assert_eq!(&f.expr, &e, "{:?}", text);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,40}") {
        round_trips(&s)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>()) {
        round_trips(&s)?;
    }

    #[test]
    fn token_soup_round_trips(s in tokens()) {
        round_trips(&s)?;
    }
}

#[test]
fn glob_prefix_is_a_prefix_of_every_match() {
    let g = Glob::new("Del?te*x");
    assert_eq!(g.literal_prefix(), "del");
    for s in ["DELETEx", "delate-x", "delyte__x"] {
        assert!(g.matches(s), "{s}");
        assert!(s.to_lowercase().starts_with(g.literal_prefix()));
    }
}
