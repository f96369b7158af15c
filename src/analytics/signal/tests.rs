//! Tests of the signal engine on small lakes written with the real schema.

use super::outlier::{hourly_outliers, OutlierParams};
use super::testkit::{ev, Lab, DAY, MIN};
use super::*;
use crate::findings::Severity;
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, Provider};

const PARAMS: Params = Params { history_days: 90, min_history_days: 7, routine_min_days: 5, max_evidence: 200 };

fn row(actor: Option<&str>, t: ActorType, ua: Option<&str>) -> Row {
    Row {
        t: 0,
        event_uid: "e".into(),
        provider: "aws".into(),
        account: "1".into(),
        region: None,
        actor: actor.map(String::from),
        actor_type: t,
        src_ip: None,
        user_agent: ua.map(String::from),
        service: "s".into(),
        operation: "o".into(),
        failed: false,
        error_code: None,
        resource: None,
        request: None,
        response: None,
        op: 0,
    }
}

#[test]
fn initiator_classes() {
    let class = |a: Option<&str>, t, ua| ActorClass::of(&[&row(a, t, ua)]);
    let sso = "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DevAdmin_abc";
    assert_eq!(class(Some(sso), ActorType::AssumedRole, None), ActorClass::Person);
    assert_eq!(class(Some("arn:aws:iam::1:role/tester"), ActorType::AssumedRole, None), ActorClass::Role);
    assert_eq!(
        class(Some("arn:aws:iam::1:role/ci"), ActorType::AssumedRole, Some("APN/1.0 HashiCorp/1.0 Terraform/1.7.5")),
        ActorClass::Automation
    );
    assert_eq!(class(Some("sa@p.iam.gserviceaccount.com"), ActorType::ServiceAccount, None), ActorClass::Automation);
    assert_eq!(class(Some("adelev@contoso.com"), ActorType::User, None), ActorClass::Person);
    assert_eq!(class(None, ActorType::None, None), ActorClass::Unknown);
}

#[test]
fn grade_table_cells() {
    use Severity::*;
    let first = Standing::FirstTime { days: 30 };
    let learning = Standing::Learning { days: 0 };
    let repeat = Standing::Repeat { days: 30, before: 3, before_days: 2 };
    let routine = Standing::Routine { days: 30, routine_days: 9 };
    let g = |c, s: &Standing, w| grade(c, s, w, false).severity;
    assert_eq!(g(ActorClass::Person, &first, Weight::Change), High);
    assert_eq!(g(ActorClass::Person, &first, Weight::Sensitive), Critical);
    assert_eq!(g(ActorClass::Person, &learning, Weight::Change), Medium);
    assert_eq!(g(ActorClass::Unknown, &learning, Weight::Sensitive), High);
    assert_eq!(g(ActorClass::Person, &repeat, Weight::Context), Info);
    assert_eq!(g(ActorClass::Person, &repeat, Weight::Change), Low);
    assert_eq!(g(ActorClass::Person, &repeat, Weight::Sensitive), Medium);
    assert_eq!(g(ActorClass::Person, &routine, Weight::Change), Low);
    assert_eq!(g(ActorClass::Role, &learning, Weight::Change), Low);
    assert_eq!(g(ActorClass::Role, &first, Weight::Change), Medium);
    assert_eq!(g(ActorClass::Automation, &learning, Weight::Change), Info);
    assert_eq!(g(ActorClass::Automation, &repeat, Weight::Change), Low);
    assert_eq!(g(ActorClass::Automation, &learning, Weight::Severe), High);
    let r = grade(ActorClass::Automation, &routine, Weight::Change, false);
    assert_eq!((r.severity, r.suppressed.is_some()), (Info, true));
    // Severe is never suppressed, even when routine.
    assert!(grade(ActorClass::Automation, &routine, Weight::Severe, false).suppressed.is_none());
    // Failures: low, info for context, medium for severe.
    assert_eq!(grade(ActorClass::Person, &first, Weight::Change, true).severity, Low);
    assert_eq!(grade(ActorClass::Person, &first, Weight::Context, true).severity, Info);
    assert_eq!(grade(ActorClass::Role, &learning, Weight::Severe, true).severity, Medium);
    let mut up = grade(ActorClass::Person, &first, Weight::Sensitive, false);
    up.raise(1, "x");
    assert_eq!(up.severity, Critical, "capped");
}

