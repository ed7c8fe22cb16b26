//! The evidence bundle on a small snapshot: layout, manifest, evidence byte for byte, the
//! content of the HTML, CSV and PDF (its extracted text), injection through tag values and policy
//! Sids, determinism, and the atomic write.

use crate::support::bundle::*;
use crate::support::phi_audit;
use phi_audit::package::Options;
use std::path::Path;
use std::process::Command;

#[test]
fn entries_are_in_fixed_order_with_fixed_timestamps() {
    let f = fixture(true);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&f.bundle).unwrap()).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| String::from_utf8_lossy(archive.by_index(i).unwrap().name_raw()).into_owned())
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("README.txt"));
    assert_eq!(names[names.len() - 2], "MANIFEST.sha256");
    assert_eq!(names[names.len() - 1], "MANIFEST.sha256.sig");
    let middle = &names[1..names.len() - 2];
    let mut sorted = middle.to_vec();
    sorted.sort();
    assert_eq!(
        middle,
        sorted.as_slice(),
        "entries between README and MANIFEST are sorted"
    );
    for expected in [
        "report.pdf",
        "report.html",
        "findings.csv",
        "findings.json",
        "evidence/snapshot.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    for i in 0..archive.len() {
        let file = archive.by_index(i).unwrap();
        let t = file.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 10, 2, 9, 0, 0),
            "{} has the generation time as its timestamp",
            String::from_utf8_lossy(file.name_raw())
        );
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o644));
        assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
    }
}

