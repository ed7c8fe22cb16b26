//! Every 164.312 specification accounted for (issue #14 item 3): the coverage table of the
//! sample's report.html and report.pdf lists each specification once with its marking, its
//! conclusions agree with findings.json, "Met" never stands over a failing or error finding, and
//! a catalog mapping without its rationale is refused at its line.

use crate::support::bundle::samples;
use crate::support::bundle::{entry, require_tool};
use crate::support::phi_audit;
use phi_audit::audit::{Audit, Judgement};
use phi_audit::controls::SPECIFICATIONS;
use phi_audit::findings::{Finding, FindingRef, Severity, Status, Store};
use phi_audit::report::coverage::{CoverageView, Verdict};
use phi_audit::report::model::ReportModel;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The README's first command: the sample bundle.
fn sample_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("riverside-evidence.zip");
    let s = samples();
    crate::support::bundle::report_sample(&s.join("snapshot"), &bundle);
    bundle
}

fn sample_audit() -> Audit {
    let s = samples();
    let judgement = Judgement {
        attestations: Some(s.join("attestations.yaml")),
        exceptions: Some(s.join("exceptions.yaml")),
        generated_at: "2026-10-02T09:00:00Z".to_string(),
        ..Judgement::default()
    };
    Audit::build(&s.join("snapshot"), &judgement).expect("the sample evaluates")
}

/// Occurrences of a specification id that are not the start of a longer one
/// (`164.312(a)(2)(i)` is not counted inside `164.312(a)(2)(ii)`).
fn count_id(text: &str, id: &str) -> usize {
    text.match_indices(id)
        .filter(|(at, _)| {
            let next = text[at + id.len()..].chars().next();
            !matches!(next, Some('i' | 'v' | '('))
        })
        .count()
}

#[test]
fn every_specification_appears_once_with_its_marking_in_html_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_bundle(dir.path());

    let html = String::from_utf8(entry(&bundle, "report.html")).unwrap();
    let start = html
        .find("<section class=\"page\" id=\"coverage\"")
        .expect("a coverage section");
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    // Near the front: after the risk-first summary, before the safeguard sections.
    assert!(html.find("What needs attention first").unwrap() < start);
    assert!(start < html.find("id=\"safeguard-").unwrap());
    for spec in &SPECIFICATIONS {
        assert_eq!(
            count_id(section, &format!("<strong>{}</strong>", spec.id)),
            1,
            "{} in the HTML coverage table",
            spec.id
        );
        let row_start = section
            .find(&format!("data-spec=\"{}\"", spec.id))
            .unwrap_or_else(|| panic!("a row for {}", spec.id));
        let row = &section[row_start..row_start + section[row_start..].find("</tr>").unwrap()];
        assert!(
            row.contains(&format!(
                "<td class=\"nowrap\">{}</td>",
                spec.marking_label()
            )),
            "{} is marked {}: {row}",
            spec.id,
            spec.marking_label()
        );
    }

    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&bundle, "report.pdf")).unwrap();
    let output = Command::new(require_tool("pdftotext", "poppler-utils"))
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // The section runs from its heading (not the contents line) to the first safeguard section.
    let start = text
        .lines()
        .position(|l| l.trim() == "164.312 coverage")
        .expect("the coverage heading");
    let lines: Vec<&str> = text.lines().skip(start).collect();
    let end = lines
        .iter()
        .position(|l| l.contains("controls support this safeguard"))
        .expect("the safeguard sections follow");
    // Less the first section's heading, just above that line.
    let section = &lines[..end - 1];
    for spec in &SPECIFICATIONS {
        let rows: Vec<&&str> = section
            .iter()
            .filter(|l| count_id(l, spec.id) > 0)
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "{} in the PDF coverage table: {rows:?}",
            spec.id
        );
        assert_eq!(count_id(rows[0], spec.id), 1, "{}", spec.id);
        assert!(
            rows[0].trim_start().starts_with(spec.id) && rows[0].contains(spec.marking.name()),
            "{} with its marking {}: {}",
            spec.id,
            spec.marking.name(),
            rows[0]
        );
    }
    // The two specifications no AWS configuration shows say so, and what to ask for.
    let joined = section.join("\n");
    assert_eq!(
        joined.matches("NOT ASSESSED BY THIS TOOL").count(),
        2,
        "{joined}"
    );
    assert!(joined.contains("break-glass"));
    assert!(joined.contains("time-out"));
}

