//! `phi-audit diff` at scale (issue #17): two bundles of 5,001 generated buckets each, whose
//! findings.json is larger than the 64 MiB that diff once read an entry through (it then failed
//! with "EOF while parsing a string"). The bundles hold what diff and verify read — findings.json
//! as `evaluate` writes it, the snapshot under evidence/ and the manifest — so the test does not
//! spend minutes rendering a 5,000-bucket PDF in a debug build.

use crate::support::bundle::audit_of;
use crate::support::fixtures::gen_fleet;
use crate::support::phi_audit;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

const BUCKETS: usize = 5001;
const GENERATED_AT: &str = "2026-10-02T00:00:00Z";
const ADDED: &str = "riverside-phi-scale-added";

/// `scripts/gen-fleet.py`'s snapshot of `BUCKETS` buckets in `out`.
fn generate(out: &Path) {
    gen_fleet(out, &["--buckets", &BUCKETS.to_string()]);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a bundle of `snapshot` to `out`: findings.json (the evaluation, streamed), the
/// snapshot's files under evidence/, and MANIFEST.sha256 over both. Returns findings.json's size.
fn write_bundle(snapshot: &Path, out: &Path) -> u64 {
    let audit = audit_of(snapshot, GENERATED_AT, None);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let mut manifest = Vec::new();

    zip.start_file("findings.json", options).unwrap();
    let (findings_size, digest) = {
        let mut hashing = Hashing {
            inner: std::io::BufWriter::new(&mut zip),
            hasher: Sha256::new(),
            bytes: 0,
        };
        phi_audit::report::write_findings_json(&audit.findings, &mut hashing).unwrap();
        hashing.flush().unwrap();
        (hashing.bytes, hashing.hasher.finalize())
    };
    manifest.push(("findings.json".to_string(), digest));
    drop(audit);

    for file in files_under(snapshot) {
        let relative = file.strip_prefix(snapshot).unwrap().to_str().unwrap();
        let name = format!("evidence/{relative}");
        let data = std::fs::read(&file).unwrap();
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(&data).unwrap();
        manifest.push((name, Sha256::digest(&data)));
    }
    manifest.sort();
    let text: String = manifest
        .iter()
        .map(|(name, digest)| {
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}  {name}\n")
        })
        .collect();
    zip.start_file("MANIFEST.sha256", options).unwrap();
    zip.write_all(text.as_bytes()).unwrap();
    zip.finish().unwrap();
    findings_size
}

/// NEW: OLD's snapshot with one well-run PHI bucket's versioning suspended, one bucket gone
/// and one added (a copy of a well-run PHI bucket). Returns (unversioned bucket, removed bucket).
fn change(new: &Path) -> (String, String) {
    let buckets = new.join("buckets");
    let names: Vec<String> = files_under(&buckets)
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    let first = |prefix: &str| {
        names
            .iter()
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("a {prefix} bucket"))
            .clone()
    };
    let unversioned = first("riverside-phi-ehr-exports-");
    let removed = first("riverside-analytics-shared-");
    let template = first("riverside-phi-imaging-dicom-");

    let path = buckets.join(format!("{unversioned}.json"));
    let mut bucket = read_json(&path);
    bucket["calls"]["GetBucketVersioning"] = json!({"ok": {"Status": "Suspended"}});
    write_json(&path, &bucket);

    std::fs::remove_file(buckets.join(format!("{removed}.json"))).unwrap();
    let text = std::fs::read_to_string(buckets.join(format!("{template}.json"))).unwrap();
    std::fs::write(
        buckets.join(format!("{ADDED}.json")),
        text.replace(&template, ADDED),
    )
    .unwrap();
    (unversioned, removed)
}

#[test]
fn two_bundles_of_five_thousand_buckets_are_compared() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    generate(&old);
    generate(&new);
    let (unversioned, removed) = change(&new);
    let (old_zip, new_zip) = (dir.path().join("old.zip"), dir.path().join("new.zip"));
    let findings_size = write_bundle(&old, &old_zip);
    write_bundle(&new, &new_zip);
    assert!(
        findings_size > 64 << 20,
        "findings.json is {findings_size} bytes: the test needs more than the old 64 MiB cap"
    );

    let (code, stdout, stderr) = phi_audit(&[
        "diff",
        old_zip.to_str().unwrap(),
        new_zip.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "diff failed: {stderr}");
    let diff: Value = serde_json::from_str(&stdout).unwrap();

    let names = |list: &str, field: &str| -> BTreeSet<String> {
        diff[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item[field].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("removed_buckets", "name"), BTreeSet::from([removed]));
    assert_eq!(
        names("new_buckets", "name"),
        BTreeSet::from([ADDED.to_string()])
    );
    let changed: Vec<(String, String)> = diff["changed_configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap().to_string();
            (field("bucket"), field("operation"))
        })
        .collect();
    assert_eq!(
        changed,
        [(unversioned.clone(), "GetBucketVersioning".to_string())]
    );
    // The unversioned bucket fails what it passed; the added bucket's failures are all new;
    // nothing else of the 120,000 findings changed.
    let subject = format!("s3://{unversioned}");
    assert!(
        diff["new_failures"].as_array().unwrap().iter().any(|f| {
            f["subject"] == json!(subject) && f["control"] == json!("s3.versioning-disabled")
        }),
        "{}",
        diff["new_failures"]
    );
    let failing = names("new_failures", "subject");
    let allowed = BTreeSet::from([subject, format!("s3://{ADDED}")]);
    assert!(failing.is_subset(&allowed), "{failing:?}");
    for list in ["fixed_failures", "expired_exceptions"] {
        assert_eq!(diff[list], json!([]), "{list}");
    }
    let unassessable = names("newly_unassessable", "subject");
    assert!(unassessable.is_subset(&allowed), "{unassessable:?}");
}
