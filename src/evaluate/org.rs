//! Evaluating an organisation snapshot (docs/organizations.md): every account in id order, each
//! loaded from `accounts/<id>/`, evaluated exactly as a single account, and dropped before the
//! next one is read, so memory is bounded by the largest account plus the findings.
//!
//! This is the one part of the evaluator that reads files: taking every account's evidence as
//! a value would mean holding the whole organisation at once, which is what it exists to avoid.
//! It is still deterministic: the same tree always gives the same findings in the same order.

use crate::controls::Catalog;
use crate::findings::{Finding, Status, Timeline};
use crate::snapshot::org::OrgSnapshot;
use crate::snapshot::{BucketListing, Snapshot, SnapshotError};

use super::{changes, evaluate_with, EvaluateOptions};

/// The control of an account whose role could not be assumed.
pub const ACCOUNT_NOT_COLLECTED: &str = "org.account-not-collected";

/// What the report needs to know of one account once its evidence is gone.
#[derive(Debug, Clone)]
pub struct AccountResult {
    pub id: String,
    pub name: Option<String>,
    /// Why the account has no evidence (the AssumeRole error); `None` when it was collected.
    pub not_collected: Option<String>,
    /// Every bucket of the account, in scope or not, in name order.
    pub buckets: Vec<BucketListing>,
    pub regions: Vec<String>,
    /// Whether the account's CloudTrail files hold LookupEvents (the change timeline's source).
    pub lookup_events_collected: bool,
    /// Evidence references (prefixed with `accounts/<id>/`) of bucket answers the snapshot never
    /// recorded, for the OSCAL observations; usually none.
    pub not_collected_refs: Vec<String>,
}

/// The findings of every account, the concatenated change timeline, and per-account facts.
#[derive(Debug, Clone)]
pub struct OrgEvaluation {
    pub findings: Vec<Finding>,
    pub changes: Timeline,
    pub accounts: Vec<AccountResult>,
}

/// `accounts/<id>/` + a reference relative to the account's snapshot.
pub fn account_ref(account: &str, reference: &str) -> String {
    format!("accounts/{account}/{reference}")
}

/// Evaluates every account of the organisation, one at a time.
pub fn evaluate_org(
    org: &OrgSnapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
) -> Result<OrgEvaluation, SnapshotError> {
    let mut findings = Vec::new();
    let mut timeline = Timeline::default();
    let mut accounts = Vec::with_capacity(org.header.accounts.len());
    for (id, account) in &org.header.accounts {
        if let Some(reason) = account.not_collected_reason() {
            if let Some(control) = catalog.get(ACCOUNT_NOT_COLLECTED) {
                findings.push(Finding {
                    subject: format!("account:{id}"),
                    account: id.clone(),
                    control: control.id.clone(),
                    status: Status::Error,
                    severity: control.severity,
                    safeguards: control.safeguards.clone(),
                    policies: control.policies.clone(),
                    reason: format!(
                        "The account{} could not be collected: {reason}. None of its buckets or trails were examined.",
                        account
                            .name
                            .as_ref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default()
                    ),
                    evidence: account.not_collected_evidence().into_iter().collect(),
                });
            }
            accounts.push(AccountResult {
                id: id.clone(),
                name: account.name.clone(),
                not_collected: Some(reason),
                buckets: Vec::new(),
                regions: Vec::new(),
                lookup_events_collected: false,
                not_collected_refs: Vec::new(),
            });
            continue;
        }
        let snapshot = Snapshot::load(&org.account_dir(id))?;
        let first = findings.len();
        findings.extend(evaluate_with(&snapshot, catalog, options));
        for finding in &mut findings[first..] {
            // Loading checked that the sub-tree's account_id is the directory's id.
            debug_assert_eq!(finding.account, *id);
            for reference in &mut finding.evidence {
                *reference = account_ref(id, reference);
            }
        }
        let mut changes = changes::timeline(&snapshot);
        for change in &mut changes.changes {
            change.account = Some(id.clone());
        }
        timeline.changes.extend(changes.changes);
        timeline.not_collected.extend(
            changes
                .not_collected
                .into_iter()
                .map(|why| format!("account {id}, {why}")),
        );
        accounts.push(AccountResult {
            id: id.clone(),
            name: account.name.clone(),
            not_collected: None,
            buckets: snapshot.buckets.iter().map(|b| b.listing()).collect(),
            regions: snapshot.meta.regions.clone(),
            lookup_events_collected: snapshot.trails.lookup_events_recorded(),
            not_collected_refs: {
                let mut refs: Vec<String> = crate::report::oscal::not_collected(&snapshot)
                    .into_iter()
                    .map(|r| account_ref(id, &r))
                    .collect();
                refs.sort();
                refs
            },
        });
        // `snapshot` is dropped here, before the next account is read.
    }
    Ok(OrgEvaluation {
        findings,
        changes: timeline,
        accounts,
    })
}
