//! Renders a [`Spec`] as one CloudTrail record (JSON text), field order and shapes as AWS
//! writes them: `eventVersion`, `userIdentity` by type, `eventTime`, `eventSource`,
//! `eventName`, `awsRegion`, `sourceIPAddress`, `userAgent`, optional `errorCode` /
//! `errorMessage`, `requestParameters`, `responseElements`, optional `additionalEventData`,
//! `requestID`, `eventID`, `readOnly`, optional `resources`, `eventType`, `managementEvent`,
//! `recipientAccountId`, `eventCategory`, and `tlsDetails` for calls from outside AWS.
//!
//! JSON is written by hand into a reused buffer: the benchmark corpus is gigabytes.

mod body;
mod identity;

use std::io::Write;

use super::activity::{
    Spec, CONSOLE, ERR_DENIED, ERR_NONE, ERR_THROTTLED, ERR_USUAL, NONE, VIA_SECRETS,
};
use super::ops::{Body, OpDef, OPS};
use super::org::{Account, Actor, Ident, Org, Session, Src, REGIONS};
use super::rng::{hash, push_upper_id, push_uuid, Rng};

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
