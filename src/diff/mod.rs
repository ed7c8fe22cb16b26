//! `phi-audit diff OLD.zip NEW.zip`: what changed between two evidence bundles.
//!
//! Both bundles are verified first (see [`crate::verify`]); only intact bundles are compared.
//! Each bundle's `findings.json` and `evidence/buckets/*.json` are read straight from the zip,
//! never extracted, with the same entry-name checks as `verify`. The comparison ([`compare`])
//! works on two [`DiffSide`]s, each borrowed either from a bundle read this way
//! ([`BundleContents::side`]) or from a report still in memory and its snapshot directory
//! ([`report_side`], used by `report --previous`, see [`previous`]); it produces a
//! [`BundleDiff`]. Rendering it (table, JSON, HTML) is separate and deterministic: the same two
//! bundles always give the same bytes.
//!
//! What is listed, each sorted by subject (or bucket), then control (or operation):
//! - `new_failures`: `fail` in NEW, anything else (or absent) in OLD — except expired exceptions;
//! - `fixed_failures`: `fail` in OLD, `pass`, `excepted` or `not_applicable` in NEW;
//! - `newly_unassessable`: `error` in NEW, anything else (or absent) in OLD;
//! - `expired_exceptions`: `excepted` in OLD, `fail` in NEW with an expired exception among its
//!   facts (`facts.exception.state`, written since phi-audit 0.1 findings carry facts; a NEW
//!   bundle without facts lists such a failure as new);
//! - `new_buckets` / `removed_buckets`: from the names of `evidence/buckets/*.json`;
//! - `changed_configurations`: per bucket in both, each recorded API call whose RESULT differs as
//!   parsed JSON (GetBucketPolicy: the parsed policy document, not its string). Before and after
//!   are shown with object keys sorted; an absent call is `null`. KMS key files
//!   (`evidence/kms/<region>/<key-id>.json`) are compared the same way, under the name
//!   `kms/<region>/<key-id>`: a key whose state (DescribeKey), rotation or policy (GetKeyPolicy,
//!   parsed) changed is listed; keys are never listed as new or removed buckets.
//!
//! Organisation bundles (docs/organizations.md): buckets are read from
//! `evidence/accounts/<id>/buckets/*.json` and named `<id>/<bucket>`; when both bundles are of
//! an organisation, findings are matched by account too and their subjects shown as
//! `<id> <subject>`. Single-account bundles compare exactly as before.
//!
//! The findings of a removed bucket are not listed one by one: the bucket is listed as removed.
//! An exception that lapsed is listed under `expired_exceptions` only, not also as a new failure.
//!
//! `access_changes`: access to ePHI gained and lost, from the two access reviews ([`access`]).

pub mod access;
pub mod previous;

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

use crate::bundle::format::{unsafe_name, EVIDENCE_DIR, FINDINGS_JSON, MANIFEST};
use crate::findings::{
    AccessReview, ExceptionState, Finding, FindingsReport, Severity, SnapshotRef, Status,
};
use crate::snapshot::{hex, SnapshotFile};
use sha2::{Digest, Sha256};

/// The `format` of `diff --format json`.
pub const DIFF_FORMAT: &str = "phi-audit-diff/1";

/// The largest entry read into memory from a bundle (a real one is far smaller).
const ENTRY_LIMIT: u64 = 64 << 20;

const ACCOUNTS_PREFIX: &str = "accounts/";

