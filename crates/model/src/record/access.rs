//! Read-only shortcuts into a record for the fields people filter and index on.

use super::types::{AuditData, Principal, Record, ResourceRef};
use crate::crn::Crn;
use crate::time::{parse_rfc3339, Timestamp};

/// Who acted, flattened over the principal shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalSummary<'a> {
    /// `user`, `service_account`, `identity_pool`, `group`, `external`, `internal` or `text`.
    pub kind: Option<&'static str>,
    /// The id: `u-…`, `sa-…`, `pool-…`, … (`User:` prefix removed).
    pub id: Option<&'a str>,
    /// The email, when given.
    pub email: Option<&'a str>,
    /// The identity CRN, when given.
    pub identity: Option<&'a str>,
}

impl Record {
    /// The audit payload.
    pub fn audit(&self) -> Option<&AuditData> {
        self.data.as_ref()
    }

    /// `data.methodName`.
    pub fn method_name(&self) -> Option<&str> {
        self.audit()?.method_name.as_deref()
    }

    /// `data.serviceName`.
    pub fn service_name(&self) -> Option<&str> {
        self.audit()?.service_name.as_deref()
    }

    /// `data.resourceName`.
    pub fn resource_name(&self) -> Option<&str> {
        self.audit()?.resource_name.as_deref()
    }

    /// `data.result.status`.
    pub fn status(&self) -> Option<&str> {
        self.audit()?.result.as_ref()?.status.as_deref()
    }

    /// `data.request.accessType`.
    pub fn access_type(&self) -> Option<&str> {
        self.audit()?.request.as_ref()?.access_type.as_deref()
    }

    /// `time`, parsed.
    pub fn timestamp(&self) -> Option<Timestamp> {
        parse_rfc3339(self.time.as_deref()?).ok()
    }

    /// The acting principal.
    pub fn principal(&self) -> PrincipalSummary<'_> {
        let Some(auth) = self.audit().and_then(|d| d.authentication_info.as_ref()) else {
            return PrincipalSummary::default();
        };
        let mut s = PrincipalSummary {
            identity: auth.identity.as_deref(),
            ..Default::default()
        };
        match &auth.principal {
            Some(p @ Principal::Text(_)) => {
                s.kind = Some("text");
                s.id = p.id();
            }
            Some(Principal::Object(o)) => {
                s.email = o.email.as_deref();
                s.id = o.id();
                s.kind = if o.confluent_user.is_some() {
                    Some("user")
                } else if o.confluent_service_account.is_some() {
                    Some("service_account")
                } else if o.identity_pool.is_some() {
                    Some("identity_pool")
                } else if o.group.is_some() {
                    Some("group")
                } else if o.external_account.is_some() {
                    Some("external")
                } else if o.confluent_internal.is_some() {
                    Some("internal")
                } else {
                    None
                };
            }
            None => {}
        }
        s
    }

    /// Client IP addresses from `requestMetadata.clientAddress`.
    pub fn client_ips(&self) -> impl Iterator<Item = &str> {
        self.audit()
            .and_then(|d| d.request_metadata.as_ref())
            .and_then(|m| m.client_address.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|a| a.ip.as_deref())
    }

    /// Request ids from `requestMetadata.requestId`.
    pub fn request_ids(&self) -> &[String] {
        self.audit()
            .and_then(|d| d.request_metadata.as_ref())
            .and_then(|m| m.request_id.as_ref())
            .map_or(&[], |r| r.as_slice())
    }

    /// The first `cloudResources[].resource`.
    pub fn primary_resource(&self) -> Option<&ResourceRef> {
        self.audit()?
            .cloud_resources
            .as_ref()?
            .iter()
            .find_map(|c| c.resource.as_ref())
    }

    /// The CRN of the target: `resourceName` if it parses, else `subject`.
    pub fn resource_crn(&self) -> Option<Crn> {
        let parse = |s: Option<&str>| s.and_then(|s| Crn::parse(s).ok());
        parse(self.resource_name()).or_else(|| parse(self.subject.as_deref()))
    }

    /// The organization (tenant) the record belongs to: from the target CRN,
    /// else from the `ORGANIZATION` entry of `cloudResources`.
    pub fn organization(&self) -> Option<String> {
        if let Some(o) = self
            .resource_crn()
            .as_ref()
            .and_then(|c| c.organization().map(str::to_owned))
        {
            return Some(o);
        }
        self.scoped_id("ORGANIZATION")
    }

    /// The environment, found the same way as [`Record::organization`].
    pub fn environment(&self) -> Option<String> {
        if let Some(e) = self
            .resource_crn()
            .as_ref()
            .and_then(|c| c.environment().map(str::to_owned))
        {
            return Some(e);
        }
        self.scoped_id("ENVIRONMENT")
    }

    /// [`Record::organization`] and [`Record::environment`] for a caller
    /// that already holds the target CRN (from [`Record::resource_crn`]).
    pub fn tenant(&self, target: Option<&Crn>) -> (Option<String>, Option<String>) {
        let org = target
            .and_then(|c| c.organization().map(str::to_owned))
            .or_else(|| self.scoped_id("ORGANIZATION"));
        let env = target
            .and_then(|c| c.environment().map(str::to_owned))
            .or_else(|| self.scoped_id("ENVIRONMENT"));
        (org, env)
    }

    /// The id of the first resource of type `ty` in any cloudResources scope or resource.
    fn scoped_id(&self, ty: &str) -> Option<String> {
        for c in self.audit()?.cloud_resources.as_ref()? {
            let scope = c.scope.as_ref().and_then(|s| s.resources.as_ref());
            for r in scope.into_iter().flatten().chain(c.resource.as_ref()) {
                if r.resource_type.as_deref() == Some(ty) {
                    if let Some(id) = &r.resource_id {
                        return Some(id.clone());
                    }
                }
            }
        }
        None
    }

    /// HTTP-style status codes of the result's errors, e.g. `["404"]`.
    pub fn error_codes(&self) -> Vec<&str> {
        let Some((_, list)) = self
            .audit()
            .and_then(|d| d.result.as_ref())
            .and_then(|r| r.error_list())
        else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|e| e.get("status").and_then(|s| s.as_str()))
            .collect()
    }
}
