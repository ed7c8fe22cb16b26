//! The exceptions file: documented, approved acceptances of a failing control on the subjects a
//! glob matches, each valid until its expiry date.
//!
//! ```yaml
//! exceptions:
//!   - subject: s3://riverside-www          # `*` and `?` match as in IAM
//!     control: s3.world-readable-anonymous
//!     justification: Public website content; no ePHI is stored in this bucket
//!     approver: J. Smith (Privacy Officer)
//!     approved_on: 2026-08-01
//!     expires: 2027-01-31
//! ```
//!
//! A matching, unexpired exception turns `fail` into `excepted`; an expired one leaves `fail` and
//! says so; `error` is never touched, because an exception accepts a known risk and an
//! unassessed control is not a known anything. An exception that matched no failing finding is
//! reported back as a [`Unmatched`] warning, so stale exceptions get cleaned up.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::source::{file_name, read, AttestError, Source};
use super::RiskException;
use crate::controls::Catalog;
use crate::evaluate::wildcard;
use crate::findings::{AppliedException, Finding, Status};

/// The subject forms findings use (docs/findings-format.md); a glob must be able to match one of them.
const SUBJECT_PREFIXES: &[&str] = &["s3://", "account:", "arn:", "policy:"];

/// One validated entry of the exceptions file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionEntry {
    pub exception: RiskException,
    /// Position in the file's `exceptions` list (for `exceptions.yaml#/exceptions/N`).
    pub index: usize,
    pub line: u64,
}

/// A loaded and validated exceptions file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionFile {
    /// The file as the user named it (for warnings).
    pub path: PathBuf,
    /// The file's name, used in evidence references.
    pub name: String,
    pub entries: Vec<ExceptionEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    exceptions: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    subject: Spanned<String>,
    control: Spanned<String>,
    justification: Spanned<String>,
    approver: Spanned<String>,
    approved_on: Spanned<String>,
    expires: Spanned<String>,
}

impl ExceptionFile {
    pub fn load(
        path: &Path,
        catalog: &Catalog,
        period_end: NaiveDate,
    ) -> Result<ExceptionFile, AttestError> {
        let text = read(path)?;
        ExceptionFile::parse(path, &text, catalog, period_end)
    }

    pub fn parse(
        path: &Path,
        text: &str,
        catalog: &Catalog,
        period_end: NaiveDate,
    ) -> Result<ExceptionFile, AttestError> {
        let display = path.display().to_string();
        let source = Source { file: &display };
        let raw: RawFile = source.parse(text, "exceptions")?;
        let mut entries = Vec::new();
        let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (index, spanned) in raw.exceptions.into_iter().enumerate() {
            let line = spanned.referenced.line();
            let raw = spanned.value;
            let field = |name: &str| format!("exceptions[{index}].{name}");
            let subject = source.text(&raw.subject, &field("subject"))?;
            let literal = subject.split(['*', '?']).next().unwrap_or_default();
            if !SUBJECT_PREFIXES
                .iter()
                .any(|p| p.starts_with(literal) || literal.starts_with(p))
            {
                return Err(source.at(
                    &raw.subject,
                    &field("subject"),
                    format!(
                        "\"{subject}\" can never match a finding's subject, which starts with one \
                         of {} (e.g. s3://{subject})",
                        SUBJECT_PREFIXES.join(", ")
                    ),
                ));
            }
            let control = raw.control.value.trim().to_string();
            if catalog.get(&control).is_none() {
                return Err(source.at(
                    &raw.control,
                    &field("control"),
                    format!("\"{control}\" is not a control id of the catalog"),
                ));
            }
            let approved_on = source.date(&raw.approved_on, &field("approved_on"))?;
            let expires = source.date(&raw.expires, &field("expires"))?;
            if approved_on > expires {
                return Err(source.at(
                    &raw.approved_on,
                    &field("approved_on"),
                    format!("{approved_on} is after the exception's expiry date {expires}"),
                ));
            }
            if approved_on > period_end {
                return Err(source.at(
                    &raw.approved_on,
                    &field("approved_on"),
                    format!(
                        "{approved_on} is after the end of the review period ({period_end}): an \
                         exception cannot excuse a failure retroactively"
                    ),
                ));
            }
            if let Some(first) = seen.insert(
                (subject.clone(), control.clone()),
                raw.subject.referenced.line(),
            ) {
                return Err(source.at(
                    &raw.subject,
                    &field("subject"),
                    format!(
                        "a second exception for {control} on {subject} (first at line {first})"
                    ),
                ));
            }
            entries.push(ExceptionEntry {
                exception: RiskException {
                    subject,
                    control,
                    justification: source.text(&raw.justification, &field("justification"))?,
                    approver: source.text(&raw.approver, &field("approver"))?,
                    approved_on,
                    expires,
                },
                index,
                line,
            });
        }
        Ok(ExceptionFile {
            path: path.to_path_buf(),
            name: file_name(path),
            entries,
        })
    }

