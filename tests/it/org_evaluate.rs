//! Evaluating and reporting an organisation snapshot (docs/organizations.md): an organisation of
//! three accounts built from `samples/snapshot` with the account id rewritten, one of them
//! recorded as not collected.

use crate::support::bundle::samples;
use crate::support::bundle::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLE_ACCOUNT: &str = "111122223333";
const MANAGEMENT: &str = "111122223333";
const MEMBER: &str = "222233334444";
const LEGACY: &str = "333344445555";
const ORG_ID: &str = "o-riverside01";

/// Copies `from` into `to`, with the sample's account id replaced by `account` in every file.
fn copy_as_account(from: &Path, to: &Path, account: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_as_account(&entry.path(), &target, account);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(target, text.replace(SAMPLE_ACCOUNT, account)).unwrap();
        }
    }
}

fn header(accounts: Value) -> Value {
    json!({
        "format": "phi-audit-org-snapshot/1",
        "collected_at": "2026-10-01T06:00:00Z",
        "tool_version": "0.1.0",
        "partition": "aws",
        "organization": {"id": ORG_ID, "management_account_id": MANAGEMENT,
                         "name": "Riverside Health"},
        "role_name": "OrganizationAccountAccessRole",
        "external_id": false,
        "selection": {"accounts": [], "exclude_accounts": []},
        "review_period": {"since": "2026-07-01T00:00:00Z", "until": "2026-09-30T23:59:59Z"},
        "scope": {"include": ["*"], "exclude": ["sandbox-*"], "tags": {}},
        "selected_accounts": [MANAGEMENT, MEMBER, LEGACY],
        "accounts": accounts
    })
}

fn standard_accounts() -> Value {
    json!({
        MANAGEMENT: {"name": "Clinic", "AssumeRole": {"ok": {"AssumedRoleUser": {"Arn": "arn:aws:iam::111122223333:user/auditor"}}}},
        MEMBER: {"name": "Claims", "AssumeRole": {"ok": {"AssumedRoleUser": {"Arn": "arn:aws:sts::222233334444:assumed-role/OrganizationAccountAccessRole/phi-audit"}}}},
        LEGACY: {"name": "Legacy", "AssumeRole": {"error": {"code": "AccessDenied", "message": "not authorized to perform sts:AssumeRole"}}}
    })
}

/// The organisation: two collected accounts (copies of the sample) and one not collected.
fn org_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for account in [MANAGEMENT, MEMBER] {
        copy_as_account(
            &samples().join("snapshot"),
            &dir.path().join("accounts").join(account),
            account,
        );
    }
    write_header(dir.path(), &header(standard_accounts()));
    dir
}