/// The bucket a snapshot file holds: `buckets/<b>.json` → `<b>`, and in an organisation's
/// snapshot `accounts/<id>/buckets/<b>.json` → `<id>/<b>`.
///
/// KMS key files are compared the same way: `kms/<region>/<stem>.json` → `kms/<region>/<stem>`
/// (`<id>/kms/<region>/<stem>` in an organisation). A bucket name never holds a `/`, so the two
/// never collide, and [`is_key_file`] tells them apart.
fn bucket_of_path(path: &str) -> Option<String> {
    let stem = |rest: &str| {
        rest.strip_suffix(".json")
            .filter(|stem| !stem.is_empty() && !stem.contains('/'))
            .map(str::to_string)
    };
    let single = |path: &str| {
        if let Some(rest) = path.strip_prefix("buckets/") {
            return stem(rest);
        }
        let (region, rest) = path.strip_prefix("kms/")?.split_once('/')?;
        let key = stem(rest)?;
        (!region.is_empty()).then(|| format!("kms/{region}/{key}"))
    };
    if let Some(name) = single(path) {
        return Some(name);
    }
    let (account, rest) = path.strip_prefix(ACCOUNTS_PREFIX)?.split_once('/')?;
    let name = single(rest)?;
    (!account.is_empty()).then(|| format!("{account}/{name}"))
}

/// True for a KMS key (or alias listing) file's name, false for a bucket's.
fn is_key_file(name: &str) -> bool {
    name.matches('/').count() >= 2
}

/// The bucket a bundle entry holds: [`bucket_of_path`] under `evidence/`.
fn bucket_of_entry(name: &str) -> Option<String> {
    bucket_of_path(name.strip_prefix(EVIDENCE_DIR)?)
}

/// Everything `diff` reports about two bundles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleDiff {
    pub format: String,
    pub old: BundleSide,
    pub new: BundleSide,
    /// False when the bundles are of different AWS accounts: the diff is then of little use.
    pub same_account: bool,
    pub new_failures: Vec<StatusChange>,
    pub fixed_failures: Vec<StatusChange>,
    pub newly_unassessable: Vec<StatusChange>,
    pub expired_exceptions: Vec<StatusChange>,
    pub new_buckets: Vec<BucketRef>,
    pub removed_buckets: Vec<BucketRef>,
    pub changed_configurations: Vec<ConfigChange>,
    /// Access to ePHI gained and lost ([`access`]).
    pub access_changes: access::AccessDiff,
}

impl BundleDiff {
    /// The diff's own format (`phi-audit-diff/1`, what `diff --format json` prints and
    /// `changes-since-previous.json` holds): pretty-printed, with a final newline.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a diff serialises");
        text.push('\n');
        text
    }
}

/// Which snapshot one bundle was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleSide {
    /// The bundle path as given on the command line.
    pub bundle: String,
    pub account_id: String,
    pub collected_at: String,
    pub generated_at: String,
    pub digest: String,
}

/// One (subject, control) whose status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub subject: String,
    pub control: String,
    pub severity: Severity,
    /// `null` when OLD had no such finding (a new subject).
    pub before: Option<Status>,
    pub after: Status,
    /// The NEW finding's reason.
    pub reason: String,
}

/// A bucket present in only one of the bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketRef {
    pub name: String,
    pub region: Option<String>,
    pub in_scope: bool,
}

/// One API answer that differs between the bundles for a bucket present in both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigChange {
    pub bucket: String,
    pub operation: String,
    /// The RESULT (`{"ok": …}` or `{"error": …}`), or `null` when the call was not recorded.
    pub before: Value,
    pub after: Value,
}

/// A bundle could not be read or does not hold what a bundle holds (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable zip archive ({message})")]
    NotAZip { path: PathBuf, message: String },
    #[error("{path}: entry {entry}: {why}")]
    UnsafeEntry {
        path: PathBuf,
        entry: String,
        why: &'static str,
    },
    #[error("{path}: the bundle has no {FINDINGS_JSON}")]
    NoFindings { path: PathBuf },
    #[error("{path}: {entry} is not valid: {message}")]
    BadEntry {
        path: PathBuf,
        entry: String,
        message: String,
    },
    #[error("{path}: changed since the snapshot was read (its SHA-256 is now {actual}); collect or copy the snapshot again")]
    SnapshotChanged { path: PathBuf, actual: String },
}

/// The part of `findings.json` that `diff` reads (the summary and timeline are not needed).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BundleFindings {
    pub generated_at: String,
    pub snapshot: SnapshotRef,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub access_review: AccessReview,
}

