//! The attestations file: per Dash policy, who owns it, who approved it when, when it is next
//! reviewed, what it states, and which document (with the SHA-256 it had at approval) holds it.
//! Judged into one finding per administrative control per policy.
//!
//! ```yaml
//! attestations:
//!   - policy: System Access Policy
//!     owner: M. Chen (IT Security Manager)
//!     approver: Dr. A. Rivera (CISO)
//!     approved_on: 2026-03-02
//!     next_review: 2027-03-02
//!     statement: Access to ePHI in S3 is limited to ...
//!     document:
//!       path: policies/system-access.md      # relative to this file's directory
//!       sha256: 3b9c...
//! ```

use chrono::{Months, NaiveDate};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::source::{file_name, read, AttestError, Source};
use super::{Attestation, AttestedDocument};
use crate::controls::{Catalog, PolicyDefinition};
use crate::findings::{Finding, Status, Text};
use crate::snapshot::hex;

pub const MISSING: &str = "admin.attestation-missing";
pub const EXPIRED: &str = "admin.attestation-expired";
pub const DOCUMENT_CHANGED: &str = "admin.attestation-document-changed";

/// What was found at an attested document's path when the file was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentCheck {
    /// The document's SHA-256 is the one recorded at approval.
    Matches,
    /// The document exists but its text is not the approved text.
    Changed { actual_sha256: String },
    /// The document could not be read, so the approval cannot be verified.
    Unverifiable { why: String },
}

/// One validated entry of the attestations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationEntry {
    pub attestation: Attestation,
    /// Position in the file's `attestations` list (for `attestations.yaml#/attestations/N`).
    pub index: usize,
    pub line: u64,
    /// Where the document is on disk (the attestations file's directory joined with its path).
    pub document_path: PathBuf,
    pub document: DocumentCheck,
}

/// A loaded and validated attestations file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationFile {
    /// The file as the user named it.
    pub path: PathBuf,
    /// The file's name, used in evidence references (`attestations.yaml#/attestations/0`).
    pub name: String,
    pub entries: Vec<AttestationEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    attestations: Vec<Spanned<RawAttestation>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttestation {
    policy: Spanned<String>,
    owner: Spanned<String>,
    approver: Spanned<String>,
    approved_on: Spanned<String>,
    next_review: Spanned<String>,
    statement: Spanned<String>,
    document: RawDocument,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    path: Spanned<String>,
    sha256: Spanned<String>,
}

impl AttestationFile {
    /// Reads, validates and checks the documents of an attestations file. `period_end` is the
    /// day the attestations are judged at (see [`super::period_end`]).
    pub fn load(
        path: &Path,
        catalog: &Catalog,
        period_end: NaiveDate,
    ) -> Result<AttestationFile, AttestError> {
        let text = read(path)?;
        let base = path.parent().unwrap_or(Path::new(""));
        AttestationFile::parse(path, &text, base, catalog, period_end)
    }