/// The verdict a specification's findings in findings.json call for, worked out here from the
/// rule the report states, independently of report::coverage.
fn expected_verdict(technical: &[&Value], administrative: &[&Value]) -> &'static str {
    let has = |list: &[&Value], status: &str| list.iter().any(|f| f["status"] == status);
    let lapsed = has(administrative, "fail") || has(administrative, "error");
    let judged = has(technical, "pass") || has(technical, "excepted");
    let attested = administrative
        .iter()
        .any(|f| f["control"] == "admin.attestation-missing" && f["status"] == "pass");
    if has(technical, "fail") || (judged && lapsed && !has(technical, "error")) {
        "Not met"
    } else if has(technical, "error") {
        "Not assessed"
    } else if judged && has(technical, "excepted") {
        "Met with exceptions"
    } else if judged {
        "Met"
    } else if attested {
        "Attested"
    } else {
        "Not assessed by this tool"
    }
}

#[test]
fn the_samples_conclusions_follow_its_findings_json() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_bundle(dir.path());
    let findings: Value = serde_json::from_slice(&entry(&bundle, "findings.json")).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    let html = String::from_utf8(entry(&bundle, "report.html")).unwrap();
    let audit = sample_audit();
    let coverage = ReportModel::build(&audit).coverage;
    let ephi: BTreeSet<String> = audit
        .scope
        .accounts
        .iter()
        .flat_map(|a| a.buckets.iter())
        .filter(|b| b.in_scope && b.ephi.as_ref().is_some_and(|d| d.ephi))
        .map(|b| format!("s3://{}", b.name))
        .collect();
    let mut verdicts = Vec::new();
    for spec in &SPECIFICATIONS {
        let cites = |f: &&Value| {
            f["safeguards"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == spec.id)
        };
        let is_admin = |f: &&Value| f["control"].as_str().unwrap().starts_with("admin.");
        let technical: Vec<&Value> = findings
            .iter()
            .filter(cites)
            .filter(|f| !is_admin(f))
            .collect();
        let administrative: Vec<&Value> = findings
            .iter()
            .filter(cites)
            .filter(|f| is_admin(f))
            .collect();
        let row = coverage.rows.iter().find(|r| r.id == spec.id).unwrap();
        let expected = expected_verdict(&technical, &administrative);
        assert_eq!(row.verdict, expected, "{}: {}", spec.id, row.conclusion);
        assert!(
            row.conclusion.starts_with(&format!("{expected}:"))
                || row.conclusion.starts_with(&format!("{expected} (")),
            "{}",
            row.conclusion
        );
        if technical.iter().any(|f| f["status"] == "fail") {
            let failing: Vec<&&Value> =
                technical.iter().filter(|f| f["status"] == "fail").collect();
            let subjects: BTreeSet<&str> = failing
                .iter()
                .map(|f| f["subject"].as_str().unwrap())
                .collect();
            let ephi_failing = subjects.iter().filter(|s| ephi.contains(**s)).count();
            let mut words = format!(
                "Not met: {} failing finding{} on {} subject{}",
                failing.len(),
                if failing.len() == 1 { "" } else { "s" },
                subjects.len(),
                if subjects.len() == 1 { "" } else { "s" },
            );
            if ephi_failing > 0 {
                words.push_str(&format!(", {ephi_failing} of them ePHI bucket"));
            }
            assert!(
                row.conclusion.starts_with(&words),
                "{} vs {words}",
                row.conclusion
            );
        }
        // The row in report.html says the same.
        assert!(html.contains(&row.conclusion), "{}", row.conclusion);
        verdicts.push((spec.id, row.verdict.clone()));
    }
    // samples/README.md: the clinic fails somewhere under every assessed specification, and
    // two specifications are outside what AWS configuration shows.
    let not_by_tool: Vec<&str> = verdicts
        .iter()
        .filter(|(_, v)| v == "Not assessed by this tool")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(not_by_tool, ["164.312(a)(2)(ii)", "164.312(a)(2)(iii)"]);
    let access = coverage
        .rows
        .iter()
        .find(|r| r.id == "164.312(a)(1)")
        .unwrap();
    assert!(
        access
            .conclusion
            .contains("Data Integrity Policy: review overdue"),
        "{}",
        access.conclusion
    );
}

fn finding(control: &str, status: Status) -> Finding {
    Finding {
        subject: "s3://b".into(),
        account: "111122223333".into(),
        control: control.into(),
        status,
        severity: Severity::High,
        safeguards: vec!["164.312(c)(1)".to_string()].into(),
        policies: vec!["Data Integrity Policy".to_string()].into(),
        reason: "".into(),
        evidence: Vec::new(),
        facts: Default::default(),
        ephi: None,
        ephi_basis: None,
    }
}

