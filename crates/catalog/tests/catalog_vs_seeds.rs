//! The catalog must match the reference pages. These tests re-read the frozen
//! pages in tests/data/spec and compare them with the compiled-in catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use auditlog_catalog::{AccessType, Catalog};

#[path = "support/seed_tables.rs"]
mod seed_tables;
use seed_tables::{method_rows, spec};

#[test]
fn methods_match_the_method_tables_of_seeds_000_to_003() {
    let catalog = Catalog::builtin();
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for page in ["000_", "001_", "002_", "003_"] {
        let rows = method_rows(&spec(page));
        assert!(!rows.is_empty(), "no method table found in {page}");
        for (name, desc, rt) in rows {
            if let Some((d, r)) = seen.get(&name) {
                assert_eq!(
                    (d, r),
                    (&desc, &rt),
                    "{name} described differently across pages"
                );
            }
            seen.insert(name, (desc, rt));
        }
    }
    assert_eq!(
        seen.len(),
        34,
        "the seed pages name 34 distinct methods: {:?}",
        seen.keys()
    );

    let ours: BTreeSet<&str> = catalog.methods().iter().map(|m| m.name.as_str()).collect();
    let theirs: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(ours, theirs);
    for (name, (desc, rt)) in &seen {
        let m = catalog.method(name).unwrap().method;
        assert_eq!(&m.description, desc, "{name}");
        assert_eq!(&m.resource_type, rt, "{name}");
    }
}

#[test]
fn access_types_agree_with_every_seed_record() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples");
    let catalog = Catalog::builtin();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let r =
            auditlog_model::Record::parse(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let m = catalog.method(r.method_name().unwrap()).unwrap().method;
        assert_eq!(Some(m.access_type.as_str()), r.access_type(), "{}", m.name);
        checked += 1;
    }
    assert_eq!(checked, 58);
    assert_eq!(
        catalog.method("GetConnector").unwrap().method.access_type,
        AccessType::ReadOnly
    );
}

/// Rows of the 004 tables: (name, event type, resource types, description).
fn category_rows(page: &str) -> Vec<(String, String, Vec<String>, String)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in page.lines() {
        if line.starts_with("Event category Event type")
            || line.starts_with("Event subcategory Event type")
        {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        let Some(at) = line.find(" io.confluent.") else {
            in_table = false;
            continue;
        };
        let name = line[..at].to_string();
        let mut words = line[at + 1..].split(' ');
        let event_type = words.next().unwrap().to_string();
        let mut types = Vec::new();
        for w in words.by_ref() {
            let more = w.ends_with(',');
            types.push(w.trim_end_matches(',').to_string());
            if !more {
                break;
            }
        }
        if types == ["n/a"] {
            types.clear();
        }
        rows.push((name, event_type, types, words.collect::<Vec<_>>().join(" ")));
    }
    rows
}

#[test]
fn categories_match_every_table_of_seed_004() {
    let rows = category_rows(&spec("004_"));
    assert_eq!(rows.len(), 47);
    let catalog = Catalog::builtin();
    let ours: Vec<_> = catalog
        .categories()
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.event_type.clone(),
                c.resource_types.clone(),
                c.description.clone(),
            )
        })
        .collect();
    assert_eq!(ours, rows);
    let groups: BTreeSet<&str> = catalog
        .categories()
        .iter()
        .map(|c| c.group.as_str())
        .collect();
    assert_eq!(groups.len(), 11, "{groups:?}");
    // Every resource type a table names is a catalog resource type.
    for c in catalog.categories() {
        for r in &c.resource_types {
            assert!(
                catalog.resource_type(r).is_some(),
                "{r} in category {}",
                c.name
            );
        }
    }
}

#[test]
fn event_types_match_seed_004() {
    let page = spec("004_");
    let catalog = Catalog::builtin();
    let table: Vec<&str> = page
        .lines()
        .skip_while(|l| !l.starts_with("Event type Service Description"))
        .skip(1)
        .take_while(|l| l.starts_with("io.confluent."))
        .collect();
    assert_eq!(table.len(), 13);
    for (line, e) in table.iter().zip(catalog.event_types()) {
        assert_eq!(*line, format!("{} {} {}", e.name, e.service, e.description));
    }
}
