//! AWS CloudTrail (`log_format = cloudtrail`, `provider = aws`).
//!
//! Shapes read (framing is [`super::read`]'s): S3 log objects `{"Records":[...]}` (plain or
//! gzip), JSON arrays of events, JSON lines (EventBridge `detail` envelopes and CloudTrail
//! Lake exports included), the LookupEvents shape whose `CloudTrailEvent` is a JSON string,
//! events forwarded by Logstash (`@timestamp`, no `eventTime`), and Insights events.
//!
//! | column | from |
//! |---|---|
//! | `time` | `eventTime`; else Logstash `@timestamp`; else LookupEvents `EventTime`. None → quarantined `missing_event_time` |
//! | `event_uid` | `eventID`; else `sha256:` + hash of the record text (so a re-delivered copy still deduplicates) |
//! | `account_uid` | `recipientAccountId` (the account whose trail logged it); else `userIdentity.accountId`; none → `missing_account` |
//! | `region` | `awsRegion` |
//! | actor | by `userIdentity.type`, see [`actor`] |
//! | `src_ip` / `src_host` | `sourceIPAddress` split by [`super::net::split_src`] |
//! | `service` / `operation` | `eventSource` / `eventName`; Insights: `cloudtrail.amazonaws.com` / `insightDetails.insightType` |
//! | `status` | [`status`]: `responseElements.ConsoleLogin` (and other sign-in outcome words) first, then `errorCode` |
//! | `resource_uid` | `requestParameters.roleArn` (AssumeRole target), `secretId`, trail `name`, `functionName`, ...; else `resources[0].ARN` |
//! | `request_params` / `response_elements` | `requestParameters` / `responseElements` as JSON text; `null` → NULL |
//!
//! Dedup key: (`aws`, `recipientAccountId`, `eventID`); `sharedEventID` copies keep one row
//! per account, as CloudTrail intends.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{json_text, Lenient};
use super::net::split_src;
use super::{NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::{ActorType, LogFormat, Provider, Status};

/// Normaliser for CloudTrail records.
pub struct CloudTrail;

/// The mask CloudTrail writes for a user name that does not exist (failed console logins).
const MASKED: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

#[derive(Deserialize, Default)]
#[serde(default)]
struct Record<'a> {
    #[serde(rename = "eventTime", borrow)]
    event_time: Lenient<'a>,
    #[serde(rename = "@timestamp", borrow)]
    at_timestamp: Lenient<'a>,
    #[serde(rename = "eventID", borrow)]
    event_id: Lenient<'a>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Lenient<'a>,
    #[serde(rename = "eventName", borrow)]
    event_name: Lenient<'a>,
    #[serde(rename = "eventType", borrow)]
    event_type: Lenient<'a>,
    #[serde(rename = "awsRegion", borrow)]
    aws_region: Lenient<'a>,
    #[serde(rename = "sourceIPAddress", borrow)]
    source_ip: Lenient<'a>,
    #[serde(rename = "userAgent", borrow)]
    user_agent: Lenient<'a>,
    #[serde(rename = "errorCode", borrow)]
    error_code: Lenient<'a>,
    #[serde(rename = "errorMessage", borrow)]
    error_message: Lenient<'a>,
    #[serde(rename = "recipientAccountId", borrow)]
    recipient_account_id: Lenient<'a>,
    // Nested objects are parsed on their own so that a wrongly typed one (a string where an
    // object was) loses only that part, never the record.
    #[serde(rename = "userIdentity", borrow)]
    user_identity: Option<&'a RawValue>,
    #[serde(rename = "requestParameters", borrow)]
    request_parameters: Option<&'a RawValue>,
    #[serde(rename = "responseElements", borrow)]
    response_elements: Option<&'a RawValue>,
    #[serde(rename = "insightDetails", borrow)]
    insight_details: Option<&'a RawValue>,
    #[serde(borrow)]
    resources: Option<&'a RawValue>,
    // LookupEvents shape.
    #[serde(rename = "CloudTrailEvent", borrow)]
    cloudtrail_event: Lenient<'a>,
    #[serde(rename = "EventTime", borrow)]
    lookup_event_time: Lenient<'a>,
    // EventBridge envelope.
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Lenient<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow)]
    kind: Lenient<'a>,
    #[serde(borrow)]
    arn: Lenient<'a>,
    #[serde(rename = "accountId", borrow)]
    account_id: Lenient<'a>,
    #[serde(rename = "userName", borrow)]
    user_name: Lenient<'a>,
    #[serde(rename = "principalId", borrow)]
    principal_id: Lenient<'a>,
    #[serde(rename = "accessKeyId", borrow)]
    access_key_id: Lenient<'a>,
    #[serde(rename = "invokedBy", borrow)]
    invoked_by: Lenient<'a>,
    #[serde(rename = "sessionContext", borrow)]
    session_context: Option<SessionContext<'a>>,
    #[serde(rename = "onBehalfOf", borrow)]
    on_behalf_of: Option<OnBehalfOf<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionContext<'a> {
    #[serde(rename = "sessionIssuer", borrow)]
    session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionIssuer<'a> {
    #[serde(borrow)]
    arn: Lenient<'a>,
    #[serde(rename = "userName", borrow)]
    user_name: Lenient<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OnBehalfOf<'a> {
    #[serde(rename = "userId", borrow)]
    user_id: Lenient<'a>,
    #[serde(rename = "identityStoreArn", borrow)]
    identity_store_arn: Lenient<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InsightDetails<'a> {
    #[serde(borrow)]
    state: Lenient<'a>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Lenient<'a>,
    #[serde(rename = "eventName", borrow)]
    event_name: Lenient<'a>,
    #[serde(rename = "insightType", borrow)]
    insight_type: Lenient<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceRef<'a> {
    #[serde(rename = "ARN", borrow)]
    arn: Lenient<'a>,
}

