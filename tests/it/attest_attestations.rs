//! Attestations: each rule of the administrative controls, and each kind of bad input (the
//! message names the file, the line and the field).

use chrono::NaiveDate;
use phi_audit::attest::{self, Administrative, AttestationFile};
use phi_audit::audit::builtin_catalog;
use phi_audit::controls::Catalog;
use phi_audit::findings::{Finding, Severity, Status};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const SYSTEM_ACCESS: &str = "System Access Policy";

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn sha(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn catalog() -> Catalog {
    builtin_catalog().unwrap()
}

/// One entry of an attestations file.
struct Entry {
    policy: &'static str,
    approved_on: &'static str,
    next_review: &'static str,
    path: &'static str,
    sha256: String,
}

fn entry(policy: &'static str, approved_on: &'static str, next_review: &'static str) -> Entry {
    Entry {
        policy,
        approved_on,
        next_review,
        path: "policies/doc.md",
        sha256: sha(DOC),
    }
}

const DOC: &str = "# Policy\nThe approved text.\n";

fn yaml(entries: &[Entry]) -> String {
    let mut text = String::from("# test attestations\nattestations:\n");
    for e in entries {
        text.push_str(&format!(
            "  - policy: {}\n    owner: M. Chen (IT Security Manager)\n    approver: Dr. A. Rivera (CISO)\n    \
             approved_on: {}\n    next_review: {}\n    statement: The policy is in force.\n    \
             document:\n      path: {}\n      sha256: {}\n",
            e.policy, e.approved_on, e.next_review, e.path, e.sha256
        ));
    }
    text
}

/// A folder with `attestations.yaml` and `policies/doc.md` (holding [`DOC`]).
fn folder(text: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(temp.path().join("policies")).unwrap();
    std::fs::write(temp.path().join("policies/doc.md"), DOC).unwrap();
    let path = temp.path().join("attestations.yaml");
    std::fs::write(&path, text).unwrap();
    (temp, path)
}

fn load(path: &Path, period_end: &str) -> Result<AttestationFile, String> {
    AttestationFile::load(path, &catalog(), day(period_end)).map_err(|e| e.to_string())
}

/// The policy findings for an attestations text, judged at `period_end`.
fn judge(text: &str, period_end: &str, technical: Vec<Finding>) -> Vec<Finding> {
    let (_temp, path) = folder(text);
    let catalog = catalog();
    let admin = Administrative::load(Some(&path), None, &catalog, day(period_end)).unwrap();
    attest::apply(technical, &catalog, &admin)
        .findings
        .into_iter()
        .filter(|f| f.subject.starts_with("policy:"))
        .collect()
}

fn find<'a>(findings: &'a [Finding], policy: &str, control: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.subject == format!("policy:{policy}") && f.control == control)
        .unwrap_or_else(|| panic!("no {control} finding for {policy}"))
}

fn technical(subject: &str, control: &str, status: Status) -> Finding {
    Finding {
        subject: subject.into(),
        account: "111122223333".into(),
        control: control.into(),
        status,
        severity: Severity::High,
        safeguards: vec!["164.312(a)(1)".to_string()].into(),
        policies: vec![SYSTEM_ACCESS.to_string()].into(),
        reason: "test".into(),
        evidence: vec![],
        facts: Default::default(),
        ephi: None,
        ephi_basis: None,
    }
}

fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        .0
        + 1
}

fn assert_names(error: &str, line: usize, field: &str) {
    assert!(error.contains("attestations.yaml"), "no file name: {error}");
    assert!(
        error.contains(&format!("attestations.yaml:{line}:")),
        "not line {line}: {error}"
    );
    assert!(error.contains(field), "no field {field}: {error}");
}

// ---- rules ----

