//! The sample bundle (the README's first command) read as an auditor reads it: the README's
//! verification steps run as written, no identifier the report warns about is reprinted, every
//! reference resolves, ids are stable and tables add up (issue #14).

use crate::support::bundle::{extract, require_tool};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The sample bundle, built once per test run, with its entries extracted beside it.
struct Sample {
    zip: PathBuf,
    dir: PathBuf,
}

fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("auditor-reading-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let s = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let zip = root.join("bundle.zip");
        crate::support::bundle::report_sample(&s.join("snapshot"), &zip);
        let dir = root.join("extracted");
        extract(&zip, &dir);
        Sample { zip, dir }
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The indented command lines README.txt gives under the heading that starts with `heading`.
fn readme_commands(readme: &str, heading: &str) -> Vec<String> {
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1);
    let mut commands = Vec::new();
    for line in lines.by_ref() {
        match line.strip_prefix("    ") {
            Some(command) => commands.push(command.to_string()),
            None if line.is_empty() => continue,
            None => break,
        }
    }
    assert!(
        !commands.is_empty(),
        "README.txt has no commands under {heading:?}"
    );
    commands
}

/// Runs README.txt's commands for one system with `shell` in a fresh directory holding a copy
/// of the bundle named as README.txt names it; `tamper` edits a file of the unzipped bundle
/// before the check. Returns (success, stdout).
fn run_readme_check(heading: &str, shell: &[&str], tamper: bool) -> (bool, String) {
    let s = sample();
    let readme = read(&s.dir.join("README.txt"));
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(&s.zip, work.path().join("bundle.zip")).unwrap();
    let mut commands = readme_commands(&readme, heading);
    if tamper {
        // After the unzip, before the check.
        let append = match heading {
            "Windows (" => "Add-Content findings.csv x",
            _ => "printf x >> findings.csv",
        };
        commands.insert(1, append.to_string());
    }
    let script = commands.join("\n");
    let mut command = Command::new(shell[0]);
    command
        .args(&shell[1..])
        .arg(&script)
        .current_dir(work.path());
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn readme_verification_steps_run_on_linux_and_macos_tools() {
    require_tool("unzip", "unzip");
    require_tool("sha256sum", "coreutils");
    require_tool("shasum", "perl");
    for heading in ["Linux (", "macOS ("] {
        let (ok, out) = run_readme_check(heading, &["sh", "-e", "-c"], false);
        assert!(ok, "{heading}: {out}");
        assert!(out.contains("findings.csv: OK"), "{heading}: {out}");
        assert!(!out.contains("FAILED"), "{heading}: {out}");
        let (ok, out) = run_readme_check(heading, &["sh", "-e", "-c"], true);
        assert!(!ok, "{heading}: a changed file went unnoticed: {out}");
        assert!(out.contains("findings.csv: FAILED"), "{heading}: {out}");
    }
}

#[test]
fn readme_verification_steps_cover_windows() {
    let readme = read(&sample().dir.join("README.txt"));
    let commands = readme_commands(&readme, "Windows (");
    assert!(commands[0].starts_with("Expand-Archive bundle.zip"));
    assert_eq!(commands[1], phi_audit::package::README_POWERSHELL_CHECK);
    // Run it where PowerShell is installed (not on the Debian CI image).
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("pwsh").is_file()))
        .unwrap_or(false);
    if on_path {
        let (ok, out) = run_readme_check("Windows (", &["pwsh", "-NoProfile", "-Command"], false);
        assert!(
            ok && out.contains("OK  findings.csv") && !out.contains("FAILED"),
            "{out}"
        );
        let (_, out) = run_readme_check("Windows (", &["pwsh", "-NoProfile", "-Command"], true);
        assert!(out.contains("FAILED  findings.csv"), "{out}");
    }
}

/// The identifiers the sample's tags carry (samples/README.md): a social security number, a
/// date of birth and a patient's e-mail address.
const SAMPLE_IDENTIFIERS: [&str; 3] = ["123-45-6789", "1984-03-12", "jane.doe@example.com"];

/// Every human-readable document of the bundle, as text: README.txt, report.html, the PDF's
/// text, findings.csv, findings.json and oscal/.
fn documents() -> Vec<(String, String)> {
    let s = sample();
    let mut docs: Vec<(String, String)> =
        ["README.txt", "report.html", "findings.csv", "findings.json"]
            .iter()
            .map(|name| (name.to_string(), read(&s.dir.join(name))))
            .collect();
    for entry in std::fs::read_dir(s.dir.join("oscal")).unwrap() {
        let path = entry.unwrap().path();
        docs.push((path.display().to_string(), read(&path)));
    }
    docs.push(("report.pdf".to_string(), pdf_text()));
    docs
}