#[test]
fn manifest_checks_with_sha256sum_and_covers_every_other_file() {
    let f = fixture(true);
    let out = f.dir.path().join("unzipped");
    extract(&f.bundle, &out);
    let sha256sum = require_tool("sha256sum", "coreutils");
    let status = Command::new(sha256sum)
        .args(["-c", "--strict", "MANIFEST.sha256"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let manifest = std::fs::read_to_string(out.join("MANIFEST.sha256")).unwrap();
    assert!(!manifest.contains('\r'));
    let listed: Vec<&str> = manifest.lines().map(|l| &l[66..]).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "manifest sorted by path");
    let names: Vec<String> = read_entries(&f.bundle)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for name in &names {
        let covered = listed.contains(&name.as_str());
        assert_eq!(covered, !name.starts_with("MANIFEST.sha256"), "{name}");
    }
}

#[test]
fn evidence_is_the_snapshot_byte_for_byte() {
    let f = fixture(false);
    let mut count = 0;
    for (name, bytes) in read_entries(&f.bundle) {
        if let Some(relative) = name.strip_prefix("evidence/") {
            assert_eq!(
                std::fs::read(f.snapshot.join(relative)).unwrap(),
                bytes,
                "{name}"
            );
            count += 1;
        }
    }
    assert_eq!(count, 7, "snapshot.json, five buckets, one cloudtrail file");
    // The README tells the auditor how to recompute the digest the report shows.
    let readme = String::from_utf8(entry(&f.bundle, "README.txt")).unwrap();
    let snapshot = audit_of(&f.snapshot, GENERATED_AT, None).scope;
    assert!(readme.contains(&snapshot.digest));
    assert!(readme.contains("sha256sum -c MANIFEST.sha256"));
    assert!(readme.contains("not signed"));
}

#[test]
fn html_report_has_every_section_and_escapes_aws_content() {
    let f = fixture(false);
    let html = String::from_utf8(entry(&f.bundle, "report.html")).unwrap();
    // Cover.
    for text in [
        "Riverside &lt;Family&gt; Clinic &amp; Co",
        "111122223333",
        "2026-10-01T06:00:00Z",
        "2026-10-02T09:00:00Z",
        "2026-07-01T00:00:00Z to 2026-09-30T23:59:59Z",
        "phi-audit 0.1.0",
    ] {
        assert!(html.contains(text), "cover lacks {text}");
    }
    let snapshot = audit_of(&f.snapshot, GENERATED_AT, None).scope;
    assert!(html.contains(&snapshot.digest));
    // Summary, one section per safeguard, per policy, appendices.
    assert!(html.contains("Executive summary"));
    assert!(html.contains("Safeguards by status"));
    // Every specification in the coverage table; a section for each that details controls.
    for (id, _) in phi_audit::controls::SAFEGUARDS {
        assert!(
            html.contains(&format!("data-spec=\"{id}\"")),
            "coverage of {id}"
        );
    }
    for (id, title) in [
        ("164.312(a)(1)", "Access control"),
        ("164.312(b)", "Audit controls"),
        ("164.312(e)(1)", "Transmission security"),
    ] {
        assert!(
            html.contains(&format!("<h2>{id} {title}</h2>")),
            "section for {id}"
        );
    }
    for policy in phi_audit::controls::POLICIES {
        assert!(
            html.contains(&format!("<h2>Policy: {policy}</h2>")),
            "page for {policy}"
        );
    }
    assert!(html.contains("No attestation on file for this policy."));
    assert!(html.contains("No exceptions"));
    assert!(html.contains("Appendix A: Bucket inventory"));
    assert!(
        html.contains("DeleteBucketEncryption"),
        "configuration changes from LookupEvents"
    );
    assert!(html.contains("&lt;svc&gt;"));
    assert!(html.contains("Which API answers decide each control"));
    // Findings with status, reason, evidence and remediation.
    assert!(html.contains("s3://public-www"));
    assert!(html.contains(
        "<a href=\"evidence/buckets/public-www.json#/calls/GetBucketPolicy\"><code>evidence/buckets/public-www.json#/calls/GetBucketPolicy</code></a>"
    ));
    assert!(html.contains("aws s3api put-public-access-block --bucket {bucket}"));
    assert!(
        html.contains("Not assessed"),
        "the AccessDenied policy read is an error finding"
    );
    // Injection: the hostile Sid and tags appear escaped, never as markup.
    // The page's one script is its own filter script, after everything else.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "a policy Sid became markup"
    );
    assert!(html.contains("<script>\n(function () {\n  \"use strict\";\n  var form = document.getElementById(\"filters\");"));
    assert!(!html.contains("<img src=x"), "a tag value became markup");
    assert!(!html.contains("<b>owner</b>"), "a tag key became markup");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Self-contained: no external resources, no script but its own, which its
    // Content-Security-Policy allows by hash (and nothing else).
    assert!(!html.contains("<link"));
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("<script src"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-"
    ));
    assert!(html.contains("@media print"));
    // Printed pages carry the running heads: account, times, digest, page X of Y.
    assert!(html.contains("@top-left { content: \"phi-audit | AWS account 111122223333\""));
    assert!(html.contains("collected 2026-10-01T06:00:00Z | generated 2026-10-02T09:00:00Z"));
    assert!(html.contains(&format!("snapshot digest {}", snapshot.digest)));
    assert!(html.contains("counter(page) \" of \" counter(pages)"));
}

#[test]
fn csv_has_one_row_per_finding_and_no_formula_cells() {
    let f = fixture(false);
    let csv_bytes = entry(&f.bundle, "findings.csv");
    let json: serde_json::Value =
        serde_json::from_slice(&entry(&f.bundle, "findings.json")).unwrap();
    assert_eq!(json["format"], "phi-audit-findings/1");
    assert_eq!(json["generated_at"], GENERATED_AT);
    let findings = json["findings"].as_array().unwrap();
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), findings.len());
    let mut saw_sid = false;
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula-like cell {cell:?}"
            );
        }
        saw_sid |= row.iter().any(|c| c.contains("HYPERLINK"));
    }
    assert!(saw_sid, "the hostile Sid is quoted in a reason, as text");
    assert!(csv_bytes.ends_with(b"\r\n"), "RFC 4180 line endings");
}

