//! Administrative safeguards: policy attestations and risk exceptions kept in YAML.
//!
//! The step after [`crate::evaluate`]: [`Administrative::load`] reads and validates the
//! `--attestations` and `--exceptions` files against the catalog, and [`apply`] turns them into
//! findings. Exceptions are applied first, to the technical findings; each Dash policy (defined
//! in `controls/policies.yaml`) is then judged from its attestation into one finding per
//! administrative control (subject `policy:<name>`), which states how the policy's technical
//! controls fared; exceptions finally apply to those policy findings too.
//!
//! Time comes in as a value, never from the clock: everything is judged at the end of the
//! review period ([`period_end`]), so the same inputs always give the same findings.

pub mod attestations;
pub mod exceptions;
mod source;

use chrono::NaiveDate;
use std::path::{Path, PathBuf};

pub use attestations::{AttestationEntry, AttestationFile, Coverage, DocumentCheck, SubjectKind};
pub use exceptions::{ExceptionEntry, ExceptionFile, ExceptionState, ExceptionUse, Unmatched};
pub use source::AttestError;

use crate::controls::Catalog;
use crate::findings::Finding;
use crate::snapshot::SnapshotMeta;

/// The administrative controls, judged per policy from the attestations file. Every catalog must
/// define them (`audit::control_ids`).
pub const ADMIN_CONTROLS: &[&str] = &[
    "admin.attestation-missing",
    "admin.attestation-expired",
    "admin.attestation-document-changed",
];

/// One Dash administrative policy's attestation: who owns and approved it, when, and which
/// document states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub policy: String,
    pub owner: String,
    pub approver: String,
    pub approved_on: NaiveDate,
    pub next_review: NaiveDate,
    pub statement: String,
    /// Always present in a loaded file (the format requires it).
    pub document: Option<AttestedDocument>,
}

/// The policy document an attestation names, with the SHA-256 it had when approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedDocument {
    /// Relative to the attestations file's directory, `/`-separated.
    pub path: String,
    /// Lowercase hex, as `sha256sum` prints it.
    pub sha256: String,
}

/// A documented, approved acceptance of a failing control on matching subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskException {
    /// A glob over finding subjects, e.g. `s3://riverside-www` or `s3://*-public-*`.
    pub subject: String,
    pub control: String,
    pub justification: String,
    pub approver: String,
    pub approved_on: NaiveDate,
    /// The last day the exception is valid.
    pub expires: NaiveDate,
}

/// The day attestations and exceptions are judged at: `as_of` when given, else the day (UTC) the
/// evaluator's review period ends ([`crate::evaluate::period_end`]: the end of the snapshot's
/// review period, else its collection time), so both judge "current" against the same moment.
pub fn period_end(meta: &SnapshotMeta, as_of: Option<NaiveDate>) -> NaiveDate {
    as_of.unwrap_or_else(|| crate::evaluate::period_end(meta).date_naive())
}

/// The administrative inputs of one run, loaded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrative {
    pub period_end: NaiveDate,
    pub attestations: Option<AttestationFile>,
    pub exceptions: Option<ExceptionFile>,
}

impl Administrative {
    pub fn load(
        attestations: Option<&Path>,
        exceptions: Option<&Path>,
        catalog: &Catalog,
        period_end: NaiveDate,
    ) -> Result<Administrative, AttestError> {
        Ok(Administrative {
            period_end,
            attestations: attestations
                .map(|p| AttestationFile::load(p, catalog, period_end))
                .transpose()?,
            exceptions: exceptions
                .map(|p| ExceptionFile::load(p, catalog, period_end))
                .transpose()?,
        })
    }

    /// The attestation of one policy (for the report's per-policy page).
    pub fn attestation(&self, policy: &str) -> Option<&Attestation> {
        self.attestations.as_ref()?.attestation(policy)
    }

    /// Every exception in file order (for the report's exceptions appendix).
    pub fn exceptions(&self) -> Vec<RiskException> {
        self.exceptions
            .as_ref()
            .map(ExceptionFile::exceptions)
            .unwrap_or_default()
    }

