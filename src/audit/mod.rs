//! The audit: judged evidence, built once from a snapshot directory and the judgement options,
//! and read by everything after it — the terminal outputs of `evaluate`, the report model, OSCAL,
//! the comparison with a previous bundle and the bundle writer all take an [`Audit`].
//!
//! Building one is the whole first half of `evaluate` and `report`: load the control catalog,
//! load and evaluate every account ([`scope`], the one place that tells an account from an
//! organisation), then apply the administrative inputs (attestations and risk exceptions,
//! [`crate::attest`]) at the end of the review period. Nothing here prints: what a user should be
//! told besides the findings is returned in [`Audit::warnings`].

pub mod scope;

use chrono::NaiveDate;
use std::path::{Path, PathBuf};

use crate::attest::{self, Administrative, AttestError, Attestation, ExceptionUse, RiskException};
use crate::controls::{Catalog, CatalogError};
use crate::evaluate::{self, EvaluateOptions};
use crate::findings::{Finding, FindingsReport, Gate, Store, Tally};
use crate::snapshot::SnapshotError;

pub use scope::{AccountResult, Judged, Organisation, Scope};

/// Every control id a catalog must define: the evaluator's, the administrative ones judged by
/// [`crate::attest`], and the organisation one judged by [`scope`].
pub fn control_ids() -> Vec<&'static str> {
    let mut ids = evaluate::known_control_ids();
    ids.extend(attest::ADMIN_CONTROLS);
    ids.extend(scope::ORG_CONTROLS);
    ids
}

/// The catalog compiled into the binary, checked against [`control_ids`].
pub fn builtin_catalog() -> Result<Catalog, CatalogError> {
    Catalog::builtin(&control_ids())
}

/// `--controls DIR`, or the built-in catalog.
pub fn load_catalog(dir: Option<&Path>) -> Result<Catalog, CatalogError> {
    match dir {
        Some(dir) => Catalog::load_dir(dir, &control_ids()),
        None => builtin_catalog(),
    }
}

/// What decides the findings besides the evidence.
#[derive(Debug, Clone, Default)]
pub struct Judgement {
    /// `--controls DIR`; the built-in catalog when `None`.
    pub controls: Option<PathBuf>,
    pub evaluate: EvaluateOptions,
    /// Policy attestations (YAML).
    pub attestations: Option<PathBuf>,
    /// Risk exceptions (YAML).
    pub exceptions: Option<PathBuf>,
    /// Judge attestations and exceptions at this day instead of the end of the review period.
    pub as_of: Option<NaiveDate>,
    /// The generation time recorded in every output (RFC 3339), chosen by the caller.
    pub generated_at: String,
}

/// Why an audit could not be built: all bad input.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Attest(#[from] AttestError),
    /// The sink refused the findings: the output failed, not the input.
    #[error("could not write the findings: {0}")]
    Output(std::io::Error),
}

impl From<scope::EvaluateError> for AuditError {
    fn from(e: scope::EvaluateError) -> Self {
        match e {
            scope::EvaluateError::Snapshot(e) => AuditError::Snapshot(e),
            scope::EvaluateError::Output(e) => AuditError::Output(e),
        }
    }
}

/// What a [`FindingSink`] is told before the first finding: everything the findings are
/// judged against.
pub struct Opening<'a> {
    /// The header's facts; its `accounts` are not judged yet (each is announced to
    /// [`FindingSink::account`] before its findings).
    pub scope: &'a Scope,
    pub catalog: &'a Catalog,
    /// The attestations and exceptions, loaded, and the files they came from.
    pub admin: &'a Administrative,
    pub admin_files: &'a [PathBuf],
}

/// What receives the findings of an audit as they are judged, in their final order (the
/// technical findings account by account, then the policy findings).
pub trait FindingSink {
    /// Called once, before any finding.
    fn open(&mut self, opening: &Opening<'_>) -> std::io::Result<()>;
    /// The account whose findings come next.
    fn account(&mut self, _account: &AccountResult) -> std::io::Result<()> {
        Ok(())
    }
    /// A batch of findings, after the administrative step.
    fn take(&mut self, findings: Vec<Finding>) -> std::io::Result<()>;
}

/// Keeps every finding in memory (what [`Audit::build`] does), compact: each batch is stored
/// as it comes ([`Store`]) and dropped.
#[derive(Default)]
struct Kept(Store);

impl FindingSink for Kept {
    fn open(&mut self, _: &Opening<'_>) -> std::io::Result<()> {
        Ok(())
    }

