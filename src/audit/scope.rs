//! What was audited: one account, or an organisation of accounts. This is the one place that
//! knows the difference (docs/organizations.md); everything after it sees a list of accounts.
//!
//! A single-account snapshot is an audit of one account whose evidence references are relative
//! to the snapshot root. An organisation snapshot is an audit of every account in its header, in
//! id order, each loaded from `accounts/<id>/`, evaluated exactly as a single account, prefixed
//! with `accounts/<id>/`, and dropped once judged; the next is read while one is judged, so memory
//! is bounded by the two largest accounts plus what the sink keeps of the findings
//! ([`crate::audit::FindingSink`]). An account that could not be collected gives one
//! [`ACCOUNT_NOT_COLLECTED`] error finding, never a pass.

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::controls::Catalog;
use crate::evaluate::{self, changes, EvaluateOptions};
use crate::findings::{AccessReview, FastMap, Finding, SnapshotRef, Status, Text, Timeline};
use crate::parallel::{self, Threads};
use crate::schema::{Collector, Operation, ScopeExclusion, Timestamp};
use crate::snapshot::org::{is_org_snapshot, OrgAccount, OrgSnapshot};
use crate::snapshot::strict::SnapshotWarning;
use crate::snapshot::{
    BucketListing, Evidence, ReviewPeriod, Snapshot, SnapshotError, SnapshotFile, NOT_COLLECTED,
};

/// The control of an account whose role could not be assumed (or whose buckets could not be
/// listed). Like the administrative controls, every catalog must define it.
pub const ACCOUNT_NOT_COLLECTED: &str = "org.account-not-collected";

/// The controls judged here rather than by the evaluator.
pub const ORG_CONTROLS: &[&str] = &[ACCOUNT_NOT_COLLECTED];

/// The AWS Organizations organisation an audit covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// `o-...`.
    pub id: String,
    pub name: Option<String>,
    pub management_account_id: String,
}

impl Organisation {
    /// The organisation as reports name it: its name when recorded, with its id.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// What the report needs to know of one account once its evidence is gone.
#[derive(Debug, Clone)]
pub struct AccountResult {
    pub id: String,
    pub name: Option<String>,
    /// Why the account has no evidence (the AssumeRole error); `None` when it was collected.
    pub not_collected: Option<String>,
    /// Every bucket of the account, in scope or not, in name order.
    pub buckets: Vec<BucketListing>,
    /// Who collected the account (in an organisation, the role assumed in it); `None` when
    /// not recorded or not collected.
    pub collector: Option<Collector>,
    pub regions: Vec<String>,
    /// Whether the account's CloudTrail files hold LookupEvents (the change timeline's source).
    pub lookup_events_collected: bool,
    /// Evidence references (bundle-evidence relative) of bucket answers the snapshot never
    /// recorded: their OSCAL observations link the file, not a pointer that names nothing.
    pub not_collected_refs: Vec<String>,
}

/// The evidence an audit rests on, and the facts of its header.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `Some` for an organisation snapshot.
    pub organisation: Option<Organisation>,
    /// The single account, or the organisation's management account: the account the policy
    /// attestations belong to.
    pub account_id: String,
    /// The organisation name a single-account snapshot recorded (`collect --organization`).
    pub recorded_organisation: Option<String>,
    pub collected_at: Timestamp,
    /// The phi-audit that collected the snapshot.
    pub tool_version: String,
    pub partition: String,
    /// The regions examined: the snapshot's, or every account's (sorted, once each).
    pub regions: Vec<String>,
    pub review_period: Option<ReviewPeriod>,
    /// The scope as collect recorded it (include/exclude globs, tag selectors, regions).
    pub selection: Value,
    /// The scope's exclusions, with their justification and approver.
    pub exclusions: Vec<ScopeExclusion>,
    /// Who ran the collection (an organisation's management-side principal) and with which
    /// options; `None` when the snapshot does not record it.
    pub collector: Option<Collector>,
    /// The snapshot directory; evidence references are relative to it.
    pub root: PathBuf,
    /// Every file, sorted by path, with the SHA-256 it had when read.
    pub files: Vec<SnapshotFile>,
    pub digest: String,
    /// Every account, in id order (exactly one for a single-account snapshot).
    pub accounts: Vec<AccountResult>,
}

