//! The synthetic AWS organisation: accounts, their resources, and the principals that act in
//! them ([`Actor`]) with the behaviour that drives their activity ([`Behaviour`]).
//!
//! Names and account ids are fixed so that documentation and labels can name them; the seed
//! decides the per-person IP addresses, unique ids and all activity.

use super::ops::ids;
use super::rng::{hash, hash_str, hex_id, mix, upper_id};

/// Regions the organisation may touch; an account routinely uses one or two of them.
pub(crate) const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "eu-central-1",
    "us-west-2",
    "ap-southeast-1",
    "eu-north-1",
];
pub(crate) const USE1: u8 = 0;
pub(crate) const EUW1: u8 = 1;
pub(crate) const EUC1: u8 = 2;
/// Regions no workload uses; only the security scanner's daily sweep touches them.
pub(crate) const UNUSED: &[u8] = &[3, 4, 5];

/// One AWS account and the resource names its events refer to.
#[derive(Debug)]
pub(crate) struct Account {
    pub id: &'static str,
    pub name: &'static str,
    pub home: u8,
    /// Regions with routine activity, home first.
    pub regions: Vec<u8>,
    pub trail: String,
    pub trail_region: u8,
    /// Secret names with the six-character suffix Secrets Manager appends to ARNs.
    pub secrets: Vec<(String, String)>,
    pub buckets: Vec<String>,
    pub roles: Vec<String>,
    pub functions: Vec<String>,
    pub params: Vec<String>,
    pub tables: Vec<&'static str>,
    pub stacks: Vec<String>,
    pub key_id: String,
    /// NAT gateway address of workloads, per routine region.
    pub nat_ips: Vec<String>,
}

/// Where a call comes from (`sourceIPAddress`).
#[derive(Debug, Clone)]
pub(crate) enum Src {
    Ip(String),
    /// A service name or `AWS Internal`.
    Host(&'static str),
    /// An address drawn per session from /16 prefixes (CI runners, Lambda NAT pools).
    Pool(u64, &'static [&'static str]),
}

/// How the principal appears in `userIdentity`.
#[derive(Debug, Clone)]
pub(crate) enum Ident {
    IamUser {
        name: String,
        principal_id: String,
        access_key: String,
    },
    Root,
    Role {
        name: String,
        arn: String,
        role_id: String,
        session: Session,
        ec2: bool,
    },
    Service(&'static str),
    WebIdentity {
        subject: String,
    },
}

/// Role session name.
#[derive(Debug, Clone)]
pub(crate) enum Session {
    Named(String),
    /// `i-0` + 16 hex digits derived from the salt and the spec's session number.
    Instance(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    Ec2,
    S3,
    Iam,
    Lambda,
    Rds,
    Observe,
    Secrets,
    Security,
    Kms,
    Ssm,
    Cfn,
    Org,
}

/// What a person does (one [`Actor`] per person and account/role they use).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// Shared by all actors of one person (absence days, office/home days).
    pub id: u64,
    /// UTC offset of the person's office hours, in hours.
    pub tz: i32,
    /// Sessions per hour at the peak of a working day (before `scale`).
    pub level: f64,
    /// Share of sessions in the web console (the rest are CLI/SDK).
    pub console: f64,
    pub focus: Vec<(Focus, f64)>,
    /// False for read-only permission sets: writes fail with AccessDenied.
    pub can_write: bool,
    /// Steady GetSecretValue calls per working hour (0 for most people).
    pub secret_rate: f64,
}

/// An EC2 fleet under one instance role.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    /// Instances at scale 1.
    pub base: u32,
    pub region: u8,
    /// GetSecretValue per hour for the whole fleet (not scaled).
    pub secret_rate: f64,
    /// The account's `ec2.amazonaws.com` service actor.
    pub svc: u16,
}