/// `requestParameters` keys that name the main target, most specific first.
#[derive(Deserialize, Default)]
#[serde(default)]
struct TargetParams<'a> {
    #[serde(rename = "roleArn", borrow)]
    role_arn: Lenient<'a>,
    #[serde(rename = "secretId", borrow)]
    secret_id: Lenient<'a>,
    #[serde(rename = "trailName", borrow)]
    trail_name: Lenient<'a>,
    #[serde(rename = "functionName", borrow)]
    function_name: Lenient<'a>,
    #[serde(rename = "bucketName", borrow)]
    bucket_name: Lenient<'a>,
    #[serde(rename = "logGroupName", borrow)]
    log_group_name: Lenient<'a>,
    #[serde(rename = "detectorId", borrow)]
    detector_id: Lenient<'a>,
    #[serde(rename = "userName", borrow)]
    user_name: Lenient<'a>,
    #[serde(rename = "modelId", borrow)]
    model_id: Lenient<'a>,
    #[serde(borrow)]
    name: Lenient<'a>,
}

impl<'a> TargetParams<'a> {
    fn first(self) -> Option<Cow<'a, str>> {
        [
            self.role_arn,
            self.secret_id,
            self.trail_name,
            self.function_name,
            self.bucket_name,
            self.log_group_name,
            self.detector_id,
            self.model_id,
            self.user_name,
            self.name,
        ]
        .into_iter()
        .find_map(Lenient::take)
    }
}

impl Normaliser for CloudTrail {
    fn format(&self) -> LogFormat {
        LogFormat::CloudTrail
    }

    fn normalise<'a>(&self, record: &'a str, opts: &NormaliseOptions, out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        let rec: Record<'a> = serde_json::from_str(record)
            .map_err(|e| Reject::quarantine("invalid_json", format!("CloudTrail record: {e}")))?;
        if let Some(inner) = rec.cloudtrail_event.text() {
            return lookup_events(inner, &rec, record, opts, out);
        }
        if let (Some(detail), Some(_)) = (rec.detail, rec.detail_type.text()) {
            // EventBridge "AWS API Call via CloudTrail": the CloudTrail record is `detail`.
            let mut inner = Vec::with_capacity(1);
            self.normalise(detail.get(), opts, &mut inner)?;
            for mut e in inner {
                e.raw_event = opts.keep_raw.then_some(Cow::Borrowed(record));
                out.push(e);
            }
            return Ok(());
        }
        out.push(build(rec, record, None, opts)?);
        Ok(())
    }
}

