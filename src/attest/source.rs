//! Reading the attestations and exceptions files: YAML parsed with positions, and every mistake
//! reported as `file:line:column: field: message`, the way the control catalog reports its own.

use chrono::NaiveDate;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::controls::yaml_message;

/// Why an attestations or exceptions file cannot be used. Every variant is bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not the YAML we expect (syntax, a missing or unknown field, a wrong type).
    /// The parser's message names the field.
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    /// The YAML is well formed but a value is wrong.
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        file: String,
        line: u64,
        column: u64,
        field: String,
        message: String,
    },
}

/// The text of an attestations or exceptions file.
pub(crate) fn read(path: &Path) -> Result<String, AttestError> {
    std::fs::read_to_string(path).map_err(|source| AttestError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A file's own name, used in evidence references (`attestations.yaml#/attestations/0`).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The index of the entry of `list` that contains `line`, when the file's outline parses.
fn entry_at(text: &str, list: &str, line: u64) -> Option<usize> {
    let outline: BTreeMap<String, Vec<Spanned<IgnoredAny>>> = serde_saphyr::from_str(text).ok()?;
    outline
        .get(list)?
        .iter()
        .rposition(|entry| entry.referenced.line() <= line)
}

/// One file being validated: its name as the user gave it, for messages.
pub(crate) struct Source<'a> {
    pub file: &'a str,
}

impl Source<'_> {
    /// Parses a file whose entries are the list under `list`. The parser names a missing or
    /// unknown field but not the entry it belongs to, so that is looked up from the entries'
    /// positions: `attestations[2]: missing field `approver``.
    pub fn parse<T: DeserializeOwned>(&self, text: &str, list: &str) -> Result<T, AttestError> {
        serde_saphyr::from_str(text).map_err(|err| {
            let (line, column) = err
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            let message = yaml_message(&err.to_string());
            let message = match entry_at(text, list, line) {
                Some(index) => format!("{list}[{index}]: {message}"),
                None => message,
            };
            AttestError::Yaml {
                file: self.file.to_string(),
                line,
                column,
                message,
            }
        })
    }

    /// An error at a value's position.
    pub fn at<T>(&self, spanned: &Spanned<T>, field: &str, message: String) -> AttestError {
        AttestError::Invalid {
            file: self.file.to_string(),
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
            field: field.to_string(),
            message,
        }
    }

    /// The trimmed text of a field that must say something.
    pub fn text(&self, spanned: &Spanned<String>, field: &str) -> Result<String, AttestError> {
        let text = spanned.value.trim();
        if text.is_empty() {
            Err(self.at(spanned, field, "must not be empty".to_string()))
        } else {
            Ok(text.to_string())
        }
    }

    /// A calendar date written `YYYY-MM-DD`, nothing else: an approval is a day, not an instant.
    pub fn date(&self, spanned: &Spanned<String>, field: &str) -> Result<NaiveDate, AttestError> {
        let text = spanned.value.trim();
        let parsed = if text.len() == 10 {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
        } else {
            None
        };
        parsed.ok_or_else(|| {
            self.at(
                spanned,
                field,
                format!("\"{text}\" is not a date written YYYY-MM-DD"),
            )
        })
    }
}
