//! `Filter::matches` against the seed example records, with their fields
//! extracted and canonical bytes written exactly as the store does it.

use std::collections::BTreeSet;

use auditlog_filter::{parse_at, Subject};
use auditlog_model::fields::{extract, Fields};
use auditlog_model::parse_record;

/// 2026-11-22T12:00:00Z.
const NOW: i64 = 1_795_348_800_000_000_000;

struct Rec {
    name: String,
    fields: Fields,
    id: Option<String>,
    canonical: Vec<u8>,
}

fn load() -> Vec<Rec> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/seed-examples"
    );
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let p = parse_record(&bytes).unwrap();
        out.push(Rec {
            name: path.file_stem().unwrap().to_str().unwrap().to_owned(),
            fields: extract(&p.record),
            id: p.record.id.clone(),
            canonical: p.canonical,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(out.len(), 58);
    out
}

/// The names of the records `q` matches, checking on the way that its
/// canonical text matches exactly the same records.
fn hits(recs: &[Rec], q: &str) -> BTreeSet<String> {
    let f = parse_at(q, NOW).unwrap_or_else(|e| panic!("{q}: {e}"));
    let g = parse_at(&f.to_string(), NOW).unwrap();
    assert_eq!(g.expr, f.expr, "{q} -> {f}");
    let mut out = BTreeSet::new();
    for r in recs {
        let s = Subject {
            fields: &r.fields,
            id: r.id.as_deref(),
            canonical: &r.canonical,
        };
        let m = f.matches(&s);
        assert_eq!(m, g.matches(&s), "{q} on {}", r.name);
        if m {
            out.insert(r.name.clone());
        }
    }
    out
}

/// Record names containing every one of `parts`.
fn named(recs: &[Rec], parts: &[&str]) -> BTreeSet<String> {
    recs.iter()
        .filter(|r| parts.iter().all(|p| r.name.contains(p)))
        .map(|r| r.name.clone())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn complement(recs: &[Rec], s: &BTreeSet<String>) -> BTreeSet<String> {
    recs.iter()
        .map(|r| r.name.clone())
        .filter(|n| !s.contains(n))
        .collect()
}

#[test]
fn who_deleted_the_connector() {
    let r = load();
    assert_eq!(
        hits(&r, "method = DeleteConnector AND resource_id = lcc-23orvm"),
        set(&["connector-05-DeleteConnector-success"])
    );
    assert_eq!(
        hits(&r, "method = DeleteConnector"),
        named(&r, &["-DeleteConnector-"])
    );
    // `=` is case-sensitive, `:` is not.
    assert!(hits(&r, "method = deleteconnector").is_empty());
    assert_eq!(
        hits(&r, "method:deleteconnector"),
        named(&r, &["-DeleteConnector-"])
    );
    let deletes: BTreeSet<String> = r
        .iter()
        .filter(|x| x.name.contains("-Delete"))
        .map(|x| x.name.clone())
        .collect();
    assert_eq!(deletes.len(), 11);
    assert_eq!(hits(&r, "method:Delete*"), deletes);
    assert_eq!(hits(&r, "methodName:*pool"), {
        // `ListComputePools` ends in "pools", so `*pool` misses it.
        let mut s = named(&r, &["ComputePool-"]);
        s.extend(named(&r, &["IdentityPool-"]));
        s
    });
}

#[test]
fn status_and_negation() {
    let r = load();
    let failed = named(&r, &["-failure"]);
    assert_eq!(failed.len(), 15);
    // flink-06 is named a success but its result is a FAILURE with a 400.
    let mut want = failed.clone();
    want.insert("flink-06-UpdateComputePool-success".into());
    assert_eq!(hits(&r, "status = FAILURE"), want);
    assert_eq!(hits(&r, "status != FAILURE"), complement(&r, &want));
    assert_eq!(hits(&r, "NOT status = FAILURE"), complement(&r, &want));
    assert_eq!(hits(&r, "status:failure"), want);
    assert_eq!(hits(&r, "result_status IN (SUCCESS, FAILURE)").len(), 58);
}

#[test]
fn any_value_semantics_for_principals() {
    let r = load();
    // connector records carry both an id and an email.
    let u = hits(&r, "principal = u-4rxom7");
    assert_eq!(
        u,
        set(&[
            "connector-01-CreateConnector-success",
            "connector-02-CreateConnector-failure",
            "connector-03-CreateOrUpdateConnector-success",
            "connector-04-CreateOrUpdateConnector-failure",
            "connector-05-DeleteConnector-success",
            "connector-06-DeleteConnector-failure",
            "connector-07-GetConnector-success",
            "connector-12-ResumeConnector-success",
        ])
    );
    assert_eq!(
        hits(&r, "user = u-4rxom7 AND email = someone@example.com"),
        u
    );
    assert_eq!(
        hits(&r, "email = someone@example.com"),
        named(&r, &["connector-"])
    );
    // `!=` is the negation of "some value equals": a record whose id is
    // u-4rxom7 is excluded even though its email differs.
    let not_u = hits(&r, "principal != u-4rxom7");
    assert_eq!(not_u, complement(&r, &u));
    // The Kafka `User:` prefix is not part of the id.
    assert_eq!(hits(&r, "userId = u-nxd3q3"), named(&r, &["identity-"]));
    assert!(hits(&r, "principal = User:u-nxd3q3").is_empty());
    assert_eq!(hits(&r, "principal:user*").len(), 0);
    assert_eq!(
        hits(&r, "principal IN (u-nxd3q3, u-4rxom7)").len(),
        u.len() + 20
    );
}

#[test]
fn tenants_and_scopes() {
    let r = load();
    let env = hits(&r, "environment = env-abc123");
    assert_eq!(
        env,
        set(&[
            "connector-01-CreateConnector-success",
            "connector-02-CreateConnector-failure",
            "connector-03-CreateOrUpdateConnector-success",
            "connector-04-CreateOrUpdateConnector-failure",
            "connector-05-DeleteConnector-success",
            "connector-06-DeleteConnector-failure",
            "connector-07-GetConnector-success",
        ])
    );
    // connector-12's cloudResources name env-abc123, but its target CRN
    // (resourceName) is in env-82kz3r, and the CRN wins.
    assert!(hits(&r, "environment = env-82kz3r").contains("connector-12-ResumeConnector-success"));
    let scope = "crn://confluent.cloud/organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1/environment=env-abc123";
    assert_eq!(hits(&r, &format!("crn within {scope}")), env);
    assert_eq!(hits(&r, &format!("scope = {scope}")), env);
    assert_eq!(hits(&r, &format!("scope within {scope}")), env);
    // The organization contains its environments; a sibling environment
    // does not.
    let org = "crn://confluent.cloud/organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1";
    assert_eq!(hits(&r, &format!("resource within {org}")), env);
    assert!(hits(&r, &format!("resource within {org}/environment=env-abc12")).is_empty());
    assert_eq!(
        hits(&r, "org = 2ff3a9ef-255b-4f52-a18e-77fe068dc5cf"),
        named(&r, &["identity-"])
    );
    // Exact resource, written uncanonically with an empty authority.
    assert_eq!(
        hits(
            &r,
            "resource = crn:///organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1/environment=env-abc123/cloud-cluster=lkc-ny0p0v/connector=lcc-23orvm"
        ),
        set(&["connector-05-DeleteConnector-success"])
    );
    assert_eq!(
        hits(&r, "resource_type = IDENTITY_POOL"),
        set(&[
            "identity-11-CreateIdentityPool-success",
            "identity-13-DeleteIdentityPool-success",
            "identity-14-DeleteIdentityPool-failure",
            "identity-15-GetIdentityPool-success",
            "identity-16-GetIdentityPool-failure",
            "identity-19-UpdateIdentityPool-success",
            "identity-20-UpdateIdentityPool-failure",
        ])
    );
    // Everything is within the root.
    assert_eq!(
        hits(&r, "crn within crn://confluent.cloud/"),
        hits(&r, "resource:crn*")
    );
}

#[test]
fn error_codes() {
    let r = load();
    assert_eq!(
        hits(&r, "error_code = 404"),
        set(&["connector-08-GetConnector-failure"])
    );
    assert_eq!(
        hits(&r, "error_code >= 500"),
        set(&[
            "connector-02-CreateConnector-failure",
            "connector-06-DeleteConnector-failure"
        ])
    );
    assert_eq!(
        hits(&r, "statusCode IN (400, 403)"),
        set(&[
            "connector-04-CreateOrUpdateConnector-failure",
            "connector-10-GetConnectors-failure",
            "flink-06-UpdateComputePool-success",
        ])
    );
    assert_eq!(hits(&r, "code >= 400 AND code < 500").len(), 4);
    assert_eq!(hits(&r, "code:4??").len(), 4);
    // A record without errors has no code, so every comparison is false.
    assert_eq!(hits(&r, "code < 1000").len(), 6);
}

#[test]
fn addresses() {
    let r = load();
    let wide = hits(&r, "ip = 134.238.0.0/16");
    assert_eq!(
        wide,
        set(&[
            "flink-02-CreateComputePool-success",
            "flink-04-GetComputePool-success",
            "flink-05-ListComputePools-success",
            "flink-06-UpdateComputePool-success",
            "flink-v1-01-CreateWorkspace-success",
            "flink-v1-02-DeleteWorkspace-success",
            "flink-v1-03-GetWorkspace-success",
            "flink-v1-04-ListWorkspace-success",
            "flink-v1-05-UpdateWorkspace-success",
            "flink-v1-07-DeleteStatement-success",
            "flink-v1-09-ListStatements-success",
        ])
    );
    assert_eq!(hits(&r, "ip = 1.2.3.0/24"), hits(&r, "client_ip = 1.2.3.4"));
    assert_eq!(
        hits(&r, "ip = ::ffff:1.2.3.4/128"),
        hits(&r, "ip = 1.2.3.4")
    );
    assert_eq!(hits(&r, "ip = 0.0.0.0/0").len() + 20, 58);
    assert_eq!(
        hits(&r, "ip IN (1.2.3.4, 134.238.0.0/16)").len(),
        hits(&r, "ip = 0.0.0.0/0").len()
            - hits(&r, "ip = 66.159.216.54").len()
            - hits(&r, "ip = 127.0.0.0/8").len()
    );
    assert!(hits(&r, "ip = 2001:db8::/32").is_empty());
}

#[test]
fn time_ranges() {
    let r = load();
    let y2026 = hits(&r, "time >= 2026-01-01");
    assert_eq!(y2026.len(), 13);
    assert!(y2026.iter().all(|n| n.starts_with("flink-")));
    let before = hits(&r, "time < 2026-01-01");
    // Records without a time match neither side of a bound ...
    let timeless = 58 - y2026.len() - before.len();
    assert_eq!(timeless, 4);
    // ... but do match its negation.
    assert_eq!(hits(&r, "NOT time >= 2026-01-01").len(), 58 - y2026.len());
    assert_eq!(
        hits(&r, "time >= 2021-10-20T21:00:00Z AND time < 2021-10-21"),
        set(&[
            "connector-03-CreateOrUpdateConnector-success",
            "connector-06-DeleteConnector-failure",
            "connector-07-GetConnector-success",
            "connector-12-ResumeConnector-success",
        ])
    );
    // Relative to NOW (2026-11-22): the last year holds the 2026 records.
    assert_eq!(hits(&r, "time > -52w"), y2026);
    assert!(hits(&r, "time > -1h").is_empty());
}

#[test]
fn ids_text_and_the_rest() {
    let r = load();
    assert_eq!(
        hits(&r, "id = aa5f89b9-a5d2-4821-9f08-f106c60ccd66"),
        set(&["connector-06-DeleteConnector-failure"])
    );
    assert_eq!(
        hits(&r, "id != aa5f89b9-a5d2-4821-9f08-f106c60ccd66").len(),
        57
    );
    // Free text: consecutive words of string values, any case.
    assert_eq!(
        hits(&r, "lcc-23orvm"),
        set(&["connector-05-DeleteConnector-success"])
    );
    assert_eq!(
        hits(&r, "\"UNABLE to get connector\""),
        set(&["connector-06-DeleteConnector-failure"])
    );
    assert!(hits(&r, "\"to unable\"").is_empty());
    // Member names are not words.
    assert!(hits(&r, "methodName").is_empty());
    assert_eq!(
        hits(&r, "GoogleCloudFunctionsSink method = DeleteConnector"),
        set(&["connector-06-DeleteConnector-failure"])
    );
    // Two snake_case samples carry no CloudEvents `type`.
    assert_eq!(
        complement(&r, &hits(&r, "type = io.confluent.cloud/request")),
        set(&[
            "flink-16-UpdateStatement-success",
            "flink-17-PatchStatement-success"
        ])
    );
    assert_eq!(hits(&r, "type != io.confluent.cloud/request").len(), 2);
    assert_eq!(
        hits(&r, "service = crn://confluent.cloud/").len(),
        hits(&r, "service:crn://confluent.cloud/").len()
    );
    assert_eq!(
        hits(&r, "access_type = MODIFICATION AND env = env-abc123").len(),
        6
    );
    let snake = hits(&r, "wire_form = snake");
    assert!(
        snake.contains("flink-01-ListFlinkRegions-success"),
        "{snake:?}"
    );
    assert_eq!(hits(&r, "wire_form IN (camel, snake, mixed)").len(), 58);
    assert_eq!(hits(&r, "*").len(), 58);
    assert!(hits(&r, "NOT *").is_empty());
}
