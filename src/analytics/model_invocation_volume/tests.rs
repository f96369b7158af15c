//! `model_invocation_volume`: first use, volume per principal and per account, learning,
//! Vertex AI, and the Stratus Bedrock detonation.

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{event, lake, shared_events, utc, HOUR_US};
use crate::event::Event;
use crate::findings::Severity;
use crate::schema::{ActorType, Provider};

const ACCT: &str = "111122223333";
const APP: &str = "arn:aws:iam::111122223333:role/chat-app";
const BEDROCK: &str = "bedrock.amazonaws.com";

fn aws(uid: String, t: i64, actor: &str, svc: &str, op: &str, region: &str) -> Event<'static> {
    let mut e = event(Provider::Aws, ACCT, &uid, t, Some(actor), ActorType::AssumedRole, svc, op);
    e.region = Some(region.to_string().into());
    e
}

fn invoke(uid: String, t: i64, actor: &str, region: &str) -> Event<'static> {
    let mut e = aws(uid, t, actor, BEDROCK, "InvokeModel", region);
    e.request_params = Some(r#"{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0"}"#.into());
    e
}

/// `days` days of one DescribeInstances per hour by the app role in us-east-1: an
/// account that exists but never invoked a model.
fn quiet_account(ctx: &Ctx, days: i64) -> Vec<Event<'static>> {
    let ws = ctx.window_start_us();
    (-days * 24..24).map(|h| aws(format!("d{h}"), ws + h * HOUR_US, APP, "ec2.amazonaws.com", "DescribeInstances", "us-east-1")).collect()
}

#[test]
fn first_use_in_an_account_is_medium_and_high_with_aggravation() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut ev = quiet_account(&ctx, 14);
    for k in 0..3 {
        ev.push(invoke(format!("i{k}"), ws + 15 * HOUR_US + k * 1_000_000, APP, "us-east-1"));
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.severity, f.observed, f.expected, f.baseline_days), (Severity::Medium, 3.0, Some(0.0), 14));
    assert_eq!((f.actor_uid.as_deref(), f.account_uid.as_str()), (Some(APP), ACCT));
    assert_eq!(f.title, format!("First model invocation in account {ACCT}"));
    assert_eq!(f.attack_techniques, vec!["T1496.004"]);
    assert!(f.description.contains("models: anthropic.claude-3-sonnet-20240229-v1:0"), "{}", f.description);
    assert!(f.description.contains("no model invocation in the last 90 days"), "{}", f.description);

    // The same calls in a region the account never used: high.
    let ctx = Ctx::new();
    let mut ev = quiet_account(&ctx, 14);
    ev.push(invoke("far".into(), ws + 15 * HOUR_US, APP, "ap-southeast-3"));
    lake(ctx.dir.path(), &ev);
    let f = &run(&ctx.ctx()).unwrap()[0];
    assert_eq!(f.severity, Severity::High);
    assert!(f.description.contains("in a region the account never used before (ap-southeast-3)"), "{}", f.description);

    // By a principal created yesterday: high.
    let ctx = Ctx::new();
    let mut ev = quiet_account(&ctx, 14);
    let tmp = "arn:aws:iam::111122223333:user/tmp";
    ev.push(aws("login".into(), ws - 20 * HOUR_US, tmp, "sts.amazonaws.com", "GetCallerIdentity", "us-east-1"));
    ev.push(invoke("tmp".into(), ws + 15 * HOUR_US, tmp, "us-east-1"));
    lake(ctx.dir.path(), &ev);
    let f = &run(&ctx.ctx()).unwrap()[0];
    assert_eq!((f.severity, f.actor_uid.as_deref()), (Severity::High, Some(tmp)));
    assert!(f.description.contains(&format!("by a principal with less than 7 days of history ({tmp})")), "{}", f.description);
}

#[test]
fn a_young_account_is_only_learning() {
    let ctx = Ctx::new();
    let mut ev = quiet_account(&ctx, 3);
    ev.push(invoke("i".into(), ctx.window_start_us() + HOUR_US, APP, "us-east-1"));
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].severity, found[0].expected, found[0].baseline_days), (Severity::Low, None, 3));
    assert!(found[0].title.contains("(learning)"), "{}", found[0].title);
}

/// 21 days of 5 invocations in each office hour; the window repeats them, plus 400 at 02:00
/// (hour of week: Thursday 02:00 never saw one).
fn chat_history(ctx: &Ctx, burst: bool) -> Vec<Event<'static>> {
    let ws = ctx.window_start_us();
    let mut ev = vec![aws("anchor".into(), ws - 21 * 24 * HOUR_US, APP, "sts.amazonaws.com", "GetCallerIdentity", "us-east-1")];
    for d in -21..=0i64 {
        for h in 9..18 {
            for k in 0..5 {
                ev.push(invoke(format!("c{d}-{h}-{k}"), ws + d * 24 * HOUR_US + h * HOUR_US + k * 300_000_000, APP, "us-east-1"));
            }
        }
    }
    if burst {
        for k in 0..400 {
            ev.push(invoke(format!("b{k}"), ws + 2 * HOUR_US + k * 8_000_000, APP, "us-east-1"));
        }
    }
    ev
}

