//! `phi-audit evaluate` end to end through the binary: formats, exit codes, determinism.

use crate::support::fixtures::*;
use crate::support::phi_audit;
use serde_json::Value;

fn snapshot_with(buckets: &[Value]) -> tempfile::TempDir {
    // The account has no Block Public Access of its own, so bucket settings decide.
    let temp = tempfile::tempdir().unwrap();
    write_snapshot(
        temp.path(),
        not_configured("NoSuchPublicAccessBlockConfiguration"),
        buckets,
    );
    temp
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
fn json_output_follows_the_findings_contract() {
    let snap = snapshot_with(&[bucket_with("good", &[]), public_bucket()]);
    let dir = snap.path().to_str().unwrap();
    let (code, stdout, stderr) = phi_audit(&[
        "evaluate",
        dir,
        "--format",
        "json",
        "--generated-at",
        "2026-10-02T08:00:00+02:00",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["format"], "phi-audit-findings/1");
    assert_eq!(
        doc["generated_at"], "2026-10-02T06:00:00Z",
        "normalised to UTC"
    );
    assert_eq!(doc["snapshot"]["account_id"], ACCOUNT);
    assert_eq!(doc["snapshot"]["collected_at"], "2026-10-01T06:00:00Z");
    let findings = doc["findings"].as_array().unwrap();
    let bucket_controls = phi_audit::evaluate::bucket_control_ids().len();
    let key_controls = phi_audit::evaluate::key_control_ids().len();
    // The fixture has no iam/: the identity controls are not judged on it.
    let trail_controls = phi_audit::evaluate::known_control_ids().len()
        - bucket_controls
        - key_controls
        - phi_audit::evaluate::identity::IAM_CONTROLS.len();
    // Two buckets, one trail, two KMS keys (the good bucket's and the trail's).
    assert_eq!(
        findings.len(),
        2 * bucket_controls + trail_controls + 2 * key_controls
    );
    assert!(findings.iter().any(|f| f["subject"] == TRAIL_ARN
        && f["control"] == "cloudtrail.not-logging"
        && f["status"] == "pass"));
    let listable = findings
        .iter()
        .find(|f| {
            f["subject"] == "s3://public-site" && f["control"] == "s3.world-listable-anonymous"
        })
        .unwrap();
    assert_eq!(listable["status"], "fail");
    assert_eq!(listable["severity"], "high");
    assert_eq!(listable["safeguards"][0], "164.312(a)(1)");
    assert_eq!(listable["policies"][0], "System Access Policy");
    assert!(listable["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "buckets/public-site.json#/calls/GetBucketAcl"));
    assert_eq!(doc["summary"]["findings"], findings.len());
    // Two buckets, the trail and two KMS keys.
    assert_eq!(doc["summary"]["subjects"], 5);
    let fails = findings.iter().filter(|f| f["status"] == "fail").count();
    assert_eq!(doc["summary"]["by_status"]["fail"], fails);
}

#[test]
fn the_digest_can_be_recomputed_with_standard_tools() {
    let snap = snapshot_with(&[bucket_with("good", &[]), public_bucket()]);
    let dir = snap.path().to_str().unwrap();
    let (_, stdout, _) = phi_audit(&["evaluate", dir, "--format", "json"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg("find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1")
        .current_dir(snap.path())
        .output()
        .unwrap();
    let expected = String::from_utf8(shell.stdout).unwrap();
    assert_eq!(doc["snapshot"]["digest"].as_str().unwrap(), expected.trim());
}

#[test]
fn csv_has_one_row_per_finding() {
    let snap = snapshot_with(&[bucket_with("good", &[]), public_bucket()]);
    let (code, stdout, _) =
        phi_audit(&["evaluate", snap.path().to_str().unwrap(), "--format", "csv"]);
    assert_eq!(code, 0);
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        phi_audit::report::csv::HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let bucket_controls = phi_audit::evaluate::bucket_control_ids().len();
    let key_controls = phi_audit::evaluate::key_control_ids().len();
    // The fixture has no iam/: the identity controls are not judged on it.
    let trail_controls = phi_audit::evaluate::known_control_ids().len()
        - bucket_controls
        - key_controls
        - phi_audit::evaluate::identity::IAM_CONTROLS.len();
    // Two buckets, one trail, two KMS keys (the good bucket's and the trail's).
    assert_eq!(
        rows.len(),
        2 * bucket_controls + trail_controls + 2 * key_controls
    );
    assert!(stdout.contains("\r\n"), "RFC 4180 line endings");
    assert!(rows
        .iter()
        .any(|r| &r[0] == "s3://public-site" && &r[2] == "fail"));
}

#[test]
fn table_fits_100_columns_and_puts_failures_first() {
    let snap = snapshot_with(&[bucket_with("aaa-good", &[]), public_bucket()]);
    let (code, stdout, _) = phi_audit(&["evaluate", snap.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    for line in stdout.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    let public = stdout.find("s3://public-site").unwrap();
    let good = stdout.find("s3://aaa-good").unwrap();
    assert!(
        public < good,
        "the failing bucket comes first although it sorts later by name"
    );
    assert!(
        stdout.contains("FAIL     high     s3.world-listable-anonymous"),
        "{stdout}"
    );
}

#[test]
fn fail_on_sets_the_exit_code() {
    let failing = snapshot_with(&[bucket_with("good", &[]), public_bucket()]);
    let dir = failing.path().to_str().unwrap();
    // The public bucket fails high-severity controls, none critical (no WRITE grant).
    assert_eq!(phi_audit(&["evaluate", dir, "--fail-on", "critical"]).0, 0);
    assert_eq!(phi_audit(&["evaluate", dir, "--fail-on", "high"]).0, 1);
    assert_eq!(phi_audit(&["evaluate", dir, "--fail-on", "low"]).0, 1);
    assert_eq!(
        phi_audit(&["evaluate", dir]).0,
        0,
        "no threshold, no failure exit"
    );

    let clean = snapshot_with(&[bucket_with("good", &[])]);
    assert_eq!(
        phi_audit(&[
            "evaluate",
            clean.path().to_str().unwrap(),
            "--fail-on",
            "low"
        ])
        .0,
        0
    );

    // Unknown evidence trips the gate too: it must not slip through where a failure would not.
    let unknown = snapshot_with(&[bucket_with("locked", &[("GetBucketVersioning", denied())])]);
    assert_eq!(
        phi_audit(&[
            "evaluate",
            unknown.path().to_str().unwrap(),
            "--fail-on",
            "medium"
        ])
        .0,
        1
    );
    assert_eq!(
        phi_audit(&[
            "evaluate",
            unknown.path().to_str().unwrap(),
            "--fail-on",
            "critical"
        ])
        .0,
        0
    );
}

#[test]
fn output_is_deterministic() {
    let snap = snapshot_with(&[public_bucket(), bucket_with("good", &[])]);
    let dir = snap.path().to_str().unwrap();
    for format in ["json", "csv", "table"] {
        let args = [
            "evaluate",
            dir,
            "--format",
            format,
            "--generated-at",
            "2026-10-02T00:00:00Z",
        ];
        assert_eq!(phi_audit(&args).1, phi_audit(&args).1, "{format}");
    }
}

#[test]
fn out_of_scope_buckets_are_not_evaluated() {
    let mut sandbox = bucket_with(
        "sandbox-x",
        &[("GetBucketAcl", acl(&[("AllUsers", "FULL_CONTROL")]))],
    );
    sandbox["in_scope"] = Value::Bool(false);
    let snap = snapshot_with(&[sandbox, bucket_with("good", &[])]);
    let (_, stdout, _) = phi_audit(&[
        "evaluate",
        snap.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let buckets: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().starts_with("s3://"))
        .collect();
    assert!(!buckets.is_empty());
    assert!(buckets.iter().all(|f| f["subject"] == "s3://good"));
}

#[test]
fn the_change_timeline_survives_attestations_and_exceptions() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
    let (code, stdout, stderr) = phi_audit(&[
        "evaluate",
        &format!("{sample}/snapshot"),
        "--format",
        "json",
        "--attestations",
        &format!("{sample}/attestations.yaml"),
        "--exceptions",
        &format!("{sample}/exceptions.yaml"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let changes = doc["changes"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 14);
    assert!(changes.iter().any(|c| c["flags"][0] == "root"));
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["status"] == "excepted"));
}

#[test]
fn findings_json_reads_back_into_the_findings_contract() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
    let (code, stdout, stderr) = phi_audit(&[
        "evaluate",
        &format!("{sample}/snapshot"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: phi_audit::findings::FindingsReport =
        serde_json::from_str(&stdout).expect("findings.json is readable as FindingsReport");
    assert!(report.changes.changes.iter().any(|c| c.flags.is_empty()));
    assert_eq!(
        serde_json::to_string_pretty(&report).unwrap() + "\n",
        stdout,
        "writing what was read gives the same document"
    );
}
