//! Tests of `resource_hierarchy_change` on small lakes written with the real schema.

use super::*;
use crate::analytics::signal::testkit::{account, ev, Lab, DAY, MIN};
use crate::event::Event;
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, Provider, Status};

const ORG: &str = "organizations.amazonaws.com";
const RG: &str = "MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS";

fn alice() -> Option<(&'static str, ActorType)> {
    Some(("arn:aws:iam::111122223333:user/alice", ActorType::IamUser))
}

fn adele() -> Option<(&'static str, ActorType)> {
    Some(("adele@contoso.com", ActorType::User))
}

/// Azure records a deletion as Start then Success; both are evidence of one finding.
fn rg(uid: &str, t: i64, group: &str, verb: &str) -> Vec<Event<'static>> {
    let res = format!("/subscriptions/{}/resourcegroups/{group}", account(Provider::Azure));
    ["start", "success"]
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut e = ev(Provider::Azure, &format!("{uid}-{step}"), t + i as i64 * 1_000_000, adele(), "Microsoft.Resources", &format!("{RG}/{verb}"));
            e.resource_uid = Some(res.clone().into());
            e.src_ip = Some("37.142.150.162".into());
            if i == 0 {
                e.status = Status::Unknown;
            }
            e
        })
        .collect()
}

#[test]
fn operation_weights() {
    assert_eq!(weight("LeaveOrganization"), Weight::Severe);
    assert_eq!(weight("Microsoft.Subscription/subscriptions/changeTenant/action"), Weight::Severe);
    assert_eq!(weight(&format!("{RG}/DELETE")), Weight::Sensitive);
    assert_eq!(weight("MoveAccount"), Weight::Sensitive);
    assert_eq!(weight("google.cloud.resourcemanager.v3.Projects.MoveProject"), Weight::Sensitive);
    assert_eq!(weight("DetachPolicy"), Weight::Sensitive);
    assert_eq!(weight(&format!("{RG}/WRITE")), Weight::Context);
    assert_eq!(weight("CreateProject"), Weight::Context);
    assert_eq!(weight("UpdateProject"), Weight::Change);
}

