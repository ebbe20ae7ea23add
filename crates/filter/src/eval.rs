//! Brute-force evaluation of an expression against one record: the
//! reference semantics that index-backed evaluation must reproduce.

use auditlog_model::fields::{ip_number, json_contains_phrase};
use auditlog_model::Crn;

use crate::{Expr, Field, Leaf, Subject};

/// Gather the parsed `within` scopes of `e`, once per distinct scope.
pub(crate) fn collect_scopes(e: &Expr, out: &mut Vec<(String, Crn)>) {
    match e {
        Expr::True => {}
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| collect_scopes(x, out)),
        Expr::Not(x) => collect_scopes(x, out),
        Expr::Leaf(Leaf::Within { scope }) => {
            if !out.iter().any(|(s, _)| s == scope) {
                if let Ok(c) = Crn::parse(scope) {
                    out.push((scope.clone(), c));
                }
            }
        }
        Expr::Leaf(_) => {}
    }
}

pub(crate) fn eval(e: &Expr, s: &Subject<'_>, scopes: &[(String, Crn)]) -> bool {
    match e {
        Expr::True => true,
        Expr::And(xs) => xs.iter().all(|x| eval(x, s, scopes)),
        Expr::Or(xs) => xs.iter().any(|x| eval(x, s, scopes)),
        Expr::Not(x) => !eval(x, s, scopes),
        Expr::Leaf(l) => leaf(l, s, scopes),
    }
}

/// The mask of the top `prefix` bits of a 128-bit address.
pub(crate) fn mask(prefix: u8) -> u128 {
    match u32::from(prefix.min(128)) {
        0 => 0,
        p => u128::MAX << (128 - p),
    }
}

fn leaf(l: &Leaf, s: &Subject<'_>, scopes: &[(String, Crn)]) -> bool {
    let f = s.fields;
    match l {
        Leaf::Eq { field, values } => f.values(*field).any(|v| values.iter().any(|w| w == v)),
        Leaf::Glob { field, pattern } => f.values(*field).any(|v| pattern.matches(v)),
        Leaf::Within { scope } => {
            let parsed;
            let scope = match scopes.iter().find(|(t, _)| t == scope) {
                Some((_, c)) => c,
                None => match Crn::parse(scope) {
                    Ok(c) => {
                        parsed = c;
                        &parsed
                    }
                    // Not a CRN: nothing lies within it.
                    Err(_) => return false,
                },
            };
            f.values(Field::Resource)
                .any(|v| Crn::parse(v).is_ok_and(|c| c.is_within(scope)))
        }
        Leaf::Cidr { net, prefix } => {
            let m = mask(*prefix);
            f.values(Field::ClientIp)
                .filter_map(ip_number)
                .any(|n| n & m == net & m)
        }
        Leaf::Time { op, nanos } => f.time.is_some_and(|t| op.holds(t, *nanos)),
        Leaf::Code { op, value } => f
            .values(Field::ErrorCode)
            .filter_map(|v| v.parse::<i64>().ok())
            .any(|c| op.holds(c, *value)),
        Leaf::Id { value } => s.id == Some(value.as_str()),
        Leaf::Text { words } => {
            json_contains_phrase(std::str::from_utf8(s.canonical).unwrap_or(""), words)
        }
    }
}