fn pdf_text() -> String {
    let tool = require_tool("pdftotext", "poppler-utils");
    let output = Command::new(tool)
        .arg("-layout")
        .arg(sample().dir.join("report.pdf"))
        .arg("-")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn no_document_reprints_the_sample_identifiers() {
    let evidence = std::fs::read_dir(sample().dir.join("evidence/buckets"))
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .collect::<String>();
    for id in SAMPLE_IDENTIFIERS {
        // They are there to leak: evidence/ keeps them byte for byte.
        assert!(
            evidence.contains(id),
            "{id} is not in the sample's evidence"
        );
    }
    let docs = documents();
    assert_eq!(
        docs.len(),
        6,
        "{:?}",
        docs.iter().map(|d| &d.0).collect::<Vec<_>>()
    );
    for (name, text) in &docs {
        for id in SAMPLE_IDENTIFIERS {
            assert!(!text.contains(id), "{name} reprints {id}");
        }
    }
    // Masked, yet recognisable, where the inventory shows the tags.
    let html = &docs[1].1;
    for masked in ["***-**-6789", "1984-**-**", "j*******@example.com"] {
        assert!(html.contains(masked), "report.html lacks {masked}");
    }
    assert!(docs[0].1.contains("handle them\n                 as PHI"));
}

/// `%XX` decoded (hrefs percent-encode their pointers).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Why a bundle path (`file#pointer`, relative to the bundle's top) does not resolve, if it
/// does not: the file must exist, and the JSON pointer must name a member of its JSON or YAML.
fn unresolved(reference: &str) -> Option<String> {
    let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
    let path = sample().dir.join(file);
    if !path.is_file() {
        return Some(format!("{reference}: no file {file} in the bundle"));
    }
    if pointer.is_empty() {
        return None;
    }
    let text = read(&path);
    let value: serde_json::Value = if file.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else if file.ends_with(".yaml") || file.ends_with(".yml") {
        serde_saphyr::from_str(&text).unwrap()
    } else {
        return Some(format!(
            "{reference}: a pointer into a file that is neither JSON nor YAML"
        ));
    };
    match value.pointer(pointer) {
        Some(_) => None,
        None => Some(format!("{reference}: {pointer} names nothing in {file}")),
    }
}

/// findings.json's rule (docs/findings-format.md): a reference names its file relative to the
/// input it points into; in a bundle that input is `evidence/` (the snapshot), `attestations/`
/// (the attestation and exception files and the documents they name) or, for `controls/…`,
/// `catalog/`.
fn findings_json_reference_in_bundle(reference: &str) -> String {
    if let Some(rest) = reference.strip_prefix("controls/") {
        return format!("catalog/{rest}");
    }
    let file = reference.split('#').next().unwrap();
    if sample().dir.join("attestations").join(file).is_file() {
        format!("attestations/{reference}")
    } else {
        format!("evidence/{reference}")
    }
}

#[test]
fn every_reference_in_every_document_resolves_in_the_bundle() {
    let s = sample();
    let mut problems = Vec::new();
    let mut checked = 0;
    // findings.json: by its documented rule; an answer the snapshot never recorded is cited
    // only by a finding that says it was not assessed.
    let findings: serde_json::Value =
        serde_json::from_str(&read(&s.dir.join("findings.json"))).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    let mut not_collected = 0;
    for f in findings {
        for r in f["evidence"].as_array().unwrap() {
            let path = findings_json_reference_in_bundle(r.as_str().unwrap());
            checked += 1;
            if let Some(problem) = unresolved(&path) {
                let file_exists = s.dir.join(path.split('#').next().unwrap()).is_file();
                let reason = f["reason"].as_str().unwrap();
                if f["status"] == "error" && file_exists && reason.contains("was not collected") {
                    not_collected += 1;
                } else {
                    problems.push(format!("findings.json {}: {problem}", f["id"]));
                }
            }
        }
    }
    assert_eq!(
        not_collected, 2,
        "the sample's one unrecorded answer, cited by two findings"
    );
    // findings.csv: bundle paths, separated by spaces; the same unrecorded answer.
    let csv_text = read(&s.dir.join("findings.csv"));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let evidence_column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "evidence")
        .unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        for r in row[evidence_column].split(' ') {
            checked += 1;
            if let Some(problem) = unresolved(r) {
                if !(row[2] == *"error" && row[6].contains("was not collected")) {
                    problems.push(format!("findings.csv: {problem}"));
                }
            }
        }
    }
    // report.html: every link that is not an anchor of the page itself leads into the bundle;
    // every anchor it links to exists.
    let html = read(&s.dir.join("report.html"));
    let mut links = 0;
    for href in html
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
    {
        checked += 1;
        if let Some(anchor) = href.strip_prefix('#') {
            if !html.contains(&format!("id=\"{anchor}\"")) {
                problems.push(format!("report.html: no anchor {href}"));
            }
        } else if !href.starts_with("http") {
            links += 1;
            if let Some(problem) = unresolved(&percent_decode(href)) {
                problems.push(format!("report.html: {problem}"));
            }
        }
    }
    assert!(links > 100, "report.html links only {links} references");
    // Appendix C: every change with its CloudTrail event id and a link to the recorded event.
    let changes: serde_json::Value =
        serde_json::from_str(&read(&s.dir.join("findings.json"))).unwrap();
    let changes = changes["changes"]["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        let id = c["event_id"].as_str().unwrap();
        let evidence = c["evidence"].as_str().unwrap();
        assert!(evidence.contains("#/LookupEvents/ok/Events/"), "{evidence}");
        assert!(html.contains(id), "Appendix C lacks event {id}");
        assert!(
            html.contains(&format!("href=\"evidence/{evidence}\"")),
            "{evidence}"
        );
        let event = findings_json_reference_in_bundle(evidence);
        assert_eq!(unresolved(&event), None);
        let (file, pointer) = event.split_once('#').unwrap();
        let recorded: serde_json::Value = serde_json::from_str(&read(&s.dir.join(file))).unwrap();
        assert_eq!(recorded.pointer(pointer).unwrap()["EventId"], id, "{event}");
    }
    // oscal/: every href, relative to oscal/.
    let oscal = read(&s.dir.join("oscal/assessment-results.json"));
    let oscal: serde_json::Value = serde_json::from_str(&oscal).unwrap();
    let mut hrefs = Vec::new();
    collect_hrefs(&oscal, &mut hrefs);
    assert!(hrefs.len() > 100);
    for href in hrefs
        .iter()
        .filter(|h| !h.starts_with('#') && !h.starts_with("http"))
    {
        checked += 1;
        match href.strip_prefix("../") {
            Some(path) => {
                if let Some(problem) = unresolved(&percent_decode(path)) {
                    problems.push(format!("oscal: {problem}"));
                }
            }
            None => problems.push(format!("oscal: {href} does not lead out of oscal/")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checked}:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // No template stands for a file anywhere an auditor reads.
    for (name, text) in documents() {
        for template in ["<bucket>", "&lt;bucket&gt;"] {
            let evidence_template = format!("{template}.json");
            assert!(
                !text.contains(&evidence_template),
                "{name} cites a template path"
            );
        }
    }
}

fn collect_hrefs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("href", serde_json::Value::String(h)) => out.push(h.clone()),
                    _ => collect_hrefs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_hrefs(v, out)),
        _ => {}
    }
}

