//! Golden content of the bundle of `samples/` (the README's first command): what the auditor
//! reads in the HTML, the PDF's extracted text and the CSV for the Riverside Family Clinic.

use crate::support::bundle::samples;
use crate::support::bundle::*;
use crate::support::phi_audit;
use std::path::PathBuf;
use std::process::Command;

struct Sample {
    _dir: tempfile::TempDir,
    bundle: PathBuf,
    pdf_text: String,
    html: String,
}

fn sample_bundle() -> Sample {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("riverside.zip");
    let s = samples();
    crate::support::bundle::report_sample(&s.join("snapshot"), &bundle);
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&bundle, "report.pdf")).unwrap();
    let tool = require_tool("pdftotext", "poppler-utils");
    let output = Command::new(tool)
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    Sample {
        html: String::from_utf8(entry(&bundle, "report.html")).unwrap(),
        pdf_text: String::from_utf8(output.stdout).unwrap(),
        bundle,
        _dir: dir,
    }
}

#[test]
fn sample_bundle_reads_as_the_clinic_audit() {
    let s = sample_bundle();
    for text in [&s.html, &s.pdf_text] {
        for needle in [
            "Riverside Family Clinic",
            "111122223333",
            "2026-07-01T00:00:00Z to 2026-09-30T23:59:59Z",
            // A public bucket with its statement and the evidence it rests on.
            "s3://riverside-it-temp-transfer",
            "TempVendorTransfer",
            // Attestations: owner, an edited document, a missed review.
            "M. Chen (IT Security Manager)",
            "policies/system-access.md",
            "admin.attestation-document-changed",
            "the attestation has expired",
            // The website's documented exception.
            "s3://riverside-www",
            "in force",
            // A change in the period, by whom.
            "PutBucketAcl",
            "m.alvarez",
        ] {
            assert!(text.contains(needle), "{needle:?} missing");
        }
    }
    assert!(
        s.html.contains("status-excepted"),
        "excepted findings are shown as such"
    );
    assert!(s.html.contains(
        "href=\"evidence/buckets/riverside-it-temp-transfer.json#/calls/GetBucketPolicy\""
    ));
}

#[test]
fn sample_csv_matches_findings_json_and_the_bundle_verifies() {
    let s = sample_bundle();
    let json: serde_json::Value =
        serde_json::from_slice(&entry(&s.bundle, "findings.json")).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let csv_bytes = entry(&s.bundle, "findings.csv");
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    for (row, finding) in rows.iter().zip(findings) {
        assert_eq!(&row[1], finding["control"].as_str().unwrap());
        assert_eq!(&row[2], finding["status"].as_str().unwrap());
    }
    assert!(rows.iter().any(|r| &r[2] == "excepted"));
    // The policy documents the attestations name travel with them.
    assert_eq!(
        entry(&s.bundle, "attestations/policies/system-access.md"),
        std::fs::read(samples().join("policies/system-access.md")).unwrap()
    );
    let (code, out, _) = phi_audit(&["verify", s.bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}
