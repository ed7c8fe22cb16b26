//! Access gained and lost between two bundles: who was added to or removed from which ePHI
//! bucket, and whose rights changed (read → write, conditional → yes, …). A pure function of the
//! two access reviews (findings.json's `access_review`) and which accounts each side reviewed.
//!
//! An account is compared only when both sides reviewed it: a side whose review of the account
//! was not made (identity evidence unreadable or absent, or a bundle written before phi-audit
//! reviewed access) would make every principal look added or removed. Such accounts are listed
//! under `not_compared` with why, never as "no change". A bucket whose policy could not be read
//! on either side is compared, with a `not_compared` note that its bucket-policy grants may be
//! what changed.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::findings::{Access, AccessEntry, AccessReview};

/// One (account, bucket, principal) whose access differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    pub account: String,
    pub bucket: String,
    pub principal: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `added` (no access before), `removed` (no access after) or `changed`.
    pub change: String,
    /// Read, write and manage before (`null`: no entry, no access).
    pub before: Option<Rights>,
    pub after: Option<Rights>,
    /// The capabilities that grew (`write: no -> yes`) and shrank.
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    /// The deciding statements after (before, for a removal).
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rights {
    pub read: Access,
    pub write: Access,
    pub manage: Access,
}

/// The access changes of a comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessDiff {
    /// In (account, bucket, principal) order.
    pub changes: Vec<AccessChange>,
    /// What could not be compared, and why: `account:<id>` (its changes are not listed) or
    /// `s3://<bucket>` (listed, but its bucket-policy grants were unreadable on one side).
    pub not_compared: BTreeMap<String, String>,
}

impl AccessDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.not_compared.is_empty()
    }
}

/// One side: its review, and the accounts it reviewed.
pub struct AccessSide<'a> {
    review: &'a AccessReview,
    reviewed: BTreeSet<&'a str>,
}

impl<'a> AccessSide<'a> {
    /// An account was reviewed when the review has entries for it, or identity findings were
    /// made for it (`identity_accounts`: the accounts of the side's `iam.*` findings), and the
    /// review does not say it was not assessed.
    pub fn of(review: &'a AccessReview, identity_accounts: &'a BTreeSet<String>) -> AccessSide<'a> {
        let mut reviewed: BTreeSet<&str> =
            review.entries.iter().map(|e| e.account.as_str()).collect();
        reviewed.extend(identity_accounts.iter().map(String::as_str));
        reviewed.retain(|a| !review.not_assessed.contains_key(&format!("account:{a}")));
        AccessSide { review, reviewed }
    }

    /// Notes `finding`'s account in `accounts` when it is an identity finding (what
    /// [`AccessSide::of`] needs of a side's findings, gathered while they stream past).
    pub fn note_identity(accounts: &mut BTreeSet<String>, control: &str, account: &str) {
        if control.starts_with("iam.") && !account.is_empty() && !accounts.contains(account) {
            accounts.insert(account.to_string());
        }
    }

    fn entries(&self) -> BTreeMap<(&'a str, &'a str, &'a str), &'a AccessEntry> {
        (self.review.entries.iter())
            .map(|e| {
                (
                    (e.account.as_str(), e.bucket.as_str(), e.principal.as_str()),
                    e,
                )
            })
            .collect()
    }
}

fn rights(e: &AccessEntry) -> Rights {
    Rights {
        read: e.read,
        write: e.write,
        manage: e.manage,
    }
}

/// `write: no -> yes` for each capability that grew, and each that shrank.
fn moves(before: Rights, after: Rights) -> (Vec<String>, Vec<String>) {
    let (mut gained, mut lost) = (Vec::new(), Vec::new());
    for (name, b, a) in [
        ("read", before.read, after.read),
        ("write", before.write, after.write),
        ("manage", before.manage, after.manage),
    ] {
        let line = format!("{name}: {} -> {}", b.as_str(), a.as_str());
        if a > b {
            gained.push(line);
        } else if a < b {
            lost.push(line);
        }
    }
    (gained, lost)
}

const NONE: Rights = Rights {
    read: Access::No,
    write: Access::No,
    manage: Access::No,
};