#[test]
fn a_current_attestation_passes_and_states_who_when_and_how_its_controls_fared() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")]);
    let findings = judge(
        &text,
        "2026-09-30",
        vec![
            technical("s3://a", "s3.world-readable-anonymous", Status::Pass),
            technical("s3://a", "s3.cross-account-access", Status::Fail),
            technical("s3://b", "s3.world-readable-anonymous", Status::Pass),
            technical("s3://b", "s3.cross-account-access", Status::Error),
            // Not a System Access control: not counted.
            technical("s3://c", "s3.versioning-disabled", Status::Fail),
        ],
    );
    let missing = find(&findings, SYSTEM_ACCESS, "admin.attestation-missing");
    assert_eq!(missing.status, Status::Pass);
    assert_eq!(
        missing.reason,
        "Owned by M. Chen (IT Security Manager); attested by Dr. A. Rivera (CISO) on 2026-03-02; \
         next review due 2027-03-02; its 21 technical controls on 2 buckets: 2 pass, 1 fail, 1 error."
    );
    assert_eq!(*missing.policies, [SYSTEM_ACCESS.to_string()]);
    let policy = catalog().policy(SYSTEM_ACCESS).unwrap().clone();
    assert_eq!(*missing.safeguards, policy.safeguards[..]);
    assert_eq!(missing.severity, Severity::High, "from the catalog");
    assert!(missing
        .evidence
        .iter()
        .any(|e| e == "attestations.yaml#/attestations/0"));
    assert_eq!(
        find(&findings, SYSTEM_ACCESS, "admin.attestation-expired").status,
        Status::Pass
    );
    let document = find(
        &findings,
        SYSTEM_ACCESS,
        "admin.attestation-document-changed",
    );
    assert_eq!(document.status, Status::Pass, "{}", document.reason);
    assert!(document.evidence.iter().any(|e| e == "policies/doc.md"));
}

#[test]
fn every_policy_gets_three_findings_and_a_missing_one_fails_only_the_missing_control() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")]);
    let findings = judge(&text, "2026-09-30", vec![]);
    assert_eq!(findings.len(), 4 * 3);
    let auditing = "Auditing Policy";
    let missing = find(&findings, auditing, "admin.attestation-missing");
    assert_eq!(missing.status, Status::Fail);
    assert!(
        missing
            .reason
            .starts_with("No attestation of the Auditing Policy is on file in attestations.yaml"),
        "{}",
        missing.reason
    );
    assert_eq!(
        find(&findings, auditing, "admin.attestation-expired").status,
        Status::NotApplicable
    );
    assert_eq!(
        find(&findings, auditing, "admin.attestation-document-changed").status,
        Status::NotApplicable
    );
}

#[test]
fn a_review_due_before_the_end_of_the_period_fails_and_one_due_on_its_last_day_passes() {
    let overdue = judge(
        &yaml(&[entry(SYSTEM_ACCESS, "2025-09-29", "2026-09-29")]),
        "2026-09-30",
        vec![],
    );
    let expired = find(&overdue, SYSTEM_ACCESS, "admin.attestation-expired");
    assert_eq!(expired.status, Status::Fail);
    assert!(
        expired.reason.contains("2026-09-29") && expired.reason.contains("2026-09-30"),
        "{}",
        expired.reason
    );
    assert_eq!(
        find(&overdue, SYSTEM_ACCESS, "admin.attestation-missing").status,
        Status::Pass,
        "an overdue attestation is still an attestation"
    );
    let due_today = judge(
        &yaml(&[entry(SYSTEM_ACCESS, "2025-09-30", "2026-09-30")]),
        "2026-09-30",
        vec![],
    );
    assert_eq!(
        find(&due_today, SYSTEM_ACCESS, "admin.attestation-expired").status,
        Status::Pass
    );
}

#[test]
fn the_policys_review_interval_caps_a_next_review_set_too_far_out() {
    // Approved 2025-01-10 with a next review two years later; the policy requires 12 months.
    let findings = judge(
        &yaml(&[entry(SYSTEM_ACCESS, "2025-01-10", "2027-01-10")]),
        "2026-09-30",
        vec![],
    );
    let expired = find(&findings, SYSTEM_ACCESS, "admin.attestation-expired");
    assert_eq!(expired.status, Status::Fail);
    assert!(
        expired.reason.contains("2026-01-10") && expired.reason.contains("every 12 months"),
        "{}",
        expired.reason
    );
}

#[test]
fn a_document_whose_hash_differs_fails_the_document_control() {
    let mut changed = entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02");
    changed.sha256 = sha("# Policy\nThe text as it was approved.\n");
    let findings = judge(&yaml(&[changed]), "2026-09-30", vec![]);
    let document = find(
        &findings,
        SYSTEM_ACCESS,
        "admin.attestation-document-changed",
    );
    assert_eq!(document.status, Status::Fail);
    assert!(document.reason.contains(&sha(DOC)), "{}", document.reason);
    assert!(
        document
            .reason
            .contains("has changed since it was approved on 2026-03-02"),
        "{}",
        document.reason
    );
    // The other two controls are judged independently.
    assert_eq!(
        find(&findings, SYSTEM_ACCESS, "admin.attestation-missing").status,
        Status::Pass
    );
}

