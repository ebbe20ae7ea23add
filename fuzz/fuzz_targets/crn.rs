//! Fuzz the CRN parser: no input may panic, and a parsed CRN must format to a
//! string that parses back to the same CRN.
#![no_main]

use auditlog_model::Crn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = Crn::parse(s) {
            let back = Crn::parse(&c.to_string()).expect("formatted CRN must parse");
            assert_eq!(back, c);
            let _ = (c.organization(), c.environment(), c.parent());
        }
    }
});
