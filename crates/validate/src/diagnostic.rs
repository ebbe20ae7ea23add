//! What the validator reports: a JSON path, a code, a severity and a message.

use std::fmt;

/// How much a finding matters to consumers of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; harms nothing.
    Info,
    /// Sloppiness of the kind Confluent's own published examples show; consumers cope.
    Warning,
    /// Breaks consumers: a record they cannot identify, order, route or trust.
    Error,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

macro_rules! codes {
    ($( $(#[$m:meta])* $variant:ident = ($name:literal, $sev:ident) ),* $(,)?) => {
        /// A stable identifier for each kind of finding. The string form
        /// (`Code::as_str`) is part of the CLI and HTTP output.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code { $( $(#[$m])* $variant, )* }

        impl Code {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The snake_case name used in output.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The severity this code is reported with.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
        }
    };
}

codes! {
    /// The input is not valid JSON.
    InvalidJson = ("invalid_json", Error),
    /// Valid JSON, but not an object, so not a record.
    NotARecord = ("not_a_record", Error),
    /// A required CloudEvents attribute (id, source, specversion, type) is absent.
    MissingAttribute = ("missing_attribute", Error),
    /// A required attribute is an empty string.
    EmptyAttribute = ("empty_attribute", Error),
    /// `specversion` is not `"1.0"`.
    InvalidSpecversion = ("invalid_specversion", Error),
    /// `time` is not an RFC 3339 date-time.
    InvalidTime = ("invalid_time", Error),
    /// A known member has the wrong JSON type.
    WrongType = ("wrong_type", Error),
    /// Both the camelCase and snake_case spelling of one member are present.
    ConflictingSpelling = ("conflicting_spelling", Error),
    /// A CRN does not parse.
    InvalidCrn = ("invalid_crn", Error),
    /// No `data` payload.
    MissingData = ("missing_data", Error),
    /// No `data.methodName`.
    MissingMethod = ("missing_method", Error),
    /// `result.status` is neither SUCCESS nor FAILURE.
    InvalidStatus = ("invalid_status", Error),
    /// `request.accessType` is neither READ_ONLY nor MODIFICATION.
    InvalidAccessType = ("invalid_access_type", Error),
    /// `request.accessType` contradicts the catalog.
    AccessTypeMismatch = ("access_type_mismatch", Error),
    /// The method belongs to a different event type than the record's `type`.
    MethodEventTypeMismatch = ("method_event_type_mismatch", Error),
    /// No `time`.
    MissingTime = ("missing_time", Warning),
    /// No `subject`.
    MissingSubject = ("missing_subject", Warning),
    /// No `data.resourceName`.
    MissingResourceName = ("missing_resource_name", Warning),
    /// No principal in `authenticationInfo`.
    MissingPrincipal = ("missing_principal", Warning),
    /// A catalogued method's record has no `request.accessType`.
    MissingAccessType = ("missing_access_type", Warning),
    /// A catalogued method's record has no `result.status`.
    MissingStatus = ("missing_status", Warning),
    /// `type` is not in the catalog.
    UnknownEventType = ("unknown_event_type", Warning),
    /// `methodName` is not in the catalog.
    UnknownMethod = ("unknown_method", Warning),
    /// `methodName` is a documented alias of a catalog method.
    MethodAlias = ("method_alias", Warning),
    /// `subject` and `resourceName` name different resources.
    SubjectResourceMismatch = ("subject_resource_mismatch", Warning),
    /// A `cloudResources` scope entry disagrees with the record's CRN.
    ScopeMismatch = ("scope_mismatch", Warning),
    /// A `cloudResources` scope chain is out of hierarchy order.
    ScopeOrder = ("scope_order", Warning),
    /// `cloudResources` names a resource type unrelated to the method's.
    UnexpectedResourceType = ("unexpected_resource_type", Warning),
    /// A `cloudResources` entry has a scope but no resource.
    MissingResource = ("missing_resource", Warning),
    /// A resource id does not have the shape the catalog gives its type.
    UnexpectedIdFormat = ("unexpected_id_format", Warning),
    /// A principal id carries a Kafka-style `User:` prefix.
    PrefixedPrincipalId = ("prefixed_principal_id", Warning),
    /// An id or CRN inside `request.data` / `result.data` contradicts the record.
    DataScopeMismatch = ("data_scope_mismatch", Warning),
    /// The same `cloudResources` entry appears twice.
    DuplicateCloudResource = ("duplicate_cloud_resource", Warning),
    /// `result.status` is FAILURE but no errors say why.
    FailureWithoutErrors = ("failure_without_errors", Warning),
    /// `result.status` is SUCCESS but errors are listed.
    SuccessWithErrors = ("success_with_errors", Warning),
    /// An error's `status` is not an HTTP status code string.
    InvalidErrorStatus = ("invalid_error_status", Warning),
    /// `authenticationInfo.result` is neither SUCCESS nor FAILURE.
    UnknownAuthenticationResult = ("unknown_authentication_result", Warning),
    /// `authenticationInfo.identity` names another principal or organization.
    IdentityMismatch = ("identity_mismatch", Warning),
    /// A client address is not an IP address.
    InvalidIp = ("invalid_ip", Warning),
    /// The record mixes camelCase and snake_case member names.
    MixedWireForm = ("mixed_wire_form", Warning),
    /// An extension attribute name breaks CloudEvents naming rules.
    InvalidExtensionName = ("invalid_extension_name", Warning),
    /// `datacontenttype` is not JSON.
    UnexpectedDataContentType = ("unexpected_datacontenttype", Warning),
    /// Another record has the same (source, id) but different content.
    IdConflict = ("id_conflict", Warning),
    /// Another record is identical, same (source, id) and content.
    DuplicateRecord = ("duplicate_record", Info),
}

/// One finding about one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// How much it matters.
    pub severity: Severity,
    /// What kind of finding.
    pub code: Code,
    /// JSON path of the offending member, e.g. `$.data.cloudResources[0].scope`.
    pub path: String,
    /// What is wrong, and what to do about it where that is not obvious.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic with the code's severity.
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: code.severity(),
            code,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity.as_str(),
            self.code.as_str(),
            self.path,
            self.message
        )
    }
}
