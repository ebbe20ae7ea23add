//! Time values in filters: RFC 3339, bare dates, `now` and relative
//! offsets, resolved to nanoseconds since the epoch at parse time so a
//! filter's meaning does not drift while it is being evaluated.

use auditlog_model::time::{parse_rfc3339, Timestamp};

/// The accepted forms, for error hints.
pub(crate) const FORMS: &str = "use an RFC 3339 time (2026-11-22T10:00:00Z), a date (2026-11-22, midnight UTC), `now`, or a relative time (-90s, -30m, -1h, -7d, -2w)";

/// The current system time in nanoseconds since the epoch. A clock before
/// 1970 reads as the epoch and one past 2262 as `i64::MAX`: neither is worth
/// failing a query over.
pub(crate) fn system_now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Resolve a time value; the error is a message (the caller adds the column).
pub(crate) fn parse(v: &str, now: i64) -> Result<i64, String> {
    if v.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rel) = v.strip_prefix('-') {
        return relative(rel, now).ok_or_else(|| format!("invalid relative time `{v}`"));
    }
    let b = v.as_bytes();
    // A bare date means its midnight UTC.
    let full;
    let text = if b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        full = format!("{v}T00:00:00Z");
        &full
    } else {
        v
    };
    match parse_rfc3339(text) {
        Ok(t) => i64::try_from(t.unix_nanos)
            .map_err(|_| format!("time `{v}` is out of range (years 1677 to 2262)")),
        // The model's reason only helps when the value was meant as a date.
        Err(e) if b.first().is_some_and(u8::is_ascii_digit) => {
            Err(format!("invalid time `{v}`: {}", reason(&e.0)))
        }
        Err(_) => Err(format!("invalid time `{v}`")),
    }
}

/// The part of a model time error after the quoted input.
fn reason(msg: &str) -> &str {
    msg.rsplit_once(": ").map_or(msg, |(_, r)| r)
}

/// `90s`, `30m`, `1h`, `7d`, `2w` before `now`.
fn relative(rel: &str, now: i64) -> Option<i64> {
    let unit = rel.chars().last()?;
    let digits = rel.get(..rel.len().checked_sub(unit.len_utf8())?)?;
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let scale: i64 = match unit.to_ascii_lowercase() {
        's' => 1_000_000_000,
        'm' => 60 * 1_000_000_000,
        'h' => 3_600 * 1_000_000_000,
        'd' => 86_400 * 1_000_000_000,
        'w' => 7 * 86_400 * 1_000_000_000,
        _ => return None,
    };
    now.checked_sub(n.checked_mul(scale)?)
}

/// RFC 3339 in UTC with the fraction trimmed: `2026-11-22T00:00:00Z`,
/// `2021-10-20T20:00:56.417826232Z`. Parses back to the same instant.
pub(crate) fn format(nanos: i64) -> String {
    let s = Timestamp::from_unix_nanos(i128::from(nanos)).to_rfc3339_nanos();
    let Some(body) = s.strip_suffix('Z') else {
        return s;
    };
    match body.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{whole}Z")
            } else {
                format!("{whole}.{frac}Z")
            }
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000_000_000;

    #[test]
    fn forms() {
        assert_eq!(parse("now", NOW), Ok(NOW));
        assert_eq!(parse("-90s", NOW), Ok(NOW - 90_000_000_000));
        assert_eq!(parse("-30m", NOW), Ok(NOW - 1_800_000_000_000));
        assert_eq!(parse("-1h", NOW), Ok(NOW - 3_600_000_000_000));
        assert_eq!(parse("-7d", NOW), Ok(NOW - 7 * 86_400_000_000_000));
        assert_eq!(parse("-2w", NOW), Ok(NOW - 14 * 86_400_000_000_000));
        assert_eq!(parse("1970-01-02", NOW), Ok(86_400_000_000_000));
        assert_eq!(parse("1970-01-01T00:00:01.5Z", NOW), Ok(1_500_000_000));
        for bad in [
            "-1",
            "-h",
            "-1y",
            "yesterday",
            "2026-13-01",
            "-99999999999999w",
            "-1é",
        ] {
            assert!(parse(bad, NOW).is_err(), "{bad}");
        }
        assert!(parse("2026-13-01", NOW).unwrap_err().contains("month"));
        assert!(parse("3000-01-01", NOW).unwrap_err().contains("range"));
    }

    #[test]
    fn format_round_trips() {
        for n in [
            0,
            1,
            1_500_000_000,
            NOW,
            -1,
            i64::MIN,
            i64::MAX,
            1_634_760_056_417_826_232,
        ] {
            let s = format(n);
            assert_eq!(parse(&s, 0), Ok(n), "{s}");
        }
        assert_eq!(format(86_400_000_000_000), "1970-01-02T00:00:00Z");
        assert_eq!(format(1_500_000_000), "1970-01-01T00:00:01.5Z");
    }
}
