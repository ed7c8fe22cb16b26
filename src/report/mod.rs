//! Renders findings for people and tools: the terminal table, CSV and JSON of `evaluate`.
//! (The bundle's HTML and PDF documents build on the same findings.)

pub mod csv;
pub mod table;

use crate::findings::FindingsReport;

/// `findings.json` (DESIGN.md §4), pretty-printed with a final newline.
pub fn findings_json(report: &FindingsReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("findings serialise");
    text.push('\n');
    text
}
