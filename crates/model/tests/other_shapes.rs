//! Record shapes the seeds do not show, from Confluent's published schema:
//! Kafka string principals, ACL / RBAC / IP-filter authorization, credentials.
//! Fixtures in tests/data/records use those shapes with our own values.

use std::path::PathBuf;

use auditlog_model::json;
use auditlog_model::record::{Form, OneOrMany, Principal};
use auditlog_model::Record;

fn load(name: &str) -> (Record, json::Json) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/records")
        .join(name);
    let bytes = std::fs::read(p).unwrap();
    (Record::parse(&bytes).unwrap(), json::parse(&bytes).unwrap())
}

#[test]
fn fixtures_round_trip_and_land_in_typed_members() {
    for name in [
        "kafka-authentication.json",
        "kafka-authorization-acl.json",
        "mds-authorize-rbac.json",
        "ip-filter-deny.json",
    ] {
        let (r, v) = load(name);
        assert_eq!(r.to_json_value(Form::AsParsed), v, "{name}");
        assert!(
            r.member_issues().is_empty(),
            "{name}: {:?}",
            r.member_issues()
        );
    }

    let (r, _) = load("kafka-authentication.json");
    let a = r.audit().unwrap().authentication_info.as_ref().unwrap();
    assert!(matches!(&a.principal, Some(Principal::Text(s)) if s == "User:sa-0k3n5q"));
    assert_eq!(r.principal().id, Some("sa-0k3n5q"));
    assert_eq!(
        a.metadata.as_ref().unwrap().mechanism.as_deref(),
        Some("SASL_SSL/PLAIN")
    );

    let (r, _) = load("kafka-authorization-acl.json");
    let z = r.audit().unwrap().authorization_info.as_ref().unwrap();
    assert_eq!(z.granted, Some(false));
    assert_eq!(
        z.acl_authorization
            .as_ref()
            .unwrap()
            .permission_type
            .as_deref(),
        Some("DENY")
    );
    assert_eq!(r.client_ips().collect::<Vec<_>>(), ["10.0.4.17"]);

    let (r, _) = load("mds-authorize-rbac.json");
    let z = r.audit().unwrap().authorization_info.as_ref().unwrap();
    let rbac = z.rbac_authorization.as_ref().unwrap();
    assert_eq!(
        rbac.scope
            .as_ref()
            .unwrap()
            .outer_scope
            .as_ref()
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(&rbac.acting_principal, Some(Principal::Text(s)) if s == "User:pool-4x5y"));
    assert_eq!(z.assigned_principals.as_ref().unwrap().len(), 2);
    let meta = r.audit().unwrap().request_metadata.as_ref().unwrap();
    assert!(matches!(&meta.request_id, Some(OneOrMany::One(_))));
    assert_eq!(
        r.organization().as_deref(),
        Some("7e1f0c2a-9b8d-4c3e-a1f2-6d5c4b3a2e10")
    );

    let (r, _) = load("ip-filter-deny.json");
    let z = r.audit().unwrap().authorization_info.as_ref().unwrap();
    assert_eq!(
        z.ipfilter_authorization
            .as_ref()
            .unwrap()
            .client_ip
            .as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(r.principal().kind, Some("service_account"));
    let c = r
        .audit()
        .unwrap()
        .authentication_info
        .as_ref()
        .unwrap()
        .credentials
        .as_ref()
        .unwrap();
    assert_eq!(
        c.id_secret_credentials
            .as_ref()
            .unwrap()
            .credential_id
            .as_deref(),
        Some("ZXCVBNM098765432")
    );
}
