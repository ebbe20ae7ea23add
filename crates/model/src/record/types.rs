//! The typed audit-log record: the CloudEvents envelope and the `data` payload.
//!
//! Member names follow Confluent Cloud's camelCase form; each also accepts the
//! snake_case `AuditLog.v2` spelling. Every type keeps unknown members in
//! `extra`, so a record always round-trips.

use super::fields::{
    json_object, FromJson, Inspect, MemberIssue, OneOrMany, Respell, SpellingTally, ToJson,
};
use crate::json::Json;

json_object! {
    /// One audit-log event record: a CloudEvents 1.0 envelope around [`AuditData`].
    /// `extra` holds CloudEvents extension attributes.
    pub struct Record {
        /// CloudEvents `specversion`, `"1.0"`.
        specversion: String = ("specversion", "specversion"),
        /// Unique within `source`.
        id: String = ("id", "id"),
        /// Where the event happened, a URI (a CRN in Confluent Cloud).
        source: String = ("source", "source"),
        /// Event type, e.g. `io.confluent.cloud/request`.
        event_type: String = ("type", "type"),
        /// The resource the event is about (a CRN).
        subject: String = ("subject", "subject"),
        /// RFC 3339 timestamp, kept as written.
        time: String = ("time", "time"),
        /// Media type of `data`.
        datacontenttype: String = ("datacontenttype", "datacontenttype"),
        /// Schema of `data`, e.g. `https://confluent.io/internal/events/AuditLog.v2`.
        dataschema: String = ("dataschema", "dataschema"),
        /// The audit payload.
        data: AuditData = ("data", "data"),
    }
}

json_object! {
    /// The audit payload inside `data`.
    pub struct AuditData {
        /// CRN of the service that received the request.
        service_name: String = ("serviceName", "service_name"),
        /// Internal service CRN, seen in `AuditLog.v2` records.
        internal_service_name: String = ("internalServiceName", "internal_service_name"),
        /// The auditable event method, e.g. `CreateConnector`.
        method_name: String = ("methodName", "method_name"),
        /// CRN of the target resource.
        resource_name: String = ("resourceName", "resource_name"),
        /// The resources touched, each with its scope chain.
        cloud_resources: Vec<CloudResource> = ("cloudResources", "cloud_resources"),
        /// Who made the request.
        authentication_info: AuthenticationInfo = ("authenticationInfo", "authentication_info"),
        /// The permission check, for authorization events.
        authorization_info: AuthorizationInfo = ("authorizationInfo", "authorization_info"),
        /// Request ids and client addresses.
        request_metadata: RequestMetadata = ("requestMetadata", "request_metadata"),
        /// The request.
        request: Request = ("request", "request"),
        /// The outcome.
        result: AuditResult = ("result", "result"),
    }
}

json_object! {
    /// One entry of `cloudResources`: a resource and the chain of scopes it lives in.
    pub struct CloudResource {
        /// Enclosing resources, outermost first.
        scope: Scope = ("scope", "scope"),
        /// The resource itself.
        resource: ResourceRef = ("resource", "resource"),
    }
}

json_object! {
    /// `cloudResources[].scope`.
    pub struct Scope {
        /// Outermost first: ORGANIZATION, ENVIRONMENT, CLOUD_CLUSTER, …
        resources: Vec<ResourceRef> = ("resources", "resources"),
    }
}

json_object! {
    /// A typed resource id, e.g. `{"type": "CONNECTOR", "resourceId": "lcc-pkdrjy"}`.
    pub struct ResourceRef {
        /// Resource type, e.g. `ENVIRONMENT`.
        resource_type: String = ("type", "type"),
        /// Resource id, e.g. `env-abc123`.
        resource_id: String = ("resourceId", "resource_id"),
    }
}