/// What `diff` reads from one bundle.
#[derive(Debug, Clone)]
pub struct BundleContents {
    pub label: String,
    pub findings: BundleFindings,
    /// Per bucket (file name without `.json`): the bucket file as parsed JSON.
    pub buckets: BTreeMap<String, Value>,
    /// The SHA-256 of the bundle's `MANIFEST.sha256` (what a signature or a hand-over note
    /// names), or `None` when the bundle has no manifest.
    pub manifest_sha256: Option<String>,
}

impl BundleContents {
    /// This bundle as one side of a comparison.
    pub fn side(&self) -> DiffSide<'_> {
        DiffSide {
            label: &self.label,
            generated_at: &self.findings.generated_at,
            snapshot: &self.findings.snapshot,
            findings: &self.findings.findings,
            access_review: &self.findings.access_review,
            buckets: &self.buckets,
        }
    }
}

/// One side of a comparison: what [`compare`] reads, borrowed from a bundle
/// ([`BundleContents::side`]) or from a report in memory ([`report_side`]).
#[derive(Debug, Clone, Copy)]
pub struct DiffSide<'a> {
    /// How the side is named in the diff (the bundle path as given, or its file name).
    pub label: &'a str,
    pub generated_at: &'a str,
    pub snapshot: &'a SnapshotRef,
    pub findings: &'a [Finding],
    pub access_review: &'a AccessReview,
    /// Per bucket (bucket file name without `.json`): the bucket file as parsed JSON.
    pub buckets: &'a BTreeMap<String, Value>,
}

/// A report that is being written, as one side of a comparison: its findings (after
/// exceptions) and the bucket files of its snapshot ([`snapshot_buckets`]).
pub fn report_side<'a>(
    label: &'a str,
    report: &'a FindingsReport,
    buckets: &'a BTreeMap<String, Value>,
) -> DiffSide<'a> {
    DiffSide {
        label,
        generated_at: &report.generated_at,
        snapshot: &report.snapshot,
        findings: &report.findings,
        access_review: &report.access_review,
        buckets,
    }
}

/// The bucket files of a loaded snapshot, parsed, keyed as a bundle of it would key them
/// (`buckets/<name>.json` is `evidence/buckets/<name>.json` in the bundle). Each file must still
/// have the SHA-256 the snapshot recorded when it was loaded, so the comparison sees exactly the
/// evidence the findings were judged on.
pub fn snapshot_buckets(
    root: &Path,
    files: &[SnapshotFile],
) -> Result<BTreeMap<String, Value>, DiffError> {
    let mut buckets = BTreeMap::new();
    for file in files {
        let Some(bucket) = bucket_of_path(&file.path) else {
            continue;
        };
        let path = root.join(&file.path);
        let bytes = std::fs::read(&path).map_err(|source| DiffError::Io {
            path: path.clone(),
            source,
        })?;
        let actual = hex(&Sha256::digest(&bytes));
        if actual != file.sha256 {
            return Err(DiffError::SnapshotChanged { path, actual });
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| DiffError::BadEntry {
            path: root.to_path_buf(),
            entry: file.path.clone(),
            message: e.to_string(),
        })?;
        buckets.insert(bucket, value);
    }
    Ok(buckets)
}

