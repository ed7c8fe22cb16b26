//! Risk exceptions: each rule (excepted, expired, never for `error`, unmatched) and each kind
//! of bad input (the message names the file, the line and the field).

use chrono::NaiveDate;
use phi_audit::attest::{self, Administrative, ExceptionFile, ExceptionState};
use phi_audit::audit::builtin_catalog;
use phi_audit::findings::{Finding, Severity, Status};
use std::path::{Path, PathBuf};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

struct Entry {
    subject: &'static str,
    control: &'static str,
    approved_on: &'static str,
    expires: &'static str,
}

fn entry(subject: &'static str, control: &'static str) -> Entry {
    Entry {
        subject,
        control,
        approved_on: "2026-08-01",
        expires: "2027-01-31",
    }
}

fn yaml(entries: &[Entry]) -> String {
    let mut text = String::from("# test exceptions\nexceptions:\n");
    for e in entries {
        text.push_str(&format!(
            "  - subject: \"{}\"\n    control: {}\n    justification: Public website content, no ePHI.\n    \
             approver: J. Smith\n    approved_on: {}\n    expires: {}\n",
            e.subject, e.control, e.approved_on, e.expires
        ));
    }
    text
}

fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("exceptions.yaml");
    std::fs::write(&path, text).unwrap();
    (temp, path)
}

fn finding(subject: &str, control: &str, status: Status) -> Finding {
    Finding {
        subject: subject.into(),
        account: "111122223333".into(),
        control: control.into(),
        status,
        severity: Severity::Critical,
        safeguards: vec!["164.312(a)(1)".to_string()].into(),
        policies: vec!["System Access Policy".to_string()].into(),
        reason: "Anyone on the internet can read objects.".into(),
        evidence: vec!["buckets/x.json#/calls/GetBucketPolicy".into()],
        facts: Default::default(),
        ephi: None,
        ephi_basis: None,
    }
}

const READABLE: &str = "s3.world-readable-anonymous";

/// Applies an exceptions text to findings at `period_end`.
fn apply(text: &str, period_end: &str, findings: Vec<Finding>) -> attest::Applied {
    let (_temp, path) = write(text);
    let catalog = builtin_catalog().unwrap();
    let admin = Administrative::load(None, Some(&path), &catalog, day(period_end)).unwrap();
    attest::apply(findings, &catalog, &admin)
}

// ---- rules ----

#[test]
fn an_unexpired_matching_exception_turns_fail_into_excepted_and_says_who_and_until_when() {
    let applied = apply(
        &yaml(&[entry("s3://riverside-www", READABLE)]),
        "2026-09-30",
        vec![finding("s3://riverside-www", READABLE, Status::Fail)],
    );
    let f = &applied.findings[0];
    assert_eq!(f.status, Status::Excepted);
    assert_eq!(f.severity, Severity::Critical, "severity is kept");
    assert_eq!(
        f.reason,
        "Excepted until 2027-01-31, approved by J. Smith on 2026-08-01: Public website content, \
         no ePHI. Underlying failure: Anyone on the internet can read objects."
    );
    assert_eq!(
        f.evidence.last().unwrap(),
        "exceptions.yaml#/exceptions/0",
        "the exception is part of the evidence"
    );
    assert!(applied.unmatched.is_empty());
    assert_eq!(applied.exceptions[0].state, ExceptionState::Active);
    assert_eq!(applied.exceptions[0].matched, vec!["s3://riverside-www"]);
}

#[test]
fn subject_globs_match_with_star_and_question_mark_and_the_control_must_be_exact() {
    let applied = apply(
        &yaml(&[
            entry("s3://riverside-analytics-*", READABLE),
            entry("s3://logs-?", READABLE),
        ]),
        "2026-09-30",
        vec![
            finding("s3://riverside-analytics-shared", READABLE, Status::Fail),
            finding("s3://logs-1", READABLE, Status::Fail),
            finding("s3://logs-12", READABLE, Status::Fail),
            finding("s3://riverside-www", READABLE, Status::Fail),
            finding(
                "s3://riverside-analytics-shared",
                "s3.world-listable-anonymous",
                Status::Fail,
            ),
        ],
    );
    let statuses: Vec<Status> = applied.findings.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        vec![
            Status::Excepted,
            Status::Excepted,
            Status::Fail,
            Status::Fail,
            Status::Fail
        ]
    );
}

#[test]
fn an_expired_exception_leaves_fail_and_says_it_expired() {
    let mut lapsed = entry("s3://riverside-it-temp-transfer", READABLE);
    lapsed.approved_on = "2026-05-04";
    lapsed.expires = "2026-05-18";
    let applied = apply(
        &yaml(&[lapsed]),
        "2026-09-30",
        vec![finding(
            "s3://riverside-it-temp-transfer",
            READABLE,
            Status::Fail,
        )],
    );
    let f = &applied.findings[0];
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.reason,
        "Anyone on the internet can read objects. An exception approved by J. Smith on 2026-05-04 \
         expired on 2026-05-18."
    );
    assert_eq!(applied.exceptions[0].state, ExceptionState::Expired);
    assert!(
        applied.unmatched.is_empty(),
        "an expired exception still matched"
    );
}

