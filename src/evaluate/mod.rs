//! The evaluator: applies the controls to a snapshot and returns findings. Pure: no I/O, no
//! clock; the same snapshot and catalog always give the same findings in the same order.
//!
//! Each control is one function from a bucket's evidence to a [`Verdict`]; the catalog
//! (`controls/`) supplies everything else a finding carries (severity, safeguards, policies).
//! Missing evidence becomes `error`, never `pass`.

pub mod access;
pub mod access_review;
mod audit_trail;
pub mod changes;
mod configuration;
pub mod data_events;
pub mod ephi;
mod exposure;
pub mod identity;
pub mod keys;
pub mod names;
pub mod policy_match;
pub mod wildcard;

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use crate::controls::{Catalog, Control};
use crate::findings::{Facts, Finding, Interner, Status, Text};
use crate::parallel::{self, Threads};
use crate::schema::{Operation, Timestamp};
use crate::snapshot::cloudtrail::{AccessLogEvidence, CloudTrail, TrailEvidence};
use crate::snapshot::kms::Kms;
use crate::snapshot::{Bucket, Evidence, Snapshot, SnapshotMeta};
use access::AccessContext;

/// Thresholds the evaluation takes as values, and how many threads it may judge buckets on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluateOptions {
    /// Server access logs older than this before the end of the review period count as not
    /// delivered (`s3.access-log-delivery-missing`).
    pub access_log_max_age_hours: i64,
    /// Buckets are judged on up to this many threads; the findings are the same, in the same
    /// order, on any number.
    pub threads: Threads,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            access_log_max_age_hours: 48,
            threads: Threads::ONE,
        }
    }
}

/// Facts about the whole account that bucket and trail controls share, resolved once.
pub struct AccountContext<'a> {
    pub meta: &'a SnapshotMeta,
    /// Every trail, once (multi-region trails are listed in every region).
    pub trails: Vec<TrailEvidence>,
    pub cloudtrail: &'a CloudTrail,
    /// Every bucket of the snapshot by name, in scope or not (log targets may be out of scope).
    pub buckets: BTreeMap<&'a str, &'a Bucket>,
    pub access_logs: &'a BTreeMap<String, AccessLogEvidence>,
    /// The KMS keys and alias listings.
    pub kms: &'a Kms,
    /// The end of the review period (or the collection time): what "current" is measured against.
    pub period_end: DateTime<Utc>,
    pub options: EvaluateOptions,
}

impl<'a> AccountContext<'a> {
    pub fn new(snapshot: &'a Snapshot, options: EvaluateOptions) -> Self {
        AccountContext {
            meta: &snapshot.meta,
            trails: snapshot.trails.trails(),
            cloudtrail: &snapshot.trails,
            buckets: snapshot
                .buckets
                .iter()
                .map(|b| (b.name.as_str(), b))
                .collect(),
            access_logs: &snapshot.access_log_evidence,
            kms: &snapshot.kms,
            period_end: period_end(&snapshot.meta),
            options,
        }
    }
}

/// The end of the review period, else the collection time (both parsed at load).
pub fn period_end(meta: &SnapshotMeta) -> DateTime<Utc> {
    period_end_of(meta.review_period.as_ref(), &meta.collected_at)
}

/// [`period_end`] from its parts (an organisation header has them too).
pub fn period_end_of(
    review_period: Option<&crate::snapshot::ReviewPeriod>,
    collected_at: &Timestamp,
) -> DateTime<Utc> {
    review_period.map_or(collected_at, |p| &p.until).utc()
}

/// A control's decision on one subject, before the catalog adds severity and mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<String>,
    /// What the reason says, typed (a latent exposure's neutralising settings).
    pub facts: Facts,
}

impl Verdict {
    pub fn pass(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Pass,
            reason: reason.into(),
            evidence,
            facts: Facts::default(),
        }
    }

    pub fn fail(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Fail,
            reason: reason.into(),
            evidence,
            facts: Facts::default(),
        }
    }

    pub fn not_applicable(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::NotApplicable,
            reason: reason.into(),
            evidence,
            facts: Facts::default(),
        }
    }

    pub fn error(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Error,
            reason: reason.into(),
            evidence,
            facts: Facts::default(),
        }
    }
}

/// What a bucket control sees: the bucket, the account-level facts, and the access analysis.
pub struct BucketContext<'a> {
    pub bucket: &'a Bucket,
    pub meta: &'a SnapshotMeta,
    pub account: &'a AccountContext<'a>,
    pub access: AccessContext<'a>,
}

impl<'a> BucketContext<'a> {
    pub fn new(bucket: &'a Bucket, account: &'a AccountContext<'a>) -> Self {
        BucketContext {
            bucket,
            meta: account.meta,
            account,
            access: AccessContext::new(bucket, account.meta),
        }
    }

