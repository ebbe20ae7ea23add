//! One mutation of a clean seed record per diagnostic code: each must report
//! that code at that path. `every_code_is_exercised` keeps the table complete.

use std::collections::BTreeSet;
use std::path::PathBuf;

use auditlog_model::json::{self, to_canonical, Json, Object};
use auditlog_model::record::parse_record;
use auditlog_validate::{validate, Code, Diagnostic, DuplicateTracker, Severity};

fn clean() -> Json {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/seed-examples/connector-01-CreateConnector-success.json");
    json::parse(&std::fs::read(p).unwrap()).unwrap()
}

fn obj<'a>(v: &'a mut Json, path: &[&str]) -> &'a mut Object {
    let mut cur = v;
    for k in path {
        cur = match k.parse::<usize>() {
            Ok(i) => match cur {
                Json::Array(a) => &mut a[i],
                _ => panic!("not an array at {k}"),
            },
            Err(_) => cur
                .as_object_mut()
                .unwrap()
                .get_mut(k)
                .unwrap_or_else(|| panic!("no {k}")),
        };
    }
    cur.as_object_mut().unwrap()
}

fn diags(v: &Json) -> Vec<Diagnostic> {
    let r = parse_record(&to_canonical(v)).unwrap().record;
    validate(&r)
}

fn s(x: &str) -> Json {
    Json::from(x)
}

type Edit = fn(&mut Json);

