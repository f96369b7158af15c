//! `enumeration_burst` on recorded runs and labelled fixtures (skipped without `../shared`).

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{event, lake, panther, shared_events, utc, HOUR_US};
use crate::analytics::DetectContext;
use crate::findings::Severity;
use crate::schema::{ActorType, Provider};

const BENJAMIN: &str = "arn:aws:iam::123837392027:user/benjamin";

/// Stratus Red Team `aws.discovery.ec2-download-user-data`: a role created for the
/// detonation reads the user data of instances, 15 DescribeInstanceAttribute calls in
/// four seconds. With no history it is a low learning finding (a single-API sweep of 15
/// calls stays under the floors of an established principal).
#[test]
fn stratus_user_data_download_is_a_learning_finding() {
    let Some(ev) = shared_events("data/real/aws_cloudtrail/stratus_detonation_logs/aws.discovery.ec2-download-user-data.json") else {
        eprintln!("skipped: ../shared/data/real not present");
        return;
    };
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2024, 8, 1, 0);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some("arn:aws:iam::321848314756:role/stratus-red-team-get-usr-data-role"));
    assert_eq!((f.severity, f.observed, f.evidence_count, f.p_value), (Severity::Low, 15.0, 15, None));
    assert_eq!(f.operation.as_deref(), Some("DescribeInstanceAttribute"));
    assert_eq!(f.attack_techniques, vec!["T1580"]);
}

fn invictus() -> Option<Vec<crate::event::Event<'static>>> {
    shared_events("data/real/aws_cloudtrail/invictus_stratus_2023-07-10")
}

/// The recorded invictus account (2,900 events in one hour) gives nobody history, so only
/// learning findings are honest: benjamin's S3 / IAM sweep, the Terraform user's plan
/// (automation) and the Stratus user-data role.
#[test]
fn invictus_run_alone_gives_learning_findings() {
    let Some(ev) = invictus() else { return };
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2023, 7, 11, 0);
    lake(ctx.dir.path(), &ev);
    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by(|a, b| a.actor_uid.cmp(&b.actor_uid));
    let who: Vec<(&str, f64)> = found.iter().map(|f| (f.actor_uid.as_deref().unwrap(), f.observed)).collect();
    assert_eq!(
        who,
        [
            ("arn:aws:iam::123837392027:role/stratus-red-team-get-usr-data-role", 15.0),
            (BENJAMIN, 63.0),
            ("arn:aws:iam::123837392027:user/bert-jan", 1326.0),
        ]
    );
    assert!(found.iter().all(|f| f.severity == Severity::Low && f.p_value.is_none()));
    assert!(found[1].description.contains("13 distinct operations across 3 services (account.amazonaws.com, iam.amazonaws.com, s3.amazonaws.com)"), "{}", found[1].description);
    assert!(found[2].description.contains("(automation)") && found[2].description.contains("Peers: 3 other automation principals"), "{}", found[2].description);
}

/// benjamin's recorded sweep (63 calls, 13 operations, S3 + IAM + Account in 77 s) on
/// top of three weeks in which he made two calls on weekday mornings: medium.
#[test]
fn invictus_sweep_on_a_quiet_history_is_medium() {
    let Some(ev) = invictus() else { return };
    let mut ev: Vec<_> = ev.into_iter().filter(|e| e.actor_uid.as_deref() == Some(BENJAMIN)).collect();
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2023, 7, 11, 0);
    let ws = ctx.window_start_us();
    let user = |uid: String, t: i64, svc: &str, op: &str| event(Provider::Aws, "123837392027", &uid, t, Some(BENJAMIN), ActorType::IamUser, svc, op);
    ev.push(user("anchor".into(), ws - 21 * 24 * HOUR_US, "signin.amazonaws.com", "ConsoleLogin"));
    for d in 1..=21 {
        let day0 = ws - d * 24 * HOUR_US;
        if crate::analytics::volume::weekday_hour(day0 / HOUR_US).0 < 5 {
            ev.push(user(format!("h{d}a"), day0 + 9 * HOUR_US, "sts.amazonaws.com", "GetCallerIdentity"));
            ev.push(user(format!("h{d}b"), day0 + 9 * HOUR_US + 5_000_000, "s3.amazonaws.com", "ListBuckets"));
        }
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.actor_uid.as_deref(), f.severity, f.observed, f.baseline_days), (Some(BENJAMIN), Severity::Medium, 63.0, 21));
    // Monday 11:00 (hour of week) had no call on the three Mondays: ½/3 expected.
    assert!((f.expected.unwrap() - 0.5 / 3.0).abs() < 1e-12, "{:?}", f.expected);
    assert!(f.p_value_adjusted.unwrap() < 1e-30, "{:?}", f.p_value_adjusted);
    assert!(f.attack_techniques.iter().any(|t| t == "T1619") && f.attack_techniques.iter().any(|t| t == "T1087.004"), "{:?}", f.attack_techniques);
}

/// Panther's discovery rules fire on one call (`AWS.CloudTrail.Account.Discovery`,
/// `AWS.Software.Discovery`, `AWS.RDS.SnapshotEnumeration`, `AWS.IAMUser.ReconAccessDenied`,
/// `AWS.CloudTrail.SES.ListIdentities`, `GCP.IAM.Tag.Enumeration`,
/// `Azure.MonitorActivity.Network.IPDiscovery`). One call is not a burst: their
/// expected-true fixtures are out of reach of this analytic (and expected-false ones give
/// nothing). The catalogued ones are still discovery calls that count toward a burst.
#[test]
fn panther_single_discovery_calls_are_not_bursts() {
    let rules = [
        "AWS.CloudTrail.Account.Discovery",
        "AWS.Software.Discovery",
        "AWS.RDS.SnapshotEnumeration",
        "AWS.IAMUser.ReconAccessDenied",
        "AWS.CloudTrail.SES.ListIdentities",
        "GCP.IAM.Tag.Enumeration",
        "Azure.MonitorActivity.Network.IPDiscovery",
    ];
    let catalog = crate::catalog::Catalog::load_builtin().unwrap();
    let mut events = Vec::new();
    let (mut tagged_true, mut labelled) = (Vec::new(), 0);
    for source in ["aws_cloudtrail", "gcp_audit", "azure_activity"] {
        let Some((evs, labels)) = panther(source) else {
            eprintln!("skipped: ../shared/data not present");
            return;
        };
        for l in labels.iter().filter(|l| rules.contains(&l.rule_id.as_str())) {
            labelled += 1;
            for (_, e) in evs.iter().filter(|(n, _)| *n == l.line) {
                if l.expected && !catalog.lookup_tagged(e.provider.as_str(), &e.service, &e.operation, TAG).is_empty() {
                    tagged_true.push(e.operation.to_string());
                }
                events.push(e.clone());
            }
        }
    }
    assert_eq!(labelled, 22);
    tagged_true.sort();
    assert_eq!(
        tagged_true,
        [
            "DescribeAccount", "DescribeDBClusterSnapshots", "DescribeDBSnapshots", "DescribeSecurityGroups", "GetRole",
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ",
            "MICROSOFT.NETWORK/PUBLICIPADDRESSES/READ", "MICROSOFT.NETWORK/PUBLICIPADDRESSES/READ",
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    lake(dir.path(), &events);
    let config = crate::analytics::AnalyticsConfig::default();
    let ctx = DetectContext {
        lake_root: dir.path(),
        as_of: utc(2027, 1, 1, 0),
        window: chrono::Duration::hours(24 * 365 * 9),
        catalog: &catalog,
        config: &config,
        run_uid: "panther",
    };
    assert!(run(&ctx).unwrap().is_empty());
}
