//! `explain`: how a filter parses, which index answers each test, and what
//! running it against a store cost.

use std::fmt::Write;

use auditlog_filter::{Expr, Filter, Leaf};
use auditlog_model::fields::FieldKind;

/// The index plan of each test of `filter`, one line per leaf, indented
/// like the parse tree.
pub fn plan(filter: &Filter) -> String {
    let mut out = String::new();
    walk(&filter.expr, 0, &mut out);
    out
}

fn walk(e: &Expr, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match e {
        Expr::True => {
            let _ = writeln!(
                out,
                "{pad}everything: every block whole; counts come from per-block rollups"
            );
        }
        Expr::And(cs) => {
            let _ = writeln!(out, "{pad}AND: intersect per block; time tests first (block zone maps), stop at an empty block");
            cs.iter().for_each(|c| walk(c, depth + 1, out));
        }
        Expr::Or(cs) => {
            let _ = writeln!(out, "{pad}OR: union per block");
            cs.iter().for_each(|c| walk(c, depth + 1, out));
        }
        Expr::Not(c) => {
            let _ = writeln!(
                out,
                "{pad}NOT: complement per block when the inner set is exact; otherwise every record is verified"
            );
            walk(c, depth + 1, out);
        }
        Expr::Leaf(l) => {
            let _ = writeln!(out, "{pad}{}", leaf(l));
        }
    }
}

fn leaf(l: &Leaf) -> String {
    match l {
        Leaf::Eq { field, values } => match field.kind() {
            FieldKind::Dictionary => format!(
                "{} = {} value(s): dictionary id -> posting list per block (exact)",
                field.name(),
                values.len()
            ),
            FieldKind::Term => format!("{} = {} value(s): per-block term postings (exact)", field.name(), values.len()),
            FieldKind::Column => format!(
                "{} = {} value(s): client-address column + extra-address terms, candidates verified",
                field.name(),
                values.len()
            ),
        },
        Leaf::Glob { field, pattern } => match field.kind() {
            FieldKind::Dictionary => format!(
                "{} : {}: glob over the {} dictionary, then posting lists (exact)",
                field.name(),
                pattern.as_str(),
                field.name()
            ),
            FieldKind::Term => format!(
                "{} : {}: glob over every block's {} terms (scan of the term table)",
                field.name(),
                pattern.as_str(),
                field.name()
            ),
            FieldKind::Column => format!(
                "{} : {}: no index; every record verified",
                field.name(),
                pattern.as_str()
            ),
        },
        Leaf::Within { scope } => {
            format!("crn within {scope}: scope postings (every CRN prefix of a target is indexed) (exact)")
        }
        Leaf::Cidr { .. } => "client_ip in network: scan of the client-address column, candidates verified".into(),
        Leaf::Time { op, .. } => format!(
            "time {}: block zone maps (min/max time) skip or take whole blocks; else the time column (exact)",
            op.as_str()
        ),
        Leaf::Code { op, value } => {
            format!("error_code {} {value}: numeric test over the error-code dictionary, then postings (exact)", op.as_str())
        }
        Leaf::Id { .. } => "id: id-hash column, candidates verified".into(),
        Leaf::Text { words } => format!(
            "text \"{}\": word Bloom filters per group of {} records ({} lookup(s) per block), candidates verified against record bytes",
            words.join(" "),
            auditlog_store::block::words::GROUP_RECORDS,
            words.len()
        ),
    }
}

/// The full explanation: the parse tree, then the plan.
pub fn explain(filter: &Filter) -> String {
    format!(
        "filter: {}\n\nparsed:\n{}\n\nindex plan:\n{}",
        if filter.is_trivially_true() {
            "(everything)".to_owned()
        } else {
            filter.to_string()
        },
        indent(&filter.explain()),
        indent(&plan(filter))
    )
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