#[test]
fn verbs_and_deletions() {
    assert_eq!(verb("MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/DELETE"), "delete");
    assert_eq!(verb("Microsoft.CognitiveServices/register/action"), "register");
    assert_eq!(verb("google.cloud.resourcemanager.v3.Projects.DeleteProject"), "deleteproject");
    assert_eq!(verb("AddPermission20150331v2"), "addpermission20150331v2");
    assert!(is_deletion("Microsoft.KeyVault/locations/deletedVaults/purge/action"));
    assert!(is_deletion("ScheduleKeyDeletion"));
    assert!(!is_deletion("Microsoft.Resources/subscriptions/resourceGroups/write"));
}

/// `service = "*"` entries (Azure diagnostic settings of nested resources) are selected,
/// operations match whatever their casing, and history rows carry no request body.
#[test]
fn scan_selects_any_service_entries_case_insensitively() {
    let lab = Lab::new();
    let s = lab.start();
    let who = Some(("adelev@contoso.com", ActorType::User));
    let nested = "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE";
    let mut old = ev(Provider::Azure, "old", s - 20 * DAY, who, "Microsoft.Insights", "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE");
    old.request_params = Some(r#"{"x":1}"#.into());
    let mut now = ev(Provider::Azure, "now", s + 60 * MIN, who, "Microsoft.Network", nested);
    now.request_params = Some(r#"{"x":2}"#.into());
    let noise = ev(Provider::Azure, "noise", s + 61 * MIN, who, "Microsoft.Compute", "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE");
    lab.write(&[old, now, noise]);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&["logging_disable"]), &[], 90).unwrap();
    let ops: Vec<(&str, &str)> = scan.ops.iter().map(|o| (o.service.as_str(), o.operation.as_str())).collect();
    assert_eq!(
        ops,
        vec![("Microsoft.Insights", "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"), ("Microsoft.Network", nested)]
    );
    assert_eq!(scan.history.len(), 1);
    assert_eq!(scan.history[0].request, None);
    assert_eq!(scan.window.len(), 1);
    assert_eq!(scan.window[0].request.as_deref(), Some(r#"{"x":2}"#));
    assert_eq!(scan.account_days("azure", testkit::account(Provider::Azure)), 20);
    assert!(scan.service_seen_before("azure", testkit::account(Provider::Azure), "microsoft.insights"));
    assert!(!scan.service_seen_before("azure", testkit::account(Provider::Azure), "Microsoft.Compute"));
    // Extra operations are selected by name on any service.
    let extra = [ExtraOp { provider: "azure".into(), operation: "Microsoft.Compute/virtualMachines/write".into(), tag: 7 }];
    let scan = Scan::read(&lab.ctx(), Select::Tags(&["no_such_tag"]), &extra, 90).unwrap();
    assert_eq!(scan.ops.len(), 1);
    assert_eq!((scan.ops[0].extra, scan.ops[0].entries.len()), (Some(7), 0));
    assert_eq!(scan.window[0].event_uid, "noise");
}

#[test]
fn standing_first_time_repeat_routine_and_learning() {
    let lab = Lab::new();
    let s = lab.start();
    let alice = Some(("arn:aws:iam::111122223333:user/alice", ActorType::IamUser));
    let bot = Some(("arn:aws:iam::111122223333:role/deployer", ActorType::AssumedRole));
    let lambda = "lambda.amazonaws.com";
    let mut events = vec![ev(Provider::Aws, "seed", s - 30 * DAY, alice, "ec2.amazonaws.com", "RunInstances")];
    for d in 1..=6 {
        events.push(ev(Provider::Aws, &format!("bot{d}"), s - d * DAY, bot, lambda, "UpdateFunctionCode20150331v2"));
    }
    events.push(ev(Provider::Aws, "a-old", s - 3 * DAY, alice, lambda, "CreateFunction20150331"));
    events.push(ev(Provider::Aws, "a-now", s + MIN, alice, lambda, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "b-now", s + 2 * MIN, bot, lambda, "UpdateFunctionCode20150331v2"));
    let carol = Some(("arn:aws:iam::111122223333:user/carol", ActorType::IamUser));
    events.push(ev(Provider::Aws, "c-now", s + 3 * MIN, carol, lambda, "UpdateFunctionCode20150331v2"));
    events.push(ev(Provider::Aws, "c-later", s + 3 * HOUR_US, carol, lambda, "UpdateFunctionCode20150331v2"));
    lab.write(&events);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&["serverless_change"]), &[], 90).unwrap();
    let profile = Profile::new(&scan, |_| String::new());
    let standing = |uid: &str| {
        let r = scan.window.iter().find(|r| r.event_uid == uid).unwrap();
        profile.standing(&scan, &PARAMS, &[r], "")
    };
    assert_eq!(standing("a-now"), Standing::Repeat { days: 30, before: 1, before_days: 1 });
    assert_eq!(standing("b-now"), Standing::Routine { days: 30, routine_days: 6 });
    assert_eq!(standing("c-now"), Standing::FirstTime { days: 30 });
    // Carol's second change in the window is no longer her first.
    assert!(matches!(standing("c-later"), Standing::Repeat { before: 0, .. }));
    let strict = Params { min_history_days: 31, ..PARAMS };
    let r = scan.window.iter().find(|r| r.event_uid == "c-now").unwrap();
    assert_eq!(profile.standing(&scan, &strict, &[r], ""), Standing::Learning { days: 30 });
}

