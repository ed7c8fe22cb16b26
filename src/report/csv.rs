//! `findings.csv`: one row per finding, RFC 4180, safe to open in a spreadsheet.

use std::collections::BTreeMap;

use super::refs::BundleRefs;
use crate::audit::Audit;
use crate::findings::{Finding, Status};

/// `account` stays ninth so that the columns of files written before organisations keep their
/// positions; the columns after it were added with the finding ids (docs/findings-format.md).
pub const HEADER: [&str; 17] = [
    "subject",
    "control",
    "status",
    "severity",
    "safeguards",
    "policies",
    "reason",
    "evidence",
    "account",
    "id",
    "title",
    "region",
    "exception_approver",
    "exception_expires",
    "remediation",
    "remediation_cli",
    "ephi",
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

pub fn findings_csv(audit: &Audit) -> String {
    let mut bytes = Vec::new();
    write_findings_csv(audit, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("input was UTF-8")
}

/// The region of a subject: a bucket's (from its listing), a trail's (from its ARN); none for
/// an account or a policy.
fn regions(audit: &Audit) -> BTreeMap<(&str, String), &str> {
    let mut regions = BTreeMap::new();
    for account in &audit.scope.accounts {
        for b in &account.buckets {
            regions.insert(
                (account.id.as_str(), format!("s3://{}", b.name)),
                b.region.as_str(),
            );
        }
    }
    regions
}

fn region_of<'a>(regions: &BTreeMap<(&str, String), &'a str>, f: &'a Finding) -> &'a str {
    if let Some(region) = regions.get(&(&*f.account, f.subject.to_string())) {
        return region;
    }
    match f.subject.strip_prefix("arn:") {
        Some(arn) => arn.split(':').nth(2).unwrap_or(""),
        None => "",
    }
}

/// The `ephi` column: `yes` or `no` for a bucket subject, empty for any other subject.
pub fn ephi_cell(ephi: Option<bool>) -> &'static str {
    match ephi {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// Streams the CSV to a writer (thousands of buckets make a large document).
pub fn write_findings_csv(audit: &Audit, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(HEADER)?;
    let regions = regions(audit);
    let refs = BundleRefs::new(audit);
    for f in &audit.findings.findings {
        let control = audit.catalog.get(&f.control);
        let exception = f.facts.exception.as_deref();
        // What to do is given where there is something to do.
        let remediation = match (control, f.status) {
            (Some(c), Status::Fail | Status::Error | Status::Excepted) => (
                c.remediation.summary.clone(),
                c.remediation.cli_for(&f.subject),
            ),
            _ => (String::new(), String::new()),
        };
        writer.write_record([
            neutralise(&f.subject),
            neutralise(&f.control),
            f.status.as_str().to_string(),
            f.severity.as_str().to_string(),
            neutralise(&f.safeguards.join("; ")),
            neutralise(&f.policies.join("; ")),
            neutralise(&f.reason),
            neutralise(
                &(f.evidence.iter().map(|r| refs.path(r)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            neutralise(&f.account),
            f.id(),
            neutralise(control.map_or("", |c| c.title.as_str())),
            neutralise(region_of(&regions, f)),
            neutralise(exception.map_or("", |e| e.approver.as_str())),
            neutralise(exception.map_or("", |e| e.expires.as_str())),
            neutralise(&remediation.0),
            neutralise(&remediation.1),
            ephi_cell(f.ephi).to_string(),
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
