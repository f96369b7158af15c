//! `requestParameters` and `responseElements` of a record, per [`Body`] shape, filled from
//! the account's resources (secrets, trail, instances, keys).

use std::io::Write;

use chrono::{DateTime, Datelike};

use super::super::activity::{Spec, ERR_NONE, VIA_SECRETS};
use super::super::ops::{Body, OpDef};
use super::super::org::{Actor, Ident, Session, REGIONS, SECURITY};
use super::super::rng::{hash, hash_str, mix, hex_id, push_upper_id, push_uuid, push_uuid_bits, Rng};
use super::{push_instance, raw, Render};

impl Render<'_> {
    fn secret_arn(&self, out: &mut Vec<u8>, region: &str, e: usize) {
        let (name, sfx) = &self.account.secrets[e % self.account.secrets.len()];
        let _ = write!(
            out,
            "arn:aws:secretsmanager:{region}:{}:secret:{name}-{sfx}",
            self.account.id
        );
    }

    fn instance_of(&self, spec: &Spec, actor: &Actor, out: &mut Vec<u8>) {
        match &actor.ident {
            Ident::Role {
                session: Session::Instance(salt),
                ..
            } => push_instance(out, *salt, spec.session),
            _ => push_instance(out, hash_str(self.account.id), spec.extra % 12),
        }
    }

    /// `requestParameters` and `responseElements`.
    pub(super) fn body(&self, out: &mut Vec<u8>, spec: &Spec, op: &OpDef, actor: &Actor, rng: &mut Rng) {
        let acct = self.account;
        let a = acct.id;
        let region = Self::region_str(spec);
        let e = spec.extra as usize;
        let failed = spec.err != ERR_NONE;
        raw(out, r#","requestParameters":"#);
        let bucket = &acct.buckets[e % acct.buckets.len()];
        let trail_arn = format!(
            "arn:aws:cloudtrail:{}:{a}:trail/{}",
            REGIONS[acct.trail_region as usize], acct.trail
        );
        // Response written after the request; `None` = null.
        let mut resp: Option<Vec<u8>> = None;
        match op.body {
            Body::Null => raw(out, "null"),
            Body::Lit(l) => raw(out, l),
            Body::Ec2Set(set) => {
                let _ = write!(out, r#"{{"{set}":{{}},"filterSet":{{}}}}"#);
            }
            Body::Bucket(sub) => {
                if sub == "location" {
                    let _ = write!(
                        out,
                        r#"{{"location":"","bucketName":"{bucket}","Host":"{bucket}.s3.amazonaws.com"}}"#
                    );
                } else {
                    let _ = write!(
                        out,
                        r#"{{"{sub}":"","bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com"}}"#
                    );
                }
            }
            Body::BucketPut(sub) => {
                let host = format!(
                    r#""bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com""#
                );
                let _ = match sub {
                    "policy" => write!(
                        out,
                        r#"{{"bucketPolicy":{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}},{host},"policy":""}}"#
                    ),
                    "tagging" => write!(
                        out,
                        r#"{{"Tagging":{{"TagSet":{{"Tag":[{{"Value":"platform","Key":"team"}},{{"Value":"{}","Key":"env"}}]}},"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}},"tagging":"",{host}}}"#,
                        acct.name
                    ),
                    _ => write!(
                        out,
                        r#"{{"VersioningConfiguration":{{"Status":"Enabled","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}},{host},"versioning":""}}"#
                    ),
                };
            }
            Body::Secret => {
                raw(out, r#"{"secretId":""#);
                if e % 10 < 3 {
                    self.secret_arn(out, region, e);
                } else {
                    raw(out, &acct.secrets[e % acct.secrets.len()].0);
                }
                raw(out, "\"}");
            }
            Body::SecretPut => {
                let (name, _) = &acct.secrets[e % acct.secrets.len()];
                let _ = write!(out, r#"{{"secretId":"{name}","clientRequestToken":""#);
                push_uuid(out, rng);
                raw(out, "\"}");
                let mut r = Vec::new();
                raw(&mut r, r#"{"arn":""#);
                self.secret_arn(&mut r, region, e);
                let _ = write!(r, r#"","name":"{name}","versionId":""#);
                push_uuid(&mut r, rng);
                raw(&mut r, r#"","versionStages":["AWSCURRENT"]}"#);
                resp = Some(r);
            }
            Body::Trail => {
                let _ = write!(out, r#"{{"name":"{trail_arn}"}}"#);
            }
            Body::TrailSelectorsGet => {
                let _ = write!(out, r#"{{"trailName":"{}"}}"#, acct.trail);
            }
            Body::TrailUpdate => {
                let sec = self.org.accounts[SECURITY as usize].id;
                let key = format!(
                    "arn:aws:kms:eu-west-1:{sec}:key/{}",
                    self.org.accounts[SECURITY as usize].key_id
                );
                let _ = write!(
                    out,
                    r#"{{"name":"{}","s3BucketName":"acme-cloudtrail-logs-{sec}","isMultiRegionTrail":true,"enableLogFileValidation":true,"kmsKeyId":"{key}"}}"#,
                    acct.trail
                );
                resp = Some(format!(r#"{{"name":"{}","s3BucketName":"acme-cloudtrail-logs-{sec}","s3KeyPrefix":"","includeGlobalServiceEvents":true,"isMultiRegionTrail":true,"trailARN":"{trail_arn}","logFileValidationEnabled":true,"kmsKeyId":"{key}","isOrganizationTrail":false}}"#, acct.trail).into_bytes());
            }
            Body::TrailSelectorsWeaken => {
                let sel = r#""eventSelectors":[{"readWriteType":"WriteOnly","includeManagementEvents":false,"dataResources":[],"excludeManagementEventSources":["kms.amazonaws.com","rdsdata.amazonaws.com"]}]"#;
                let _ = write!(out, r#"{{"trailName":"{}",{sel}}}"#, acct.trail);
                resp = Some(format!(r#"{{"trailARN":"{trail_arn}",{sel}}}"#).into_bytes());
            }
            Body::Role => {
                let _ = write!(
                    out,
                    r#"{{"roleName":"{}"}}"#,
                    acct.roles[e % acct.roles.len()]
                );
            }
            Body::RolePolicy => {
                let role = &acct.roles[e % acct.roles.len()];
                let _ = match op.name {
                    "AttachRolePolicy" => write!(
                        out,
                        r#"{{"roleName":"{role}","policyArn":"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}}"#
                    ),
                    "PutRolePolicy" => write!(
                        out,
                        r#"{{"roleName":"{role}","policyName":"inline-s3-access","policyDocument":"{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"arn:aws:s3:::{bucket}/*\"}}]\n}}"}}"#
                    ),
                    _ => write!(
                        out,
                        r#"{{"roleName":"{role}","tags":[{{"key":"managed-by","value":"terraform"}}]}}"#
                    ),
                };
            }
            Body::Function => {
                let _ = write!(
                    out,
                    r#"{{"functionName":"{}"}}"#,
                    acct.functions[e % acct.functions.len()]
                );
            }
            Body::FunctionUpdate => {
                let f = &acct.functions[e % acct.functions.len()];
                let short = f.split_once('-').map_or(f.as_str(), |x| x.1);
                let _ = write!(
                    out,
                    r#"{{"functionName":"{f}","s3Bucket":"acme-{}-artifacts-{}","s3Key":"builds/{short}/{:08x}.zip","publish":false,"dryRun":false}}"#,
                    acct.name,
                    &a[8..],
                    rng.next_u64() as u32
                );
                let mut r = format!(r#"{{"functionName":"{f}","functionArn":"arn:aws:lambda:{region}:{a}:function:{f}","runtime":"python3.12","role":"arn:aws:iam::{a}:role/service-role/{short}-role","handler":"app.handler","codeSize":{},"description":"","timeout":30,"memorySize":512,"lastModified":""#, 100_000 + rng.below(4_000_000)).into_bytes();
                self.time_bare(&mut r, spec.t);
                raw(&mut r, r#".000+0000","codeSha256":""#);
                push_upper_id(&mut r, "", rng.next_u64(), 43);
                raw(
                    &mut r,
                    r#"=","version":"$LATEST","tracingConfig":{"mode":"PassThrough"},"revisionId":""#,
                );
                push_uuid(&mut r, rng);
                raw(
                    &mut r,
                    r#"","state":"Active","lastUpdateStatus":"InProgress","architectures":["arm64"]}"#,
                );
                resp = Some(r);
            }
            Body::Param => {
                let _ = write!(
                    out,
                    r#"{{"name":"{}","withDecryption":true}}"#,
                    acct.params[e % acct.params.len()]
                );
            }
            Body::ParamPut => {
                let _ = write!(
                    out,
                    r#"{{"name":"{}","type":"String","overwrite":true,"tier":"Standard"}}"#,
                    acct.params[e % acct.params.len()]
                );
                resp =
                    Some(format!(r#"{{"version":{},"tier":"Standard"}}"#, 2 + e % 40).into_bytes());
            }
            Body::Key => {
                let _ = write!(
                    out,
                    r#"{{"keyId":"arn:aws:kms:{region}:{a}:key/{}"}}"#,
                    acct.key_id
                );
            }
            Body::KmsDecrypt => {
                if spec.flags & VIA_SECRETS != 0 {
                    raw(out, r#"{"encryptionContext":{"SecretARN":""#);
                    self.secret_arn(out, region, e);
                    raw(out, r#"","SecretVersionId":""#);
                    let h = hash(&[hash_str(a), e as u64 % acct.secrets.len() as u64]);
                    push_uuid_bits(out, h, mix(h));
                    raw(out, r#""},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#);
                } else {
                    raw(out, r#"{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#);
                }
            }
            Body::KmsTrailDataKey => {
                let mgmt = self.org.accounts[0].id;
                let src = &self.org.accounts[e % self.org.accounts.len()];
                let _ = write!(
                    out,
                    r#"{{"keySpec":"AES_256","encryptionContext":{{"aws:cloudtrail:arn":"arn:aws:cloudtrail:us-east-1:{mgmt}:trail/org-trail","aws:s3:arn":"arn:aws:s3:::acme-cloudtrail-logs-{a}/AWSLogs/{}/CloudTrail/{}/{}"}},"keyId":"arn:aws:kms:{region}:{a}:key/{}"}}"#,
                    src.id,
                    REGIONS[src.home as usize],
                    self.date.replace('-', "/"),
                    acct.key_id
                );
            }
            Body::SsmHeartbeat => {
                let h = hash(&[spec.session as u64, spec.actor as u64]);
                let (x, y) = ((h >> 8) % 250 + 1, h % 250 + 2);
                raw(out, r#"{"instanceId":""#);
                self.instance_of(spec, actor, out);
                let _ = write!(
                    out,
                    r#"","agentVersion":"3.2.2303.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"10.0.{x}.{y}","computerName":"ip-10-0-{x}-{y}.{region}.compute.internal","agentName":"amazon-ssm-agent","availabilityZone":"{region}{}","availabilityZoneId":"{}-az{}","sSMConnectionChannel":"ssmmessages"}}"#,
                    ["a", "b", "c"][(h % 3) as usize],
                    if region.starts_with("eu-west") {
                        "euw1"
                    } else {
                        "euc1"
                    },
                    h % 3 + 1
                );
            }
            Body::AssumeRoleBy | Body::AssumeRoleWebIdentity => {
                let target = &self.org.actors[if spec.target == u16::MAX {
                    spec.actor
                } else {
                    spec.target
                } as usize];
                let (arn, name, role_id) = match &target.ident {
                    Ident::Role {
                        arn, name, role_id, ..
                    } => (arn.as_str(), name.as_str(), role_id.as_str()),
                    _ => ("", "", ""),
                };
                let mut sess = Vec::new();
                self.session_name(target, spec.session, &mut sess);
                let sess = String::from_utf8_lossy(&sess);
                let web = op.body == Body::AssumeRoleWebIdentity;
                let _ = write!(
                    out,
                    r#"{{"roleArn":"{arn}","roleSessionName":"{sess}","durationSeconds":3600}}"#
                );
                let mut r = Vec::with_capacity(400);
                raw(&mut r, r#"{"credentials":{"accessKeyId":""#);
                push_upper_id(&mut r, "ASIA", rng.next_u64(), 16);
                if !web {
                    raw(&mut r, r#"","sessionToken":"IQoJb3JpZ2luX2Vj"#);
                    for _ in 0..4 {
                        push_upper_id(&mut r, "", rng.next_u64(), 24);
                    }
                }
                let exp = DateTime::from_timestamp(spec.t + 3600, 0).unwrap_or_default();
                let _ = write!(
                    r,
                    r#"","expiration":"{}"}}"#,
                    exp.format("%b %-d, %Y, %-I:%M:%S %p")
                );
                if web {
                    let _ = write!(
                        r,
                        r#","subjectFromWebIdentityToken":"repo:acme/infrastructure:ref:refs/heads/main""#
                    );
                }
                let _ = write!(
                    r,
                    r#","assumedRoleUser":{{"assumedRoleId":"{role_id}:{sess}","arn":"arn:aws:sts::{a}:assumed-role/{name}/{sess}"}}"#
                );
                if web {
                    let _ = write!(
                        r,
                        r#","provider":"arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com","audience":"sts.amazonaws.com""#
                    );
                }
                r.push(b'}');
                resp = Some(r);
            }
            Body::Ec2Tags => {
                raw(out, r#"{"resourcesSet":{"items":[{"resourceId":""#);
                self.instance_of(spec, actor, out);
                raw(
                    out,
                    r#""}]},"tagSet":{"items":[{"key":"Owner","value":"platform"}]}}"#,
                );
                resp = Some(ec2_return(rng));
            }
            Body::Ec2StartStop(start) => {
                let mut inst = Vec::new();
                self.instance_of(spec, actor, &mut inst);
                let inst = String::from_utf8_lossy(&inst);
                let _ = write!(
                    out,
                    r#"{{"instancesSet":{{"items":[{{"instanceId":"{inst}"}}]}}}}"#
                );
                let ((c1, n1), (c0, n0)) = if start {
                    ((0, "pending"), (80, "stopped"))
                } else {
                    ((64, "stopping"), (16, "running"))
                };
                let mut r = Vec::new();
                raw(&mut r, r#"{"requestId":""#);
                push_uuid(&mut r, rng);
                let _ = write!(
                    r,
                    r#"","instancesSet":{{"items":[{{"instanceId":"{inst}","currentState":{{"code":{c1},"name":"{n1}"}},"previousState":{{"code":{c0},"name":"{n0}"}}}}]}}}}"#
                );
                resp = Some(r);
            }
            Body::Ec2Ingress => {
                let sg = format!(
                    "sg-0{}",
                    hex_id(hash(&[hash_str(a), e as u64 % 6]), 16)
                );
                let _ = write!(
                    out,
                    r#"{{"groupId":"{sg}","ipPermissions":{{"items":[{{"ipProtocol":"tcp","fromPort":443,"toPort":443,"groups":{{}},"ipRanges":{{"items":[{{"cidrIp":"10.0.0.0/16"}}]}},"ipv6Ranges":{{}},"prefixListIds":{{}}}}]}}}}"#
                );
                let mut r = Vec::new();
                raw(&mut r, r#"{"requestId":""#);
                push_uuid(&mut r, rng);
                let _ = write!(
                    r,
                    r#"","_return":true,"securityGroupRuleSet":{{"items":[{{"groupOwnerId":"{a}","groupId":"{sg}","securityGroupRuleId":"sgr-0{}","isEgress":false,"ipProtocol":"tcp","fromPort":443,"toPort":443,"cidrIpv4":"10.0.0.0/16"}}]}}}}"#,
                    hex_id(rng.next_u64(), 16)
                );
                resp = Some(r);
            }
            Body::Ec2Snapshot => {
                let vol = format!(
                    "vol-0{}",
                    hex_id(hash(&[hash_str(a), e as u64 % 8]), 16)
                );
                let _ = write!(
                    out,
                    r#"{{"volumeId":"{vol}","description":"nightly backup {}"}}"#,
                    self.date
                );
                let mut r = Vec::new();
                raw(&mut r, r#"{"requestId":""#);
                push_uuid(&mut r, rng);
                let _ = write!(
                    r,
                    r#"","snapshotId":"snap-0{}","volumeId":"{vol}","status":"pending","startTime":{},"progress":"","ownerId":"{a}","volumeSize":100,"encrypted":true}}"#,
                    hex_id(rng.next_u64(), 16),
                    spec.t * 1000
                );
                resp = Some(r);
            }
            Body::Ec2SnapshotDelete => {
                let _ = write!(
                    out,
                    r#"{{"snapshotId":"snap-0{}"}}"#,
                    hex_id(rng.next_u64(), 16)
                );
                resp = Some(ec2_return(rng));
            }
            Body::LogStream => {
                let _ = write!(
                    out,
                    r#"{{"logGroupName":"/app/{}/application","logStreamName":""#,
                    acct.name
                );
                self.instance_of(spec, actor, out);
                raw(out, "\"}");
            }
            Body::ConsoleLogin => {
                raw(out, "null");
                let ok = if failed { "Failure" } else { "Success" };
                resp = Some(format!(r#"{{"ConsoleLogin":"{ok}"}}"#).into_bytes());
            }
            Body::CostAndUsage => {
                let d = DateTime::from_timestamp(spec.t, 0)
                    .unwrap_or_default()
                    .date_naive();
                let _ = write!(
                    out,
                    r#"{{"timePeriod":{{"start":"{:04}-{:02}-01","end":"{}"}},"granularity":"MONTHLY","metrics":["UnblendedCost"],"groupBy":[{{"type":"DIMENSION","key":"LINKED_ACCOUNT"}}]}}"#,
                    d.year(),
                    d.month(),
                    self.date
                );
            }
            Body::Table => {
                let _ = write!(
                    out,
                    r#"{{"tableName":"{}"}}"#,
                    acct.tables[e % acct.tables.len()]
                );
            }
            Body::Stack => {
                let _ = write!(
                    out,
                    r#"{{"stackName":"{}"}}"#,
                    acct.stacks[e % acct.stacks.len()]
                );
            }
        }
        raw(out, r#","responseElements":"#);
        match resp {
            Some(r) if !failed || op.body == Body::ConsoleLogin => out.extend_from_slice(&r),
            _ => raw(out, "null"),
        }
    }
}

fn ec2_return(rng: &mut Rng) -> Vec<u8> {
    let mut r = Vec::with_capacity(64);
    raw(&mut r, r#"{"requestId":""#);
    push_uuid(&mut r, rng);
    raw(&mut r, r#"","_return":true}"#);
    r
}
