//! Flink calls: regions, the compute pool lifecycle and its limits,
//! workspaces and statements on a pool, and the shapes of their records.

mod common;

use auditlog_control_plane::ACME_ORG;
use common::*;
use serde_json::{json, Value};

const POOLS: &str = "/fcpm/v2/environments/env-acm3p1/compute-pools";
const WS: &str = "/ws/v1/environments/env-acm3p1/regions/aws.us-west-2/workspaces";
const ST: &str = "/sql/v1/environments/env-acm3p1/regions/aws.us-west-2/statements";

fn pool_spec(name: &str, cfu: u32) -> Value {
    json!({"spec": {"display_name": name, "cloud": "AWS", "region": "us-west-2", "max_cfu": cfu}})
}

#[tokio::test]
async fn regions_are_listed_per_environment() {
    let h = Harness::demo();
    let r = h
        .send(
            ALICE,
            "GET",
            "/fcpm/v2/environments/env-acm3p1/regions?cloud=gcp",
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let ids: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gcp.us-central1", "gcp.europe-west1"]);
    let rec = h.record(&r);
    assert_eq!(method(&rec), "ListFlinkRegions");
    assert_eq!(chain_types(&rec), "ORGANIZATION > ENVIRONMENT");
    assert_eq!(rec["data"]["request"]["data"]["Cloud"], 2);
    assert_eq!(
        rec["data"]["result"]["data"]["elements"][0],
        json!({"fcpm_v_2_region": {"id": "gcp.us-central1", "metadata": null}})
    );
    let r = h
        .send(
            ALICE,
            "GET",
            "/fcpm/v2/environments/env-acm3p1/regions?cloud=ibm",
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .send(
            CAROL,
            "GET",
            "/fcpm/v2/environments/env-acm3p1/regions",
            None,
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn compute_pool_lifecycle_and_limits() {
    let h = Harness::demo();
    let r = h
        .send(ALICE, "POST", POOLS, Some(pool_spec("analytics", 10)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("lfcp-"));
    assert_eq!(r.body["status"]["phase"], "PROVISIONING");
    let rec = h.record(&r);
    assert_eq!(method(&rec), "CreateComputePool");
    assert_eq!(
        chain(&rec)[2..],
        [
            ("FLINK_REGION".to_owned(), "aws.us-west-2".to_owned()),
            ("COMPUTE_POOL".to_owned(), id.clone())
        ]
    );
    let req = &rec["data"]["request"]["data"]["spec"];
    assert_eq!(
        (
            req["max_cfu"].clone(),
            req["cloud"].clone(),
            req["region"].clone()
        ),
        (json!(10), json!(1), json!("us-west-2"))
    );
    let res = &rec["data"]["result"]["data"];
    assert_eq!(res["id"], id.as_str());
    assert_eq!(res["spec"]["flink_region"], "aws.us-west-2");
    assert_eq!(res["status"]["phase"], "PROVISIONING");
    assert_eq!(
        res["metadata"]["resource_name"],
        format!("crn://confluent.cloud/organization={ACME_ORG}/environment=env-acm3p1/flink-region=aws.us-west-2/compute-pool={id}")
    );
    assert!(res["metadata"]["deleted_at"].is_null());

    let one = format!("{POOLS}/{id}");
    let r = h.send(ALICE, "GET", &one, None).await;
    assert_eq!(r.body["status"]["phase"], "PROVISIONED");
    assert_eq!(
        h.record(&r)["data"]["request"]["data"]["FlinkRegion"],
        "aws.us-west-2"
    );

    assert_eq!(
        h.send(ALICE, "POST", POOLS, Some(pool_spec("analytics", 5)))
            .await
            .status,
        409
    );
    let r = h
        .send(ALICE, "POST", POOLS, Some(pool_spec("huge", 51)))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(chain_types(&h.record(&r)), "ORGANIZATION > ENVIRONMENT");
    let mut nowhere = pool_spec("nowhere", 5);
    nowhere["spec"]["region"] = json!("mars-1");
    assert_eq!(
        h.send(ALICE, "POST", POOLS, Some(nowhere)).await.status,
        400
    );

    let r = h
        .send(ALICE, "PATCH", &one, Some(json!({"spec": {"max_cfu": 20}})))
        .await;
    assert_eq!(
        (r.status, r.body["spec"]["max_cfu"].clone()),
        (200, json!(20))
    );
    let r = h
        .send(ALICE, "PATCH", &one, Some(json!({"spec": {"max_cfu": 5}})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["errors"][0]["detail"],
        "Reducing the max_cfu of a compute pool is currently unsupported."
    );
    assert_eq!(
        h.send(ALICE, "PATCH", &one, Some(json!({"spec": {"max_cfu": 60}})))
            .await
            .status,
        400
    );

    let r = h.send(ALICE, "GET", POOLS, None).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let rec = h.record(&r);
    assert_eq!(chain_types(&rec), "ORGANIZATION > ENVIRONMENT");
    assert_eq!(
        rec["data"]["result"]["data"]["elements"][0]["status"]["phase"],
        "PROVISIONED"
    );

    let r = h.send(ALICE, "DELETE", &one, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        h.record(&r)["data"]["request"]["data"],
        json!({"environment_id": "env-acm3p1", "id": id})
    );
    let r = h.send(ALICE, "GET", &one, None).await;
    assert_eq!(r.status, 404);
    // An unknown pool's region is unknown: the chain ends at the environment.
    assert_eq!(chain_types(&h.record(&r)), "ORGANIZATION > ENVIRONMENT");
    let r = h.send(ALICE, "GET", POOLS, None).await;
    assert!(h.record(&r)["data"]["result"]["data"]["elements"].is_null());
}

#[tokio::test]
async fn workspaces_and_statements_run_on_pools() {
    let h = Harness::demo();
    let pool = h
        .send(CI_BOT, "POST", POOLS, Some(pool_spec("sql", 10)))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = h
        .send(
            CI_BOT,
            "POST",
            WS,
            Some(json!({"name": "ws-1", "spec": {"compute_pool": {"id": pool}}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rec = h.record(&r);
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > ENVIRONMENT > FLINK_REGION > FLINK_WORKSPACE"
    );
    assert_eq!(
        rec["data"]["result"]["data"],
        json!({"environment_id": "env-acm3p1", "name": "ws-1", "org_id": ACME_ORG, "spec": {"compute_pool": {"id": pool}, "service_account": null}})
    );
    assert_eq!(rec["data"]["request"]["data"]["workspace_name"], "ws-1");
    // The pool is in aws.us-west-2, not in aws.us-east-1.
    let east = "/ws/v1/environments/env-acm3p1/regions/aws.us-east-1/workspaces";
    let r = h
        .send(
            CI_BOT,
            "POST",
            east,
            Some(json!({"name": "ws-2", "spec": {"compute_pool": {"id": pool}}})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .send(
            CI_BOT,
            "GET",
            "/ws/v1/environments/env-acm3p1/regions/aws.mars-1/workspaces",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = h.send(CI_BOT, "GET", WS, None).await;
    assert_eq!(
        h.record(&r)["data"]["result"]["data"]["data"][0]["name"],
        "ws-1"
    );
    let r = h
        .send(
            CI_BOT,
            "PUT",
            &format!("{WS}/ws-1"),
            Some(json!({"spec": {"service_account": {"id": "sa-c1b0t5"}}})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["spec"]["compute_pool"].clone()),
        (200, Value::Null)
    );

    let body = json!({"name": "orders-over-100", "spec": {"statement": "SELECT * FROM orders WHERE amount > 100", "compute_pool_id": pool}});
    let r = h.send(CI_BOT, "POST", ST, Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"]["phase"], "PENDING");
    let rec = h.record(&r);
    assert_eq!(
        chain(&rec).last().unwrap(),
        &("STATEMENT".to_owned(), "orders-over-100".to_owned())
    );
    assert_eq!(
        rec["data"]["result"]["data"],
        json!({"metadata": {"environment_id": "env-acm3p1"}, "spec": {"compute_pool_id": pool, "name": "orders-over-100", "principal": "sa-c1b0t5"}})
    );
    assert_eq!(h.send(CI_BOT, "POST", ST, Some(body)).await.status, 409);

    let one = format!("{ST}/orders-over-100");
    assert_eq!(
        h.send(CI_BOT, "GET", &one, None).await.body["status"]["phase"],
        "RUNNING"
    );
    let stop = json!([{"op": "replace", "path": "/spec/stopped", "value": true}]);
    let r = h.send(CI_BOT, "PATCH", &one, Some(stop)).await;
    assert_eq!(
        (r.status, r.body["status"]["phase"].clone()),
        (200, json!("STOPPED"))
    );
    let rec = h.record(&r);
    assert_eq!(
        rec["data"]["request"]["data"]["statement_name"],
        "orders-over-100"
    );
    let bad = json!([{"op": "remove", "path": "/spec/stopped"}]);
    assert_eq!(h.send(CI_BOT, "PATCH", &one, Some(bad)).await.status, 400);
    let r = h
        .send(
            CI_BOT,
            "PUT",
            &one,
            Some(json!({"spec": {"statement": "SELECT 1"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .send(
            CI_BOT,
            "PUT",
            &one,
            Some(json!({"spec": {"principal": "u-al1ce7", "stopped": false}})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["spec"]["principal"].clone()),
        (200, json!("u-al1ce7"))
    );
    assert_eq!(
        h.record(&r)["data"]["request"]["data"]["spec"]["principal"],
        "u-al1ce7"
    );

    // The pool cannot go while the statement runs on it.
    let r = h
        .send(CI_BOT, "DELETE", &format!("{POOLS}/{pool}"), None)
        .await;
    assert_eq!(r.status, 409);
    let r = h.send(CI_BOT, "DELETE", &one, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        h.record(&r)["data"]["request"]["data"],
        json!({"StatementName": "orders-over-100", "OrgResourceId": ACME_ORG, "EnvironmentId": "env-acm3p1"})
    );
    assert_eq!(h.send(CI_BOT, "GET", &one, None).await.status, 404);
    assert_eq!(
        h.send(CI_BOT, "DELETE", &format!("{WS}/ws-1"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        h.send(CI_BOT, "DELETE", &format!("{POOLS}/{pool}"), None)
            .await
            .status,
        204
    );
}
