//! `phi-audit diff OLD.zip NEW.zip`: what changed between two evidence bundles.
//!
//! Both bundles are verified first (see [`crate::bundle::verify`]); only intact bundles are compared.
//! Each bundle's `findings.json` and `evidence/buckets/*.json` are read straight from the zip,
//! never extracted, with the same entry-name checks as `verify`, and never whole ([`bundle`]):
//! OLD's findings are streamed into a compact index (the status of each account, subject and
//! control, the strings stored once), NEW's are streamed through the comparison one at a time,
//! and the evidence files are compared a pair at a time. So a comparison needs memory for what
//! changed, not for the bundles, whatever their size. OLD is always a bundle ([`OldSide`]);
//! NEW ([`NewSide`]) is a bundle or a report still in memory with its snapshot directory (used
//! by `report --previous`, see [`previous`]). [`compare`] produces a [`BundleDiff`]. Rendering
//! it (table, JSON, HTML) is separate and deterministic: the same two bundles always give the
//! same bytes.
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
pub mod bundle;
pub mod previous;

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use bundle::{Bundle, FindingsHead, EVIDENCE_LIMIT, FINDINGS_LIMIT};

use crate::bundle::format::{EVIDENCE_DIR, FINDINGS_JSON};
use crate::findings::{
    ExceptionState, FastMap, Finding, FindingView, FindingsReport, Severity, SnapshotRef, Status,
    Text,
};
use crate::snapshot::{hex, SnapshotFile};
use sha2::{Digest, Sha256};

/// The `format` of `diff --format json`.
pub const DIFF_FORMAT: &str = "phi-audit-diff/1";

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
    #[error(
        "{path}: {entry} is larger than {}, the most phi-audit reads of one bundle entry (a guard \
         against hostile bundles; no real bundle comes near it)",
        byte_size(*limit)
    )]
    TooLarge {
        path: PathBuf,
        entry: String,
        limit: u64,
    },
    #[error("{path}: changed since the snapshot was read (its SHA-256 is now {actual}); collect or copy the snapshot again")]
    SnapshotChanged { path: PathBuf, actual: String },
}

/// A limit in words: `64 GiB (68719476736 bytes)`.
fn byte_size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB ({bytes} bytes)", bytes >> 30)
    } else {
        format!("{bytes} bytes")
    }
}

/// The OLD side of a comparison: a bundle, its findings reduced to a compact index.
#[derive(Debug)]
pub struct OldSide {
    /// How the side is named in the diff (the bundle path as given, or its file name).
    pub label: String,
    pub head: FindingsHead,
    /// The SHA-256 of the bundle's `MANIFEST.sha256` (what a signature or a hand-over note
    /// names), or `None` when the bundle has no manifest.
    pub manifest_sha256: Option<String>,
    index: FindingIndex,
    /// The accounts of OLD's identity (`iam.*`) findings, for the access comparison.
    identity_accounts: BTreeSet<String>,
    bundle: Bundle,
}

impl OldSide {
    /// Reads the bundle at `path` as the OLD side: its manifest's digest and its findings,
    /// streamed into the index; its evidence files are read later, one at a time.
    pub fn read(path: &Path, label: &str) -> Result<OldSide, DiffError> {
        let mut bundle = Bundle::open(path)?;
        let manifest_sha256 = bundle.manifest_sha256()?;
        let mut index = FindingIndex::default();
        let mut identity_accounts = BTreeSet::new();
        let head = bundle.stream_findings(&mut |_, finding| {
            access::AccessSide::note_identity(
                &mut identity_accounts,
                &finding.control,
                &finding.account,
            );
            index.insert(&finding)
        })?;
        Ok(OldSide {
            label: label.to_string(),
            head,
            manifest_sha256,
            index,
            identity_accounts,
            bundle,
        })
    }
}

/// The NEW side of a comparison.
pub enum NewSide<'a> {
    /// A bundle (`diff OLD NEW`), its findings streamed through the comparison.
    Bundle {
        label: &'a str,
        bundle: &'a mut Bundle,
    },
    /// A report that is being written (`report --previous`): its findings after exceptions,
    /// and the files of its snapshot (`root`, as loaded: each must still have the SHA-256 the
    /// snapshot recorded, so the comparison sees exactly the evidence the findings were judged
    /// on).
    Report {
        label: &'a str,
        report: &'a FindingsReport,
        root: &'a Path,
        files: &'a [SnapshotFile],
    },
}