/// LookupEvents / `aws cloudtrail lookup-events`: the record is an embedded JSON string.
fn lookup_events<'a>(
    inner: &str,
    outer: &Record<'a>,
    record: &'a str,
    opts: &NormaliseOptions,
    out: &mut Vec<Event<'a>>,
) -> Result<(), Reject> {
    let rec: Record<'_> = serde_json::from_str(inner)
        .map_err(|e| Reject::quarantine("invalid_json", format!("field `CloudTrailEvent`: {e}")))?;
    let fallback_time = outer.lookup_event_time.text().and_then(super::time::parse_iso);
    let mut e = build(rec, inner, fallback_time, &NormaliseOptions { keep_raw: false })?.into_owned();
    e.raw_event = opts.keep_raw.then_some(Cow::Borrowed(record));
    out.push(e);
    Ok(())
}

fn build<'a>(rec: Record<'a>, record: &'a str, fallback_time: Option<i64>, opts: &NormaliseOptions) -> Result<Event<'a>, Reject> {
    let time = rec
        .event_time
        .text()
        .or(rec.at_timestamp.text())
        .map(|t| super::time::parse_cloudtrail(t).ok_or_else(|| Reject::quarantine("invalid_event_time", format!("`eventTime` is not a time: {t:?}"))))
        .transpose()?
        .or(fallback_time)
        .ok_or_else(|| Reject::missing("missing_event_time", "eventTime"))?;
    let insight = rec.event_type.text() == Some("AwsCloudTrailInsight") || rec.insight_details.is_some();
    let ident: UserIdentity<'a> = loose(rec.user_identity);
    let account = rec
        .recipient_account_id
        .take()
        .or_else(|| ident.account_id.clone().take())
        .ok_or_else(|| Reject::missing("missing_account", "recipientAccountId"))?;
    let event_uid = rec.event_id.take().unwrap_or_else(|| Cow::Owned(content_uid(record)));
    let (service, operation, resource, status_raw) = if insight {
        let d: InsightDetails<'a> = loose(rec.insight_details);
        let about = match (d.event_source.text(), d.event_name.text()) {
            (Some(s), Some(n)) => Some(Cow::Owned(format!("{s}:{n}"))),
            _ => None,
        };
        let kind = d.insight_type.take().unwrap_or(Cow::Borrowed("Insight"));
        (Cow::Borrowed("cloudtrail.amazonaws.com"), kind, about, d.state.take())
    } else {
        let service = rec.event_source.take().ok_or_else(|| Reject::missing("missing_event_source", "eventSource"))?;
        let operation = rec.event_name.take().ok_or_else(|| Reject::missing("missing_event_name", "eventName"))?;
        let resource = rec
            .request_parameters
            .and_then(|p| serde_json::from_str::<TargetParams>(p.get()).ok())
            .and_then(TargetParams::first)
            .or_else(|| loose::<Vec<ResourceRef<'a>>>(rec.resources).into_iter().find_map(|x| x.arn.take()));
        (service, operation, resource, None)
    };

    let mut e = Event::new(time, event_uid, Provider::Aws, LogFormat::CloudTrail, account, service, operation);
    e.region = rec.aws_region.take();
    if !insight {
        actor(&mut e, ident);
    }
    if let Some(src) = rec.source_ip.text() {
        let s = split_src(src);
        if s.ip.as_deref() == Some(src) {
            e.src_ip = rec.source_ip.take();
        } else {
            e.src_ip = s.ip.map(Cow::Owned);
            e.src_port = s.port;
            e.src_host = s.host.map(Cow::Owned);
        }
    }
    e.user_agent = rec.user_agent.take();
    let (status, raw) = status(&e.operation, rec.error_code.text(), rec.response_elements);
    e.status = if insight { Status::Unknown } else { status };
    e.status_raw = status_raw.or(raw);
    e.error_code = rec.error_code.take();
    e.error_message = rec.error_message.take();
    e.resource_uid = resource;
    e.request_params = json_text(rec.request_parameters);
    e.response_elements = json_text(rec.response_elements);
    e.raw_event = opts.keep_raw.then_some(Cow::Borrowed(record));
    Ok(e)
}

/// A nested object parsed on its own; the default when absent or of another shape.
fn loose<'a, T: Deserialize<'a> + Default>(raw: Option<&'a RawValue>) -> T {
    raw.and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or_default()
}

/// `sha256:<hex>` of the record text: a stable id for records that carry no `eventID`.
fn content_uid(record: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(&Sha256::digest(record.as_bytes())[..16]))
}

