//! Renders a [`Spec`] as one CloudTrail record (JSON text), field order and shapes as AWS
//! writes them: `eventVersion`, `userIdentity` by type, `eventTime`, `eventSource`,
//! `eventName`, `awsRegion`, `sourceIPAddress`, `userAgent`, optional `errorCode` /
//! `errorMessage`, `requestParameters`, `responseElements`, optional `additionalEventData`,
//! `requestID`, `eventID`, `readOnly`, optional `resources`, `eventType`, `managementEvent`,
//! `recipientAccountId`, `eventCategory`, and `tlsDetails` for calls from outside AWS.
//!
//! JSON is written by hand into a reused buffer: the benchmark corpus is gigabytes.

use std::io::Write;

use chrono::{DateTime, Datelike};

use super::activity::{
    Spec, CONSOLE, ERR_DENIED, ERR_NONE, ERR_THROTTLED, ERR_USUAL, NONE, VIA_SECRETS,
};
use super::ops::{Body, OpDef, OPS};
use super::org::{Account, Actor, Ident, Org, Session, Src, REGIONS, SECURITY};
use super::rng::{hash, hash_str, mix, push_upper_id, push_uuid, push_uuid_bits, Rng};

/// What is fixed while rendering one account-day.
pub(crate) struct Render<'a> {
    pub org: &'a Org,
    pub account: &'a Account,
    /// Unix seconds of the day's 00:00 UTC.
    pub day_start: i64,
    /// `YYYY-MM-DD` of the day.
    pub date: String,
    /// Labelled event ids, addressed by [`Spec::fixed`].
    pub fixed_ids: &'a [String],
}

/// Appends a JSON string (escaping only when needed).
pub(crate) fn s(out: &mut Vec<u8>, v: &str) {
    out.push(b'"');
    if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(v.as_bytes());
    } else {
        for c in v.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}

fn raw(out: &mut Vec<u8>, v: &str) {
    out.extend_from_slice(v.as_bytes());
}

