//! The access review as the bundle shows it: the report's "Access review" section (HTML with
//! the filter data attributes, PDF grouped by bucket, a principal reaching most buckets the same
//! way listed once), `access-review.csv`, and access gained and lost between two bundles in
//! `diff` and `report --previous`. The NEW snapshot is the sample with its
//! GetAccountAuthorizationDetails edited: billing-lee loses ClaimsBilling, dr-nguyen gains a
//! write on the imaging bucket, web-publisher gains a read on the DR replica.

use crate::support::bundle::{entry, require_tool};
use crate::support::phi_audit;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const DETAILS: &str = "iam/GetAccountAuthorizationDetails.json";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

fn sample_copy(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/snapshot"),
        &out,
    );
    out
}

fn user<'a>(details: &'a mut Value, name: &str) -> &'a mut Value {
    (details["ok"]["UserDetailList"]
        .as_array_mut()
        .unwrap()
        .iter_mut())
    .find(|u| u["UserName"] == name)
    .unwrap()
}

fn inline(name: &str, action: &str, resource: &str) -> Value {
    json!({"PolicyName": name, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource}]}})
}

/// The sample with three changes of access (see the module comment).
fn changed_snapshot(dir: &Path) -> PathBuf {
    let new = sample_copy(dir, "new-snapshot");
    let path = new.join(DETAILS);
    let mut details: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    user(&mut details, "billing-lee")["AttachedManagedPolicies"] = json!([]);
    user(&mut details, "dr-nguyen")["UserPolicyList"] = json!([inline(
        "imaging-upload",
        "s3:PutObject",
        "arn:aws:s3:::riverside-phi-imaging-dicom/*"
    )]);
    let publisher = user(&mut details, "web-publisher");
    publisher["UserPolicyList"]
        .as_array_mut()
        .unwrap()
        .push(inline(
            "dr-check",
            "s3:GetObject",
            "arn:aws:s3:::riverside-phi-backup-dr/*",
        ));
    std::fs::write(&path, serde_json::to_vec_pretty(&details).unwrap()).unwrap();
    new
}

