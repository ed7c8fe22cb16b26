//! `findings.json` (docs/findings-format.md) written as the findings are made: the document's
//! head, then each finding as it arrives, then the summary and what follows it. `evaluate
//! --format json` streams it from the judging ([`crate::audit::Audit::judge`]), so no finding is
//! held. The bundle writes it from the findings it holds ([`super::write_findings_json`]): the
//! same bytes, serde_json's pretty printing of the whole [`FindingsReport`] with a final newline
//! (a test here compares them, and tests/it/parallel_output.rs compares evaluate's output with
//! the bundle's entry). The bundle keeps serde_json's own writes: deflate's output depends on how
//! its input is cut into writes, and the bundle's bytes must not change.

use serde::Serialize;
use std::io::{self, Write};

use crate::audit::{FindingSink, Opening};
use crate::findings::{Finding, FindingsReport, SnapshotRef, FINDINGS_FORMAT};

/// The document, written member by member into `out`.
pub struct FindingsJson<W: Write> {
    out: W,
    generated_at: String,
    /// How many findings are written so far.
    written: usize,
}

impl<W: Write> FindingsJson<W> {
    pub fn new(out: W, generated_at: String) -> Self {
        FindingsJson {
            out,
            generated_at,
            written: 0,
        }
    }

    /// `format`, `generated_at`, `snapshot`, and the opening of `findings`.
    pub fn head(&mut self, format: &str, snapshot: &SnapshotRef) -> io::Result<()> {
        self.out.write_all(b"{")?;
        member(&mut self.out, "format", &format, true)?;
        member(&mut self.out, "generated_at", &self.generated_at, false)?;
        member(&mut self.out, "snapshot", snapshot, false)?;
        self.out.write_all(b",\n  \"findings\": [")
    }

    /// How many findings are written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// One finding, the next in the document's order.
    pub fn finding(&mut self, finding: &impl Serialize) -> io::Result<()> {
        let separator: &[u8] = if self.written == 0 { b"\n" } else { b",\n" };
        self.out.write_all(separator)?;
        self.out.write_all(b"    ")?;
        pretty(&mut self.out, finding, FINDING_DEPTH)?;
        self.written += 1;
        Ok(())
    }

    /// Closes `findings`, then `summary`, `changes` and `access_review` (when not empty) from
    /// `report`, whose own `findings` are not read; returns the writer.
    pub fn finish(mut self, report: &FindingsReport) -> io::Result<W> {
        let close: &[u8] = if self.written == 0 { b"]" } else { b"\n  ]" };
        self.out.write_all(close)?;
        member(&mut self.out, "summary", &report.summary, false)?;
        member(&mut self.out, "changes", &report.changes, false)?;
        if !report.access_review.is_empty() {
            member(&mut self.out, "access_review", &report.access_review, false)?;
        }
        self.out.write_all(b"\n}\n")?;
        Ok(self.out)
    }
}

impl<W: Write> FindingSink for FindingsJson<W> {
    fn open(&mut self, opening: &Opening<'_>) -> io::Result<()> {
        self.head(FINDINGS_FORMAT, &opening.scope.reference())
    }

    fn take(&mut self, findings: Vec<Finding>) -> io::Result<()> {
        findings.iter().try_for_each(|f| self.finding(f))
    }
}

/// A finding is an element of the top-level object's `findings` array: two levels in.
const FINDING_DEPTH: usize = 2;

/// `"name": value` as a member of the top-level object (one level in).
fn member(out: &mut impl Write, name: &str, value: &impl Serialize, first: bool) -> io::Result<()> {
    let separator: &[u8] = if first { b"\n  " } else { b",\n  " };
    out.write_all(separator)?;
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b": ")?;
    pretty(out, value, 1)
}