    fn take(&mut self, findings: Vec<Finding>) -> std::io::Result<()> {
        findings.into_iter().for_each(|f| self.0.push(f));
        Ok(())
    }
}

/// Something the user should read besides the findings (printed by the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Judged evidence: what every output is rendered from.
#[derive(Debug, Clone)]
pub struct Audit {
    /// What was audited, and the evidence files.
    pub scope: Scope,
    pub catalog: Catalog,
    /// The findings after the administrative step, the summary and the change timeline.
    pub findings: FindingsReport,
    /// The attestations and exceptions as loaded, and the day they were judged at.
    pub admin: Administrative,
    /// The attestation and exception files as given (copied into the bundle).
    pub admin_files: Vec<PathBuf>,
    /// Per exception: its state and the subjects it matched.
    pub exceptions: Vec<ExceptionUse>,
    pub warnings: Vec<Warning>,
    /// Whether a `--fail-on` threshold is reached, counted as the findings were made (a
    /// streamed audit holds none).
    pub gate: Gate,
}

impl Audit {
    /// Loads and judges the snapshot at `root`, every finding kept.
    pub fn build(root: &Path, judgement: &Judgement) -> Result<Audit, AuditError> {
        let mut kept = Kept::default();
        let mut audit = Audit::judge(root, judgement, &mut kept)?;
        kept.0.finish();
        audit.findings.findings = kept.0;
        Ok(audit)
    }

    /// Loads and judges the snapshot at `root`, handing the findings to `sink` as they are
    /// made: the audit returned holds none of them, only their summary.
    pub fn judge(
        root: &Path,
        judgement: &Judgement,
        sink: &mut dyn FindingSink,
    ) -> Result<Audit, AuditError> {
        let catalog = load_catalog(judgement.controls.as_deref())?;
        let opened = scope::open(root, judgement.evaluate.threads)?;
        let period_end = judgement
            .as_of
            .unwrap_or_else(|| opened.scope.period_end().date_naive());
        let admin = Administrative::load(
            judgement.attestations.as_deref(),
            judgement.exceptions.as_deref(),
            &catalog,
            period_end,
        )?;
        let admin_files: Vec<PathBuf> = [&judgement.attestations, &judgement.exceptions]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        sink.open(&Opening {
            scope: &opened.scope,
            catalog: &catalog,
            admin: &admin,
            admin_files: &admin_files,
        })
        .map_err(AuditError::Output)?;
        let mut step = attest::Step::new(&catalog, &admin);
        let mut tally = Tally::default();
        let mut pass_on = |judged: Judged<'_>| match judged {
            Judged::Account(account) => sink.account(account),
            Judged::Findings(mut batch) => {
                step.apply(&mut batch);
                tally.add(&batch);
                sink.take(batch)
            }
        };
        let evaluated = opened.evaluate(&catalog, judgement.evaluate, &mut pass_on)?;
        // The policies are the snapshot's account's, or the organisation's management account's.
        let policy = step.policy_findings(&evaluated.scope.account_id);
        tally.add(&policy);
        sink.take(policy).map_err(AuditError::Output)?;
        let (exceptions, unmatched) = step.finish();
        let mut findings = FindingsReport::counted(
            judgement.generated_at.clone(),
            evaluated.scope.reference(),
            &tally,
        );
        findings.changes = evaluated.changes;
        findings.access_review = evaluated.access_review;
        let warnings = (evaluated.warnings.iter().map(ToString::to_string))
            .chain(evaluated.scope.custody_warnings())
            .chain(unmatched.iter().map(ToString::to_string))
            .map(Warning)
            .collect();
        Ok(Audit {
            scope: evaluated.scope,
            catalog,
            findings,
            admin,
            admin_files,
            exceptions,
            warnings,
            gate: tally.gate(),
        })
    }

    /// The attestations as evaluated, one per policy at most.
    pub fn attestations(&self) -> Vec<Attestation> {
        self.admin
            .attestations
            .iter()
            .flat_map(|file| file.entries.iter().map(|e| e.attestation.clone()))
            .collect()
    }

    /// Every risk exception in file order.
    pub fn risk_exceptions(&self) -> Vec<RiskException> {
        self.admin.exceptions()
    }

    /// The policy documents the attestations name and that could be read: (path relative to
    /// the attestations file, as the attestation gives it; file on disk). One that could not be
    /// read is reported by its administrative finding instead.
    pub fn attested_documents(&self) -> Vec<(String, PathBuf)> {
        self.admin.attested_documents()
    }
}