/// A Lambda function under its execution role.
#[derive(Debug, Clone)]
pub(crate) struct LambdaFn {
    pub region: u8,
    /// GetSecretValue per hour (not scaled).
    pub secret_rate: f64,
    /// Other calls per hour at peak (scaled).
    pub calls: f64,
    /// The account's `lambda.amazonaws.com` service actor.
    pub svc: u16,
    /// Runs once a week (Monday 06:00 UTC) instead of continuously.
    pub weekly: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Behaviour {
    /// Acts only in injected attacks.
    Dormant,
    /// Driven by another actor's behaviour (service identities, the CI OIDC caller).
    Passive,
    Person(Person),
    Fleet(Fleet),
    Lambda(LambdaFn),
    /// Terraform in GitHub Actions; `webid` is the OIDC caller actor.
    Ci {
        webid: u16,
    },
    /// The AWS Config service-linked role.
    Config,
    /// A cross-account security scanner role.
    Scanner,
    /// A legacy IAM user running a nightly backup script.
    Backup,
    /// The root user signing in for billing now and then.
    RootBilling,
    /// `cloudtrail.amazonaws.com` encrypting log files with the account's KMS key.
    TrailKms,
}

/// A principal in one account.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub account: u8,
    /// Short handle used in labels and tests (`marc.dubois`, `billing-worker`).
    pub handle: String,
    pub ident: Ident,
    pub srcs: Vec<Src>,
    pub agents: Vec<String>,
    pub behaviour: Behaviour,
}

impl Actor {
    /// `actor_uid` as cloudsift normalises it: IAM user ARN, role ARN, root ARN, service host.
    pub(crate) fn uid(&self, account: &Account) -> String {
        match &self.ident {
            Ident::IamUser { name, .. } => format!("arn:aws:iam::{}:user/{name}", account.id),
            Ident::Root => format!("arn:aws:iam::{}:root", account.id),
            Ident::Role { arn, .. } => arn.clone(),
            Ident::Service(host) => (*host).to_string(),
            Ident::WebIdentity { subject } => subject.clone(),
        }
    }

    /// People (IAM users and SSO sessions driven by [`Behaviour::Person`]).
    #[cfg(test)]
    pub(crate) fn is_person(&self) -> bool {
        matches!(self.behaviour, Behaviour::Person(_))
    }
}

/// Read and write operations of one focus area.
#[derive(Debug, Clone)]
pub(crate) struct FocusOps {
    pub reads: Vec<u16>,
    pub writes: Vec<u16>,
}

/// The whole organisation.
#[derive(Debug)]
pub(crate) struct Org {
    pub seed: u64,
    pub scale: f64,
    pub accounts: Vec<Account>,
    pub actors: Vec<Actor>,
    focus: Vec<FocusOps>,
    /// What a Terraform refresh reads.
    pub ci_reads: Vec<u16>,
    pub ci_writes: Vec<u16>,
    pub config_reads: Vec<u16>,
    pub scanner_reads: Vec<u16>,
}

pub(crate) const GITHUB_RUNNERS: &[&str] =
    &["20.57", "20.102", "40.84", "52.167", "13.64", "4.175"];
pub(crate) const LAMBDA_EUW1: &[&str] = &["3.250", "34.245", "54.170", "52.49"];

pub(crate) const UA_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36";
pub(crate) const UA_SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15";
pub(crate) const UA_FIREFOX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0";
pub(crate) const UA_CLI_MAC: &str =
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off";
pub(crate) const UA_CLI_LINUX: &str =
    "aws-cli/2.15.21 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off";
pub(crate) const UA_BOTO3: &str = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.54";
pub(crate) const UA_TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64";
pub(crate) const UA_SSM: &str =
    "aws-sdk-go/1.44.260 (go1.20.12; linux; amd64) amazon-ssm-agent/3.2.2303.0";
pub(crate) const UA_EC2_APP: &str = "aws-sdk-java/2.25.6 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.2+13-LTS Java/21.0.2 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy";
pub(crate) const UA_LAMBDA: &str = "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.210-220.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.34";
pub(crate) const UA_SCANNER: &str = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux#6.1.79-99.167.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.34.54 prowler/3.15.0";
pub(crate) const UA_LEGACY_CLI: &str =
    "aws-cli/1.18.69 Python/3.6.8 Linux/3.10.0-1160.el7.x86_64 botocore/1.17.52";
