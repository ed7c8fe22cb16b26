//! The bundle's layout (docs/bundle-layout.md): the name of every entry, the `MANIFEST.sha256`
//! line format, and which entry names are safe to extract. The one definition that the writer,
//! `verify`, `diff` and `report --previous` all read; it depends on nothing else in the crate.

/// What the bundle is and how to check it, always the first entry.
pub const README: &str = "README.txt";
/// `<sha256>  <path>` for every other entry, in byte order of the paths.
pub const MANIFEST: &str = "MANIFEST.sha256";
/// Optional minisign signature of the manifest.
pub const SIGNATURE: &str = "MANIFEST.sha256.sig";
/// Optional RFC 3161 time-stamp token (a whole `TimeStampResp`) over the manifest.
pub const TIMESTAMP: &str = "MANIFEST.sha256.tsr";
pub const REPORT_PDF: &str = "report.pdf";
pub const REPORT_HTML: &str = "report.html";
pub const FINDINGS_JSON: &str = "findings.json";
pub const FINDINGS_CSV: &str = "findings.csv";
/// The access review, one row per (ePHI bucket, principal) (docs/findings-format.md).
pub const ACCESS_CSV: &str = "access-review.csv";
/// The findings as a NIST OSCAL 1.1.2 assessment-results document.
pub const OSCAL: &str = "oscal/assessment-results.json";
/// With `report --previous`: what `phi-audit diff OLD NEW --format json` prints.
pub const CHANGES: &str = "changes-since-previous.json";
/// The snapshot, byte for byte: `evidence/<path in the snapshot>`.
pub const EVIDENCE_DIR: &str = "evidence/";
/// The attestation and exception files as given, with the policy documents they name.
pub const ATTESTATIONS_DIR: &str = "attestations/";

/// The control catalog's parts the findings cite: `catalog/policies.yaml`, the administrative
/// policy definitions used (the built-in ones, or `--controls DIR`'s).
pub const CATALOG_DIR: &str = "catalog/";
/// The policy definitions under [`CATALOG_DIR`].
pub const CATALOG_POLICIES: &str = "catalog/policies.yaml";

/// The entries that are over the manifest rather than in it.
pub const OVER_MANIFEST: [&str; 3] = [MANIFEST, SIGNATURE, TIMESTAMP];

/// One manifest line, `<sha256>  <path>\n` (the form `sha256sum -c` reads).
pub fn manifest_line(sha256: &str, name: &str) -> String {
    format!("{sha256}  {name}\n")
}

/// Why an entry name is unsafe to extract, or `None` when it is a plain relative path.
pub fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.contains('\0') || name.chars().any(char::is_control) {
        return Some("control character in name");
    }
    if name.contains('\\') {
        return Some("backslash in name (a Windows path separator)");
    }
    if name.starts_with('/') {
        return Some("absolute path");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Some("drive-letter path");
    }
    for component in name.trim_end_matches('/').split('/') {
        match component {
            ".." => return Some("parent-directory component (..)"),
            "." | "" => return Some("empty or '.' path component"),
            _ => {}
        }
    }
    None
}

/// Reads `MANIFEST.sha256`: `(path, sha256)` per line, or what is wrong with which line.
pub fn parse_manifest(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut lines = Vec::new();
    for (n, line) in text.split_terminator('\n').enumerate() {
        let (digest, name) = line
            .split_once("  ")
            .ok_or_else(|| format!("{MANIFEST} line {}: not \"<sha256>  <path>\"", n + 1))?;
        if digest.len() != 64
            || !digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(format!(
                "{MANIFEST} line {}: not a lowercase SHA-256",
                n + 1
            ));
        }
        if let Some(why) = unsafe_name(name) {
            return Err(format!("{MANIFEST} line {}: {name}: {why}", n + 1));
        }
        lines.push((name.to_string(), digest.to_string()));
    }
    Ok(lines)
}
