//! `file_access_anomaly` on recorded samples (skipped when `../shared` is absent).

use super::*;
use crate::analytics::testlake::Ctx;
use crate::analytics::user_context::testing::{normalise_shared, utc, write_lake};
use crate::findings::Severity;

/// The Sentinel Training Lab "Adele" story, SharePoint / OneDrive side. On 2021-04-28
/// adelev made 42 file-access events on 37 distinct files (39 of them from
/// 175.45.176.99, the rest Office-for-the-web services from Microsoft
/// addresses), while the tenant's other people active that day read 6 (johns) and 0
/// (admin). Nobody has history (a one-day recording), so the only honest view is the
/// peers': 37 ≥ 3 × 6 and ≥ 20 files, a low learning finding. Two peers is a thin
/// population, which the finding states; johns (6 files, peers 37 and 0) is not flagged.
#[test]
fn sentinel_lab_adele_reads_far_more_than_her_peers() {
    let (Some(office), Some(signins)) = (
        normalise_shared("data/real/m365_audit/sentinel_lab_OfficeActivity.csv"),
        normalise_shared("data/real/entra_id/sentinel_lab_SigninLogs_adele.csv"),
    ) else {
        eprintln!("skipped: ../shared/data/real not present");
        return;
    };
    let mut events = office;
    events.extend(signins);
    let mut ctx = Ctx::new();
    ctx.as_of = utc(2021, 4, 29, 0);
    write_lake(ctx.dir.path(), &events);
    let found = run(&ctx.ctx()).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.actor_uid.as_deref(), Some("adelev@m365x816222.onmicrosoft.com"));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!((f.observed, f.evidence_count, f.p_value), (37.0, 42, None));
    assert_eq!(f.src_ip.as_deref(), Some("175.45.176.99"));
    assert!(f.title.contains("far above 2 peers") && f.title.ends_with("(learning)"), "{}", f.title);
    let d = &f.description;
    assert!(d.contains("0.9-quantile 6 distinct files"), "{d}");
    assert!(d.contains("johns@m365x816222.onmicrosoft.com 6, admin@m365x816222.onmicrosoft.com 0"), "{d}");
    assert!(d.contains("39 accesses came from 175.45.176.99, first seen in the tenant on this user"), "{d}");
    assert!(!d.contains("Scripted agent"), "{d}");
}
