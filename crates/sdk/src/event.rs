//! Building one audit event: the CloudEvents envelope, the scope chain and
//! CRNs from the catalog, the principal, request metadata and the outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use auditlog_catalog::{Catalog, Method};
use auditlog_model::json::{to_canonical, Json, Object};
use auditlog_model::Timestamp;

/// `source` and `serviceName` of Confluent Cloud control-plane records.
pub const CONFLUENT_SOURCE: &str = "crn://confluent.cloud/";

/// Who made the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User (`u-…`) or service account (`sa-…`).
    pub kind: PrincipalKind,
    /// e.g. `u-4rxom7`.
    pub id: String,
    /// Written as `principal.email` when known, as the seeds do for users.
    pub email: Option<String>,
    /// The organization the principal belongs to; it keys the record's tenant.
    pub organization: String,
}

/// The kind of principal, which decides the JSON key it is written under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// `confluentUser`.
    User,
    /// `confluentServiceAccount`.
    ServiceAccount,
}

impl Principal {
    /// A user of `organization`.
    pub fn user(id: impl Into<String>, organization: impl Into<String>) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: id.into(),
            email: None,
            organization: organization.into(),
        }
    }

    /// A service account of `organization`.
    pub fn service_account(id: impl Into<String>, organization: impl Into<String>) -> Principal {
        Principal {
            kind: PrincipalKind::ServiceAccount,
            ..Principal::user(id, organization)
        }
    }

    /// With an email address.
    pub fn with_email(mut self, email: impl Into<String>) -> Principal {
        self.email = Some(email.into());
        self
    }
}

/// One entry of `result.data.errors`, as the seeds write failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    /// The request id the error belongs to.
    pub id: String,
    /// The HTTP status, as a string (`"404"`).
    pub status: String,
    /// What went wrong, for a human.
    pub detail: String,
}

/// Why an event could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The method is not in the catalog.
    #[error("method {0:?} is not in the catalog; add it to a catalog file or check the spelling")]
    UnknownMethod(String),
    /// The scope chain does not fit the method's resource type.
    #[error("{method}: {message}")]
    Scope {
        /// The method.
        method: String,
        /// What does not fit.
        message: String,
    },
    /// No principal was given.
    #[error("{0}: no principal; every audit event names who acted (call .principal(..))")]
    NoPrincipal(String),
}

/// The outcome of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Success(Option<Json>),
    Failure(Vec<ErrorEntry>, Option<Json>),
}

/// Builds one event for a catalog method. Typed entry points for every
/// built-in method are in [`crate::methods`]; this is their common engine.
#[derive(Debug, Clone)]
pub struct EventBuilder {
    method: &'static Method,
    chain: Vec<(&'static str, String)>,
    resource_is_target: bool,
    principal: Option<Principal>,
    client_ips: Vec<String>,
    request_id: Option<String>,
    request_data: Option<Json>,
    outcome: Outcome,
    id: Option<String>,
    time: Option<Timestamp>,
    source: String,
}

/// A built event, ready to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The CloudEvents `id`, which is also the idempotency key on delivery.
    pub id: String,
    /// The organization the record belongs to.
    pub organization: String,
    /// The record (camelCase wire form).
    pub record: Json,
}

impl Event {
    /// The canonical (RFC 8785) bytes, as the server stores them.
    pub fn to_canonical(&self) -> Vec<u8> {
        to_canonical(&self.record)
    }
}

impl EventBuilder {
    /// A builder for `method` (name or alias) of the built-in catalog.
    pub fn for_method(method: &str) -> Result<EventBuilder, BuildError> {
        let m = Catalog::builtin()
            .method(method)
            .ok_or_else(|| BuildError::UnknownMethod(method.to_owned()))?
            .method;
        Ok(EventBuilder::with_method(m))
    }

    pub(crate) fn with_method(method: &'static Method) -> EventBuilder {
        EventBuilder {
            method,
            chain: Vec::new(),
            resource_is_target: true,
            principal: None,
            client_ips: Vec::new(),
            request_id: None,
            request_data: None,
            outcome: Outcome::Success(None),
            id: None,
            time: None,
            source: CONFLUENT_SOURCE.to_owned(),
        }
    }

