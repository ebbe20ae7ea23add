//! Generated records are valid (no validator findings at all), cover every
//! catalog method in both outcomes and both wire forms, and vary.

use std::collections::{BTreeMap, BTreeSet};

use auditlog_gen::{Config, Generator};
use auditlog_model::record::WireForm;
use auditlog_model::Record;

#[test]
fn records_are_clean_and_cover_the_catalog() {
    let catalog = auditlog_catalog::Catalog::builtin();
    let mut methods: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut snake, mut orgs, mut principals, mut bytes) =
        (0, BTreeSet::new(), BTreeSet::new(), 0usize);
    let mut last_time = None;
    let n = 5_000;
    for (i, b) in Generator::new(Config::default()).take(n).enumerate() {
        bytes += b.len();
        let r = Record::parse(&b).unwrap();
        let d = auditlog_validate::validate(&r);
        assert!(
            d.is_empty(),
            "record {i} has findings: {d:#?}\n{}",
            String::from_utf8_lossy(&b)
        );
        let e = methods
            .entry(r.method_name().unwrap().to_owned())
            .or_default();
        if r.status() == Some("SUCCESS") {
            e.0 += 1
        } else {
            e.1 += 1
        }
        if r.wire_form() == WireForm::Snake {
            snake += 1;
        }
        orgs.insert(r.organization().unwrap());
        principals.insert(r.principal().id.unwrap().to_owned());
        let t = r.timestamp().unwrap();
        if let Some(prev) = last_time {
            assert!(t > prev, "time moves forward");
        }
        last_time = Some(t);
    }
    assert_eq!(
        methods.len(),
        catalog.methods().len(),
        "every catalog method appears"
    );
    assert!(methods.values().all(|(ok, _)| *ok > 0));
    assert!(methods.values().filter(|(_, fail)| *fail > 0).count() > 25);
    assert!((300..800).contains(&snake), "about 10% snake_case: {snake}");
    assert_eq!(orgs.len(), 5);
    assert!(principals.len() > 50);
    let avg = bytes / n;
    assert!(
        (900..2200).contains(&avg),
        "average record size {avg} bytes"
    );
}
