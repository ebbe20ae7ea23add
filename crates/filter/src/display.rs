//! The canonical text of an expression (what [`crate::Filter`]'s `Display`
//! writes, and what logs show) and the indented tree of `explain`.
//!
//! The canonical text parses back to an equal [`Expr`]: names are canonical,
//! values are quoted whenever the bare form would lex differently, relative
//! times are written as the instants they resolved to, and nested groups keep
//! their parentheses.

use std::fmt::{self, Write as _};

use crate::names::{canonical, Target};
use crate::{when, Expr, Filter, Leaf};

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.expr, f)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        expr(self, &mut out);
        f.write_str(&out)
    }
}

/// What an `And`/`Or` with one child prints as: the child. Parenthesisation
/// depends on what is printed, not on the wrapper.
fn effective(e: &Expr) -> &Expr {
    match e {
        Expr::And(xs) | Expr::Or(xs) if xs.len() == 1 => xs.first().map_or(e, effective),
        _ => e,
    }
}

fn is_binary(e: &Expr) -> bool {
    matches!(effective(e), Expr::And(xs) | Expr::Or(xs) if xs.len() >= 2)
}

fn expr(e: &Expr, out: &mut String) {
    match effective(e) {
        Expr::True => out.push('*'),
        // The empty conjunction holds for every record.
        Expr::And(xs) if xs.is_empty() => out.push('*'),
        Expr::And(xs) => {
            // A nested `And` is kept as a group so it parses back as one.
            join(xs, " AND ", out, is_binary);
        }
        Expr::Or(xs) if xs.is_empty() => out.push_str("NOT *"),
        Expr::Or(xs) => {
            // `And` binds tighter than `Or`, so only a nested `Or` needs parentheses.
            join(
                xs,
                " OR ",
                out,
                |x| matches!(effective(x), Expr::Or(ys) if ys.len() >= 2),
            );
        }
        Expr::Not(x) => not(x, out),
        Expr::Leaf(l) => leaf(l, out),
    }
}

fn join(xs: &[Expr], sep: &str, out: &mut String, paren: impl Fn(&Expr) -> bool) {
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        if paren(x) {
            out.push('(');
            expr(x, out);
            out.push(')');
        } else {
            expr(x, out);
        }
    }
}

fn not(x: &Expr, out: &mut String) {
    match effective(x) {
        Expr::Leaf(Leaf::Eq { field, values }) if !values.is_empty() => {
            let name = canonical(Target::Field(*field));
            match values.as_slice() {
                [v] => {
                    let _ = write!(out, "{name} != ");
                    value(v, out);
                }
                vs => {
                    let _ = write!(out, "{name} NOT IN ");
                    list(vs, out);
                }
            }
        }
        Expr::Leaf(Leaf::Cidr { net, prefix }) => {
            let _ = write!(out, "client_ip != {}", cidr(*net, *prefix));
        }
        Expr::Leaf(Leaf::Id { value: v }) => {
            out.push_str("id != ");
            value(v, out);
        }
        inner => {
            out.push_str("NOT ");
            if is_binary(inner) {
                out.push('(');
                expr(inner, out);
                out.push(')');
            } else {
                expr(inner, out);
            }
        }
    }
}

fn leaf(l: &Leaf, out: &mut String) {
    match l {
        Leaf::Eq { values, .. } if values.is_empty() => out.push_str("NOT *"),
        Leaf::Eq { field, values } => {
            let name = canonical(Target::Field(*field));
            match values.as_slice() {
                [v] => {
                    let _ = write!(out, "{name} = ");
                    value(v, out);
                }
                vs => {
                    let _ = write!(out, "{name} IN ");
                    list(vs, out);
                }
            }
        }
        Leaf::Glob { field, pattern } => {
            let _ = write!(out, "{}:", canonical(Target::Field(*field)));
            // `name://…` would lex as a URL typed as free text.
            if pattern.as_str().starts_with("//") {
                quoted(pattern.as_str(), out);
            } else {
                value(pattern.as_str(), out);
            }
        }
        Leaf::Within { scope } => {
            out.push_str("resource within ");
            value(scope, out);
        }
        Leaf::Cidr { net, prefix } => {
            let _ = write!(out, "client_ip = {}", cidr(*net, *prefix));
        }
        Leaf::Time { op, nanos } => {
            let _ = write!(out, "time {} {}", op.as_str(), when::format(*nanos));
        }
        Leaf::Code { op, value } => {
            let _ = write!(out, "error_code {} {value}", op.as_str());
        }
        Leaf::Id { value: v } => {
            out.push_str("id = ");
            value(v, out);
        }
        Leaf::Text { words } => quoted(&phrase(words), out),
    }
}