    /// Validates the text of an attestations file; documents are looked up under `base`.
    pub fn parse(
        path: &Path,
        text: &str,
        base: &Path,
        catalog: &Catalog,
        period_end: NaiveDate,
    ) -> Result<AttestationFile, AttestError> {
        let display = path.display().to_string();
        let source = Source { file: &display };
        let raw: RawFile = source.parse(text, "attestations")?;
        let mut entries: Vec<AttestationEntry> = Vec::new();
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for (index, spanned) in raw.attestations.into_iter().enumerate() {
            let line = spanned.referenced.line();
            let raw = spanned.value;
            let field = |name: &str| format!("attestations[{index}].{name}");
            let policy = raw.policy.value.trim().to_string();
            if catalog.policy(&policy).is_none() {
                let known: Vec<&str> = catalog.policies.iter().map(|p| p.name.as_str()).collect();
                return Err(source.at(
                    &raw.policy,
                    &field("policy"),
                    format!(
                        "\"{policy}\" is not a policy of the catalog ({})",
                        known.join(", ")
                    ),
                ));
            }
            if let Some(first) = seen.insert(policy.clone(), raw.policy.referenced.line()) {
                return Err(source.at(
                    &raw.policy,
                    &field("policy"),
                    format!("{policy} is attested twice (first at line {first})"),
                ));
            }
            let approved_on = source.date(&raw.approved_on, &field("approved_on"))?;
            let next_review = source.date(&raw.next_review, &field("next_review"))?;
            if next_review <= approved_on {
                return Err(source.at(
                    &raw.next_review,
                    &field("next_review"),
                    format!("{next_review} is not after approved_on {approved_on}"),
                ));
            }
            if approved_on > period_end {
                return Err(source.at(
                    &raw.approved_on,
                    &field("approved_on"),
                    format!(
                        "{approved_on} is after the end of the review period ({period_end}), so \
                         it cannot attest to that period (use the attestation in force then, or --as-of)"
                    ),
                ));
            }
            let document_field = field("document.path");
            let relative = source.text(&raw.document.path, &document_field)?;
            check_relative(&relative)
                .map_err(|why| source.at(&raw.document.path, &document_field, why))?;
            let recorded = raw.document.sha256.value.trim().to_ascii_lowercase();
            if recorded.len() != 64 || !recorded.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(source.at(
                    &raw.document.sha256,
                    &field("document.sha256"),
                    format!(
                        "\"{}\" is not a SHA-256 (64 hexadecimal digits, as sha256sum prints)",
                        raw.document.sha256.value.trim()
                    ),
                ));
            }
            let document_path = base.join(&relative);
            let document = check_document(&document_path, &recorded);
            entries.push(AttestationEntry {
                attestation: Attestation {
                    policy,
                    owner: source.text(&raw.owner, &field("owner"))?,
                    approver: source.text(&raw.approver, &field("approver"))?,
                    approved_on,
                    next_review,
                    statement: source.text(&raw.statement, &field("statement"))?,
                    document: Some(AttestedDocument {
                        path: relative,
                        sha256: recorded,
                    }),
                },
                index,
                line,
                document_path,
                document,
            });
        }
        Ok(AttestationFile {
            path: path.to_path_buf(),
            name: file_name(path),
            entries,
        })
    }

    pub fn entry(&self, policy: &str) -> Option<&AttestationEntry> {
        self.entries.iter().find(|e| e.attestation.policy == policy)
    }

    /// The attestation of one policy, if the file has one (for the report's policy pages).
    pub fn attestation(&self, policy: &str) -> Option<&Attestation> {
        self.entry(policy).map(|e| &e.attestation)
    }

    /// The files an evidence bundle should carry under `attestations/`, as (path inside that
    /// folder, path on disk): this file, then every attested document that could be read. The
    /// bundle's manifest then records their hashes, so an auditor can check the documents
    /// against the SHA-256 each attestation records.
    pub fn bundle_files(&self) -> Vec<(String, PathBuf)> {
        let mut files = vec![(self.name.clone(), self.path.clone())];
        for entry in &self.entries {
            let readable = !matches!(entry.document, DocumentCheck::Unverifiable { .. });
            if let (Some(document), true) = (&entry.attestation.document, readable) {
                if !files.iter().any(|(name, _)| *name == document.path) {
                    files.push((document.path.clone(), entry.document_path.clone()));
                }
            }
        }
        files
    }

    fn evidence_ref(&self, entry: &AttestationEntry) -> String {
        format!("{}#/attestations/{}", self.name, entry.index)
    }
}

/// Document paths are relative to the attestations file so the file and its documents can be
/// moved (and bundled) together; `..` and absolute paths would reach outside that folder.
fn check_relative(path: &str) -> Result<(), String> {
    if path.contains('\\') {
        return Err("must use / as separator".to_string());
    }
    let problem = Path::new(path).components().find_map(|c| match c {
        Component::Normal(_) | Component::CurDir => None,
        Component::ParentDir => {
            Some("must not contain \"..\": documents live beside the attestations file")
        }
        Component::RootDir | Component::Prefix(_) => {
            Some("must be relative to the attestations file's directory, not absolute")
        }
    });
    match problem {
        Some(problem) => Err(format!("\"{path}\" {problem}")),
        None => Ok(()),
    }
}

