//! `evaluate --attestations FILE --exceptions FILE` through the binary: the sample end to end,
//! warnings on stderr, `--as-of`, `--fail-on`, and exit 2 for bad input.

use crate::support::fixtures::*;
use serde_json::Value;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the binary in the crate root (so the sample's relative paths work).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn sample(extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "evaluate",
        "samples/snapshot",
        "--attestations",
        "samples/attestations.yaml",
        "--exceptions",
        "samples/exceptions.yaml",
        "--format",
        "json",
        "--generated-at",
        "2026-10-02T06:00:00Z",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, doc, stderr)
}

fn finding<'a>(doc: &'a Value, subject: &str, control: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"] == subject && f["control"] == control)
        .unwrap_or_else(|| panic!("no finding {subject} {control}"))
}

fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_sample_end_to_end() {
    let (code, doc, stderr) = sample(&[]);
    assert_eq!(code, 0, "{stderr}");

    // One finding per administrative control per policy, with the policy's mappings.
    let policy_findings: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().starts_with("policy:"))
        .collect();
    assert_eq!(policy_findings.len(), 4 * 3);
    let status = |policy: &str, control: &str| {
        finding(&doc, &format!("policy:{policy}"), control)["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let expected = [
        ("System Access Policy", ["pass", "pass", "pass"]),
        ("Configuration Management Policy", ["pass", "pass", "fail"]),
        ("Auditing Policy", ["pass", "pass", "pass"]),
        ("Data Integrity Policy", ["pass", "fail", "pass"]),
    ];
    for (policy, statuses) in expected {
        for (control, want) in [
            "admin.attestation-missing",
            "admin.attestation-expired",
            "admin.attestation-document-changed",
        ]
        .iter()
        .zip(statuses)
        {
            assert_eq!(status(policy, control), want, "{policy} {control}");
        }
    }
    let access = finding(
        &doc,
        "policy:System Access Policy",
        "admin.attestation-missing",
    );
    let reason = access["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "Owned by M. Chen (IT Security Manager); attested by Dr. A. Rivera (CISO) on 2026-03-02; \
             next review due 2027-03-02; its 21 technical controls on 26 buckets, 1 account, 8 IAM users and roles and 9 other resources:"
        ),
        "{reason}"
    );
    assert_eq!(
        access["policies"],
        serde_json::json!(["System Access Policy"])
    );
    assert_eq!(access["evidence"][0], "attestations.yaml#/attestations/0");
    let changed = finding(
        &doc,
        "policy:Configuration Management Policy",
        "admin.attestation-document-changed",
    );
    assert_eq!(
        changed["evidence"][1],
        "policies/configuration-management.md"
    );
    let overdue = finding(
        &doc,
        "policy:Data Integrity Policy",
        "admin.attestation-expired",
    );
    assert!(
        overdue["reason"].as_str().unwrap().contains("2026-08-20"),
        "{}",
        overdue["reason"]
    );

    // Exceptions: the website and the analytics share are excepted, the lapsed one is not.
    let www = finding(&doc, "s3://riverside-www", "s3.world-readable-anonymous");
    assert_eq!(www["status"], "excepted");
    assert_eq!(www["severity"], "critical");
    assert!(www["reason"].as_str().unwrap().starts_with(
        "Excepted until 2027-01-31, approved by J. Smith (Privacy Officer) on 2026-08-01: "
    ));
    assert_eq!(
        finding(
            &doc,
            "s3://riverside-www",
            "s3.public-access-block-incomplete"
        )["status"],
        "excepted"
    );
    assert_eq!(
        finding(
            &doc,
            "s3://riverside-analytics-shared",
            "s3.cross-account-access"
        )["status"],
        "excepted"
    );
    let lapsed = finding(
        &doc,
        "s3://riverside-it-temp-transfer",
        "s3.world-readable-anonymous",
    );
    assert_eq!(lapsed["status"], "fail");
    assert!(lapsed["reason"].as_str().unwrap().ends_with(
        "An exception approved by Dr. A. Rivera (CISO) on 2026-05-04 expired on 2026-05-18."
    ));
    assert_eq!(doc["summary"]["by_status"]["excepted"], 3);

    // The stale exception is a warning on stderr, naming file and line.
    let line = line_of(
        "samples/exceptions.yaml",
        "subject: s3://riverside-marketing-*",
    );
    assert_eq!(
        stderr.trim(),
        format!(
            "warning: samples/exceptions.yaml:{line}: exception for s3.world-listable-anonymous on \
             s3://riverside-marketing-* matched no failing finding"
        )
    );
}

