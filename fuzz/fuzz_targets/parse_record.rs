//! Fuzz the record parser and the validator: no input may panic, and any
//! input that parses must round-trip to the same canonical bytes.
#![no_main]

use auditlog_model::json::to_canonical;
use auditlog_model::record::{parse_record, Form};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = parse_record(data) {
        let _ = auditlog_validate::validate(&p.record);
        let back = to_canonical(&p.record.to_json_value(Form::AsParsed));
        assert_eq!(back, p.canonical);
        for form in [Form::Camel, Form::Snake] {
            let _ = to_canonical(&p.record.to_json_value(form));
        }
    }
});