/// Reads `findings.json` and `evidence/buckets/*.json` from a bundle, in memory.
pub fn read_bundle(path: &Path, label: &str) -> Result<BundleContents, DiffError> {
    let file = File::open(path).map_err(|source| DiffError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let not_a_zip = |e: zip::result::ZipError| DiffError::NotAZip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(not_a_zip)?;
    let mut findings = None;
    let mut buckets = BTreeMap::new();
    let mut manifest_sha256 = None;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(not_a_zip)?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if let Some(why) = unsafe_name(&name) {
            return Err(DiffError::UnsafeEntry {
                path: path.to_path_buf(),
                entry: name,
                why,
            });
        }
        let bucket = bucket_of_entry(&name);
        if name != FINDINGS_JSON && name != MANIFEST && bucket.is_none() {
            continue;
        }
        let bad = |message: String| DiffError::BadEntry {
            path: path.to_path_buf(),
            entry: name.clone(),
            message,
        };
        let mut bytes = Vec::new();
        entry
            .take(ENTRY_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(e.to_string()))?;
        if name == MANIFEST {
            manifest_sha256 = Some(hex(&Sha256::digest(&bytes)));
            continue;
        }
        match bucket {
            None => {
                let report: BundleFindings =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                findings = Some(report);
            }
            Some(bucket) => {
                let value: Value =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                buckets.insert(bucket, value);
            }
        }
    }
    let findings = findings.ok_or_else(|| DiffError::NoFindings {
        path: path.to_path_buf(),
    })?;
    Ok(BundleContents {
        label: label.to_string(),
        findings,
        buckets,
        manifest_sha256,
    })
}

fn bundle_side(side: &DiffSide<'_>) -> BundleSide {
    let s = side.snapshot;
    BundleSide {
        bundle: side.label.to_string(),
        account_id: s.account_id.clone(),
        collected_at: s.collected_at.clone(),
        generated_at: side.generated_at.to_string(),
        digest: s.digest.clone(),
    }
}

/// True when a matching risk exception has expired on this finding.
fn exception_expired(finding: &Finding) -> bool {
    finding
        .facts
        .exception
        .as_ref()
        .is_some_and(|e| e.state == ExceptionState::Expired)
}

