//! `phi-audit diff` on two bundles built from the sample snapshot and a copy changed in known
//! ways: every change is listed, nothing else; a tampered bundle is refused; HTML is escaped.

use crate::support::bundle::{self as bundle_support, rewrite};
use crate::support::phi_audit;

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

const EXPECTED_TABLE: &str = r#"phi-audit diff
old: old.zip
  account 111122223333, collected 2026-10-01T06:00:00Z, generated 2026-10-08T09:00:00Z
  snapshot digest 32ce6ed543ef1a2a0942f56f09161e67cf74851229577f571825d27ca9c6a7c7
new: new.zip
  account 111122223333, collected 2026-10-08T06:00:00Z, generated 2026-10-08T09:00:00Z
  snapshot digest 3d7db91af9783757af6eabdf23e145b35cfc1cdae80d3cb80169ae781787f983

New failures (9)
  [high] s3://riverside-partner-referrals s3.world-listable-anonymous (pass -> fail)
      Anyone on the internet can list the objects: the bucket ACL grants READ to AllUsers.
  [medium] s3://riverside-phi-new-intake s3.access-log-delivery-missing (new subject, fail)
      The target bucket riverside-s3-access-logs neither allows logging.s3.amazonaws.com to write
      s3://riverside-s3-access-logs/riverside-phi-lab-results/ for this bucket in its policy nor
      grants LogDelivery WRITE in an enforced ACL, so logs cannot be delivered.
  [high] s3://riverside-phi-new-intake s3.data-events-not-logged (new subject, fail)
      No logging trail records this bucket's object reads or writes (riverside-legacy-trail selects
      reads and writes but is not logging).
  [low] s3://riverside-phi-new-intake s3.lifecycle-missing (new subject, fail)
      No lifecycle configuration governs retention of objects or old versions.
  [low] s3://riverside-phi-new-intake s3.mfa-delete-disabled (new subject, fail)
      MFA delete has never been configured: a single stolen key can permanently delete object
      versions.
  [low] s3://riverside-phi-new-intake s3.object-lock-disabled (new subject, fail)
      Object Lock is not enabled, so objects can be deleted or overwritten before their retention
      ends.
  [medium] s3://riverside-phi-new-intake s3.public-access-block-incomplete (new subject, fail)
      Block Public Access is incomplete: RestrictPublicBuckets off at both bucket and account level.
  [low] s3://riverside-phi-new-intake s3.replication-disabled (new subject, fail)
      No replication is configured: there is no second copy of the data.
  [high] s3://riverside-phi-new-intake s3.tls-not-enforced (new subject, fail)
      Plain-HTTP requests are not fully denied: no statement denies requests when
      aws:SecureTransport is false.

Fixed failures (1)
  [medium] s3://riverside-research-deid s3.versioning-disabled (fail -> pass)
      Versioning is Enabled.

Newly unassessable (0)
  none

Exceptions expired (2)
  [medium] s3://riverside-www s3.public-access-block-incomplete (excepted -> fail)
      Block Public Access is incomplete: IgnorePublicAcls, RestrictPublicBuckets off at both bucket
      and account level. An exception approved by J. Smith (Privacy Officer) on 2026-08-01 expired
      on 2027-01-31.
  [critical] s3://riverside-www s3.world-readable-anonymous (excepted -> fail)
      Anyone on the internet can read objects: the bucket policy's statement "PublicReadGetObject"
      allows s3:GetObject to everyone. An exception approved by J. Smith (Privacy Officer) on
      2026-08-01 expired on 2027-01-31.

New buckets (1)
  riverside-phi-new-intake  (us-east-1, in scope)

Removed buckets (1)
  riverside-legacy-scans-2015  (us-east-1, in scope)

