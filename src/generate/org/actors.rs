//! The principals of the organisation ([`Org::add_actors`]): AWS service identities, people
//! through IAM Identity Center (and two IAM users), workloads, automation, the root user and
//! the dormant principals that act only in the injected attacks.

use super::super::rng::{hash, hash_str, hex_id, mix};
use super::Focus::{self, *};
use super::{
    Behaviour, Fleet, Ident, LambdaFn, Org, Person, Session, Src, EUC1, EUW1, GITHUB_RUNNERS,
    LAMBDA_EUW1, MGMT, PROD, SECURITY, STAGING, UA_ATTACKER_CLI, UA_ATTACKER_SDK, UA_BOTO3,
    UA_CHROME, UA_CLI_LINUX, UA_CLI_MAC, UA_EC2_APP, UA_FIREFOX, UA_LAMBDA, UA_LEGACY_CLI,
    UA_SAFARI, UA_SCANNER, UA_SSM, UA_TERRAFORM,
};

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
    /// Adds every principal of the organisation, in a fixed order (actor indices are part of
    /// the output's determinism).
    pub(super) fn add_actors(&mut self) {
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
            let cli = if pid.is_multiple_of(2) {
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
        // A forgotten IAM user of staging whose access key leaked (A7); pushed last so that
        // the other actors keep their indices.
        let legacy = self.iam_user(STAGING, "jenkins-legacy");
        self.push(
            STAGING,
            "attacker:jenkins-legacy",
            legacy,
            vec![Src::Ip("146.70.199.42".into())],
            &[UA_ATTACKER_CLI],
            Behaviour::Dormant,
        );
    }
}
