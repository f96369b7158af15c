//! THE normalised event schema (`lake/events`): column names, the Arrow schema, and the
//! vocabularies (`provider`, `log_format`, `actor_type`, `status`).
//!
//! The schema is fixed: it is never inferred from a sample (see `../shared/DESIGN.md`,
//! "Normalised event schema"). Names are flattened OCSF API Activity (class 6003) attribute
//! names where OCSF has one (`time`, `src_endpoint.ip` → `src_ip`, `api.operation` → `operation`).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Event time, microseconds since the Unix epoch, UTC.
pub const TIME: &str = "time";
/// The source's own record id (CloudTrail `eventID`, M365 `Id`, GCP `insertId`, ...).
pub const EVENT_UID: &str = "event_uid";
pub const PROVIDER: &str = "provider";
pub const LOG_FORMAT: &str = "log_format";
/// The account whose log recorded the event (CloudTrail `recipientAccountId`, tenant, project).
pub const ACCOUNT_UID: &str = "account_uid";
pub const REGION: &str = "region";
/// Stable principal key; never an empty string; NULL when the record names no usable actor.
pub const ACTOR_UID: &str = "actor_uid";
pub const ACTOR_NAME: &str = "actor_name";
/// One of [`ActorType`]'s names.
pub const ACTOR_TYPE: &str = "actor_type";
pub const ACTOR_SESSION_UID: &str = "actor_session_uid";
/// The caller's home account (CloudTrail `userIdentity.accountId`).
pub const ACTOR_ACCOUNT_UID: &str = "actor_account_uid";
/// Canonical IP text: port and brackets removed, IPv4-mapped IPv6 unwrapped, IPv6 compressed.
pub const SRC_IP: &str = "src_ip";
pub const SRC_PORT: &str = "src_port";
/// A source that is not an IP (`lambda.amazonaws.com`, `AWS Internal`).
pub const SRC_HOST: &str = "src_host";
pub const USER_AGENT: &str = "user_agent";
pub const SERVICE: &str = "service";
pub const OPERATION: &str = "operation";
/// One of [`Status`]'s names.
pub const STATUS: &str = "status";
pub const STATUS_RAW: &str = "status_raw";
pub const ERROR_CODE: &str = "error_code";
pub const ERROR_MESSAGE: &str = "error_message";
pub const RESOURCE_UID: &str = "resource_uid";
/// Request body as JSON text exactly as logged; JSON `null` is NULL.
pub const REQUEST_PARAMS: &str = "request_params";
/// Response body as JSON text exactly as logged; JSON `null` is NULL.
pub const RESPONSE_ELEMENTS: &str = "response_elements";
/// The whole original record as JSON text (kept unless the pipeline turns it off).
pub const RAW_EVENT: &str = "raw_event";
/// Object key (or local path) the record came from.
pub const SOURCE_OBJECT: &str = "source_object";
/// Where in the object: `record:N` (0-based index in a JSON document), `line:N` (1-based),
/// `row:N` (CSV record number, the header being row 1).
pub const SOURCE_LOCATOR: &str = "source_locator";

/// Every column, in schema order.
pub const COLUMNS: [&str; 30] = [
    TIME, EVENT_UID, PROVIDER, LOG_FORMAT, ACCOUNT_UID, REGION, ACTOR_UID, ACTOR_NAME,
    ACTOR_TYPE, ACTOR_SESSION_UID, ACTOR_ACCOUNT_UID, SRC_IP, SRC_PORT, SRC_HOST, USER_AGENT,
    SERVICE, OPERATION, STATUS, STATUS_RAW, ERROR_CODE, ERROR_MESSAGE, RESOURCE_UID,
    REQUEST_PARAMS, RESPONSE_ELEMENTS, RAW_EVENT, SOURCE_OBJECT, SOURCE_LOCATOR,
    // Derived at write time so partition pruning and daily profiles need no parsing.
    DATE, HOUR_OF_WEEK, INGEST_RUN_UID,
];

/// `YYYY-MM-DD` of `time` (UTC); also the hive partition value.
pub const DATE: &str = "date";
/// 0..168, Monday 00:00 UTC = 0; the seasonal bucket of the baselines.
pub const HOUR_OF_WEEK: &str = "hour_of_week";
/// The run that wrote the row (ingest time lives in the run manifest, not in `time`).
pub const INGEST_RUN_UID: &str = "ingest_run_uid";