impl Scope {
    /// What findings.json names as its source.
    pub fn reference(&self) -> SnapshotRef {
        SnapshotRef {
            collected_at: self.collected_at.to_string(),
            account_id: self.account_id.clone(),
            digest: self.digest.clone(),
            organization_id: self.organisation.as_ref().map(|o| o.id.clone()),
        }
    }

    /// The organisation as the report's cover names it.
    pub fn organisation_name(&self) -> String {
        match (&self.organisation, &self.recorded_organisation) {
            (Some(org), _) => org.display_name(),
            (None, Some(name)) => name.clone(),
            (None, None) => "(organisation not recorded)".to_string(),
        }
    }

    /// The organisation's recorded name, if any (OSCAL's party name).
    pub fn recorded_name(&self) -> Option<&str> {
        match &self.organisation {
            Some(org) => org.name.as_deref(),
            None => self.recorded_organisation.as_deref(),
        }
    }

    /// What every page header names.
    pub fn header_subject(&self) -> String {
        match &self.organisation {
            Some(org) => format!(
                "AWS organisation {} (management account {})",
                org.id, org.management_account_id
            ),
            None => format!("AWS account {}", self.account_id),
        }
    }

    /// What an auditor must be told about the chain of custody: a collector not recorded,
    /// exclusions without justification or approver.
    pub fn custody_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.collector.is_none() {
            warnings.push(
                "snapshot.json records no collector: who collected the evidence, and with which options, is not recorded (collector not recorded)".to_string(),
            );
        }
        for account in &self.accounts {
            if account.collector.is_none()
                && account.not_collected.is_none()
                && self.organisation.is_some()
            {
                warnings.push(format!(
                    "accounts/{}/snapshot.json records no collector (collector not recorded)",
                    account.id
                ));
            }
        }
        warnings.extend(self.exclusions.iter().filter_map(ScopeExclusion::warning));
        warnings
    }

    /// The end of the review period, else the collection time.
    pub fn period_end(&self) -> chrono::DateTime<chrono::Utc> {
        evaluate::period_end_of(self.review_period.as_ref(), &self.collected_at)
    }
}

/// What the evaluation of every account leaves besides its findings, which went to the sink
/// as they were made.
pub struct Evaluated {
    pub scope: Scope,
    pub changes: Timeline,
    /// Who can reach each account's ePHI buckets.
    pub access_review: AccessReview,
    /// What the snapshot reader noticed but could judge without (unknown members AWS added).
    pub warnings: Vec<SnapshotWarning>,
}

/// What the evaluation hands on as it goes, in the final order: each account (before its
/// findings), then its findings batch by batch.
pub enum Judged<'a> {
    /// The account whose findings come next: what a writer needs of it besides its findings
    /// (its buckets' regions, its unrecorded answers).
    Account(&'a AccountResult),
    Findings(Vec<Finding>),
}

/// Where the accounts and findings go ([`Judged`]); a sink stops the evaluation by refusing one
/// (an output that failed).
pub type Emit<'e> = dyn FnMut(Judged<'_>) -> std::io::Result<()> + 'e;

/// Why an evaluation stopped: bad evidence, or a sink that refused its findings.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("could not write the findings: {0}")]
    Output(#[from] std::io::Error),
}

/// A snapshot opened for evaluation: its scope (every fact of its header, no account judged
/// yet) and the evidence to judge.
pub struct Opened {
    pub scope: Scope,
    source: Source,
    warnings: Vec<SnapshotWarning>,
}