/// Compares two access reviews.
pub fn compare(old: &AccessSide, new: &AccessSide) -> AccessDiff {
    let mut out = AccessDiff::default();
    let accounts: BTreeSet<&str> = old.reviewed.union(&new.reviewed).copied().collect();
    for account in &accounts {
        let why = match (
            old.reviewed.contains(account),
            new.reviewed.contains(account),
        ) {
            (true, true) => continue,
            (false, _) => "the previous bundle has no access review of this account",
            (_, false) => "the new bundle has no access review of this account",
        };
        out.not_compared.insert(
            format!("account:{account}"),
            format!("{why}: access changes are not listed"),
        );
    }
    let unreadable = |side: &AccessSide, key: &str| side.review.not_assessed.get(key).cloned();
    let buckets: BTreeSet<&String> = (old.review.not_assessed.keys())
        .chain(new.review.not_assessed.keys())
        .filter(|k| k.starts_with("s3://"))
        .collect();
    for key in buckets {
        let (label, why) = match (unreadable(old, key), unreadable(new, key)) {
            (Some(_), Some(why)) => ("in both bundles", why),
            (Some(why), None) => ("in the previous bundle", why),
            (None, Some(why)) => ("in the new bundle", why),
            (None, None) => continue,
        };
        out.not_compared.insert(
            key.clone(),
            format!("{label}, {why}: its changes may come from that policy"),
        );
    }
    let compared = |account: &str| old.reviewed.contains(account) && new.reviewed.contains(account);
    let (before, after) = (old.entries(), new.entries());
    let keys: BTreeSet<_> = before.keys().chain(after.keys()).copied().collect();
    for key in keys.into_iter().filter(|k| compared(k.0)) {
        let (b, a) = (before.get(&key), after.get(&key));
        let (was, is) = (b.map(|e| rights(e)), a.map(|e| rights(e)));
        if was == is {
            continue;
        }
        let (gained, lost) = moves(was.unwrap_or(NONE), is.unwrap_or(NONE));
        let entry = a.or(b).expect("the key came from one side");
        out.changes.push(AccessChange {
            account: entry.account.clone(),
            bucket: entry.bucket.clone(),
            principal: entry.principal.clone(),
            kind: entry.kind.clone(),
            change: match (b, a) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            }
            .to_string(),
            before: was,
            after: is,
            gained,
            lost,
            via: entry.via.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bucket: &str, who: &str, r: Access, w: Access) -> AccessEntry {
        AccessEntry {
            account: "111122223333".into(),
            bucket: format!("s3://{bucket}"),
            principal: format!("arn:aws:iam::111122223333:user/{who}"),
            kind: "user".into(),
            read: r,
            write: w,
            manage: Access::No,
            via: vec![format!("user/{who}/inline/p#/Statement/0")],
            evidence: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn review(entries: Vec<AccessEntry>) -> AccessReview {
        AccessReview {
            entries,
            ..AccessReview::default()
        }
    }

    #[test]
    fn added_removed_and_changed_rights_are_listed() {
        use Access::*;
        let old = review(vec![
            entry("phi-a", "stays", Yes, No),
            entry("phi-a", "leaves", Yes, No),
            entry("phi-b", "grows", Yes, No),
            entry("phi-b", "shrinks", Yes, Yes),
        ]);
        let new = review(vec![
            entry("phi-a", "stays", Yes, No),
            entry("phi-a", "joins", Conditional, No),
            entry("phi-b", "grows", Yes, Yes),
            entry("phi-b", "shrinks", Conditional, No),
        ]);
        let diff = compare(
            &AccessSide::of(&old, &BTreeSet::new()),
            &AccessSide::of(&new, &BTreeSet::new()),
        );
        let shown: Vec<(String, String, Vec<String>, Vec<String>)> = (diff.changes.iter())
            .map(|c| {
                let who = c.principal.rsplit('/').next().unwrap().to_string();
                (
                    format!("{} {who}", c.bucket),
                    c.change.clone(),
                    c.gained.clone(),
                    c.lost.clone(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    "s3://phi-a joins".into(),
                    "added".into(),
                    vec!["read: no -> conditional".into()],
                    vec![]
                ),
                (
                    "s3://phi-a leaves".into(),
                    "removed".into(),
                    vec![],
                    vec!["read: yes -> no".into()]
                ),
                (
                    "s3://phi-b grows".into(),
                    "changed".into(),
                    vec!["write: no -> yes".into()],
                    vec![]
                ),
                (
                    "s3://phi-b shrinks".into(),
                    "changed".into(),
                    vec![],
                    vec!["read: yes -> conditional".into(), "write: yes -> no".into()]
                ),
            ]
        );
        assert!(diff.not_compared.is_empty());
    }

    #[test]
    fn an_account_reviewed_on_one_side_only_is_not_compared() {
        // A previous bundle without an access review must not make everyone look added.
        let new = review(vec![entry("phi-a", "admin", Access::Yes, Access::Yes)]);
        let diff = compare(
            &AccessSide::of(&AccessReview::default(), &BTreeSet::new()),
            &AccessSide::of(&new, &BTreeSet::new()),
        );
        assert!(diff.changes.is_empty());
        assert!(diff.not_compared["account:111122223333"]
            .contains("previous bundle has no access review"));

        let mut unreadable = AccessReview::default();
        unreadable.not_assessed.insert(
            "account:111122223333".into(),
            "GetAccountAuthorizationDetails failed".into(),
        );
        let diff = compare(
            &AccessSide::of(&new, &BTreeSet::new()),
            &AccessSide::of(&unreadable, &BTreeSet::new()),
        );
        assert!(diff.changes.is_empty());
        assert!(diff.not_compared["account:111122223333"].contains("new bundle"));
    }

    #[test]
    fn an_unreadable_bucket_policy_is_noted_but_changes_are_listed() {
        let old = review(vec![entry("phi-a", "x", Access::Yes, Access::No)]);
        let mut new = review(vec![]);
        new.not_assessed.insert(
            "s3://phi-a".into(),
            "GetBucketPolicy failed with AccessDenied".into(),
        );
        // The new side reviewed the account: an identity finding was made for it.
        let finding: crate::findings::Finding = serde_json::from_value(serde_json::json!({
            "id": "x", "subject": "account:111122223333", "account": "111122223333",
            "control": "iam.root-mfa-disabled", "status": "pass", "severity": "high",
            "safeguards": [], "policies": [], "reason": "", "evidence": []
        }))
        .unwrap();
        let mut accounts = BTreeSet::new();
        AccessSide::note_identity(&mut accounts, &finding.control, &finding.account);
        let diff = compare(
            &AccessSide::of(&old, &BTreeSet::new()),
            &AccessSide::of(&new, &accounts),
        );
        assert_eq!(diff.changes.len(), 1);
        assert_eq!(diff.changes[0].change, "removed");
        assert!(diff.not_compared["s3://phi-a"].contains("new bundle"));
    }
}
