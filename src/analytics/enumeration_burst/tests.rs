//! `enumeration_burst` on small lakes: own history, seasonality, peers, learning, the
//! scanner's routine, and the three clouds.

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::volume::testkit::{event, lake, HOUR_US};
use crate::event::Event;
use crate::findings::Severity;
use crate::schema::{ActorType, Provider};

const ACCT: &str = "111122223333";
const DEV: &str = "arn:aws:iam::111122223333:role/dev";
const SCANNER: &str = "arn:aws:iam::111122223333:role/security-audit";
const PROWLER: &str = "Boto3/1.34.54 md/Botocore#1.34.54 ua/2.0 os/linux Botocore/1.34.54 prowler/3.15.0";

/// 30 discovery operations across 14 services, none of them in [`USUAL`].
const SWEEP: [(&str, &str); 30] = [
    ("ec2", "DescribeSecurityGroups"), ("ec2", "DescribeSubnets"), ("ec2", "DescribeSnapshots"), ("ec2", "DescribeVolumes"), ("ec2", "DescribeKeyPairs"),
    ("s3", "GetBucketPolicy"), ("s3", "GetBucketAcl"), ("s3", "GetBucketLogging"),
    ("iam", "ListUsers"), ("iam", "ListRoles"), ("iam", "ListPolicies"), ("iam", "GetAccountAuthorizationDetails"), ("iam", "ListAccessKeys"),
    ("sts", "GetCallerIdentity"), ("organizations", "ListAccounts"), ("organizations", "DescribeOrganization"),
    ("cloudtrail", "DescribeTrails"), ("cloudtrail", "GetTrailStatus"), ("cloudtrail", "GetEventSelectors"),
    ("guardduty", "ListDetectors"), ("guardduty", "GetDetector"), ("secretsmanager", "ListSecrets"),
    ("kms", "ListKeys"), ("kms", "ListAliases"), ("lambda", "ListFunctions20150331"),
    ("rds", "DescribeDBInstances"), ("rds", "DescribeDBSnapshots"), ("dynamodb", "ListTables"), ("ssm", "DescribeParameters"), ("ecs", "ListClusters"),
];
/// A person's ordinary hour: 4 calls, 3 operations, 2 services.
const USUAL: [(&str, &str); 4] = [("ec2", "DescribeInstances"), ("ec2", "DescribeInstances"), ("ec2", "DescribeVpcs"), ("s3", "ListBuckets")];

/// An untagged sign-in at `t`: the principal exists from then on (history starts there).
fn anchor(out: &mut Vec<Event<'static>>, actor: &str, t: i64) {
    out.push(event(Provider::Aws, ACCT, &format!("{actor}-anchor"), t, Some(actor), ActorType::AssumedRole, "signin.amazonaws.com", "ConsoleLogin"));
}

fn call(uid: String, t: i64, actor: &str, svc: &str, op: &str) -> Event<'static> {
    event(Provider::Aws, ACCT, &uid, t, Some(actor), ActorType::AssumedRole, &format!("{svc}.amazonaws.com"), op)
}

/// `ops` (each once) from `t0`, 20 s apart.
fn calls(out: &mut Vec<Event<'static>>, tag: &str, t0: i64, actor: &str, ops: &[(&str, &str)]) {
    for (k, (svc, op)) in ops.iter().enumerate() {
        out.push(call(format!("{actor}-{tag}-{k}"), t0 + k as i64 * 20_000_000, actor, svc, op));
    }
}

/// `days` days before the window: [`USUAL`] in every weekday hour 09–17 UTC.
fn office_hours(ctx: &Ctx, actor: &str, days: i64, out: &mut Vec<Event<'static>>) {
    let ws = ctx.window_start_us();
    anchor(out, actor, ws - days * 24 * HOUR_US);
    for d in 1..=days {
        let day0 = ws - d * 24 * HOUR_US;
        if crate::analytics::volume::weekday_hour(day0 / HOUR_US).0 >= 5 {
            continue;
        }
        for h in 9..17 {
            calls(out, &format!("d{d}h{h}"), day0 + h * HOUR_US, actor, &USUAL);
        }
    }
}

