//! The workload against a real listener: it calls all 34 catalog methods,
//! each succeeding and failing, from several principals in both
//! organizations; every call is audited once, as the method it meant.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use auditlog_catalog::Catalog;
use auditlog_control_plane::workload::{self, Call, Options, Summary};
use auditlog_control_plane::{app, serve, ControlPlane};
use auditlog_sdk::layer::MemorySink;
use serde_json::Value;

/// Serve a fresh demo control plane, run the workload(s) against it, stop.
async fn run(options: Vec<Options>) -> (Vec<(Summary, Vec<Call>)>, Arc<MemorySink>) {
    let cp = ControlPlane::demo();
    let sink = Arc::new(MemorySink::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app(cp.clone(), sink.clone()), async {
        let _ = stopped.await;
    }));
    let seed = cp.seed().clone();
    let out = tokio::task::spawn_blocking(move || {
        options
            .iter()
            .map(|o| {
                let mut calls = Vec::new();
                let s = workload::run(&url, &seed, o, |c| calls.push(c.clone())).unwrap();
                (s, calls)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    (out, sink)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn covers_every_method_succeeding_and_failing() {
    let (runs, sink) = run(vec![Options::default()]).await;
    let (summary, calls) = &runs[0];
    assert!(
        summary.unexpected.is_empty(),
        "unexpected statuses: {:#?}",
        summary.unexpected
    );
    assert_eq!(summary.calls, calls.len());

    let catalog: BTreeSet<&str> = Catalog::builtin()
        .methods()
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let covered: BTreeSet<&str> = summary.by_method.keys().copied().collect();
    assert_eq!(covered, catalog);
    for (m, c) in &summary.by_method {
        assert!(c.successes >= 1, "{m} never succeeded");
        assert!(!c.failures.is_empty(), "{m} never failed");
    }
    for s in [400, 403, 404, 409] {
        assert!(summary.failures.get(&s).is_some_and(|n| *n > 0), "no {s}");
    }
    let orgs: BTreeSet<&str> = calls.iter().map(|c| c.organization.as_str()).collect();
    assert_eq!(orgs.len(), 2);
    let principals: BTreeSet<&str> = calls.iter().map(|c| c.principal.as_str()).collect();
    assert!(principals.len() >= 4, "{principals:?}");
    assert!(
        principals.iter().any(|p| p.starts_with("sa-")),
        "{principals:?}"
    );
    let envs: BTreeSet<&str> = calls
        .iter()
        .filter_map(|c| {
            c.path
                .split('/')
                .skip_while(|s| *s != "environments")
                .nth(1)
        })
        .filter(|e| !e.starts_with("env-zz"))
        .collect();
    assert!(envs.len() >= 3, "{envs:?}");

    // One record per call, with the call's method and outcome.
    let records: BTreeMap<String, Value> = sink
        .events()
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_slice(&e.to_canonical()).unwrap();
            let id = v["data"]["requestMetadata"]["requestId"][0]
                .as_str()
                .unwrap()
                .to_owned();
            (id, v)
        })
        .collect();
    assert_eq!(
        records.len(),
        calls.len(),
        "records and calls differ in number"
    );
    for c in calls {
        let r = &records[&c.request_id];
        assert_eq!(r["data"]["methodName"], c.method, "{c:?}");
        let status = r["data"]["result"]["status"].as_str().unwrap();
        assert_eq!(status == "SUCCESS", c.succeeded(), "{c:?}");
        if !c.succeeded() {
            assert_eq!(
                r["data"]["result"]["data"]["errors"][0]["status"],
                c.status.to_string()
            );
        }
        let entry = &r["data"]["cloudResources"][0];
        let outermost = entry
            .pointer("/scope/resources/0")
            .unwrap_or(&entry["resource"]);
        assert_eq!(outermost["type"], "ORGANIZATION", "{c:?}");
        assert_eq!(outermost["resourceId"], c.organization.as_str(), "{c:?}");
        assert_eq!(
            r["data"]["requestMetadata"]["clientAddress"][0]["ip"],
            "127.0.0.1"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_deterministic_and_cleans_up_after_itself() {
    let shape = |calls: &[Call]| -> Vec<(&'static str, &'static str, u16, String, String)> {
        calls
            .iter()
            .map(|c| {
                (
                    c.method,
                    c.http_method,
                    c.status,
                    c.principal.clone(),
                    c.request_id.clone(),
                )
            })
            .collect()
    };
    let (a, _) = run(vec![Options {
        seed: 7,
        rounds: 10,
    }])
    .await;
    let (b, _) = run(vec![Options {
        seed: 7,
        rounds: 10,
    }])
    .await;
    assert_eq!(shape(&a[0].1), shape(&b[0].1));

    // Everything the script creates it deletes, so runs can follow each
    // other on one control plane.
    let (runs, _) = run(vec![
        Options { seed: 1, rounds: 5 },
        Options { seed: 2, rounds: 5 },
    ])
    .await;
    for (s, _) in &runs {
        assert!(s.unexpected.is_empty(), "{:#?}", s.unexpected);
    }
    assert_ne!(shape(&runs[0].1), shape(&runs[1].1));
}