    /// The policy documents the attestations name and that could be read: (path relative to
    /// the attestations file, as the attestation gives it; file on disk). One that could not be
    /// read is reported by its administrative finding instead.
    pub fn attested_documents(&self) -> Vec<(String, PathBuf)> {
        (self.attestations.iter())
            .flat_map(|file| file.entries.iter())
            .filter(|e| e.document_path.is_file())
            .filter_map(|e| {
                e.attestation
                    .document
                    .as_ref()
                    .map(|d| (d.path.clone(), e.document_path.clone()))
            })
            .collect()
    }
}

/// The findings after the administrative step, and what the exceptions did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The technical findings (some now excepted), then the policy findings.
    pub findings: Vec<Finding>,
    /// Per exception: its state and the subjects it matched.
    pub exceptions: Vec<ExceptionUse>,
    /// Exceptions that matched no failing finding (to print as warnings).
    pub unmatched: Vec<Unmatched>,
}

/// Runs the administrative step over the evaluator's findings. Without an attestations file no
/// policy findings are produced (the administrative safeguards were not assessed); without an
/// exceptions file nothing is excepted.
pub fn apply(findings: Vec<Finding>, catalog: &Catalog, admin: &Administrative) -> Applied {
    // A single account's findings all carry its id; the policies are that account's.
    let account = findings
        .first()
        .map(|f| f.account.clone())
        .unwrap_or_default();
    apply_for(findings, catalog, admin, &account)
}

/// [`apply`], with the account the policy findings belong to named (an organisation's
/// management account).
pub fn apply_for(
    findings: Vec<Finding>,
    catalog: &Catalog,
    admin: &Administrative,
    policy_account: &str,
) -> Applied {
    let mut findings = findings;
    let mut step = Step::new(catalog, admin);
    step.apply(&mut findings);
    let policy = step.policy_findings(policy_account);
    findings.reserve_exact(policy.len());
    findings.extend(policy);
    let (exceptions, unmatched) = step.finish();
    Applied {
        findings,
        exceptions,
        unmatched,
    }
}

/// The administrative step taken as the findings pass by, in batches: each batch is excepted
/// and counted towards its policies' coverage; the policy findings come after the last.
pub struct Step<'a> {
    catalog: &'a Catalog,
    admin: &'a Administrative,
    ledger: Option<exceptions::Ledger<'a>>,
    /// Per catalog policy, in catalog order; only with an attestations file.
    coverage: Vec<attestations::CoverageTally<'a>>,
}

impl<'a> Step<'a> {
    pub fn new(catalog: &'a Catalog, admin: &'a Administrative) -> Self {
        let coverage = match admin.attestations {
            Some(_) => (catalog.policies.iter())
                .map(attestations::CoverageTally::new)
                .collect(),
            None => Vec::new(),
        };
        Step {
            catalog,
            admin,
            ledger: (admin.exceptions.as_ref())
                .map(|file| exceptions::Ledger::new(file, admin.period_end)),
            coverage,
        }
    }

    /// Applies the exceptions to technical findings and counts them.
    pub fn apply(&mut self, findings: &mut [Finding]) {
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.apply(findings);
        }
        for tally in &mut self.coverage {
            tally.add(findings);
        }
    }

    /// Each policy's findings (three per policy, exceptions applied), judged from its
    /// attestation and its controls' coverage; none without an attestations file.
    pub fn policy_findings(&mut self, policy_account: &str) -> Vec<Finding> {
        let Some(file) = &self.admin.attestations else {
            return Vec::new();
        };
        let coverage: Vec<Coverage> = self.coverage.iter().map(|t| t.coverage()).collect();
        let mut policy = attestations::policy_findings(
            self.catalog,
            file,
            &coverage,
            self.admin.period_end,
            policy_account,
        );
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.apply(&mut policy);
        }
        policy
    }

    /// What each exception did, and the ones that matched nothing.
    pub fn finish(self) -> (Vec<ExceptionUse>, Vec<Unmatched>) {
        self.ledger.map(|l| l.finish()).unwrap_or_default()
    }
}