fn check_document(path: &Path, recorded: &str) -> DocumentCheck {
    match std::fs::read(path) {
        Ok(bytes) => {
            let actual = hex(&Sha256::digest(&bytes));
            if actual == recorded {
                DocumentCheck::Matches
            } else {
                DocumentCheck::Changed {
                    actual_sha256: actual,
                }
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => DocumentCheck::Unverifiable {
            why: "no such file".to_string(),
        },
        Err(err) => DocumentCheck::Unverifiable {
            why: err.to_string(),
        },
    }
}

/// The day an attestation's review falls due: its own next review date, or the policy's review
/// interval after approval if that comes first (an approval cannot outlast the policy's cycle).
pub fn review_due(attestation: &Attestation, policy: &PolicyDefinition) -> (NaiveDate, bool) {
    let by_interval = attestation
        .approved_on
        .checked_add_months(Months::new(policy.review_interval_months))
        .unwrap_or(NaiveDate::MAX);
    if by_interval < attestation.next_review {
        (by_interval, true)
    } else {
        (attestation.next_review, false)
    }
}

/// How a policy's technical controls fared: the numbers behind "its 9 technical controls on 24
/// buckets: 180 pass, 12 fail, 2 error".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub controls: usize,
    /// Distinct subjects by kind, in the order they are named: buckets, trails, accounts, other.
    pub subjects: Vec<(SubjectKind, usize)>,
    pub by_status: BTreeMap<Status, usize>,
}

/// A policy's [`Coverage`], counted as findings pass by: its controls' distinct subjects and
/// their findings by status.
#[derive(Debug)]
pub struct CoverageTally<'p> {
    policy: &'p PolicyDefinition,
    subjects: crate::findings::FastSet<Text>,
    by_status: BTreeMap<Status, usize>,
}

impl<'p> CoverageTally<'p> {
    pub fn new(policy: &'p PolicyDefinition) -> Self {
        CoverageTally {
            policy,
            subjects: Default::default(),
            by_status: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, findings: &[Finding]) {
        let controls = &self.policy.controls;
        for finding in findings
            .iter()
            .filter(|f| controls.iter().any(|c| *c == *f.control))
        {
            self.subjects.insert(finding.subject.clone());
            *self.by_status.entry(finding.status).or_insert(0) += 1;
        }
    }

    pub fn coverage(&self) -> Coverage {
        let mut kinds: BTreeMap<SubjectKind, usize> = BTreeMap::new();
        for subject in &self.subjects {
            *kinds.entry(SubjectKind::of(subject)).or_insert(0) += 1;
        }
        Coverage {
            controls: self.policy.controls.len(),
            subjects: kinds.into_iter().collect(),
            by_status: self.by_status.clone(),
        }
    }
}

/// What a finding's subject is (docs/findings-format.md), for counting in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubjectKind {
    Bucket,
    Trail,
    Account,
    /// An IAM user or role (the identity controls' subjects).
    Principal,
    Other,
}

impl SubjectKind {
    pub fn of(subject: &str) -> SubjectKind {
        if subject.starts_with("s3://") {
            SubjectKind::Bucket
        } else if subject.starts_with("arn:") && subject.contains(":trail/") {
            SubjectKind::Trail
        } else if subject.starts_with("account:") {
            SubjectKind::Account
        } else if subject.starts_with("arn:")
            && (subject.contains(":user/") || subject.contains(":role/"))
        {
            SubjectKind::Principal
        } else {
            SubjectKind::Other
        }
    }

    fn count(self, n: usize) -> String {
        let (one, many) = match self {
            SubjectKind::Bucket => ("bucket", "buckets"),
            SubjectKind::Trail => ("trail", "trails"),
            SubjectKind::Account => ("account", "accounts"),
            SubjectKind::Principal => ("IAM user or role", "IAM users and roles"),
            SubjectKind::Other => ("other resource", "other resources"),
        };
        plural(n, one, many)
    }
}

impl Coverage {
    pub fn of(policy: &PolicyDefinition, findings: &[Finding]) -> Coverage {
        let mut tally = CoverageTally::new(policy);
        tally.add(findings);
        tally.coverage()
    }