/// A compact key part: an index into [`FindingIndex::names`].
type Name = u32;
/// The account part of a key when findings are matched without their account.
const ANY_ACCOUNT: Name = Name::MAX;

/// OLD's findings reduced to what the comparison reads of them: the status of each
/// (account, subject, control), the three strings stored once each and keyed by index.
#[derive(Debug, Default)]
struct FindingIndex {
    names: FastMap<Box<str>, Name>,
    /// The status, and the finding's position in the file (when two findings share a key,
    /// the later one counts, as it always has).
    statuses: FastMap<(Name, Name, Name), (Status, u32)>,
    count: u32,
}

impl FindingIndex {
    fn name(&mut self, text: &str) -> Name {
        if let Some(&name) = self.names.get(text) {
            return name;
        }
        let name = Name::try_from(self.names.len()).expect("fewer than 2^32 names");
        self.names.insert(text.into(), name);
        name
    }

    fn insert(&mut self, finding: &Finding) {
        let key = (
            self.name(&finding.account),
            self.name(&finding.subject),
            self.name(&finding.control),
        );
        self.statuses.insert(key, (finding.status, self.count));
        self.count += 1;
    }

    /// Matches findings by subject and control alone from now on (a bundle written before
    /// organisations, or one side not of an organisation): the later of two findings counts.
    fn forget_accounts(&mut self) {
        let mut statuses: FastMap<(Name, Name, Name), (Status, u32)> = FastMap::default();
        for ((_, subject, control), (status, at)) in self.statuses.drain() {
            let slot = statuses
                .entry((ANY_ACCOUNT, subject, control))
                .or_insert((status, at));
            if at > slot.1 {
                *slot = (status, at);
            }
        }
        self.statuses = statuses;
    }

    /// The status OLD gave `finding`'s key (without its account when `by_account` is false).
    fn status(&self, finding: &FindingView<'_>, by_account: bool) -> Option<Status> {
        let account = if by_account {
            *self.names.get(finding.account.as_str())?
        } else {
            ANY_ACCOUNT
        };
        let subject = *self.names.get(finding.subject.as_str())?;
        let control = *self.names.get(finding.control.as_str())?;
        self.statuses.get(&(account, subject, control)).map(|s| s.0)
    }
}

/// Which list a status change goes to.
#[derive(Debug, Clone, Copy)]
enum ChangeKind {
    NewFailure,
    Fixed,
    Unassessable,
    ExpiredException,
}

/// The status changes found so far, NEW's findings visited one at a time against OLD's index.
struct StatusChanges<'o> {
    old: &'o mut FindingIndex,
    old_organisation: bool,
    /// Set by the first finding: whether findings are matched by account too.
    organisations: Option<bool>,
    /// Per (account or "", subject, control): the change. Most findings did not change, and
    /// each of them is looked up here: a hash map of shared texts, put in order at the end.
    found: FastMap<(Text, Text, Text), (ChangeKind, StatusChange)>,
    /// The account of every key when findings are not matched by account.
    no_account: Text,
}

impl<'o> StatusChanges<'o> {
    fn new(old: &'o mut OldSide) -> Self {
        StatusChanges {
            old_organisation: old.head.snapshot.organization_id.is_some(),
            old: &mut old.index,
            organisations: None,
            found: FastMap::default(),
            no_account: Text::default(),
        }
    }

    /// Compares one NEW finding; `new_organisation` is whether NEW is an organisation's.
    fn visit(&mut self, new_organisation: bool, finding: FindingView<'_>) {
        let organisations = *self.organisations.get_or_insert_with(|| {
            let both = self.old_organisation && new_organisation;
            if !both {
                self.old.forget_accounts();
            }
            both
        });
        let previous = self.old.status(&finding, organisations);
        let kind = match (previous, finding.status) {
            (Some(Status::Excepted), Status::Fail) if exception_expired(&finding) => {
                Some(ChangeKind::ExpiredException)
            }
            (p, Status::Fail) if p != Some(Status::Fail) => Some(ChangeKind::NewFailure),
            (p, Status::Error) if p != Some(Status::Error) => Some(ChangeKind::Unassessable),
            (Some(Status::Fail), Status::Pass | Status::Excepted | Status::NotApplicable) => {
                Some(ChangeKind::Fixed)
            }
            _ => None,
        };
        let account = if organisations {
            finding.account
        } else {
            &self.no_account
        };
        let key = (
            account.clone(),
            finding.subject.clone(),
            finding.control.clone(),
        );
        let Some(kind) = kind else {
            // A later finding with the same key decides (findings.json never has two).
            self.found.remove(&key);
            return;
        };
        let change = StatusChange {
            subject: if organisations {
                format!("{} {}", finding.account, finding.subject)
            } else {
                finding.subject.to_string()
            },
            control: finding.control.to_string(),
            severity: finding.severity,
            before: previous,
            after: finding.status,
            reason: finding.reason.to_string(),
        };
        self.found.insert(key, (kind, change));
    }