Changed configurations (3)
  riverside-partner-referrals GetBucketAcl
    /ok/Grants added: {"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllU…
  riverside-phi-claims-837 GetBucketPolicy
    /ok/Policy/Statement/0/Sid: "DenyNonTlsObjectAccess" -> "<script>alert(\"sid\")</script>"
  riverside-research-deid GetBucketVersioning
    /ok/Status: absent -> "Enabled"

Access to ePHI gained or lost (2)
  removed s3://riverside-legacy-scans-2015 user/it-admin: read: yes -> no, write: yes -> no,
    manage: yes -> no
  added s3://riverside-phi-new-intake user/it-admin: read: no -> yes, write: no -> yes, manage: no
    -> yes
  not compared: s3://riverside-finance-restricted: in both bundles, GetBucketPolicy failed with
  AccessDenied (Access Denied): grants the bucket policy makes are not shown: its changes may come
  from that policy

Summary: new failures 9, fixed failures 1, newly unassessable 0, exceptions expired 2, new buckets
1, removed buckets 1, changed configurations 3, access changes 2
"#;

#[test]
fn the_table_lists_every_known_change_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    let (code, out, err) = diff(dir.path(), &["old.zip", "new.zip"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, EXPECTED_TABLE);
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
}

#[test]
fn the_json_has_the_documented_shape_and_the_same_bytes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    let (code, out, err) = diff(dir.path(), &["old.zip", "new.zip", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, again, _) = diff(dir.path(), &["old.zip", "new.zip", "--format", "json"]);
    assert_eq!(out, again);
    let value: Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format",
            "old",
            "new",
            "same_account",
            "new_failures",
            "fixed_failures",
            "newly_unassessable",
            "expired_exceptions",
            "new_buckets",
            "removed_buckets",
            "changed_configurations",
            "access_changes"
        ]
    );
    assert_eq!(value["format"], "phi-audit-diff/1");
    assert_eq!(value["same_account"], true);
    assert_eq!(value["old"]["bundle"], "old.zip");
    assert_eq!(value["old"]["account_id"], "111122223333");
    assert_eq!(value["old"]["collected_at"], "2026-10-01T06:00:00Z");
    assert_eq!(value["new"]["collected_at"], "2026-10-08T06:00:00Z");
    assert_eq!(value["new"]["generated_at"], "2026-10-08T09:00:00Z");
    assert_eq!(value["new_failures"].as_array().unwrap().len(), 9);
    assert_eq!(
        value["new_failures"][0],
        json!({
            "subject": "s3://riverside-partner-referrals",
            "control": "s3.world-listable-anonymous",
            "severity": "high",
            "before": "pass",
            "after": "fail",
            "reason": "Anyone on the internet can list the objects: the bucket ACL grants READ to AllUsers."
        })
    );
    assert_eq!(value["new_failures"][1]["before"], Value::Null);
    assert_eq!(
        value["fixed_failures"],
        json!([{
            "subject": "s3://riverside-research-deid",
            "control": "s3.versioning-disabled",
            "severity": "medium",
            "before": "fail",
            "after": "pass",
            "reason": "Versioning is Enabled."
        }])
    );
    assert_eq!(value["newly_unassessable"], json!([]));
    let expired: Vec<(&str, &str)> = value["expired_exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap(),
                c["control"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        expired,
        [
            ("s3://riverside-www", "s3.public-access-block-incomplete"),
            ("s3://riverside-www", "s3.world-readable-anonymous")
        ]
    );
    assert_eq!(
        value["new_buckets"],
        json!([{"name": NEW_BUCKET, "region": "us-east-1", "in_scope": true}])
    );
    assert_eq!(
        value["removed_buckets"],
        json!([{"name": "riverside-legacy-scans-2015", "region": "us-east-1", "in_scope": true}])
    );
    let changed = value["changed_configurations"].as_array().unwrap();
    let which: Vec<(&str, &str)> = changed
        .iter()
        .map(|c| {
            (
                c["bucket"].as_str().unwrap(),
                c["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        which,
        [
            ("riverside-partner-referrals", "GetBucketAcl"),
            ("riverside-phi-claims-837", "GetBucketPolicy"),
            ("riverside-research-deid", "GetBucketVersioning")
        ]
    );
    // In full, the policy parsed (not its string), and the whole ACL.
    assert_eq!(
        changed[1]["after"]["ok"]["Policy"]["Statement"][0]["Sid"],
        HOSTILE_SID
    );
    assert_eq!(
        changed[0]["after"]["ok"]["Grants"]
            .as_array()
            .unwrap()
            .len(),
        changed[0]["before"]["ok"]["Grants"]
            .as_array()
            .unwrap()
            .len()
            + 1
    );
    assert_eq!(changed[2]["before"], json!({"ok": {}}));
    assert_eq!(changed[2]["after"], json!({"ok": {"Status": "Enabled"}}));
}

#[test]
fn the_html_is_self_contained_and_escapes_what_came_from_aws() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    let (code, html, err) = diff(dir.path(), &["old.zip", "new.zip", "--format", "html"]);
    assert_eq!(code, 0, "{html}{err}");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(!html.contains("<script"), "the hostile Sid is escaped");
    assert!(html.contains("&lt;script&gt;alert("), "{html}");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    for text in [
        "New failures (9)",
        "Fixed failures (1)",
        "Exceptions expired (2)",
        "riverside-legacy-scans-2015",
        "GetBucketVersioning",
    ] {
        assert!(html.contains(text), "{text}");
    }
    let (_, again, _) = diff(dir.path(), &["old.zip", "new.zip", "--format", "html"]);
    assert_eq!(html, again);
}

#[test]
fn a_tampered_bundle_is_refused_with_its_verify_listing() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    rewrite(
        &dir.path().join("new.zip"),
        &dir.path().join("tampered.zip"),
        |entries| {
            let e = entries
                .iter_mut()
                .find(|e| e.name == "evidence/buckets/riverside-www.json")
                .unwrap();
            let last = e.data.len() - 2;
            e.data[last] ^= 0x01;
        },
    );
    let (code, out, err) = diff(dir.path(), &["old.zip", "tampered.zip"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("tampered.zip: refusing to compare a bundle that does not verify\n"),
        "{out}"
    );
    assert!(
        out.contains("CHANGED  evidence/buckets/riverside-www.json"),
        "{out}"
    );
    assert!(out.contains("TAMPERED"), "{out}");
    assert!(!out.contains("New failures"), "{out}");
}

#[test]
fn an_unreadable_bundle_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    std::fs::write(dir.path().join("junk.zip"), b"not a zip").unwrap();
    let (code, out, err) = diff(dir.path(), &["old.zip", "junk.zip"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("junk.zip"), "{err}");
    let (code, _, err) = diff(dir.path(), &["old.zip", "missing.zip"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.zip"), "{err}");
    let (code, _, _) = diff(dir.path(), &["old.zip", "new.zip", "--format", "pdf"]);
    assert_eq!(code, 2);
}

#[test]
fn a_bundle_compared_with_itself_shows_no_change() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    let (code, out, err) = diff(dir.path(), &["new.zip", "new.zip"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with(
        "Summary: new failures 0, fixed failures 0, newly unassessable 0, exceptions expired 0, new buckets\n\
         0, removed buckets 0, changed configurations 0, access changes 0\n"
    ), "{out}");
}

#[test]
fn bundles_of_different_accounts_are_compared_with_a_clear_warning() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/snapshot");
    let other = dir.path().join("other-snapshot");
    copy_dir(&sample, &other);
    let meta_path = other.join("snapshot.json");
    let mut meta = read_json(&meta_path);
    meta["account_id"] = json!("444455556666");
    write_json(&meta_path, &meta);
    for (snapshot, out) in [(&sample, "a.zip"), (&other, "b.zip")] {
        let (code, stdout, stderr) = phi_audit(&[
            "report",
            snapshot.to_str().unwrap(),
            "--out",
            dir.path().join(out).to_str().unwrap(),
            "--generated-at",
            "2026-10-08T09:00:00Z",
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let (code, out, err) = diff(dir.path(), &["a.zip", "b.zip"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "WARNING: the bundles are of different accounts (111122223333 and 444455556666)"
        ),
        "{out}"
    );
    assert!(
        err.contains(
            "warning: the bundles are of different accounts (111122223333 and 444455556666)"
        ),
        "{err}"
    );
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    let (_, json_out, _) = diff(dir.path(), &["a.zip", "b.zip", "--format", "json"]);
    let value: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(value["same_account"], false);
}

// ---------------------------------------------------------------------------------------------
// `report --previous OLD.zip`: the same comparison, embedded in the bundle being written.

/// Runs the phi-audit binary in `dir`, so the paths given print (and are recorded) as given.
fn phi_audit_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
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

/// `report new-snapshot --previous PREVIOUS --out OUT` in `dir`, judged as [`bundles`] judges
/// new.zip.
fn report_with_previous(dir: &Path, previous: &str, out: &str) -> (i32, String, String) {
    let exceptions = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/exceptions.yaml");
    phi_audit_in(
        dir,
        &[
            "report",
            "new-snapshot",
            "--out",
            out,
            "--generated-at",
            "2026-10-08T09:00:00Z",
            "--exceptions",
            exceptions.to_str().unwrap(),
            "--as-of",
            "2027-02-01",
            "--previous",
            previous,
        ],
    )
}

/// old.zip as [`bundles`] makes it, and new.zip made with `--previous old.zip`.
fn bundles_with_previous(dir: &Path) {
    bundles(dir);
    std::fs::remove_file(dir.join("new.zip")).unwrap();
    let (code, out, err) = report_with_previous(dir, "old.zip", "new.zip");
    assert_eq!(code, 0, "{out}{err}");
}

fn entry_text(bundle: &Path, name: &str) -> String {
    String::from_utf8(bundle_support::entry(bundle, name)).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The text of `<section … id="ID">` of an HTML page, as a reader sees it: tags removed,
/// entities decoded, table cells separated by " | ", one non-empty line per line. The
/// `<details>` (both answers in full) are left out.
fn section_text(html: &str, id: &str) -> String {
    let open = format!("<section class=\"page\" id=\"{id}\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no {open}"));
    let end = start + html[start..].find("</section>").unwrap();
    let mut fragment = html[start..end].to_string();
    while let Some(at) = fragment.find("<details>") {
        let close = at + fragment[at..].find("</details>").unwrap() + "</details>".len();
        fragment.replace_range(at..close, "");
    }
    let fragment = fragment
        .replace("</td>", " | ")
        .replace("</th>", " | ")
        .replace("</dt>", ": ")
        .replace("</tr>", "\n")
        .replace("</h3>", "\n");
    let mut text = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode(&text)
        .lines()
        .map(|l| l.trim().trim_end_matches('|').trim_end())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// HTML text with the entities Tera's escaping writes decoded.
fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

#[test]
fn report_previous_embeds_exactly_what_diff_prints() {
    let dir = tempfile::tempdir().unwrap();
    bundles_with_previous(dir.path());
    let new = dir.path().join("new.zip");
    let embedded = entry_text(&new, "changes-since-previous.json");
    let (code, printed, err) = diff(dir.path(), &["old.zip", "new.zip", "--format", "json"]);
    assert_eq!(code, 0, "{printed}{err}");
    assert_eq!(embedded, printed);
    // And it is the diff the table test expects, not an empty one.
    let value: Value = serde_json::from_str(&embedded).unwrap();
    assert_eq!(value["new_failures"].as_array().unwrap().len(), 9);
    assert_eq!(value["old"]["bundle"], "old.zip");
    assert_eq!(value["new"]["bundle"], "new.zip");

    // Listed in the manifest, and the bundle verifies.
    let manifest = entry_text(&new, "MANIFEST.sha256");
    assert!(
        manifest.contains(&format!(
            "{}  changes-since-previous.json\n",
            sha256_hex(embedded.as_bytes())
        )),
        "{manifest}"
    );
    let (code, out, _) = phi_audit_in(dir.path(), &["verify", "new.zip"]);
    assert_eq!(code, 0, "{out}");

    // README names the previous bundle and its manifest's SHA-256.
    let old_manifest = bundle_support::entry(&dir.path().join("old.zip"), "MANIFEST.sha256");
    let readme = entry_text(&new, "README.txt");
    for needle in [
        "changes-since-previous.json\n".to_string(),
        "Previous bundle:         old.zip\n".to_string(),
        "Its report generated:    2026-10-08T09:00:00Z\n".to_string(),
        "Its evidence collected:  2026-10-01T06:00:00Z\n".to_string(),
        format!(
            "SHA-256 of its MANIFEST.sha256:\n    {}\n",
            sha256_hex(&old_manifest)
        ),
        "    phi-audit diff old.zip new.zip --format json\n".to_string(),
    ] {
        assert!(
            readme.contains(&needle),
            "README lacks {needle:?}:\n{readme}"
        );
    }

    // A bundle made without --previous has none of it.
    let old = dir.path().join("old.zip");
    assert!(!bundle_support::read_entries(&old)
        .iter()
        .any(|(name, _)| name == "changes-since-previous.json"));
    assert!(!entry_text(&old, "README.txt").contains("previous"));
    assert!(!entry_text(&old, "report.html").contains("Changes since last review"));
}

const EXPECTED_HTML_SECTION: &str = r#"Changes since last review
Previous bundle: old.zip
Its report generated (UTC): 2026-10-08T09:00:00Z
Its evidence collected (UTC): 2026-10-01T06:00:00Z
Its snapshot digest: 32ce6ed543ef1a2a0942f56f09161e67cf74851229577f571825d27ca9c6a7c7
Its MANIFEST.sha256 (SHA-256): {OLD_MANIFEST_SHA256}
New failures | Fixed failures | Newly unassessable | Exceptions expired | New buckets | Removed buckets | Changed configurations | Access to ePHI gained or lost
9 | 1 | 0 | 2 | 1 | 1 | 3 | 2
New failures (9)
Subject | Control | Severity | Change | Reason (this review)
s3://riverside-partner-referrals | s3.world-listable-anonymous | high | pass -> fail | Anyone on the internet can list the objects: the bucket ACL grants READ to AllUsers.
s3://riverside-phi-new-intake | s3.access-log-delivery-missing | medium | new subject -> fail | The target bucket riverside-s3-access-logs neither allows logging.s3.amazonaws.com to write s3://riverside-s3-access-logs/riverside-phi-lab-results/ for this bucket in its policy nor grants LogDelivery WRITE in an enforced ACL, so logs cannot be delivered.
s3://riverside-phi-new-intake | s3.data-events-not-logged | high | new subject -> fail | No logging trail records this bucket's object reads or writes (riverside-legacy-trail selects reads and writes but is not logging).
s3://riverside-phi-new-intake | s3.lifecycle-missing | low | new subject -> fail | No lifecycle configuration governs retention of objects or old versions.
s3://riverside-phi-new-intake | s3.mfa-delete-disabled | low | new subject -> fail | MFA delete has never been configured: a single stolen key can permanently delete object versions.
s3://riverside-phi-new-intake | s3.object-lock-disabled | low | new subject -> fail | Object Lock is not enabled, so objects can be deleted or overwritten before their retention ends.
s3://riverside-phi-new-intake | s3.public-access-block-incomplete | medium | new subject -> fail | Block Public Access is incomplete: RestrictPublicBuckets off at both bucket and account level.
s3://riverside-phi-new-intake | s3.replication-disabled | low | new subject -> fail | No replication is configured: there is no second copy of the data.
s3://riverside-phi-new-intake | s3.tls-not-enforced | high | new subject -> fail | Plain-HTTP requests are not fully denied: no statement denies requests when aws:SecureTransport is false.
Fixed failures (1)
Subject | Control | Severity | Change | Reason (this review)
s3://riverside-research-deid | s3.versioning-disabled | medium | fail -> pass | Versioning is Enabled.
Newly unassessable (0)
None.
Exceptions expired (2)
Subject | Control | Severity | Change | Reason (this review)
s3://riverside-www | s3.public-access-block-incomplete | medium | excepted -> fail | Block Public Access is incomplete: IgnorePublicAcls, RestrictPublicBuckets off at both bucket and account level. An exception approved by J. Smith (Privacy Officer) on 2026-08-01 expired on 2027-01-31.
s3://riverside-www | s3.world-readable-anonymous | critical | excepted -> fail | Anyone on the internet can read objects: the bucket policy's statement "PublicReadGetObject" allows s3:GetObject to everyone. An exception approved by J. Smith (Privacy Officer) on 2026-08-01 expired on 2027-01-31.
New buckets (1)
Bucket | Region | Scope
riverside-phi-new-intake | us-east-1 | in scope
Removed buckets (1)
Bucket | Region | Scope
riverside-legacy-scans-2015 | us-east-1 | in scope
Changed configurations (3)
Bucket | API call | What changed (before -> after)
riverside-partner-referrals | GetBucketAcl | /ok/Grants added: {"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}
riverside-phi-claims-837 | GetBucketPolicy | /ok/Policy/Statement/0/Sid: "DenyNonTlsObjectAccess" -> "<script>alert(\"sid\")</script>"
riverside-research-deid | GetBucketVersioning | /ok/Status: absent -> "Enabled"
Access to ePHI gained or lost (2)
Change | Bucket | Principal | Gained | Lost | Through (this review)
removed | s3://riverside-legacy-scans-2015 | arn:aws:iam::111122223333:user/it-admin (user) |  | read: yes -> no; write: yes -> no; manage: yes -> no | AdministratorAccess, statement 0
added | s3://riverside-phi-new-intake | arn:aws:iam::111122223333:user/it-admin (user) | read: no -> yes; write: no -> yes; manage: no -> yes |  | AdministratorAccess, statement 0
Not compared: s3://riverside-finance-restricted: in both bundles, GetBucketPolicy failed with AccessDenied (Access Denied): grants the bucket policy makes are not shown: its changes may come from that policy.
The previous bundle was verified intact (every file against its MANIFEST.sha256) before the comparison. Findings are compared by subject and control; API answers as parsed JSON, bucket policies as parsed documents. The full comparison, with every changed answer before and after, is changes-since-previous.json in this bundle (phi-audit diff old.zip new.zip --format json gives the same)."#;

#[test]
fn report_html_has_the_changes_section_right_after_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    bundles_with_previous(dir.path());
    let new = dir.path().join("new.zip");
    let html = entry_text(&new, "report.html");
    let old_manifest = bundle_support::entry(&dir.path().join("old.zip"), "MANIFEST.sha256");
    let expected =
        EXPECTED_HTML_SECTION.replace("{OLD_MANIFEST_SHA256}", &sha256_hex(&old_manifest));
    let text = section_text(&html, "changes-since-previous");
    assert_eq!(text, expected, "\n{text}");
    // Right after the summary, and in the contents.
    let summary = html
        .find("<section class=\"page\" id=\"summary\">")
        .unwrap();
    let changes = html.find("id=\"changes-since-previous\"").unwrap();
    let first_safeguard = html
        .find("<section class=\"page\" id=\"safeguard-")
        .unwrap();
    assert!(summary < changes && changes < first_safeguard);
    assert!(
        html.contains("<li><a href=\"#changes-since-previous\">Changes since last review</a></li>")
    );
    // What came from AWS is escaped; the full answers are there too.
    // The one script is the page's own filter script; the Sid is text.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "the hostile Sid is escaped"
    );
    let start = html.find("id=\"changes-since-previous\"").unwrap();
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    let details: Vec<&str> = section.split("<details>").skip(1).collect();
    assert_eq!(details.len(), 3, "one per changed configuration");
    let policy = decode(details[1]);
    assert!(
        policy.contains("\"Sid\": \"DenyNonTlsObjectAccess\"")
            && policy.contains("\"Sid\": \"<script>alert(\\\"sid\\\")</script>\""),
        "the policy before and after, in full: {policy}"
    );
}

fn pdftotext_layout(pdf: &Path) -> String {
    let tool = bundle_support::require_tool("pdftotext", "poppler-utils");
    let output = Command::new(tool)
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

const EXPECTED_PDF_SECTION: &str = r#"Changes since last review
Previous bundle old.zip
Its report generated (UTC) 2026-10-08T09:00:00Z
Its evidence collected (UTC) 2026-10-01T06:00:00Z
Its snapshot digest 32ce6ed543ef1a2a0942f56f09161e67cf74851229577f571825d27ca9c6a7c7
Its MANIFEST.sha256 (SHA-256) {OLD_MANIFEST_SHA256}
New failures Fixed failures Newly Exceptions New buckets Removed Changed Access to
unassessable expired buckets configurations ePHI gained
or lost
9 1 0 2 1 1 3 2
New failures (9)
Subject Control Severity Change Reason (this review)
s3://riverside-partner- s3.world-listable-anonymous high pass -> fail Anyone on the internet can list the
referrals objects: the bucket ACL grants READ to
AllUsers.
s3://riverside-phi-new-intake s3.access-log-delivery-missing medium new subject The target bucket
-> fail riverside-s3-access-logs neither allows
logging.s3.amazonaws.com to write
s3://riverside-s3-access-logs/
riverside-phi-lab-results/ for this bucket
in its policy nor grants LogDelivery WRITE
in an enforced ACL, so logs cannot be
delivered.
s3://riverside-phi-new-intake s3.data-events-not-logged high new subject No logging trail records this bucket's
-> fail object reads or writes
(riverside-legacy-trail selects reads and
writes but is not logging).
s3://riverside-phi-new-intake s3.lifecycle-missing low new subject No lifecycle configuration governs
-> fail retention of objects or old versions.
s3://riverside-phi-new-intake s3.mfa-delete-disabled low new subject MFA delete has never been configured: a
-> fail single stolen key can permanently delete
object versions.
s3://riverside-phi-new-intake s3.object-lock-disabled low new subject Object Lock is not enabled, so objects
-> fail can be deleted or overwritten before
their retention ends.
s3://riverside-phi-new-intake s3.public-access-block- medium new subject Block Public Access is incomplete:
incomplete -> fail RestrictPublicBuckets off at both bucket
and account level.
s3://riverside-phi-new-intake s3.replication-disabled low new subject No replication is configured: there is no
-> fail second copy of the data.
s3://riverside-phi-new-intake s3.tls-not-enforced high new subject Plain-HTTP requests are not fully denied:
-> fail no statement denies requests when
aws:SecureTransport is false.
Fixed failures (1)
Subject Control Severity Change Reason (this review)
s3://riverside-research-deid s3.versioning-disabled medium fail -> pass Versioning is Enabled.
Newly unassessable (0)
None.
Exceptions expired (2)
Subject Control Severity Change Reason (this review)
s3://riverside-www s3.public-access-block- medium excepted -> Block Public Access is incomplete:
incomplete fail IgnorePublicAcls, RestrictPublicBuckets off
at both bucket and account level. An
exception approved by J. Smith (Privacy
Officer) on 2026-08-01 expired on
2027-01-31.
s3://riverside-www s3.world-readable-anonymous critical excepted -> Anyone on the internet can read objects:
fail the bucket policy's statement
"PublicReadGetObject" allows
s3:GetObject to everyone. An exception
approved by J. Smith (Privacy Officer) on
2026-08-01 expired on 2027-01-31.
New buckets (1)
Bucket Region Scope
riverside-phi-new-intake us-east-1 in scope
Removed buckets (1)
Bucket Region Scope
riverside-legacy-scans-2015 us-east-1 in scope
Changed configurations (3)
Bucket API call What changed (before -> after)
riverside-partner-referrals GetBucketAcl /ok/Grants added:
{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/
AllUsers"},"Permission":"READ"}
riverside-phi-claims-837 GetBucketPolicy /ok/Policy/Statement/0/Sid: "DenyNonTlsObjectAccess" ->
"<script>alert(\"sid\")</script>"
riverside-research-deid GetBucketVersioning /ok/Status: absent -> "Enabled"
Access to ePHI gained or lost (2)
Change Bucket Principal Gained Lost Through (this
review)
removed s3://riverside-legacy-scans- arn:aws:iam::111122223333: read: yes -> AdministratorAccess,
2015 user/it-admin (user) no; write: yes statement 0
-> no; manage:
yes -> no
added s3://riverside-phi-new-intake arn:aws:iam::111122223333: read: no -> AdministratorAccess,
user/it-admin (user) yes; write: no statement 0
-> yes;
manage: no ->
yes
Not compared: s3://riverside-finance-restricted: in both bundles, GetBucketPolicy failed with AccessDenied (Access Denied): grants
the bucket policy makes are not shown: its changes may come from that policy.
The previous bundle was verified intact (every file against its MANIFEST.sha256) before the comparison. Findings are compared by
subject and control; API answers as parsed JSON, bucket policies as parsed documents. The full comparison, with every changed
answer before and after, is changes-since-previous.json in this bundle (phi-audit diff old.zip new.zip --format json gives the same)."#;

#[test]
fn report_pdf_has_the_changes_section_right_after_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    bundles_with_previous(dir.path());
    let pdf = dir.path().join("report.pdf");
    std::fs::write(
        &pdf,
        bundle_support::entry(&dir.path().join("new.zip"), "report.pdf"),
    )
    .unwrap();
    let text = pdftotext_layout(&pdf);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    // The section follows the summary and comes before the first safeguard.
    let starts = |title: &str| {
        pages
            .iter()
            .position(|p| p.lines().any(|l| l.trim() == title))
            .unwrap_or_else(|| panic!("no page starts {title:?}"))
    };
    let (summary, changes, safeguard) = (
        starts("Executive summary"),
        starts("Changes since last review"),
        starts("164.312(a)(1) Access control"),
    );
    assert!(
        summary < changes && changes < safeguard,
        "{summary} {changes} {safeguard}"
    );
    // Its text, without the running heads, one line per printed line, spaces collapsed.
    let old_manifest = bundle_support::entry(&dir.path().join("old.zip"), "MANIFEST.sha256");
    // Sections share a page when the one before ends early: from its title to the next one's.
    let section: Vec<String> = pages[changes..=safeguard]
        .iter()
        .flat_map(|p| p.lines())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("phi-audit | ")
                && !l.starts_with("collected ")
                && !l.starts_with("snapshot digest ")
        })
        .skip_while(|l| l != "Changes since last review")
        .take_while(|l| l != "164.312(a)(1) Access control")
        .collect();
    let expected =
        EXPECTED_PDF_SECTION.replace("{OLD_MANIFEST_SHA256}", &sha256_hex(&old_manifest));
    assert_eq!(section.join("\n"), expected, "\n{}", section.join("\n"));
    // The contents list it.
    assert!(
        pages[1].contains("Changes since last review"),
        "{}",
        pages[1]
    );
}

#[test]
fn a_tampered_previous_bundle_fails_the_report_and_leaves_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    bundles(dir.path());
    rewrite(
        &dir.path().join("old.zip"),
        &dir.path().join("tampered.zip"),
        |entries| {
            let e = entries
                .iter_mut()
                .find(|e| e.name == "evidence/buckets/riverside-www.json")
                .unwrap();
            let last = e.data.len() - 2;
            e.data[last] ^= 0x01;
        },
    );
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let (code, out, err) = report_with_previous(dir.path(), "tampered.zip", "next.zip");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with(
            "phi-audit: error: --previous tampered.zip: the previous bundle does not verify, so no \
             changes can be reported against it (verify's listing follows)\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("\nCHANGED  evidence/buckets/riverside-www.json"),
        "{err}"
    );
    assert!(err.contains("\nTAMPERED: "), "{err}");
    assert!(out.is_empty(), "{out}");
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "no bundle and no temp file are left behind");

    // Unreadable or missing: bad input naming the file, nothing written.
    std::fs::write(dir.path().join("junk.zip"), b"not a zip").unwrap();
    let (code, _, err) = report_with_previous(dir.path(), "junk.zip", "next.zip");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("phi-audit: error: --previous: junk.zip: not a readable zip archive"),
        "{err}"
    );
    let (code, _, err) = report_with_previous(dir.path(), "missing.zip", "next.zip");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("phi-audit: error: --previous: missing.zip: "),
        "{err}"
    );
    assert!(!dir.path().join("next.zip").exists());
}

#[test]
fn report_previous_gives_the_same_bytes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    bundles_with_previous(dir.path());
    let first = std::fs::read(dir.path().join("new.zip")).unwrap();
    std::fs::remove_file(dir.path().join("new.zip")).unwrap();
    let (code, out, err) = report_with_previous(dir.path(), "old.zip", "new.zip");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(first, std::fs::read(dir.path().join("new.zip")).unwrap());
}

