//! The chain of custody and the ePHI designation, read from the documents an auditor receives
//! (issue #14 items 1 and 7): the sample's collector on the PDF and HTML covers, a snapshot
//! without a collector (or with an undocumented scope exclusion) loading with a warning on stderr
//! and in the report, a misspelt collector member refused, and every bucket finding in
//! findings.json, findings.csv and the terminal table carrying the designation samples/README.md
//! states.

use crate::support::bundle::{entry, require_tool};
use crate::support::bundle::{report_sample, samples, GENERATED_AT};
use crate::support::phi_audit;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const COLLECTOR_ARN: &str =
    "arn:aws:sts::111122223333:assumed-role/PhiAuditReadOnly/phi-audit-2026q3";

/// The sample bundle (the README's first command), built once per test run.
fn sample_bundle() -> &'static (PathBuf, String) {
    static BUNDLE: OnceLock<(PathBuf, String)> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let root =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("custody-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let zip = root.join("sample.zip");
        let err = report_sample(&samples().join("snapshot"), &zip);
        (zip, err)
    })
}

fn text_of(zip: &Path, name: &str) -> String {
    String::from_utf8(entry(zip, name)).unwrap()
}

fn pdftotext(zip: &Path, pages: Option<(u32, u32)>) -> String {
    let tool = require_tool("pdftotext", "poppler-utils");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(zip, "report.pdf")).unwrap();
    let mut command = Command::new(tool);
    command.arg("-layout");
    if let Some((first, last)) = pages {
        command.args(["-f", &first.to_string(), "-l", &last.to_string()]);
    }
    let output = command.arg(&pdf).arg("-").output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// The part of report.html between `start` and the next `end` after it.
fn html_part<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start}"));
    let to = from + html[from..].find(end).unwrap_or_else(|| panic!("no {end}"));
    &html[from..to]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A copy of the sample snapshot whose snapshot.json `edit` changes.
fn edited_sample(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let snapshot = dir.join("snapshot");
    copy_dir(&samples().join("snapshot"), &snapshot);
    let meta = snapshot.join("snapshot.json");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&meta, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    snapshot
}

#[test]
fn the_covers_name_the_sample_collector_window_and_scope() {
    let (zip, err) = sample_bundle();
    assert!(!err.contains("collector not recorded"), "{err}");
    assert!(!err.contains("scope exclusion"), "{err}");

    let cover = pdftotext(zip, Some((1, 1)));
    for expected in [
        "Collected by",
        COLLECTOR_ARN,
        "(account",
        "111122223333",
        "Review period",
        "2026-07-01T00:00:00Z to 2026-09-30T23:59:59Z",
        "Evidence collected (UTC)",
        "2026-10-01T06:00:00Z",
        "include *; exclude sandbox-* (Appendix E); any region",
        "phi-audit 0.1.0 (snapshot collected by phi-audit 0.1.0)",
    ] {
        assert!(
            cover.contains(expected),
            "PDF cover lacks {expected:?}:\n{cover}"
        );
    }

    let html = text_of(zip, "report.html");
    let cover = html_part(&html, "<header id=\"cover\">", "</header>");
    let collected_by = format!(
        "<dt>Collected by</dt><dd class=\"mono\">{COLLECTOR_ARN} (account 111122223333)</dd>"
    );
    for expected in [
        collected_by.as_str(),
        "<dt>Review period</dt><dd>2026-07-01T00:00:00Z to 2026-09-30T23:59:59Z</dd>",
        "<dt>Scope</dt><dd>include *; exclude sandbox-* (Appendix E); any region</dd>",
    ] {
        assert!(
            cover.contains(expected),
            "HTML cover lacks {expected:?}:\n{cover}"
        );
    }
}