    /// The catalog entry this builder is for.
    pub fn method(&self) -> &'static Method {
        self.method
    }

    /// The chain from the organization down to the most specific resource the
    /// call touched, as (resource type, id). The last entry becomes
    /// `cloudResources[0].resource` and the `resourceName`; the others the
    /// scope. For a call on a collection, or one that failed before its
    /// resource existed, end the chain at the parent (as the seeds do).
    pub fn chain<T: AsRef<str>, I: Into<String>>(
        mut self,
        chain: impl IntoIterator<Item = (T, I)>,
    ) -> Result<EventBuilder, BuildError> {
        let catalog = Catalog::builtin();
        self.chain.clear();
        for (ty, id) in chain {
            let rt = catalog.resource_type(ty.as_ref()).ok_or_else(|| {
                self.scope_error(format!("unknown resource type {:?}", ty.as_ref()))
            })?;
            self.chain.push((rt.name.as_str(), id.into()));
        }
        Ok(self)
    }

    pub(crate) fn with_chain(mut self, chain: Vec<(&'static str, String)>) -> EventBuilder {
        self.chain = chain;
        self
    }

    /// Write the last chain entry as part of the scope, with no `resource`
    /// (the seeds do this for some failed creations).
    pub fn scope_only(mut self) -> EventBuilder {
        self.resource_is_target = false;
        self
    }

    /// Who acted.
    pub fn principal(mut self, p: Principal) -> EventBuilder {
        self.principal = Some(p);
        self
    }

    /// The caller's address (repeatable: proxies append).
    pub fn client_ip(mut self, ip: impl Into<String>) -> EventBuilder {
        self.client_ips.push(ip.into());
        self
    }

    /// The request id; one is generated when not given.
    pub fn request_id(mut self, id: impl Into<String>) -> EventBuilder {
        self.request_id = Some(id.into());
        self
    }

    /// `request.data`.
    pub fn request_data(mut self, data: Json) -> EventBuilder {
        self.request_data = Some(data);
        self
    }

    /// A successful call, with optional `result.data`.
    pub fn success(mut self, data: Option<Json>) -> EventBuilder {
        self.outcome = Outcome::Success(data);
        self
    }

    /// A failed call: `result.status` FAILURE with one entry in
    /// `result.data.errors` (`id` is the request id).
    pub fn failure(mut self, status: u16, detail: impl Into<String>) -> EventBuilder {
        let entry = ErrorEntry {
            id: String::new(), // filled with the request id at build time
            status: status.to_string(),
            detail: detail.into(),
        };
        self.outcome = Outcome::Failure(vec![entry], None);
        self
    }

    /// The CloudEvents id (a UUID v4 is generated otherwise).
    pub fn id(mut self, id: impl Into<String>) -> EventBuilder {
        self.id = Some(id.into());
        self
    }

    /// The event time (now, with nanoseconds, otherwise).
    pub fn time(mut self, t: Timestamp) -> EventBuilder {
        self.time = Some(t);
        self
    }

    /// The CloudEvents `source` and `serviceName` (Confluent Cloud's by default).
    pub fn source(mut self, source: impl Into<String>) -> EventBuilder {
        self.source = source.into();
        self
    }

    fn scope_error(&self, message: String) -> BuildError {
        BuildError::Scope {
            method: self.method.name.clone(),
            message,
        }
    }

    /// Check the chain against the catalog: it starts at the organization and
    /// follows the method's resource type's scope, ending at the resource
    /// itself or at one of its ancestors.
    fn check_chain(&self) -> Result<(), BuildError> {
        let catalog = Catalog::builtin();
        let rt = catalog
            .resource_type(&self.method.resource_type)
            .ok_or_else(|| self.scope_error("resource type missing from the catalog".into()))?;
        let full: Vec<&str> = rt
            .scope
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(rt.name.as_str()))
            .collect();
        if self.chain.is_empty() {
            return Err(self.scope_error(format!(
                "no scope chain; expected {} (or a prefix of it)",
                full.join(" › ")
            )));
        }
        let got: Vec<&str> = self.chain.iter().map(|(t, _)| *t).collect();
        if got.len() > full.len() || full.get(..got.len()) != Some(&got[..]) {
            return Err(self.scope_error(format!(
                "scope chain {} does not follow {} from the organization",
                got.join(" › "),
                full.join(" › ")
            )));
        }
        for (t, id) in &self.chain {
            let ok = catalog
                .resource_type(t)
                .is_some_and(|r| r.id_is_well_formed(id));
            if !ok || id.is_empty() {
                let shape = catalog
                    .resource_type(t)
                    .map(|r| r.id_shape())
                    .unwrap_or_default();
                return Err(self.scope_error(format!(
                    "{t} id {id:?} is not well formed (expected {shape})"
                )));
            }
        }
        Ok(())
    }

    fn crn(&self, upto: usize) -> String {
        let catalog = Catalog::builtin();
        let mut s = String::from("crn://confluent.cloud");
        for (t, id) in self.chain.iter().take(upto) {
            let key = catalog
                .resource_type(t)
                .and_then(|r| r.crn_key.as_deref())
                .unwrap_or(t);
            s.push('/');
            s.push_str(key);
            s.push('=');
            s.push_str(id);
        }
        s
    }

    /// Build the record. Fails when the scope chain does not fit the
    /// catalog or the principal is missing; a built event passes the
    /// validator with no findings (tested for every catalog method).
    pub fn build(self) -> Result<Event, BuildError> {
        self.check_chain()?;
        let principal = self
            .principal
            .clone()
            .ok_or_else(|| BuildError::NoPrincipal(self.method.name.clone()))?;
        let organization = match self.chain.first() {
            Some((t, id)) if *t == "ORGANIZATION" => id.clone(),
            _ => principal.organization.clone(),
        };
        let request_id = self.request_id.clone().unwrap_or_else(new_request_id);
        let resource_name = self.crn(self.chain.len());

        let pair = |t: &str, id: &str| {
            let mut o = Object::with_capacity(2);
            o.insert("type", Json::from(t));
            o.insert("resourceId", Json::from(id));
            Json::from(o)
        };
        let split = if self.resource_is_target {
            self.chain.len() - 1
        } else {
            self.chain.len()
        };
        let mut entry = Object::new();
        let scope: Vec<Json> = self.chain[..split]
            .iter()
            .map(|(t, id)| pair(t, id))
            .collect();
        if !scope.is_empty() {
            let mut s = Object::new();
            s.insert("resources", Json::from(scope));
            entry.insert("scope", Json::from(s));
        }
        if let Some((t, id)) = self.chain.get(split) {
            entry.insert("resource", pair(t, id));
        }

        let mut who = Object::new();
        if let Some(e) = &principal.email {
            who.insert("email", Json::from(e.as_str()));
        }
        let mut rid = Object::new();
        rid.insert("resourceId", Json::from(principal.id.as_str()));
        let key = match principal.kind {
            PrincipalKind::User => "confluentUser",
            PrincipalKind::ServiceAccount => "confluentServiceAccount",
        };
        who.insert(key, Json::from(rid));
        let mut auth = Object::new();
        auth.insert("principal", Json::from(who));
        // The call was authenticated; whether it succeeded is result.status.
        auth.insert("result", Json::from("SUCCESS"));
        auth.insert(
            "identity",
            Json::from(format!(
                "crn://confluent.cloud/organization={}/identity-provider=Confluent/identity={}",
                principal.organization, principal.id
            )),
        );

        let mut meta = Object::new();
        meta.insert(
            "requestId",
            Json::from(vec![Json::from(request_id.as_str())]),
        );
        if !self.client_ips.is_empty() {
            let ips = self
                .client_ips
                .iter()
                .map(|ip| {
                    let mut o = Object::new();
                    o.insert("ip", Json::from(ip.as_str()));
                    Json::from(o)
                })
                .collect::<Vec<_>>();
            meta.insert("clientAddress", Json::from(ips));
        }

        let mut request = Object::new();
        request.insert("accessType", Json::from(self.method.access_type.as_str()));
        if let Some(d) = self.request_data {
            request.insert("data", d);
        }

        let mut result = Object::new();
        match self.outcome {
            Outcome::Success(data) => {
                result.insert("status", Json::from("SUCCESS"));
                if let Some(d) = data {
                    result.insert("data", d);
                }
            }
            Outcome::Failure(errors, extra) => {
                result.insert("status", Json::from("FAILURE"));
                let mut data = match extra {
                    Some(Json::Object(o)) => o,
                    _ => Object::new(),
                };
                let list = errors
                    .into_iter()
                    .map(|e| {
                        let mut o = Object::new();
                        let id = if e.id.is_empty() { &request_id } else { &e.id };
                        o.insert("id", Json::from(id.as_str()));
                        o.insert("status", Json::from(e.status));
                        o.insert("detail", Json::from(e.detail));
                        o.insert("source", Json::from(Object::new()));
                        Json::from(o)
                    })
                    .collect::<Vec<_>>();
                data.insert("errors", Json::from(list));
                result.insert("data", Json::from(data));
            }
        }

        let mut payload = Object::new();
        payload.insert("serviceName", Json::from(self.source.as_str()));
        payload.insert("methodName", Json::from(self.method.name.as_str()));
        payload.insert("cloudResources", Json::from(vec![Json::from(entry)]));
        payload.insert("authenticationInfo", Json::from(auth));
        payload.insert("requestMetadata", Json::from(meta));
        payload.insert("request", Json::from(request));
        payload.insert("result", Json::from(result));
        payload.insert("resourceName", Json::from(resource_name.as_str()));

        let id = self.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let time = self.time.unwrap_or_else(now);
        let mut env = Object::new();
        env.insert("specversion", Json::from("1.0"));
        env.insert("id", Json::from(id.as_str()));
        env.insert("source", Json::from(self.source.as_str()));
        env.insert("type", Json::from(self.method.event_type.as_str()));
        env.insert("datacontenttype", Json::from("application/json"));
        env.insert("subject", Json::from(resource_name));
        env.insert("time", Json::from(time.to_rfc3339_nanos()));
        env.insert("data", Json::from(payload));
        Ok(Event {
            id,
            organization,
            record: Json::from(env),
        })
    }
}

/// Now, with nanoseconds. Two events built in the same nanosecond on one
/// process still get distinct, increasing times, so ordering by time is stable.
pub fn now() -> Timestamp {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = t.max(prev + 1);
        match LAST.compare_exchange_weak(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Timestamp::from_unix_nanos(i128::from(next)),
            Err(p) => prev = p,
        }
    }
}

/// A 32-hex-digit request id, the shape Confluent's records carry.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