    /// The evidence of one call, or the `error` verdict that its absence calls for.
    pub fn require<'e, T>(
        &self,
        evidence: &'e Evidence<T>,
        operation: Operation,
        what: &str,
    ) -> Result<Option<&'e T>, Verdict> {
        match evidence {
            Evidence::Found(value) => Ok(Some(value)),
            Evidence::NotConfigured => Ok(None),
            Evidence::Unavailable(why) => Err(Verdict::error(
                format!("Not assessed: {why}, so {what} is unknown."),
                vec![self.bucket.evidence_ref(operation)],
            )),
        }
    }
}

type BucketCheck = fn(&BucketContext) -> Verdict;
type TrailCheck = fn(&TrailEvidence) -> Verdict;
type KeyCheck = fn(&keys::KeyContext) -> Verdict;

/// Every bucket control this build evaluates, by id.
const BUCKET_CONTROLS: &[(&str, BucketCheck)] = &[
    (
        "s3.world-readable-anonymous",
        exposure::world_readable_anonymous,
    ),
    (
        "s3.world-listable-anonymous",
        exposure::world_listable_anonymous,
    ),
    (
        "s3.world-writable-anonymous",
        exposure::world_writable_anonymous,
    ),
    (
        "s3.permissions-world-readable-anonymous",
        exposure::permissions_world_readable_anonymous,
    ),
    (
        "s3.permissions-world-writable-anonymous",
        exposure::permissions_world_writable_anonymous,
    ),
    ("s3.world-listable", exposure::world_listable),
    ("s3.world-writable", exposure::world_writable),
    (
        "s3.permissions-world-readable",
        exposure::permissions_world_readable,
    ),
    (
        "s3.permissions-world-writable",
        exposure::permissions_world_writable,
    ),
    ("s3.cross-account-access", exposure::cross_account_access),
    (
        "s3.public-access-block-incomplete",
        exposure::public_access_block_incomplete,
    ),
    ("s3.acls-enabled", exposure::acls_enabled),
    ("s3.tls-not-enforced", exposure::tls_not_enforced),
    ("s3.name-may-contain-phi", names::name_may_contain_phi),
    ("s3.versioning-disabled", configuration::versioning_disabled),
    ("s3.mfa-delete-disabled", configuration::mfa_delete_disabled),
    (
        "s3.object-lock-disabled",
        configuration::object_lock_disabled,
    ),
    (
        "s3.replication-disabled",
        configuration::replication_disabled,
    ),
    ("s3.lifecycle-missing", configuration::lifecycle_missing),
    (
        "s3.default-encryption-disabled",
        configuration::default_encryption_disabled,
    ),
    ("s3.encryption-not-kms", configuration::encryption_not_kms),
    (
        "s3.access-logging-disabled",
        configuration::access_logging_disabled,
    ),
    (
        "s3.access-log-delivery-missing",
        audit_trail::access_log_delivery_missing,
    ),
    (
        "s3.data-events-not-logged",
        audit_trail::data_events_not_logged,
    ),
];

/// Every trail control, by id. Subjects are trail ARNs.
const TRAIL_CONTROLS: &[(&str, TrailCheck)] = &[
    ("cloudtrail.not-logging", audit_trail::not_logging),
    (
        "cloudtrail.log-validation-disabled",
        audit_trail::log_validation_disabled,
    ),
    (
        "cloudtrail.not-kms-encrypted",
        audit_trail::not_kms_encrypted,
    ),
    ("cloudtrail.not-multi-region", audit_trail::not_multi_region),
];

/// Every KMS key control, by id. Subjects are key ARNs (see [`keys`]).
const KEY_CONTROLS: &[(&str, KeyCheck)] = &[
    ("kms.key-not-usable", keys::key_not_usable),
    ("kms.key-rotation-disabled", keys::key_rotation_disabled),
    ("kms.key-policy-public", keys::key_policy_public),
    ("kms.key-cross-account", keys::key_cross_account),
];

/// The ids of every control the evaluator judges (the catalog must define these, and the
/// administrative and organisation ones: see `audit::control_ids`).
pub fn known_control_ids() -> Vec<&'static str> {
    BUCKET_CONTROLS
        .iter()
        .map(|(id, _)| *id)
        .chain(TRAIL_CONTROLS.iter().map(|(id, _)| *id))
        .chain(KEY_CONTROLS.iter().map(|(id, _)| *id))
        .chain(identity::IAM_CONTROLS)
        .collect()
}