#[test]
fn findings_carry_one_stable_id_in_every_document() {
    let s = sample();
    let findings: serde_json::Value =
        serde_json::from_str(&read(&s.dir.join("findings.json"))).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for f in findings {
        let id = f["id"].as_str().unwrap();
        // Derived from account, subject and control, as documented.
        let expected = phi_audit::findings::finding_id(
            f["account"].as_str().unwrap(),
            f["subject"].as_str().unwrap(),
            f["control"].as_str().unwrap(),
        );
        assert_eq!(id, expected);
        assert!(id.len() == 18 && id.starts_with("f-"), "{id}");
        assert!(ids.insert(id.to_string()), "{id} twice");
    }
    // The same ids, row for row, in findings.csv.
    let csv_text = read(&s.dir.join("findings.csv"));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, phi_audit::report::csv::HEADER.to_vec());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    for (row, f) in rows.iter().zip(findings) {
        assert_eq!(&row[column("id")], f["id"].as_str().unwrap());
    }
    // A failing bucket finding has its title, region, remediation with the bucket filled in.
    let www = rows
        .iter()
        .find(|r| &r[0] == "s3://riverside-www" && &r[1] == "s3.tls-not-enforced")
        .expect("the website's TLS finding");
    assert_eq!(&www[column("region")], "us-east-1");
    assert!(!www[column("title")].is_empty());
    assert!(
        www[column("remediation_cli")].contains("--bucket riverside-www"),
        "{www:?}"
    );
    // An excepted finding names its approver and expiry.
    let excepted = rows
        .iter()
        .find(|r| &r[2] == "excepted")
        .expect("an excepted finding");
    assert!(!excepted[column("exception_approver")].is_empty());
    assert_eq!(excepted[column("exception_expires")].len(), 10);
    // OSCAL: one finding-id prop per finding an auditor acts on (fail, error, excepted; passes
    // are summarised there); report.html: every listed finding's anchor.
    let oscal = read(&s.dir.join("oscal/assessment-results.json"));
    let html = read(&s.dir.join("report.html"));
    let mut anchored = 0;
    for f in findings {
        let id = f["id"].as_str().unwrap();
        let acted_on = ["fail", "error", "excepted"].contains(&f["status"].as_str().unwrap());
        assert_eq!(
            oscal.contains(&format!(
                "\"name\":\"finding-id\",\"ns\":\"urn:phi-audit:oscal\",\"value\":\"{id}\""
            )),
            acted_on,
            "{id} in OSCAL"
        );
        anchored += usize::from(html.contains(&format!("id=\"{id}\"")));
    }
    let listed = findings
        .iter()
        .filter(|f| ["fail", "error", "excepted"].contains(&f["status"].as_str().unwrap()))
        .count();
    assert!(
        anchored >= listed,
        "{anchored} anchors for {listed} listed findings"
    );
}

