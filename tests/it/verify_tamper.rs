//! `phi-audit verify` against every kind of tampering: changed, missing and extra entries of each
//! kind, a truncated zip, zip-slip and absolute names, symlinks, duplicates, and bad signatures.

use crate::support::bundle::*;
use crate::support::phi_audit;
use phi_audit::bundle::sign::{PublicKey, SecretKey};
use phi_audit::bundle::verify::{EntryStatus, SignatureCheck, VerifyError, VerifyReport};
use phi_audit::parallel::Threads;
use std::path::Path;
use std::process::Command;

/// Verifies on one thread and on four: the listing must be the same.
fn verify(path: &Path, key: Option<&PublicKey>) -> Result<VerifyReport, VerifyError> {
    let one = phi_audit::bundle::verify::verify(path, key, Threads::ONE);
    let four = phi_audit::bundle::verify::verify(path, key, Threads::new(4));
    match (&one, &four) {
        (Ok(one), Ok(four)) => assert_eq!(one.render(), four.render()),
        (Err(one), Err(four)) => assert_eq!(one.to_string(), four.to_string()),
        _ => panic!("one thread and four disagree on {}", path.display()),
    }
    one
}

fn status_of(report: &phi_audit::bundle::verify::VerifyReport, name: &str) -> Option<EntryStatus> {
    report
        .entries
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.status)
}

#[test]
fn an_intact_bundle_verifies() {
    let f = fixture(true);
    let report = verify(&f.bundle, Some(&test_key().public())).unwrap();
    assert!(report.intact(), "{}", report.render());
    assert!(matches!(report.signature, SignatureCheck::Valid { .. }));
    assert!(report.entries.iter().all(|e| e.status == EntryStatus::Ok));
    // Without a key the signature is reported, not silently ignored.
    let report = verify(&f.bundle, None).unwrap();
    assert!(report.intact());
    assert!(report
        .render()
        .contains("signature: present but not checked"));
}

#[test]
fn a_changed_entry_of_each_kind_is_reported() {
    let f = fixture(false);
    for victim in [
        "README.txt",
        "report.pdf",
        "report.html",
        "findings.csv",
        "findings.json",
        "evidence/snapshot.json",
        "evidence/buckets/public-www.json",
    ] {
        let tampered = f.dir.path().join("tampered.zip");
        rewrite(&f.bundle, &tampered, |entries| {
            let e = entries.iter_mut().find(|e| e.name == victim).unwrap();
            let last = e.data.len() - 2;
            e.data[last] ^= 0x01;
        });
        let report = verify(&tampered, None).unwrap();
        assert!(!report.intact(), "{victim}");
        assert_eq!(
            status_of(&report, victim),
            Some(EntryStatus::Changed),
            "{victim}"
        );
        assert_eq!(
            report
                .entries
                .iter()
                .filter(|e| e.status != EntryStatus::Ok)
                .count(),
            1,
            "only {victim} is flagged"
        );
        let (code, out, _) = phi_audit(&["verify", tampered.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(&format!("CHANGED  {victim}")), "{out}");
        assert!(out.contains("TAMPERED"), "{out}");
    }
}

#[test]
fn missing_and_extra_entries_are_reported() {
    let f = fixture(false);
    let tampered = f.dir.path().join("missing.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        entries.retain(|e| e.name != "evidence/buckets/denied-bucket.json")
    });
    let report = verify(&tampered, None).unwrap();
    assert_eq!(
        status_of(&report, "evidence/buckets/denied-bucket.json"),
        Some(EntryStatus::Missing)
    );
    assert!(!report.intact());

    let tampered = f.dir.path().join("extra.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        entries.push(raw("evidence/buckets/planted.json", b"{}"))
    });
    let report = verify(&tampered, None).unwrap();
    assert_eq!(
        status_of(&report, "evidence/buckets/planted.json"),
        Some(EntryStatus::Extra)
    );
    assert!(!report.intact());

    let tampered = f.dir.path().join("no-manifest.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        entries.retain(|e| e.name != "MANIFEST.sha256")
    });
    let report = verify(&tampered, None).unwrap();
    assert!(!report.intact());
    assert!(report
        .problems
        .iter()
        .any(|p| p.contains("MANIFEST.sha256 is missing")));

    // Re-hashing a changed file into the manifest is caught by the signature.
    let g = fixture(true);
    let tampered = g.dir.path().join("rehashed.zip");
    rewrite(&g.bundle, &tampered, |entries| {
        let manifest = entries
            .iter_mut()
            .find(|e| e.name == "MANIFEST.sha256")
            .unwrap();
        let text = String::from_utf8(manifest.data.clone()).unwrap();
        let line = text
            .lines()
            .find(|l| l.ends_with("  findings.csv"))
            .unwrap()
            .to_string();
        manifest.data = text
            .replace(&line, &format!("{}  findings.csv", "0".repeat(64)))
            .into_bytes();
    });
    let report = verify(&tampered, Some(&test_key().public())).unwrap();
    assert!(
        matches!(report.signature, SignatureCheck::Invalid(_)),
        "{}",
        report.render()
    );
}

