//! Fuzz the filter parser: no input may panic, and a parsed filter's
//! canonical text must parse back to the same expression (and print the same).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A fixed "now" so relative times resolve identically on both parses.
const NOW: i64 = 1_795_348_800_000_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(f) = auditlog_filter::parse_at(s, NOW) {
            let text = f.to_string();
            let back = auditlog_filter::parse_at(&text, NOW)
                .unwrap_or_else(|e| panic!("canonical text {text:?} of {s:?} must parse: {e}"));
            assert_eq!(back.expr, f.expr, "{s:?} -> {text:?}");
            assert_eq!(back.to_string(), text);
            let _ = (f.explain(), f.is_trivially_true());
        }
    }
});