fn cases() -> Vec<(Code, &'static str, Edit)> {
    vec![
        (Code::MissingAttribute, "$.id", |v| {
            drop(obj(v, &[]).remove("id"))
        }),
        (Code::EmptyAttribute, "$.source", |v| {
            drop(obj(v, &[]).insert("source", s(" ")))
        }),
        (Code::InvalidSpecversion, "$.specversion", |v| {
            drop(obj(v, &[]).insert("specversion", s("0.3")))
        }),
        (Code::InvalidTime, "$.time", |v| {
            drop(obj(v, &[]).insert("time", s("2021-10-20 20:00:56Z")))
        }),
        (Code::WrongType, "$.time", |v| {
            drop(obj(v, &[]).insert("time", Json::from(5u64)))
        }),
        (Code::ConflictingSpelling, "$.data.method_name", |v| {
            drop(obj(v, &["data"]).insert("method_name", s("X")))
        }),
        (Code::InvalidCrn, "$.data.resourceName", |v| {
            drop(obj(v, &["data"]).insert("resourceName", s("crn://confluent.cloud/organization")))
        }),
        (Code::MissingData, "$.data", |v| {
            drop(obj(v, &[]).remove("data"))
        }),
        (Code::MissingMethod, "$.data.methodName", |v| {
            drop(obj(v, &["data"]).remove("methodName"))
        }),
        (Code::InvalidStatus, "$.data.result.status", |v| {
            drop(obj(v, &["data", "result"]).insert("status", s("OK")))
        }),
        (Code::InvalidAccessType, "$.data.request.accessType", |v| {
            drop(obj(v, &["data", "request"]).insert("accessType", s("WRITE")))
        }),
        (Code::AccessTypeMismatch, "$.data.request.accessType", |v| {
            drop(obj(v, &["data", "request"]).insert("accessType", s("READ_ONLY")))
        }),
        (Code::MethodEventTypeMismatch, "$.type", |v| {
            drop(obj(v, &[]).insert("type", s("io.confluent.kafka.server/authorization")))
        }),
        (Code::MissingTime, "$.time", |v| {
            drop(obj(v, &[]).remove("time"))
        }),
        (Code::MissingSubject, "$.subject", |v| {
            drop(obj(v, &[]).remove("subject"))
        }),
        (Code::MissingResourceName, "$.data.resourceName", |v| {
            drop(obj(v, &["data"]).remove("resourceName"))
        }),
        (
            Code::MissingPrincipal,
            "$.data.authenticationInfo.principal",
            |v| drop(obj(v, &["data", "authenticationInfo"]).remove("principal")),
        ),
        (Code::MissingAccessType, "$.data.request.accessType", |v| {
            drop(obj(v, &["data", "request"]).remove("accessType"))
        }),
        (Code::MissingStatus, "$.data.result.status", |v| {
            drop(obj(v, &["data", "result"]).remove("status"))
        }),
        (Code::UnknownEventType, "$.type", |v| {
            drop(obj(v, &[]).insert("type", s("io.confluent.cloud/requests")))
        }),
        (Code::UnknownMethod, "$.data.methodName", |v| {
            drop(obj(v, &["data"]).insert("methodName", s("CreateConector")))
        }),
        (Code::MethodAlias, "$.data.methodName", |v| {
            drop(obj(v, &["data"]).insert("methodName", s("ListWorkspace")))
        }),
        (Code::SubjectResourceMismatch, "$.subject", |v| {
            let o = obj(v, &[]);
            let subj = o
                .get("subject")
                .unwrap()
                .as_str()
                .unwrap()
                .replace("lcc-pkdrjy", "lcc-other1");
            o.insert("subject", s(&subj));
        }),
        (
            Code::ScopeMismatch,
            "$.data.cloudResources[0].scope.resources[1].resourceId",
            |v| {
                drop(
                    obj(
                        v,
                        &["data", "cloudResources", "0", "scope", "resources", "1"],
                    )
                    .insert("resourceId", s("env-zzz")),
                )
            },
        ),
        (
            Code::ScopeOrder,
            "$.data.cloudResources[0].scope.resources[1].type",
            |v| {
                let res = obj(v, &["data", "cloudResources", "0", "scope"])
                    .get_mut("resources")
                    .unwrap();
                let Json::Array(a) = res else { panic!() };
                a.swap(0, 1);
            },
        ),
        (
            Code::UnexpectedResourceType,
            "$.data.cloudResources[0].resource.type",
            |v| {
                drop(
                    obj(v, &["data", "cloudResources", "0", "resource"])
                        .insert("type", s("IDENTITY_POOL")),
                )
            },
        ),
        (Code::MissingResource, "$.data.cloudResources[0]", |v| {
            drop(obj(v, &["data", "cloudResources", "0"]).remove("resource"))
        }),
        (
            Code::UnexpectedIdFormat,
            "$.data.cloudResources[0].scope.resources[2].resourceId",
            |v| {
                drop(
                    obj(
                        v,
                        &["data", "cloudResources", "0", "scope", "resources", "2"],
                    )
                    .insert("resourceId", s("cluster-9")),
                )
            },
        ),
        (
            Code::PrefixedPrincipalId,
            "$.data.authenticationInfo.principal.confluentUser.resourceId",
            |v| {
                drop(
                    obj(
                        v,
                        &["data", "authenticationInfo", "principal", "confluentUser"],
                    )
                    .insert("resourceId", s("User:u-4rxom7")),
                )
            },
        ),
        (
            Code::DataScopeMismatch,
            "$.data.result.data.environment_id",
            |v| drop(obj(v, &["data", "result", "data"]).insert("environment_id", s("env-zzz"))),
        ),
        (
            Code::DuplicateCloudResource,
            "$.data.cloudResources[1]",
            |v| {
                let list = obj(v, &["data"]).get_mut("cloudResources").unwrap();
                let Json::Array(a) = list else { panic!() };
                let first = a[0].clone();
                a.push(first);
            },
        ),
        (Code::FailureWithoutErrors, "$.data.result", |v| {
            drop(obj(v, &["data", "result"]).insert("status", s("FAILURE")))
        }),
        (Code::SuccessWithErrors, "$.data.result.status", |v| {
            let e = json::parse(br#"[{"status":"500","detail":"x"}]"#).unwrap();
            obj(v, &["data", "result", "data"]).insert("errors", e);
        }),
        (
            Code::InvalidErrorStatus,
            "$.data.result.data.errors[0].status",
            |v| {
                obj(v, &["data", "result"]).insert("status", s("FAILURE"));
                let e = json::parse(br#"[{"status":500,"detail":"x"}]"#).unwrap();
                obj(v, &["data", "result", "data"]).insert("errors", e);
            },
        ),
        (
            Code::UnknownAuthenticationResult,
            "$.data.authenticationInfo.result",
            |v| drop(obj(v, &["data", "authenticationInfo"]).insert("result", s("MAYBE"))),
        ),
        (
            Code::IdentityMismatch,
            "$.data.authenticationInfo.identity",
            |v| {
                let id = "crn://confluent.cloud/organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1/identity-provider=Confluent/identity=u-someoneelse";
                obj(v, &["data", "authenticationInfo"]).insert("identity", s(id));
            },
        ),
        (
            Code::InvalidIp,
            "$.data.requestMetadata.clientAddress[0].ip",
            |v| {
                drop(
                    obj(v, &["data", "requestMetadata", "clientAddress", "0"])
                        .insert("ip", s("1.2.3.999")),
                )
            },
        ),
        (Code::MixedWireForm, "$", |v| {
            let d = obj(v, &["data"]);
            let sn = d.remove("serviceName").unwrap();
            d.insert("service_name", sn);
        }),
        (Code::InvalidExtensionName, "$[\"@timestamp\"]", |v| {
            drop(obj(v, &[]).insert("@timestamp", s("x")))
        }),
        (Code::UnexpectedDataContentType, "$.datacontenttype", |v| {
            drop(obj(v, &[]).insert("datacontenttype", s("text/plain")))
        }),
    ]
}

#[test]
fn the_clean_seed_has_no_findings() {
    assert_eq!(diags(&clean()), vec![]);
}

#[test]
fn each_mutation_reports_its_code_at_its_path() {
    for (code, path, edit) in cases() {
        let mut v = clean();
        edit(&mut v);
        let d = diags(&v);
        assert!(
            d.iter().any(|x| x.code == code
                && x.path == path
                && x.severity == code.severity()
                && !x.message.is_empty()),
            "{code:?} at {path}: got {d:#?}"
        );
    }
}

#[test]
fn messages_suggest_what_to_do() {
    let mut v = clean();
    obj(&mut v, &["data"]).insert("methodName", s("CreateConector"));
    let d = diags(&v);
    let m = d.iter().find(|x| x.code == Code::UnknownMethod).unwrap();
    assert!(
        m.message.contains("did you mean \"CreateConnector\""),
        "{}",
        m.message
    );
}

#[test]
fn wrong_types_are_errors_not_missing() {
    let mut v = clean();
    obj(&mut v, &[]).insert("time", Json::from(5u64));
    let d = diags(&v);
    assert!(!d.iter().any(|x| x.code == Code::MissingTime), "{d:#?}");
    assert_eq!(
        d.iter()
            .find(|x| x.code == Code::WrongType)
            .unwrap()
            .message,
        "expected a string, found number"
    );
}

#[test]
fn batch_findings() {
    let mut t = DuplicateTracker::new();
    assert!(t
        .observe(Some("s"), Some("1"), b"{\"a\":1}", "a.json record 1")
        .is_none());
    let dup = t
        .observe(Some("s"), Some("1"), b"{\"a\":1}", "b.json record 1")
        .unwrap();
    assert_eq!(
        (dup.code, dup.severity),
        (Code::DuplicateRecord, Severity::Info)
    );
    let conflict = t
        .observe(Some("s"), Some("1"), b"{\"a\":2}", "c.json record 1")
        .unwrap();
    assert_eq!(conflict.code, Code::IdConflict);
    assert!(conflict.message.contains("a.json record 1"));
    assert!(t.observe(Some("other"), Some("1"), b"{}", "d").is_none());
    assert!(t.observe(None, Some("1"), b"{}", "e").is_none());
}

#[test]
fn every_code_is_exercised() {
    let mut covered: BTreeSet<Code> = cases().into_iter().map(|(c, _, _)| c).collect();
    // Batch codes are tested in `batch_findings`; input codes by the CLI's lint tests.
    covered.extend([
        Code::IdConflict,
        Code::DuplicateRecord,
        Code::InvalidJson,
        Code::NotARecord,
    ]);
    let all: BTreeSet<Code> = Code::ALL.iter().copied().collect();
    assert_eq!(
        all.difference(&covered).collect::<Vec<_>>(),
        Vec::<&Code>::new()
    );
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md"),
    )
    .unwrap();
    for code in Code::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.severity().as_str());
        assert!(
            doc.contains(&row),
            "docs/diagnostics.md lacks the row {row}"
        );
    }
}