/// The window day (a Thursday) as usual, with the 30-operation sweep twice at 14:00.
fn window_day(ctx: &Ctx, actor: &str, burst: bool, out: &mut Vec<Event<'static>>) {
    let ws = ctx.window_start_us();
    for h in 9..17 {
        calls(out, &format!("w{h}"), ws + h * HOUR_US, actor, &USUAL);
    }
    if burst {
        calls(out, "b1", ws + 14 * HOUR_US + 60_000_000, actor, &SWEEP);
        calls(out, "b2", ws + 14 * HOUR_US + 900_000_000, actor, &SWEEP);
    }
}

#[test]
fn a_broad_sweep_against_own_history_is_high() {
    let ctx = Ctx::new();
    let mut ev = Vec::new();
    office_hours(&ctx, DEV, 21, &mut ev);
    window_day(&ctx, DEV, true, &mut ev);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some(DEV));
    assert_eq!((f.observed, f.evidence_count, f.baseline_days), (64.0, 64, 21));
    assert_eq!(f.window_start.timestamp_micros(), ctx.window_start_us() + 14 * HOUR_US);
    // Hour-of-week slot Thursday 14:00 saw 4 calls on each of 3 Thursdays: (12 + ½)/3.
    assert!((f.expected.unwrap() - 12.5 / 3.0).abs() < 1e-9, "{:?}", f.expected);
    assert!(f.p_value.unwrap() < 1e-20 && f.p_value_adjusted.unwrap() <= 0.01);
    assert_eq!(f.severity, Severity::High);
    assert!(f.description.contains("33 distinct operations across 14 services"), "{}", f.description);
    assert!(f.description.contains("hour of week"), "{}", f.description);
    assert!(f.description.contains("a broad sweep of services"), "{}", f.description);
    assert!(f.description.contains("across 1 human principals"), "{}", f.description);
    for t in ["T1580", "T1087.004", "T1526", "T1619", "T1046"] {
        assert!(f.attack_techniques.iter().any(|x| x == t), "{t}: {:?}", f.attack_techniques);
    }
    assert_eq!(f.data_component, "enumeration");
}

#[test]
fn an_ordinary_day_is_quiet() {
    let ctx = Ctx::new();
    let mut ev = Vec::new();
    office_hours(&ctx, DEV, 21, &mut ev);
    window_day(&ctx, DEV, false, &mut ev);
    lake(ctx.dir.path(), &ev);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
}

/// The scanner sweeps every 4 h with its agent: automation, and its routine is its
/// seasonal expectation. A double sweep off schedule (03:00) stands out, in its own family.
#[test]
fn the_scanners_routine_is_not_a_burst() {
    let scan = |ctx: &Ctx, extra: bool| {
        let mut ev = Vec::new();
        office_hours(ctx, DEV, 21, &mut ev);
        window_day(ctx, DEV, false, &mut ev);
        let ws = ctx.window_start_us();
        for d in 0..=21i64 {
            for h in [1, 5, 9, 13, 17, 21] {
                calls(&mut ev, &format!("s{d}h{h}"), ws - d * 24 * HOUR_US + h * HOUR_US, SCANNER, &SWEEP);
            }
        }
        if extra {
            calls(&mut ev, "odd1", ws + 3 * HOUR_US, SCANNER, &SWEEP);
            calls(&mut ev, "odd2", ws + 3 * HOUR_US + 1_200_000_000, SCANNER, &SWEEP);
        }
        for e in ev.iter_mut().filter(|e| e.actor_uid.as_deref() == Some(SCANNER)) {
            e.user_agent = Some(PROWLER.into());
        }
        ev
    };
    let ctx = Ctx::new();
    lake(ctx.dir.path(), &scan(&ctx, false));
    assert!(run(&ctx.ctx()).unwrap().is_empty());

    let ctx = Ctx::new();
    lake(ctx.dir.path(), &scan(&ctx, true));
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].actor_uid.as_deref(), Some(SCANNER));
    assert_eq!(found[0].window_start.timestamp_micros(), ctx.window_start_us() + 3 * HOUR_US);
    assert!(found[0].description.contains("(automation)") && found[0].description.contains("across 1 automation principals"), "{}", found[0].description);
}

