//! `phi-audit diff` on two bundles built from the sample snapshot and a copy changed in known
//! ways: every change is listed, nothing else; a tampered bundle is refused; HTML is escaped.

mod bundle_support;

#[allow(unused_imports)]
use bundle_support::{phi_audit, rewrite};

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE_SID: &str = "<script>alert(\"sid\")</script>";
const NEW_BUCKET: &str = "riverside-phi-new-intake";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn edit_bucket(snapshot: &Path, bucket: &str, edit: impl FnOnce(&mut Value)) {
    let path = snapshot.join("buckets").join(format!("{bucket}.json"));
    let mut value = read_json(&path);
    edit(&mut value);
    write_json(&path, &value);
}

/// The sample snapshot, and a copy in which: riverside-partner-referrals' ACL grants AllUsers
/// READ; riverside-research-deid's versioning is Enabled; riverside-legacy-scans-2015 is gone;
/// a new bucket (a copy of riverside-phi-lab-results) appears; riverside-phi-claims-837's policy
/// gets a hostile Sid; riverside-phi-datalake-curated's policy is only re-formatted (no change).
fn snapshots(dir: &Path) -> (PathBuf, PathBuf) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/snapshot");
    let old = dir.join("old-snapshot");
    let new = dir.join("new-snapshot");
    copy_dir(&sample, &old);
    copy_dir(&sample, &new);

    let meta_path = new.join("snapshot.json");
    let mut meta = read_json(&meta_path);
    meta["collected_at"] = json!("2026-10-08T06:00:00Z");
    write_json(&meta_path, &meta);

    edit_bucket(&new, "riverside-partner-referrals", |b| {
        b["calls"]["GetBucketAcl"]["ok"]["Grants"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}));
    });
    edit_bucket(&new, "riverside-research-deid", |b| {
        b["calls"]["GetBucketVersioning"] = json!({"ok": {"Status": "Enabled"}});
    });
    std::fs::remove_file(new.join("buckets/riverside-legacy-scans-2015.json")).unwrap();
    let mut added = read_json(&new.join("buckets/riverside-phi-lab-results.json"));
    added["name"] = json!(NEW_BUCKET);
    write_json(
        &new.join("buckets").join(format!("{NEW_BUCKET}.json")),
        &added,
    );
    edit_bucket(&new, "riverside-phi-claims-837", |b| {
        let policy = b["calls"]["GetBucketPolicy"]["ok"]["Policy"]
            .as_str()
            .unwrap()
            .to_string();
        let mut document: Value = serde_json::from_str(&policy).unwrap();
        document["Statement"][0]["Sid"] = json!(HOSTILE_SID);
        b["calls"]["GetBucketPolicy"]["ok"]["Policy"] = json!(document.to_string());
    });
    edit_bucket(&new, "riverside-phi-datalake-curated", |b| {
        let policy = b["calls"]["GetBucketPolicy"]["ok"]["Policy"]
            .as_str()
            .unwrap()
            .to_string();
        let document: Value = serde_json::from_str(&policy).unwrap();
        b["calls"]["GetBucketPolicy"]["ok"]["Policy"] =
            json!(serde_json::to_string_pretty(&document).unwrap());
    });
    (old, new)
}

/// Builds old.zip and new.zip in `dir`; NEW judges the sample exceptions after riverside-www's
/// two exceptions expired (2027-01-31).
fn bundles(dir: &Path) {
    let (old, new) = snapshots(dir);
    let exceptions = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/exceptions.yaml");
    for (snapshot, out, as_of) in [
        (&old, "old.zip", "2026-09-30"),
        (&new, "new.zip", "2027-02-01"),
    ] {
        let (code, stdout, stderr) = phi_audit(&[
            "report",
            snapshot.to_str().unwrap(),
            "--out",
            dir.join(out).to_str().unwrap(),
            "--generated-at",
            "2026-10-08T09:00:00Z",
            "--exceptions",
            exceptions.to_str().unwrap(),
            "--as-of",
            as_of,
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
}

/// Runs `phi-audit diff` in `dir` (so the bundle paths print as given).
fn diff(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const EXPECTED_TABLE: &str = "";

#[test]
fn the_table_lists_every_known_change_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    let (code, out, err) = diff(dir.path(), &["old.zip", "new.zip"]);
    assert_eq!(code, 0, "{out}{err}");
    println!("{out}");
    assert_eq!(out, EXPECTED_TABLE);
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
}