/// The Arrow schema of `lake/events` Parquet files.
pub fn event_schema() -> SchemaRef {
    use DataType::Utf8;
    let s = |name: &str, nullable: bool| Field::new(name, Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new(TIME, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
        s(EVENT_UID, false),
        s(PROVIDER, false),
        s(LOG_FORMAT, false),
        s(ACCOUNT_UID, false),
        s(REGION, true),
        s(ACTOR_UID, true),
        s(ACTOR_NAME, true),
        s(ACTOR_TYPE, false),
        s(ACTOR_SESSION_UID, true),
        s(ACTOR_ACCOUNT_UID, true),
        s(SRC_IP, true),
        Field::new(SRC_PORT, DataType::UInt16, true),
        s(SRC_HOST, true),
        s(USER_AGENT, true),
        s(SERVICE, false),
        s(OPERATION, false),
        s(STATUS, false),
        s(STATUS_RAW, true),
        s(ERROR_CODE, true),
        s(ERROR_MESSAGE, true),
        s(RESOURCE_UID, true),
        s(REQUEST_PARAMS, true),
        s(RESPONSE_ELEMENTS, true),
        s(RAW_EVENT, true),
        s(SOURCE_OBJECT, false),
        s(SOURCE_LOCATOR, false),
        s(DATE, false),
        Field::new(HOUR_OF_WEEK, DataType::UInt8, false),
        s(INGEST_RUN_UID, false),
    ]))
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The value as written in the lake.
            pub const fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parses the lake text; `None` for text outside the vocabulary.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$v),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

vocabulary!(
    /// Cloud (or SaaS) that produced the record: OCSF `cloud.provider`, lower-case.
    Provider { Aws = "aws", Azure = "azure", Gcp = "gcp", M365 = "m365", Entra = "entra" }
);

vocabulary!(
    /// The record shape a normaliser reads (`--format` values, minus `auto`).
    LogFormat {
        CloudTrail = "cloudtrail",
        M365Audit = "m365_audit",
        EntraAudit = "entra_audit",
        EntraSignin = "entra_signin",
        AzureActivity = "azure_activity",
        KeyVaultAudit = "keyvault_audit",
        GcpAudit = "gcp_audit",
        Ocsf = "ocsf",
    }
);

vocabulary!(
    /// Principal type. Automation is recognisable from this value alone
    /// ([`ActorType::is_automation`]), so baselines keep it apart from people.
    ActorType {
        IamUser = "iam_user",
        Root = "root",
        AssumedRole = "assumed_role",
        FederatedUser = "federated_user",
        IdentityCenterUser = "identity_center_user",
        AwsService = "aws_service",
        AwsAccount = "aws_account",
        /// A person in M365, Entra or GCP.
        User = "user",
        ServicePrincipal = "service_principal",
        Application = "application",
        ManagedIdentity = "managed_identity",
        ServiceAccount = "service_account",
        ServiceAgent = "service_agent",
        System = "system",
        Unknown = "unknown",
        /// The record names no actor (CloudTrail Insights, some service events).
        None = "none",
    }
);

impl ActorType {
    /// True for non-human principals that are baselined apart from people.
    /// `assumed_role` is not counted here: an SSO session is a person behind a role.
    pub const fn is_automation(self) -> bool {
        matches!(
            self,
            ActorType::AwsService
                | ActorType::AwsAccount
                | ActorType::ServicePrincipal
                | ActorType::Application
                | ActorType::ManagedIdentity
                | ActorType::ServiceAccount
                | ActorType::ServiceAgent
                | ActorType::System
        )
    }
}

vocabulary!(
    /// Outcome, OCSF `status` lower-cased. The source's own word is kept in `status_raw`.
    Status { Success = "success", Failure = "failure", Partial = "partial", Unknown = "unknown" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_has_every_column_in_order() {
        let schema = event_schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, COLUMNS.to_vec());
    }

    #[test]
    fn vocabulary_round_trips() {
        for t in ActorType::ALL {
            assert_eq!(ActorType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(LogFormat::parse("m365_audit"), Some(LogFormat::M365Audit));
        assert_eq!(Status::parse("ok"), None);
        assert!(ActorType::AwsService.is_automation());
        assert!(!ActorType::AssumedRole.is_automation());
    }
}