#[test]
fn the_sample_is_deterministic_and_other_formats_carry_the_policy_findings() {
    let (_, first, _) = sample(&[]);
    let (_, second, _) = sample(&[]);
    assert_eq!(first, second);
    let (code, csv, stderr) = run(&[
        "evaluate",
        "samples/snapshot",
        "--attestations",
        "samples/attestations.yaml",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(csv.contains("policy:Data Integrity Policy"), "{csv}");
    assert!(stderr.is_empty(), "no exceptions, no warnings: {stderr}");
}

#[test]
fn as_of_moves_the_day_attestations_and_exceptions_are_judged_at() {
    // On 2026-08-10 the Data Integrity Policy's review (due 2026-08-20) was not yet overdue.
    let (code, doc, stderr) = sample(&["--as-of", "2026-08-10"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        finding(
            &doc,
            "policy:Data Integrity Policy",
            "admin.attestation-expired"
        )["status"],
        "pass"
    );
    // Before the website exceptions were approved, they are bad input.
    let (code, _, stderr) = run(&[
        "evaluate",
        "samples/snapshot",
        "--exceptions",
        "samples/exceptions.yaml",
        "--as-of",
        "2026-07-01",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("samples/exceptions.yaml:"), "{stderr}");
    assert!(stderr.contains("approved_on"), "{stderr}");
}

fn public_bucket() -> Value {
    bucket_with(
        "public-site",
        &[
            (
                "GetPublicAccessBlock",
                not_configured("NoSuchPublicAccessBlockConfiguration"),
            ),
            ("GetBucketAcl", acl(&[("AllUsers", "READ")])),
            ("GetBucketOwnershipControls", ownership("ObjectWriter")),
        ],
    )
}

#[test]
fn excepted_failures_do_not_reach_the_fail_on_threshold() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snapshot");
    write_snapshot(
        &snapshot,
        not_configured("NoSuchPublicAccessBlockConfiguration"),
        &[public_bucket()],
    );
    let dir = snapshot.to_str().unwrap();
    let (code, _, _) = run(&["evaluate", dir, "--fail-on", "high"]);
    assert_eq!(code, 1, "the public bucket fails high controls");

    // Except every failing high-or-worse control on the bucket.
    let (_, stdout, _) = run(&["evaluate", dir, "--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let mut yaml = String::from("exceptions:\n");
    for f in doc["findings"].as_array().unwrap() {
        let severe = matches!(f["severity"].as_str(), Some("critical" | "high"));
        if f["status"] == "fail" && severe {
            yaml.push_str(&format!(
                "  - subject: s3://public-site\n    control: {}\n    justification: Public by design\n    \
                 approver: J. Smith\n    approved_on: 2026-09-01\n    expires: 2026-12-31\n",
                f["control"].as_str().unwrap()
            ));
        }
    }
    let exceptions = temp.path().join("exceptions.yaml");
    std::fs::write(&exceptions, yaml).unwrap();
    let (code, _, stderr) = run(&[
        "evaluate",
        dir,
        "--exceptions",
        exceptions.to_str().unwrap(),
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn bad_attestations_exit_2_naming_file_line_and_field() {
    let temp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(ROOT).join("samples/attestations.yaml"))
        .unwrap()
        .replace("next_review: 2027-06-10", "next_review: 2027-06-31");
    let path = temp.path().join("attestations.yaml");
    std::fs::write(&path, &text).unwrap();
    let line = text.lines().position(|l| l.contains("2027-06-31")).unwrap() + 1;
    let (code, stdout, stderr) = run(&[
        "evaluate",
        "samples/snapshot",
        "--attestations",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "no findings on bad input");
    assert!(
        stderr.contains(&format!("attestations.yaml:{line}:")),
        "{stderr}"
    );
    assert!(stderr.contains("attestations[2].next_review"), "{stderr}");
}

#[test]
fn bad_exceptions_exit_2_naming_file_line_and_field() {
    let temp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(Path::new(ROOT).join("samples/exceptions.yaml"))
        .unwrap()
        .replace(
            "control: s3.cross-account-access",
            "control: s3.cross-acount-access",
        );
    let path = temp.path().join("exceptions.yaml");
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("cross-acount"))
        .unwrap()
        + 1;
    let (code, _, stderr) = run(&[
        "evaluate",
        "samples/snapshot",
        "--exceptions",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("exceptions.yaml:{line}:")),
        "{stderr}"
    );
    assert!(stderr.contains("exceptions[2].control"), "{stderr}");
}

#[test]
fn a_missing_file_or_a_bad_as_of_exits_2() {
    let (code, _, stderr) = run(&[
        "evaluate",
        "samples/snapshot",
        "--attestations",
        "samples/no-such-attestations.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("samples/no-such-attestations.yaml"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["evaluate", "samples/snapshot", "--as-of", "30/09/2026"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--as-of"), "{stderr}");
}