    /// The exceptions alone, in file order (for the report's exceptions appendix).
    pub fn exceptions(&self) -> Vec<RiskException> {
        self.entries.iter().map(|e| e.exception.clone()).collect()
    }

    fn evidence_ref(&self, entry: &ExceptionEntry) -> String {
        format!("{}#/exceptions/{}", self.name, entry.index)
    }
}

pub use crate::findings::ExceptionState;

/// An exception is valid through its expiry date.
pub fn state_at(exception: &RiskException, period_end: NaiveDate) -> ExceptionState {
    if exception.expires < period_end {
        ExceptionState::Expired
    } else {
        ExceptionState::Active
    }
}

/// What one exception did, for the report's exceptions appendix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionUse {
    pub exception: RiskException,
    pub line: u64,
    pub state: ExceptionState,
    /// The failing findings' subjects it matched (excepted, or annotated when expired).
    pub matched: Vec<String>,
}

/// An exception that matched no failing finding: it is stale or mistyped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    pub file: String,
    pub line: u64,
    pub control: String,
    pub subject: String,
}

impl fmt::Display for Unmatched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: exception for {} on {} matched no failing finding",
            self.file, self.line, self.control, self.subject
        )
    }
}

/// Applies exceptions to findings, possibly in several passes, remembering what matched.
pub(crate) struct Ledger<'a> {
    file: &'a ExceptionFile,
    period_end: NaiveDate,
    matched: Vec<Vec<String>>,
}

impl<'a> Ledger<'a> {
    pub fn new(file: &'a ExceptionFile, period_end: NaiveDate) -> Self {
        Ledger {
            file,
            period_end,
            matched: vec![Vec::new(); file.entries.len()],
        }
    }

    fn state(&self, exception: &RiskException) -> ExceptionState {
        state_at(exception, self.period_end)
    }

    pub fn apply(&mut self, findings: &mut [Finding]) {
        let file = self.file;
        for finding in findings.iter_mut() {
            if !matches!(finding.status, Status::Fail | Status::Error) {
                continue;
            }
            let matching: Vec<usize> = file
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    *e.exception.control == *finding.control
                        && wildcard::matches(&e.exception.subject, &finding.subject, false)
                })
                .map(|(i, _)| i)
                .collect();
            // Of several matching exceptions the one that lasts longest decides; on a tie, the
            // first in the file.
            let Some(&best) = matching
                .iter()
                .min_by_key(|&&i| std::cmp::Reverse(file.entries[i].exception.expires))
            else {
                continue;
            };
            let entry = &file.entries[best];
            let e = &entry.exception;
            if finding.status == Status::Error {
                finding.reason = format!(
                    "{} An exception approved by {} on {} covers failures of this control here, \
                     but not evidence that could not be assessed.",
                    finding.reason, e.approver, e.approved_on
                )
                .into();
                continue;
            }
            for &i in &matching {
                self.matched[i].push(finding.subject.to_string());
            }
            let reference = file.evidence_ref(entry);
            finding.evidence.push(reference.as_str().into());
            let state = self.state(e);
            finding.facts.exception = Some(Box::new(AppliedException {
                entry: reference,
                state,
                approver: e.approver.clone(),
                expires: e.expires.to_string(),
            }));
            match state {
                ExceptionState::Active => {
                    finding.status = Status::Excepted;
                    finding.reason = format!(
                        "Excepted until {}, approved by {} on {}: {}. Underlying failure: {}",
                        e.expires,
                        e.approver,
                        e.approved_on,
                        e.justification.trim_end_matches('.'),
                        finding.reason
                    )
                    .into();
                }
                ExceptionState::Expired => {
                    finding.reason = format!(
                        "{} An exception approved by {} on {} expired on {}.",
                        finding.reason, e.approver, e.approved_on, e.expires
                    )
                    .into();
                }
            }
        }
    }

    /// What each exception did, and the ones that matched nothing.
    pub fn finish(self) -> (Vec<ExceptionUse>, Vec<Unmatched>) {
        let mut uses = Vec::new();
        let mut unmatched = Vec::new();
        for (entry, matched) in self.file.entries.iter().zip(self.matched) {
            if matched.is_empty() {
                unmatched.push(Unmatched {
                    file: self.file.path.display().to_string(),
                    line: entry.line,
                    control: entry.exception.control.clone(),
                    subject: entry.exception.subject.clone(),
                });
            }
            uses.push(ExceptionUse {
                exception: entry.exception.clone(),
                line: entry.line,
                state: state_at(&entry.exception, self.period_end),
                matched,
            });
        }
        (uses, unmatched)
    }
}
