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

/// A copy of `samples/snapshot` in `dir`, with `alter` applied to the JSON of one file.
fn sample_copy(dir: &Path, file: &str, alter: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/snapshot");
    let copy = dir.join("snapshot");
    for sub in ["", "buckets", "cloudtrail", "access-logs"] {
        std::fs::create_dir_all(copy.join(sub)).unwrap();
        for entry in std::fs::read_dir(sample.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, copy.join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    let path = copy.join(file);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    alter(&mut value);
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    copy
}

/// Every object key of `value`, at any depth, in lower case.
fn lower_case_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                lower_case_keys(&mut item);
                map.insert(key.to_lowercase(), item);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(lower_case_keys),
        _ => {}
    }
}

const FAX_ARCHIVE: &str = "buckets/riverside-legacy-fax-archive.json";

/// The sample's riverside-legacy-fax-archive fails s3.world-listable through its ACL (READ to
/// AllUsers). With the ACL's keys in lower case, serde would skip every member and read an ACL
/// without grants: a pass. The strict reader refuses the answer instead.
#[test]
fn an_acl_with_lower_case_keys_is_an_input_error_not_a_pass() {
    let temp = tempfile::tempdir().unwrap();
    let pristine = sample_copy(temp.path(), FAX_ARCHIVE, |_| {});
    let (code, stdout, stderr) =
        phi_audit(&["evaluate", pristine.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let listable = serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["control"] == "s3.world-listable"
                && f["subject"] == "s3://riverside-legacy-fax-archive"
        })
        .unwrap()["status"]
        .clone();
    assert_eq!(listable, "fail");

    let other = tempfile::tempdir().unwrap();
    let lowered = sample_copy(other.path(), FAX_ARCHIVE, |bucket| {
        lower_case_keys(&mut bucket["calls"]["GetBucketAcl"]["ok"])
    });
    let (code, stdout, stderr) = phi_audit(&["evaluate", lowered.to_str().unwrap()]);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("riverside-legacy-fax-archive.json: /calls/GetBucketAcl/ok/grants: differs from the known member `Grants` only by case"),
        "{stderr}"
    );

    // Only the grants' keys lower-cased: the pointer names the grant.
    let grants = tempfile::tempdir().unwrap();
    let lowered = sample_copy(grants.path(), FAX_ARCHIVE, |bucket| {
        for grant in bucket["calls"]["GetBucketAcl"]["ok"]["Grants"]
            .as_array_mut()
            .unwrap()
        {
            lower_case_keys(grant);
        }
    });
    let (code, _, stderr) = phi_audit(&["evaluate", lowered.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("/calls/GetBucketAcl/ok/Grants/0/grantee: differs from the known member `Grantee` only by case"),
        "{stderr}"
    );
}

#[test]
fn a_missing_member_aws_always_sends_is_an_input_error() {
    type Alter = fn(&mut serde_json::Value);
    let cases: [(&str, Alter, &str); 3] = [
        (
            FAX_ARCHIVE,
            |bucket| {
                bucket["calls"]["GetBucketAcl"]["ok"]["Grants"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("Permission");
            },
            "/calls/GetBucketAcl/ok/Grants/1/Permission: is missing; AWS always sends it in Grant",
        ),
        (
            "snapshot.json",
            |meta| {
                meta["account"]["GetPublicAccessBlock"]["ok"]["PublicAccessBlockConfiguration"]
                    .as_object_mut()
                    .unwrap()
                    .remove("RestrictPublicBuckets");
            },
            "snapshot.json: /account/GetPublicAccessBlock/ok/PublicAccessBlockConfiguration/RestrictPublicBuckets: is missing",
        ),
        (
            "cloudtrail/us-east-1.json",
            |region| {
                region["LookupEvents"]["ok"]["Events"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("EventTime");
            },
            "us-east-1.json: /LookupEvents/ok/Events/0/EventTime: is missing; AWS always sends it in Event",
        ),
    ];
    for (file, alter, expected) in cases {
        let temp = tempfile::tempdir().unwrap();
        let snapshot = sample_copy(temp.path(), file, alter);
        let (code, stdout, stderr) = phi_audit(&["evaluate", snapshot.to_str().unwrap()]);
        assert_eq!(code, 2, "{file}: stdout: {stdout}\nstderr: {stderr}");
        assert!(stderr.contains(expected), "{file}: {stderr}");
    }
}

/// AWS adds members over time: an unknown one is a warning on stderr and changes nothing else.
#[test]
fn an_unknown_member_is_a_warning_and_changes_no_verdict() {
    let evaluate = |dir: &Path| {
        phi_audit(&[
            "evaluate",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--generated-at",
            "2026-10-02T09:00:00Z",
        ])
    };
    let temp = tempfile::tempdir().unwrap();
    let pristine = sample_copy(temp.path(), FAX_ARCHIVE, |_| {});
    let (code, before, stderr) = evaluate(&pristine);
    assert!(
        !stderr.contains("warning: "),
        "the sample has no unknown members: {stderr}"
    );

    let other = tempfile::tempdir().unwrap();
    let extended = sample_copy(other.path(), FAX_ARCHIVE, |bucket| {
        bucket["calls"]["GetBucketAcl"]["ok"]["Grants"][0]["Grantee"]["Nickname"] =
            json!("front desk");
    });
    let (code_after, after, stderr) = evaluate(&extended);
    assert_eq!(code_after, code);
    assert!(
        stderr.contains("riverside-legacy-fax-archive.json: /calls/GetBucketAcl/ok/Grants/0/Grantee/Nickname: `Nickname` is not a member of Grantee that phi-audit knows; it was ignored"),
        "{stderr}"
    );
    // Same findings; only the snapshot digest (a file changed) differs.
    let findings =
        |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap()["findings"].clone();
    assert_eq!(findings(&after), findings(&before));
}