/// The ids of the controls judged per bucket (subjects `s3://...`).
pub fn bucket_control_ids() -> Vec<&'static str> {
    BUCKET_CONTROLS.iter().map(|(id, _)| *id).collect()
}

/// The ids of the controls judged per KMS key (subjects are key ARNs).
pub fn key_control_ids() -> Vec<&'static str> {
    KEY_CONTROLS.iter().map(|(id, _)| *id).collect()
}

/// Runs one bucket control by id on a bucket with only account metadata around it (no trails,
/// no access-log evidence, no other buckets): for tests and tools that judge a single control.
pub fn check_bucket(control: &str, bucket: &Bucket, meta: &SnapshotMeta) -> Option<Verdict> {
    let empty_trails = CloudTrail::default();
    let empty_logs = BTreeMap::new();
    let empty_kms = Kms::default();
    let account = AccountContext {
        meta,
        trails: Vec::new(),
        cloudtrail: &empty_trails,
        buckets: BTreeMap::from([(bucket.name.as_str(), bucket)]),
        access_logs: &empty_logs,
        kms: &empty_kms,
        period_end: period_end(meta),
        options: EvaluateOptions::default(),
    };
    check_bucket_in(control, bucket, &account)
}

/// Runs one bucket control by id within a full account context.
pub fn check_bucket_in(
    control: &str,
    bucket: &Bucket,
    account: &AccountContext,
) -> Option<Verdict> {
    let check = BUCKET_CONTROLS.iter().find(|(id, _)| *id == control)?.1;
    Some(check(&BucketContext::new(bucket, account)))
}

/// Runs one trail control by id.
pub fn check_trail(control: &str, trail: &TrailEvidence) -> Option<Verdict> {
    let check = TRAIL_CONTROLS.iter().find(|(id, _)| *id == control)?.1;
    Some(check(trail))
}

/// Evaluates every in-scope bucket and every trail against every catalog control, with the
/// default options.
pub fn evaluate(snapshot: &Snapshot, catalog: &Catalog) -> Vec<Finding> {
    evaluate_with(snapshot, catalog, EvaluateOptions::default())
}

/// Evaluates with explicit options: buckets in name order, then trails in ARN order (and the
/// account-level trail verdict), then KMS keys in ARN order, controls in catalog order.
pub fn evaluate_with(
    snapshot: &Snapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
) -> Vec<Finding> {
    evaluate_account(snapshot, catalog, options).0
}

/// The findings and the access review of one account (`evaluate_with` without dropping the
/// review). The identity controls follow the bucket and trail controls, in catalog order.
pub fn evaluate_account(
    snapshot: &Snapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
) -> (Vec<Finding>, access_review::AccountReview) {
    let mut findings = Vec::new();
    let review = judge_account(snapshot, catalog, options, &mut |batch| {
        findings.extend(batch);
        Ok(())
    })
    .expect("findings kept in memory are never refused");
    (findings, review)
}

/// Hands on the findings of one account as they are made, in [`evaluate_account`]'s order: each
/// bucket's as it is judged, then the trails' and keys', then the identity controls'. `emit`
/// stops the evaluation by refusing a batch (an output that failed); nothing is held after it.
pub fn judge_account(
    snapshot: &Snapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
    emit: &mut dyn FnMut(Vec<Finding>) -> std::io::Result<()>,
) -> std::io::Result<access_review::AccountReview> {
    evaluate_resources(snapshot, catalog, options, emit)?;
    let review = access_review::review(snapshot);
    if !snapshot.iam.collected {
        return Ok(review);
    }
    let verdicts = identity::verdicts(snapshot, &review, period_end(&snapshot.meta));
    let mut findings = Vec::with_capacity(verdicts.len());
    let account = Text::from(snapshot.meta.account_id.as_str());
    for control in catalog.controls.iter() {
        let id = Text::from(control.id.as_str());
        for (subject, _, verdict) in verdicts.iter().filter(|(_, id, _)| *id == control.id) {
            findings.push(Finding {
                subject: Text::from(subject.as_str()),
                account: account.clone(),
                control: id.clone(),
                status: verdict.status,
                severity: control.severity,
                safeguards: control.safeguards.clone(),
                policies: control.policies.clone(),
                reason: Text::from(verdict.reason.as_str()),
                evidence: verdict
                    .evidence
                    .iter()
                    .map(|e| Text::from(e.as_str()))
                    .collect(),
                facts: verdict.facts.clone(),
                ephi: None,
                ephi_basis: None,
            });
        }
    }
    emit(findings)?;
    Ok(review)
}

/// Buckets judged on one thread before their findings are handed on together: more saves
/// little time, and each worker may have [`parallel::AHEAD`] batches waiting in memory.
const BUCKETS_A_BATCH: usize = 8;

