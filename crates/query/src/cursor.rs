//! Stable pagination cursors. The log is append-only and immutable, so a
//! page is fixed by the snapshot end it was read at and the last offset it
//! returned: later pages read the same snapshot, whatever ingest does.

use crate::QueryError;

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Snapshot end of the first page: records at or past it are not part of this listing.
    pub end: u64,
    /// Offset of the last record returned.
    pub last: u64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c1-{:x}-{:x}", self.end, self.last)
    }
}

impl std::str::FromStr for Cursor {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Cursor, QueryError> {
        let bad = || QueryError::Cursor(s.chars().take(64).collect());
        let mut it = s.strip_prefix("c1-").ok_or_else(bad)?.split('-');
        let end = u64::from_str_radix(it.next().ok_or_else(bad)?, 16).map_err(|_| bad())?;
        let last = u64::from_str_radix(it.next().ok_or_else(bad)?, 16).map_err(|_| bad())?;
        if it.next().is_some() || last >= end {
            return Err(bad());
        }
        Ok(Cursor { end, last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects_garbage() {
        let c = Cursor {
            end: 1000,
            last: 17,
        };
        assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        for bad in [
            "",
            "c1-",
            "c1-10",
            "c1-10-20",
            "x1-20-10",
            "c1-20-10-1",
            "c1-zz-1",
        ] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }
}
