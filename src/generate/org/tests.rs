use super::*;

#[test]
fn org_builds_and_names_are_unique() {
    let org = Org::build(7, 1.0);
    let mut seen = std::collections::HashSet::new();
    for a in &org.actors {
        let acct = &org.accounts[a.account as usize];
        if a.is_person() {
            // One SSO actor per (person, account).
            assert!(
                seen.insert((a.account, a.handle.clone())),
                "{} twice in {}",
                a.handle,
                acct.name
            );
        }
        assert!(!a.uid(acct).is_empty());
        assert!(!a.srcs.is_empty() && !a.agents.is_empty(), "{}", a.handle);
    }
    assert_eq!(org.accounts.len(), 4);
}