json_object! {
    /// `authenticationInfo`.
    pub struct AuthenticationInfo {
        /// The authenticated principal (string or object form).
        principal: Principal = ("principal", "principal"),
        /// The principal that assumed `principal`'s identity, when different.
        original_principal: Principal = ("originalPrincipal", "original_principal"),
        /// Identity CRN, e.g. `…/identity-provider=Confluent/identity=u-123`.
        identity: String = ("identity", "identity"),
        /// Kafka SASL details: mechanism and identifier (the API key).
        metadata: AuthMetadata = ("metadata", "metadata"),
        /// Credentials presented.
        credentials: Credentials = ("credentials", "credentials"),
        /// `CUSTOMER`, or Confluent-internal exposure.
        exposure: String = ("exposure", "exposure"),
        /// Authentication outcome, e.g. `SUCCESS`.
        result: String = ("result", "result"),
        /// Why authentication failed.
        error_message: String = ("errorMessage", "error_message"),
    }
}

/// `authenticationInfo.principal`: `"User:u-123"` in Kafka events, an object
/// such as `{"confluentUser": {"resourceId": "u-123"}}` elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// The Kafka string form, e.g. `User:sa-abc123`.
    Text(String),
    /// The object form (boxed: it is much larger than the string form).
    Object(Box<PrincipalObject>),
}

impl FromJson for Principal {
    fn expected() -> String {
        "a string or an object".into()
    }
    fn accepts(v: &Json) -> bool {
        matches!(v, Json::String(_) | Json::Object(_))
    }
    fn from_json(v: Json) -> Result<Self, Json> {
        match v {
            Json::String(s) => Ok(Principal::Text(s)),
            o @ Json::Object(_) => {
                PrincipalObject::from_json(o).map(|p| Principal::Object(Box::new(p)))
            }
            other => Err(other),
        }
    }
}
impl ToJson for Principal {
    fn to_json(&self, form: super::Form) -> Json {
        match self {
            Principal::Text(s) => Json::String(s.clone()),
            Principal::Object(o) => o.to_json(form),
        }
    }
    fn tally(&self, t: &mut SpellingTally) {
        if let Principal::Object(o) = self {
            o.tally(t);
        }
    }
}
impl Inspect for Principal {
    fn member_issues(&self, path: &crate::path::Lazy<'_>, out: &mut Vec<MemberIssue>) {
        if let Principal::Object(o) = self {
            o.member_issues(path, out);
        }
    }
}
impl Respell for Principal {
    fn respell(&mut self, form: super::Form) {
        if let Principal::Object(o) = self {
            o.respell(form);
        }
    }
}

json_object! {
    /// The object form of a principal. Usually one member is set, sometimes with `email`.
    pub struct PrincipalObject {
        /// The user's email.
        email: String = ("email", "email"),
        /// A Confluent user, `u-…`.
        confluent_user: IdRef = ("confluentUser", "confluent_user"),
        /// A service account, `sa-…`.
        confluent_service_account: IdRef = ("confluentServiceAccount", "confluent_service_account"),
        /// An identity pool, `pool-…`.
        identity_pool: IdRef = ("identityPool", "identity_pool"),
        /// A group, `group-…`.
        group: IdRef = ("group", "group"),
        /// An account known to an external identity provider.
        external_account: ExternalAccount = ("externalAccount", "external_account"),
        /// Confluent-internal principal.
        confluent_internal: String = ("confluentInternal", "confluent_internal"),
    }
}

json_object! {
    /// `{"resourceId": "u-123", "internalId": "99"}`.
    pub struct IdRef {
        /// Public id.
        resource_id: String = ("resourceId", "resource_id"),
        /// Internal numeric id.
        internal_id: String = ("internalId", "internal_id"),
    }
}

json_object! {
    /// An account at an external identity provider.
    pub struct ExternalAccount {
        /// Subject known to the IdP.
        subject: String = ("subject", "subject"),
        /// Namespace chain `[{id, type}]`.
        namespace: Json = ("namespace", "namespace"),
    }
}

json_object! {
    /// Kafka authentication metadata.
    pub struct AuthMetadata {
        /// e.g. `SASL_SSL/PLAIN`.
        mechanism: String = ("mechanism", "mechanism"),
        /// e.g. the API key id.
        identifier: String = ("identifier", "identifier"),
    }
}

