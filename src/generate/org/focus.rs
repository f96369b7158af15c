//! The read and write operations of each focus area a person (or the CI, Config and scanner
//! sweeps) draws calls from.

use super::super::ops::ids;
use super::{Focus, FocusOps};

/// The operations of focus area `f`; a repeated name is drawn more often.
#[rustfmt::skip]
pub(super) fn focus_ops(f: Focus) -> FocusOps {
    let (r, w): (&[&str], &[&str]) = match f {
        Focus::Ec2 => (
            &["ec2:DescribeInstances", "ec2:DescribeInstances", "ec2:DescribeInstances", "ec2:DescribeInstanceStatus",
              "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
              "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeRouteTables", "ec2:DescribeNetworkInterfaces",
              "ec2:DescribeImages", "ec2:DescribeAvailabilityZones", "ec2:DescribeAccountAttributes", "ec2:DescribeTags",
              "ec2:DescribeLaunchTemplates", "ec2:DescribeKeyPairs", "ec2:DescribeAddresses", "ec2:DescribeNatGateways",
              "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups"],
            &["ec2:CreateTags", "ec2:StartInstances", "ec2:StopInstances", "ec2:AuthorizeSecurityGroupIngress"],
        ),
        Focus::S3 => (
            &["s3:ListBuckets", "s3:ListBuckets", "s3:GetBucketLocation", "s3:GetBucketLocation", "s3:GetBucketPolicy",
              "s3:GetBucketAcl", "s3:GetBucketVersioning", "s3:GetBucketEncryption", "s3:GetBucketTagging",
              "s3:GetBucketPublicAccessBlock", "s3:GetBucketLogging"],
            &["s3:PutBucketTagging", "s3:PutBucketPolicy", "s3:PutBucketVersioning"],
        ),
        Focus::Iam => (
            &["iam:ListRoles", "iam:ListUsers", "iam:GetRole", "iam:GetRole", "iam:ListAttachedRolePolicies",
              "iam:ListRolePolicies", "iam:ListPolicies", "iam:GetPolicy", "iam:GetAccountSummary", "iam:ListAccessKeys",
              "iam:ListMFADevices", "iam:GetUser"],
            &["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:TagRole"],
        ),
        Focus::Lambda => (
            &["lambda:ListFunctions20150331", "lambda:GetFunction20150331v2", "lambda:GetFunction20150331v2",
              "lambda:GetPolicy20150331v2", "lambda:ListEventSourceMappings20150331", "logs:DescribeLogGroups"],
            &["lambda:UpdateFunctionCode20150331v2"],
        ),
        Focus::Rds => (
            &["rds:DescribeDBInstances", "rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:DescribeDBSnapshots",
              "rds:DescribeDBSubnetGroups"],
            &[],
        ),
        Focus::Observe => (
            &["logs:DescribeLogGroups", "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "monitoring:DescribeAlarms",
              "monitoring:DescribeAlarms", "cloudtrail:LookupEvents"],
            &[],
        ),
        Focus::Secrets => (
            &["secretsmanager:ListSecrets", "secretsmanager:ListSecrets", "secretsmanager:DescribeSecret",
              "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:GetSecretValue"],
            &["secretsmanager:PutSecretValue"],
        ),
        Focus::Security => (
            &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:ListTrails",
              "cloudtrail:LookupEvents", "cloudtrail:LookupEvents", "guardduty:ListDetectors",
              "config:DescribeConfigurationRecorders", "config:DescribeConfigRules", "securityhub:GetFindings",
              "securityhub:GetFindings", "iam:GenerateCredentialReport", "iam:GetCredentialReport"],
            &[],
        ),
        Focus::Kms => (&["kms:ListKeys", "kms:ListAliases", "kms:DescribeKey", "kms:GetKeyRotationStatus"], &[]),
        Focus::Ssm => (
            &["ssm:DescribeInstanceInformation", "ssm:GetParameter", "ssm:GetParameter", "ssm:DescribeParameters"],
            &["ssm:PutParameter"],
        ),
        Focus::Cfn => (
            &["cloudformation:DescribeStacks", "cloudformation:DescribeStacks", "cloudformation:ListStacks",
              "dynamodb:ListTables", "dynamodb:DescribeTable", "ecr:DescribeRepositories"],
            &[],
        ),
        Focus::Org => (
            &["organizations:DescribeOrganization", "organizations:ListAccounts", "organizations:ListAccounts",
              "route53:ListHostedZones", "ce:GetCostAndUsage"],
            &[],
        ),
    };
    FocusOps { reads: ids(r), writes: ids(w) }
}

/// Every focus area, in the order of `Org::focus`'s table.
pub(super) const ALL_FOCUS: [Focus; 12] = [
    Focus::Ec2,
    Focus::S3,
    Focus::Iam,
    Focus::Lambda,
    Focus::Rds,
    Focus::Observe,
    Focus::Secrets,
    Focus::Security,
    Focus::Kms,
    Focus::Ssm,
    Focus::Cfn,
    Focus::Org,
];