/// The words of a phrase as text that `query_words` splits back into them.
/// Lower-casing `İ` yields `i` plus a combining dot, which is not
/// alphanumeric and so would split the word when re-read; writing the
/// capital letter instead lower-cases back to the same word.
fn phrase(words: &[String]) -> String {
    words
        .iter()
        .map(|w| w.replace("i\u{307}", "\u{130}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn list(vs: &[String], out: &mut String) {
    out.push('(');
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        value(v, out);
    }
    out.push(')');
}

/// A value, bare when the lexer would read it back unchanged.
fn value(v: &str, out: &mut String) {
    let bare = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')' | ',' | '\\'));
    if bare {
        out.push_str(v);
    } else {
        quoted(v, out);
    }
}

fn quoted(v: &str, out: &mut String) {
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// `a.b.c.d/n` for IPv4-mapped networks, `addr/n` otherwise.
fn cidr(net: u128, prefix: u8) -> String {
    let v6 = std::net::Ipv6Addr::from(net);
    match v6.to_ipv4_mapped() {
        Some(v4) if prefix >= 96 => format!("{v4}/{}", prefix - 96),
        _ => format!("{v6}/{prefix}"),
    }
}

/// One node per line, children indented two spaces.
pub(crate) fn explain(e: &Expr) -> String {
    let mut out = String::new();
    node(e, 0, &mut out);
    out
}

fn node(e: &Expr, depth: usize, out: &mut String) {
    if !out.is_empty() {
        out.push('\n');
    }
    for _ in 0..depth {
        out.push_str("  ");
    }
    match e {
        Expr::True => out.push('*'),
        Expr::And(xs) | Expr::Or(xs) => {
            out.push_str(if matches!(e, Expr::And(_)) {
                "AND"
            } else {
                "OR"
            });
            for x in xs {
                node(x, depth + 1, out);
            }
        }
        Expr::Not(x) => {
            out.push_str("NOT");
            node(x, depth + 1, out);
        }
        Expr::Leaf(l) => explain_leaf(l, out),
    }
}

fn explain_leaf(l: &Leaf, out: &mut String) {
    match l {
        Leaf::Eq { field, values } => {
            let name = canonical(Target::Field(*field));
            match values.as_slice() {
                [v] => {
                    let _ = write!(out, "{name} = ");
                    quoted(v, out);
                }
                vs => {
                    let _ = write!(out, "{name} IN (");
                    for (i, v) in vs.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        quoted(v, out);
                    }
                    out.push(')');
                }
            }
        }
        Leaf::Glob { field, pattern } => {
            let _ = write!(out, "{} : ", canonical(Target::Field(*field)));
            quoted(pattern.as_str(), out);
            out.push_str(" (glob, any case)");
        }
        Leaf::Within { scope } => {
            out.push_str("resource within ");
            quoted(scope, out);
        }
        Leaf::Cidr { net, prefix } => {
            let _ = write!(out, "client_ip in network {}", cidr(*net, *prefix));
        }
        Leaf::Time { op, nanos } => {
            let _ = write!(out, "time {} {}", op.as_str(), when::format(*nanos));
        }
        Leaf::Code { op, value } => {
            let _ = write!(out, "error_code {} {value}", op.as_str());
        }
        Leaf::Id { value } => {
            out.push_str("id = ");
            quoted(value, out);
        }
        Leaf::Text { words } => {
            out.push_str("text contains ");
            quoted(&words.join(" "), out);
        }
    }
}