fn pdftotext(pdf: &Path, args: &[&str]) -> String {
    let tool = require_tool("pdftotext", "poppler-utils");
    let output = Command::new(tool)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn pdf_text_has_cover_contents_sections_and_running_heads() {
    let f = fixture(false);
    let pdf = f.dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&f.bundle, "report.pdf")).unwrap();
    let text = pdftotext(&pdf, &["-layout"]);
    let snapshot = audit_of(&f.snapshot, GENERATED_AT, None).scope;
    for needle in [
        "HIPAA Security Rule evidence: Amazon S3",
        "Riverside <Family> Clinic & Co",
        "Contents",
        "Executive summary",
        "Safeguards by status",
        "164.312(a)(1) Access control",
        "164.312 coverage",
        "164.312(e)(1) Transmission security",
        "Policy: Data Integrity Policy",
        "No attestation on file for this policy.",
        "Appendix A: Bucket inventory",
        "Appendix B: Risk exceptions",
        "No exceptions",
        "Appendix C: Configuration changes in the period",
        "DeleteBucketEncryption",
        "Appendix D: Method",
        "s3://public-www",
        "put-public-access-block",
        snapshot.digest.as_str(),
    ] {
        assert!(text.contains(needle), "PDF text lacks {needle:?}:\n{text}");
    }
    // Every page carries the account, both times, the digest and "page X of Y".
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 10, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains("AWS account 111122223333"), "page {}", i + 1);
        assert!(
            page.contains("collected 2026-10-01T06:00:00Z"),
            "page {}",
            i + 1
        );
        assert!(
            page.contains("generated 2026-10-02T09:00:00Z"),
            "page {}",
            i + 1
        );
        assert!(page.contains(&snapshot.digest), "page {}", i + 1);
        assert!(
            page.contains(&format!("page {} of {}", i + 1, pages.len())),
            "page {}",
            i + 1
        );
    }
    // The table of contents gives real page numbers.
    for title in [
        "Executive summary",
        "Appendix A: Bucket inventory",
        "Appendix D: Method",
    ] {
        // The contents take one page or two, from page 2.
        let contents = pages[1..3].join("\n");
        let number: usize = contents
            .lines()
            .find(|l| l.trim_start().starts_with(title))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{title} is not in the contents:\n{contents}"));
        assert!(
            pages[number - 1].contains(title),
            "{title} is not on page {number}"
        );
    }
    // The contents are links to the pages they name.
    let pdftohtml = require_tool("pdftohtml", "poppler-utils");
    let xml = Command::new(pdftohtml)
        .args(["-xml", "-i", "-stdout", "-f", "2", "-l", "2"])
        .arg(&pdf)
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&xml.stdout);
    assert!(xml.contains("<a href="), "no links in the contents");
    // The hostile Sid is text in the PDF, not anything else.
    assert!(text.contains("alert(1)"));
}

#[test]
fn pdf_text_never_leaves_the_page() {
    let f = fixture(false);
    let pdf = f.dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&f.bundle, "report.pdf")).unwrap();
    let bbox = pdftotext(&pdf, &["-bbox"]);
    let mut words = 0;
    for line in bbox.lines().filter(|l| l.trim_start().starts_with("<word")) {
        let attr = |name: &str| -> f32 {
            let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            line[start..].split('"').next().unwrap().parse().unwrap()
        };
        words += 1;
        assert!(
            attr("xMin") >= 30.0 && attr("xMax") <= 612.0 - 30.0,
            "outside the margins: {line}"
        );
        assert!(
            attr("yMin") >= 10.0 && attr("yMax") <= 792.0 - 10.0,
            "outside the page: {line}"
        );
    }
    assert!(words > 1000);
    // The 63-character bucket name is there, wrapped or whole.
    let text = pdftotext(&pdf, &[]);
    assert!(text.contains(&LONG_BUCKET[..30]));
}