fn evaluate_resources(
    snapshot: &Snapshot,
    catalog: &Catalog,
    options: EvaluateOptions,
    emit: &mut dyn FnMut(Vec<Finding>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let account = AccountContext::new(snapshot, options);
    let account_id = Text::from(snapshot.meta.account_id.as_str());
    let bucket_checks = checks(catalog, BUCKET_CONTROLS);
    let trail_checks = checks(catalog, TRAIL_CONTROLS);
    let key_checks = checks(catalog, KEY_CONTROLS);
    let buckets: Vec<&Bucket> = snapshot.in_scope_buckets().collect();
    // One copy of each reason in the account (ten thousand buckets' passes say a few hundred
    // things); each bucket's evidence references are shared by its own findings.
    let mut reasons = Interner::default();
    // Each bucket's findings are handed on as they arrive, in bucket order, a few buckets at a
    // time: a hand-over between threads costs a wake-up, and one per bucket had cost a tenth of
    // a 10,000-bucket evaluation.
    // The batches are cut by count alone (no bucket weighs anything against the size limit).
    let sizes = std::iter::repeat_n(0, buckets.len());
    let batches = parallel::batches(sizes, BUCKETS_A_BATCH, u64::MAX);
    let in_order: Vec<usize> = (0..batches.len()).collect();
    let judge = |bucket: &Bucket| {
        let context = BucketContext::new(bucket, &account);
        let subject = Text::from(bucket.subject());
        // A bucket's findings say a few dozen distinct things: room for them from the start.
        let mut texts = Interner::with_capacity(2 * bucket_checks.len());
        (bucket_checks.iter())
            .map(|(control, id, check)| {
                let verdict = check(&context);
                finding(&account_id, &subject, (control, id), verdict, &mut texts)
            })
            .collect::<Vec<_>>()
    };
    parallel::pipeline(
        &batches,
        &in_order,
        options.threads,
        |batch| Vec::from_iter(buckets[batch.clone()].iter().copied().map(judge)),
        |_, judged| {
            judged.into_iter().try_for_each(|mut findings| {
                for f in &mut findings {
                    f.reason = reasons.share(f.reason.clone());
                }
                emit(findings)
            })
        },
    )?;
    let keys = keys::key_contexts(&account);
    let mut findings = Vec::with_capacity(
        account.trails.len() * trail_checks.len() + 1 + keys.len() * key_checks.len(),
    );
    let mut issue = |subject: &Text, control, verdict| {
        findings.push(finding(
            &account_id,
            subject,
            control,
            verdict,
            &mut reasons,
        ));
    };
    for trail in &account.trails {
        let subject = Text::from(trail.trail.trail_arn.as_str());
        for (control, id, check) in &trail_checks {
            issue(&subject, (control, id), check(trail));
        }
    }
    if let Some((control, id, _)) =
        (trail_checks.iter()).find(|(c, _, _)| c.id == "cloudtrail.not-logging")
    {
        if let Some(verdict) = audit_trail::account_trail_verdict(&account) {
            let subject = Text::from(format!("account:{}", snapshot.meta.account_id));
            issue(&subject, (control, id), verdict);
        }
    }
    for key in keys {
        let subject = Text::from(key.arn.as_str());
        for (control, id, check) in &key_checks {
            issue(&subject, (control, id), check(&key));
        }
    }
    emit(findings)
}

/// The catalog's controls that `table` judges, in catalog order, each with its id as shared
/// text and its check.
fn checks<'c, F: Copy>(catalog: &'c Catalog, table: &[(&str, F)]) -> Vec<(&'c Control, Text, F)> {
    (catalog.controls.iter())
        .filter_map(|c| {
            let (_, check) = table.iter().find(|(id, _)| *id == c.id)?;
            Some((c, Text::from(c.id.as_str()), *check))
        })
        .collect()
}

/// A control's verdict on a subject as a finding of `account`: the catalog adds severity and
/// mappings; equal texts are shared through `texts`.
fn finding(
    account: &Text,
    subject: &Text,
    (control, id): (&Control, &Text),
    verdict: Verdict,
    texts: &mut Interner,
) -> Finding {
    Finding {
        subject: subject.clone(),
        account: account.clone(),
        control: id.clone(),
        status: verdict.status,
        severity: control.severity,
        safeguards: control.safeguards.clone(),
        policies: control.policies.clone(),
        // Reasons are shown everywhere: never with an identifier in them.
        reason: texts.text(&names::mask_identifiers(&verdict.reason)),
        evidence: verdict.evidence.iter().map(|e| texts.text(e)).collect(),
        facts: verdict.facts,
        ephi: None,
        ephi_basis: None,
    }
}