/// A person whose busy hour (30 calls, 12 operations) is 10:00 on weekdays makes 40
/// calls of 24 operations at 10:00: on a Thursday that is within the spread of the hour
/// (adjusted p above q), on a Saturday — an hour that never saw a call — it is a finding.
#[test]
fn weekday_and_weekend_are_apart() {
    let usual: Vec<(&str, &str)> = SWEEP[..12].iter().chain(SWEEP[..12].iter()).chain(SWEEP[..6].iter()).copied().collect();
    let more: Vec<(&str, &str)> = SWEEP[..24].iter().chain(SWEEP[..16].iter()).copied().collect();
    let setup = |ctx: &Ctx| {
        let mut ev = Vec::new();
        let ws = ctx.window_start_us();
        anchor(&mut ev, DEV, ws - 28 * 24 * HOUR_US);
        for d in 1..=28 {
            let day0 = ws - d * 24 * HOUR_US;
            if crate::analytics::volume::weekday_hour(day0 / HOUR_US).0 < 5 {
                calls(&mut ev, &format!("d{d}"), day0 + 10 * HOUR_US, DEV, &usual);
            }
        }
        for (k, op) in more.iter().enumerate() {
            ev.push(call(format!("w{k}"), ws + 10 * HOUR_US + k as i64 * 30_000_000, DEV, op.0, op.1));
        }
        ev
    };
    let thursday = Ctx::new();
    lake(thursday.dir.path(), &setup(&thursday));
    assert!(run(&thursday.ctx()).unwrap().is_empty());

    let mut saturday = Ctx::new();
    saturday.as_of = crate::analytics::volume::testkit::utc(2024, 3, 17, 0);
    lake(saturday.dir.path(), &setup(&saturday));
    let found = run(&saturday.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    // 24 operations across 9 services: broad.
    assert_eq!((f.observed, f.severity), (40.0, Severity::High));
    assert!(f.description.contains("24 distinct operations across 9 services"), "{}", f.description);
    // Saturday 10:00 had no call on 4 Saturdays: ½/4 expected.
    assert!((f.expected.unwrap() - 0.125).abs() < 1e-12, "{:?}", f.expected);
    assert!(f.description.contains("its busiest hour before had 30 calls and 12 distinct operations"), "{}", f.description);
}

/// The same principal's ordinary 30-call hour at an unusual time (a person working late)
/// is not a burst: it is no more than it did before.
#[test]
fn no_more_than_ever_before_is_not_a_burst() {
    let ctx = Ctx::new();
    let usual: Vec<(&str, &str)> = SWEEP[..12].iter().chain(SWEEP[..12].iter()).chain(SWEEP[..6].iter()).copied().collect();
    let mut ev = Vec::new();
    let ws = ctx.window_start_us();
    anchor(&mut ev, DEV, ws - 28 * 24 * HOUR_US);
    for d in 1..=28 {
        let day0 = ws - d * 24 * HOUR_US;
        if crate::analytics::volume::weekday_hour(day0 / HOUR_US).0 < 5 {
            calls(&mut ev, &format!("d{d}"), day0 + 10 * HOUR_US, DEV, &usual);
        }
    }
    calls(&mut ev, "late", ws + 22 * HOUR_US, DEV, &usual);
    lake(ctx.dir.path(), &ev);
    assert!(run(&ctx.ctx()).unwrap().is_empty());
    let mut c = ctx.config.enumeration_burst.clone();
    c.own_max_factor = 1.0;
    assert_eq!(run_with(&ctx.ctx(), &c).unwrap().len(), 1);
}

/// Three colleagues whose busiest hour has 20 calls; a brand-new principal sweeping 30
/// operations is a low learning finding; a newcomer who behaves like them is not.
#[test]
fn newcomers_are_compared_with_their_peers() {
    let ctx = Ctx::new();
    let ws = ctx.window_start_us();
    let mut ev = Vec::new();
    for p in ["alice", "bob", "carol"] {
        let a = format!("arn:aws:iam::111122223333:role/{p}");
        office_hours(&ctx, &a, 21, &mut ev);
        window_day(&ctx, &a, false, &mut ev);
        for d in 0..=21 {
            let day0 = ws - d * 24 * HOUR_US;
            if crate::analytics::volume::weekday_hour(day0 / HOUR_US).0 < 5 {
                for k in 0..4 {
                    calls(&mut ev, &format!("busy{d}-{k}"), day0 + 12 * HOUR_US + 60_000_000 * (k + 1), &a, &USUAL);
                }
            }
        }
    }
    let intruder = "arn:aws:iam::111122223333:user/svc-tmp";
    calls(&mut ev, "x", ws + 20 * HOUR_US, intruder, &SWEEP);
    let newhire = "arn:aws:iam::111122223333:role/newhire";
    for k in 0..4 {
        calls(&mut ev, &format!("n{k}"), ws + 11 * HOUR_US + k * 60_000_000, newhire, &USUAL);
    }
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some(intruder));
    assert_eq!((f.severity, f.p_value, f.observed), (Severity::Low, None, 30.0));
    assert!(f.title.contains("(learning)") && f.title.contains("30 discovery calls (30 operations, 14 services)"), "{}", f.title);
    assert!(f.description.contains("Peers: 4 other human principals"), "{}", f.description);
    assert!(f.description.contains("is 20 calls and 3 distinct operations"), "{}", f.description);
    // The newcomer's 16 calls met the learning floor but stayed within 3× its peers.
    let mut c = ctx.config.enumeration_burst.clone();
    c.peer_factor = 0.5;
    let loose = run_with(&ctx.ctx(), &c).unwrap();
    assert!(loose.iter().any(|f| f.actor_uid.as_deref() == Some(newhire)), "{loose:#?}");
}