#[test]
fn an_exception_is_valid_through_its_expiry_day() {
    let mut last_day = entry("s3://b", READABLE);
    last_day.expires = "2026-09-30";
    let applied = apply(
        &yaml(&[last_day]),
        "2026-09-30",
        vec![finding("s3://b", READABLE, Status::Fail)],
    );
    assert_eq!(applied.findings[0].status, Status::Excepted);
    let mut day_before = entry("s3://b", READABLE);
    day_before.expires = "2026-09-29";
    let applied = apply(
        &yaml(&[day_before]),
        "2026-09-30",
        vec![finding("s3://b", READABLE, Status::Fail)],
    );
    assert_eq!(applied.findings[0].status, Status::Fail);
}

#[test]
fn exceptions_never_turn_error_into_anything_else() {
    let mut error = finding("s3://b", READABLE, Status::Error);
    error.reason = "Not assessed: GetBucketPolicy failed with AccessDenied.".into();
    let applied = apply(
        &yaml(&[entry("s3://b", READABLE)]),
        "2026-09-30",
        vec![error],
    );
    let f = &applied.findings[0];
    assert_eq!(f.status, Status::Error);
    assert!(f.reason.starts_with("Not assessed"), "{}", f.reason);
    assert_eq!(
        applied.unmatched.len(),
        1,
        "an error is not a failing finding"
    );
}

#[test]
fn passing_findings_are_untouched_and_an_exception_that_matches_no_failure_is_reported() {
    let text = yaml(&[
        entry("s3://riverside-www", READABLE),
        entry("s3://riverside-marketing-*", READABLE),
    ]);
    let (_temp, path) = write(&text);
    let catalog = builtin_catalog().unwrap();
    let admin = Administrative::load(None, Some(&path), &catalog, day("2026-09-30")).unwrap();
    let pass = finding("s3://riverside-marketing-assets", READABLE, Status::Pass);
    let applied = attest::apply(
        vec![
            finding("s3://riverside-www", READABLE, Status::Fail),
            pass.clone(),
        ],
        &catalog,
        &admin,
    );
    assert_eq!(applied.findings[1], pass);
    assert_eq!(applied.unmatched.len(), 1);
    let line = text
        .lines()
        .position(|l| l.contains("riverside-marketing-*"))
        .unwrap()
        + 1;
    assert_eq!(
        applied.unmatched[0].to_string(),
        format!(
            "{}:{line}: exception for {READABLE} on s3://riverside-marketing-* matched no failing finding",
            path.display()
        )
    );
}

#[test]
fn of_several_matching_exceptions_the_longest_lasting_decides() {
    let mut short = entry("s3://riverside-*", READABLE);
    short.expires = "2026-10-31";
    let long = entry("s3://riverside-www", READABLE);
    let applied = apply(
        &yaml(&[short, long]),
        "2026-09-30",
        vec![finding("s3://riverside-www", READABLE, Status::Fail)],
    );
    assert!(
        applied.findings[0]
            .reason
            .starts_with("Excepted until 2027-01-31"),
        "{}",
        applied.findings[0].reason
    );
    assert!(applied.unmatched.is_empty(), "both matched");
}

#[test]
fn exceptions_apply_to_policy_findings_and_the_policy_counts_excepted_controls() {
    let temp = tempfile::tempdir().unwrap();
    let attestations = temp.path().join("attestations.yaml");
    // Only the System Access Policy is attested; the Auditing Policy's missing attestation is
    // excepted.
    std::fs::create_dir_all(temp.path().join("policies")).unwrap();
    std::fs::write(temp.path().join("policies/a.md"), "text").unwrap();
    std::fs::write(
        &attestations,
        "attestations:\n  - policy: System Access Policy\n    owner: O\n    approver: A\n    \
         approved_on: 2026-03-02\n    next_review: 2027-03-02\n    statement: S\n    document:\n      \
         path: policies/a.md\n      sha256: 982d9e3eb996f559e633f4d194def3761d909f5a3b647d1a851fead67c32c9d1\n",
    )
    .unwrap();
    let exceptions = temp.path().join("exceptions.yaml");
    std::fs::write(
        &exceptions,
        yaml(&[
            entry("policy:Auditing Policy", "admin.attestation-missing"),
            entry("s3://b", READABLE),
        ]),
    )
    .unwrap();
    let catalog = builtin_catalog().unwrap();
    let admin = Administrative::load(
        Some(&attestations),
        Some(&exceptions),
        &catalog,
        day("2026-09-30"),
    )
    .unwrap();
    let applied = attest::apply(
        vec![finding("s3://b", READABLE, Status::Fail)],
        &catalog,
        &admin,
    );
    let auditing = applied
        .findings
        .iter()
        .find(|f| f.subject == "policy:Auditing Policy" && f.control == "admin.attestation-missing")
        .unwrap();
    assert_eq!(auditing.status, Status::Excepted);
    let access = applied
        .findings
        .iter()
        .find(|f| {
            f.subject == "policy:System Access Policy" && f.control == "admin.attestation-missing"
        })
        .unwrap();
    assert_eq!(access.status, Status::Pass);
    assert!(
        access.reason.ends_with("on 1 bucket: 1 excepted."),
        "{}",
        access.reason
    );
    assert!(applied.unmatched.is_empty());
}

