//! The evaluator: applies the controls to a snapshot and returns findings. Pure: no I/O, no
//! clock; the same snapshot and catalog always give the same findings in the same order.
//!
//! Each control is one function from a bucket's evidence to a [`Verdict`]; the catalog
//! (`controls/`) supplies everything else a finding carries (severity, safeguards, policies).
//! Missing evidence becomes `error`, never `pass`.

pub mod access;
mod configuration;
mod exposure;
pub mod names;
pub mod wildcard;

use crate::controls::Catalog;
use crate::findings::{Finding, Status};
use crate::snapshot::{Bucket, Evidence, Snapshot, SnapshotMeta};
use access::AccessContext;

/// A control's decision on one subject, before the catalog adds severity and mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<String>,
}

impl Verdict {
    pub fn pass(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Pass,
            reason: reason.into(),
            evidence,
        }
    }

    pub fn fail(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Fail,
            reason: reason.into(),
            evidence,
        }
    }

    pub fn error(reason: impl Into<String>, evidence: Vec<String>) -> Self {
        Verdict {
            status: Status::Error,
            reason: reason.into(),
            evidence,
        }
    }
}

/// What a bucket control sees: the bucket, the account-level facts, and the access analysis.
pub struct BucketContext<'a> {
    pub bucket: &'a Bucket,
    pub meta: &'a SnapshotMeta,
    pub access: AccessContext<'a>,
}

impl<'a> BucketContext<'a> {
    pub fn new(bucket: &'a Bucket, meta: &'a SnapshotMeta) -> Self {
        BucketContext {
            bucket,
            meta,
            access: AccessContext::new(bucket, meta),
        }
    }

    /// The evidence of one call, or the `error` verdict that its absence calls for.
    pub fn require<'e, T>(
        &self,
        evidence: &'e Evidence<T>,
        operation: &str,
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
];

/// The ids of every control this build evaluates: the catalog must define exactly these.
pub fn known_control_ids() -> Vec<&'static str> {
    BUCKET_CONTROLS.iter().map(|(id, _)| *id).collect()
}

/// The catalog compiled into the binary, checked against the controls this build evaluates.
pub fn builtin_catalog() -> Result<Catalog, crate::controls::CatalogError> {
    Catalog::builtin(&known_control_ids())
}

/// Runs one bucket control by id (for tests and tools that judge a single control).
pub fn check_bucket(control: &str, bucket: &Bucket, meta: &SnapshotMeta) -> Option<Verdict> {
    let check = BUCKET_CONTROLS.iter().find(|(id, _)| *id == control)?.1;
    Some(check(&BucketContext::new(bucket, meta)))
}

/// Evaluates every in-scope bucket against every catalog control: buckets in name order,
/// controls in catalog order.
pub fn evaluate(snapshot: &Snapshot, catalog: &Catalog) -> Vec<Finding> {
    let checks: Vec<(&crate::controls::Control, BucketCheck)> = catalog
        .controls
        .iter()
        .filter_map(|control| {
            BUCKET_CONTROLS
                .iter()
                .find(|(id, _)| *id == control.id)
                .map(|(_, check)| (control, *check))
        })
        .collect();
    let mut findings = Vec::with_capacity(snapshot.buckets.len() * checks.len());
    for bucket in snapshot.in_scope_buckets() {
        let context = BucketContext::new(bucket, &snapshot.meta);
        let subject = bucket.subject();
        for (control, check) in &checks {
            let verdict = check(&context);
            findings.push(Finding {
                subject: subject.clone(),
                control: control.id.clone(),
                status: verdict.status,
                severity: control.severity,
                safeguards: control.safeguards.clone(),
                policies: control.policies.clone(),
                reason: verdict.reason,
                evidence: verdict.evidence,
            });
        }
    }
    findings
}
