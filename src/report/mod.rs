//! Renders findings for people and tools: the terminal table, CSV and JSON of `evaluate`, and
//! the bundle's documents: [`model`] (what the report says), [`html`] and [`pdf`] (how).

pub mod csv;
pub mod html;
pub mod model;
pub mod pdf;
pub mod table;

use crate::findings::FindingsReport;

/// A document could not be rendered (a bug or a broken template, never bad input).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("rendering report.html: {0}")]
    Template(String),
    #[error("rendering report.pdf: {0}")]
    Pdf(String),
}

/// `findings.json` (DESIGN.md §4), pretty-printed with a final newline.
pub fn findings_json(report: &FindingsReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("findings serialise");
    text.push('\n');
    text
}