/// Fills the actor columns from `userIdentity` (DESIGN.md principal rules).
///
/// | `type` | `actor_uid` | `actor_session_uid` |
/// |---|---|---|
/// | IAMUser | `arn`, else rebuilt `arn:aws:iam::<accountId>:user/<userName>` | access key id |
/// | AssumedRole | role ARN from `sessionContext.sessionIssuer.arn`, else rebuilt from the STS ARN | role session name |
/// | Root | `arn`, else `arn:aws:iam::<accountId>:root` | access key id |
/// | AWSService | `invokedBy` (e.g. `lambda.amazonaws.com`) | — |
/// | FederatedUser | `arn` (`arn:aws:sts::A:federated-user/N`) | access key id |
/// | IdentityCenterUser | `<identityStoreArn>/user/<userId>` | credential-less |
/// | AWSAccount | the calling account id | `principalId` |
/// | SAMLUser / WebIdentityUser | `userName`, else `principalId` (`federated_user`) | — |
/// | other | `arn`, else `principalId` (`unknown`) | — |
///
/// A masked user name (`HIDDEN_DUE_TO_SECURITY_REASONS`) gives `actor_uid` NULL and type
/// `unknown`: it is not a principal, and keying on it would build one very busy fake user.
/// No `userIdentity` at all gives type `none`.
fn actor<'a>(e: &mut Event<'a>, id: UserIdentity<'a>) {
    let UserIdentity { kind, arn, account_id, user_name, principal_id, access_key_id, invoked_by, session_context, on_behalf_of } = id;
    let Some(kind_text) = kind.text() else {
        e.actor_type = ActorType::None;
        return;
    };
    e.actor_account_uid = account_id.clone().take();
    let account = account_id.text().map(str::to_owned);
    let masked = user_name.text() == Some(MASKED);
    match kind_text {
        "IAMUser" => {
            e.actor_type = ActorType::IamUser;
            if masked {
                e.actor_type = ActorType::Unknown;
                return;
            }
            e.actor_uid = arn.take().or_else(|| match (&account, user_name.text()) {
                (Some(a), Some(u)) => Some(Cow::Owned(format!("arn:aws:iam::{a}:user/{u}"))),
                _ => None,
            });
            e.actor_name = user_name.take();
            e.actor_session_uid = access_key_id.take();
        }
        "AssumedRole" => {
            e.actor_type = ActorType::AssumedRole;
            let issuer = session_context.and_then(|s| s.session_issuer).unwrap_or_default();
            let sts = arn.text().map(str::to_owned);
            e.actor_uid = issuer.arn.take().or_else(|| sts.as_deref().and_then(role_from_sts_arn).map(Cow::Owned));
            e.actor_name = issuer.user_name.take().or_else(|| sts.as_deref().and_then(|a| sts_part(a, 1)).map(|s| Cow::Owned(s.to_owned())));
            e.actor_session_uid = sts
                .as_deref()
                .and_then(|a| sts_part(a, 2))
                .map(|s| Cow::Owned(s.to_owned()))
                .or_else(|| principal_id.text().and_then(|p| p.split_once(':')).map(|(_, s)| Cow::Owned(s.to_owned())));
        }
        "Root" => {
            e.actor_type = ActorType::Root;
            e.actor_uid = arn.take().or_else(|| account.as_ref().map(|a| Cow::Owned(format!("arn:aws:iam::{a}:root"))));
            e.actor_name = Some(Cow::Borrowed("root"));
            e.actor_session_uid = access_key_id.take();
        }
        "AWSService" => {
            e.actor_type = ActorType::AwsService;
            e.actor_uid = invoked_by.take();
            e.actor_name = e.actor_uid.clone();
            e.actor_account_uid = None;
        }
        "FederatedUser" => {
            e.actor_type = ActorType::FederatedUser;
            e.actor_uid = arn.take().or_else(|| principal_id.take());
            e.actor_name = user_name.take();
            e.actor_session_uid = access_key_id.take();
        }
        "IdentityCenterUser" => {
            e.actor_type = ActorType::IdentityCenterUser;
            let obo = on_behalf_of.unwrap_or_default();
            e.actor_uid = match (obo.identity_store_arn.text(), obo.user_id.text()) {
                (Some(store), Some(user)) => Some(Cow::Owned(format!("{store}/user/{user}"))),
                _ => obo.user_id.take(),
            };
            e.actor_name = user_name.take();
        }
        "AWSAccount" => {
            e.actor_type = ActorType::AwsAccount;
            e.actor_uid = account_id.take();
            e.actor_session_uid = principal_id.take();
        }
        "SAMLUser" | "WebIdentityUser" => {
            e.actor_type = ActorType::FederatedUser;
            e.actor_uid = user_name.clone().take().or_else(|| principal_id.take());
            e.actor_name = user_name.take();
        }
        _ => {
            e.actor_type = ActorType::Unknown;
            e.actor_uid = if masked { None } else { arn.take().or_else(|| principal_id.take()) };
            e.actor_name = if masked { None } else { user_name.take() };
        }
    }
}