#[test]
fn run_refuses_a_bad_previous_bundle_before_collecting() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.zip"), b"not a zip").unwrap();
    // The endpoint is a closed port: had collection started, it would fail differently.
    let (code, out, err) = phi_audit_in(
        dir.path(),
        &[
            "run",
            "--out",
            "snapshot",
            "--bundle",
            "next.zip",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--previous",
            "junk.zip",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with("phi-audit: error: --previous: junk.zip: not a readable zip archive"),
        "{err}"
    );
    assert!(!dir.path().join("snapshot").exists());
    assert!(!dir.path().join("next.zip").exists());
}

/// A KMS key whose state and policy changed between two bundles: both calls are listed under
/// changed configurations (the policy compared as a parsed document), the failure it causes is
/// a new failure, and the key is not taken for a new or removed bucket.
#[test]
fn a_key_whose_state_and_policy_changed_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/snapshot");
    let changed = dir.path().join("changed");
    copy_dir(&sample, &changed);
    let key = "fa54d482-68d7-484d-9911-6feb01827ea8";
    let key_path = changed.join(format!("kms/us-east-1/{key}.json"));
    let mut file = read_json(&key_path);
    file["calls"]["DescribeKey"]["ok"]["KeyMetadata"]["KeyState"] = json!("Disabled");
    let policy = file["calls"]["GetKeyPolicy"]["ok"]["Policy"]
        .as_str()
        .unwrap()
        .replace("key-default-1", "key-changed");
    file["calls"]["GetKeyPolicy"]["ok"]["Policy"] = json!(policy);
    write_json(&key_path, &file);
    for (snapshot, out) in [(&sample, "a.zip"), (&changed, "b.zip")] {
        let (code, stdout, stderr) = phi_audit(&[
            "report",
            snapshot.to_str().unwrap(),
            "--out",
            dir.path().join(out).to_str().unwrap(),
            "--generated-at",
            "2026-10-08T09:00:00Z",
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let (code, out, err) = diff(dir.path(), &["a.zip", "b.zip", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let name = format!("kms/us-east-1/{key}");
    let changes: Vec<(&str, &str)> = doc["changed_configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["bucket"].as_str().unwrap(),
                c["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (name.as_str(), "DescribeKey"),
            (name.as_str(), "GetKeyPolicy")
        ]
    );
    let policy_change = &doc["changed_configurations"][1];
    assert_eq!(policy_change["after"]["ok"]["Policy"]["Id"], "key-changed");
    assert_eq!(doc["new_buckets"], json!([]));
    assert_eq!(doc["removed_buckets"], json!([]));
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{key}");
    assert!(
        doc["new_failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["subject"] == arn.as_str() && f["control"] == "kms.key-not-usable"),
        "{out}"
    );
}

/// The picture of this review against the previous one draws the counts of the embedded
/// changes-since-previous.json, and "still failing" is every other failure of findings.json.
#[test]
fn the_previous_review_picture_draws_the_embedded_comparison() {
    let dir = tempfile::tempdir().unwrap();
    bundles_with_previous(dir.path());
    let new = dir.path().join("new.zip");
    let changes: Value =
        serde_json::from_str(&entry_text(&new, "changes-since-previous.json")).unwrap();
    let findings: Value = serde_json::from_str(&entry_text(&new, "findings.json")).unwrap();
    let len = |key: &str| changes[key].as_array().unwrap().len();
    let failing = (findings["findings"].as_array().unwrap().iter())
        .filter(|f| f["status"] == "fail")
        .count();
    let html = entry_text(&new, "report.html");
    let start = html
        .find("id=\"chart-trend\"")
        .expect("the picture is drawn");
    let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
    let bar =
        regex::Regex::new(r#"<g class="bar" data-key="([^"]+)" data-total="(\d+)">"#).unwrap();
    let drawn: Vec<(String, usize)> = bar
        .captures_iter(figure)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    let expected = vec![
        ("New failures".to_string(), len("new_failures")),
        (
            "Exceptions expired (now failing)".to_string(),
            len("expired_exceptions"),
        ),
        (
            "Still failing".to_string(),
            failing - len("new_failures") - len("expired_exceptions"),
        ),
        ("Fixed failures".to_string(), len("fixed_failures")),
    ];
    assert_eq!(drawn, expected);
    assert!(expected[0].1 > 0 && expected[3].1 > 0, "{expected:?}");
    // The PDF prints the same numbers beside the bars.
    let pdf = dir.path().join("new.pdf");
    std::fs::write(&pdf, bundle_support::entry(&new, "report.pdf")).unwrap();
    let text = pdftotext_layout(&pdf);
    for (label, n) in &expected {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label.as_str()))
            .unwrap_or_else(|| panic!("report.pdf draws {label}"));
        assert!(
            line.trim_end().ends_with(&format!(" {n}")),
            "{label}: {line:?} should end with {n}"
        );
    }
    // A bundle made without --previous has no such picture.
    let old = entry_text(&dir.path().join("old.zip"), "report.html");
    assert!(!old.contains("chart-trend"));
}