/// A usually quiet principal whose burst is ordinary for its team: own-history
/// significant, within peers, low.
#[test]
fn within_peers_is_low() {
    let ctx = Ctx::new();
    let mut ev = Vec::new();
    let ws = ctx.window_start_us();
    let team: Vec<(&str, &str)> = SWEEP[..15].iter().chain(SWEEP[..15].iter()).copied().collect();
    for p in ["ops1", "ops2", "ops3"] {
        let a = format!("arn:aws:iam::111122223333:role/{p}");
        for d in 0..=21 {
            calls(&mut ev, &format!("d{d}"), ws - d * 24 * HOUR_US + 10 * HOUR_US, &a, &team);
        }
    }
    let quiet = "arn:aws:iam::111122223333:role/quiet";
    anchor(&mut ev, quiet, ws - 21 * 24 * HOUR_US);
    for d in 1..=21 {
        calls(&mut ev, &format!("d{d}"), ws - d * 24 * HOUR_US + 10 * HOUR_US, quiet, &USUAL[..1]);
    }
    calls(&mut ev, "w", ws + 15 * HOUR_US, quiet, &team[..25]);
    lake(ctx.dir.path(), &ev);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].actor_uid.as_deref(), found[0].severity), (Some(quiet), Severity::Low));
    assert!(found[0].description.contains("within its peers' usual range"), "{}", found[0].description);
}

fn other_cloud(provider: Provider, account: &str, actor: &str, ops: &[(&str, &str)], ctx: &Ctx) -> Vec<Event<'static>> {
    let mut ev = Vec::new();
    let ws = ctx.window_start_us();
    let mk = |uid: String, t: i64, (svc, op): (&str, &str)| event(provider, account, &uid, t, Some(actor), ActorType::User, svc, op);
    ev.push(mk("anchor".into(), ws - 14 * 24 * HOUR_US, ("login", "Login")));
    for d in 1..=14 {
        for h in [9, 13] {
            ev.push(mk(format!("d{d}h{h}"), ws - d * 24 * HOUR_US + h * HOUR_US, ops[0]));
        }
    }
    for round in 0..2 {
        for (k, op) in ops.iter().enumerate() {
            ev.push(mk(format!("w{round}-{k}"), ws + 16 * HOUR_US + (round * 100 + k as i64) * 10_000_000, *op));
        }
    }
    ev
}

