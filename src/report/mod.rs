//! Renders findings for people and tools: the terminal table, CSV and JSON of `evaluate`.
//! (The bundle's HTML and PDF documents build on the same findings.)

pub mod csv;
pub mod table;

use crate::findings::FindingsReport;

/// `findings.json` (DESIGN.md §4), pretty-printed with a final newline.
pub fn findings_json(report: &FindingsReport) -> String {
    let mut bytes = Vec::new();
    write_findings_json(report, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// Streams `findings.json` to a writer.
pub fn write_findings_json(
    report: &FindingsReport,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
