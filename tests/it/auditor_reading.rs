//! The sample bundle (the README's first command) read as an auditor reads it: the README's
//! verification steps run as written, no identifier the report warns about is reprinted, every
//! reference resolves, ids are stable and tables add up (issue #14).

use crate::support::bundle::{extract, require_tool};
use crate::support::phi_audit;
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
        let (code, out, err) = phi_audit(&[
            "report",
            s.join("snapshot").to_str().unwrap(),
            "--attestations",
            s.join("attestations.yaml").to_str().unwrap(),
            "--exceptions",
            s.join("exceptions.yaml").to_str().unwrap(),
            "--out",
            zip.to_str().unwrap(),
            "--generated-at",
            "2026-10-02T09:00:00Z",
        ]);
        assert_eq!(code, 0, "{out}{err}");
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
    assert_eq!(
        commands[1],
        phi_audit::bundle::write::README_POWERSHELL_CHECK
    );
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
