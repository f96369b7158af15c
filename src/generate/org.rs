//! The synthetic AWS organisation: accounts, their resources, and the principals that act in
//! them ([`Actor`]) with the behaviour that drives their activity ([`Behaviour`]).
//!
//! Names and account ids are fixed so that documentation and labels can name them; the seed
//! decides the per-person IP addresses, unique ids and all activity.

mod accounts;
mod actors;
mod focus;

use super::ops::ids;
use super::rng::{hash, hash_str, mix, upper_id};
use accounts::account;
use focus::{focus_ops, ALL_FOCUS};
use Focus::*;

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
}

#[cfg(test)]
mod tests;
