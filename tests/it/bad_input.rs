//! Bad input gets a clear error naming the file, the place and what is wrong, and exit 2.

use crate::support::fixtures::*;
use crate::support::phi_audit;
use phi_audit::audit::control_ids;
use phi_audit::controls::Catalog;
use serde_json::json;
use std::path::{Path, PathBuf};

fn catalog_copy(dir: &Path) -> PathBuf {
    let controls = dir.join("controls");
    std::fs::create_dir_all(&controls).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/controls")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, controls.join(path.file_name().unwrap())).unwrap();
    }
    controls
}

/// Replaces the first occurrence of `from` in a catalog file, and loads the catalog.
fn catalog_error(file: &str, from: &str, to: &str) -> String {
    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    let path = controls.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    match Catalog::load_dir(&controls, &control_ids()) {
        Ok(_) => panic!("the altered catalog ({from:?} -> {to:?}) was accepted"),
        Err(err) => err.to_string(),
    }
}

fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("controls")
            .join(file),
    )
    .unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in file")
        + 1
}

#[test]
fn the_builtin_catalog_is_valid_and_complete() {
    let catalog = phi_audit::audit::builtin_catalog().expect("built-in catalog validates");
    // The evaluator's controls plus the administrative ones attest judges and the
    // organisation ones judged from an organisation's header.
    assert_eq!(
        catalog.controls.len(),
        phi_audit::evaluate::known_control_ids().len()
            + phi_audit::attest::ADMIN_CONTROLS.len()
            + phi_audit::audit::scope::ORG_CONTROLS.len()
    );
    let from_dir = Catalog::load_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/controls")),
        &control_ids(),
    )
    .unwrap();
    assert_eq!(from_dir.controls.len(), catalog.controls.len());
}

#[test]
fn catalog_errors_name_file_line_and_field() {
    let line = line_of("integrity.yaml", "severity: medium");
    let err = catalog_error("integrity.yaml", "severity: medium", "severity: meduim");
    assert!(err.contains("integrity.yaml"), "{err}");
    assert!(
        err.contains(&format!(":{line}:")),
        "expected line {line}: {err}"
    );
    assert!(
        err.contains("controls[0].severity") && err.contains("meduim"),
        "{err}"
    );

    let line = line_of(
        "access.yaml",
        "safeguards: [\"164.312(a)(1)\", \"164.312(d)\"]",
    );
    let err = catalog_error("access.yaml", "\"164.312(d)\"", "\"164.312(z)\"");
    assert!(
        err.contains(&format!("access.yaml:{line}:")) && err.contains("safeguards[1]"),
        "{err}"
    );

    let err = catalog_error(
        "audit.yaml",
        "policies: [\"Auditing Policy\"]",
        "policies: [\"Auditng Policy\"]",
    );
    assert!(
        err.contains("audit.yaml:") && err.contains("policies[0]") && err.contains("Auditng"),
        "{err}"
    );

    let err = catalog_error(
        "encryption.yaml",
        "id: s3.encryption-not-kms",
        "id: s3.encryption-not-kmss",
    );
    assert!(
        err.contains("encryption.yaml:")
            && err.contains(".id")
            && err.contains("s3.encryption-not-kmss"),
        "{err}"
    );

    let err = catalog_error("audit.yaml", "    severity: medium", "    severty: medium");
    assert!(
        err.contains("audit.yaml:") && err.contains("severty"),
        "{err}"
    );

    let err = catalog_error("audit.yaml", "controls:", "controls: [");
    assert!(err.contains("audit.yaml:"), "{err}");

    let err = catalog_error(
        "configuration.yaml",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",
        "http://example.com",
    );
    assert!(
        err.contains("configuration.yaml:") && err.contains("references[0].url"),
        "{err}"
    );
}

#[test]
fn a_control_defined_twice_or_not_at_all_is_an_error() {
    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    std::fs::remove_file(controls.join("audit.yaml")).unwrap();
    let err = Catalog::load_dir(&controls, &control_ids())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("s3.access-logging-disabled") && err.contains("no catalog file defines it"),
        "{err}"
    );

    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    std::fs::copy(
        controls.join("audit.yaml"),
        controls.join("audit-copy.yaml"),
    )
    .unwrap();
    let err = Catalog::load_dir(&controls, &control_ids())
        .unwrap_err()
        .to_string();
    assert!(err.contains("defined twice"), "{err}");
}

