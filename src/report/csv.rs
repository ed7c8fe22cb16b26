//! `findings.csv`: one row per finding, RFC 4180, safe to open in a spreadsheet.

use crate::findings::Finding;

/// `account` is last so that the columns of files written before organisations keep their
/// positions.
pub const HEADER: [&str; 9] = [
    "subject",
    "control",
    "status",
    "severity",
    "safeguards",
    "policies",
    "reason",
    "evidence",
    "account",
];

/// Spreadsheets execute a cell that starts with `=`, `+`, `-` or `@` (and some treat a leading
/// tab or carriage return the same way). Such cells get a leading apostrophe, which the
/// spreadsheet shows as text, per OWASP's guidance on CSV injection.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub fn findings_csv(findings: &[Finding]) -> String {
    let mut bytes = Vec::new();
    write_findings_csv(findings, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("input was UTF-8")
}

/// Streams the CSV to a writer (thousands of buckets make a large document).
pub fn write_findings_csv(
    findings: &[Finding],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(HEADER)?;
    for f in findings {
        writer.write_record([
            neutralise(&f.subject),
            neutralise(&f.control),
            f.status.as_str().to_string(),
            f.severity.as_str().to_string(),
            neutralise(&f.safeguards.join("; ")),
            neutralise(&f.policies.join("; ")),
            neutralise(&f.reason),
            neutralise(&f.evidence.join(" ")),
            neutralise(&f.account),
        ])?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_prefixes_are_neutralised() {
        for bad in ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("s3://bucket"), "s3://bucket");
        assert_eq!(neutralise(""), "");
    }
}
