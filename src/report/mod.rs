//! Renders findings for people and tools: the terminal table, CSV and JSON of `evaluate`, and
//! the bundle's documents: [`model`] (what the report says, with [`previous`] for the changes
//! since the previous bundle), [`html`] and [`pdf`] (how), and [`oscal`] (the findings as an
//! OSCAL assessment-results document).

pub mod access;
pub mod buckets;
pub mod charts;
pub mod coverage;
pub mod csv;
pub mod custody;
pub mod diff;
pub mod facets;
pub mod html;
pub mod json;
pub mod model;
pub mod oscal;
pub mod pdf;
pub mod previous;
pub mod refs;
pub mod risk;
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

/// `findings.json` (docs/findings-format.md), pretty-printed with a final newline.
pub fn findings_json(report: &FindingsReport) -> String {
    let mut bytes = Vec::new();
    write_findings_json(report, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// Streams `findings.json` to a writer from the findings held whole (the bundle's; `evaluate
/// --format json` writes the same bytes as it judges, [`json::FindingsJson`]).
pub fn write_findings_json(
    report: &FindingsReport,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
