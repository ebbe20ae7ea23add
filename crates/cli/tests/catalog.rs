//! `auditlog catalog --output json` lists the 34 methods of the seed method
//! tables, with resource type and access type, and resolves aliases.

mod common;
use common::{run, stdout};

#[path = "../../catalog/tests/support/seed_tables.rs"]
mod seed_tables;

#[test]
fn json_lists_every_seed_method_table_row() {
    let o = run(&["catalog", "--output", "json"], b"");
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let methods = v.as_array().unwrap();
    assert_eq!(methods.len(), 34);

    let mut table_rows = std::collections::BTreeMap::new();
    for page in ["000_", "001_", "002_", "003_"] {
        for (name, desc, rt) in seed_tables::method_rows(&seed_tables::spec(page)) {
            table_rows.insert(name, (desc, rt));
        }
    }
    assert_eq!(table_rows.len(), 34);
    for m in methods {
        let name = m["name"].as_str().unwrap();
        let (desc, rt) = table_rows
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in any seed method table"));
        assert_eq!(m["resource_type"].as_str().unwrap(), rt, "{name}");
        assert_eq!(m["description"].as_str().unwrap(), desc, "{name}");
        let access = m["access_type"].as_str().unwrap();
        let expect = if name.starts_with("Get") || name.starts_with("List") {
            "READ_ONLY"
        } else {
            "MODIFICATION"
        };
        assert_eq!(access, expect, "{name}");
    }
    let lw = methods
        .iter()
        .find(|m| m["name"] == "ListWorkspaces")
        .unwrap();
    assert_eq!(lw["aliases"], serde_json::json!(["ListWorkspace"]));
}

#[test]
fn aliases_resolve_and_filters_apply() {
    let o = run(
        &["catalog", "--method", "ListWorkspace", "--output", "json"],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["name"], "ListWorkspaces");

    let o = run(
        &["catalog", "--resource-type", "CONNECTOR", "--output", "csv"],
        b"",
    );
    let out = stdout(&o);
    assert!(out.starts_with("METHOD,RESOURCE TYPE,ACCESS,EVENT TYPE,ALIASES,DESCRIPTION\n"));
    assert_eq!(out.lines().count(), 8);
    assert!(out.contains(
        "\"A request to update an existing connector with the provided configuration and, if"
    ));

    let o = run(&["catalog", "event-types"], b"");
    assert_eq!(stdout(&o).lines().count(), 14);
    let o = run(&["catalog", "categories", "--output", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 47);

    let o = run(&["catalog", "--method", "CreateConector"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("did you mean \"CreateConnector\""));
}