/// The cells of each `<tr>` of the HTML between `start` and the next `</table>`, tags stripped.
fn html_rows(html: &str, start: &str) -> Vec<Vec<String>> {
    let at = html.find(start).unwrap_or_else(|| panic!("no {start}"));
    let table = &html[at..];
    let table = &table[..table.find("</table>").unwrap()];
    let tbody = &table[table.find("<tbody>").unwrap()..];
    // Rows open with `<tr>` or, where the filters act on them, `<tr data-row …>`.
    tbody
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').unwrap() + 1..];
                    inner[..inner.find("</td>").unwrap()].to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_report_does_not_contradict_itself() {
    let s = sample();
    let html = read(&s.dir.join("report.html"));
    let pdf = pdf_text();
    let json: serde_json::Value =
        serde_json::from_str(&read(&s.dir.join("findings.json"))).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let count = |subject: &str, status: &str| {
        (findings.iter())
            .filter(|f| f["subject"] == format!("s3://{subject}") && f["status"] == status)
            .count()
    };
    // The inventory's columns add up to findings.json, status by status, bucket by bucket.
    let statuses = ["fail", "error", "excepted", "pass", "not_applicable"];
    let rows = html_rows(&html, "id=\"appendix-inventory\"");
    assert_eq!(rows.len(), 27);
    let mut total = 0;
    for row in &rows {
        for (k, status) in statuses.iter().enumerate() {
            // The five counts stand before the last cell (the worst failure).
            let shown: usize = row[row.len() - 6 + k].parse().unwrap();
            assert_eq!(shown, count(&row[0], status), "{} {status}", row[0]);
            total += shown;
        }
    }
    let bucket_findings = (findings.iter())
        .filter(|f| f["subject"].as_str().unwrap().starts_with("s3://"))
        .count();
    assert_eq!(total, bucket_findings);
    // The summary's counts add up to its total, which is findings.json's.
    let summary = &html_rows(&html, "<th class=\"num\">total</th>")[0];
    let by_status: Vec<usize> = summary
        .iter()
        .map(|c| c.replace(',', "").parse().unwrap())
        .collect();
    assert_eq!(by_status[..5].iter().sum::<usize>(), by_status[5]);
    assert_eq!(by_status[5], findings.len());
    for (k, status) in statuses.iter().enumerate() {
        assert_eq!(
            by_status[k], json["summary"]["by_status"][status],
            "{status}"
        );
    }
    // The PDF's inventory has the same columns.
    let header = pdf
        .lines()
        .find(|l| l.contains("Bucket") && l.contains("Tags") && l.contains("Worst"))
        .expect("the PDF inventory's header");
    for column in ["Fail", "Error", "Excepted", "Pass", "N/A"] {
        assert!(header.contains(column), "{header}");
    }
    // A policy whose document changed is not shown as simply attested above its failure.
    for text in [&html, &pdf] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(
            "but the attestation does not stand as evidence: admin.attestation-document-changed (FAIL)"
        ));
        assert!(!flat.contains("Attested; next review due 2027-01-15"));
    }
    // Remediation: the line above each command names exactly the placeholders it holds.
    assert!(html.contains("AWS CLI (replace TRAIL_ARN with the trail&#39;s ARN):"));
    for block in html.split("<p class=\"muted\">AWS CLI").skip(1) {
        let (note, rest) = block.split_once("</p>").unwrap();
        let command = &rest[rest.find("<pre>").unwrap() + 5..rest.find("</pre>").unwrap()];
        for token in ["{bucket}", "TRAIL_ARN", "KEY_ARN", "LOG_BUCKET"] {
            assert_eq!(
                note.contains(token),
                command.contains(token),
                "{note} over {command}"
            );
        }
    }
    // Appendix B: the stale exception is shown as matching nothing, the others by state.
    let exceptions = html_rows(&html, "id=\"appendix-exceptions\"");
    let states: Vec<&str> = exceptions
        .iter()
        .map(|r| r.last().unwrap().as_str())
        .collect();
    assert_eq!(
        states,
        [
            "in force",
            "in force",
            "in force",
            "expired",
            "matched nothing"
        ],
        "{exceptions:?}"
    );
}