enum Source {
    /// One account's snapshot, loaded whole.
    Account(Box<Snapshot>),
    /// An organisation's header; each account is loaded as it is judged.
    Organisation(Box<OrgSnapshot>),
}

/// Opens the snapshot at `root`: one account (loaded whole) or an organisation (its header).
pub fn open(root: &Path, threads: Threads) -> Result<Opened, SnapshotError> {
    if is_org_snapshot(root) {
        open_organisation(root, threads)
    } else {
        open_account(root, threads)
    }
}

fn open_account(root: &Path, threads: Threads) -> Result<Opened, SnapshotError> {
    let mut snapshot = Snapshot::load_with(root, threads)?;
    // The file list moves to the scope; judging never reads it.
    let files = std::mem::take(&mut snapshot.files);
    let scope = Scope {
        organisation: None,
        account_id: snapshot.meta.account_id.clone(),
        recorded_organisation: snapshot.meta.organization.clone(),
        collected_at: snapshot.meta.collected_at.clone(),
        tool_version: snapshot.meta.tool_version.clone(),
        partition: snapshot.meta.partition.clone(),
        regions: snapshot.meta.regions.clone(),
        review_period: snapshot.meta.review_period.clone(),
        selection: snapshot.meta.scope.clone(),
        exclusions: snapshot.meta.exclusions.clone(),
        collector: snapshot.meta.collector.clone(),
        root: snapshot.root.clone(),
        files,
        digest: snapshot.digest.clone(),
        accounts: Vec::with_capacity(1),
    };
    Ok(Opened {
        scope,
        source: Source::Account(Box::new(snapshot)),
        warnings: Vec::new(),
    })
}

fn open_organisation(root: &Path, threads: Threads) -> Result<Opened, SnapshotError> {
    let mut org = OrgSnapshot::load_with(root, threads)?;
    // The file list moves to the scope: a hundred thousand buckets' paths and digests, once.
    let files = std::mem::take(&mut org.files);
    let header = &org.header;
    let organisation = Organisation {
        id: header.organization.id.clone(),
        name: header.organization.name.clone(),
        management_account_id: header.organization.management_account_id.clone(),
    };
    let scope = Scope {
        account_id: organisation.management_account_id.clone(),
        organisation: Some(organisation),
        recorded_organisation: None,
        collected_at: header.collected_at.clone(),
        tool_version: header.tool_version.clone(),
        partition: header.partition.clone(),
        regions: Vec::new(),
        review_period: header.review_period.clone(),
        selection: header.scope.clone(),
        exclusions: header.exclusions.clone(),
        collector: header.collector.clone(),
        root: org.root.clone(),
        files,
        digest: org.digest.clone(),
        accounts: Vec::with_capacity(header.accounts.len()),
    };
    Ok(Opened {
        scope,
        warnings: header.warnings.clone(),
        source: Source::Organisation(Box::new(org)),
    })
}

impl Opened {
    /// Evaluates every account, handing each batch of findings to `emit` as it is made: an
    /// organisation's accounts in id order, each loaded, judged and dropped ([`judge_accounts`]).
    pub fn evaluate(
        self,
        catalog: &Catalog,
        options: EvaluateOptions,
        emit: &mut Emit<'_>,
    ) -> Result<Evaluated, EvaluateError> {
        let mut out = Evaluated {
            scope: self.scope,
            changes: Timeline::default(),
            access_review: AccessReview::default(),
            warnings: self.warnings,
        };
        match self.source {
            Source::Account(snapshot) => {
                judge_account(&snapshot, None, catalog, options, &mut out, emit)?;
            }
            Source::Organisation(org) => {
                judge_accounts(&org, catalog, options, &mut out, emit)?;
                let mut regions: Vec<String> = (out.scope.accounts.iter())
                    .flat_map(|a| a.regions.iter().cloned())
                    .collect();
                regions.sort();
                regions.dedup();
                out.scope.regions = regions;
            }
        }
        Ok(out)
    }
}

