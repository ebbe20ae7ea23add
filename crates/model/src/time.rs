//! RFC 3339 timestamps: strict parsing with a reason when it fails.

use std::fmt;

/// An instant with nanosecond precision, and the offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    pub unix_nanos: i128,
    /// The UTC offset written, in minutes (0 for `Z`).
    pub offset_minutes: i16,
}

impl Timestamp {
    /// Milliseconds since the epoch, rounded down.
    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.unix_nanos.div_euclid(1_000_000)).unwrap_or(i64::MAX)
    }

    /// Build from nanoseconds since the epoch, UTC.
    pub fn from_unix_nanos(unix_nanos: i128) -> Timestamp {
        Timestamp {
            unix_nanos,
            offset_minutes: 0,
        }
    }

    /// Format as RFC 3339 in UTC with nanoseconds, e.g. `2021-10-20T20:00:56.417826232Z`.
    pub fn to_rfc3339_nanos(&self) -> String {
        let secs = self.unix_nanos.div_euclid(1_000_000_000);
        let nanos = self.unix_nanos.rem_euclid(1_000_000_000);
        let days = i64::try_from(secs.div_euclid(86_400)).unwrap_or(0);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

/// Why a string is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

/// Parse `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`. `t`/`z` may be lowercase.
/// Fractions beyond nanoseconds are accepted and truncated.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
    let b = s.as_bytes();
    let bad = |why: &str| TimeError(format!("{s:?} is not an RFC 3339 date-time: {why}"));
    let digits = |from: usize, n: usize| -> Option<i64> {
        let part = b.get(from..from + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0i64, |acc, &c| Some(acc * 10 + i64::from(c - b'0')))
    };
    let year = digits(0, 4).ok_or_else(|| bad("expected a 4-digit year"))?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(bad("expected YYYY-MM-DD"));
    }
    let month = digits(5, 2).ok_or_else(|| bad("expected a 2-digit month"))?;
    let day = digits(8, 2).ok_or_else(|| bad("expected a 2-digit day"))?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return Err(bad("expected 'T' between date and time"));
    }
    let hour = digits(11, 2).ok_or_else(|| bad("expected a 2-digit hour"))?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return Err(bad("expected HH:MM:SS"));
    }
    let minute = digits(14, 2).ok_or_else(|| bad("expected 2-digit minutes"))?;
    let second = digits(17, 2).ok_or_else(|| bad("expected 2-digit seconds"))?;
    if !(1..=12).contains(&month) {
        return Err(bad("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(bad("day out of range for the month"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad("time of day out of range"));
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + i64::from(b.get(i).copied().unwrap_or(b'0') - b'0');
            }
            i += 1;
        }
        if i == start {
            return Err(bad("expected digits after '.'"));
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(i + 1, 2).ok_or_else(|| bad("expected offset ±HH:MM"))?;
            if b.get(i + 3) != Some(&b':') {
                return Err(bad("expected offset ±HH:MM"));
            }
            let om = digits(i + 4, 2).ok_or_else(|| bad("expected offset ±HH:MM"))?;
            if oh > 23 || om > 59 {
                return Err(bad("offset out of range"));
            }
            i += 6;
            let m = oh * 60 + om;
            if sign == b'-' {
                -m
            } else {
                m
            }
        }
        None => return Err(bad("missing time zone ('Z' or ±HH:MM)")),
        Some(_) => return Err(bad("unexpected character before the time zone")),
    };
    if i != b.len() {
        return Err(bad("unexpected characters after the time zone"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(Timestamp {
        unix_nanos: i128::from(secs) * 1_000_000_000 + i128::from(nanos),
        offset_minutes: i16::try_from(offset_minutes).unwrap_or(0),
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_times() {
        let t = parse_rfc3339("2021-10-20T20:00:56.417826232Z").unwrap();
        assert_eq!(t.to_rfc3339_nanos(), "2021-10-20T20:00:56.417826232Z");
        assert_eq!(
            parse_rfc3339("2022-09-27T04:51:11.159Z")
                .unwrap()
                .unix_millis(),
            1_664_254_271_159
        );
        assert_eq!(
            parse_rfc3339("1970-01-01T01:00:00+01:00")
                .unwrap()
                .unix_nanos,
            0
        );
        assert_eq!(
            parse_rfc3339("2024-02-29t00:00:00z")
                .unwrap()
                .offset_minutes,
            0
        );
    }

    #[test]
    fn rejects_non_rfc3339() {
        for s in [
            "2021-10-20 20:00:56Z",
            "2021-10-20T20:00:56",
            "2021-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2021-10-20T24:00:00Z",
            "2021-10-20T20:00:56.Z",
            "20211020T200056Z",
            "2021-10-20T20:00:56Zjunk",
            "+999999999-12-31T23:59:59.999999999-18:00",
            "",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 11_016, 19_000, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