#[test]
fn a_principals_burst_against_its_history() {
    let ctx = Ctx::new();
    lake(ctx.dir.path(), &chat_history(&ctx, false));
    assert!(run(&ctx.ctx()).unwrap().is_empty());

    let ctx = Ctx::new();
    lake(ctx.dir.path(), &chat_history(&ctx, true));
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.actor_uid.as_deref(), f.observed, f.evidence_count, f.baseline_days), (Some(APP), 400.0, 400, 21));
    assert_eq!(f.window_start.timestamp_micros(), ctx.window_start_us() + 2 * HOUR_US);
    assert!((f.expected.unwrap() - 0.5 / 3.0).abs() < 1e-12, "{:?}", f.expected);
    assert_eq!(f.severity, Severity::High);
    assert!(f.description.contains("across 1 human principals"), "{}", f.description);
}

/// Ten keys of one account each make 30 calls in the same hour (each under the floor of
/// 50); the account as a whole is far above its history.
#[test]
fn volume_spread_over_many_keys_is_an_account_finding() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut ev = chat_history(&ctx, false);
    for p in 0..10 {
        let key = format!("arn:aws:iam::111122223333:user/dev{p}");
        ev.push(aws(format!("a{p}"), ws - 21 * 24 * HOUR_US, &key, "sts.amazonaws.com", "GetCallerIdentity", "us-east-1"));
        for k in 0..30 {
            ev.push(invoke(format!("k{p}-{k}"), ws + 3 * HOUR_US + k * 100_000_000 + p, &key, "us-east-1"));
        }
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.actor_uid.as_deref(), f.observed), (None, 300.0));
    assert_eq!(f.title, format!("Unusual volume of model invocations by account {ACCT}"));
    assert!(f.description.contains("across 1 accounts tested"), "{}", f.description);
}

#[test]
fn a_new_principal_in_a_model_using_account_is_learning() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut ev = chat_history(&ctx, false);
    let newbie = "arn:aws:iam::111122223333:role/new-batch";
    for k in 0..80 {
        ev.push(invoke(format!("n{k}"), ws + 11 * HOUR_US + k * 10_000_000, newbie, "us-east-1"));
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    let learn: Vec<_> = found.iter().filter(|f| f.actor_uid.as_deref() == Some(newbie)).collect();
    assert_eq!(learn.len(), 1, "{found:#?}");
    assert_eq!((learn[0].severity, learn[0].observed), (Severity::Low, 80.0));
}

#[test]
fn vertex_ai_first_use_in_a_project() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let sa = "ci@proj-1.iam.gserviceaccount.com";
    let mut ev: Vec<Event<'static>> = (-14 * 24..0)
        .map(|h| event(Provider::Gcp, "proj-1", &format!("g{h}"), ws + h * HOUR_US, Some(sa), ActorType::ServiceAccount, "storage.googleapis.com", "storage.objects.get"))
        .collect();
    for k in 0..4 {
        let mut e = event(Provider::Gcp, "proj-1", &format!("v{k}"), ws + 5 * HOUR_US + k, Some(sa), ActorType::ServiceAccount, "aiplatform.googleapis.com", "google.cloud.aiplatform.v1.PredictionService.GenerateContent");
        e.resource_uid = Some("projects/proj-1/locations/us-central1/publishers/google/models/gemini-1.5-pro".into());
        ev.push(e);
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.provider.as_str(), f.severity, f.observed), ("gcp", Severity::Medium, 4.0));
    assert!(f.description.contains("models: projects/proj-1/locations/us-central1/publishers/google/models/gemini-1.5-pro"), "{}", f.description);
}

/// Stratus `aws.impact.bedrock-invoke-model`: the role enables model access and calls
/// InvokeModel once. Alone, the account has no history: low learning. With two weeks of
/// the account's other activity (another principal, another region) before it: first use
/// by a new principal in a new region, high.
#[test]
fn stratus_bedrock_invoke_model() {
    let Some(stratus) = shared_events("data/real/aws_cloudtrail/stratus_detonation_logs/aws.impact.bedrock-invoke-model.json") else {
        eprintln!("skipped: ../shared/data/real not present");
        return;
    };
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 10, 18, 0);
    lake(ctx.dir.path(), &stratus);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].severity, found[0].observed, found[0].account_uid.as_str()), (Severity::Low, 1.0, "494659789341"));

    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 10, 18, 0);
    let ws = ctx.window_start_us();
    let mut ev = stratus.clone();
    for h in -14 * 24..0 {
        let mut e = event(Provider::Aws, "494659789341", &format!("h{h}"), ws + h * HOUR_US, Some("arn:aws:iam::494659789341:role/ops"), ActorType::AssumedRole, "ec2.amazonaws.com", "DescribeInstances");
        e.region = Some("eu-west-1".into());
        ev.push(e);
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.severity, f.observed, f.baseline_days), (Severity::High, 1.0, 14));
    assert_eq!(f.actor_uid.as_deref(), Some("arn:aws:iam::494659789341:role/test-role"));
    assert_eq!(f.operation.as_deref(), Some("InvokeModel"));
    assert!(f.description.contains("megov-northeast-1r") && f.description.contains("anthropic.claude-3-sonnet-20240229-v1:0"), "{}", f.description);
}

#[test]
fn config_is_validated_by_key() {
    let mut c = ModelInvocationVolumeConfig::default();
    assert!(c.validate().is_ok());
    c.max_history_days = 3;
    assert!(c.validate().unwrap_err().to_string().contains("analytics.model_invocation_volume.max_history_days"));
    assert!(toml::from_str::<ModelInvocationVolumeConfig>("min_count = 10\nseasonality = 'auto'\n").is_ok());
    assert!(toml::from_str::<ModelInvocationVolumeConfig>("min_counts = 10\n").is_err());
}