#[test]
fn a_document_that_does_not_exist_is_an_error_never_a_pass() {
    let mut gone = entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02");
    gone.path = "policies/missing.md";
    let findings = judge(&yaml(&[gone]), "2026-09-30", vec![]);
    let document = find(
        &findings,
        SYSTEM_ACCESS,
        "admin.attestation-document-changed",
    );
    assert_eq!(document.status, Status::Error);
    assert!(
        document.reason.starts_with("Not assessed")
            && document.reason.contains("policies/missing.md"),
        "{}",
        document.reason
    );
}

#[test]
fn documents_are_found_relative_to_the_attestations_file() {
    let temp = tempfile::tempdir().unwrap();
    let nested = temp.path().join("compliance/2026");
    std::fs::create_dir_all(nested.join("policies")).unwrap();
    std::fs::write(nested.join("policies/doc.md"), DOC).unwrap();
    let path = nested.join("attestations.yaml");
    std::fs::write(
        &path,
        yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")]),
    )
    .unwrap();
    let file = load(&path, "2026-09-30").unwrap();
    assert_eq!(file.entries[0].document, attest::DocumentCheck::Matches);
    assert_eq!(
        file.entries[0].document_path,
        nested.join("policies/doc.md")
    );
    assert_eq!(
        file.attestation(SYSTEM_ACCESS).unwrap().approved_on,
        day("2026-03-02")
    );
}

#[test]
fn without_an_attestations_file_there_are_no_policy_findings() {
    let catalog = catalog();
    let admin = Administrative::load(None, None, &catalog, day("2026-09-30")).unwrap();
    let before = vec![technical("s3://a", "s3.cross-account-access", Status::Fail)];
    let applied = attest::apply(before.clone(), &catalog, &admin);
    assert_eq!(applied.findings, before);
}

#[test]
fn the_period_end_is_the_review_period_end_else_the_collection_day_unless_overridden() {
    let mut meta = phi_audit::snapshot::parse_meta(
        Path::new("snapshot.json"),
        br#"{"format":"phi-audit-snapshot/1","collected_at":"2026-10-01T06:00:00Z","tool_version":"t",
            "account_id":"111122223333","partition":"aws","regions":["us-east-1"],"scope":{},
            "review_period":{"since":"2026-07-01T00:00:00Z","until":"2026-09-30T23:59:59Z"},
            "account":{"GetPublicAccessBlock":{"error":{"code":"NoSuchPublicAccessBlockConfiguration","message":"x"}}}}"#,
    )
    .unwrap();
    assert_eq!(attest::period_end(&meta, None), day("2026-09-30"));
    assert_eq!(
        attest::period_end(&meta, Some(day("2026-12-31"))),
        day("2026-12-31")
    );
    meta.review_period = None;
    assert_eq!(attest::period_end(&meta, None), day("2026-10-01"));
}

// ---- bad input ----

fn error_for(text: &str) -> String {
    let (_temp, path) = folder(text);
    match load(&path, "2026-09-30") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err,
    }
}

#[test]
fn an_unknown_policy_is_rejected() {
    let text = yaml(&[entry("Sistem Access Policy", "2026-03-02", "2027-03-02")]);
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "policy:", 0), "attestations[0].policy");
    assert!(err.contains("Sistem Access Policy"), "{err}");
}

#[test]
fn a_policy_attested_twice_is_rejected_at_the_second_entry() {
    let text = yaml(&[
        entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02"),
        entry("Auditing Policy", "2026-03-02", "2027-03-02"),
        entry(SYSTEM_ACCESS, "2026-04-02", "2027-04-02"),
    ]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "policy: System", 1),
        "attestations[2].policy",
    );
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn an_unparsable_date_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-02-30", "2027-03-02")]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "approved_on", 0),
        "attestations[0].approved_on",
    );
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "next March")]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "next_review", 0),
        "attestations[0].next_review",
    );
}

#[test]
fn a_missing_field_is_rejected() {
    let full = yaml(&[
        entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02"),
        entry("Auditing Policy", "2026-03-02", "2027-03-02"),
    ]);
    // Drop the second entry's approver.
    let second = line_of(&full, "approver:", 1);
    let text: String = full
        .lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != second)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let err = error_for(&text);
    assert!(err.contains("attestations.yaml:"), "{err}");
    assert!(err.contains("attestations[1]"), "{err}");
    assert!(err.contains("approver"), "{err}");
    // The parser reports the position inside the second entry.
    let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
    assert!(
        line >= line_of(&text, "policy: Auditing", 0),
        "line {line}: {err}"
    );
}

