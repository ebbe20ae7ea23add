//! Every catalog method has a typed entry point, and what it builds passes
//! the validator with no findings, on the resource and on its parent, for
//! success and failure, for users and service accounts.

use auditlog_catalog::Catalog;
use auditlog_model::json::{parse, to_canonical};
use auditlog_model::Record;
use auditlog_sdk::methods::{self, CreateConnector, ListFlinkRegions, PatchStatement};
use auditlog_sdk::{BuildError, EventBuilder, Principal};

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

fn id_for(ty: &str) -> String {
    let rt = Catalog::builtin().resource_type(ty).unwrap();
    match (ty, rt.id_prefix.as_deref()) {
        ("ORGANIZATION", _) => ORG.to_owned(),
        ("FLINK_REGION", _) => "aws.us-west-2".to_owned(),
        (_, Some(p)) => format!("{p}abc123"),
        (_, None) => "thing-1".to_owned(),
    }
}

fn findings(e: &auditlog_sdk::Event) -> Vec<String> {
    let bytes = e.to_canonical();
    let record = Record::from_json_value(parse(&bytes).unwrap()).unwrap();
    auditlog_validate::validate(&record)
        .into_iter()
        .map(|d| format!("{} {:?}: {}", d.path, d.code, d.message))
        .collect()
}

#[test]
fn every_method_builds_records_the_validator_accepts() {
    let catalog = Catalog::builtin();
    assert_eq!(methods::ALL.len(), catalog.methods().len());
    let mut bad = Vec::new();
    for m in catalog.methods() {
        assert!(
            methods::ALL.contains(&m.name.as_str()),
            "{} has no typed entry point",
            m.name
        );
        let rt = catalog.resource_type(&m.resource_type).unwrap();
        let chain: Vec<(String, String)> = rt
            .scope
            .iter()
            .chain(std::iter::once(&rt.name))
            .map(|t| (t.clone(), id_for(t)))
            .collect();
        for upto in [chain.len(), chain.len() - 1] {
            if upto == 0 {
                continue;
            }
            for (failure, principal) in [
                (
                    false,
                    Principal::user("u-4rxom7", ORG).with_email("someone@example.com"),
                ),
                (true, Principal::service_account("sa-12ab", ORG)),
            ] {
                let mut b = EventBuilder::for_method(&m.name)
                    .unwrap()
                    .chain(chain[..upto].iter().cloned())
                    .unwrap()
                    .principal(principal)
                    .client_ip("1.2.3.4")
                    .request_data(parse(br#"{"name":"x"}"#).unwrap());
                b = if failure {
                    b.failure(404, "resource not found")
                } else {
                    b.success(Some(parse(br#"{"id":"x"}"#).unwrap()))
                };
                let e = b.build().unwrap();
                let f = findings(&e);
                if !f.is_empty() {
                    bad.push(format!(
                        "{} (chain {upto}, failure {failure}): {f:?}",
                        m.name
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn typed_entry_points_fill_envelope_scope_and_crns() {
    let e = CreateConnector::on(ORG, "env-abc123", "lkc-12j2w5", "lcc-pkdrjy")
        .principal(Principal::user("u-4rxom7", ORG))
        .request_id("585f36dd2933d0dda8273451476d2fd7")
        .build()
        .unwrap();
    let crn = format!("crn://confluent.cloud/organization={ORG}/environment=env-abc123/cloud-cluster=lkc-12j2w5/connector=lcc-pkdrjy");
    let r = &e.record;
    assert_eq!(r.get("subject").unwrap().as_str(), Some(crn.as_str()));
    let data = r.get("data").unwrap();
    assert_eq!(
        data.get("resourceName").unwrap().as_str(),
        Some(crn.as_str())
    );
    assert_eq!(
        data.get("methodName").unwrap().as_str(),
        Some("CreateConnector")
    );
    let cr = &data.get("cloudResources").unwrap().as_array().unwrap()[0];
    assert_eq!(
        cr.get("resource").unwrap().get("type").unwrap().as_str(),
        Some("CONNECTOR")
    );
    assert_eq!(
        cr.get("scope")
            .unwrap()
            .get("resources")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        data.get("request")
            .unwrap()
            .get("accessType")
            .unwrap()
            .as_str(),
        Some("MODIFICATION")
    );
    // RFC 3339 with nanoseconds, UTC.
    let t = r.get("time").unwrap().as_str().unwrap();
    assert_eq!(t.len(), "2021-10-20T20:00:56.417826232Z".len(), "{t}");
    assert_eq!(e.organization, ORG);
    assert!(String::from_utf8(to_canonical(r))
        .unwrap()
        .contains("585f36dd2933d0dda8273451476d2fd7"));

    // On the parent: the cluster is the resource, as the seeds show for failures.
    let p = PatchStatement::on_parent(ORG, "env-1", "aws.us-east-2")
        .principal(Principal::user("u-1", ORG))
        .build()
        .unwrap();
    let cr = &p
        .record
        .get("data")
        .unwrap()
        .get("cloudResources")
        .unwrap()
        .as_array()
        .unwrap()[0];
    assert_eq!(
        cr.get("resource").unwrap().get("type").unwrap().as_str(),
        Some("FLINK_REGION")
    );
    let _ = ListFlinkRegions::on(ORG, "env-1", "aws.us-east-2");
}

#[test]
fn ids_and_times_are_unique_and_increasing() {
    let mut ids = std::collections::HashSet::new();
    let mut last = String::new();
    for _ in 0..1000 {
        let e = CreateConnector::on(ORG, "env-1", "lkc-1", "lcc-1")
            .principal(Principal::user("u-1", ORG))
            .build()
            .unwrap();
        assert!(ids.insert(e.id.clone()));
        let t = e.record.get("time").unwrap().as_str().unwrap().to_owned();
        assert!(t > last, "{t} after {last}");
        last = t;
    }
}

#[test]
fn builder_errors_say_what_to_fix() {
    let no_principal = CreateConnector::on(ORG, "env-1", "lkc-1", "lcc-1")
        .build()
        .unwrap_err();
    assert!(
        matches!(no_principal, BuildError::NoPrincipal(_)),
        "{no_principal}"
    );
    let wrong = EventBuilder::for_method("CreateConnector")
        .unwrap()
        .chain([("ORGANIZATION", ORG), ("CLOUD_CLUSTER", "lkc-1")])
        .unwrap()
        .principal(Principal::user("u-1", ORG))
        .build()
        .unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("does not follow ORGANIZATION › ENVIRONMENT"),
        "{wrong}"
    );
    let bad_id = CreateConnector::on(ORG, "prod", "lkc-1", "lcc-1")
        .principal(Principal::user("u-1", ORG))
        .build()
        .unwrap_err();
    assert!(
        bad_id
            .to_string()
            .contains("ENVIRONMENT id \"prod\" is not well formed (expected env-…)"),
        "{bad_id}"
    );
    assert!(matches!(
        EventBuilder::for_method("CreateWidget"),
        Err(BuildError::UnknownMethod(_))
    ));
}