pub(crate) const UA_ATTACKER_CLI: &str =
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off";
pub(crate) const UA_ATTACKER_SDK: &str = "Boto3/1.34.60 md/Botocore#1.34.60 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.60";

/// Account indices.
pub(crate) const MGMT: u8 = 0;
pub(crate) const PROD: u8 = 1;
pub(crate) const STAGING: u8 = 2;
pub(crate) const SECURITY: u8 = 3;

fn account(
    id: &'static str,
    name: &'static str,
    home: u8,
    regions: Vec<u8>,
    trail: &str,
    secrets: &[&str],
) -> Account {
    let h = hash_str(id);
    let sfx = |s: &str| {
        let x = mix(h ^ hash_str(s));
        let alnum: String = (0..6)
            .map(|i| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [((x >> (i * 6)) % 62) as usize] as char
            })
            .collect();
        (s.to_string(), alnum)
    };
    Account {
        id,
        name,
        home,
        nat_ips: regions
            .iter()
            .map(|&r| {
                let x = mix(h ^ r as u64);
                let first = if r == EUW1 {
                    "52.16"
                } else if r == EUC1 {
                    "18.192"
                } else {
                    "54.84"
                };
                format!("{first}.{}.{}", (x >> 8) % 256, x % 254 + 1)
            })
            .collect(),
        regions,
        trail: trail.to_string(),
        trail_region: home,
        secrets: secrets.iter().map(|s| sfx(s)).collect(),
        buckets: ["assets", "artifacts", "data-lake", "backups", "access-logs"]
            .iter()
            .map(|b| format!("acme-{name}-{b}-{}", &id[8..]))
            .collect(),
        roles: [
            "app-server-role",
            "billing-worker-role",
            "github-actions-terraform",
            "security-audit",
            "AWSServiceRoleForConfig",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        functions: [
            "billing-worker",
            "image-resizer",
            "api-authorizer",
            "weekly-report",
        ]
        .iter()
        .map(|f| format!("{name}-{f}"))
        .collect(),
        params: [
            "/app/db/host",
            "/app/db/port",
            "/app/feature-flags",
            "/app/api/base-url",
            "/shared/vpc/id",
        ]
        .iter()
        .map(|p| format!("/{name}{p}"))
        .collect(),
        tables: vec!["orders", "customers", "sessions", "invoices"],
        stacks: ["network", "app", "data", "monitoring"]
            .iter()
            .map(|s| format!("{name}-{s}"))
            .collect(),
        key_id: super::rng::uuid_string(mix(h ^ 1), mix(h ^ 2)),
    }
}

#[rustfmt::skip]
fn focus_ops(f: Focus) -> FocusOps {
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

const ALL_FOCUS: [Focus; 12] = [
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

/// An IPv4 address in one of the RFC 5737 documentation ranges, stable for `h`.
fn doc_ip(h: u64) -> String {
    let nets = ["192.0.2", "198.51.100", "203.0.113"];
    format!("{}.{}", nets[(h % 3) as usize], (h >> 8) % 250 + 2)
}

struct PersonSpec {
    handle: &'static str,
    tz: i32,
    level: f64,
    console: f64,
    focus: &'static [(Focus, f64)],
    /// (account, permission set, share of the person's sessions).
    roles: &'static [(u8, &'static str, f64)],
    ipv6: bool,
}

use Focus::*;