#[test]
fn an_unknown_field_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")])
        .replace("    owner:", "    ownr:");
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "ownr", 0), "ownr");
}

#[test]
fn a_yaml_syntax_error_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")])
        .replace("statement: The policy", "statement: \"The policy");
    let err = error_for(&text);
    assert!(err.contains("attestations.yaml:"), "{err}");
    let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
    assert!(line >= line_of(&text, "statement", 0), "{err}");
}

#[test]
fn a_malformed_hash_is_rejected() {
    let mut bad = entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02");
    bad.sha256 = "abc123".to_string();
    let text = yaml(&[bad]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "sha256", 0),
        "attestations[0].document.sha256",
    );
}

#[test]
fn absolute_and_parent_document_paths_are_rejected() {
    for path in ["/etc/policies/doc.md", "../doc.md", "policies/../../doc.md"] {
        let mut bad = entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02");
        bad.path = path;
        let text = yaml(&[bad]);
        let err = error_for(&text);
        assert_names(
            &err,
            line_of(&text, "path:", 0),
            "attestations[0].document.path",
        );
    }
}

#[test]
fn a_next_review_not_after_approval_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2026-03-01")]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "next_review", 0),
        "attestations[0].next_review",
    );
}

#[test]
fn an_approval_after_the_end_of_the_period_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-10-15", "2027-10-15")]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "approved_on", 0),
        "attestations[0].approved_on",
    );
    assert!(err.contains("2026-09-30"), "{err}");
}

#[test]
fn an_empty_required_text_is_rejected() {
    let text = yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")])
        .replace("owner: M. Chen (IT Security Manager)", "owner: \"  \"");
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "owner:", 0), "attestations[0].owner");
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_naming_it() {
    let err = load(Path::new("/nonexistent/attestations.yaml"), "2026-09-30").unwrap_err();
    assert!(err.contains("/nonexistent/attestations.yaml"), "{err}");
}

#[test]
fn an_attestation_without_a_document_is_an_error_for_the_document_control() {
    // Only possible when built in code (the file format requires a document).
    let (_temp, path) = folder(&yaml(&[entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02")]));
    let mut file = load(&path, "2026-09-30").unwrap();
    file.entries[0].attestation.document = None;
    let catalog = catalog();
    let admin = Administrative {
        period_end: day("2026-09-30"),
        attestations: Some(file),
        exceptions: None,
    };
    let findings = attest::apply(vec![], &catalog, &admin).findings;
    let document = find(
        &findings,
        SYSTEM_ACCESS,
        "admin.attestation-document-changed",
    );
    assert_eq!(document.status, Status::Error);
}

#[test]
fn the_bundle_carries_the_attestations_file_and_every_readable_document() {
    let mut gone = entry("Auditing Policy", "2026-03-02", "2027-03-02");
    gone.path = "policies/missing.md";
    let (_temp, path) = folder(&yaml(&[
        entry(SYSTEM_ACCESS, "2026-03-02", "2027-03-02"),
        entry("Data Integrity Policy", "2026-03-02", "2027-03-02"),
        gone,
    ]));
    let file = load(&path, "2026-09-30").unwrap();
    let names: Vec<String> = file.bundle_files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["attestations.yaml", "policies/doc.md"]);
}

#[test]
fn the_coverage_sentence_names_each_kind_of_subject() {
    let catalog = catalog();
    let auditing = catalog.policy("Auditing Policy").unwrap();
    let findings = vec![
        technical("s3://a", "s3.access-logging-disabled", Status::Pass),
        technical("s3://b", "s3.access-logging-disabled", Status::Fail),
        technical(
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/org",
            "cloudtrail.not-logging",
            Status::Pass,
        ),
        technical(
            "account:111122223333",
            "cloudtrail.not-logging",
            Status::NotApplicable,
        ),
    ];
    assert_eq!(
        attest::Coverage::of(auditing, &findings).sentence(),
        format!(
            "its {} technical controls on 2 buckets, 1 trail and 1 account: 2 pass, 1 fail, 1 not applicable",
            auditing.controls.len()
        )
    );
    assert_eq!(
        attest::Coverage::of(auditing, &[]).sentence(),
        format!(
            "its {} technical controls produced no findings in this snapshot",
            auditing.controls.len()
        )
    );
}