    /// E.g. "its 9 technical controls on 24 buckets and 2 trails: 180 pass, 12 fail, 2 error".
    pub fn sentence(&self) -> String {
        let controls = plural(self.controls, "technical control", "technical controls");
        if self.subjects.is_empty() {
            return format!("its {controls} produced no findings in this snapshot");
        }
        let mut subjects: Vec<String> = self.subjects.iter().map(|(k, n)| k.count(*n)).collect();
        let subjects = match subjects.pop() {
            Some(last) if !subjects.is_empty() => format!("{} and {last}", subjects.join(", ")),
            Some(last) => last,
            None => String::new(),
        };
        let order = [
            Status::Pass,
            Status::Fail,
            Status::Excepted,
            Status::Error,
            Status::NotApplicable,
        ];
        let counts: Vec<String> = order
            .iter()
            .filter_map(|s| {
                self.by_status
                    .get(s)
                    .filter(|n| **n > 0)
                    .map(|n| format!("{n} {}", s.as_str().replace('_', " ")))
            })
            .collect();
        format!("its {controls} on {subjects}: {}", counts.join(", "))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The administrative findings of every catalog policy: three per policy, in catalog order.
/// `coverage` is how each catalog policy's technical controls fared (after exceptions), in
/// catalog order, for the coverage sentence.
pub fn policy_findings(
    catalog: &Catalog,
    file: &AttestationFile,
    coverage: &[Coverage],
    period_end: NaiveDate,
    account: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (k, policy) in catalog.policies.iter().enumerate() {
        let subject = format!("policy:{}", policy.name);
        let coverage = coverage.get(k).cloned().unwrap_or_default().sentence();
        let definition_ref = format!("controls/policies.yaml#/policies/{k}");
        let mut push = |control: &str, status: Status, reason: String, evidence: Vec<String>| {
            // The catalog is checked to define every admin control when it loads.
            let Some(entry) = catalog.get(control) else {
                return;
            };
            findings.push(Finding {
                subject: subject.as_str().into(),
                account: account.into(),
                control: control.into(),
                status,
                severity: entry.severity,
                safeguards: policy.safeguards.clone().into(),
                policies: vec![policy.name.clone()].into(),
                reason: reason.into(),
                evidence: evidence.into_iter().map(Into::into).collect(),
                facts: Default::default(),
                ephi: None,
                ephi_basis: None,
            });
        };
        let Some(entry) = file.entry(&policy.name) else {
            push(
                MISSING,
                Status::Fail,
                format!(
                    "No attestation of the {} is on file in {}: nobody is on record as owning or \
                     approving it; {coverage}.",
                    policy.name, file.name
                ),
                vec![file.name.clone(), definition_ref],
            );
            push(
                EXPIRED,
                Status::NotApplicable,
                "There is no attestation whose review could be due.".to_string(),
                vec![file.name.clone()],
            );
            push(
                DOCUMENT_CHANGED,
                Status::NotApplicable,
                "There is no attestation naming an approved document.".to_string(),
                vec![file.name.clone()],
            );
            continue;
        };
        let a = &entry.attestation;
        let reference = file.evidence_ref(entry);
        let (due, capped) = review_due(a, policy);
        push(
            MISSING,
            Status::Pass,
            format!(
                "Owned by {}; attested by {} on {}; next review due {due}; {coverage}.",
                a.owner, a.approver, a.approved_on
            ),
            vec![reference.clone(), definition_ref],
        );
        let cap_note = if capped {
            format!(
                " (the policy must be reviewed every {} months, earlier than the attestation's \
                 next_review of {})",
                policy.review_interval_months, a.next_review
            )
        } else {
            String::new()
        };
        if due < period_end {
            push(
                EXPIRED,
                Status::Fail,
                format!(
                    "The review due on {due}{cap_note} was missed: it fell before the end of the \
                     review period ({period_end}); last approved by {} on {}.",
                    a.approver, a.approved_on
                ),
                vec![reference.clone()],
            );
        } else {
            push(
                EXPIRED,
                Status::Pass,
                format!(
                    "The next review is due on {due}{cap_note}, not before the end of the review \
                     period ({period_end})."
                ),
                vec![reference.clone()],
            );
        }
        // A loaded file always names a document; one built by hand without it cannot be
        // verified, which is an error like an unreadable document, never a pass.
        let Some(document) = a.document.as_ref() else {
            push(
                DOCUMENT_CHANGED,
                Status::Error,
                "Not assessed: the attestation names no policy document, so the approved text \
                 cannot be verified."
                    .to_string(),
                vec![reference],
            );
            continue;
        };
        let evidence = vec![reference, document.path.clone()];
        match &entry.document {
            DocumentCheck::Matches => push(
                DOCUMENT_CHANGED,
                Status::Pass,
                format!(
                    "{} has the SHA-256 recorded when it was approved on {} ({}).",
                    document.path, a.approved_on, document.sha256
                ),
                evidence,
            ),
            DocumentCheck::Changed { actual_sha256 } => push(
                DOCUMENT_CHANGED,
                Status::Fail,
                format!(
                    "{} has changed since it was approved on {}: its SHA-256 is {actual_sha256}, \
                     not the {} recorded at approval, so the text in force is not the approved text.",
                    document.path, a.approved_on, document.sha256
                ),
                evidence,
            ),
            DocumentCheck::Unverifiable { why } => push(
                DOCUMENT_CHANGED,
                Status::Error,
                format!(
                    "Not assessed: the attested document {} could not be read ({why}), so whether \
                     the approved text is still in force is unknown.",
                    document.path
                ),
                evidence,
            ),
        }
    }
    findings
}
