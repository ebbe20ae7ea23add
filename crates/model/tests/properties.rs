//! Property tests: any model value survives serialize + parse in both wire
//! forms; any JSON value survives canonical and pretty writing; any CRN
//! survives format + parse.

use auditlog_model::json::{self, to_canonical, to_pretty, Json, Number, Object};
use auditlog_model::record::*;
use auditlog_model::Crn;
use proptest::option;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.:-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
        Just("crn://confluent.cloud/organization=o/environment=env-1".to_string()),
    ]
}

fn number() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<i64>().prop_map(|n| Json::Number(Number::from(n))),
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?"
            .prop_map(|s| Json::Number(Number::new(&s).unwrap())),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        number(),
        text().prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::btree_map(text(), inner, 0..5)
                .prop_map(|m| Json::Object(m.into_iter().collect::<Object>())),
        ]
    })
}

/// Unknown members: `x-` prefixed so they never collide with known names.
fn extras() -> impl Strategy<Value = Object> {
    prop::collection::btree_map("x-[a-z]{1,6}", json_value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn id_ref() -> impl Strategy<Value = IdRef> {
    (option::of(text()), option::of(text()), extras()).prop_map(|(a, b, extra)| {
        let mut r = IdRef::default();
        r.resource_id = a;
        r.internal_id = b;
        r.extra = extra;
        r
    })
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        text().prop_map(Principal::Text),
        (
            option::of(text()),
            option::of(id_ref()),
            option::of(id_ref()),
            extras()
        )
            .prop_map(|(e, u, sa, extra)| {
                let mut p = PrincipalObject::default();
                p.email = e;
                p.confluent_user = u;
                p.confluent_service_account = sa;
                p.extra = extra;
                Principal::Object(Box::new(p))
            }),
    ]
}

fn resource_ref() -> impl Strategy<Value = ResourceRef> {
    (option::of(text()), option::of(text())).prop_map(|(t, id)| {
        let mut r = ResourceRef::default();
        r.resource_type = t;
        r.resource_id = id;
        r
    })
}

fn cloud_resource() -> impl Strategy<Value = CloudResource> {
    (
        option::of(prop::collection::vec(resource_ref(), 0..4)),
        option::of(resource_ref()),
    )
        .prop_map(|(scope, res)| {
            let mut c = CloudResource::default();
            c.scope = scope.map(|resources| {
                let mut s = Scope::default();
                s.resources = Some(resources);
                s
            });
            c.resource = res;
            c
        })
}

fn audit_data() -> impl Strategy<Value = AuditData> {
    (
        (option::of(text()), option::of(text()), option::of(text())),
        option::of(prop::collection::vec(cloud_resource(), 0..3)),
        (
            option::of(principal()),
            option::of(text()),
            option::of(text()),
        ),
        (
            option::of(any::<bool>()),
            option::of(text()),
            option::of(prop::collection::vec(principal(), 0..2)),
        ),
        (
            option::of(prop::collection::vec(text(), 0..2)),
            option::of(text()),
        ),
        (
            option::of(text()),
            option::of(json_value()),
            option::of(text()),
            option::of(json_value()),
        ),
        extras(),
    )
        .prop_map(|(names, cr, authn, authz, meta, rr, extra)| {
            let mut d = AuditData::default();
            (d.service_name, d.method_name, d.resource_name) = names;
            d.cloud_resources = cr;
            let mut a = AuthenticationInfo::default();
            (a.principal, a.identity, a.result) = authn;
            d.authentication_info = Some(a);
            let mut z = AuthorizationInfo::default();
            z.granted = authz.0;
            z.operation = authz.1;
            z.assigned_principals = authz.2;
            d.authorization_info = Some(z);
            let mut m = RequestMetadata::default();
            m.request_id = meta.0.map(OneOrMany::Many);
            m.client_address = meta.1.map(|ip| {
                let mut c = ClientAddress::default();
                c.ip = Some(ip);
                vec![c]
            });
            d.request_metadata = Some(m);
            let mut req = Request::default();
            req.access_type = rr.0;
            req.data = rr.1;
            d.request = Some(req);
            let mut res = AuditResult::default();
            res.status = rr.2;
            res.data = rr.3;
            d.result = Some(res);
            d.extra = extra;
            d
        })
}

fn record() -> impl Strategy<Value = Record> {
    (
        (
            option::of(text()),
            option::of(text()),
            option::of(text()),
            option::of(text()),
        ),
        (option::of(text()), option::of(text()), option::of(text())),
        option::of(audit_data()),
        extras(),
    )
        .prop_map(|(a, b, data, extra)| {
            let mut r = Record::default();
            (r.specversion, r.id, r.source, r.event_type) = a;
            (r.subject, r.time, r.dataschema) = b;
            r.data = data;
            r.extra = extra;
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn model_survives_both_wire_forms(r in record()) {
        for form in [Form::Camel, Form::Snake] {
            let bytes = to_canonical(&r.to_json(form));
            let back = Record::parse(&bytes).unwrap();
            prop_assert_eq!(&back, &r.with_form(form));
            // And writing it again is stable.
            prop_assert_eq!(to_canonical(&back.to_json(Form::AsParsed)), bytes);
        }
    }

    #[test]
    fn json_survives_canonical_and_pretty(v in json_value()) {
        let c = to_canonical(&v);
        prop_assert_eq!(json::parse(&c).unwrap(), v.clone());
        prop_assert_eq!(to_canonical(&json::parse(&c).unwrap()), c.clone());
        prop_assert_eq!(json::parse(to_pretty(&v).as_bytes()).unwrap(), v);
    }

    #[test]
    fn canonical_detection_is_exact(v in json_value()) {
        let c = to_canonical(&v);
        let (parsed, range) = json::parse_noting_canonical(&c).unwrap();
        prop_assert_eq!(&parsed, &v);
        prop_assert_eq!(range.map(|r| c[r].to_vec()), Some(c.clone()));
        let pretty = to_pretty(&v);
        if let (_, Some(r)) = json::parse_noting_canonical(pretty.as_bytes()).unwrap() {
            // Only claimed when the pretty form happens to be canonical too.
            prop_assert_eq!(&pretty.as_bytes()[r], c.as_slice());
        }
    }

    #[test]
    fn crn_survives_format_and_parse(
        auth in "[a-z][a-z0-9]{0,5}(\\.[a-z]{2,4})?",
        segs in prop::collection::vec(("[a-z][a-z0-9_.-]{0,10}", any::<String>().prop_filter("non-empty", |s| !s.is_empty())), 0..6),
    ) {
        let mut c = Crn::root(&auth);
        for (k, v) in &segs {
            c = c.child(k, v).unwrap();
        }
        let s = c.to_string();
        let back = Crn::parse(&s).unwrap();
        prop_assert_eq!(&back, &c);
        prop_assert_eq!(back.to_string(), s);
        if let Some(p) = c.parent() {
            prop_assert!(p.contains(&c));
            prop_assert!(p < c);
        }
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = json::parse(&bytes);
        let _ = parse_record(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Crn::parse(s);
            let _ = auditlog_model::parse_rfc3339(s);
        }
    }
}