#[test]
fn a_truncated_zip_is_unreadable() {
    let f = fixture(false);
    let bytes = std::fs::read(&f.bundle).unwrap();
    let truncated = f.dir.path().join("truncated.zip");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(verify(&truncated, None).is_err());
    let (code, _, err) = phi_audit(&["verify", truncated.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a readable zip"), "{err}");
    let (code, _, _) = phi_audit(&["verify", "/no/such/bundle.zip"]);
    assert_eq!(code, 2);
}

#[test]
fn unsafe_entry_names_symlinks_and_duplicates_are_refused() {
    let f = fixture(false);
    let symlink = RawEntry {
        name: "evidence/link".to_string(),
        data: b"/etc/passwd".to_vec(),
        mode: 0o120777,
    };
    let cases = vec![
        ("zip-slip", raw("../../etc/cron.d/evil", b"x")),
        ("nested zip-slip", raw("evidence/../../evil", b"x")),
        ("absolute", raw("/etc/passwd", b"x")),
        ("backslash", raw("evidence\\..\\..\\evil", b"x")),
        ("drive letter", raw("C:/evil", b"x")),
        ("symlink", symlink),
    ];
    for (what, planted) in cases {
        let tampered = f.dir.path().join("unsafe.zip");
        rewrite(&f.bundle, &tampered, |entries| entries.push(planted));
        let report = verify(&tampered, None).unwrap();
        assert!(!report.intact(), "{what}");
        assert!(
            report
                .entries
                .iter()
                .any(|e| e.status == EntryStatus::Refused),
            "{what}: {}",
            report.render()
        );
        let (code, out, _) = phi_audit(&["verify", tampered.to_str().unwrap()]);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(out.contains("REFUSED"), "{what}: {out}");
    }
    // A symlink replacing a listed file is refused, and the file is then missing.
    let tampered = f.dir.path().join("symlinked.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        let e = entries
            .iter_mut()
            .find(|e| e.name == "findings.json")
            .unwrap();
        e.mode = 0o120777;
    });
    let report = verify(&tampered, None).unwrap();
    assert!(report
        .entries
        .iter()
        .any(|e| e.name == "findings.json" && e.status == EntryStatus::Refused));
    assert!(!report.intact());

    let tampered = f.dir.path().join("duplicate.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        let copy = entries.iter().find(|e| e.name == "report.pdf").unwrap();
        let dup = raw("report.pdf", &copy.data);
        entries.push(dup);
    });
    let report = verify(&tampered, None).unwrap();
    assert!(!report.intact());
    assert!(
        report.problems.iter().any(|p| p.contains("more than once")),
        "{}",
        report.render()
    );
}

#[test]
fn bad_signatures_are_reported() {
    let f = fixture(true);
    // The wrong key.
    let other = SecretKey::from_seed([1u8; 32], *b"otherkey");
    let report = verify(&f.bundle, Some(&other.public())).unwrap();
    assert!(!report.intact());
    assert!(
        report.render().contains("signature: INVALID"),
        "{}",
        report.render()
    );
    // A signature made by the right key over different content.
    let tampered = f.dir.path().join("resigned.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        let sig = entries
            .iter_mut()
            .find(|e| e.name == "MANIFEST.sha256.sig")
            .unwrap();
        sig.data = test_key().sign(b"something else", "phi-audit").into_bytes();
    });
    let report = verify(&tampered, Some(&test_key().public())).unwrap();
    assert!(matches!(report.signature, SignatureCheck::Invalid(_)));
    assert!(!report.intact());
    // Garbage in place of the signature.
    let tampered = f.dir.path().join("garbage.zip");
    rewrite(&f.bundle, &tampered, |entries| {
        let sig = entries
            .iter_mut()
            .find(|e| e.name == "MANIFEST.sha256.sig")
            .unwrap();
        sig.data = b"not a signature".to_vec();
    });
    let report = verify(&tampered, Some(&test_key().public())).unwrap();
    assert!(!report.intact());
    // A key given for an unsigned bundle.
    let unsigned = fixture(false);
    let report = verify(&unsigned.bundle, Some(&test_key().public())).unwrap();
    assert_eq!(report.signature, SignatureCheck::Missing);
    assert!(!report.intact());
}

/// The signature checks with the reference minisign tool, as README.txt tells the auditor.
#[test]
fn minisign_verifies_the_manifest_signature() {
    let minisign = require_tool("minisign", "minisign");
    let f = fixture(true);
    let out = f.dir.path().join("unzipped");
    extract(&f.bundle, &out);
    let public = f.dir.path().join("phi-audit.pub");
    std::fs::write(&public, test_key().public().to_file()).unwrap();
    let run = |dir: &Path| {
        Command::new(&minisign)
            .args(["-Vm", "MANIFEST.sha256", "-x", "MANIFEST.sha256.sig", "-p"])
            .arg(&public)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let output = run(&out);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("account 111122223333"));
    // And minisign rejects a changed manifest.
    let manifest = out.join("MANIFEST.sha256");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push('\n');
    std::fs::write(&manifest, text).unwrap();
    assert!(!run(&out).status.success());

    // A key made by minisign itself (unencrypted, -W) signs bundles phi-audit and minisign accept.
    let keydir = f.dir.path().join("mkeys");
    std::fs::create_dir(&keydir).unwrap();
    let generated = Command::new(&minisign)
        .args(["-G", "-W", "-p", "m.pub", "-s", "m.key"])
        .current_dir(&keydir)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let key = SecretKey::load(&keydir.join("m.key")).expect("phi-audit reads minisign's key");
    let public = phi_audit::bundle::sign::PublicKey::load(&keydir.join("m.pub")).unwrap();
    assert_eq!(key.public(), public);
}