#[test]
fn hourly_outlier_flags_a_burst_against_a_quiet_history() {
    let lab = Lab::new();
    let s = lab.start();
    let dev = Some(("arn:aws:iam::111122223333:user/dev", ActorType::IamUser));
    let calm = Some(("arn:aws:iam::111122223333:user/calm", ActorType::IamUser));
    let mut events = Vec::new();
    // 14 days of history: dev changes one function a day, calm two a day.
    for d in 1..=14 {
        events.push(ev(Provider::Aws, &format!("d{d}"), s - d * DAY + 10 * HOUR_US, dev, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2"));
        for k in 0..2 {
            events.push(ev(Provider::Aws, &format!("c{d}-{k}"), s - d * DAY + (9 + k) * HOUR_US, calm, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2"));
        }
    }
    // Window: dev makes 12 changes in one hour; calm its usual two.
    for k in 0..12 {
        events.push(ev(Provider::Aws, &format!("w{k}"), s + 5 * HOUR_US + k * MIN, dev, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2"));
    }
    for k in 0..2 {
        events.push(ev(Provider::Aws, &format!("cw{k}"), s + (9 + k) * HOUR_US, calm, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2"));
    }
    lab.write(&events);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&["serverless_change"]), &[], 90).unwrap();
    let p = OutlierParams { fdr_q: 0.01, min_count: 5, min_ratio: 3.0, dispersion_alpha: 0.05, min_history_days: 7 };
    let found = hourly_outliers(&scan, |_| true, &p, 24);
    assert_eq!(found.len(), 1);
    let o = &found[0];
    assert_eq!(o.rows[0].actor.as_deref(), Some("arn:aws:iam::111122223333:user/dev"));
    // Whole days of account history: the first event is 13.6 days before the window.
    assert_eq!((o.observed, o.history_hours), (12, 13 * 24));
    assert!(o.p_adjusted < 1e-6, "{}", o.p_adjusted);
    assert!((o.model.mean() - 13.5 / 312.0).abs() < 1e-9, "{}", o.model.mean());
    // Not tested without enough account history.
    let young = OutlierParams { min_history_days: 14, ..p };
    assert!(hourly_outliers(&scan, |_| true, &young, 24).is_empty());
}

/// DESIGN.md's daily run over a 30-day backfill: ~100k rows (3 providers, 30 days, 2 % of
/// them catalogued changes); every signal analytic finds its changes over the profile
/// store that `run` builds first. Timings are printed, not asserted (a shared runner's
/// speed is no test); `cloudsift run` reports them per day on real lakes.
#[test]
fn every_signal_analytic_finds_its_changes_on_a_100k_row_lake() {
    use crate::analytics::{
        event_trigger_created, quota_increase, region_or_service_enabled, resource_hierarchy_change, serverless_change,
        service_change_unexpected_initiator,
    };
    let lab = Lab::new();
    let s = lab.start();
    let noise = [
        (Provider::Aws, "ec2.amazonaws.com", "DescribeInstances"),
        (Provider::Aws, "s3.amazonaws.com", "GetObject"),
        (Provider::Azure, "Microsoft.Compute", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ"),
        (Provider::Gcp, "storage.googleapis.com", "storage.objects.get"),
    ];
    let signals = [
        (Provider::Aws, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
        (Provider::Aws, "events.amazonaws.com", "PutRule"),
        (Provider::Aws, "servicequotas.amazonaws.com", "RequestServiceQuotaIncrease"),
        (Provider::Azure, "Microsoft.Resources", "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/WRITE"),
        (Provider::Azure, "Microsoft.KeyVault", "MICROSOFT.KEYVAULT/VAULTS/DELETE"),
        (Provider::Gcp, "serviceusage.googleapis.com", "google.api.serviceusage.v1.ServiceUsage.EnableService"),
    ];
    let actors: Vec<String> = (0..200).map(|i| format!("arn:aws:iam::111122223333:user/u{i}")).collect();
    let mut events = Vec::with_capacity(100_000);
    for i in 0..100_000i64 {
        let t = s - 29 * DAY + (i * 30 * DAY) / 100_000;
        let (p, svc, op) = if i % 50 == 0 { signals[(i / 50) as usize % signals.len()] } else { noise[i as usize % noise.len()] };
        let who = Some((actors[(i % 200) as usize].as_str(), ActorType::IamUser));
        let mut e = ev(p, &format!("e{i}"), t, who, svc, op);
        e.region = Some(["us-east-1", "eu-west-1", "westeurope"][(i % 3) as usize].into());
        e.resource_uid = Some(format!("resource-{}", i % 997).into());
        e.request_params = Some(format!(r#"{{"name":"resource-{}","filter":"{}"}}"#, i % 997, "x".repeat(150)).into());
        events.push(e);
    }
    lab.write(&events);
    type Run = fn(&crate::analytics::DetectContext) -> crate::Result<Vec<crate::findings::Finding>>;
    let runs: [(&str, Run); 6] = [
        ("resource_hierarchy_change", resource_hierarchy_change::run),
        ("event_trigger_created", event_trigger_created::run),
        ("serverless_change", serverless_change::run),
        ("region_or_service_enabled", region_or_service_enabled::run),
        ("quota_increase", quota_increase::run),
        ("service_change_unexpected_initiator", service_change_unexpected_initiator::run),
    ];
    let ctx = lab.ctx();
    let t0 = std::time::Instant::now();
    let built = crate::profiles::store::update(ctx.lake_root, ctx.window_start(), ctx.as_of, &ctx.config.profiles, &crate::progress::Silent).unwrap();
    eprintln!("profile store: {} days in {:.3} s", built.built.len(), t0.elapsed().as_secs_f64());
    assert_eq!(built.built.len(), 30);
    for (id, run) in runs {
        let t0 = std::time::Instant::now();
        let found = run(&ctx).unwrap();
        eprintln!("{id}: {} findings in {:.3} s", found.len(), t0.elapsed().as_secs_f64());
        assert!(!found.is_empty(), "{id}");
    }
}