#[test]
fn met_is_impossible_with_a_failing_or_error_finding() {
    // Every combination of up to two technical findings and one administrative finding.
    let mut statuses: Vec<Option<Status>> = vec![None];
    statuses.extend(Status::ALL.iter().copied().map(Some));
    let mut met = 0;
    for a in &statuses {
        for b in &statuses {
            for admin in &statuses {
                let technical: Store = [a, b]
                    .iter()
                    .filter_map(|s| s.map(|s| finding("s3.versioning-disabled", s)))
                    .collect();
                let administrative: Store = admin
                    .iter()
                    .map(|s| finding("admin.attestation-expired", *s))
                    .collect();
                let t: Vec<FindingRef> = technical.iter().collect();
                let ad: Vec<FindingRef> = administrative.iter().collect();
                let verdict = Verdict::of(&t, &ad);
                let bad = t
                    .iter()
                    .chain(&ad)
                    .any(|f| matches!(f.status(), Status::Fail | Status::Error));
                if matches!(verdict, Verdict::Met | Verdict::MetWithExceptions) {
                    met += 1;
                    assert!(!bad, "{verdict:?} over {:?} / {:?}", [a, b], admin);
                }
            }
        }
    }
    assert!(met > 0, "some combination is met");

    // And in a whole report: every row of the sample that says Met has nothing failing under it.
    let audit = sample_audit();
    let coverage: CoverageView = ReportModel::build(&audit).coverage;
    for row in &coverage.rows {
        if row.verdict.starts_with("Met") {
            assert!(
                !audit.findings.findings.iter().any(|f| {
                    f.safeguards().contains(&row.id)
                        && matches!(f.status(), Status::Fail | Status::Error)
                }),
                "{}: {}",
                row.id,
                row.conclusion
            );
        }
    }
}

/// A copy of the built-in catalog with one file edited.
fn edited_catalog(dir: &Path, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let catalog = dir.join("controls");
    std::fs::create_dir(&catalog).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("controls");
    for e in std::fs::read_dir(&source).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = if name == file { edit(&text) } else { text };
        std::fs::write(catalog.join(&name), text).unwrap();
    }
    catalog
}

#[test]
fn a_users_catalog_without_a_rationale_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let sentence = "      \"164.312(b)\": Activity in the regions the trail does not cover is not recorded at all.\n";
    let catalog = edited_catalog(dir.path(), "cloudtrail.yaml", |text| {
        assert!(text.contains(sentence), "the sentence this test removes");
        text.replacen(sentence, "", 1)
    });
    let file = catalog.join("cloudtrail.yaml");
    let edited = std::fs::read_to_string(&file).unwrap();
    // The not-multi-region control's safeguards line, now without a sentence below it.
    let at = edited.find("id: cloudtrail.not-multi-region").unwrap();
    // (the text before `at` ends in the id line's "  - ", counted as a line)
    let line = edited[..at].lines().count()
        + edited[at..]
            .lines()
            .position(|l| l.trim_start().starts_with("safeguards:"))
            .unwrap();
    let (code, out, err) = phi_audit(&[
        "evaluate",
        samples().join("snapshot").to_str().unwrap(),
        "--controls",
        catalog.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!("{}:{line}:", file.display()))
            && err.contains("\"164.312(b)\" has no rationale"),
        "{err}"
    );

    // A rationale for a safeguard the control does not map is refused at the sentence.
    let dir = tempfile::tempdir().unwrap();
    let catalog = edited_catalog(dir.path(), "cloudtrail.yaml", |text| {
        text.replacen(
            sentence,
            &format!("{sentence}      \"164.312(d)\": A trail authenticates nobody.\n"),
            1,
        )
    });
    let file = catalog.join("cloudtrail.yaml");
    let edited = std::fs::read_to_string(&file).unwrap();
    let line = edited
        .lines()
        .position(|l| l.contains("A trail authenticates nobody"))
        .unwrap()
        + 1;
    let (code, out, err) = phi_audit(&[
        "evaluate",
        samples().join("snapshot").to_str().unwrap(),
        "--controls",
        catalog.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!("{}:{line}:", file.display()))
            && err.contains("\"164.312(d)\" is not one of this control's safeguards"),
        "{err}"
    );
}