/// Leaving the organisation is high by itself; the first time by a person with a baseline
/// it is critical; a role's denied attempt (the Stratus run) is medium.
#[test]
fn leave_organization_first_time_is_critical_and_a_failed_attempt_medium() {
    let lab = Lab::new();
    let s = lab.start();
    let role = Some(("arn:aws:iam::111122223333:role/leave-org", ActorType::AssumedRole));
    let mut failed = ev(Provider::Aws, "f1", s + 2 * HOUR_US, role, ORG, "LeaveOrganization");
    failed.status = Status::Failure;
    failed.error_code = Some("AccessDenied".into());
    lab.write(&[
        ev(Provider::Aws, "seed", s - 30 * DAY, alice(), "ec2.amazonaws.com", "DescribeInstances"),
        ev(Provider::Aws, "l1", s + HOUR_US, alice(), ORG, "LeaveOrganization"),
        failed,
    ]);
    let mut found = run(&lab.ctx()).unwrap();
    found.sort_by_key(|f| f.window_start);
    assert_eq!(found.len(), 2);
    let (leave, denied) = (&found[0], &found[1]);
    assert_eq!(leave.severity, Severity::Critical);
    assert_eq!(leave.title, "LeaveOrganization by a first-time initiator");
    assert_eq!(leave.attack_techniques, vec!["T1666"]);
    assert_eq!((leave.baseline_days, leave.risk_score), (30, 90.0));
    assert!(leave.description.contains("First hierarchy change by this initiator in 30 days"), "{}", leave.description);
    assert_eq!(denied.severity, Severity::Medium);
    assert_eq!(denied.title, "LeaveOrganization (attempt failed) by arn:aws:iam::111122223333:role/leave-org");
    assert!(denied.description.contains("[errors: AccessDenied]"), "{}", denied.description);
    // Same lake, same ids.
    let again: Vec<String> = run(&lab.ctx()).unwrap().into_iter().map(|f| f.finding_uid).collect();
    let mut want: Vec<String> = found.iter().map(|f| f.finding_uid.clone()).collect();
    let mut got = again;
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// A new lake (learning): creating a resource group is context (info), deleting one by a
/// person is high; the Start and Success records are one finding.
#[test]
fn resource_group_create_is_info_delete_is_high_while_learning() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = rg("c", s + HOUR_US, "sandbox", "WRITE");
    events.extend(rg("d", s + 2 * HOUR_US, "prod", "DELETE"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 2);
    let by = |v: &str| found.iter().find(|f| f.operation.as_deref().unwrap().ends_with(v)).unwrap();
    let (create, delete) = (by("WRITE"), by("DELETE"));
    assert_eq!(create.severity, Severity::Info);
    assert_eq!(delete.severity, Severity::High);
    assert_eq!(delete.evidence_event_uids, vec!["d-start", "d-success"]);
    assert_eq!(delete.src_ip.as_deref(), Some("37.142.150.162"));
    assert!(delete.resource_uid.as_deref().unwrap().ends_with("/resourcegroups/prod"));
    assert!(delete.description.contains("Learning: the account has 0 days"), "{}", delete.description);
    assert_eq!(delete.attack_techniques, vec!["T1666", "T1485"], "catalogue techniques");
}

/// Three distinct resource groups deleted within an hour: each deletion is raised to
/// critical with T1485; a fourth three hours later stays high.
#[test]
fn mass_deletion_escalates() {
    let lab = Lab::new();
    let s = lab.start();
    let mut events = Vec::new();
    for (i, g) in ["a", "b", "c"].iter().enumerate() {
        events.extend(rg(&format!("d{i}"), s + HOUR_US + i as i64 * 20 * MIN, g, "DELETE"));
    }
    events.extend(rg("late", s + 5 * HOUR_US, "z", "DELETE"));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 4);
    let mass: Vec<&Finding> = found.iter().filter(|f| f.severity == Severity::Critical).collect();
    assert_eq!(mass.len(), 3);
    assert!(mass[0].description.contains("mass deletion: one of 3 distinct resources this initiator deleted within 60 minutes"), "{}", mass[0].description);
    let late = found.iter().find(|f| f.evidence_event_uids[0] == "late-start").unwrap();
    assert_eq!(late.severity, Severity::High);
    // With a higher bar there is no burst.
    let mut lab = lab;
    lab.config.resource_hierarchy_change.mass_delete_min = 4;
    assert!(run(&lab.ctx()).unwrap().iter().all(|f| f.severity == Severity::High));
}

/// A project factory's service account creating a project every day is routine: info and
/// suppressed.
#[test]
fn routine_automation_is_suppressed() {
    let lab = Lab::new();
    let s = lab.start();
    let sa = Some(("factory@p.iam.gserviceaccount.com", ActorType::ServiceAccount));
    let crm = "cloudresourcemanager.googleapis.com";
    let op = "google.cloud.resourcemanager.v3.Projects.CreateProject";
    let mut events: Vec<Event> = (1..=10).map(|d| ev(Provider::Gcp, &format!("p{d}"), s - d * DAY, sa, crm, op)).collect();
    events.push(ev(Provider::Gcp, "now", s + HOUR_US, sa, crm, op));
    lab.write(&events);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.suppressed, "{f:?}");
    assert!(f.description.contains("Routine: this initiator called the same operation on 10 distinct earlier days"), "{}", f.description);
}

#[test]
fn config_errors_name_the_key() {
    let c: ResourceHierarchyChangeConfig = toml::from_str("mass_delete_min = 1").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.resource_hierarchy_change.mass_delete_min"));
    let c: ResourceHierarchyChangeConfig = toml::from_str("min_history_days = 100").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.resource_hierarchy_change.min_history_days"));
    assert!(toml::from_str::<ResourceHierarchyChangeConfig>("nope = 1").is_err());
    assert_eq!(ResourceHierarchyChangeConfig::default().mass_delete_minutes, 60);
}