#[test]
fn the_custody_appendix_shows_options_and_the_documented_exclusion() {
    let (zip, _) = sample_bundle();
    let pdf = pdftotext(zip, None);
    let appendix = &pdf[pdf
        .rfind("Appendix E: Collection and scope (chain of custody)")
        .unwrap()..];
    let scope_sha256 = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(std::fs::read(samples().join("scope.yaml")).unwrap());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for expected in [
        "AROAYRIVERSIDEAUDIT01:phi-audit-",
        "samples/scope.yaml (SHA-256",
        scope_sha256.as_str(),
        "Profile (--profile)",
        "riverside-audit",
        "sandbox-dev-scratch",
        "Dr. A. Rivera (CISO)",
        "Developer sandboxes in the shared",
    ] {
        assert!(
            appendix.contains(expected),
            "Appendix E lacks {expected:?}:\n{appendix}"
        );
    }
    assert!(
        !appendix.contains("MISSING") && !appendix.contains("Warning"),
        "{appendix}"
    );

    let html = text_of(zip, "report.html");
    let section = html_part(
        &html,
        "<section class=\"page\" id=\"appendix-custody\"",
        "</section>",
    );
    assert!(
        section.contains(&format!("<td class=\"mono\">{COLLECTOR_ARN}</td>")),
        "{section}"
    );
    assert!(
        section.contains("<td>Dr. A. Rivera (CISO)</td>"),
        "{section}"
    );
    assert!(
        html.contains("<a href=\"#appendix-custody\">Appendix E"),
        "not in the contents"
    );
}