// ---- bad input ----

fn error_for(text: &str) -> String {
    let (_temp, path) = write(text);
    match ExceptionFile::load(&path, &builtin_catalog().unwrap(), day("2026-09-30")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err.to_string(),
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
    assert!(
        error.contains(&format!("exceptions.yaml:{line}:")),
        "no file name and line {line}: {error}"
    );
    assert!(error.contains(field), "no field {field}: {error}");
}

#[test]
fn an_unknown_control_id_is_rejected() {
    let text = yaml(&[entry("s3://b", "s3.world-readable-anonymus")]);
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "control:", 0), "exceptions[0].control");
    assert!(err.contains("s3.world-readable-anonymus"), "{err}");
}

#[test]
fn an_unparsable_date_is_rejected() {
    let mut bad = entry("s3://b", READABLE);
    bad.expires = "31/01/2027";
    let text = yaml(&[bad]);
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "expires:", 0), "exceptions[0].expires");
}

#[test]
fn an_approval_after_the_expiry_is_rejected() {
    let mut bad = entry("s3://b", READABLE);
    bad.approved_on = "2026-08-01";
    bad.expires = "2026-07-01";
    let text = yaml(&[bad]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "approved_on:", 0),
        "exceptions[0].approved_on",
    );
}

#[test]
fn an_approval_after_the_end_of_the_period_is_rejected() {
    let mut bad = entry("s3://b", READABLE);
    bad.approved_on = "2026-10-02";
    let text = yaml(&[bad]);
    let err = error_for(&text);
    assert_names(
        &err,
        line_of(&text, "approved_on:", 0),
        "exceptions[0].approved_on",
    );
    assert!(err.contains("2026-09-30"), "{err}");
}

#[test]
fn a_duplicate_subject_and_control_is_rejected_at_the_second_entry() {
    let text = yaml(&[
        entry("s3://b", READABLE),
        entry("s3://b", "s3.cross-account-access"),
        entry("s3://b", READABLE),
    ]);
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "subject:", 2), "exceptions[2].subject");
    assert!(
        err.contains(&format!("line {}", line_of(&text, "subject:", 0))),
        "{err}"
    );
}

#[test]
fn a_missing_field_is_rejected() {
    let text = yaml(&[entry("s3://b", READABLE)]).replace("    approver: J. Smith\n", "");
    let err = error_for(&text);
    assert!(err.contains("exceptions.yaml:"), "{err}");
    assert!(err.contains("exceptions[0]"), "{err}");
    assert!(err.contains("approver"), "{err}");
}

#[test]
fn an_unknown_field_is_rejected() {
    let text = yaml(&[entry("s3://b", READABLE)]).replace("expires:", "expiry:");
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "expiry:", 0), "expiry");
}

#[test]
fn a_subject_no_finding_could_have_is_rejected() {
    let text = yaml(&[entry("riverside-www", READABLE)]);
    let err = error_for(&text);
    assert_names(&err, line_of(&text, "subject:", 0), "exceptions[0].subject");
    assert!(
        err.contains("s3://riverside-www"),
        "suggests the fix: {err}"
    );
}

#[test]
fn a_yaml_syntax_error_is_rejected() {
    let text = "exceptions:\n  - subject: \"s3://b\n    control: x\n";
    let err = error_for(text);
    assert!(err.contains("exceptions.yaml:"), "{err}");
    let line: usize = err.split(':').nth(1).unwrap().parse().unwrap();
    assert!((2..=4).contains(&line), "{err}");
}

#[test]
fn the_exceptions_keep_file_order_for_the_report() {
    let text = yaml(&[entry("s3://b", READABLE), entry("s3://a", READABLE)]);
    let (_temp, path) = write(&text);
    let file = ExceptionFile::load(
        Path::new(&path),
        &builtin_catalog().unwrap(),
        day("2026-09-30"),
    )
    .unwrap();
    let subjects: Vec<String> = file.exceptions().into_iter().map(|e| e.subject).collect();
    assert_eq!(subjects, vec!["s3://b", "s3://a"]);
    assert_eq!(file.entries[1].line, line_of(&text, "subject:", 1) as u64);
}