#[test]
fn same_inputs_give_byte_identical_bundles() {
    let f = fixture(true);
    let again = f.dir.path().join("again.zip");
    let key = test_key();
    build(&f.snapshot, &again, Some(&key), None).unwrap();
    assert_eq!(
        std::fs::read(&f.bundle).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // A different generation time is a different bundle.
    let audit = audit_of(&f.snapshot, "2026-10-03T00:00:00Z", None);
    let other = f.dir.path().join("other.zip");
    phi_audit::package::write(&audit, &Options::default(), &other).unwrap();
    assert_ne!(
        std::fs::read(&f.bundle).unwrap(),
        std::fs::read(&other).unwrap()
    );
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("bundle.zip");
    // The attestations file vanishes between the judgement and the bundling.
    let mut audit = audit_of(&snapshot, GENERATED_AT, None);
    audit
        .admin_files
        .push(dir.path().join("no-such-attestations.yaml"));
    let err = phi_audit::package::write(&audit, &Options::default(), &out).unwrap_err();
    assert!(
        err.to_string().contains("no-such-attestations.yaml"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "no bundle and no temp file"
    );
}

#[test]
fn attestation_files_are_carried_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let attestations = dir.path().join("attestations.yaml");
    std::fs::write(&attestations, "attestations: []\n").unwrap();
    let out = dir.path().join("bundle.zip");
    build(&snapshot, &out, None, Some(&attestations)).unwrap();
    assert_eq!(
        entry(&out, "attestations/attestations.yaml"),
        b"attestations: []\n"
    );
}

#[test]
fn report_and_verify_commands_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let prefix = dir.path().join("signing");
    let (code, out, err) = phi_audit(&["keygen", "--out", prefix.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, _, err) = phi_audit(&["keygen", "--out", prefix.to_str().unwrap()]);
    assert_eq!(code, 2, "keygen never overwrites a key: {err}");

    let bundle = dir.path().join("bundle.zip");
    let key = dir.path().join("signing.key");
    let (code, out, err) = phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        GENERATED_AT,
        "--sign-key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("report.pdf"), "{out}");
    let public = dir.path().join("signing.pub");
    let (code, out, _) = phi_audit(&[
        "verify",
        bundle.to_str().unwrap(),
        "--public-key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK       report.pdf"), "{out}");
    assert!(out.contains("signature: valid"), "{out}");
    assert!(out.contains("INTACT"), "{out}");

    let (code, _, err) = phi_audit(&[
        "report",
        "/no/such/snapshot",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/no/such/snapshot"), "{err}");
}

#[test]
fn policy_pages_show_attestations_and_the_appendix_lists_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    // The System Access Policy is current; the Auditing Policy's review date has passed.
    let attestations = dir.path().join("attestations.yaml");
    std::fs::write(
        &attestations,
        r#"attestations:
  - policy: System Access Policy
    owner: Dana <CISO> Whitfield
    approver: Board risk committee
    approved_on: 2026-03-01
    next_review: 2027-03-01
    statement: Access to ePHI is granted on least privilege.
    document:
      path: policies/system-access.pdf
      sha256: abababababababababababababababababababababababababababababababab
  - policy: Auditing Policy
    owner: Lee Park
    approver: CISO
    approved_on: 2025-01-10
    next_review: 2026-01-10
    statement: Audit logs are kept six years.
    document:
      path: policies/auditing.pdf
      sha256: cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd
"#,
    )
    .unwrap();
    let exceptions = dir.path().join("exceptions.yaml");
    std::fs::write(
        &exceptions,
        r#"exceptions:
  - subject: s3://public-www
    control: s3.world-readable-anonymous
    justification: Public website assets <no PHI>
    approver: CISO
    approved_on: 2026-06-01
    expires: 2026-12-31
"#,
    )
    .unwrap();
    let judgement = phi_audit::audit::Judgement {
        attestations: Some(attestations),
        exceptions: Some(exceptions),
        generated_at: GENERATED_AT.to_string(),
        ..Default::default()
    };
    let audit = phi_audit::audit::Audit::build(&snapshot, &judgement).unwrap();
    let out = dir.path().join("bundle.zip");
    phi_audit::package::write(&audit, &Options::default(), &out).unwrap();
    let html = String::from_utf8(entry(&out, "report.html")).unwrap();
    assert!(html.contains("Dana &lt;CISO&gt; Whitfield"));
    // Its document cannot be read: the note says so rather than "Attested" alone.
    assert!(html.contains(
        "Attested, next review due 2027-03-01, but the attestation does not stand as evidence: admin."
    ));
    assert!(
        html.contains("the attestation has expired"),
        "Auditing Policy's review date passed"
    );
    assert!(
        html.contains("No attestation on file for this policy."),
        "two policies have none"
    );
    assert!(html.contains("Public website assets &lt;no PHI&gt;"));
    assert!(html.contains("in force"));
    assert!(!html.contains("No exceptions"));
    // The policy page summarises the technical controls that support it.
    assert!(html.contains("Technical controls supporting this policy"));

    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, entry(&out, "report.pdf")).unwrap();
    let tool = require_tool("pdftotext", "poppler-utils");
    let text = String::from_utf8(
        Command::new(tool)
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for needle in [
        "Dana <CISO> Whitfield",
        "policies/system-access.pdf",
        "the attestation has expired",
        "Public website assets <no PHI>",
        "2026-12-31",
    ] {
        // Table cells wrap where the layout puts the line ends: compare the words.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(needle), "PDF lacks {needle:?}");
    }
}

/// The README's standard-tool instructions work as written: manifest, no extra files, and the
/// snapshot digest recomputed from evidence/.
#[test]
fn readme_instructions_work_with_standard_tools() {
    let f = fixture(false);
    let out = f.dir.path().join("bundle");
    extract(&f.bundle, &out);
    let bash = require_tool("bash", "bash");
    let readme = std::fs::read_to_string(out.join("README.txt")).unwrap();
    let commands: Vec<&str> = readme
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("sha256sum -c")
                || l.starts_with("find . -type f !")
                || l.starts_with("cut -c67-")
        })
        .collect();
    assert_eq!(commands.len(), 3, "{readme}");
    let script = format!("set -euo pipefail\n{}\n", commands.join("\n"));
    let run = Command::new(&bash)
        .arg("-c")
        .arg(&script)
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    // An extra file is caught by the diff.
    std::fs::write(out.join("evidence/planted.json"), "{}").unwrap();
    let run = Command::new(&bash)
        .arg("-c")
        .arg(&script)
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(!run.status.success(), "an extra file must be noticed");
    std::fs::remove_file(out.join("evidence/planted.json")).unwrap();

    let digest_line = readme
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("cd evidence &&"))
        .expect("the README shows how to recompute the digest");
    let run = Command::new(&bash)
        .arg("-c")
        .arg(digest_line)
        .current_dir(&out)
        .output()
        .unwrap();
    let snapshot = audit_of(&f.snapshot, GENERATED_AT, None).scope;
    assert!(String::from_utf8_lossy(&run.stdout).starts_with(&snapshot.digest));
}