fn two(out: &mut Vec<u8>, n: i64) {
    out.push(b'0' + (n / 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

impl Render<'_> {
    /// `"YYYY-MM-DDTHH:MM:SSZ"` (quoted) for a time within the day.
    fn time(&self, out: &mut Vec<u8>, t: i64) {
        out.push(b'"');
        self.time_bare(out, t);
        out.extend_from_slice(b"Z\"");
    }

    /// `YYYY-MM-DDTHH:MM:SS` for a time within the day.
    fn time_bare(&self, out: &mut Vec<u8>, t: i64) {
        let sec = (t - self.day_start).clamp(0, 86_399);
        raw(out, &self.date);
        out.push(b'T');
        two(out, sec / 3600);
        out.push(b':');
        two(out, sec / 60 % 60);
        out.push(b':');
        two(out, sec % 60);
    }

    fn region_str(spec: &Spec) -> &'static str {
        REGIONS[spec.region as usize]
    }

    /// Session name of `actor` for this spec.
    fn session_name(&self, actor: &Actor, session: u32, out: &mut Vec<u8>) {
        if let Ident::Role { session: sess, .. } = &actor.ident {
            match sess {
                Session::Named(n) => raw(out, n),
                Session::Instance(salt) => push_instance(out, *salt, session),
            }
        }
    }

    /// The caller's ARN as it appears in `userIdentity.arn`.
    fn caller_arn(&self, actor: &Actor, session: u32) -> String {
        let a = self.account.id;
        match &actor.ident {
            Ident::IamUser { name, .. } => format!("arn:aws:iam::{a}:user/{name}"),
            Ident::Root => format!("arn:aws:iam::{a}:root"),
            Ident::Role { name, .. } => {
                let mut v = Vec::new();
                self.session_name(actor, session, &mut v);
                format!(
                    "arn:aws:sts::{a}:assumed-role/{name}/{}",
                    String::from_utf8_lossy(&v)
                )
            }
            Ident::Service(h) => (*h).to_string(),
            Ident::WebIdentity { subject } => subject.clone(),
        }
    }

    fn identity(
        &self,
        out: &mut Vec<u8>,
        spec: &Spec,
        actor: &Actor,
        login: bool,
        invoked_by: Option<&str>,
    ) {
        let a = self.account.id;
        let console = spec.flags & CONSOLE != 0;
        let hour_start = spec.t - spec.t.rem_euclid(3600);
        let session_ctx = |out: &mut Vec<u8>, this: &Self, mfa: &str| {
            raw(
                out,
                r#","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"#,
            );
            this.time(out, hour_start.max(this.day_start));
            raw(out, r#","mfaAuthenticated":""#);
            raw(out, mfa);
            raw(out, "\"}}");
        };
        let key = |out: &mut Vec<u8>, salt: u64| {
            raw(out, r#","accessKeyId":""#);
            push_upper_id(
                out,
                "ASIA",
                hash(&[salt, spec.session as u64, hour_start as u64]),
                16,
            );
            out.push(b'"');
        };
        match &actor.ident {
            Ident::IamUser {
                name,
                principal_id,
                access_key,
            } => {
                raw(out, r#"{"type":"IAMUser","principalId":"#);
                s(out, principal_id);
                let _ = write!(
                    out,
                    r#","arn":"arn:aws:iam::{a}:user/{name}","accountId":"{a}""#
                );
                // A sign-in record has no key; console calls use temporary (ASIA) keys.
                if console && !login {
                    key(out, hash_str(principal_id));
                } else if !login {
                    let _ = write!(out, r#","accessKeyId":"{access_key}""#);
                }
                let _ = write!(out, r#","userName":"{name}""#);
                if console && !login {
                    session_ctx(out, self, "true");
                }
            }
            Ident::Root => {
                let _ = write!(
                    out,
                    r#"{{"type":"Root","principalId":"{a}","arn":"arn:aws:iam::{a}:root","accountId":"{a}""#
                );
                if !login {
                    key(out, hash_str(a));
                    session_ctx(out, self, "true");
                }
            }
            Ident::Role {
                name,
                arn,
                role_id,
                ec2,
                ..
            } => {
                raw(out, r#"{"type":"AssumedRole","principalId":""#);
                raw(out, role_id);
                out.push(b':');
                self.session_name(actor, spec.session, out);
                let _ = write!(out, r#"","arn":"arn:aws:sts::{a}:assumed-role/{name}/"#);
                self.session_name(actor, spec.session, out);
                let _ = write!(out, r#"","accountId":"{a}""#);
                key(out, hash_str(role_id));
                let _ = write!(
                    out,
                    r#","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{role_id}","arn":"{arn}","accountId":"{a}","userName":"{name}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"#
                );
                self.time(out, hour_start.max(self.day_start));
                raw(out, r#","mfaAuthenticated":"false"}"#);
                if *ec2 {
                    raw(out, r#","ec2RoleDelivery":"2.0""#);
                }
                out.push(b'}');
            }
            Ident::Service(host) => {
                let _ = write!(out, r#"{{"type":"AWSService","invokedBy":"{host}"}}"#);
                return;
            }
            Ident::WebIdentity { subject } => {
                let user = subject
                    .rsplit_once(":sts.amazonaws.com:")
                    .map_or(subject.as_str(), |x| x.1);
                let _ = write!(
                    out,
                    r#"{{"type":"WebIdentityUser","principalId":"{subject}","userName":"{user}","identityProvider":"token.actions.githubusercontent.com"}}"#
                );
                return;
            }
        }
        if let Some(by) = invoked_by {
            let _ = write!(out, r#","invokedBy":"{by}""#);
        }
        out.push(b'}');
    }

    /// Appends one record.
    pub(crate) fn record(&self, out: &mut Vec<u8>, spec: &Spec, rng: &mut Rng) {
        let org = self.org;
        let op = &OPS[spec.op as usize];
        let actor = &org.actors[spec.actor as usize];
        let region = Self::region_str(spec);
        let via = spec.flags & VIA_SECRETS != 0;
        let login = op.body == Body::ConsoleLogin;
        let src = &actor.srcs[(spec.src as usize).min(actor.srcs.len() - 1)];
        let host_src = match src {
            Src::Host(h) => Some(*h),
            _ => None,
        };
        let invoked_by = if via {
            Some("secretsmanager.amazonaws.com")
        } else {
            host_src.filter(|h| {
                h.ends_with(".amazonaws.com") && !matches!(actor.ident, Ident::Service(_))
            })
        };

        raw(out, r#"{"eventVersion":""#);
        raw(
            out,
            if matches!(op.service, "ec2" | "ssm" | "s3") {
                "1.08"
            } else {
                "1.09"
            },
        );
        raw(out, r#"","userIdentity":"#);
        self.identity(out, spec, actor, login, invoked_by);
        raw(out, r#","eventTime":"#);
        self.time(out, spec.t);
        raw(out, r#","eventSource":""#);
        raw(out, op.source);
        raw(out, r#"","eventName":""#);
        raw(out, op.name);
        raw(out, r#"","awsRegion":""#);
        raw(out, region);
        raw(out, r#"","sourceIPAddress":""#);
        match (via, src) {
            (true, _) => raw(out, "secretsmanager.amazonaws.com"),
            (false, Src::Ip(ip)) => raw(out, ip),
            (false, Src::Host(h)) => raw(out, h),
            (false, Src::Pool(salt, prefixes)) => {
                let h = hash(&[*salt, spec.session as u64]);
                let _ = write!(
                    out,
                    "{}.{}.{}",
                    prefixes[(h % prefixes.len() as u64) as usize],
                    (h >> 16) % 256,
                    (h >> 24) % 253 + 1
                );
            }
        }
        raw(out, r#"","userAgent":"#);
        if via {
            s(out, "secretsmanager.amazonaws.com");
        } else {
            s(
                out,
                &actor.agents[(spec.agent as usize).min(actor.agents.len() - 1)],
            );
        }
        if spec.err != ERR_NONE {
            self.error(out, spec, op, actor, login);
        }
        self.body(out, spec, op, actor, rng);
        if op.service == "s3" {
            raw(
                out,
                r#","additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":""#,
            );
            for _ in 0..3 {
                push_upper_id(out, "", rng.next_u64(), 24);
            }
            let _ = write!(
                out,
                r#"","bytesTransferredOut":{}}}"#,
                100 + rng.below(2000)
            );
        } else if login {
            let mfa = if matches!(actor.ident, Ident::Root) {
                "Yes"
            } else {
                "No"
            };
            let _ = write!(
                out,
                r#","additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_{:016x}","MobileVersion":"No","MFAUsed":"{mfa}"}}"#,
                rng.next_u64()
            );
        }
        raw(out, r#","requestID":""#);
        if op.service == "s3" {
            push_upper_id(out, "", rng.next_u64(), 16);
        } else {
            push_uuid(out, rng);
        }
        raw(out, r#"","eventID":""#);
        if spec.fixed == NONE {
            push_uuid(out, rng);
        } else {
            raw(out, &self.fixed_ids[spec.fixed as usize]);
        }
        out.push(b'"');
        raw(
            out,
            if op.read_only {
                r#","readOnly":true"#
            } else {
                r#","readOnly":false"#
            },
        );
        self.resources(out, spec, op);
        raw(
            out,
            if login {
                r#","eventType":"AwsConsoleSignIn""#
            } else {
                r#","eventType":"AwsApiCall""#
            },
        );
        let _ = write!(
            out,
            r#","managementEvent":true,"recipientAccountId":"{}","eventCategory":"Management""#,
            self.account.id
        );
        if !via && host_src.is_none() && !login {
            raw(
                out,
                r#","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":""#,
            );
            if op.global || op.service == "s3" {
                let _ = write!(out, "{}.amazonaws.com", op.service);
            } else {
                let _ = write!(out, "{}.{region}.amazonaws.com", op.service);
            }
            out.push(b'"');
            out.push(b'}');
        }
        if spec.flags & CONSOLE != 0 && !login {
            raw(out, r#","sessionCredentialFromConsole":"true""#);
        }
        out.push(b'}');
    }

    fn error(&self, out: &mut Vec<u8>, spec: &Spec, op: &OpDef, actor: &Actor, login: bool) {
        let ec2 = op.service == "ec2";
        match spec.err {
            ERR_USUAL if login => raw(out, r#","errorMessage":"Failed authentication""#),
            ERR_USUAL => {
                let (code, msg) = op
                    .usual_error
                    .unwrap_or(("InternalFailure", "An internal error occurred"));
                raw(out, r#","errorCode":"#);
                s(out, code);
                raw(out, r#","errorMessage":"#);
                s(out, msg);
            }
            ERR_DENIED => {
                let code = match op.service {
                    "ec2" => "Client.UnauthorizedOperation",
                    "iam" | "s3" | "sts" => "AccessDenied",
                    _ => "AccessDeniedException",
                };
                let action = op
                    .name
                    .trim_end_matches(|c: char| c.is_ascii_digit() || c == 'v');
                let arn = self.caller_arn(actor, spec.session);
                let prefix = if ec2 {
                    "You are not authorized to perform this operation. "
                } else {
                    ""
                };
                let msg = format!("{prefix}User: {arn} is not authorized to perform: {}:{action} because no identity-based policy allows the {}:{action} action", op.service, op.service);
                raw(out, r#","errorCode":"#);
                s(out, code);
                raw(out, r#","errorMessage":"#);
                s(out, &msg);
            }
            ERR_THROTTLED if ec2 => raw(
                out,
                r#","errorCode":"Client.RequestLimitExceeded","errorMessage":"Request limit exceeded.""#,
            ),
            _ => raw(
                out,
                r#","errorCode":"ThrottlingException","errorMessage":"Rate exceeded""#,
            ),
        }
    }

    fn resources(&self, out: &mut Vec<u8>, spec: &Spec, op: &OpDef) {
        let a = self.account.id;
        let e = spec.extra as usize;
        match op.body {
            Body::Bucket(_) | Body::BucketPut(_) => {
                let b = &self.account.buckets[e % self.account.buckets.len()];
                let _ = write!(
                    out,
                    r#","resources":[{{"accountId":"{a}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{b}"}}]"#
                );
            }
            Body::Key | Body::KmsDecrypt | Body::KmsTrailDataKey => {
                let _ = write!(
                    out,
                    r#","resources":[{{"accountId":"{a}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{}:{a}:key/{}"}}]"#,
                    REGIONS[spec.region as usize], self.account.key_id
                );
            }
            Body::AssumeRoleBy | Body::AssumeRoleWebIdentity if spec.target != u16::MAX => {
                if let Ident::Role { arn, .. } = &self.org.actors[spec.target as usize].ident {
                    let _ = write!(
                        out,
                        r#","resources":[{{"accountId":"{a}","type":"AWS::IAM::Role","ARN":"{arn}"}}]"#
                    );
                }
            }
            _ => {}
        }
    }

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
    fn body(&self, out: &mut Vec<u8>, spec: &Spec, op: &OpDef, actor: &Actor, rng: &mut Rng) {
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
                    super::rng::hex_id(hash(&[hash_str(a), e as u64 % 6]), 16)
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
                    super::rng::hex_id(rng.next_u64(), 16)
                );
                resp = Some(r);
            }
            Body::Ec2Snapshot => {
                let vol = format!(
                    "vol-0{}",
                    super::rng::hex_id(hash(&[hash_str(a), e as u64 % 8]), 16)
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
                    super::rng::hex_id(rng.next_u64(), 16),
                    spec.t * 1000
                );
                resp = Some(r);
            }
            Body::Ec2SnapshotDelete => {
                let _ = write!(
                    out,
                    r#"{{"snapshotId":"snap-0{}"}}"#,
                    super::rng::hex_id(rng.next_u64(), 16)
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

/// `i-0` + 16 hex digits for an instance of a fleet.
fn push_instance(out: &mut Vec<u8>, salt: u64, session: u32) {
    const HEX: &[u8] = b"0123456789abcdef";
    out.extend_from_slice(b"i-0");
    let h = hash(&[salt, session as u64]);
    for i in 0..16 {
        out.push(HEX[((h >> (i * 4)) & 15) as usize]);
    }
}