/// `value` pretty-printed as serde_json prints it, `depth` levels into the document.
fn pretty(out: &mut impl Write, value: &impl Serialize, depth: usize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Nested::at(depth));
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// serde_json's pretty layout (two spaces a level, `": "` after a key, an empty array or
/// object on one line) starting `depth` levels in, so a value can be written in place inside
/// a document written piece by piece.
struct Nested {
    depth: usize,
    /// Whether the innermost open array or object has an element yet.
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Nested {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(out)?;
        }
        out.write_all(bracket)
    }

    fn element<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.line(out)
    }

    /// A new line at the current depth.
    fn line<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        const SPACES: &[u8] = b"\n                                ";
        let width = 1 + 2 * self.depth;
        match SPACES.get(..width) {
            Some(line) => out.write_all(line),
            None => {
                out.write_all(b"\n")?;
                (0..self.depth).try_for_each(|_| out.write_all(b"  "))
            }
        }
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.element(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.element(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Access, AccessEntry, Change, Severity, Status, Text};

    fn finding(subject: &str, status: Status) -> Finding {
        Finding {
            subject: Text::from(subject),
            account: Text::from("111122223333"),
            control: Text::from("s3.world-readable"),
            status,
            severity: Severity::Critical,
            safeguards: vec!["164.312(a)(1)".to_string()].into(),
            policies: vec!["Access Control Policy".to_string()].into(),
            reason: Text::from("Anyone on the internet can read objects: \"quoted\"\nand more."),
            evidence: vec![Text::from("buckets/b.json#/calls/GetBucketPolicy")],
            facts: Default::default(),
            ephi: Some(true),
            ephi_basis: Some(Text::from("tag:phi=true")),
        }
    }

    fn report(findings: Vec<Finding>, organisation: bool) -> FindingsReport {
        let mut report = FindingsReport::new(
            "2026-10-02T09:00:00Z".to_string(),
            SnapshotRef {
                collected_at: "2026-10-01T06:00:00Z".to_string(),
                account_id: "111122223333".to_string(),
                digest: "ab".repeat(32),
                organization_id: organisation.then(|| "o-abc".to_string()),
            },
            findings,
        );
        report.changes.not_collected.push("us-east-1".to_string());
        report.changes.changes.push(Change {
            account: None,
            bucket: "b".to_string(),
            time: "2026-09-01T00:00:00Z".to_string(),
            event: "PutBucketPolicy".to_string(),
            region: "us-east-1".to_string(),
            principal: None,
            user_name: None,
            source_ip: None,
            access_key: None,
            error_code: None,
            flags: vec!["root".to_string()],
            event_id: "e".to_string(),
            evidence: String::new(),
        });
        report
    }

    fn written(report: &FindingsReport) -> String {
        let mut json = FindingsJson::new(Vec::new(), report.generated_at.clone());
        json.head(&report.format, &report.snapshot).unwrap();
        for finding in &report.findings {
            json.finding(&finding).unwrap();
        }
        String::from_utf8(json.finish(report).unwrap()).unwrap()
    }

    fn serde(report: &FindingsReport) -> String {
        serde_json::to_string_pretty(report).unwrap() + "\n"
    }

    #[test]
    fn the_document_is_serde_jsons_pretty_printing_of_the_whole_report() {
        let findings = vec![
            finding("s3://a", Status::Fail),
            finding("s3://b", Status::Pass),
        ];
        let mut with_review = report(findings.clone(), true);
        with_review.access_review.entries.push(AccessEntry {
            account: "111122223333".to_string(),
            bucket: "s3://a".to_string(),
            principal: "arn:aws:iam::111122223333:role/r".to_string(),
            kind: "role".to_string(),
            read: Access::Yes,
            write: Access::No,
            manage: Access::Conditional,
            via: vec!["p#/Statement/0".to_string()],
            evidence: vec!["iam.json#/x".to_string()],
            notes: Vec::new(),
        });
        for report in [
            report(findings.clone(), false),
            report(findings, true),
            with_review,
            report(Vec::new(), false),
        ] {
            assert_eq!(written(&report), serde(&report));
        }
    }

    #[test]
    fn a_nested_value_is_laid_out_as_serde_json_lays_it_out() {
        let value = serde_json::json!({
            "empty": [], "none": {}, "list": [1, [], {"a": [{}]}, "x\ny"],
            "deep": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {"n": {"o": {"p": {"q": [true]}}}}}}}}}}}}}}}}
        });
        let mut bytes = Vec::new();
        pretty(&mut bytes, &value, 0).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }
}
