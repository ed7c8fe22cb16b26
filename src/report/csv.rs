//! `findings.csv`: one row per finding, RFC 4180, safe to open in a spreadsheet.

use std::collections::HashMap;
use std::io::{self, Write};

use super::refs::BundleRefs;
use crate::audit::{AccountResult, Audit, FindingSink, Opening};
use crate::controls::Catalog;
use crate::findings::{Finding, FindingView, Status};

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

/// The `ephi` column: `yes` or `no` for a bucket subject, empty for any other subject.
pub fn ephi_cell(ephi: Option<bool>) -> &'static str {
    match ephi {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// The CSV from the findings held whole (the bundle's findings.csv).
pub fn write_findings_csv(audit: &Audit, out: &mut dyn Write) -> io::Result<()> {
    let mut csv = FindingsCsv::new(out);
    csv.header()?;
    csv.catalog = Some(audit.catalog.clone());
    csv.refs = BundleRefs::new(audit);
    audit.scope.accounts.iter().for_each(|a| csv.add_regions(a));
    for f in &audit.findings.findings {
        csv.row(f.into())?;
    }
    csv.finish().map(drop)
}

/// findings.csv, a row at a time. `evaluate --format csv` streams it from the judging (a
/// [`FindingSink`]: what it keeps is the catalog and the regions of the account being judged);
/// the bundle writes it from the findings it holds ([`write_findings_csv`]). Either way the same
/// rows in the same order, through the same writer.
pub struct FindingsCsv<W: Write> {
    writer: ::csv::Writer<W>,
    /// The catalog the findings were judged with (a streamed document's is given when it is
    /// opened, before any finding).
    catalog: Option<Catalog>,
    refs: BundleRefs,
    /// The region of each bucket, by account and subject: an account's, or every account's.
    regions: HashMap<String, HashMap<String, String>>,
    /// Whether the header is written.
    opened: bool,
    written: usize,
}

impl<W: Write> FindingsCsv<W> {
    /// Nothing is written before the header ([`FindingSink::open`] writes it).
    pub fn new(out: W) -> Self {
        FindingsCsv {
            writer: ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .from_writer(out),
            catalog: None,
            refs: BundleRefs::default(),
            regions: HashMap::new(),
            opened: false,
            written: 0,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        self.writer.write_record(HEADER)?;
        self.opened = true;
        Ok(())
    }

    /// How many findings are written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Ends a streamed document that an error stopped, once its header is out: a last row says
    /// it is incomplete, with status `error`, so that a spreadsheet never shows the rows before
    /// the error, or none at all, as the whole evaluation.
    pub fn abandon(mut self) -> io::Result<()> {
        if !self.opened {
            return Ok(());
        }
        let mut record = vec![String::new(); HEADER.len()];
        record[0] = format!(
            "INCOMPLETE: phi-audit stopped with an error after {} findings; this file is not the whole evaluation",
            self.written
        );
        record[2] = Status::Error.as_str().to_string();
        self.writer.write_record(&record)?;
        self.finish().map(drop)
    }

    /// Learns the region of each of the account's buckets (from its listing).
    fn add_regions(&mut self, account: &AccountResult) {
        let regions = self.regions.entry(account.id.clone()).or_default();
        for b in &account.buckets {
            regions.insert(format!("s3://{}", b.name), b.region.clone());
        }
    }

    /// The region of a subject: a bucket's (from its listing), a trail's (from its ARN); none
    /// for an account or a policy.
    fn region_of<'f>(&'f self, f: &FindingView<'f>) -> &'f str {
        let regions = self.regions.get(f.account.as_str());
        if let Some(region) = regions.and_then(|r| r.get(f.subject.as_str())) {
            return region;
        }
        match f.subject.strip_prefix("arn:") {
            Some(arn) => arn.split(':').nth(2).unwrap_or(""),
            None => "",
        }
    }

    fn row(&mut self, f: FindingView<'_>) -> io::Result<()> {
        let catalog = self.catalog.as_ref().expect("a catalog before any finding");
        let control = catalog.get(f.control);
        let exception = f.facts.exception.as_deref();
        // What to do is given where there is something to do.
        let remediation = match (control, f.status) {
            (Some(c), Status::Fail | Status::Error | Status::Excepted) => (
                c.remediation.summary.clone(),
                c.remediation.cli_for(f.subject),
            ),
            _ => (String::new(), String::new()),
        };
        let evidence = f.evidence.map(|r| self.refs.path(r)).join(" ");
        let record = [
            neutralise(f.subject),
            neutralise(f.control),
            f.status.as_str().to_string(),
            f.severity.as_str().to_string(),
            neutralise(&f.safeguards.join("; ")),
            neutralise(&f.policies.join("; ")),
            neutralise(f.reason),
            neutralise(&evidence),
            neutralise(f.account),
            f.id().to_string(),
            neutralise(control.map_or("", |c| c.title.as_str())),
            neutralise(self.region_of(&f)),
            neutralise(exception.map_or("", |e| e.approver.as_str())),
            neutralise(exception.map_or("", |e| e.expires.as_str())),
            neutralise(&remediation.0),
            neutralise(&remediation.1),
            ephi_cell(f.ephi).to_string(),
        ];
        self.writer.write_record(record)?;
        self.written += 1;
        Ok(())
    }

    /// Flushes the last rows; returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
    }
}

impl<W: Write> FindingSink for FindingsCsv<W> {
    fn open(&mut self, opening: &Opening<'_>) -> io::Result<()> {
        self.catalog = Some(opening.catalog.clone());
        self.refs = BundleRefs::administrative(opening.admin_files, opening.admin);
        self.header()
    }

    /// Only this account's regions are kept: its findings come next, and only its own.
    fn account(&mut self, account: &AccountResult) -> io::Result<()> {
        self.regions.clear();
        self.add_regions(account);
        Ok(())
    }

    fn take(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        findings.iter().try_for_each(|f| self.row(f.into()))
    }
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