/// Evidence that changes between reading the snapshot and bundling it is refused, so the
/// bundle never pairs a report with evidence it was not computed from.
#[test]
fn evidence_changed_after_evaluation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let audit = audit_of(&snapshot, GENERATED_AT, None);
    let victim = snapshot.join("buckets/phi-good.json");
    let mut text = std::fs::read_to_string(&victim).unwrap();
    text.push('\n');
    std::fs::write(&victim, text).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let err = phi_audit::package::write(&audit, &Options::default(), &out_dir.join("bundle.zip"))
        .unwrap_err();
    assert!(
        matches!(err, phi_audit::package::BundleError::EvidenceChanged { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("phi-good.json"), "{err}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0);
}

/// A report killed outright (SIGKILL) leaves its hidden temporary behind; the next report into
/// the same place removes it and says so, and leaves a live run's temporary alone.
#[cfg(target_os = "linux")]
#[test]
fn the_next_report_removes_a_killed_runs_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let bundle = dir.path().join("bundle.zip");
    // A pid no process can have (above the kernel's limit), and one that runs (our parent).
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let stale = dir.path().join(format!(".bundle.zip.tmp-{}", pid_max + 1));
    let live = dir
        .path()
        .join(format!(".bundle.zip.tmp-{}", std::process::id()));
    std::fs::write(&stale, b"PK half a zip").unwrap();
    std::fs::write(&live, b"PK another run").unwrap();
    let (code, out, err) = phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        GENERATED_AT,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!stale.exists(), "the killed run's temporary is gone");
    assert!(live.exists(), "a running process's temporary is left alone");
    assert!(
        err.contains(&format!(
            "removed stale temporary {} left by an interrupted run (pid {})",
            stale.display(),
            pid_max + 1
        )),
        "{err}"
    );
    let (code, listing, _) = phi_audit(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{listing}");
}