/// Evaluates every account of an organisation in id order. While one account is judged, the
/// next one's evidence is read ([`parallel::read_ahead`]): judging leaves the cores idle where
/// it waits on its one writer, and reading fills them. At most two accounts' evidence is in
/// memory; each is dropped once judged. A read that fails is reported when its account is
/// reached, after the findings of the accounts before it, as if read then.
fn judge_accounts(
    org: &OrgSnapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
    out: &mut Evaluated,
    emit: &mut Emit<'_>,
) -> Result<(), EvaluateError> {
    let accounts: Vec<(&String, &OrgAccount)> = org.header.accounts.iter().collect();
    let read = |(id, account): &(&String, &OrgAccount)| {
        (account.not_collected_reason().is_none())
            .then(|| Snapshot::load_with(&org.account_dir(id), options.threads))
    };
    parallel::read_ahead(
        &accounts,
        options.threads,
        read,
        |(_, account), read| match read {
            Some(snapshot) => judge_account(&snapshot?, Some(account), catalog, options, out, emit),
            None => Ok(not_collected(account, catalog, out, emit)?),
        },
    )
}

/// Evaluates one loaded account into `out`, its findings into `emit`. `member` is the
/// account's entry in an organisation's header: its evidence references get `accounts/<id>/`,
/// its changes name it.
fn judge_account(
    snapshot: &Snapshot,
    member: Option<&OrgAccount>,
    catalog: &Catalog,
    options: EvaluateOptions,
    out: &mut Evaluated,
    emit: &mut Emit<'_>,
) -> Result<(), EvaluateError> {
    let id = member.map(|account| account.id.as_str());
    let prefix = id.map(|id| format!("accounts/{id}/")).unwrap_or_default();
    let account = account_result(snapshot, member, &prefix);
    emit(Judged::Account(&account))?;
    let designations = designations(&account.buckets);
    // A reference shared by several findings stays shared once prefixed.
    let mut prefixed: FastMap<Text, Text> = FastMap::default();
    let review = evaluate::judge_account(snapshot, catalog, options, &mut |mut batch| {
        for finding in &mut batch {
            if !prefix.is_empty() {
                for reference in &mut finding.evidence {
                    let to = (prefixed.entry(reference.clone()))
                        .or_insert_with(|| Text::from(format!("{prefix}{reference}")));
                    *reference = to.clone();
                }
            }
            mark_ephi(finding, &designations);
        }
        emit(Judged::Findings(batch))
    })?;
    let account_id = &snapshot.meta.account_id;
    let first_entry = out.access_review.entries.len();
    out.access_review.entries.extend(review.entries);
    for entry in &mut out.access_review.entries[first_entry..] {
        for reference in &mut entry.evidence {
            reference.insert_str(0, &prefix);
        }
    }
    out.access_review.not_assessed.extend(review.not_assessed);
    if review.every_bucket_counted {
        out.access_review
            .every_bucket_counted
            .push(account_id.clone());
    }
    let mut changes = changes::timeline(snapshot);
    if let Some(id) = id {
        for change in &mut changes.changes {
            change.account = Some(id.to_string());
            change.evidence.insert_str(0, &prefix);
        }
        for why in &mut changes.not_collected {
            why.insert_str(0, &format!("account {id}, "));
        }
    }
    out.warnings.extend(snapshot.warnings.iter().cloned());
    out.changes.changes.extend(changes.changes);
    out.changes.not_collected.extend(changes.not_collected);
    out.scope.accounts.push(account);
    Ok(())
}