    /// The four lists, each in (account, subject, control) order.
    fn finish(self) -> [Vec<StatusChange>; 4] {
        let mut found: Vec<_> = self.found.into_iter().collect();
        found.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let mut lists: [Vec<StatusChange>; 4] = Default::default();
        for (_, (kind, change)) in found {
            lists[kind as usize].push(change);
        }
        lists
    }
}

/// The bucket and key files of one side, read one at a time.
enum Evidence<'a> {
    Bundle(&'a mut Bundle),
    Snapshot {
        root: &'a Path,
        files: BTreeMap<String, &'a SnapshotFile>,
    },
}

impl Evidence<'_> {
    fn names(&self) -> Vec<&String> {
        match self {
            Evidence::Bundle(bundle) => bundle.evidence_names().collect(),
            Evidence::Snapshot { files, .. } => files.keys().collect(),
        }
    }

    /// The file named `name` (see [`bucket_of_path`]), parsed; `None` when the side has none.
    fn load(&mut self, name: &str) -> Result<Option<Value>, DiffError> {
        let (root, file) = match self {
            Evidence::Bundle(bundle) => return bundle.bucket(name),
            Evidence::Snapshot { root, files } => match files.get(name) {
                Some(file) => (*root, *file),
                None => return Ok(None),
            },
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
        let value = serde_json::from_slice(&bytes).map_err(|e| DiffError::BadEntry {
            path: root.to_path_buf(),
            entry: file.path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some(value))
    }
}

/// What the bucket and key files say changed: new and removed buckets, changed answers.
struct EvidenceChanges {
    new_buckets: Vec<BucketRef>,
    removed_buckets: Vec<BucketRef>,
    changed_configurations: Vec<ConfigChange>,
}

/// Walks the files of both sides in name order, one pair in memory at a time.
fn compare_evidence(
    old: &mut Evidence<'_>,
    new: &mut Evidence<'_>,
) -> Result<EvidenceChanges, DiffError> {
    let names: BTreeSet<String> = (old.names().into_iter())
        .chain(new.names())
        .cloned()
        .collect();
    let mut changes = EvidenceChanges {
        new_buckets: Vec::new(),
        removed_buckets: Vec::new(),
        changed_configurations: Vec::new(),
    };
    for name in &names {
        match (old.load(name)?, new.load(name)?) {
            (Some(old_file), Some(new_file)) => changes
                .changed_configurations
                .extend(changed_calls(name, &old_file, &new_file)),
            (None, Some(file)) if !is_key_file(name) => {
                changes.new_buckets.push(bucket_ref(name, &file))
            }
            (Some(file), None) if !is_key_file(name) => {
                changes.removed_buckets.push(bucket_ref(name, &file))
            }
            _ => {}
        }
    }
    Ok(changes)
}

fn calls_of(file: &Value) -> Option<&serde_json::Map<String, Value>> {
    file.get("calls").and_then(Value::as_object)
}

/// Each recorded API call of a bucket (or key) whose RESULT differs between the two files.
fn changed_calls(bucket: &str, old_file: &Value, new_file: &Value) -> Vec<ConfigChange> {
    let (old_calls, new_calls) = (calls_of(old_file), calls_of(new_file));
    let operations: BTreeSet<&String> = (old_calls.into_iter().flat_map(|c| c.keys()))
        .chain(new_calls.into_iter().flat_map(|c| c.keys()))
        .collect();
    let mut changes = Vec::new();
    for operation in operations {
        let normal = |calls: Option<&serde_json::Map<String, Value>>| {
            calls
                .and_then(|c| c.get(operation))
                .map(|v| canonical(operation, v))
                .unwrap_or(Value::Null)
        };
        let (before, after) = (normal(old_calls), normal(new_calls));
        if before != after {
            changes.push(ConfigChange {
                bucket: bucket.to_string(),
                operation: operation.clone(),
                before,
                after,
            });
        }
    }
    changes
}

/// The bucket and key files of a loaded snapshot, keyed as a bundle of it would key them
/// (`buckets/<name>.json` is `evidence/buckets/<name>.json` in the bundle).
fn snapshot_evidence(files: &[SnapshotFile]) -> BTreeMap<String, &SnapshotFile> {
    files
        .iter()
        .filter_map(|file| bucket_of_path(&file.path).map(|name| (name, file)))
        .collect()
}

fn bundle_side(label: &str, generated_at: &str, snapshot: &SnapshotRef) -> BundleSide {
    BundleSide {
        bundle: label.to_string(),
        account_id: snapshot.account_id.clone(),
        collected_at: snapshot.collected_at.clone(),
        generated_at: generated_at.to_string(),
        digest: snapshot.digest.clone(),
    }
}

/// True when a matching risk exception has expired on this finding.
fn exception_expired(finding: &FindingView<'_>) -> bool {
    (finding.facts.exception.as_ref()).is_some_and(|e| e.state == ExceptionState::Expired)
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

/// Compares two sides: OLD, a bundle, with NEW, a bundle or the report being written. OLD's
/// findings are already an index; NEW's are visited one at a time against it, then the
/// evidence files of both are walked in name order, one pair at a time.
pub fn compare(old: &mut OldSide, new: NewSide<'_>) -> Result<BundleDiff, DiffError> {
    let old_label = old.label.clone();
    let old_side = bundle_side(&old_label, &old.head.generated_at, &old.head.snapshot);
    let (new_side, status_lists, access_changes, evidence) = match new {
        NewSide::Bundle { label, bundle } => {
            let mut identity_accounts = BTreeSet::new();
            let mut changes = StatusChanges::new(old);
            // Findings that came before the document's `snapshot` wait for it (phi-audit
            // writes `snapshot` first, so there are none).
            let mut waiting = Vec::new();
            let head = bundle.stream_findings(&mut |snapshot, finding| {
                access::AccessSide::note_identity(
                    &mut identity_accounts,
                    &finding.control,
                    &finding.account,
                );
                match snapshot {
                    Some(s) => changes.visit(s.organization_id.is_some(), (&finding).into()),
                    None => waiting.push(finding),
                }
            })?;
            for finding in &waiting {
                changes.visit(head.snapshot.organization_id.is_some(), finding.into());
            }
            let status_lists = changes.finish();
            let access_changes = access::compare(
                &access::AccessSide::of(&old.head.access_review, &old.identity_accounts),
                &access::AccessSide::of(&head.access_review, &identity_accounts),
            );
            let side = bundle_side(label, &head.generated_at, &head.snapshot);
            let evidence = compare_evidence(
                &mut Evidence::Bundle(&mut old.bundle),
                &mut Evidence::Bundle(bundle),
            )?;
            (side, status_lists, access_changes, evidence)
        }
        NewSide::Report {
            label,
            report,
            root,
            files,
        } => {
            let mut changes = StatusChanges::new(old);
            let new_organisation = report.snapshot.organization_id.is_some();
            for finding in &report.findings {
                changes.visit(new_organisation, finding.into());
            }
            let status_lists = changes.finish();
            let mut identity_accounts = BTreeSet::new();
            for finding in &report.findings {
                access::AccessSide::note_identity(
                    &mut identity_accounts,
                    finding.control(),
                    finding.account(),
                );
            }
            let access_changes = access::compare(
                &access::AccessSide::of(&old.head.access_review, &old.identity_accounts),
                &access::AccessSide::of(&report.access_review, &identity_accounts),
            );
            let side = bundle_side(label, &report.generated_at, &report.snapshot);
            let evidence = compare_evidence(
                &mut Evidence::Bundle(&mut old.bundle),
                &mut Evidence::Snapshot {
                    root,
                    files: snapshot_evidence(files),
                },
            )?;
            (side, status_lists, access_changes, evidence)
        }
    };
    let [new_failures, fixed_failures, newly_unassessable, expired_exceptions] = status_lists;
    Ok(BundleDiff {
        format: DIFF_FORMAT.to_string(),
        same_account: old_side.account_id == new_side.account_id,
        old: old_side,
        new: new_side,
        new_failures,
        fixed_failures,
        newly_unassessable,
        expired_exceptions,
        new_buckets: evidence.new_buckets,
        removed_buckets: evidence.removed_buckets,
        changed_configurations: evidence.changed_configurations,
        access_changes,
    })
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