#[test]
fn a_bad_catalog_directory_exits_2_through_the_cli() {
    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    let path = controls.join("integrity.yaml");
    let text =
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen("severity: low", "severity: urgent", 1);
    std::fs::write(&path, text).unwrap();
    let snapshot = temp.path().join("snap");
    write_snapshot(&snapshot, bpa(ALL_BPA), &[bucket_with("b", &[])]);
    let (code, stdout, stderr) = phi_audit(&[
        "evaluate",
        snapshot.to_str().unwrap(),
        "--controls",
        controls.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("integrity.yaml:")
            && stderr.contains("severity")
            && stderr.contains("urgent"),
        "{stderr}"
    );
}

fn snapshot_error(alter: impl FnOnce(&Path)) -> String {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snap");
    write_snapshot(
        &snapshot,
        bpa(ALL_BPA),
        &[bucket_with("good", &[]), bucket_with("bad", &[])],
    );
    alter(&snapshot);
    let (code, stdout, stderr) = phi_audit(&["evaluate", snapshot.to_str().unwrap()]);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.is_empty(),
        "a failed run prints no findings: {stdout}"
    );
    stderr
}

/// The error for a snapshot whose bucket `bad` records `result` for `operation`.
fn bad_bucket_error(operation: &'static str, result: serde_json::Value) -> String {
    snapshot_error(|dir| {
        let bucket = bucket_with("bad", &[(operation, result)]);
        std::fs::write(
            dir.join("buckets/bad.json"),
            serde_json::to_vec(&bucket).unwrap(),
        )
        .unwrap();
    })
}

#[test]
fn malformed_snapshots_are_rejected_with_the_file_and_place() {
    let err = snapshot_error(|dir| {
        std::fs::write(
            dir.join("buckets/bad.json"),
            "{\n  \"name\": \"bad\",\n  \"calls\": {,\n}",
        )
        .unwrap();
    });
    assert!(
        err.contains("buckets/bad.json")
            && err.contains("not valid JSON")
            && err.contains("line 3"),
        "{err}"
    );

    let err = bad_bucket_error("GetBucketPolicy", policy("{\"Statement\": [oops]"));
    assert!(
        err.contains("buckets/bad.json")
            && err.contains("/calls/GetBucketPolicy/ok/Policy")
            && err.contains("not valid JSON"),
        "{err}"
    );

    let err = bad_bucket_error(
        "GetBucketPolicy",
        policy(r#"{"Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}"#),
    );
    assert!(
        err.contains("/calls/GetBucketPolicy/ok/Policy/Statement/0/Effect")
            && err.contains("Permit"),
        "{err}"
    );

    let err = bad_bucket_error(
        "GetBucketAcl",
        json!({"ok": {}, "error": {"code": "AccessDenied"}}),
    );
    assert!(
        err.contains("/calls/GetBucketAcl") && err.contains("exactly one"),
        "{err}"
    );

    let err = bad_bucket_error(
        "GetBucketAcl",
        ok(json!({"Grants": [{"Grantee": {"Type": "Group"}, "Permission": "READ_ALL"}]})),
    );
    assert!(
        err.contains("/calls/GetBucketAcl/ok") && err.contains("READ_ALL"),
        "{err}"
    );

    let err = snapshot_error(|dir| {
        let text = std::fs::read_to_string(dir.join("snapshot.json")).unwrap();
        std::fs::write(
            dir.join("snapshot.json"),
            text.replace("phi-audit-snapshot/1", "phi-audit-snapshot/9"),
        )
        .unwrap();
    });
    assert!(
        err.contains("snapshot.json") && err.contains("/format"),
        "{err}"
    );

    let err = snapshot_error(|dir| {
        std::fs::rename(
            dir.join("buckets/bad.json"),
            dir.join("buckets/renamed.json"),
        )
        .unwrap();
    });
    assert!(
        err.contains("renamed.json") && err.contains("/name"),
        "{err}"
    );

    let err = snapshot_error(|dir| std::fs::remove_file(dir.join("snapshot.json")).unwrap());
    assert!(err.contains("snapshot.json is missing"), "{err}");
}

#[test]
fn bad_arguments_exit_2() {
    let (code, _, stderr) = phi_audit(&["evaluate", "/nonexistent/snapshot"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/snapshot"), "{stderr}");
    let (code, _, _) = phi_audit(&["evaluate", ".", "--format", "xml"]);
    assert_eq!(code, 2);
    let temp = tempfile::tempdir().unwrap();
    write_snapshot(temp.path(), bpa(ALL_BPA), &[bucket_with("b", &[])]);
    let (code, _, stderr) = phi_audit(&[
        "evaluate",
        temp.path().to_str().unwrap(),
        "--generated-at",
        "yesterday",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--generated-at") && stderr.contains("yesterday"),
        "{stderr}"
    );
}