#[rustfmt::skip]
const PEOPLE: &[PersonSpec] = &[
    PersonSpec { handle: "anna.jansen", tz: 1, level: 1.2, console: 0.5, ipv6: false,
        focus: &[(Ec2, 2.0), (Iam, 2.0), (Org, 1.0), (Security, 1.0), (S3, 1.0)],
        roles: &[(MGMT, "AdministratorAccess", 0.3), (PROD, "AdministratorAccess", 0.4), (STAGING, "AdministratorAccess", 0.2), (SECURITY, "AdministratorAccess", 0.1)] },
    PersonSpec { handle: "pieter.devries", tz: 1, level: 1.5, console: 0.2, ipv6: true,
        focus: &[(Ec2, 3.0), (Lambda, 1.0), (Cfn, 1.0), (S3, 1.0), (Observe, 1.0), (Ssm, 1.0)],
        roles: &[(PROD, "AdministratorAccess", 0.6), (STAGING, "AdministratorAccess", 0.4)] },
    PersonSpec { handle: "sofia.martins", tz: 1, level: 1.0, console: 0.6, ipv6: false,
        focus: &[(Lambda, 3.0), (Observe, 2.0), (Cfn, 1.0), (Secrets, 0.5), (S3, 1.0)],
        roles: &[(STAGING, "PowerUserAccess", 0.7), (PROD, "ReadOnlyAccess", 0.3)] },
    PersonSpec { handle: "tom.becker", tz: 1, level: 1.0, console: 0.4, ipv6: false,
        focus: &[(Lambda, 2.0), (Ec2, 1.0), (Cfn, 2.0), (Ssm, 1.0), (Secrets, 0.5)],
        roles: &[(STAGING, "PowerUserAccess", 0.8), (PROD, "ReadOnlyAccess", 0.2)] },
    PersonSpec { handle: "lucas.moreau", tz: 1, level: 0.8, console: 0.7, ipv6: false,
        focus: &[(Observe, 2.0), (Lambda, 1.0), (Rds, 1.0), (S3, 1.0)],
        roles: &[(STAGING, "PowerUserAccess", 0.6), (PROD, "ReadOnlyAccess", 0.4)] },
    PersonSpec { handle: "emma.walsh", tz: 0, level: 1.3, console: 0.3, ipv6: true,
        focus: &[(Ec2, 2.0), (Observe, 3.0), (Rds, 1.0), (Ssm, 1.0), (Kms, 0.5)],
        roles: &[(PROD, "AdministratorAccess", 0.8), (STAGING, "AdministratorAccess", 0.2)] },
    PersonSpec { handle: "james.carter", tz: -5, level: 1.0, console: 0.5, ipv6: false,
        focus: &[(Security, 4.0), (Iam, 2.0), (S3, 1.0), (Kms, 1.0)],
        roles: &[(SECURITY, "AdministratorAccess", 0.4), (PROD, "ReadOnlyAccess", 0.3), (STAGING, "ReadOnlyAccess", 0.1), (MGMT, "ReadOnlyAccess", 0.2)] },
    PersonSpec { handle: "olivia.nguyen", tz: -5, level: 1.0, console: 0.3, ipv6: false,
        focus: &[(Rds, 2.0), (S3, 3.0), (Secrets, 0.6), (Lambda, 1.0)],
        roles: &[(PROD, "PowerUserAccess", 0.7), (STAGING, "PowerUserAccess", 0.3)] },
    PersonSpec { handle: "noah.schmidt", tz: 1, level: 0.3, console: 0.9, ipv6: false,
        focus: &[(Org, 3.0), (S3, 1.0)],
        roles: &[(MGMT, "ReadOnlyAccess", 1.0)] },
    PersonSpec { handle: "mia.kowalski", tz: 1, level: 0.9, console: 0.5, ipv6: false,
        focus: &[(Lambda, 2.0), (Cfn, 2.0), (Observe, 1.0), (Secrets, 0.4)],
        roles: &[(STAGING, "PowerUserAccess", 1.0)] },
];