/// The same JSON with every object's keys sorted, and a bucket or key policy string parsed, so
/// that formatting and key order never count as a change.
fn canonical(operation: &str, value: &Value) -> Value {
    let mut value = sorted(value);
    if operation == "GetBucketPolicy" || operation == "GetKeyPolicy" {
        if let Some(Value::String(text)) = value.pointer("/ok/Policy") {
            if let Ok(document) = serde_json::from_str::<Value>(text) {
                let document = sorted(&document);
                if let Some(slot) = value.pointer_mut("/ok/Policy") {
                    *slot = document;
                }
            }
        }
    }
    value
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn bucket_ref(name: &str, file: &Value) -> BucketRef {
    BucketRef {
        name: name.to_string(),
        region: file
            .get("region")
            .and_then(Value::as_str)
            .map(str::to_string),
        in_scope: file
            .get("in_scope")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}

/// The findings keyed by (account, subject, control); the account only when `by_account`
/// (bundles written before organisations have none).
fn by_key(findings: &[Finding], by_account: bool) -> BTreeMap<(&str, &str, &str), &Finding> {
    findings
        .iter()
        .map(|f| {
            let account = if by_account { f.account.as_str() } else { "" };
            ((account, f.subject.as_str(), f.control.as_str()), f)
        })
        .collect()
}

/// Compares two sides (two bundles, or a bundle and the report being written).
pub fn compare(old: &DiffSide<'_>, new: &DiffSide<'_>) -> BundleDiff {
    let organisations =
        old.snapshot.organization_id.is_some() && new.snapshot.organization_id.is_some();
    let (before, after) = (
        by_key(old.findings, organisations),
        by_key(new.findings, organisations),
    );

    let mut new_failures = Vec::new();
    let mut fixed_failures = Vec::new();
    let mut newly_unassessable = Vec::new();
    let mut expired_exceptions = Vec::new();
    for (key, finding) in &after {
        let previous = before.get(key).map(|f| f.status);
        let change = StatusChange {
            subject: if organisations {
                format!("{} {}", finding.account, finding.subject)
            } else {
                finding.subject.clone()
            },
            control: finding.control.clone(),
            severity: finding.severity,
            before: previous,
            after: finding.status,
            reason: finding.reason.clone(),
        };
        match (previous, finding.status) {
            (Some(Status::Excepted), Status::Fail) if exception_expired(finding) => {
                expired_exceptions.push(change)
            }
            (p, Status::Fail) if p != Some(Status::Fail) => new_failures.push(change),
            (p, Status::Error) if p != Some(Status::Error) => newly_unassessable.push(change),
            (Some(Status::Fail), Status::Pass | Status::Excepted | Status::NotApplicable) => {
                fixed_failures.push(change)
            }
            _ => {}
        }
    }

    let new_buckets = new
        .buckets
        .iter()
        .filter(|(name, _)| !is_key_file(name) && !old.buckets.contains_key(*name))
        .map(|(name, file)| bucket_ref(name, file))
        .collect();
    let removed_buckets = old
        .buckets
        .iter()
        .filter(|(name, _)| !is_key_file(name) && !new.buckets.contains_key(*name))
        .map(|(name, file)| bucket_ref(name, file))
        .collect();

    let mut changed_configurations = Vec::new();
    for (bucket, old_file) in old.buckets {
        let Some(new_file) = new.buckets.get(bucket) else {
            continue;
        };
        let calls = |file: &Value| file.get("calls").and_then(Value::as_object).cloned();
        let (old_calls, new_calls) = (
            calls(old_file).unwrap_or_default(),
            calls(new_file).unwrap_or_default(),
        );
        let operations: BTreeSet<&String> = old_calls.keys().chain(new_calls.keys()).collect();
        for operation in operations {
            let normal = |calls: &serde_json::Map<String, Value>| {
                calls
                    .get(operation)
                    .map(|v| canonical(operation, v))
                    .unwrap_or(Value::Null)
            };
            let (before, after) = (normal(&old_calls), normal(&new_calls));
            if before != after {
                changed_configurations.push(ConfigChange {
                    bucket: bucket.clone(),
                    operation: operation.clone(),
                    before,
                    after,
                });
            }
        }
    }

    let (old_side, new_side) = (bundle_side(old), bundle_side(new));
    BundleDiff {
        format: DIFF_FORMAT.to_string(),
        same_account: old_side.account_id == new_side.account_id,
        old: old_side,
        new: new_side,
        new_failures,
        fixed_failures,
        newly_unassessable,
        expired_exceptions,
        new_buckets,
        removed_buckets,
        changed_configurations,
        access_changes: access::compare(
            &access::AccessSide::of(old.access_review, old.findings),
            &access::AccessSide::of(new.access_review, new.findings),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_of_entry;

    #[test]
    fn key_files_are_compared_like_bucket_files() {
        assert_eq!(
            bucket_of_entry("evidence/kms/us-east-1/k1.json").as_deref(),
            Some("kms/us-east-1/k1")
        );
        assert_eq!(
            bucket_of_entry("evidence/accounts/111122223333/kms/eu-west-1/k2.json").as_deref(),
            Some("111122223333/kms/eu-west-1/k2")
        );
        assert_eq!(bucket_of_entry("evidence/kms/k1.json"), None);
        assert!(super::is_key_file("kms/us-east-1/k1"));
        assert!(super::is_key_file("111122223333/kms/us-east-1/k1"));
        assert!(!super::is_key_file("111122223333/kms"));
        assert!(!super::is_key_file("kms"));
    }

    #[test]
    fn bucket_entries_of_single_and_organisation_bundles() {
        assert_eq!(
            bucket_of_entry("evidence/buckets/www.json").as_deref(),
            Some("www")
        );
        assert_eq!(
            bucket_of_entry("evidence/accounts/111122223333/buckets/www.json").as_deref(),
            Some("111122223333/www")
        );
        for not_a_bucket in [
            "evidence/snapshot.json",
            "evidence/accounts/111122223333/snapshot.json",
            "evidence/accounts/111122223333/cloudtrail/us-east-1.json",
            "evidence/accounts//buckets/www.json",
            "evidence/accounts/111122223333/buckets/x/www.json",
            "evidence/buckets/.json",
        ] {
            assert_eq!(bucket_of_entry(not_a_bucket), None, "{not_a_bucket}");
        }
    }
}
