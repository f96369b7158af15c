//! Tests of `region_or_service_enabled` on small lakes written with the real schema.

use super::*;
use crate::analytics::signal::testkit::{account, ev, Lab, DAY, MIN};
use crate::event::Event;
use crate::findings::Severity;
use crate::profiles::HOUR_US;
use crate::schema::{ActorType, Provider};

fn with(mut e: Event<'static>, request: Option<&str>, resource: Option<&str>) -> Event<'static> {
    e.request_params = request.map(|r| r.to_string().into());
    e.resource_uid = resource.map(|r| r.to_string().into());
    e
}

#[test]
fn what_is_enabled() {
    let lab = Lab::new();
    let s = lab.start();
    let sub = format!("/subscriptions/{}", account(Provider::Azure));
    let events = vec![
        with(ev(Provider::Aws, "region", s, None, "account.amazonaws.com", "EnableRegion"), Some(r#"{"RegionName":"af-south-1"}"#), None),
        with(ev(Provider::Aws, "model", s, None, "bedrock.amazonaws.com", "PutFoundationModelEntitlement"), Some(r#"{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0"}"#), None),
        with(ev(Provider::Aws, "usecase", s, None, "bedrock.amazonaws.com", "PutUseCaseForModelAccess"), None, None),
        with(
            ev(Provider::Azure, "rp", s, None, "Microsoft.Resources", "MICROSOFT.RESOURCES/SUBSCRIPTIONS/PROVIDERS/REGISTER/ACTION"),
            None,
            Some(&format!("{sub}/providers/Microsoft.CognitiveServices")),
        ),
        // catalog/azure.toml lists the `/register/action` suffix under service Microsoft.Resources.
        with(ev(Provider::Azure, "ns", s, None, "Microsoft.Resources", "Microsoft.MachineLearningServices/register/action"), None, None),
        with(
            ev(Provider::Azure, "feature", s, None, "Microsoft.Features", "Microsoft.Features/providers/features/register/action"),
            None,
            Some(&format!("{sub}/providers/Microsoft.Features/providers/Microsoft.Compute/features/EncryptionAtHost")),
        ),
        with(
            ev(Provider::Gcp, "api", s, None, "serviceusage.googleapis.com", "google.api.serviceusage.v1.ServiceUsage.EnableService"),
            None,
            Some("projects/123/services/aiplatform.googleapis.com"),
        ),
        with(
            ev(Provider::Gcp, "batch", s, None, "serviceusage.googleapis.com", "google.api.serviceusage.v1.ServiceUsage.BatchEnableServices"),
            Some(r#"{"parent":"projects/123","serviceIds":["run.googleapis.com","compute.googleapis.com"]}"#),
            Some("projects/123"),
        ),
    ];
    lab.write(&events);
    let scan = Scan::read(&lab.ctx(), Select::Tags(&TAGS), &[], 90).unwrap();
    let e = |uid: &str| enabled(scan.window.iter().find(|r| r.event_uid == uid).unwrap());
    assert_eq!(e("region"), Some(Enabled::Region("af-south-1".into())));
    assert_eq!(e("model"), Some(Enabled::Model("anthropic.claude-3-sonnet-20240229-v1:0".into())));
    assert_eq!(e("usecase"), Some(Enabled::Model("bedrock:PutUseCaseForModelAccess".into())));
    assert_eq!(e("rp"), Some(Enabled::Service("Microsoft.CognitiveServices".into())));
    assert_eq!(e("ns"), Some(Enabled::Service("Microsoft.MachineLearningServices".into())));
    assert_eq!(e("feature"), Some(Enabled::Service("Microsoft.Compute/EncryptionAtHost".into())));
    assert_eq!(e("api"), Some(Enabled::Service("aiplatform.googleapis.com".into())));
    assert_eq!(e("batch"), Some(Enabled::Service("compute.googleapis.com,run.googleapis.com".into())));
    let cfg = RegionOrServiceEnabledConfig::default();
    assert!(is_sensitive(&Enabled::Service("aiplatform.googleapis.com".into()), &cfg));
    assert!(!is_sensitive(&Enabled::Service("compute.googleapis.com,run.googleapis.com".into()), &cfg));
}

/// An account with 30 days of history: enabling a region it never used, by a person for
/// the first time, is critical (first time +1 sensitive, first-seen +1 capped); enabling an
/// API the project already calls, by automation, stays info.
#[test]
fn first_seen_region_and_known_service() {
    let lab = Lab::new();
    let s = lab.start();
    let admin = Some(("arn:aws:iam::111122223333:user/admin", ActorType::IamUser));
    let sa = Some(("factory@test-project.iam.gserviceaccount.com", ActorType::ServiceAccount));
    let mut seed = ev(Provider::Aws, "seed", s - 30 * DAY, admin, "ec2.amazonaws.com", "DescribeInstances");
    seed.region = Some("us-east-1".into());
    let gseed = ev(Provider::Gcp, "gseed", s - 20 * DAY, sa, "compute.googleapis.com", "v1.compute.instances.insert");
    lab.write(&[
        seed,
        gseed,
        with(ev(Provider::Aws, "r", s + HOUR_US, admin, "account.amazonaws.com", "EnableRegion"), Some(r#"{"RegionName":"af-south-1"}"#), None),
        with(
            ev(Provider::Gcp, "c", s + 2 * HOUR_US, sa, "serviceusage.googleapis.com", "google.api.serviceusage.v1.ServiceUsage.EnableService"),
            None,
            Some("projects/123/services/compute.googleapis.com"),
        ),
    ]);
    let found = run(&lab.ctx()).unwrap();
    let by = |uid: &str| found.iter().find(|f| f.evidence_event_uids[0] == uid).unwrap();
    let r = by("r");
    assert_eq!(r.severity, Severity::Critical);
    assert_eq!(r.resource_uid.as_deref(), Some("af-south-1"));
    assert!(r.description.contains("first-seen region af-south-1 for the account in 30 days"), "{}", r.description);
    assert_eq!(r.attack_techniques, vec!["T1578.005", "T1535"]);
    let c = by("c");
    assert_eq!(c.severity, Severity::Medium, "service account, first time, change: {}", c.description);
    assert!(!c.description.contains("first-seen service"), "{}", c.description);
}

/// Stratus `bedrock-invoke-model` shape: a plain role enabling model access on a new lake
/// is medium (shared role while learning, sensitive).
#[test]
fn model_access_by_a_role_while_learning_is_medium() {
    let lab = Lab::new();
    let s = lab.start();
    let role = Some(("arn:aws:iam::111122223333:role/test-role", ActorType::AssumedRole));
    let m = r#"{"modelId":"anthropic.claude-3-sonnet-20240229-v1:0"}"#;
    lab.write(&[
        with(ev(Provider::Aws, "a", s + MIN, role, "bedrock.amazonaws.com", "CreateFoundationModelAgreement"), Some(m), None),
        with(ev(Provider::Aws, "b", s + 2 * MIN, role, "bedrock.amazonaws.com", "PutFoundationModelEntitlement"), Some(m), None),
    ]);
    let found = run(&lab.ctx()).unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.severity == Severity::Medium), "{found:#?}");
    assert!(found.iter().all(|f| f.resource_uid.as_deref() == Some("anthropic.claude-3-sonnet-20240229-v1:0")));
}

#[test]
fn config_rejects_empty_service_names() {
    let c: RegionOrServiceEnabledConfig = toml::from_str("sensitive_services = ['bedrock', '']").unwrap();
    assert!(c.validate().unwrap_err().to_string().contains("analytics.region_or_service_enabled.sensitive_services"));
}