#[test]
fn gcp_and_azure_listings_are_bursts_too() {
    let gcp_ops = [
        ("compute.googleapis.com", "v1.compute.instances.list"), ("compute.googleapis.com", "v1.compute.instances.aggregatedList"),
        ("compute.googleapis.com", "v1.compute.firewalls.list"), ("compute.googleapis.com", "v1.compute.networks.list"),
        ("compute.googleapis.com", "v1.compute.disks.list"), ("compute.googleapis.com", "v1.compute.snapshots.list"),
        ("storage.googleapis.com", "storage.buckets.list"), ("storage.googleapis.com", "storage.objects.list"),
        ("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecrets"),
        ("cloudresourcemanager.googleapis.com", "GetIamPolicy"), ("cloudresourcemanager.googleapis.com", "google.cloud.resourcemanager.v3.Projects.SearchProjects"),
    ];
    let ctx = Ctx::new();
    let mut ev = other_cloud(Provider::Gcp, "proj-1", "eve@example.com", &gcp_ops, &ctx);
    let azure_ops = [
        ("Microsoft.Compute", "MICROSOFT.COMPUTE/VIRTUALMACHINES/READ"), ("Microsoft.Network", "MICROSOFT.NETWORK/PUBLICIPADDRESSES/READ"),
        ("Microsoft.Network", "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ"), ("Microsoft.Storage", "MICROSOFT.STORAGE/STORAGEACCOUNTS/READ"),
        ("Microsoft.KeyVault", "SecretList"), ("Microsoft.KeyVault", "VaultGet"), ("Microsoft.KeyVault", "KeyList"),
        ("Microsoft.Web", "MICROSOFT.WEB/SITES/READ"), ("Microsoft.Sql", "MICROSOFT.SQL/SERVERS/READ"),
        ("Microsoft.Authorization", "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/READ"), ("Microsoft.Resources", "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/READ"),
    ];
    ev.extend(other_cloud(Provider::Azure, "sub-1", "mallory@example.com", &azure_ops, &ctx));
    lake(ctx.dir.path(), &ev);
    let mut found = run(&ctx.ctx()).unwrap();
    found.sort_by(|a, b| a.provider.cmp(&b.provider));
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].provider.as_str(), found[0].actor_uid.as_deref()), ("azure", Some("mallory@example.com")));
    assert_eq!((found[1].provider.as_str(), found[1].actor_uid.as_deref()), ("gcp", Some("eve@example.com")));
    for f in &found {
        assert_eq!((f.observed, f.baseline_days), (22.0, 14));
        assert!(f.severity >= Severity::Medium, "{f:#?}");
        assert!(f.description.contains("11 distinct operations"), "{}", f.description);
        assert!(f.description.contains("weekday/weekend × hour of day"), "{}", f.description);
    }
    assert!(found[0].description.contains("across 8 services"), "{}", found[0].description);
    assert!(found[1].attack_techniques.iter().any(|t| t == "T1619"), "{:?}", found[1].attack_techniques);
}

#[test]
fn config_is_validated_by_key() {
    let mut c = EnumerationBurstConfig::default();
    assert!(c.validate().is_ok());
    c.peer_quantile = 0.0;
    assert!(c.validate().unwrap_err().to_string().contains("analytics.enumeration_burst.peer_quantile"));
    let c: EnumerationBurstConfig = toml::from_str("seasonality = 'flat'\nmin_calls = 5\n").unwrap();
    assert_eq!((c.seasonality, c.min_calls), (SeasonalMode::Flat, 5));
    assert!(toml::from_str::<EnumerationBurstConfig>("seasonal = 'flat'\n").is_err());
}