/// What the report keeps of a collected account once its evidence is gone; `prefix` is its
/// evidence references' (`accounts/<id>/` in an organisation).
fn account_result(snapshot: &Snapshot, member: Option<&OrgAccount>, prefix: &str) -> AccountResult {
    let buckets: Vec<BucketListing> = (snapshot.buckets.iter())
        .zip(evaluate::ephi::designate(
            &snapshot.buckets,
            &evaluate::ephi::Selectors::new(&snapshot.meta.ephi_selectors),
        ))
        .map(|(b, ephi)| b.listing(ephi))
        .collect();
    let mut not_collected_refs: Vec<String> = unrecorded_answers(snapshot)
        .into_iter()
        .map(|r| format!("{prefix}{r}"))
        .collect();
    not_collected_refs.sort();
    AccountResult {
        id: snapshot.meta.account_id.clone(),
        name: member.and_then(|account| account.name.clone()),
        not_collected: None,
        buckets,
        collector: snapshot.meta.collector.clone(),
        regions: snapshot.meta.regions.clone(),
        lookup_events_collected: snapshot.trails.lookup_events_recorded(),
        not_collected_refs,
    }
}

/// Per designated bucket, by name: whether it holds ePHI, and on what basis as text all its
/// findings share. A designating tag value is masked like every identifier the reports show.
fn designations(buckets: &[BucketListing]) -> FastMap<&str, (bool, Text)> {
    buckets
        .iter()
        .filter_map(|b| {
            let d = b.ephi.as_ref()?;
            let basis = Text::from(&*evaluate::names::mask_identifiers(&d.basis_code()));
            Some((b.name.as_str(), (d.ephi, basis)))
        })
        .collect()
}

/// Marks a finding on a bucket with the bucket's ePHI designation (wherever a bucket is
/// named, DESIGN §8).
fn mark_ephi(finding: &mut Finding, designations: &FastMap<&str, (bool, Text)>) {
    let Some(name) = finding.subject.strip_prefix("s3://") else {
        return;
    };
    if let Some((ephi, basis)) = designations.get(name) {
        finding.ephi = Some(*ephi);
        finding.ephi_basis = Some(basis.clone());
    }
}

/// The one error finding of an account that was not collected, and its (empty) result.
fn not_collected(
    account: &OrgAccount,
    catalog: &Catalog,
    out: &mut Evaluated,
    emit: &mut Emit<'_>,
) -> std::io::Result<()> {
    let reason = account.not_collected_reason().unwrap_or_default();
    let result = AccountResult {
        id: account.id.clone(),
        name: account.name.clone(),
        not_collected: Some(reason.clone()),
        buckets: Vec::new(),
        collector: None,
        regions: Vec::new(),
        lookup_events_collected: false,
        not_collected_refs: Vec::new(),
    };
    emit(Judged::Account(&result))?;
    if let Some(control) = catalog.get(ACCOUNT_NOT_COLLECTED) {
        emit(Judged::Findings(vec![Finding {
            subject: format!("account:{}", account.id).into(),
            account: account.id.as_str().into(),
            control: control.id.as_str().into(),
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
            )
            .into(),
            evidence: (account.not_collected_evidence().into_iter())
                .map(Into::into)
                .collect(),
            facts: Default::default(),
            ephi: None,
            ephi_basis: None,
        }]))?;
    }
    out.scope.accounts.push(result);
    Ok(())
}

/// The references of bucket answers that are absent from the snapshot.
fn unrecorded_answers(snapshot: &Snapshot) -> HashSet<String> {
    fn absent<T>(evidence: &Evidence<T>) -> Option<Operation> {
        match evidence {
            Evidence::Unavailable(u) if u.code == NOT_COLLECTED => Some(u.operation),
            _ => None,
        }
    }
    let mut references = HashSet::new();
    for b in &snapshot.buckets {
        let operations = [
            absent(&b.location),
            absent(&b.acl),
            absent(&b.policy),
            absent(&b.policy_status),
            absent(&b.public_access_block),
            absent(&b.ownership),
            absent(&b.versioning),
            absent(&b.encryption),
            absent(&b.logging),
            absent(&b.object_lock),
            absent(&b.lifecycle),
            absent(&b.replication),
            absent(&b.tags),
        ];
        references.extend(
            operations
                .into_iter()
                .flatten()
                .map(|op| b.evidence_ref(op)),
        );
    }
    references
}