impl Org {
    /// Builds the organisation for `seed`; `scale` multiplies routine volume (see
    /// [`super::GenerateOptions::scale`]).
    pub(crate) fn build(seed: u64, scale: f64) -> Org {
        let accounts = vec![
            account(
                "210987654321",
                "mgmt",
                USE1,
                vec![USE1],
                "org-trail",
                &["mgmt/billing/finance-export"],
            ),
            account(
                "318273645560",
                "prod",
                EUW1,
                vec![EUW1, EUC1],
                "prod-audit-trail",
                &[
                    "prod/billing/stripe-api-key",
                    "prod/billing/ledger-db",
                    "prod/app/db-master",
                    "prod/app/jwt-signing-key",
                    "prod/app/session-secret",
                    "prod/app/redis-auth",
                    "prod/reporting/warehouse-creds",
                    "prod/integrations/slack-webhook",
                    "prod/integrations/pagerduty-key",
                    "prod/integrations/github-app-key",
                    "prod/data/kafka-sasl",
                    "prod/data/snowflake-loader",
                    "prod/ops/grafana-admin",
                    "prod/ops/backup-encryption-key",
                ],
            ),
            account(
                "427182930455",
                "staging",
                EUW1,
                vec![EUW1],
                "staging-trail",
                &[
                    "staging/billing/stripe-api-key",
                    "staging/app/db-master",
                    "staging/app/jwt-signing-key",
                    "staging/integrations/slack-webhook",
                    "staging/data/kafka-sasl",
                ],
            ),
            account(
                "536271849302",
                "security",
                EUW1,
                vec![EUW1],
                "security-trail",
                &["security/siem/api-token", "security/scanner/slack-webhook"],
            ),
        ];
        let mut org = Org {
            seed,
            scale,
            accounts,
            actors: Vec::new(),
            focus: ALL_FOCUS.iter().map(|f| focus_ops(*f)).collect(),
            ci_reads: Vec::new(),
            ci_writes: ids(&[
                "ec2:CreateTags",
                "s3:PutBucketTagging",
                "iam:TagRole",
                "iam:PutRolePolicy",
                "lambda:UpdateFunctionCode20150331v2",
                "ssm:PutParameter",
                "iam:AttachRolePolicy",
            ]),
            config_reads: ids(&[
                "ec2:DescribeInstances",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeVolumes",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRouteTables",
                "s3:GetBucketPolicy",
                "s3:GetBucketAcl",
                "s3:GetBucketVersioning",
                "s3:GetBucketEncryption",
                "iam:GetRole",
                "iam:ListAttachedRolePolicies",
                "rds:DescribeDBInstances",
                "lambda:GetFunction20150331v2",
                "kms:DescribeKey",
            ]),
            scanner_reads: Vec::new(),
        };
        let mut ci = Vec::new();
        for f in [Ec2, S3, Iam, Lambda, Kms, Ssm, Cfn] {
            ci.extend_from_slice(&org.focus(f).reads);
        }
        ci.extend(ids(&[
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
            "logs:DescribeLogGroups",
            "monitoring:DescribeAlarms",
            "sts:GetCallerIdentity",
        ]));
        org.ci_reads = ci;
        let mut scan = Vec::new();
        for f in [Security, Ec2, S3, Iam, Kms, Lambda, Rds] {
            scan.extend_from_slice(&org.focus(f).reads);
        }
        scan.extend(ids(&[
            "secretsmanager:ListSecrets",
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetResourcePolicy",
        ]));
        org.scanner_reads = scan;
        org.add_actors();
        org
    }

    pub(crate) fn focus(&self, f: Focus) -> &FocusOps {
        &self.focus[ALL_FOCUS
            .iter()
            .position(|x| *x == f)
            .expect("focus listed")]
    }

    /// Index of the actor with this handle in this account.
    pub(crate) fn actor(&self, account: u8, handle: &str) -> u16 {
        self.actors
            .iter()
            .position(|a| a.account == account && a.handle == handle)
            .unwrap_or_else(|| panic!("no actor {handle} in account {account}")) as u16
    }

    fn push(
        &mut self,
        account: u8,
        handle: impl Into<String>,
        ident: Ident,
        srcs: Vec<Src>,
        agents: &[&str],
        behaviour: Behaviour,
    ) -> u16 {
        self.actors.push(Actor {
            account,
            handle: handle.into(),
            ident,
            srcs,
            agents: agents.iter().map(|s| s.to_string()).collect(),
            behaviour,
        });
        (self.actors.len() - 1) as u16
    }

