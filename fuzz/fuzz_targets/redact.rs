//! Fuzz redaction: no record may panic it, and what it leaves behind has
//! nothing left to redact (a second pass finds no secret).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut v) = auditlog_model::json::parse(data) else {
        return;
    };
    let r = auditlog_redact::Redactor::with_defaults();
    let before = r.find_in_record(&v);
    let changed = r.redact_record(&mut v);
    assert_eq!(before, changed, "find and redact disagree");
    assert!(r.find_in_record(&v).is_empty(), "secrets left after redaction");
    let _ = auditlog_model::json::to_canonical(&v);
});
