//! `userIdentity` of a record, by identity type: IAM user, root, assumed role (with the
//! session context and, for EC2 instance roles, `ec2RoleDelivery`), AWS service, and web
//! identity federation.

use std::io::Write;

use super::super::activity::{Spec, CONSOLE};
use super::super::org::{Actor, Ident};
use super::super::rng::{hash, hash_str, push_upper_id};
use super::{raw, s, Render};

impl Render<'_> {
    pub(super) fn identity(
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
}