json_object! {
    /// Credentials presented at authentication.
    pub struct Credentials {
        /// API key style credentials.
        id_secret_credentials: IdSecretCredentials = ("idSecretCredentials", "id_secret_credentials"),
        /// Token credentials (JWT).
        id_token_credentials: IdTokenCredentials = ("idTokenCredentials", "id_token_credentials"),
        /// mTLS certificate details.
        certificate_credentials: Json = ("certificateCredentials", "certificate_credentials"),
        /// e.g. `HTTP_BASIC`, `HTTP_BEARER`.
        mechanism: String = ("mechanism", "mechanism"),
    }
}

json_object! {
    /// `credentials.idSecretCredentials`.
    pub struct IdSecretCredentials {
        /// The key id (never the secret).
        credential_id: String = ("credentialId", "credential_id"),
    }
}

json_object! {
    /// `credentials.idTokenCredentials`.
    pub struct IdTokenCredentials {
        /// Token type, `JWT`.
        token_type: String = ("type", "type"),
        /// Who signed the token.
        issuer: String = ("issuer", "issuer"),
        /// The principal the token names.
        subject: String = ("subject", "subject"),
        /// Intended audience.
        audience: Json = ("audience", "audience"),
    }
}

json_object! {
    /// `authorizationInfo`: the outcome of a permission check.
    pub struct AuthorizationInfo {
        /// Whether access was granted.
        granted: bool = ("granted", "granted"),
        /// `ALLOW` or `DENY` in IP filter events.
        result: String = ("result", "result"),
        /// The operation checked, e.g. `Describe`, `CreateCloudCluster`.
        operation: String = ("operation", "operation"),
        /// e.g. `Topic`, `Environment`.
        resource_type: String = ("resourceType", "resource_type"),
        /// The resource checked.
        resource_name: String = ("resourceName", "resource_name"),
        /// `LITERAL`, `PREFIXED`, …
        pattern_type: String = ("patternType", "pattern_type"),
        /// Granted because the principal is a super user.
        super_user_authorization: bool = ("superUserAuthorization", "super_user_authorization"),
        /// Granted or denied by an ACL.
        acl_authorization: AclAuthorization = ("aclAuthorization", "acl_authorization"),
        /// Granted or denied by an RBAC role binding.
        rbac_authorization: RbacAuthorization = ("rbacAuthorization", "rbac_authorization"),
        /// Decided by an IP filter. Confluent spells it with a lowercase `f`.
        ipfilter_authorization: IpFilterAuthorization = ("ipfilterAuthorization", "ipfilter_authorization"),
        /// Group-mapping principals that applied.
        assigned_principals: Vec<Principal> = ("assignedPrincipals", "assigned_principals"),
        /// The decisive principal under group mapping.
        acting_principal: Principal = ("actingPrincipal", "acting_principal"),
        /// A check made only to see whether the action would be allowed.
        dry_run: bool = ("dryRun", "dry_run"),
    }
}

json_object! {
    /// `authorizationInfo.aclAuthorization`.
    pub struct AclAuthorization {
        /// `ALLOW` / `DENY`.
        permission_type: String = ("permissionType", "permission_type"),
        /// Host the ACL names.
        host: String = ("host", "host"),
        /// ACL pattern type.
        pattern_type: String = ("patternType", "pattern_type"),
        /// ACL pattern.
        pattern_name: String = ("patternName", "pattern_name"),
        /// ACL resource type.
        resource_type: String = ("resourceType", "resource_type"),
        /// Decisive principal.
        acting_principal: Principal = ("actingPrincipal", "acting_principal"),
    }
}

json_object! {
    /// `authorizationInfo.rbacAuthorization`.
    pub struct RbacAuthorization {
        /// The role, e.g. `EnvironmentAdmin`.
        role: String = ("role", "role"),
        /// Where the role binding applies.
        scope: RbacScope = ("scope", "scope"),
        /// Decisive principal under group mapping.
        acting_principal: Principal = ("actingPrincipal", "acting_principal"),
        /// Operation assigned to the role.
        operation: String = ("operation", "operation"),
        /// Resource type of the binding.
        resource_type: String = ("resourceType", "resource_type"),
        /// Pattern type of the binding.
        pattern_type: String = ("patternType", "pattern_type"),
        /// Pattern of the binding.
        pattern_name: String = ("patternName", "pattern_name"),
        /// Cloud resources in the binding's scope.
        cloud_scope: Json = ("cloudScope", "cloud_scope"),
    }
}

