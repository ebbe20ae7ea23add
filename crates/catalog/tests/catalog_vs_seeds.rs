//! The catalog must match the reference pages. These tests re-read the frozen
//! pages in tests/data/spec and compare them with the compiled-in catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use auditlog_catalog::{AccessType, Catalog};

fn spec(prefix: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/spec");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no spec page {prefix}"));
    std::fs::read_to_string(entry).unwrap()
}

fn is_method_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The resource type a method table belongs to: the nearest preceding line
/// that says "resource type X" / "resource type: X", or a heading "Title (X)".
fn table_resource_type(lines: &[&str], header: usize) -> String {
    for line in lines[..header].iter().rev() {
        let l = line.trim();
        if let Some(i) = l.find("resource type") {
            let rest = l[i + "resource type".len()..]
                .trim_start_matches(':')
                .trim();
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if !word.is_empty() {
                return word;
            }
        }
        if l.ends_with(')') && !l.ends_with(").") {
            if let Some(open) = l.rfind('(') {
                let inner = &l[open + 1..l.len() - 1];
                if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    return inner.to_string();
                }
            }
        }
    }
    panic!("no resource type before line {header}");
}

/// (method, description, resource type) for every row of every method table.
/// Handles the three table layouts the pages use: `Name desc`, `Name | desc |`,
/// and name and description on separate lines.
fn method_rows(page: &str) -> Vec<(String, String, String)> {
    let lines: Vec<&str> = page.lines().collect();
    let mut rows = Vec::new();
    for (h, line) in lines.iter().enumerate() {
        if !line.starts_with("Method name") {
            continue;
        }
        let rt = table_resource_type(&lines, h);
        let body: Vec<&str> = lines[h + 1..]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with("---") && !l.starts_with("Action triggering"))
            .collect();
        let mut i = 0;
        // Skip blank lines before the first row.
        while body.get(i).is_some_and(|l| l.is_empty()) {
            i += 1;
        }
        while let Some(l) = body.get(i) {
            if l.is_empty() {
                i += 1;
                continue;
            }
            let first = l.split([' ', '|']).next().unwrap();
            if !is_method_name(first) {
                break;
            }
            let rest = l[first.len()..].trim().trim_matches('|').trim().to_string();
            if rest.is_empty() {
                // Name alone on its line: the description is the next non-blank line.
                let mut j = i + 1;
                while body.get(j).is_some_and(|l| l.is_empty()) {
                    j += 1;
                }
                let desc = body.get(j).copied().unwrap_or_default();
                if !desc.starts_with("A request") {
                    break;
                }
                rows.push((first.to_string(), desc.to_string(), rt.clone()));
                i = j + 1;
            } else {
                if !rest.starts_with("A request") {
                    break;
                }
                rows.push((first.to_string(), rest, rt.clone()));
                i += 1;
            }
        }
    }
    rows
}

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
