//! The API operations the synthetic organisation calls: event source, event name, whether
//! CloudTrail marks them read-only, whether they are logged in `us-east-1` whatever the
//! caller's region (global services), and the shape of their `requestParameters` /
//! `responseElements` ([`Body`]), rendered in `record.rs`.

/// Shape of `requestParameters` and `responseElements`, filled from the account's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// Both `null`.
    Null,
    /// Literal request JSON, response `null`.
    Lit(&'static str),
    /// EC2 `Describe*` with an empty item set and filter set: `{"<set>":{},"filterSet":{}}`.
    Ec2Set(&'static str),
    /// S3 bucket sub-resource read: `{"<sub>":"","bucketName":..,"Host":..}` + S3 extras.
    Bucket(&'static str),
    /// S3 bucket sub-resource write (policy, tagging, versioning).
    BucketPut(&'static str),
    /// `{"secretId": ..}`.
    Secret,
    /// `PutSecretValue` with a version response.
    SecretPut,
    /// `{"name": trail ARN}` (StopLogging, DeleteTrail, GetTrailStatus, StartLogging).
    Trail,
    /// `{"trailName": ..}` (GetEventSelectors).
    TrailSelectorsGet,
    /// UpdateTrail with the trail description as response.
    TrailUpdate,
    /// PutEventSelectors that turns management events off and excludes KMS/RDS data.
    TrailSelectorsWeaken,
    /// `{"roleName": ..}`.
    Role,
    /// IAM role policy write.
    RolePolicy,
    /// `{"functionName": ..}`.
    Function,
    /// Lambda code update, with the function configuration as response.
    FunctionUpdate,
    /// `{"name": parameter, "withDecryption": true}`.
    Param,
    /// SSM PutParameter.
    ParamPut,
    /// `{"keyId": key ARN}`.
    Key,
    /// KMS Decrypt (secret envelope when invoked by Secrets Manager).
    KmsDecrypt,
    /// KMS GenerateDataKey made by CloudTrail for log-file encryption.
    KmsTrailDataKey,
    /// ssm UpdateInstanceInformation heartbeat of the instance in the session.
    SsmHeartbeat,
    /// sts AssumeRole of the actor's role by an AWS service (instance profile, Lambda).
    AssumeRoleBy,
    /// sts AssumeRoleWithWebIdentity of the CI role from GitHub's OIDC provider.
    AssumeRoleWebIdentity,
    /// ec2 CreateTags on an instance.
    Ec2Tags,
    /// ec2 Start/StopInstances on one instance (`true` = start).
    Ec2StartStop(bool),
    /// ec2 AuthorizeSecurityGroupIngress.
    Ec2Ingress,
    /// ec2 CreateSnapshot of a volume.
    Ec2Snapshot,
    /// ec2 DeleteSnapshot.
    Ec2SnapshotDelete,
    /// logs CreateLogStream for the instance.
    LogStream,
    /// signin ConsoleLogin (response `{"ConsoleLogin": "Success"|"Failure"}`).
    ConsoleLogin,
    /// ce GetCostAndUsage for the current month.
    CostAndUsage,
    /// dynamodb DescribeTable.
    Table,
    /// cloudformation DescribeStacks for one stack.
    Stack,
}

/// One API operation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpDef {
    /// Short service name (`ec2`); the event source is `<service>.amazonaws.com`.
    pub service: &'static str,
    /// `eventSource` (`ec2.amazonaws.com`).
    pub source: &'static str,
    /// `eventName`.
    pub name: &'static str,
    pub read_only: bool,
    /// Logged in `us-east-1` whatever region the caller uses (IAM, Organizations, ...).
    pub global: bool,
    pub body: Body,
    /// The error this call commonly returns for ordinary reasons (code, message).
    pub usual_error: Option<(&'static str, &'static str)>,
}

macro_rules! ops {
    ($( $svc:literal $name:literal $ro:ident $glob:ident $body:expr $(, err $code:literal $msg:literal)? ;)*) => {
        /// Every operation, addressed by index ([`id`]).
        pub(crate) static OPS: &[OpDef] = &[$(OpDef {
            service: $svc,
            source: concat!($svc, ".amazonaws.com"),
            name: $name,
            read_only: ops!(@ro $ro),
            global: ops!(@glob $glob),
            body: $body,
            usual_error: ops!(@err $($code $msg)?),
        }),*];
    };
    (@ro r) => { true };
    (@ro w) => { false };
    (@glob g) => { true };
    (@glob l) => { false };
    (@err) => { None };
    (@err $code:literal $msg:literal) => { Some(($code, $msg)) };
}

use Body::*;

ops! {
    // EC2
    "ec2" "DescribeInstances" r l Ec2Set("instancesSet");
    "ec2" "DescribeInstanceStatus" r l Ec2Set("instancesSet");
    "ec2" "DescribeSecurityGroups" r l Ec2Set("securityGroupSet");
    "ec2" "DescribeVpcs" r l Ec2Set("vpcSet");
    "ec2" "DescribeSubnets" r l Ec2Set("subnetSet");
    "ec2" "DescribeVolumes" r l Ec2Set("volumeSet");
    "ec2" "DescribeSnapshots" r l Ec2Set("snapshotSet");
    "ec2" "DescribeRouteTables" r l Ec2Set("routeTableIdSet");
    "ec2" "DescribeNetworkInterfaces" r l Ec2Set("networkInterfaceIdSet");
    "ec2" "DescribeImages" r l Ec2Set("executableBySet");
    "ec2" "DescribeAvailabilityZones" r l Ec2Set("availabilityZoneSet");
    "ec2" "DescribeAccountAttributes" r l Ec2Set("accountAttributeNameSet");
    "ec2" "DescribeTags" r l Ec2Set("resourceIdSet");
    "ec2" "DescribeLaunchTemplates" r l Ec2Set("launchTemplateIdSet");
    "ec2" "DescribeKeyPairs" r l Ec2Set("keySet");
    "ec2" "DescribeAddresses" r l Ec2Set("publicIpsSet");
    "ec2" "DescribeNatGateways" r l Ec2Set("natGatewayIdSet");
    "ec2" "CreateTags" w l Ec2Tags;
    "ec2" "StartInstances" w l Ec2StartStop(true);
    "ec2" "StopInstances" w l Ec2StartStop(false);
    "ec2" "AuthorizeSecurityGroupIngress" w l Ec2Ingress, err "InvalidPermission.Duplicate" "the specified rule \"peer: 10.0.0.0/16, TCP, from port: 443, to port: 443, ALLOW\" already exists";
    "ec2" "CreateSnapshot" w l Ec2Snapshot;
    "ec2" "DeleteSnapshot" w l Ec2SnapshotDelete;
    // S3 (management events only)
    "s3" "ListBuckets" r l Lit(r#"{"Host":"s3.amazonaws.com"}"#);
    "s3" "GetBucketLocation" r l Bucket("location");
    "s3" "GetBucketPolicy" r l Bucket("policy"), err "NoSuchBucketPolicy" "The bucket policy does not exist";
    "s3" "GetBucketAcl" r l Bucket("acl");
    "s3" "GetBucketVersioning" r l Bucket("versioning");
    "s3" "GetBucketEncryption" r l Bucket("encryption");
    "s3" "GetBucketTagging" r l Bucket("tagging"), err "NoSuchTagSet" "The TagSet does not exist";
    "s3" "GetBucketPublicAccessBlock" r l Bucket("publicAccessBlock");
    "s3" "GetBucketLogging" r l Bucket("logging");
    "s3" "PutBucketTagging" w l BucketPut("tagging");
    "s3" "PutBucketPolicy" w l BucketPut("policy");
    "s3" "PutBucketVersioning" w l BucketPut("versioning");
    // IAM (global)
    "iam" "ListRoles" r g Null;
    "iam" "ListUsers" r g Null;
    "iam" "GetRole" r g Role;
    "iam" "ListAttachedRolePolicies" r g Role;
    "iam" "ListRolePolicies" r g Role;
    "iam" "ListPolicies" r g Lit(r#"{"scope":"Local","onlyAttached":false,"policyUsageFilter":"PermissionsPolicy"}"#);
    "iam" "GetPolicy" r g Lit(r#"{"policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}"#);
    "iam" "GetAccountSummary" r g Null;
    "iam" "ListAccessKeys" r g Null;
    "iam" "ListMFADevices" r g Null;
    "iam" "GetUser" r g Null;
    "iam" "GenerateCredentialReport" r g Null;
    "iam" "GetCredentialReport" r g Null, err "ReportInProgress" "Report is in progress";
    "iam" "AttachRolePolicy" w g RolePolicy;
    "iam" "PutRolePolicy" w g RolePolicy;
    "iam" "TagRole" w g RolePolicy;
    // STS
    "sts" "GetCallerIdentity" r l Null;
    "sts" "AssumeRole" r l AssumeRoleBy;
    "sts" "AssumeRoleWithWebIdentity" r l AssumeRoleWebIdentity;
    // CloudTrail
    "cloudtrail" "DescribeTrails" r l Lit(r#"{"trailNameList":[],"includeShadowTrails":true}"#);
    "cloudtrail" "GetTrailStatus" r l Trail;
    "cloudtrail" "GetEventSelectors" r l TrailSelectorsGet;
    "cloudtrail" "ListTrails" r l Null;
    "cloudtrail" "LookupEvents" r l Lit(r#"{"maxResults":50}"#);
    "cloudtrail" "UpdateTrail" w l TrailUpdate;
    "cloudtrail" "StopLogging" w l Trail;
    "cloudtrail" "StartLogging" w l Trail;
    "cloudtrail" "DeleteTrail" w l Trail;
    "cloudtrail" "PutEventSelectors" w l TrailSelectorsWeaken;
    // KMS
    "kms" "ListKeys" r l Null;
    "kms" "ListAliases" r l Null;
    "kms" "DescribeKey" r l Key;
    "kms" "GetKeyRotationStatus" r l Key;
    "kms" "Decrypt" r l KmsDecrypt;
    "kms" "GenerateDataKey" r l KmsTrailDataKey;
    // Lambda
    "lambda" "ListFunctions20150331" r l Null;
    "lambda" "GetFunction20150331v2" r l Function;
    "lambda" "GetPolicy20150331v2" r l Function, err "ResourceNotFoundException" "The resource you requested does not exist.";
    "lambda" "ListEventSourceMappings20150331" r l Null;
    "lambda" "UpdateFunctionCode20150331v2" w l FunctionUpdate;
    // RDS
    "rds" "DescribeDBInstances" r l Null;
    "rds" "DescribeDBClusters" r l Lit(r#"{"includeShared":false}"#);
    "rds" "DescribeDBSnapshots" r l Null;
    "rds" "DescribeDBSubnetGroups" r l Null;
    // Secrets Manager
    "secretsmanager" "ListSecrets" r l Lit(r#"{"maxResults":100}"#);
    "secretsmanager" "DescribeSecret" r l Secret;
    "secretsmanager" "GetResourcePolicy" r l Secret;
    "secretsmanager" "GetSecretValue" r l Secret;
    // Bedrock runtime (management events in CloudTrail)
    "bedrock" "InvokeModel" r l Lit(r#"{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0","contentType":"application/json","accept":"application/json"}"#);
    "secretsmanager" "PutSecretValue" w l SecretPut;
    // SSM
    "ssm" "DescribeInstanceInformation" r l Null;
    "ssm" "GetParameter" r l Param;
    "ssm" "DescribeParameters" r l Lit(r#"{"maxResults":50}"#);
    "ssm" "PutParameter" w l ParamPut;
    "ssm" "UpdateInstanceInformation" w l SsmHeartbeat;
    // Observability
    "logs" "DescribeLogGroups" r l Lit(r#"{"limit":50}"#);
    "logs" "DescribeMetricFilters" r l Null;
    "logs" "CreateLogStream" w l LogStream, err "ResourceAlreadyExistsException" "The specified log stream already exists";
    "monitoring" "DescribeAlarms" r l Lit(r#"{"maxRecords":100}"#);
    "elasticloadbalancing" "DescribeLoadBalancers" r l Null;
    "elasticloadbalancing" "DescribeTargetGroups" r l Null;
    // Security services
    "guardduty" "ListDetectors" r l Null;
    "config" "DescribeConfigurationRecorders" r l Null;
    "config" "DescribeConfigRules" r l Null;
    "securityhub" "GetFindings" r l Lit(r#"{"maxResults":100,"filters":{"recordState":[{"comparison":"EQUALS","value":"ACTIVE"}]}}"#);
    // Misc
    "ecr" "GetAuthorizationToken" r l Null;
    "ecr" "DescribeRepositories" r l Null;
    "dynamodb" "DescribeTable" r l Table;
    "dynamodb" "ListTables" r l Lit(r#"{"limit":100}"#);
    "cloudformation" "DescribeStacks" r l Stack;
    "cloudformation" "ListStacks" r l Null;
    "route53" "ListHostedZones" r g Null;
    "organizations" "DescribeOrganization" r g Null;
    "organizations" "ListAccounts" r g Null;
    "signin" "ConsoleLogin" w g ConsoleLogin, err "Failed authentication" "Failed authentication";
    "ce" "GetCostAndUsage" r g CostAndUsage;
}

/// Index of the operation `service:Name` in [`OPS`].
///
/// # Panics
/// On a name missing from the table: the organisation is built from literals, so this is a
/// bug caught by the module's tests.
pub(crate) fn id(key: &str) -> u16 {
    let (svc, name) = key.split_once(':').expect("op key is service:Name");
    OPS.iter()
        .position(|o| o.service == svc && o.name == name)
        .unwrap_or_else(|| panic!("unknown operation {key}")) as u16
}

/// Indices of several operations.
pub(crate) fn ids(keys: &[&str]) -> Vec<u16> {
    keys.iter().map(|k| id(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for o in OPS {
            assert!(seen.insert((o.service, o.name)), "{} twice", o.name);
            assert!(o.source.ends_with(".amazonaws.com"));
        }
        assert_eq!(
            OPS[id("cloudtrail:StopLogging") as usize].name,
            "StopLogging"
        );
    }
}