json_object! {
    /// `rbacAuthorization.scope`.
    pub struct RbacScope {
        /// e.g. `["organization=…", "environment=env-1ab2c"]`.
        outer_scope: Vec<String> = ("outerScope", "outer_scope"),
        /// Cluster ids by kind.
        clusters: Json = ("clusters", "clusters"),
    }
}

json_object! {
    /// `authorizationInfo.ipfilterAuthorization`.
    pub struct IpFilterAuthorization {
        /// The client address checked.
        client_ip: String = ("clientIp", "client_ip"),
        /// e.g. `MANAGEMENT`.
        resource_group: String = ("resourceGroup", "resource_group"),
    }
}

json_object! {
    /// `requestMetadata`.
    pub struct RequestMetadata {
        /// Request ids (a list in Cloud records, a string in some).
        request_id: OneOrMany<String> = ("requestId", "request_id"),
        /// Client addresses.
        client_address: Vec<ClientAddress> = ("clientAddress", "client_address"),
        /// Client-supplied id.
        client_id: String = ("clientId", "client_id"),
        /// Client-supplied trace id.
        client_trace_id: String = ("clientTraceId", "client_trace_id"),
        /// Authenticated connection id.
        connection_id: String = ("connectionId", "connection_id"),
    }
}

json_object! {
    /// One `requestMetadata.clientAddress` entry.
    pub struct ClientAddress {
        /// IPv4 or IPv6 address.
        ip: String = ("ip", "ip"),
        /// Port, when known (kept as given).
        port: Json = ("port", "port"),
    }
}

json_object! {
    /// `request`.
    pub struct Request {
        /// `READ_ONLY` or `MODIFICATION`.
        access_type: String = ("accessType", "access_type"),
        /// Free-form request details (secrets masked by the emitter).
        data: Json = ("data", "data"),
        /// Kafka correlation id (string or number, kept as given).
        correlation_id: Json = ("correlationId", "correlation_id"),
        /// Kafka client id.
        client_id: String = ("clientId", "client_id"),
    }
}

json_object! {
    /// `result`.
    pub struct AuditResult {
        /// `SUCCESS` or `FAILURE`.
        status: String = ("status", "status"),
        /// Human-readable message.
        message: String = ("message", "message"),
        /// Free-form result details; failures carry `errors` here.
        data: Json = ("data", "data"),
        /// Errors, when given directly under `result`.
        errors: Json = ("errors", "errors"),
    }
}

impl AuditResult {
    /// The error list and the path below `result` it came from: `data.errors`
    /// as Confluent writes it, or `errors` directly under `result`.
    pub fn error_list(&self) -> Option<(&'static str, &[Json])> {
        if let Some(list) = self
            .data
            .as_ref()
            .and_then(|d| d.get("errors"))
            .and_then(Json::as_array)
        {
            return Some(("data.errors", list));
        }
        self.errors
            .as_ref()
            .and_then(Json::as_array)
            .map(|l| ("errors", l))
    }
}

/// Convenience accessors over the union of principal shapes.
impl Principal {
    /// The principal's id: `u-…`, `sa-…`, `pool-…`, `group-…`, the external
    /// subject, or the Kafka string with its `User:` prefix removed.
    pub fn id(&self) -> Option<&str> {
        match self {
            Principal::Text(s) => Some(s.strip_prefix("User:").unwrap_or(s)),
            Principal::Object(o) => o.id(),
        }
    }
}

impl PrincipalObject {
    /// The id of whichever principal kind is set.
    pub fn id(&self) -> Option<&str> {
        fn r(x: &Option<IdRef>) -> Option<&str> {
            x.as_ref().and_then(|i| i.resource_id.as_deref())
        }
        r(&self.confluent_user)
            .or_else(|| r(&self.confluent_service_account))
            .or_else(|| r(&self.identity_pool))
            .or_else(|| r(&self.group))
            .or_else(|| {
                self.external_account
                    .as_ref()
                    .and_then(|e| e.subject.as_deref())
            })
            .or(self.confluent_internal.as_deref())
            .map(|s| s.strip_prefix("User:").unwrap_or(s))
    }
}