#[test]
fn an_old_snapshot_without_collector_and_an_undocumented_exclusion_load_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = edited_sample(dir.path(), |meta| {
        meta.as_object_mut().unwrap().remove("collector");
        meta["scope"]["exclude"] = serde_json::json!(["sandbox-*"]);
    });
    let (code, _, err) = phi_audit(&["evaluate", snapshot.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(collector not recorded)"), "{err}");
    assert!(
        err.contains("warning: scope exclusion \"sandbox-*\" has no justification or approver"),
        "{err}"
    );

    let zip = dir.path().join("old.zip");
    let err = report_sample(&snapshot, &zip);
    assert!(err.contains("(collector not recorded)"), "{err}");
    let cover = pdftotext(&zip, Some((1, 1)));
    assert!(
        cover.contains("Collected by") && cover.contains("collector not recorded"),
        "{cover}"
    );
    let pdf = pdftotext(&zip, None);
    let appendix = &pdf[pdf.rfind("Appendix E: Collection and scope").unwrap()..];
    assert!(
        appendix.contains("Warning: scope exclusion \"sandbox-*\" has no"),
        "{appendix}"
    );
    assert!(appendix.contains("MISSING"), "{appendix}");

    let html = text_of(&zip, "report.html");
    assert!(html.contains("<dt>Collected by</dt><dd class=\"mono\">collector not recorded</dd>"));
    let section = html_part(
        &html,
        "<section class=\"page\" id=\"appendix-custody\"",
        "</section>",
    );
    assert!(
        section.contains("<strong>Warning:</strong> scope exclusion &quot;sandbox-*&quot; has no justification or approver"),
        "{section}"
    );
    assert!(
        section.contains("<tr class=\"status-fail\"><td class=\"mono\">sandbox-*</td>"),
        "{section}"
    );
    assert!(
        section.contains("<td>MISSING</td><td>MISSING</td>"),
        "{section}"
    );
}

#[test]
fn a_misspelt_collector_member_is_bad_input_naming_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = edited_sample(dir.path(), |meta| {
        let caller = meta["collector"]["GetCallerIdentity"]
            .as_object_mut()
            .unwrap();
        let arn = caller.remove("Arn").unwrap();
        caller.insert("ARN".into(), arn);
    });
    let (code, _, err) = phi_audit(&["evaluate", snapshot.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("snapshot.json: /collector/GetCallerIdentity/ARN: differs from the known member `Arn` only by case"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let snapshot = edited_sample(dir.path(), |meta| {
        let options = meta["collector"]["options"].as_object_mut().unwrap();
        let value = options.remove("endpoint_url").unwrap();
        options.insert("endpoint".into(), value);
    });
    let (code, _, err) = phi_audit(&["evaluate", snapshot.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("snapshot.json: /collector/options/endpoint_url: is missing; phi-audit always writes it in collector options"),
        "{err}"
    );
}

/// samples/README.md's bucket table: bucket → whether it holds ePHI (`?`: its tags cannot be
/// read, so it counts as ePHI). Out-of-scope buckets have no findings and are left out.
fn readme_designations() -> BTreeMap<String, bool> {
    let readme = std::fs::read_to_string(samples().join("README.md")).unwrap();
    let mut out = BTreeMap::new();
    let table = readme
        .lines()
        .skip_while(|l| *l != "## The buckets")
        .skip(1)
        .take_while(|l| !l.starts_with("## "));
    for line in table.filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (name, phi, what) = (cells[1].trim_matches('`'), cells[3], cells[4]);
        if what.contains("OUT OF SCOPE") {
            continue;
        }
        let ephi = match phi {
            "yes" | "?" => true,
            "no" => false,
            other => panic!("{name}: PHI column {other:?}"),
        };
        out.insert(name.to_string(), ephi);
    }
    assert_eq!(out.len(), 26, "{out:?}");
    out
}

#[test]
fn every_bucket_finding_carries_the_readme_designation_in_json_csv_and_table() {
    let expected = readme_designations();
    let (zip, _) = sample_bundle();

    let findings: Value = serde_json::from_slice(&entry(zip, "findings.json")).unwrap();
    let mut seen = BTreeMap::new();
    for f in findings["findings"].as_array().unwrap() {
        let subject = f["subject"].as_str().unwrap();
        match subject.strip_prefix("s3://") {
            Some(bucket) => {
                let want = expected[bucket];
                assert_eq!(f["ephi"], want, "{f}");
                let basis = f["ephi_basis"].as_str().unwrap();
                let basis_ok = match (bucket, want) {
                    ("riverside-finance-restricted", _) => basis == "tags_unreadable",
                    (_, true) => basis.starts_with("tag:"),
                    (_, false) => basis == "not_designated",
                };
                assert!(basis_ok, "{bucket}: {basis}");
                seen.insert(bucket.to_string(), want);
            }
            None => assert!(
                f.get("ephi").is_none() && f.get("ephi_basis").is_none(),
                "{f}"
            ),
        }
    }
    assert_eq!(seen, expected, "every in-scope bucket has findings");

    let csv = entry(zip, "findings.csv");
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (subject, ephi) = (column("subject"), column("ephi"));
    let mut rows = 0;
    for row in reader.records().map(Result::unwrap) {
        let want = match row[subject].strip_prefix("s3://") {
            Some(bucket) if expected[bucket] => "yes",
            Some(_) => "no",
            None => "",
        };
        assert_eq!(&row[ephi], want, "{row:?}");
        rows += 1;
    }
    assert_eq!(rows, findings["findings"].as_array().unwrap().len());

    let (code, table, err) = phi_audit(&[
        "evaluate",
        samples().join("snapshot").to_str().unwrap(),
        "--format",
        "table",
    ]);
    assert_eq!(code, 0, "{err}");
    for (bucket, ephi) in &expected {
        let mark = if *ephi { "yes" } else { "no" };
        let heading = format!("s3://{bucket}  ePHI: {mark}  (");
        assert!(
            table.lines().any(|l| l.starts_with(&heading)),
            "no heading {heading:?} in the table"
        );
    }
}

#[test]
fn the_pdf_inventory_has_an_ephi_column() {
    let (zip, _) = sample_bundle();
    let pdf = pdftotext(zip, None);
    let inventory = &pdf[pdf.rfind("Appendix A: Bucket inventory").unwrap()..];
    let header = inventory.lines().find(|l| l.starts_with("Bucket")).unwrap();
    assert!(
        header.contains("ePHI") && header.contains("Tags"),
        "{header}"
    );
    // A long bucket name (and the ePHI basis) wraps in its column: a row starts at a line
    // that starts with "riverside-", its name continues in the first word of the unindented
    // lines after it, and its text is its lines up to the next row.
    let mut rows: Vec<(String, String, Vec<&str>)> = Vec::new();
    for line in inventory.lines().skip(1) {
        if line.starts_with("riverside-") {
            let first = line.split_whitespace().next().unwrap_or_default();
            rows.push((first.to_string(), line.to_string(), Vec::new()));
        } else if let Some((name, _, rest)) = rows.last_mut() {
            if !line.starts_with(' ') && name.ends_with('-') {
                name.push_str(line.split_whitespace().next().unwrap_or_default());
            }
            rest.push(line);
        }
    }
    let row = |bucket: &str| {
        let (_, first, rest) = (rows.iter())
            .find(|(name, _, _)| name == bucket)
            .unwrap_or_else(|| panic!("no row for {bucket}"));
        (first.clone(), rest.join(" "))
    };
    let (fax, fax_rest) = row("riverside-legacy-fax-archive");
    assert_eq!(fax.split_whitespace().nth(3), Some("yes"), "{fax}");
    assert!(fax_rest.contains("(phi=true)"), "{fax_rest}");
    let (finance, finance_rest) = row("riverside-finance-restricted");
    assert!(finance.contains("yes (tags"), "{finance}");
    assert!(finance_rest.contains("unreadable)"), "{finance_rest}");
    let (www, _) = row("riverside-www");
    assert!(www.split_whitespace().nth(3) == Some("no"), "{www}");
}

/// Copies the sample snapshot as account `account` (its id replaced in every file).
fn copy_as_account(from: &Path, to: &Path, account: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_as_account(&e.path(), &target, account);
        } else {
            let text = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(target, text.replace("111122223333", account)).unwrap();
        }
    }
}

#[test]
fn an_organisation_names_the_management_side_principal_and_each_accounts_own() {
    let dir = tempfile::tempdir().unwrap();
    let (management, member) = ("111122223333", "222233334444");
    for account in [management, member] {
        copy_as_account(
            &samples().join("snapshot"),
            &dir.path().join("accounts").join(account),
            account,
        );
    }
    let caller = "arn:aws:iam::111122223333:user/org-auditor";
    let header = serde_json::json!({
        "format": "phi-audit-org-snapshot/1",
        "collected_at": "2026-10-01T06:00:00Z",
        "tool_version": "0.1.0",
        "collector": {
            "GetCallerIdentity": {"UserId": "AIDAORGAUDITOR", "Account": management, "Arn": caller},
            "options": {"regions": [], "scope_file": null, "since": null,
                        "until": "2026-09-30T23:59:59Z", "concurrency": 8, "endpoint_url": null,
                        "profile": null, "organization_mode": true}
        },
        "partition": "aws",
        "organization": {"id": "o-riverside01", "management_account_id": management},
        "role_name": "OrganizationAccountAccessRole",
        "external_id": false,
        "selection": {"accounts": [], "exclude_accounts": []},
        "review_period": {"since": "2026-07-01T00:00:00Z", "until": "2026-09-30T23:59:59Z"},
        "scope": {"include": ["*"], "exclude": ["sandbox-*"], "tags": {}},
        "selected_accounts": [management, member],
        "accounts": {
            management: {"name": "Clinic", "AssumeRole": {"ok": {"AssumedRoleUser": {"Arn": caller}}}},
            member: {"name": "Claims", "AssumeRole": {"ok": {"AssumedRoleUser": {"Arn": "arn:aws:sts::222233334444:assumed-role/PhiAuditReadOnly/phi-audit-2026q3"}}}}
        }
    });
    std::fs::write(
        dir.path().join("snapshot.json"),
        serde_json::to_vec_pretty(&header).unwrap(),
    )
    .unwrap();
    let audit = crate::support::bundle::audit_of(dir.path(), GENERATED_AT, None);
    let view = phi_audit::report::custody::CustodyView::build(&audit.scope);
    let rows: Vec<(&str, &str, &str)> = (view.collectors.iter())
        .map(|c| (c.role.as_str(), c.account.as_str(), c.principal.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Management side", management, caller),
            ("Account 111122223333", management, COLLECTOR_ARN),
            (
                "Account 222233334444",
                member,
                "arn:aws:sts::222233334444:assumed-role/PhiAuditReadOnly/phi-audit-2026q3"
            ),
        ]
    );
    assert!(view
        .options
        .iter()
        .any(|o| o.label == "Organisation mode (--org)" && o.value == "yes"));
    // The header's bare exclusion is not silently accepted.
    assert_eq!(view.exclusions[0].approver, "MISSING");
    assert!(
        audit.warnings.iter().any(|w| w
            .to_string()
            .starts_with("scope exclusion \"sandbox-*\" has no justification or approver")),
        "{:?}",
        audit.warnings
    );
    assert_eq!(
        phi_audit::report::custody::collected_by(&audit.scope),
        format!("{caller} (account {management})")
    );
}