/// `arn:aws:sts::A:assumed-role/R/S` → `arn:aws:iam::A:role/R` (the role's path is not in
/// the STS ARN, so a rebuilt ARN lacks it).
pub(crate) fn role_from_sts_arn(sts: &str) -> Option<String> {
    let (prefix, rest) = sts.split_once(":assumed-role/")?;
    let account = prefix.rsplit(':').find(|s| !s.is_empty())?;
    let partition = prefix.split(':').nth(1).unwrap_or("aws");
    let role = rest.split('/').next().filter(|r| !r.is_empty())?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// Part `n` of `arn:...:assumed-role/<role>/<session>` split on `/` (1 = role, 2 = session).
pub(crate) fn sts_part(sts: &str, n: usize) -> Option<&str> {
    let (_, rest) = sts.split_once(":assumed-role/")?;
    let mut parts = rest.splitn(2, '/');
    let role = parts.next()?;
    let session = parts.next();
    match n {
        1 => Some(role).filter(|r| !r.is_empty()),
        _ => session.filter(|s| !s.is_empty()),
    }
}

/// Operations whose outcome is a word in `responseElements.<operation>` instead of an
/// `errorCode` (AWS sign-in events: "Success" / "Failure").
const OUTCOME_IN_RESPONSE: [&str; 5] = ["ConsoleLogin", "CheckMfa", "SwitchRole", "ExternalIdPDirectoryLogin", "RenewRoleCredentials"];

/// Status table: sign-in outcome words first (a failed ConsoleLogin has no `errorCode`),
/// then `errorCode` present → failure, absent → success. Returns the status and the source's
/// own word (`status_raw`).
fn status<'a>(operation: &str, error_code: Option<&str>, response: Option<&'a RawValue>) -> (Status, Option<Cow<'a, str>>) {
    if OUTCOME_IN_RESPONSE.contains(&operation) {
        if let Some(word) = response.and_then(|r| outcome_word(r.get(), operation)) {
            let status = match word.to_ascii_lowercase().as_str() {
                "success" => Status::Success,
                "failure" | "failed" => Status::Failure,
                _ => Status::Unknown,
            };
            return (status, Some(Cow::Owned(word)));
        }
    }
    match error_code {
        Some(code) => (Status::Failure, Some(Cow::Owned(code.to_owned()))),
        None => (Status::Success, None),
    }
}

fn outcome_word(response: &str, operation: &str) -> Option<String> {
    let map: std::collections::HashMap<String, serde_json::Value> = serde_json::from_str(response).ok()?;
    map.get(operation).and_then(|v| v.as_str()).map(str::to_owned)
}

#[cfg(test)]
mod tests;
