//! Parsing: every operator, alias, value and time form, precedence, the
//! canonical printer, `explain`, and the column and hint of every error.

use auditlog_filter::{field_names, parse, parse_at, Cmp, Expr, Field, FilterError, Glob, Leaf};

/// 2026-11-22T12:00:00Z: a fixed "now" so relative times are deterministic.
const NOW: i64 = 1_795_348_800_000_000_000;
const HOUR: i64 = 3_600_000_000_000;

fn p(s: &str) -> Expr {
    match parse_at(s, NOW) {
        Ok(f) => f.expr,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

fn e(s: &str) -> FilterError {
    match parse_at(s, NOW) {
        Ok(f) => panic!("{s:?} should not parse, got {:?}", f.expr),
        Err(e) => e,
    }
}

fn eq(field: Field, v: &[&str]) -> Expr {
    Expr::Leaf(Leaf::Eq {
        field,
        values: v.iter().map(|s| s.to_string()).collect(),
    })
}

fn not(x: Expr) -> Expr {
    Expr::Not(Box::new(x))
}

fn text(words: &[&str]) -> Expr {
    Expr::Leaf(Leaf::Text {
        words: words.iter().map(|s| s.to_string()).collect(),
    })
}

fn canon(s: &str) -> String {
    parse_at(s, NOW).unwrap().to_string()
}

#[test]
fn every_alias_resolves() {
    let cases: &[(&[&str], Field)] = &[
        (&["type", "event_type", "eventType"], Field::EventType),
        (&["service", "service_name", "serviceName"], Field::Service),
        (
            &["method", "method_name", "methodName", "METHOD"],
            Field::Method,
        ),
        (
            &[
                "principal",
                "user",
                "user_id",
                "userId",
                "email",
                "identity",
                "service_account",
                "serviceAccount",
                "principal_id",
            ],
            Field::Principal,
        ),
        (
            &["organization", "org", "organization_id", "organizationId"],
            Field::Organization,
        ),
        (
            &["environment", "env", "environment_id", "environmentId"],
            Field::Environment,
        ),
        (&["resource_type", "resourceType"], Field::ResourceType),
        (&["resource_id", "resourceId"], Field::ResourceId),
        (
            &[
                "resource",
                "crn",
                "resource_name",
                "resourceName",
                "subject",
            ],
            Field::Resource,
        ),
        (&["scope"], Field::Scope),
        (&["status", "result_status", "resultStatus"], Field::Status),
        (&["access_type", "accessType"], Field::Access),
        (
            &[
                "client_ip",
                "clientIp",
                "ip",
                "client_address",
                "clientAddress",
            ],
            Field::ClientIp,
        ),
        (
            &[
                "error_code",
                "errorCode",
                "status_code",
                "statusCode",
                "code",
            ],
            Field::ErrorCode,
        ),
        (&["source"], Field::Source),
        (&["wire_form", "wireForm"], Field::WireForm),
    ];
    let mut seen = 0;
    for (names, field) in cases {
        for name in *names {
            assert_eq!(p(&format!("{name} = x")), eq(*field, &["x"]), "{name}");
            seen += 1;
        }
    }
    assert_eq!(p("id = x"), Expr::Leaf(Leaf::Id { value: "x".into() }));
    for name in ["time", "timestamp"] {
        assert_eq!(
            p(&format!("{name} > now")),
            Expr::Leaf(Leaf::Time {
                op: Cmp::Gt,
                nanos: NOW
            })
        );
    }
    for name in ["text", "q"] {
        assert_eq!(p(&format!("{name} = Foo")), text(&["foo"]));
    }
    // Every documented name is accepted, and nothing else is listed.
    assert_eq!(seen + 5 - 1, field_names().len());
    for name in field_names() {
        assert!(
            parse_at(&format!("{name} > now"), NOW).is_ok()
                || parse_at(&format!("{name} = 1"), NOW).is_ok()
        );
    }
}

#[test]
fn operators() {
    assert_eq!(p("method = X"), eq(Field::Method, &["X"]));
    assert_eq!(p("method=X"), eq(Field::Method, &["X"]));
    assert_eq!(p("method != X"), not(eq(Field::Method, &["X"])));
    assert_eq!(
        p("method:Delete*"),
        Expr::Leaf(Leaf::Glob {
            field: Field::Method,
            pattern: Glob::new("delete*")
        })
    );
    assert_eq!(
        p("method IN (CreateConnector, DeleteConnector)"),
        eq(Field::Method, &["CreateConnector", "DeleteConnector"])
    );
    assert_eq!(p("method in(a,b)"), eq(Field::Method, &["a", "b"]));
    assert_eq!(
        p("method NOT IN (a, \"b c\")"),
        not(eq(Field::Method, &["a", "b c"]))
    );
    assert_eq!(p("method not  in (a)"), not(eq(Field::Method, &["a"])));
    assert_eq!(
        p("crn within crn://confluent.cloud/organization=X/environment=env-abc123"),
        Expr::Leaf(Leaf::Within {
            scope: "crn://confluent.cloud/organization=X/environment=env-abc123".into()
        })
    );
    // The scope is kept canonical: an empty authority means confluent.cloud.
    assert_eq!(
        p("scope WITHIN crn:///organization=X"),
        Expr::Leaf(Leaf::Within {
            scope: "crn://confluent.cloud/organization=X".into()
        })
    );
    for (op, cmp) in [
        (">", Cmp::Gt),
        (">=", Cmp::Ge),
        ("<", Cmp::Lt),
        ("<=", Cmp::Le),
    ] {
        assert_eq!(
            p(&format!("error_code {op} 500")),
            Expr::Leaf(Leaf::Code {
                op: cmp,
                value: 500
            })
        );
        assert_eq!(
            p(&format!("time{op}-1h")),
            Expr::Leaf(Leaf::Time {
                op: cmp,
                nanos: NOW - HOUR
            })
        );
    }
    assert_eq!(p("error_code = 404"), eq(Field::ErrorCode, &["404"]));
    assert_eq!(p("error_code:4*").to_string(), "error_code:4*");
    assert_eq!(
        p("id IN (a, b)"),
        Expr::Or(vec![
            Expr::Leaf(Leaf::Id { value: "a".into() }),
            Expr::Leaf(Leaf::Id { value: "b".into() })
        ])
    );
    assert_eq!(
        p("id != a"),
        not(Expr::Leaf(Leaf::Id { value: "a".into() }))
    );
}

#[test]
fn resource_values_are_canonicalised() {
    assert_eq!(
        p("resource = crn:///kafka=lkc-1"),
        eq(Field::Resource, &["crn://confluent.cloud/kafka=lkc-1"])
    );
    assert_eq!(
        p("scope IN (crn://CONFLUENT.cloud/organization=o, not-a-crn)"),
        eq(
            Field::Scope,
            &["crn://confluent.cloud/organization=o", "not-a-crn"]
        )
    );
}

#[test]
fn client_ip_networks() {
    assert_eq!(p("ip = 10.1.2.3"), eq(Field::ClientIp, &["10.1.2.3"]));
    assert_eq!(
        p("ip = 10.9.9.9/8"),
        Expr::Leaf(Leaf::Cidr {
            net: 0xffff_0a00_0000,
            prefix: 104
        })
    );
    assert_eq!(
        p("client_ip = 2001:db8::/32"),
        Expr::Leaf(Leaf::Cidr {
            net: 0x2001_0db8 << 96,
            prefix: 32
        })
    );
    assert_eq!(
        p("ip != 10.0.0.0/8"),
        not(Expr::Leaf(Leaf::Cidr {
            net: 0xffff_0a00_0000,
            prefix: 104
        }))
    );
    assert_eq!(
        p("ip IN (1.2.3.4, 10.0.0.0/8, 5.6.7.8)"),
        Expr::Or(vec![
            eq(Field::ClientIp, &["1.2.3.4", "5.6.7.8"]),
            Expr::Leaf(Leaf::Cidr {
                net: 0xffff_0a00_0000,
                prefix: 104
            })
        ])
    );
    assert_eq!(canon("ip = 10.9.9.9/8"), "client_ip = 10.0.0.0/8");
    assert_eq!(canon("ip = ::/0"), "client_ip = ::/0");
    for bad in [
        "ip = 10.0.0.0/33",
        "ip = 10.0.0/8",
        "ip = ::/129",
        "ip = 1.2.3.4/x",
    ] {
        let err = e(bad);
        assert_eq!(err.column, 6, "{bad}");
        assert!(err.message.starts_with("invalid CIDR"), "{err}");
    }
}

#[test]
fn values() {
    assert_eq!(
        p(r#"method = "a \"quoted\" \\ value""#),
        eq(Field::Method, &[r#"a "quoted" \ value"#])
    );
    // After an operator `=` and `:` are part of the value.
    assert_eq!(p("source = a=b:c"), eq(Field::Source, &["a=b:c"]));
    assert_eq!(
        p("email = someone@example.com"),
        eq(Field::Principal, &["someone@example.com"])
    );
    // Keywords are values after an operator.
    assert_eq!(p("status = OR"), eq(Field::Status, &["OR"]));
    assert_eq!(p(r#"method = """#), eq(Field::Method, &[""]));
    // An unknown backslash escape is kept literally.
    assert_eq!(p(r#"method = "a\nb""#), eq(Field::Method, &["a\\nb"]));
    assert_eq!(
        p("resource = crn://confluent.cloud/organization=X/environment=env-abc123"),
        eq(
            Field::Resource,
            &["crn://confluent.cloud/organization=X/environment=env-abc123"]
        )
    );
}

#[test]
fn time_forms() {
    let t = |s: &str| match p(&format!("time >= {s}")) {
        Expr::Leaf(Leaf::Time { nanos, .. }) => nanos,
        other => panic!("{other:?}"),
    };
    assert_eq!(t("2026-11-22T10:00:00Z"), NOW - 2 * HOUR);
    assert_eq!(t("2026-11-22T11:00:00+01:00"), NOW - 2 * HOUR);
    assert_eq!(t("2026-11-22"), NOW - 12 * HOUR);
    assert_eq!(t("now"), NOW);
    assert_eq!(t("NOW"), NOW);
    assert_eq!(t("-90s"), NOW - 90_000_000_000);
    assert_eq!(t("-30m"), NOW - HOUR / 2);
    assert_eq!(t("-1h"), NOW - HOUR);
    assert_eq!(t("-7d"), NOW - 7 * 24 * HOUR);
    assert_eq!(t("-2w"), NOW - 14 * 24 * HOUR);
    assert_eq!(t("\"2026-11-22\""), NOW - 12 * HOUR);
    // `parse` uses the clock: `now` is within a minute of it.
    let f = parse("time < now").unwrap();
    let Expr::Leaf(Leaf::Time { nanos, .. }) = f.expr else {
        panic!()
    };
    let sys = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    assert!((sys - nanos).abs() < 60 * 1_000_000_000);
}

#[test]
fn precedence_and_implicit_and() {
    let m = |v: &str| eq(Field::Method, &[v]);
    assert_eq!(
        p("method=a status=FAILURE"),
        Expr::And(vec![m("a"), eq(Field::Status, &["FAILURE"])])
    );
    assert_eq!(
        p("method=a OR method=b method=c"),
        Expr::Or(vec![m("a"), Expr::And(vec![m("b"), m("c")])])
    );
    assert_eq!(
        p("method=a AND method=b OR method=c"),
        Expr::Or(vec![Expr::And(vec![m("a"), m("b")]), m("c")])
    );
    assert_eq!(
        p("NOT method=a method=b"),
        Expr::And(vec![not(m("a")), m("b")])
    );
    assert_eq!(
        p("NOT method=a OR method=b"),
        Expr::Or(vec![not(m("a")), m("b")])
    );
    assert_eq!(
        p("method=a and (method=b or method=c)"),
        Expr::And(vec![m("a"), Expr::Or(vec![m("b"), m("c")])])
    );
    assert_eq!(
        p("method=a && !(method=b || method=c)"),
        Expr::And(vec![m("a"), not(Expr::Or(vec![m("b"), m("c")]))])
    );
    assert_eq!(p("not not method=a"), not(not(m("a"))));
    // Groups stay groups, so the printer can reproduce them.
    assert_eq!(
        p("(method=a method=b) method=c"),
        Expr::And(vec![Expr::And(vec![m("a"), m("b")]), m("c")])
    );
    assert_eq!(p("((method=a))"), m("a"));
    assert_eq!(
        p("method=a OR method=b OR method=c"),
        Expr::Or(vec![m("a"), m("b"), m("c")])
    );
}

#[test]
fn free_text() {
    assert_eq!(p("lcc-23orvm"), text(&["lcc", "23orvm"]));
    assert_eq!(p("\"Unable to GET\""), text(&["unable", "to", "get"]));
    assert_eq!(p("text:\"foo bar\""), text(&["foo", "bar"]));
    assert_eq!(p("q = foo"), text(&["foo"]));
    assert_eq!(p("text != foo"), not(text(&["foo"])));
    assert_eq!(
        p("deleted method = X"),
        Expr::And(vec![text(&["deleted"]), eq(Field::Method, &["X"])])
    );
    // A word not followed by an operator is text, even a field name.
    assert_eq!(p("method"), text(&["method"]));
    assert_eq!(p("10.0.0.1"), text(&["10", "0", "0", "1"]));
    // A URL is text, not `crn : //…`.
    assert_eq!(
        p("crn://confluent.cloud/connector=lcc-1"),
        text(&["crn", "confluent", "cloud", "connector", "lcc", "1"])
    );
    assert_eq!(p("android"), text(&["android"]));
    assert_eq!(p("\"and\""), text(&["and"]));
}

#[test]
fn trivially_true() {
    for s in ["", "   ", "*", " * ", "(*)", "* AND *"] {
        let f = parse_at(s, NOW).unwrap();
        assert!(f.is_trivially_true(), "{s:?}");
        assert_eq!(f.source(), s);
    }
    assert_eq!(p(""), Expr::True);
    assert_eq!(p("*"), Expr::True);
    assert!(!parse_at("NOT *", NOW).unwrap().is_trivially_true());
    assert!(!parse_at("method = x", NOW).unwrap().is_trivially_true());
}

#[test]
fn canonical_text() {
    assert_eq!(
        canon("methodName=DeleteConnector resourceId=lcc-23orvm"),
        "method = DeleteConnector AND resource_id = lcc-23orvm"
    );
    assert_eq!(
        canon("method=a OR (method=b OR method=c) status != x"),
        "method = a OR (method = b OR method = c) AND status != x"
    );
    assert_eq!(
        canon("!(a || b) type NOT IN (x, \"y z\")"),
        "NOT (\"a\" OR \"b\") AND type NOT IN (x, \"y z\")"
    );
    assert_eq!(
        canon("time >= -1h time < 2026-11-22"),
        "time >= 2026-11-22T11:00:00Z AND time < 2026-11-22T00:00:00Z"
    );
    assert_eq!(canon("Method:\"//X\""), "method:\"//x\"");
    assert_eq!(canon("method = \"a,b\""), "method = \"a,b\"");
    assert_eq!(canon("*"), "*");
}

#[test]
fn explain_tree() {
    let f = parse_at(
        "method = DeleteConnector AND time >= 2026-11-22 AND (status = FAILURE OR NOT error_code < 500 OR \"x y\")",
        NOW,
    )
    .unwrap();
    assert_eq!(
        f.explain(),
        "AND\n  method = \"DeleteConnector\"\n  time >= 2026-11-22T00:00:00Z\n  OR\n    status = \"FAILURE\"\n    NOT\n      error_code < 500\n    text contains \"x y\""
    );
    assert_eq!(
        parse_at("method=DeleteConnector time >= 2026-11-22", NOW)
            .unwrap()
            .explain(),
        "AND\n  method = \"DeleteConnector\"\n  time >= 2026-11-22T00:00:00Z"
    );
    assert_eq!(parse_at("", NOW).unwrap().explain(), "*");
}

#[test]
fn error_columns_and_hints() {
    let err = e("methd = X");
    assert_eq!(err.column, 1);
    assert_eq!(err.message, "unknown field `methd`");
    assert_eq!(err.hint.as_deref(), Some("did you mean `method`?"));
    assert_eq!(
        err.to_string(),
        "column 1: unknown field `methd`; did you mean `method`?"
    );
    let err = e("status = FAILURE AND envirnoment = env-1");
    assert_eq!(err.column, 22);
    assert!(err.hint.unwrap().contains("`environment`"));
    // No close name: the hint lists the fields and says how to search text.
    let err = e("frobnicate = 1");
    assert!(err.hint.as_deref().unwrap().contains("method"), "{err}");
    assert!(err.hint.as_deref().unwrap().contains("quotes"), "{err}");

    let err = e("method = X AND (status = FAILURE");
    assert_eq!((err.column, err.message.as_str()), (16, "unclosed `(`"));
    let err = e("method IN (a, b");
    assert_eq!((err.column, err.message.as_str()), (11, "unclosed `(`"));
    let err = e("method = \"abc");
    assert_eq!((err.column, err.message.as_str()), (10, "unclosed string"));
    let err = e("\"abc");
    assert_eq!(err.column, 1);

    let err = e("method = ");
    assert_eq!(err.column, 10);
    assert!(err.message.contains("missing value"), "{err}");
    let err = e("(method =)");
    assert_eq!(err.column, 10);
    assert!(err.message.contains("missing value"), "{err}");
    let err = e("method IN ()");
    assert_eq!(err.column, 12);
    let err = e("method IN (a,,b)");
    assert_eq!(err.column, 14);
    let err = e("method IN a");
    assert_eq!(err.column, 11);

    let err = e("method within crn://confluent.cloud/");
    assert_eq!(err.column, 8);
    assert_eq!(err.message, "`within` is not valid for `method`");
    assert_eq!(
        err.hint.as_deref(),
        Some("`method` takes =, !=, :, IN, NOT IN; `within` works on resource and scope")
    );
    let err = e("method > X");
    assert_eq!(err.column, 8);
    assert!(err.hint.unwrap().contains("only time and error_code"));
    let err = e("time = 2026-11-22");
    assert_eq!(err.column, 6);
    let hint = err.hint.unwrap();
    assert!(
        hint.contains(">=") && hint.contains("time >= 2026-11-22 AND time < 2026-11-23"),
        "{hint}"
    );
    let err = e("id : x");
    assert_eq!(err.column, 4);

    let err = e("time > yesterday");
    assert_eq!(err.column, 8);
    assert_eq!(err.message, "invalid time `yesterday`");
    assert!(err.hint.unwrap().contains("2026-11-22T10:00:00Z"));
    let err = e("time > 2026-02-30");
    assert!(err.message.contains("day out of range"), "{err}");
    let err = e("error_code >= abc");
    assert_eq!(err.column, 15);
    let err = e("crn within organization=x");
    assert_eq!(err.column, 12);
    assert!(err.message.contains("invalid CRN"), "{err}");

    let err = e("method = X)");
    assert_eq!((err.column, err.message.as_str()), (11, "unexpected `)`"));
    let err = e("method = X, y");
    assert_eq!(err.column, 11);
    let err = e("method = X AND");
    assert_eq!(err.column, 15);
    let err = e("OR method = X");
    assert_eq!(err.column, 1);
    let err = e("method = X AND OR y");
    assert_eq!(err.column, 16);
    let err = e("()");
    assert_eq!((err.column, err.message.as_str()), (1, "empty parentheses"));
    let err = e("(a OR)");
    assert_eq!(err.column, 6);
    let err = e("NOT");
    assert_eq!(err.column, 4);
    let err = e("method = (a, b)");
    assert!(err.hint.unwrap().contains("IN"));
    let err = e("a AND -");
    assert_eq!(err.column, 7);
    assert!(err.message.contains("no words"));
    // Columns count characters, not bytes.
    let err = e("\"été\" methd = x");
    assert_eq!(err.column, 7);
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}method = x{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(e(&deep).message.contains("nests"));
    let nots = format!("{}method = x", "NOT ".repeat(10_000));
    assert!(e(&nots).message.contains("nests"));
    let ok = format!("{}method = x{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(p(&ok), eq(Field::Method, &["x"]));
}

/// The examples in docs/filter-language.md parse, and the documented
/// canonical text and tree are what the code prints.
#[test]
fn documented_examples() {
    let examples = [
        "method = DeleteConnector AND resource_id = lcc-23orvm",
        "crn within crn://confluent.cloud/organization=X/environment=env-abc123 status = FAILURE time > -12h",
        "\"unable to get connector\"",
        "environment = env-abc123 AND status = FAILURE AND time >= 2026-11-21T18:00:00Z AND time < 2026-11-22T06:00:00Z",
        "env = env-abc123 status = FAILURE time > -12h",
        "principal = sa-123 AND access_type = MODIFICATION AND time >= -7d",
        "method:delete* AND time > -1d",
        "error_code >= 500",
        "error_code IN (401, 403)",
        "access_type = MODIFICATION AND client_ip:* AND client_ip != 10.0.0.0/8",
        "\"unable to get connector by a given filter\"",
        "resource_type = STATEMENT AND method IN (CreateStatement, UpdateStatement, PatchStatement, DeleteStatement) AND email = xyz@confluent.io",
        "resource within crn://confluent.cloud/organization=2ff3a9ef-255b-4f52-a18e-77fe068dc5cf AND method:*IdentityProvider AND NOT status = SUCCESS",
        "id = aa5f89b9-a5d2-4821-9f08-f106c60ccd66",
        "wire_form = snake",
        "time >= 2026-11-22 AND time < 2026-11-23",
        "user = u-4rxom7 AND email = someone@example.com",
        "scope within crn:///organization=X",
    ];
    for s in examples {
        let f = parse_at(s, NOW).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(parse_at(&f.to_string(), NOW).unwrap().expr, f.expr, "{s}");
    }
    let f = parse_at(
        "methodName=DeleteConnector resourceId=lcc-23orvm time > -1h",
        NOW,
    )
    .unwrap();
    assert_eq!(
        f.to_string(),
        "method = DeleteConnector AND resource_id = lcc-23orvm AND time > 2026-11-22T11:00:00Z"
    );
    assert_eq!(
        f.explain(),
        "AND\n  method = \"DeleteConnector\"\n  resource_id = \"lcc-23orvm\"\n  time > 2026-11-22T11:00:00Z"
    );
    for (src, col, start) in [
        ("methd = X", 1, "unknown field"),
        ("frobnicate = 1", 1, "unknown field"),
        ("method = X AND (status = FAILURE", 16, "unclosed `(`"),
        ("method = \"abc", 10, "unclosed string"),
        ("method = ", 10, "missing value"),
        (
            "method within crn://confluent.cloud/",
            8,
            "`within` is not valid",
        ),
        ("method > X", 8, "`>` is not valid"),
        ("time = 2026-11-22", 6, "`=` is not valid"),
        ("time > yesterday", 8, "invalid time"),
        ("ip = 10.0.0.0/33", 6, "invalid CIDR"),
        ("crn within organization=x", 12, "invalid CRN"),
        ("method = X)", 11, "unexpected `)`"),
        ("method IN (a,,b)", 14, "missing value in list"),
        ("method = X AND", 15, "expected a term"),
    ] {
        let err = e(src);
        assert_eq!(err.column, col, "{src}: {err}");
        assert!(err.message.starts_with(start), "{src}: {err}");
    }
}