    fn role(&self, account: u8, path: &str, name: &str, session: Session, ec2: bool) -> Ident {
        let acct = self.accounts[account as usize].id;
        let arn = format!("arn:aws:iam::{acct}:role/{path}{name}");
        Ident::Role {
            name: name.to_string(),
            role_id: upper_id("AROA", hash_str(&arn), 17),
            arn,
            session,
            ec2,
        }
    }

    fn iam_user(&self, account: u8, name: &str) -> Ident {
        let acct = self.accounts[account as usize].id;
        let h = hash(&[self.seed, hash_str(acct), hash_str(name)]);
        Ident::IamUser {
            name: name.to_string(),
            principal_id: upper_id("AIDA", h, 17),
            access_key: upper_id("AKIA", mix(h), 16),
        }
    }

    fn add_actors(&mut self) {
        let seed = self.seed;
        let office_eu = doc_ip(hash(&[seed, 1]));
        let office_us = doc_ip(hash(&[seed, 2]));
        // AWS service identities, one per account and service.
        for a in 0..self.accounts.len() as u8 {
            for host in ["ec2.amazonaws.com", "lambda.amazonaws.com"] {
                self.push(
                    a,
                    host,
                    Ident::Service(host),
                    vec![Src::Host(host)],
                    &[host],
                    Behaviour::Passive,
                );
            }
        }
        self.push(
            SECURITY,
            "cloudtrail.amazonaws.com",
            Ident::Service("cloudtrail.amazonaws.com"),
            vec![Src::Host("cloudtrail.amazonaws.com")],
            &["cloudtrail.amazonaws.com"],
            Behaviour::TrailKms,
        );
        // People through IAM Identity Center.
        for (pi, p) in PEOPLE.iter().enumerate() {
            let pid = hash(&[seed, 100 + pi as u64]);
            let office = if p.tz < 0 {
                office_us.clone()
            } else {
                office_eu.clone()
            };
            let mut srcs = vec![Src::Ip(office), Src::Ip(doc_ip(mix(pid)))];
            if p.ipv6 {
                // Canonical (RFC 5952) text, as CloudTrail writes it.
                let v6 = std::net::Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    (pid >> 16) as u16 | 1,
                    (pid >> 32) as u16 & 0xfff,
                    0,
                    0,
                    0,
                    ((pid >> 48) as u16 & 0xfff) + 1,
                );
                srcs.push(Src::Ip(v6.to_string()));
            }
            srcs.push(Src::Host("AWS Internal"));
            let browser = [UA_CHROME, UA_SAFARI, UA_FIREFOX][(pid % 3) as usize];
            let cli = if pid % 2 == 0 {
                UA_CLI_MAC
            } else {
                UA_CLI_LINUX
            };
            for &(account, permset, share) in p.roles {
                let acct = self.accounts[account as usize].id;
                let role = format!(
                    "AWSReservedSSO_{permset}_{}",
                    hex_id(hash(&[seed, hash_str(acct), hash_str(permset)]), 16)
                );
                let email = format!("{}@example.com", p.handle);
                let ident = self.role(
                    account,
                    "aws-reserved/sso.amazonaws.com/eu-west-1/",
                    &role,
                    Session::Named(email),
                    false,
                );
                let person = Person {
                    id: pid,
                    tz: p.tz,
                    level: p.level * share,
                    console: p.console,
                    focus: p.focus.to_vec(),
                    can_write: permset != "ReadOnlyAccess",
                    secret_rate: 0.0,
                };
                self.push(
                    account,
                    p.handle,
                    ident,
                    srcs.clone(),
                    &[browser, cli, UA_BOTO3, "AWS Internal"],
                    Behaviour::Person(person),
                );
            }
        }
        // Long-lived IAM users: two people in prod (one a steady secret reader) and a backup script.
        for (i, (name, focus, secret_rate)) in [
            (
                "marc.dubois",
                &[(Ec2, 2.0), (S3, 1.0), (Lambda, 1.0), (Observe, 1.0)][..],
                0.0,
            ),
            (
                "lena.fischer",
                &[(Rds, 2.0), (S3, 2.0), (Secrets, 1.0)][..],
                10.0,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let pid = hash(&[seed, 200 + i as u64]);
            let ident = self.iam_user(PROD, name);
            let person = Person {
                id: pid,
                tz: 1,
                level: 1.0,
                console: 0.15,
                focus: focus.to_vec(),
                can_write: true,
                secret_rate,
            };
            let srcs = vec![
                Src::Ip(office_eu.clone()),
                Src::Ip(doc_ip(mix(pid))),
                Src::Host("AWS Internal"),
            ];
            self.push(
                PROD,
                name,
                ident,
                srcs,
                &[UA_FIREFOX, UA_CLI_LINUX, UA_BOTO3, "AWS Internal"],
                Behaviour::Person(person),
            );
        }
        let backup = self.iam_user(PROD, "svc-backup");
        self.push(
            PROD,
            "svc-backup",
            backup,
            vec![Src::Ip(doc_ip(hash(&[seed, 3])))],
            &[UA_LEGACY_CLI],
            Behaviour::Backup,
        );
        self.push(
            MGMT,
            "root",
            Ident::Root,
            vec![Src::Ip(office_eu.clone())],
            &[UA_CHROME],
            Behaviour::RootBilling,
        );
        // Workloads.
        for (account, fleets) in [
            (PROD, &[(EUW1, 4u32, 2.0), (EUC1, 1, 0.5)][..]),
            (STAGING, &[(EUW1, 2, 1.0)][..]),
        ] {
            let svc = self.actor(account, "ec2.amazonaws.com");
            for &(region, base, secret_rate) in fleets {
                let handle = if region == EUC1 {
                    "app-server-role-dr"
                } else {
                    "app-server-role"
                };
                let salt = hash(&[seed, account as u64, region as u64, 7]);
                let ident = self.role(
                    account,
                    "",
                    "app-server-role",
                    Session::Instance(salt),
                    true,
                );
                let nat = self.accounts[account as usize].nat_ips[self.accounts[account as usize]
                    .regions
                    .iter()
                    .position(|r| *r == region)
                    .expect("fleet region is routine")]
                .clone();
                self.push(
                    account,
                    handle,
                    ident,
                    vec![Src::Ip(nat)],
                    &[UA_SSM, UA_EC2_APP],
                    Behaviour::Fleet(Fleet {
                        base,
                        region,
                        secret_rate,
                        svc,
                    }),
                );
            }
        }
        for (account, fns) in [
            (
                PROD,
                &[
                    ("billing-worker", 1.0, 12.0, false),
                    ("image-resizer", 0.0, 20.0, false),
                    ("api-authorizer", 3.0, 16.0, false),
                    ("weekly-report", 0.0, 0.0, true),
                ][..],
            ),
            (
                STAGING,
                &[
                    ("billing-worker", 1.0, 3.0, false),
                    ("api-authorizer", 1.0, 3.0, false),
                ][..],
            ),
            (SECURITY, &[("guardduty-forwarder", 0.5, 5.0, false)][..]),
        ] {
            let svc = self.actor(account, "lambda.amazonaws.com");
            let name = self.accounts[account as usize].name;
            for &(f, secret_rate, calls, weekly) in fns {
                let fname = format!("{name}-{f}");
                let ident = self.role(
                    account,
                    "service-role/",
                    &format!("{f}-role"),
                    Session::Named(fname),
                    false,
                );
                self.push(
                    account,
                    f,
                    ident,
                    vec![Src::Pool(
                        hash(&[seed, account as u64, hash_str(f)]),
                        LAMBDA_EUW1,
                    )],
                    &[UA_LAMBDA],
                    Behaviour::Lambda(LambdaFn {
                        region: EUW1,
                        secret_rate,
                        calls,
                        svc,
                        weekly,
                    }),
                );
            }
        }
        // Automation in every account.
        let scanner_ip = self.accounts[SECURITY as usize].nat_ips[0].clone();
        for a in 0..self.accounts.len() as u8 {
            let acct = self.accounts[a as usize].id;
            let subject = "repo:acme/infrastructure:ref:refs/heads/main".to_string();
            let webid = self.push(a, "github-oidc", Ident::WebIdentity { subject: format!("arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:{subject}") },
                vec![Src::Pool(hash(&[seed, 11]), GITHUB_RUNNERS)], &["aws-sdk-js/3.535.0 ua/2.0 os/linux#6.5.0-1016-azure lang/js md/nodejs#20.11.1 api/sts#3.535.0 configure-aws-credentials-for-github-actions"], Behaviour::Passive);
            let ci = self.role(
                a,
                "",
                "github-actions-terraform",
                Session::Named("GitHubActions".into()),
                false,
            );
            self.push(
                a,
                "github-actions-terraform",
                ci,
                vec![Src::Pool(hash(&[seed, 11]), GITHUB_RUNNERS)],
                &[UA_TERRAFORM],
                Behaviour::Ci { webid },
            );
            let cfg = self.role(
                a,
                "aws-service-role/config.amazonaws.com/",
                "AWSServiceRoleForConfig",
                Session::Named("AWSConfig-Describe".into()),
                false,
            );
            self.push(
                a,
                "aws-config",
                cfg,
                vec![Src::Host("config.amazonaws.com")],
                &["config.amazonaws.com"],
                Behaviour::Config,
            );
            let scan = self.role(
                a,
                "",
                "security-audit",
                Session::Named("SecurityAuditScan".into()),
                false,
            );
            self.push(
                a,
                "security-audit",
                scan,
                vec![Src::Ip(scanner_ip.clone())],
                &[UA_SCANNER],
                Behaviour::Scanner,
            );
        }
        // Principals that act only in the injected attacks (see attacks.rs).
        let marc = self.actors[self.actor(PROD, "marc.dubois") as usize]
            .ident
            .clone();
        self.push(
            PROD,
            "attacker:marc.dubois",
            marc,
            vec![Src::Ip("185.220.101.47".into())],
            &[UA_ATTACKER_CLI],
            Behaviour::Dormant,
        );
        let tom = self.actors[self.actor(STAGING, "tom.becker") as usize]
            .ident
            .clone();
        self.push(
            STAGING,
            "attacker:tom.becker",
            tom,
            vec![Src::Ip("45.137.21.9".into())],
            &[UA_ATTACKER_CLI],
            Behaviour::Dormant,
        );
        let app = self.actors[self.actor(PROD, "app-server-role") as usize].clone();
        self.push(
            PROD,
            "attacker:app-server-role",
            app.ident,
            app.srcs,
            &[UA_ATTACKER_CLI],
            Behaviour::Dormant,
        );
        let tmp = self.iam_user(PROD, "svc-reporting-tmp");
        self.push(
            PROD,
            "svc-reporting-tmp",
            tmp,
            vec![Src::Ip("91.219.236.18".into())],
            &[UA_ATTACKER_SDK],
            Behaviour::Dormant,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_builds_and_names_are_unique() {
        let org = Org::build(7, 1.0);
        let mut seen = std::collections::HashSet::new();
        for a in &org.actors {
            let acct = &org.accounts[a.account as usize];
            if a.is_person() {
                // One SSO actor per (person, account).
                assert!(
                    seen.insert((a.account, a.handle.clone())),
                    "{} twice in {}",
                    a.handle,
                    acct.name
                );
            }
            assert!(!a.uid(acct).is_empty());
            assert!(!a.srcs.is_empty() && !a.agents.is_empty(), "{}", a.handle);
        }
        assert_eq!(org.accounts.len(), 4);
    }
}
