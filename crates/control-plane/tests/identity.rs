//! Identity providers and pools: the lifecycle, organization-admin only,
//! and the seed-shaped request data of their records.

mod common;

use auditlog_control_plane::ACME_ORG;
use common::*;
use serde_json::json;

const IDPS: &str = "/iam/v2/identity-providers";

fn idp(name: &str) -> serde_json::Value {
    json!({"display_name": name, "issuer": "https://login.example.com", "jwks_uri": "https://login.example.com/keys"})
}

#[tokio::test]
async fn providers_and_pools_lifecycle() {
    let h = Harness::demo();
    let r = h.send(ALICE, "POST", IDPS, Some(idp("okta"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("op-"));
    assert_eq!(r.body["api_version"], "iam/v2");
    let rec = h.record(&r);
    assert_eq!(
        rec["data"]["request"]["data"],
        json!({"api_version": "iam/v2", "display_name": "identity-providers", "kind": "CreateIdentityProvider"})
    );
    assert_eq!(
        chain(&rec),
        [
            ("ORGANIZATION".to_owned(), ACME_ORG.to_owned()),
            ("IDENTITY_PROVIDER".to_owned(), id.clone())
        ]
    );
    assert_eq!(
        rec["data"]["resourceName"],
        format!("crn://confluent.cloud/organization={ACME_ORG}/identity-provider={id}")
    );

    assert_eq!(
        h.send(ALICE, "POST", IDPS, Some(idp("okta"))).await.status,
        409
    );
    let r = h
        .send(
            ALICE,
            "POST",
            IDPS,
            Some(json!({"display_name": "x", "issuer": "http://plain", "jwks_uri": "https://k"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(chain_types(&h.record(&r)), "ORGANIZATION");

    let one = format!("{IDPS}/{id}");
    let r = h
        .send(
            ALICE,
            "PATCH",
            &one,
            Some(json!({"description": "workforce"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["description"].clone()),
        (200, json!("workforce"))
    );

    let pools = format!("{one}/identity-pools");
    let body = json!({"display_name": "eng", "identity_claim": "claims.sub", "filter": "claims.group == 'eng'"});
    let r = h.send(ALICE, "POST", &pools, Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pool = r.body["id"].as_str().unwrap().to_owned();
    assert!(pool.starts_with("pool-"));
    let rec = h.record(&r);
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > IDENTITY_PROVIDER > IDENTITY_POOL"
    );
    assert_eq!(
        rec["data"]["request"]["data"]["display_name"],
        "identity-pools"
    );
    assert_eq!(h.send(ALICE, "POST", &pools, Some(body)).await.status, 409);

    let r = h.send(ALICE, "GET", &pools, None).await;
    assert_eq!(r.body["data"][0]["id"], pool.as_str());
    assert_eq!(
        chain_types(&h.record(&r)),
        "ORGANIZATION > IDENTITY_PROVIDER"
    );
    let p_one = format!("{pools}/{pool}");
    let r = h
        .send(ALICE, "PATCH", &p_one, Some(json!({"filter": "true"})))
        .await;
    assert_eq!((r.status, r.body["filter"].clone()), (200, json!("true")));

    // Deleting the provider takes its pools with it.
    assert_eq!(h.send(ALICE, "DELETE", &one, None).await.status, 204);
    let r = h.send(ALICE, "GET", &p_one, None).await;
    assert_eq!(r.status, 404);
    // Ids from the path are named in the record, found or not.
    assert_eq!(
        chain_types(&h.record(&r)),
        "ORGANIZATION > IDENTITY_PROVIDER > IDENTITY_POOL"
    );
    let r = h.send(ALICE, "GET", &one, None).await;
    assert_eq!(r.status, 404);
    let rec = h.record(&r);
    assert_eq!(
        (method(&rec), error_status(&rec)),
        ("GetIdentityProvider", "404")
    );
    assert_eq!(
        h.send(ALICE, "GET", IDPS, None).await.body["data"],
        json!([])
    );
}

#[tokio::test]
async fn only_organization_admins_manage_identity() {
    let h = Harness::demo();
    for who in [CAROL, CI_BOT, DEPLOY_BOT] {
        let r = h.send(who, "GET", IDPS, None).await;
        assert_eq!(r.status, 403, "{who}");
        let rec = h.record(&r);
        assert_eq!(
            (method(&rec), error_status(&rec)),
            ("ListIdentityProvider", "403")
        );
        let r = h.send(who, "POST", IDPS, Some(idp("mine"))).await;
        assert_eq!(r.status, 403, "{who}");
    }
    // Organizations do not see each other's providers.
    let id = h
        .send(ALICE, "POST", IDPS, Some(idp("acme-okta")))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        h.send(BOB, "GET", &format!("{IDPS}/{id}"), None)
            .await
            .status,
        404
    );
    assert_eq!(h.send(BOB, "GET", IDPS, None).await.body["data"], json!([]));
}
