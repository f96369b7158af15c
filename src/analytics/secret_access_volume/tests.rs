//! Tests of `secret_access_volume` on small lakes written with the real schema.

use super::*;
use crate::analytics::testlake::{ev, write_lake, Ctx};
use crate::event::Event;
use crate::schema::ActorType;

const P1: &str = "arn:aws:iam::111122223333:role/app";
const SM: &str = "secretsmanager.amazonaws.com";

fn read(uid: String, t: i64, actor: &str, secret: &str) -> Event<'static> {
    let mut e = ev(&uid, t, actor, ActorType::AssumedRole, SM, "GetSecretValue");
    e.request_params = Some(format!(r#"{{"secretId":"{secret}"}}"#).into());
    e
}

/// 14 days before the window of 1,2,3,2,1,2,3,2,... reads per hour (mean 2).
fn usual_history(ctx: &Ctx, actor: &str, out: &mut Vec<Event<'static>>) {
    let start = ctx.window_start_us() - 14 * 24 * HOUR_US;
    for h in 0..14 * 24 {
        for k in 0..[1, 2, 3, 2][h as usize % 4] {
            let t = start + h * HOUR_US + k * 60_000_000;
            out.push(read(format!("{actor}-h{h}-{k}"), t, actor, "db-password"));
        }
    }
}

/// The window at the usual rate, except hour `burst` (if any) with 60 reads of 12 secrets.
fn window(ctx: &Ctx, actor: &str, burst: Option<i64>, out: &mut Vec<Event<'static>>) {
    for h in 0..24 {
        let t0 = ctx.window_start_us() + h * HOUR_US;
        if Some(h) == burst {
            for k in 0..60 {
                out.push(read(
                    format!("{actor}-b{k}"),
                    t0 + k * 50_000_000,
                    actor,
                    &format!("prod/s{}", k % 12),
                ));
            }
        } else {
            for k in 0..[1, 2, 3, 2][h as usize % 4] {
                out.push(read(
                    format!("{actor}-w{h}-{k}"),
                    t0 + k * 60_000_000,
                    actor,
                    "db-password",
                ));
            }
        }
    }
}

#[test]
fn burst_against_own_history_is_flagged() {
    let ctx = Ctx::new();
    let mut events = Vec::new();
    usual_history(&ctx, P1, &mut events);
    window(&ctx, P1, Some(10), &mut events);
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some(P1));
    assert_eq!(f.observed, 60.0);
    let p = f.p_value.unwrap();
    assert!(p < 1e-6 && p > 0.0, "{p}");
    // 24 hours × P(X ≥ 60 | λ = 672.5/336) under Poisson (variance 0.5 < mean: no NB).
    assert!((p / 4.858056567576804e-64 - 1.0).abs() < 1e-6, "{p}");
    assert!(f.p_value_adjusted.unwrap() <= 0.01);
    // Jeffreys rate (672 + 0.5) / 336 hours.
    assert!((f.expected.unwrap() - 672.5 / 336.0).abs() < 1e-9);
    assert_eq!(f.baseline_days, 14);
    assert_eq!(
        f.window_start.timestamp_micros(),
        ctx.window_start_us() + 10 * HOUR_US
    );
    assert_eq!(f.evidence_count, 60);
    assert_eq!(f.evidence_event_uids.len(), 60);
    assert_eq!(f.operation.as_deref(), Some("GetSecretValue"));
    assert_eq!(f.attack_techniques, vec!["T1555.006"]);
    assert_eq!(f.data_component, "enumeration");
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.description.contains("12 distinct secrets in the hour"),
        "{}",
        f.description
    );
    assert!(
        f.description.contains("13 in the window"),
        "{}",
        f.description
    );
    assert!(f.description.contains("poisson model"), "{}", f.description);
}

#[test]
fn usual_rate_is_not_flagged() {
    let ctx = Ctx::new();
    let mut events = Vec::new();
    usual_history(&ctx, P1, &mut events);
    window(&ctx, P1, None, &mut events);
    write_lake(ctx.dir.path(), &events);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
}

#[test]
fn new_principal_gets_learning_finding_without_p_value() {
    let ctx = Ctx::new();
    let mut events = Vec::new();
    window(
        &ctx,
        "arn:aws:iam::111122223333:user/new",
        Some(5),
        &mut events,
    );
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.p_value, None);
    assert_eq!(f.p_value_adjusted, None);
    assert_eq!(f.expected, None);
    assert_eq!(f.observed, 60.0);
    assert_eq!(f.baseline_days, 0);
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.title
            .starts_with("New principal reading secrets (learning)"),
        "{}",
        f.title
    );
}