fn write_header(root: &Path, header: &Value) {
    std::fs::write(
        root.join("snapshot.json"),
        serde_json::to_vec_pretty(header).unwrap(),
    )
    .unwrap();
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn evaluate_json(root: &Path) -> Value {
    let (code, out, err) = run(&[
        "evaluate",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--generated-at",
        GENERATED_AT,
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

#[test]
fn findings_carry_their_account_and_evidence_under_its_subtree() {
    let org = org_fixture();
    let doc = evaluate_json(org.path());
    assert_eq!(doc["snapshot"]["organization_id"], ORG_ID);
    assert_eq!(doc["snapshot"]["account_id"], MANAGEMENT);
    let single = evaluate_json(&samples().join("snapshot"));
    let per_account = findings(&single).len();
    for account in [MANAGEMENT, MEMBER] {
        let mine: Vec<&Value> = findings(&doc)
            .iter()
            .filter(|f| f["account"] == account)
            .collect();
        // The account's sub-tree is the sample with another id: the same findings.
        assert_eq!(mine.len(), per_account, "account {account}");
        for f in &mine {
            for reference in f["evidence"].as_array().unwrap() {
                let reference = reference.as_str().unwrap();
                let prefix = format!("accounts/{account}/");
                assert!(reference.starts_with(&prefix), "{reference}");
                // Every reference names a file that exists in the organisation tree.
                let file = reference.split('#').next().unwrap();
                assert!(org.path().join(file).is_file(), "{reference}");
            }
        }
    }
    // Accounts come in id order, so the findings are grouped by account.
    let order: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["account"].as_str().unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // A single account's findings name it too, and nothing organisational appears.
    assert!(findings(&single)
        .iter()
        .all(|f| f["account"] == SAMPLE_ACCOUNT));
    assert!(single["snapshot"].get("organization_id").is_none());
    assert!(single["summary"].get("accounts").is_none());
}

#[test]
fn an_account_not_collected_gives_exactly_one_error_and_never_a_pass() {
    let org = org_fixture();
    let doc = evaluate_json(org.path());
    let legacy: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["account"] == LEGACY)
        .collect();
    assert_eq!(legacy.len(), 1, "{legacy:?}");
    let finding = legacy[0];
    assert_eq!(finding["status"], "error");
    assert_eq!(finding["control"], "org.account-not-collected");
    assert_eq!(finding["subject"], format!("account:{LEGACY}"));
    assert_eq!(finding["severity"], "high");
    assert!(finding["reason"].as_str().unwrap().contains("AccessDenied"));
    assert_eq!(
        finding["evidence"],
        json!([format!("snapshot.json#/accounts/{LEGACY}/AssumeRole")])
    );
    // Every technical safeguard is unassessed for it.
    // (all but emergency access and automatic logoff, which no AWS configuration shows)
    assert_eq!(finding["safeguards"].as_array().unwrap().len(), 10);
    // `--fail-on high` treats it as a reason to fail the gate.
    let (code, _, _) = run(&[
        "evaluate",
        org.path().to_str().unwrap(),
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn per_account_summary_counts_add_up_to_the_total() {
    let org = org_fixture();
    let doc = evaluate_json(org.path());
    let summary = &doc["summary"];
    let accounts = summary["accounts"].as_object().unwrap();
    assert_eq!(
        accounts.keys().collect::<Vec<_>>(),
        vec![MANAGEMENT, MEMBER, LEGACY]
    );
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in findings(&doc) {
        *expected
            .entry((
                f["account"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            ))
            .or_default() += 1;
    }
    let mut total = 0;
    for (account, counts) in accounts {
        for (status, n) in counts.as_object().unwrap() {
            let n = n.as_u64().unwrap();
            assert_eq!(
                n,
                expected
                    .get(&(account.clone(), status.clone()))
                    .copied()
                    .unwrap_or(0),
                "{account} {status}"
            );
            total += n;
        }
    }
    assert_eq!(total, summary["findings"].as_u64().unwrap());
    assert_eq!(total as usize, findings(&doc).len());
    assert_eq!(accounts[LEGACY]["error"], 1);
    assert_eq!(accounts[LEGACY]["pass"], 0);
    // The same bucket name in two accounts is two subjects.
    let single = evaluate_json(&samples().join("snapshot"));
    assert_eq!(
        summary["subjects"].as_u64().unwrap(),
        2 * single["summary"]["subjects"].as_u64().unwrap() + 1
    );
}

#[test]
fn csv_and_table_name_the_account() {
    let org = org_fixture();
    let (code, csv, err) = run(&["evaluate", org.path().to_str().unwrap(), "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    // The ninth column, as before organisations added it (the later ones came with the ids).
    assert_eq!(reader.headers().unwrap().get(8), Some("account"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(rows.iter().any(|r| &r[8] == LEGACY && &r[2] == "error"));
    // Two copies of the sample and the one error finding.
    let member_rows = rows.iter().filter(|r| &r[8] == MEMBER).count();
    assert_eq!(rows.len(), 2 * member_rows + 1);
    let (code, table, _) = run(&["evaluate", org.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(table.starts_with(&format!(
        "phi-audit findings for organisation {ORG_ID} (management account {MANAGEMENT})"
    )));
    assert!(table.contains(&format!("{MEMBER} s3://riverside-www  ePHI: no  (")));
    assert!(table.contains(&format!("{LEGACY} account:{LEGACY}  (0 fail, 1 error")));
    // Finding lines are wrapped to 100 columns (subject lines of long trail ARNs are not, for
    // single accounts either).
    for line in table.lines().filter(|l| l.starts_with(' ')) {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
}

/// Rejected before the first finding: neither streamed format has written a byte.
fn rejected(root: &Path) -> String {
    let (code, out, err) = run(&["evaluate", root.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(code, 2, "accepted: {out}");
    assert!(out.is_empty(), "{out}");
    assert!(!err.contains("incomplete"), "{err}");
    let (code, out, err) = run(&["evaluate", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2, "accepted: {out}");
    assert!(out.is_empty(), "{out}");
    err
}

#[test]
fn an_ok_account_without_its_subtree_is_rejected_naming_the_file() {
    let org = org_fixture();
    std::fs::remove_dir_all(org.path().join("accounts").join(MEMBER)).unwrap();
    let err = rejected(org.path());
    assert!(err.contains("snapshot.json"), "{err}");
    assert!(err.contains(&format!("/accounts/{MEMBER}")), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn a_subtree_of_another_account_is_rejected_naming_the_file() {
    let org = org_fixture();
    let member = org.path().join("accounts").join(MEMBER);
    std::fs::remove_dir_all(&member).unwrap();
    copy_as_account(&samples().join("snapshot"), &member, "999988887777");
    let err = rejected(org.path());
    assert!(
        err.contains(&format!("accounts/{MEMBER}/snapshot.json")),
        "{err}"
    );
    assert!(err.contains("/account_id"), "{err}");
    assert!(err.contains("999988887777"), "{err}");
}

/// evaluate --format json writes as it judges: an account that turns out malformed when its
/// turn comes stops the run, and what was written before it is plainly not a document.
#[test]
fn a_malformed_later_account_stops_a_streamed_evaluation_and_says_the_output_is_incomplete() {
    let org = org_fixture();
    let later = [MANAGEMENT, MEMBER].into_iter().max().unwrap();
    let bucket = org.path().join(format!(
        "accounts/{later}/buckets/riverside-phi-ehr-exports.json"
    ));
    assert!(bucket.is_file(), "{}", bucket.display());
    std::fs::write(&bucket, "{\"bad\":").unwrap();
    let root = org.path().to_str().unwrap();
    let (code, out, err) = run(&["evaluate", root, "--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "accounts/{later}/buckets/riverside-phi-ehr-exports.json"
        )),
        "{err}"
    );
    assert!(err.contains("incomplete findings.json"), "{err}");
    assert!(
        out.contains("\"findings\": ["),
        "nothing was streamed: {out}"
    );
    assert!(serde_json::from_str::<Value>(&out).is_err());
    // The CSV streams too: its last row says it is incomplete, so that a spreadsheet never
    // shows part of the findings as the whole.
    let (code, out, err) = run(&["evaluate", root, "--format", "csv"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("incomplete findings.csv"), "{err}");
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows.len() > 2, "nothing was streamed: {out}");
    let last = rows.last().unwrap();
    assert!(
        last.starts_with("INCOMPLETE: phi-audit stopped with an error after ")
            && last.contains(",error,"),
        "{last}"
    );
    // The table is written once every finding is made: nothing, and no such note.
    let (code, out, err) = run(&["evaluate", root]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(!err.contains("incomplete"), "{err}");
}

#[test]
fn stray_directories_and_bad_headers_are_rejected() {
    // A sub-tree for an account the header does not list.
    let org = org_fixture();
    copy_as_account(
        &samples().join("snapshot"),
        &org.path().join("accounts/444455556666"),
        "444455556666",
    );
    let err = rejected(org.path());
    assert!(err.contains("accounts/444455556666/"), "{err}");
    assert!(err.contains("not listed"), "{err}");

    // A sub-tree for the account whose role could not be assumed.
    let org = org_fixture();
    copy_as_account(
        &samples().join("snapshot"),
        &org.path().join("accounts").join(LEGACY),
        LEGACY,
    );
    let err = rejected(org.path());
    assert!(err.contains(&format!("accounts/{LEGACY}/")), "{err}");

    // An account id that is not 12 digits, with the JSON pointer.
    let org = org_fixture();
    let mut accounts = standard_accounts();
    let legacy = accounts[LEGACY].take();
    accounts.as_object_mut().unwrap().remove(LEGACY);
    accounts["12345"] = legacy;
    write_header(org.path(), &header(accounts));
    let err = rejected(org.path());
    assert!(err.contains("snapshot.json: /accounts/12345:"), "{err}");
    assert!(err.contains("12-digit"), "{err}");

    // An AssumeRole that is neither ok nor error.
    let org = org_fixture();
    let mut accounts = standard_accounts();
    accounts[LEGACY]["AssumeRole"] = json!({"maybe": true});
    write_header(org.path(), &header(accounts));
    let err = rejected(org.path());
    assert!(
        err.contains(&format!("/accounts/{LEGACY}/AssumeRole")),
        "{err}"
    );
}

struct OrgBundle {
    dir: tempfile::TempDir,
    org: tempfile::TempDir,
    bundle: PathBuf,
}

fn org_bundle() -> OrgBundle {
    let org = org_fixture();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("org.zip");
    let (code, out, err) = run(&[
        "report",
        org.path().to_str().unwrap(),
        "--attestations",
        samples().join("attestations.yaml").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        GENERATED_AT,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    OrgBundle { dir, org, bundle }
}

/// The cells of every `<tr>` of the table with this class, tags stripped.
fn table_rows(html: &str, class: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<table class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no table {class}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()];
                    let mut text = String::new();
                    let mut in_tag = false;
                    for c in inner.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.replace(',', "")
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_report_leads_with_an_organisation_summary_of_the_right_counts() {
    let b = org_bundle();
    let json: Value = serde_json::from_slice(&entry(&b.bundle, "findings.json")).unwrap();
    let html = String::from_utf8(entry(&b.bundle, "report.html")).unwrap();
    assert!(html.contains("<h2>Organisation summary</h2>"));
    assert!(html.contains(&format!(
        "phi-audit | AWS organisation {ORG_ID} (management account {MANAGEMENT})"
    )));
    let summary_at = html.find("<h2>Organisation summary</h2>").unwrap();
    let first_safeguard = html.find("<h2>164.312(a)(1) Access control</h2>").unwrap();
    assert!(summary_at < first_safeguard, "the summary comes first");
    // Every in-page link (the coverage table's, the accounts' sections') has its anchor.
    for href in html.split("href=\"#").skip(1) {
        let anchor = href.split('"').next().unwrap();
        assert!(
            html.contains(&format!("id=\"{anchor}\"")),
            "no anchor #{anchor}"
        );
    }

    let rows = table_rows(&html, "org-accounts");
    assert_eq!(rows.len(), 3);
    let counts = &json["summary"]["accounts"];
    for row in &rows {
        let account = row[0].as_str();
        for (i, status) in ["fail", "error", "excepted", "pass"].iter().enumerate() {
            assert_eq!(
                row[4 + i],
                counts[account][status].to_string(),
                "{account} {status}"
            );
        }
    }
    assert_eq!(rows[2][2], "not collected: AssumeRole failed with AccessDenied (not authorized to perform sts:AssumeRole)");
    assert_eq!(rows[1][1], "Claims");

    // Per account and safeguard: the findings of that account citing that safeguard.
    let matrix = table_rows(&html, "org-safeguards");
    assert_eq!(matrix.len(), 3 * phi_audit::controls::SPECIFICATIONS.len());
    for row in &matrix {
        let (account, safeguard) = (&row[0], row[1].split(' ').next().unwrap());
        let expected = |status: &str| {
            json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["account"] == account.as_str()
                        && f["status"] == status
                        && !f["control"].as_str().unwrap().starts_with("admin.")
                        && f["safeguards"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|s| s == safeguard)
                })
                .count()
                .to_string()
        };
        assert_eq!(row[2], expected("fail"), "{row:?}");
        assert_eq!(row[3], expected("error"), "{row:?}");
        assert_eq!(row[5], expected("pass"), "{row:?}");
    }
    // Each account's detail sections follow, with anchors of their own.
    for account in [MANAGEMENT, MEMBER, LEGACY] {
        assert!(html.contains(&format!("id=\"account-{account}-start\"")));
        assert!(html.contains(&format!(
            "id=\"account-{account}-control-s3-world-readable-anonymous\""
        )));
    }
    assert!(html.contains(&format!("{MEMBER} / riverside-www")));

    // The PDF says the same.
    let pdf = b.dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&b.bundle, "report.pdf")).unwrap();
    let tool = require_tool("pdftotext", "poppler-utils");
    let output = Command::new(tool)
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Organisation summary"));
    assert!(text.contains("Accounts by safeguard"));
    assert!(text.contains(&format!("Account {LEGACY} Legacy")));
    let legacy_row = text
        .lines()
        .find(|l| l.starts_with(LEGACY) && l.contains("not collected"))
        .expect("the legacy account's row");
    let numbers: Vec<&str> = legacy_row
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(numbers, vec![LEGACY, "0", "0", "1", "0", "0"]);
    assert!(text.contains(&format!(
        "HIPAA Security Rule evidence | AWS organisation {ORG_ID} (management account {MANAGEMENT})"
    )));
}

#[test]
fn the_org_bundle_verifies_and_holds_the_whole_tree_byte_for_byte() {
    let b = org_bundle();
    let (code, out, _) = run(&["verify", b.bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let entries: BTreeMap<String, Vec<u8>> = read_entries(&b.bundle).into_iter().collect();
    let mut on_disk = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_string(),
                );
            }
        }
    }
    walk(b.org.path(), b.org.path(), &mut on_disk);
    on_disk.sort();
    let in_bundle: Vec<&String> = entries
        .keys()
        .filter(|name| name.starts_with("evidence/"))
        .collect();
    assert_eq!(in_bundle.len(), on_disk.len());
    for relative in &on_disk {
        let bytes = &entries[&format!("evidence/{relative}")];
        assert_eq!(
            bytes,
            &std::fs::read(b.org.path().join(relative)).unwrap(),
            "{relative}"
        );
    }
    assert!(entries.contains_key(&format!(
        "evidence/accounts/{MEMBER}/buckets/riverside-www.json"
    )));
    // The README names the organisation.
    let readme = String::from_utf8(entries["README.txt"].clone()).unwrap();
    assert!(
        readme.contains(&format!("AWS organisation {ORG_ID}")),
        "{readme}"
    );
    // Same inputs, same generation time: the same bytes.
    let again = b.dir.path().join("again.zip");
    let (code, _, err) = run(&[
        "report",
        b.org.path().to_str().unwrap(),
        "--attestations",
        samples().join("attestations.yaml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--generated-at",
        GENERATED_AT,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&b.bundle).unwrap()
    );
}

#[test]
fn policy_findings_belong_to_the_management_account() {
    let b = org_bundle();
    let json: Value = serde_json::from_slice(&entry(&b.bundle, "findings.json")).unwrap();
    let policy: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().starts_with("policy:"))
        .collect();
    assert!(!policy.is_empty());
    assert!(policy.iter().all(|f| f["account"] == MANAGEMENT));
}

#[test]
fn the_change_timeline_names_each_change_s_account() {
    let org = org_fixture();
    let doc = evaluate_json(org.path());
    let single = evaluate_json(&samples().join("snapshot"));
    let changes = doc["changes"]["changes"].as_array().unwrap();
    let per_account = single["changes"]["changes"].as_array().unwrap().len();
    assert!(per_account > 0, "the sample records changes");
    assert_eq!(changes.len(), 2 * per_account);
    assert_eq!(changes[0]["account"], MANAGEMENT);
    assert_eq!(changes[per_account]["account"], MEMBER);
    assert!(single["changes"]["changes"][0].get("account").is_none());
}

#[test]
fn diff_of_two_org_bundles_names_the_account_of_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = |org: &Path, name: &str| {
        let out = dir.path().join(name);
        let (code, _, err) = run(&[
            "report",
            org.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--generated-at",
            GENERATED_AT,
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let org = org_fixture();
    let old = bundle(org.path(), "old.zip");
    // Versioning suspended on the member's riverside-www only (the same name in the management
    // account stays as it was).
    let file = org
        .path()
        .join("accounts")
        .join(MEMBER)
        .join("buckets/riverside-www.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["calls"]["GetBucketVersioning"] = json!({"ok": {"Status": "Suspended"}});
    std::fs::write(&file, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let new = bundle(org.path(), "new.zip");
    let (code, out, err) = run(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let diff: Value = serde_json::from_str(&out).unwrap();
    let changed: Vec<(&str, &str)> = diff["changed_configurations"]
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
    let member_www = format!("{MEMBER}/riverside-www");
    assert_eq!(changed, vec![(member_www.as_str(), "GetBucketVersioning")]);
    let failures: Vec<&str> = diff["new_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert!(!failures.is_empty());
    let expected = format!("{MEMBER} s3://riverside-www");
    assert!(failures.iter().all(|s| *s == expected), "{failures:?}");
    assert!(diff["new_buckets"].as_array().unwrap().is_empty());
}

/// The accounts x specifications picture draws, per account and specification, the counts of
/// that account's findings in findings.json (administrative findings aside, as in the tables).
#[test]
fn the_accounts_picture_draws_each_accounts_findings_per_specification() {
    let b = org_bundle();
    let findings: Value = serde_json::from_slice(&entry(&b.bundle, "findings.json")).unwrap();
    let html = String::from_utf8(entry(&b.bundle, "report.html")).unwrap();
    let start = html
        .find("id=\"chart-accounts\"")
        .expect("the picture is drawn");
    let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
    let row = regex::Regex::new(r#"(?s)<g class="matrix-row" data-account="(\d+)"[^>]*>(.*?)</g>"#)
        .unwrap();
    let cell = regex::Regex::new(
        r#"<rect class="cell" data-key="([^"]+)" data-status="\w+" data-counts="(\d+) (\d+) (\d+) (\d+) \d+""#,
    )
    .unwrap();
    let mut accounts = Vec::new();
    for r in row.captures_iter(figure) {
        accounts.push(r[1].to_string());
        let mut cells = 0;
        for c in cell.captures_iter(&r[2]) {
            let count = |status: &str| {
                (findings["findings"].as_array().unwrap().iter())
                    .filter(|f| {
                        f["account"] == r[1]
                            && f["status"] == status
                            && !f["control"].as_str().unwrap().starts_with("admin.")
                            && (f["safeguards"].as_array().unwrap().iter()).any(|s| s == &c[1])
                    })
                    .count()
            };
            for (i, status) in ["fail", "error", "excepted", "pass"].iter().enumerate() {
                assert_eq!(
                    c[i + 2].parse::<usize>().unwrap(),
                    count(status),
                    "account {} x {}: {status}",
                    &r[1],
                    &c[1]
                );
            }
            cells += 1;
        }
        assert!(cells >= 9, "a cell per specification: {cells}");
    }
    let mut listed: Vec<String> = (findings["findings"].as_array().unwrap().iter())
        .map(|f| f["account"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    listed.dedup();
    assert_eq!(accounts, listed, "one row per account, in id order");
}