fn report(dir: &Path, snapshot: &Path, out: &str, previous: Option<&str>) {
    let out = dir.join(out);
    let mut args = vec![
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--generated-at",
        "2026-10-08T09:00:00Z",
    ];
    let previous = previous.map(|p| dir.join(p));
    if let Some(p) = &previous {
        args.extend(["--previous", p.to_str().unwrap()]);
    }
    let (code, stdout, stderr) = phi_audit(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

fn diff_json(dir: &Path, old: &str, new: &str) -> Value {
    let (code, out, err) = phi_audit(&[
        "diff",
        dir.join(old).to_str().unwrap(),
        dir.join(new).to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

fn text(bundle: &Path, name: &str) -> String {
    String::from_utf8(entry(bundle, name)).unwrap()
}

/// (change, bucket, principal's last path part, gained, lost) of each access change.
fn changes(diff: &Value) -> Vec<(String, String, String, String, String)> {
    let joined = |v: &Value| {
        (v.as_array().unwrap().iter())
            .map(|s| s.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("; ")
    };
    (diff["access_changes"]["changes"].as_array().unwrap().iter())
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["bucket"].as_str().unwrap().to_string(),
                c["principal"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                joined(&c["gained"]),
                joined(&c["lost"]),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str, &str, &str)]) -> Vec<(String, String, String, String, String)> {
    (rows.iter())
        .map(|r| (r.0.into(), r.1.into(), r.2.into(), r.3.into(), r.4.into()))
        .collect()
}

#[test]
fn diff_and_report_previous_list_who_gained_and_lost_access() {
    let dir = tempfile::tempdir().unwrap();
    let old = sample_copy(dir.path(), "old-snapshot");
    let new = changed_snapshot(dir.path());
    report(dir.path(), &old, "old.zip", None);
    report(dir.path(), &new, "new.zip", Some("old.zip"));
    let diff = diff_json(dir.path(), "old.zip", "new.zip");
    assert_eq!(
        changes(&diff),
        owned(&[
            (
                "added",
                "s3://riverside-phi-backup-dr",
                "web-publisher",
                "read: no -> yes",
                ""
            ),
            (
                "removed",
                "s3://riverside-phi-claims-837",
                "billing-lee",
                "",
                "read: yes -> no; write: yes -> no"
            ),
            (
                "changed",
                "s3://riverside-phi-imaging-dicom",
                "dr-nguyen",
                "write: no -> yes",
                ""
            ),
        ])
    );
    assert_eq!(
        diff["access_changes"]["not_compared"]["s3://riverside-finance-restricted"],
        json!("in both bundles, GetBucketPolicy failed with AccessDenied (Access Denied): grants the bucket policy makes are not shown: its changes may come from that policy")
    );
    assert!(diff["access_changes"]["not_compared"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k.starts_with("s3://")));

    // The table names each change on one line.
    let (code, table, err) = phi_audit(&[
        "diff",
        dir.path().join("old.zip").to_str().unwrap(),
        dir.path().join("new.zip").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{table}{err}");
    for line in [
        "Access to ePHI gained or lost (3)",
        "  added s3://riverside-phi-backup-dr user/web-publisher: read: no -> yes",
        "  removed s3://riverside-phi-claims-837 user/billing-lee: read: yes -> no, write: yes -> no",
        "  changed s3://riverside-phi-imaging-dicom user/dr-nguyen: write: no -> yes",
    ] {
        assert!(table.lines().any(|l| l == line), "{line:?} not in\n{table}");
    }

    // report --previous: the same changes in changes-since-previous.json, the HTML and the PDF.
    let bundle = dir.path().join("new.zip");
    let embedded: Value =
        serde_json::from_str(&text(&bundle, "changes-since-previous.json")).unwrap();
    assert_eq!(changes(&embedded), changes(&diff));
    let html = text(&bundle, "report.html");
    let section = &html[html.find("id=\"changes-since-previous\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("<h3>Access to ePHI gained or lost (3)</h3>"),
        "{section}"
    );
    assert!(
        section.contains("<td>removed</td><td class=\"mono\">s3://riverside-phi-claims-837</td>")
    );
    assert!(section.contains("read: yes -&gt; no; write: yes -&gt; no"));
    let pdf = pdftotext(&bundle, dir.path());
    assert!(pdf.contains("Access to ePHI gained or lost (3)"), "{pdf}");
    assert!(pdf.contains("s3://riverside-phi-imaging-dicom"));
}

#[test]
fn a_previous_bundle_without_identity_evidence_is_not_compared_rather_than_all_added() {
    let dir = tempfile::tempdir().unwrap();
    let old = sample_copy(dir.path(), "old-snapshot");
    std::fs::remove_dir_all(old.join("iam")).unwrap();
    let new = sample_copy(dir.path(), "new-snapshot");
    report(dir.path(), &old, "old.zip", None);
    report(dir.path(), &new, "new.zip", None);
    let diff = diff_json(dir.path(), "old.zip", "new.zip");
    assert_eq!(diff["access_changes"]["changes"], json!([]));
    let why = diff["access_changes"]["not_compared"]["account:111122223333"]
        .as_str()
        .unwrap();
    assert!(
        why.contains("previous bundle has no access review"),
        "{why}"
    );
}

fn pdftotext(bundle: &Path, dir: &Path) -> String {
    let tool = require_tool("pdftotext", "poppler-utils");
    let pdf = dir.join("report.pdf");
    std::fs::write(&pdf, entry(bundle, "report.pdf")).unwrap();
    let output = Command::new(tool)
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// The rows of the access review's HTML that carry `data-row`.
fn access_rows(html: &str) -> Vec<&str> {
    let start = html.find("data-section=\"access-review\"").unwrap();
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    section
        .split("<tr ")
        .filter(|r| r.starts_with("data-row"))
        .collect()
}

#[test]
fn the_report_lists_who_can_reach_each_ephi_bucket_and_the_csv_has_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = sample_copy(dir.path(), "snapshot");
    report(dir.path(), &snapshot, "b.zip", None);
    let bundle = dir.path().join("b.zip");
    let html = text(&bundle, "report.html");
    let rows = access_rows(&html);
    // it-admin reaches 13 of the 15 ePHI buckets through AdministratorAccess alone: one row for
    // those, and one under each of the two buckets it reaches otherwise.
    let admin: Vec<&&str> = rows
        .iter()
        .filter(|r| r.contains(">user/it-admin<"))
        .collect();
    assert_eq!(admin.len(), 3, "{admin:#?}");
    assert!(admin[0].contains("13 of the 15 ePHI buckets: all but riverside-phi-ehr-exports, riverside-phi-portal-uploads"));
    assert!(admin[0].contains("data-status=\"fail\" data-severity="));
    assert!(admin[0].contains("data-spec=\"164.312(a)(1) 164.312(d)\""));
    assert!(admin[0].contains("no MFA"));
    assert!(admin[0].contains("href=\"evidence/iam/GetAccountAuthorizationDetails.json#/ok/Policies/0/PolicyVersionList/0/Document/Statement/0\""));
    // 37 entries, 12 of them folded into it-admin's one row.
    assert_eq!(rows.len(), 37 - 13 + 1);
    for row in &rows {
        for attribute in [
            "data-account=\"111122223333\"",
            "data-ephi=\"yes\"",
            "data-bucket=\"riverside-",
            "data-spec=\"164.312(a)(1)",
        ] {
            assert!(row.contains(attribute), "{attribute} missing: {row}");
        }
    }
    // A bucket whose policy could not be read says so.
    assert!(html.contains("s3://riverside-finance-restricted</span> <span class=\"muted\">ePHI: yes (tags unreadable)</span> <span class=\"status status-error\">not assessed in part: GetBucketPolicy failed"));

    let csv = text(&bundle, "access-review.csv");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "account,bucket,ephi,principal,type,read,write,manage,via,evidence,notes"
    );
    assert_eq!(lines.len(), 1 + 37 + 1);
    assert!(lines.contains(&"111122223333,s3://riverside-phi-claims-837,yes (phi=true),arn:aws:iam::111122223333:user/billing-lee,user,yes,yes,no,arn:aws:iam::111122223333:policy/ClaimsBilling#/Statement/0,evidence/iam/GetAccountAuthorizationDetails.json#/ok/Policies/1/PolicyVersionList/1/Document/Statement/0,"));
    assert_eq!(lines[38], "111122223333,s3://riverside-finance-restricted,yes (tags unreadable),,,not assessed,not assessed,not assessed,,,GetBucketPolicy failed with AccessDenied (Access Denied): grants the bucket policy makes are not shown");
    let manifest = text(&bundle, "MANIFEST.sha256");
    assert!(manifest.lines().any(|l| l.ends_with("  access-review.csv")));

    let pdf = pdftotext(&bundle, dir.path());
    let start = pdf
        .find("Access review: who can reach ePHI\nWho can reach")
        .unwrap_or_else(|| pdf.rfind("Access review: who can reach ePHI").unwrap());
    let section = &pdf[start..];
    assert!(section.contains("15 ePHI buckets: 8 IAM users and roles can reach at least one of them (37 bucket-principal pairs)."));
    assert!(section.contains(
        "s3://riverside-phi-claims-837 (ePHI: yes (phi=true)) Also: user/it-admin (listed above)."
    ));
}

#[test]
fn without_identity_evidence_the_review_says_not_assessed_never_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = sample_copy(dir.path(), "snapshot");
    std::fs::remove_dir_all(snapshot.join("iam")).unwrap();
    report(dir.path(), &snapshot, "b.zip", None);
    let bundle = dir.path().join("b.zip");
    let html = text(&bundle, "report.html");
    assert!(access_rows(&html).is_empty());
    assert!(html.contains("Not assessed: the snapshot holds no identity evidence"));
    assert!(!html.contains("No IAM user or role of the account can read"));
    let csv = text(&bundle, "access-review.csv");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("111122223333,,,,,not assessed,not assessed,not assessed,,,\"the snapshot holds no identity evidence"), "{csv}");
}

/// The sample with ClaimsBilling (billing-lee's only policy) taken out of the authorization
/// details, and `iam/policies.json` as given (`None`: no such file).
fn without_listed_policy(dir: &Path, policies: Option<Value>) -> (PathBuf, Value) {
    let snapshot = sample_copy(dir, "snapshot");
    let path = snapshot.join(DETAILS);
    let mut details: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let list = details["ok"]["Policies"].as_array_mut().unwrap();
    let at = (list.iter())
        .position(|p| p["Arn"] == "arn:aws:iam::111122223333:policy/ClaimsBilling")
        .unwrap();
    let removed = list.remove(at);
    std::fs::write(&path, serde_json::to_vec_pretty(&details).unwrap()).unwrap();
    if let Some(policies) = policies {
        std::fs::write(
            snapshot.join("iam/policies.json"),
            serde_json::to_vec_pretty(&policies).unwrap(),
        )
        .unwrap();
    }
    (snapshot, removed)
}

fn claims_entry_of_billing_lee(snapshot: &Path) -> Option<Value> {
    let (_, out, err) = phi_audit(&[
        "evaluate",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
        "--generated-at",
        "2026-10-08T09:00:00Z",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    (report["access_review"]["entries"]
        .as_array()
        .unwrap()
        .iter())
    .find(|e| {
        e["bucket"] == "s3://riverside-phi-claims-837"
            && e["principal"] == "arn:aws:iam::111122223333:user/billing-lee"
    })
    .cloned()
}

#[test]
fn a_policy_the_details_do_not_list_is_read_from_get_policy_or_left_conditional() {
    let dir = tempfile::tempdir().unwrap();
    // Without iam/policies.json: conditional, and the note says why.
    let (snapshot, removed) = without_listed_policy(dir.path(), None);
    let entry = claims_entry_of_billing_lee(&snapshot).unwrap();
    assert_eq!(entry["read"], "conditional");
    let notes = entry["notes"].to_string();
    assert!(
        notes.contains("neither listed by GetAccountAuthorizationDetails nor read with GetPolicy"),
        "{notes}"
    );

    // Read with GetPolicy + GetPolicyVersion: the default version decides, as if listed.
    let default = (removed["PolicyVersionList"].as_array().unwrap().iter())
        .find(|v| v["IsDefaultVersion"] == true)
        .unwrap()
        .clone();
    let arn = removed["Arn"].clone();
    let found = json!({"policies": [{"arn": arn, "calls": {
        "GetPolicy": {"ok": {"Policy": {"PolicyName": "ClaimsBilling", "Arn": arn, "DefaultVersionId": default["VersionId"]}}},
        "GetPolicyVersion": {"ok": {"PolicyVersion": default}}}}]});
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, _) = without_listed_policy(dir.path(), Some(found.clone()));
    let entry = claims_entry_of_billing_lee(&snapshot).unwrap();
    assert_eq!(
        (&entry["read"], &entry["write"], &entry["manage"]),
        (&json!("yes"), &json!("yes"), &json!("no"))
    );
    assert_eq!(
        entry["evidence"],
        json!(["iam/policies.json#/policies/0/calls/GetPolicyVersion/ok/PolicyVersion/Document/Statement/0"])
    );
    assert!(entry.get("notes").is_none(), "{entry}");

    // GetPolicy refused: still conditional, never a silent "no", and the note names the call.
    let refused = json!({"policies": [{"arn": arn, "calls": {
        "GetPolicy": {"error": {"code": "AccessDenied", "message": "not authorized"}}}}]});
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, _) = without_listed_policy(dir.path(), Some(refused));
    let entry = claims_entry_of_billing_lee(&snapshot).unwrap();
    assert_eq!(entry["read"], "conditional");
    let notes = entry["notes"].to_string();
    assert!(
        notes.contains("could not be read: GetPolicy failed with AccessDenied"),
        "{notes}"
    );

    // A version that is not the default is bad input naming file and pointer.
    let mut wrong = found;
    wrong["policies"][0]["calls"]["GetPolicyVersion"]["ok"]["PolicyVersion"]["IsDefaultVersion"] =
        json!(false);
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, _) = without_listed_policy(dir.path(), Some(wrong));
    let (code, _, err) = phi_audit(&["evaluate", snapshot.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("policies.json"), "{err}");
    assert!(
        err.contains("/policies/0/calls/GetPolicyVersion/ok/PolicyVersion/VersionId"),
        "{err}"
    );
}