#[test]
fn floors_and_request_conditions() {
    let ctx = Ctx::new();
    let quiet = "arn:aws:iam::111122223333:user/quiet";
    let ssm = "arn:aws:iam::111122223333:user/ssm";
    let ws = ctx.window_start_us();
    let mut events = Vec::new();
    // `quiet` exists for 14 days (one DescribeInstances a day) but never read secrets;
    // 3 reads against ~0.0015 expected has p ≈ 5e-10 but stays under min_count.
    for d in 1..=14 {
        events.push(ev(
            &format!("q{d}"),
            ws - d * 24 * HOUR_US,
            quiet,
            ActorType::IamUser,
            "ec2.amazonaws.com",
            "DescribeInstances",
        ));
    }
    for k in 0..3 {
        events.push(read(format!("q-r{k}"), ws + HOUR_US + k, quiet, "x"));
    }
    // A new principal reading 30 SSM parameters without decryption: not secret reads;
    // 25 with decryption: a learning finding.
    for k in 0..30 {
        let mut e = ev(
            &format!("plain{k}"),
            ws + 2 * HOUR_US + k,
            ssm,
            ActorType::IamUser,
            "ssm.amazonaws.com",
            "GetParameter",
        );
        e.request_params = Some(format!(r#"{{"name": "/p/{k}", "withDecryption": false}}"#).into());
        events.push(e);
    }
    write_lake(ctx.dir.path(), &events);
    assert!(run(&ctx.ctx()).unwrap().is_empty());

    let mut more = events.clone();
    for k in 0..25 {
        let mut e = ev(
            &format!("dec{k}"),
            ws + 3 * HOUR_US + k,
            ssm,
            ActorType::IamUser,
            "ssm.amazonaws.com",
            "GetParameters",
        );
        e.request_params =
            Some(format!(r#"{{"names": ["/p/{k}"], "withDecryption": true}}"#).into());
        more.push(e);
    }
    let ctx2 = Ctx::new();
    write_lake(ctx2.dir.path(), &more);
    let found = run(&ctx2.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor_uid.as_deref(), Some(ssm));
    assert_eq!(found[0].observed, 25.0);
    assert!(
        found[0].description.contains("25 distinct secrets"),
        "{}",
        found[0].description
    );
}

#[test]
fn automation_is_its_own_family() {
    let ctx = Ctx::new();
    let bot = "lambda.amazonaws.com";
    let mut events = Vec::new();
    usual_history(&ctx, P1, &mut events);
    window(&ctx, P1, Some(10), &mut events);
    let mut bots = Vec::new();
    usual_history(&ctx, bot, &mut bots);
    window(&ctx, bot, None, &mut bots);
    events.extend(bots.into_iter().map(|mut e| {
        e.actor_type = ActorType::AwsService;
        e
    }));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        found[0].description.contains("across 1 human principals"),
        "{}",
        found[0].description
    );
}

/// An assumed role that calls with a deployment tool's agent is automation, not a person
/// (helper finding: `github-actions-terraform` landed in the human family).
#[test]
fn a_role_calling_with_terraform_is_automation() {
    let ctx = Ctx::new();
    let ci = "arn:aws:iam::111122223333:role/github-actions-terraform";
    let mut events = Vec::new();
    usual_history(&ctx, P1, &mut events);
    window(&ctx, P1, Some(10), &mut events);
    let mut ci_events = Vec::new();
    usual_history(&ctx, ci, &mut ci_events);
    window(&ctx, ci, None, &mut ci_events);
    events.extend(ci_events.into_iter().map(|mut e| {
        e.actor_type = ActorType::AssumedRole;
        e.user_agent = Some("APN/1.0 HashiCorp/1.0 Terraform/1.7.5".into());
        e
    }));
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].description.contains("across 1 human principals"), "{}", found[0].description);
}

#[test]
fn secret_names_from_requests() {
    assert_eq!(
        secrets_of(Some("arn:x"), Some(r#"{"secretId":"y"}"#)),
        vec!["arn:x"]
    );
    assert_eq!(
        secrets_of(None, Some(r#"{"secretIdList":["a","b"]}"#)),
        vec!["a", "b"]
    );
    assert!(secrets_of(None, Some(r#"{"filters":[]}"#)).is_empty());
    assert!(secrets_of(None, None).is_empty());
}
