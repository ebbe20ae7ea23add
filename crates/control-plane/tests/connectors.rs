//! Connector calls through the router and the AuditLayer: the lifecycle,
//! the task quota, conflicts, permissions, bad bodies, and what the records
//! and answers carry.

mod common;

use auditlog_control_plane::ACME_ORG;
use common::*;
use serde_json::{json, Value};

fn base(env: &str, cluster: &str) -> String {
    format!("/connect/v1/environments/{env}/clusters/{cluster}/connectors")
}

fn config(name: &str, tasks: u32) -> Value {
    json!({
        "connector.class": "S3_SINK",
        "name": name,
        "tasks.max": tasks.to_string(),
        "kafka.api.key": "KEY123",
        "kafka.api.secret": "super-secret",
        "aws.secret.access.key": "aws-secret",
        "topics": "orders",
    })
}

#[tokio::test]
async fn lifecycle_create_get_pause_resume_delete_then_404() {
    let h = Harness::demo();
    let b = base(PROD, PROD_CLUSTER);
    let r = h
        .send(
            ALICE,
            "POST",
            &b,
            Some(json!({"name": "s3", "config": config("s3", 2)})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("lcc-"), "{id}");
    // Secrets are masked in the answer, everything else is as sent.
    assert_eq!(r.body["config"]["kafka.api.secret"], "****************");
    assert_eq!(
        r.body["config"]["aws.secret.access.key"],
        "****************"
    );
    assert_eq!(r.body["config"]["kafka.api.key"], "****************");
    assert_eq!(r.body["config"]["topics"], "orders");
    assert_eq!(r.body["status"]["connector"]["state"], "RUNNING");

    let rec = h.record(&r);
    assert_eq!(method(&rec), "CreateConnector");
    assert_eq!(status(&rec), "SUCCESS");
    assert_eq!(
        chain(&rec),
        [
            ("ORGANIZATION".to_owned(), ACME_ORG.to_owned()),
            ("ENVIRONMENT".to_owned(), PROD.to_owned()),
            ("CLOUD_CLUSTER".to_owned(), PROD_CLUSTER.to_owned()),
            ("CONNECTOR".to_owned(), id.clone()),
        ]
    );
    assert_eq!(rec["data"]["request"]["data"], json!({"name": "s3"}));
    let result = &rec["data"]["result"]["data"];
    assert_eq!(result["name"], "s3");
    assert_eq!(result["type"], 2);
    assert_eq!(result["user_configs"]["topics"], "orders");
    assert_eq!(result["user_configs"]["connector.class"], "S3_SINK");
    assert_eq!(
        rec["data"]["authenticationInfo"]["principal"]["confluentUser"]["resourceId"],
        "u-al1ce7"
    );
    assert_eq!(
        rec["data"]["requestMetadata"]["clientAddress"][0]["ip"],
        "203.0.113.7"
    );

    let one = format!("{b}/s3");
    let r = h.send(ALICE, "GET", &one, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(method(&h.record(&r)), "GetConnector");

    let r = h.send(ALICE, "PUT", &format!("{one}/pause"), None).await;
    assert_eq!(r.status, 202);
    let rec = h.record(&r);
    assert_eq!(method(&rec), "PauseConnector");
    assert_eq!(chain(&rec).last().unwrap().1, id);
    assert_eq!(
        h.send(ALICE, "GET", &one, None).await.body["status"]["connector"]["state"],
        "PAUSED"
    );

    let r = h.send(ALICE, "PUT", &format!("{one}/resume"), None).await;
    assert_eq!(r.status, 202);
    assert_eq!(method(&h.record(&r)), "ResumeConnector");
    assert_eq!(
        h.send(ALICE, "GET", &one, None).await.body["status"]["connector"]["state"],
        "RUNNING"
    );

    let r = h.send(ALICE, "GET", &b, None).await;
    assert_eq!((r.status, r.body.clone()), (200, json!(["s3"])));
    let rec = h.record(&r);
    assert_eq!(method(&rec), "GetConnectors");
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > ENVIRONMENT > CLOUD_CLUSTER"
    );

    let r = h.send(ALICE, "DELETE", &one, None).await;
    assert_eq!(r.status, 204);
    let rec = h.record(&r);
    assert_eq!((method(&rec), status(&rec)), ("DeleteConnector", "SUCCESS"));
    assert_eq!(chain(&rec).last().unwrap().1, id);

    for (m, p) in [
        ("GET", one.clone()),
        ("DELETE", one.clone()),
        ("PUT", format!("{one}/pause")),
        ("PUT", format!("{one}/resume")),
    ] {
        let r = h.send(ALICE, m, &p, None).await;
        assert_eq!(r.status, 404, "{m} {p}");
        assert_eq!(r.body["errors"][0]["status"], "404");
        let rec = h.record(&r);
        assert_eq!(status(&rec), "FAILURE");
        assert_eq!(error_status(&rec), "404");
        // No connector id is known for a name that does not exist.
        assert_eq!(
            chain_types(&rec),
            "ORGANIZATION > ENVIRONMENT > CLOUD_CLUSTER"
        );
        assert_eq!(
            rec["data"]["result"]["data"]["errors"][0]["detail"],
            r.body["errors"][0]["detail"]
        );
    }
}

#[tokio::test]
async fn task_quota_is_a_400() {
    let h = Harness::demo();
    let b = base(PROD, PROD_CLUSTER);
    let r = h
        .send(
            ALICE,
            "POST",
            &b,
            Some(json!({"name": "a", "config": config("a", 6)})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = h
        .send(
            ALICE,
            "POST",
            &b,
            Some(json!({"name": "b", "config": config("b", 5)})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let detail = r.body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("used 6 task(s) of available 10"),
        "{detail}"
    );
    let rec = h.record(&r);
    assert_eq!((status(&rec), error_status(&rec)), ("FAILURE", "400"));
    assert_eq!(rec["data"]["result"]["data"]["errors"][0]["detail"], detail);
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > ENVIRONMENT > CLOUD_CLUSTER"
    );

    // The other cluster of the environment has its own quota.
    let other = base(PROD, "lkc-acp7k9");
    let r = h
        .send(
            ALICE,
            "POST",
            &other,
            Some(json!({"name": "b", "config": config("b", 5)})),
        )
        .await;
    assert_eq!(r.status, 201);

    // Updating a connector counts its new tasks, not its old ones.
    let cfg = format!("{b}/a/config");
    assert_eq!(
        h.send(ALICE, "PUT", &cfg, Some(config("a", 10)))
            .await
            .status,
        200
    );
    let r = h.send(ALICE, "PUT", &cfg, Some(config("a", 11))).await;
    assert_eq!(r.status, 400);
    let rec = h.record(&r);
    assert_eq!(method(&rec), "CreateOrUpdateConnector");
    // An existing connector is named even when its update fails.
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > ENVIRONMENT > CLOUD_CLUSTER > CONNECTOR"
    );

    // Creating through PUT answers 201 and counts toward the quota too.
    let r = h
        .send(ALICE, "PUT", &format!("{b}/c/config"), Some(config("c", 1)))
        .await;
    assert_eq!(r.status, 400, "the cluster is full: {}", r.body);
    assert_eq!(
        h.send(ALICE, "PUT", &cfg, Some(config("a", 4)))
            .await
            .status,
        200
    );
    let r = h
        .send(ALICE, "PUT", &format!("{b}/c/config"), Some(config("c", 1)))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(h.record(&r)["data"]["result"]["data"]["name"], "c");
}

#[tokio::test]
async fn duplicate_names_conflict() {
    let h = Harness::demo();
    let b = base(DEV, DEV_CLUSTER);
    let body = json!({"name": "dup", "config": config("dup", 1)});
    assert_eq!(
        h.send(CAROL, "POST", &b, Some(body.clone())).await.status,
        201
    );
    let r = h.send(CAROL, "POST", &b, Some(body)).await;
    assert_eq!(r.status, 409);
    let rec = h.record(&r);
    assert_eq!(error_status(&rec), "409");
    assert_eq!(
        chain_types(&rec),
        "ORGANIZATION > ENVIRONMENT > CLOUD_CLUSTER"
    );
}

#[tokio::test]
async fn environment_scoped_principal_is_forbidden_elsewhere() {
    let h = Harness::demo();
    // Carol administers acme-dev only.
    let r = h.send(CAROL, "GET", &base(PROD, PROD_CLUSTER), None).await;
    assert_eq!(r.status, 403);
    let rec = h.record(&r);
    assert_eq!((method(&rec), error_status(&rec)), ("GetConnectors", "403"));
    assert_eq!(
        rec["data"]["authenticationInfo"]["principal"]["confluentUser"]["resourceId"],
        "u-car0l4"
    );
    assert_eq!(chain_types(&rec), "ORGANIZATION > ENVIRONMENT");
    assert_eq!(
        h.send(CAROL, "GET", &base(DEV, DEV_CLUSTER), None)
            .await
            .status,
        200
    );

    // The service account is recorded as one.
    let r = h.send(CI_BOT, "GET", &base(PROD, PROD_CLUSTER), None).await;
    assert_eq!(r.status, 200);
    let rec = h.record(&r);
    assert_eq!(
        rec["data"]["authenticationInfo"]["principal"]["confluentServiceAccount"]["resourceId"],
        "sa-c1b0t5"
    );

    // Another organization's environment does not exist for Bob.
    let r = h.send(BOB, "GET", &base(PROD, PROD_CLUSTER), None).await;
    assert_eq!(r.status, 404);
    let rec = h.record(&r);
    assert_eq!(chain(&rec)[0].1, auditlog_control_plane::GLOBEX_ORG);
    // Globex's staging bot cannot touch production.
    let r = h
        .send(DEPLOY_BOT, "GET", &base("env-gbx5p3", "lkc-gbp2q6"), None)
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn unauthenticated_calls_are_401_and_unaudited() {
    let h = Harness::demo();
    let b = base(PROD, PROD_CLUSTER);
    let r = h.raw(None, "GET", &b, None).await;
    assert_eq!(r.status, 401);
    assert!(h.event(&r.request_id).is_none());
    let r = h.raw(Some("not-a-token"), "GET", &b, None).await;
    assert_eq!(r.status, 401);
    assert!(h.sink.events().is_empty());
}

#[tokio::test]
async fn malformed_and_incomplete_bodies_are_400_and_audited() {
    let h = Harness::demo();
    let b = base(PROD, PROD_CLUSTER);
    for (body, needle) in [
        ("{\"name\": ", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("{\"config\": {}}", "`name`"),
        ("{\"name\": \"x\"}", "`config`"),
        ("{\"name\": \"x\", \"config\": {\"tasks.max\": \"1\"}}", "connector.class"),
        ("{\"name\": \"x\", \"config\": {\"connector.class\": \"S3_SINK\", \"tasks.max\": \"many\"}}", "tasks.max"),
        ("{\"name\": \"x\", \"config\": {\"connector.class\": \"S3_SINK\", \"tasks.max\": 2}}", "must be a string"),
        ("{\"name\": \"a/b\", \"config\": {\"connector.class\": \"S3_SINK\"}}", "invalid connector name"),
    ] {
        let r = h.raw(Some(ALICE), "POST", &b, Some(body)).await;
        assert_eq!(r.status, 400, "{body}");
        let detail = r.body["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{body}: {detail}");
        let rec = h.record(&r);
        assert_eq!((method(&rec), error_status(&rec)), ("CreateConnector", "400"));
    }
    assert_eq!(h.send(ALICE, "GET", &b, None).await.body, json!([]));
}

#[tokio::test]
async fn unknown_environment_and_cluster_are_404() {
    let h = Harness::demo();
    let r = h
        .send(ALICE, "GET", &base("env-nope00", PROD_CLUSTER), None)
        .await;
    assert_eq!(r.status, 404);
    let rec = h.record(&r);
    assert_eq!(
        chain(&rec).last().unwrap(),
        &("ENVIRONMENT".to_owned(), "env-nope00".to_owned())
    );
    // A cluster of another environment is not in this one.
    let r = h.send(ALICE, "GET", &base(PROD, DEV_CLUSTER), None).await;
    assert_eq!(r.status, 404);
    // Ids that cannot be named in a CRN end the chain at their parent.
    let r = h.send(ALICE, "GET", &base(PROD, "lkc-a%3Db"), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(chain_types(&h.record(&r)), "ORGANIZATION > ENVIRONMENT");
    let r = h
        .send(ALICE, "GET", &base("production", PROD_CLUSTER), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(chain_types(&h.record(&r)), "ORGANIZATION");
}
