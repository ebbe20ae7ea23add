//! The route table: it covers the catalog's 34 methods once each, every row
//! routes, and a call on every row is audited as that row's method.

mod common;

use std::collections::BTreeSet;

use auditlog_catalog::Catalog;
use auditlog_control_plane::{method_for, routes, ACME_ORG};
use common::*;

/// A concrete path for a template, with ids of the right shape.
fn concrete(template: &str) -> String {
    let id = if template.contains("identity-pools/{id}") {
        "pool-Zz99"
    } else if template.contains("identity-providers/{id}") {
        "op-Zz99"
    } else {
        "lfcp-zz9999"
    };
    template
        .replace("{env}", PROD)
        .replace("{cluster}", PROD_CLUSTER)
        .replace("{region}", "aws.us-west-2")
        .replace("{name}", "nothing-here")
        .replace("{idp}", "op-Zz99")
        .replace("{id}", id)
}

#[test]
fn the_table_is_the_catalog() {
    let table: Vec<&str> = routes().iter().map(|(_, _, m)| *m).collect();
    let unique: BTreeSet<&str> = table.iter().copied().collect();
    assert_eq!(unique.len(), table.len(), "a method is routed twice");
    let catalog: BTreeSet<&str> = Catalog::builtin()
        .methods()
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(catalog.len(), 34);
    assert_eq!(unique, catalog);
    let pairs: BTreeSet<(&str, &str)> = routes().iter().map(|(h, t, _)| (*h, *t)).collect();
    assert_eq!(
        pairs.len(),
        routes().len(),
        "an (HTTP method, template) pair appears twice"
    );
}

#[test]
fn method_for_reads_the_table() {
    for (http, template, audit) in routes() {
        assert_eq!(
            method_for(http, &concrete(template)),
            Some(*audit),
            "{http} {template}"
        );
    }
    assert_eq!(
        method_for(
            "GET",
            "/connect/v1/environments/e/clusters/c/connectors?x=1"
        ),
        Some("GetConnectors")
    );
    assert_eq!(
        method_for("POST", "/connect/v1/environments/e/clusters/c/connectors/x"),
        None
    );
    assert_eq!(method_for("GET", "/nowhere"), None);
}

#[tokio::test]
async fn every_route_is_audited_as_its_method() {
    let h = Harness::demo();
    for (http, template, audit) in routes() {
        let path = concrete(template);
        let body = matches!(*http, "POST" | "PUT" | "PATCH").then_some("{}");
        let r = h.raw(Some(ALICE), http, &path, body).await;
        assert_ne!(r.status, 405, "{http} {path} is not routed");
        let rec = h.record(&r);
        assert_eq!(method(&rec), *audit, "{http} {path}");
        assert_eq!(
            chain(&rec)[0],
            ("ORGANIZATION".to_owned(), ACME_ORG.to_owned()),
            "{http} {path}"
        );
        let access = rec["data"]["request"]["accessType"].as_str().unwrap();
        let expected = if *http == "GET" {
            "READ_ONLY"
        } else {
            "MODIFICATION"
        };
        assert_eq!(access, expected, "{http} {path}");
        let ok = (200..300).contains(&r.status);
        assert_eq!(
            status(&rec),
            if ok { "SUCCESS" } else { "FAILURE" },
            "{http} {path}"
        );
    }
    assert_eq!(h.sink.events().len(), routes().len());
}

#[tokio::test]
async fn unrouted_paths_are_404_and_unaudited() {
    let h = Harness::demo();
    let r = h.raw(Some(ALICE), "GET", "/connect/v1/nothing", None).await;
    assert_eq!(r.status, 404);
    assert!(r.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("no route"));
    let r = h
        .raw(
            Some(ALICE),
            "POST",
            &concrete("/iam/v2/identity-providers/{id}"),
            Some("{}"),
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(h.sink.events().is_empty());
}
