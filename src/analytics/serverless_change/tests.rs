//! Tests of `serverless_change` on small lakes written with the real schema.

use super::*;
use crate::analytics::signal::testkit::{ev, Lab, DAY, MIN};
use crate::event::Event;
use crate::schema::{ActorType, Provider};

const LAMBDA: &str = "lambda.amazonaws.com";

fn dev() -> Option<(&'static str, ActorType)> {
    Some(("arn:aws:iam::111122223333:user/dev", ActorType::IamUser))
}

fn with(mut e: Event<'static>, request: &str) -> Event<'static> {
    e.request_params = Some(request.to_string().into());
    e
}

#[test]
fn request_weights() {
    let lab = Lab::new();
    let s = lab.start();
    let deployer = Some(("arn:aws:iam::111122223333:role/deployer", ActorType::AssumedRole));
    let run_sa = Some(("deployer@p.iam.gserviceaccount.com", ActorType::ServiceAccount));
    let events = vec![
        with(ev(Provider::Aws, "public", s, deployer, LAMBDA, "AddPermission20150331v2"), r#"{"action":"lambda:InvokeFunction","functionName":"f","principal":"*","statementId":"backdoor"}"#),
        with(ev(Provider::Aws, "s3", s, deployer, LAMBDA, "AddPermission20150331v2"), r#"{"functionName":"f","principal":"s3.amazonaws.com","sourceArn":"arn:aws:s3:::b"}"#),
        with(ev(Provider::Aws, "url", s, deployer, LAMBDA, "CreateFunctionUrlConfig20211031"), r#"{"functionName":"f","authType":"NONE"}"#),
        with(ev(Provider::Aws, "layer", s, deployer, LAMBDA, "UpdateFunctionConfiguration20150331v2"), r#"{"functionName":"f","layers":["arn:aws:lambda:us-east-1:999988887777:layer:x:1"]}"#),
        with(ev(Provider::Aws, "env", s, deployer, LAMBDA, "UpdateFunctionConfiguration20150331v2"), r#"{"functionName":"f","environment":{}}"#),
        with(
            ev(Provider::Gcp, "allusers", s, run_sa, "run.googleapis.com", "google.cloud.run.v1.Services.SetIamPolicy"),
            r#"{"policy":{"bindings":[{"members":["allUsers"],"role":"roles/run.invoker"}]}}"#,
        ),
        with(
            ev(Provider::Gcp, "one", s, run_sa, "run.googleapis.com", "google.cloud.run.v1.Services.SetIamPolicy"),
            r#"{"policy":{"bindings":[{"members":["user:a@b.com"],"role":"roles/run.invoker"}]}}"#,
        ),
    ];
    lab.write(&events);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&[TAG]), &[], 90).unwrap();
    let w = |uid: &str| weight(scan.window.iter().find(|r| r.event_uid == uid).unwrap()).0;
    assert_eq!(w("public"), Weight::Severe);
    assert_eq!(w("s3"), Weight::Sensitive);
    assert_eq!(w("url"), Weight::Severe);
    assert_eq!(w("layer"), Weight::Sensitive);
    assert_eq!(w("env"), Weight::Deploy);
    assert_eq!(w("allusers"), Weight::Severe);
    assert_eq!(w("one"), Weight::Sensitive);
}

/// Stratus `lambda-backdoor-function` shape: a public grant is high even from automation
/// while learning; a conditioned grant by the same automation is low; automation's code
/// deploy while learning is info.
#[test]
fn public_grant_is_high_whoever_does_it() {
    let lab = Lab::new();
    let s = lab.start();
    let sa = Some(("arn:aws:iam::111122223333:role/ci", ActorType::AssumedRole));
    let ua = "aws-sdk-go-v2 terraform-provider-aws/5.40.0";
    let mut events = vec![
        with(ev(Provider::Aws, "pub", s + MIN, sa, LAMBDA, "AddPermission20150331v2"), r#"{"functionName":"f","principal":"*"}"#),
        with(ev(Provider::Aws, "cond", s + 2 * MIN, sa, LAMBDA, "AddPermission20150331v2"), r#"{"functionName":"g","principal":"*","sourceAccount":"111122223333"}"#),
        with(ev(Provider::Aws, "code", s + 3 * MIN, sa, LAMBDA, "UpdateFunctionCode20150331v2"), r#"{"functionName":"h"}"#),
    ];
    for e in &mut events {
        e.user_agent = Some(ua.into());
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    let by = |uid: &str| found.iter().find(|f| f.evidence_event_uids[0] == uid).unwrap();
    assert_eq!(by("pub").severity, Severity::High);
    assert!(by("pub").description.contains("grants invoke rights to everyone"), "{}", by("pub").description);
    assert_eq!(by("pub").resource_uid.as_deref(), Some("f"));
    assert_eq!(by("cond").severity, Severity::Low);
    assert_eq!(by("code").severity, Severity::Info);
    assert_eq!(by("code").attack_techniques, vec!["T1648"]);
}

/// A developer with a 14-day baseline of one change a day makes 12 in an hour: the
/// signal findings plus one count-outlier finding with p-values, high for a person.
#[test]
fn burst_of_changes_gets_a_count_finding() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = Vec::new();
    for d in 1..=14 {
        events.push(ev(Provider::Aws, &format!("h{d}"), s - d * DAY + 10 * HOUR_US, dev(), LAMBDA, "UpdateFunctionCode20150331v2"));
    }
    for k in 0..12 {
        let mut e = ev(Provider::Aws, &format!("w{k:02}"), s + 5 * HOUR_US + k * MIN, dev(), LAMBDA, "UpdateFunctionCode20150331v2");
        e.resource_uid = Some(format!("arn:aws:lambda:us-east-1:111122223333:function:f{k}").into());
        events.push(e);
    }
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    let bursts: Vec<&Finding> = found.iter().filter(|f| f.p_value.is_some()).collect();
    assert_eq!(bursts.len(), 1);
    let b = bursts[0];
    assert_eq!(b.severity, Severity::High);
    assert_eq!(b.title, "12 serverless changes in one hour by arn:aws:iam::111122223333:user/dev");
    assert_eq!((b.observed, b.evidence_count), (12.0, 12));
    let expected = b.expected.unwrap();
    assert!((expected - 13.5 / 312.0).abs() < 1e-9, "{expected}");
    assert!(b.p_value_adjusted.unwrap() < 1e-6);
    assert!(b.risk_score > 75.0, "{}", b.risk_score);
    // Each function is its own signal finding: a person deploying routinely, info (people
    // are never suppressed).
    let signals: Vec<&Finding> = found.iter().filter(|f| f.p_value.is_none()).collect();
    assert_eq!(signals.len(), 12);
    assert!(signals.iter().all(|f| f.severity == Severity::Info && !f.suppressed));
    assert!(signals[0].description.contains("Routine: this initiator called the same operation on 14 distinct earlier days"), "{}", signals[0].description);
    // No count test when the bar is higher than the burst.
    let mut lab = lab;
    lab.config.serverless_change.min_count = 13;
    assert!(run(&lab.ctx()).unwrap().iter().all(|f| f.p_value.is_none()));
}

/// Panther's Azure Automation fixtures: no initiator, no history → medium; a managed
/// identity publishing a runbook while learning → info.
#[test]
fn azure_runbooks() {
    let lab = Lab::new();
    let s = lab.start();
    let mi = Some(("11111111-2222-3333-4444-555555555555", ActorType::ManagedIdentity));
    lab.write(&[
        ev(Provider::Azure, "anon", s + MIN, None, "Microsoft.Automation", "MICROSOFT.AUTOMATION/AUTOMATIONACCOUNTS/RUNBOOKS/WRITE"),
        ev(Provider::Azure, "mi", s + 2 * MIN, mi, "Microsoft.Automation", "MICROSOFT.AUTOMATION/AUTOMATIONACCOUNTS/RUNBOOKS/PUBLISH/ACTION"),
    ]);
    let found = run(&lab.ctx()).unwrap();
    let by = |uid: &str| found.iter().find(|f| f.evidence_event_uids[0] == uid).unwrap();
    assert_eq!(by("anon").severity, Severity::Medium);
    assert_eq!(by("mi").severity, Severity::Info);
}

/// A person's code deploy: low the first time, info while the account is learned and once
/// they have deployed before; creating a new function is a change (low: a repeat).
#[test]
fn deploys_by_people() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = vec![ev(Provider::Aws, "seed", s - 20 * DAY, dev(), "ec2.amazonaws.com", "DescribeInstances")];
    events.push(ev(Provider::Aws, "first", s + HOUR_US, dev(), LAMBDA, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "again", s + 3 * HOUR_US, dev(), LAMBDA, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "new", s + 4 * HOUR_US, dev(), LAMBDA, "CreateFunction20150331"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    let by = |uid: &str| found.iter().find(|f| f.evidence_event_uids[0] == uid).unwrap().severity;
    assert_eq!((by("first"), by("again"), by("new")), (Severity::Low, Severity::Info, Severity::Low));
    let mut young = Lab::new();
    young.config.serverless_change.min_history_days = 21;
    young.write(&events);
    let found = run(&young.ctx()).unwrap();
    assert_eq!(found.iter().find(|f| f.evidence_event_uids[0] == "first").unwrap().severity, Severity::Info);
}

#[test]
fn config_errors_name_the_key() {
    let c: ServerlessChangeConfig = toml::from_str("fdr_q = 2.0").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.serverless_change.fdr_q"));
    let c: ServerlessChangeConfig = toml::from_str("history_days = 0").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.serverless_change.history_days"));
}
