//! `phi-audit verify`: proves a bundle is exactly what was generated, or says what changed.
//!
//! The zip is treated as hostile input: entry names that could escape an extraction directory
//! (absolute, `..`, backslashes, drive letters), duplicate names and symbolic links are refused
//! before anything is hashed. Entries are hashed as a stream, so a large bundle (or a zip bomb)
//! never has to fit in memory. Every manifest line is checked (OK / CHANGED / MISSING) and every
//! entry the manifest does not list is EXTRA. The signature is checked when a public key is given,
//! the RFC 3161 token (`MANIFEST.sha256.tsr`, see [`super::timestamp`]) when one is present: fully
//! with `--tsa-cert`, imprint and signature only (reported as not trusted) without.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

use super::format::{parse_manifest, unsafe_name, MANIFEST, OVER_MANIFEST, SIGNATURE, TIMESTAMP};
use super::sign::{self, BadSignature, PublicKey};
use super::timestamp::{self, Attested, BadToken, TsaTrust};
use crate::snapshot::hex;

/// The largest manifest or signature file read into memory (a real one is far smaller).
const SMALL_FILE_LIMIT: u64 = 64 << 20;

/// The bundle could not be read at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable zip archive ({message}); it may be truncated or not a bundle")]
    NotAZip { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Ok,
    Changed,
    Missing,
    Extra,
    Refused,
}

impl fmt::Display for EntryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`, so `{:<8}` lines the listing up.
        f.pad(match self {
            EntryStatus::Ok => "OK",
            EntryStatus::Changed => "CHANGED",
            EntryStatus::Missing => "MISSING",
            EntryStatus::Extra => "EXTRA",
            EntryStatus::Refused => "REFUSED",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryResult {
    pub name: String,
    pub status: EntryStatus,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// No `MANIFEST.sha256.sig` and no key asked for.
    Absent,
    /// A signature is present but no `--public-key` was given.
    NotChecked,
    Valid {
        key_id: String,
        trusted_comment: String,
    },
    Invalid(BadSignature),
    /// `--public-key` was given but the bundle has no signature.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampCheck {
    /// No `MANIFEST.sha256.tsr` and no TSA certificate given.
    Absent,
    /// A token over this manifest, but no `--tsa-cert`: its time is the token's word only.
    NotChecked(Attested),
    /// Every check passed against the given TSA certificate.
    Valid(Attested),
    Invalid(BadToken),
    /// `--tsa-cert` was given but the bundle has no token.
    Missing,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub entries: Vec<EntryResult>,
    /// Problems with the bundle as a whole (unreadable manifest, duplicate names, ...).
    pub problems: Vec<String>,
    pub signature: SignatureCheck,
    pub timestamp: TimestampCheck,
}

impl VerifyReport {
    /// True when every file matches, nothing is missing or extra, and the signature (if one
    /// was asked for) is valid.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
            && self.entries.iter().all(|e| e.status == EntryStatus::Ok)
            && !matches!(
                self.signature,
                SignatureCheck::Invalid(_) | SignatureCheck::Missing
            )
            && !matches!(
                self.timestamp,
                TimestampCheck::Invalid(_) | TimestampCheck::Missing
            )
    }

    /// The per-file listing and verdict `phi-audit verify` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for entry in &self.entries {
            if entry.detail.is_empty() {
                out.push_str(&format!("{:<8} {}\n", entry.status, entry.name));
            } else {
                out.push_str(&format!(
                    "{:<8} {}  ({})\n",
                    entry.status, entry.name, entry.detail
                ));
            }
        }
        for problem in &self.problems {
            out.push_str(&format!("PROBLEM  {problem}\n"));
        }
        out.push_str(&match &self.signature {
            SignatureCheck::Absent => "signature: none (the bundle is not signed)\n".to_string(),
            SignatureCheck::NotChecked => {
                "signature: present but not checked (give --public-key to check it)\n".to_string()
            }
            SignatureCheck::Valid { key_id, trusted_comment } => {
                format!("signature: valid, key {key_id}\ntrusted comment: {trusted_comment}\n")
            }
            SignatureCheck::Invalid(why) => format!("signature: INVALID: {why}\n"),
            SignatureCheck::Missing => {
                "signature: MISSING: a public key was given but the bundle has no MANIFEST.sha256.sig\n".to_string()
            }
        });
        out.push_str(&match &self.timestamp {
            // Bundles without a token print what they always printed.
            TimestampCheck::Absent => String::new(),
            TimestampCheck::Valid(attested) => {
                format!("timestamp: {} by {}\n", attested.gen_time, attested.tsa)
            }
            TimestampCheck::NotChecked(attested) => format!(
                "timestamp: the token says {} by {}, but the TSA was not checked \
                 (give --tsa-cert with the TSA's CA certificate to check it)\n",
                attested.gen_time, attested.tsa
            ),
            TimestampCheck::Invalid(why) => format!("timestamp: INVALID: {why}\n"),
            TimestampCheck::Missing => format!(
                "timestamp: MISSING: --tsa-cert was given but the bundle has no {TIMESTAMP}\n"
            ),
        });
        let count = |s: EntryStatus| self.entries.iter().filter(|e| e.status == s).count();
        out.push_str(&format!(
            "{}: {} ok, {} changed, {} missing, {} extra, {} refused\n",
            if self.intact() { "INTACT" } else { "TAMPERED" },
            count(EntryStatus::Ok),
            count(EntryStatus::Changed),
            count(EntryStatus::Missing),
            count(EntryStatus::Extra),
            count(EntryStatus::Refused),
        ));
        out
    }
}

fn read_small<R: Read>(reader: R) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(SMALL_FILE_LIMIT).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Verifies the bundle at `path`. `Err` only when the zip cannot be read at all.
pub fn verify(path: &Path, public_key: Option<&PublicKey>) -> Result<VerifyReport, VerifyError> {
    verify_with_timestamp(path, public_key, None)
}

/// [`verify`], checking the RFC 3161 token against `tsa` (the `--tsa-cert` certificates).
pub fn verify_with_timestamp(
    path: &Path,
    public_key: Option<&PublicKey>,
    tsa: Option<&TsaTrust>,
) -> Result<VerifyReport, VerifyError> {
    let file = File::open(path).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let not_a_zip = |e: zip::result::ZipError| VerifyError::NotAZip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut archive =
        ZipArchive::new(BufReader::with_capacity(1 << 16, file)).map_err(not_a_zip)?;
    let mut problems = Vec::new();
    if archive.has_duplicate_names() {
        problems.push("the zip's central directory lists the same name more than once".to_string());
    }
    let (files, refused) = list_entries(&mut archive).map_err(not_a_zip)?;
    let index_of = |wanted: &str| files.iter().find(|(_, n)| n == wanted).map(|(i, _)| *i);
    let manifest_text = read_manifest(&mut archive, index_of(MANIFEST), &mut problems);
    let manifest = match manifest_text.as_deref().map(parse_manifest) {
        Some(Ok(lines)) => lines,
        Some(Err(problem)) => {
            problems.push(problem);
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut expected: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, digest) in &manifest {
        if expected.insert(name, digest).is_some() {
            problems.push(format!("{MANIFEST} lists {name} twice"));
        }
        if OVER_MANIFEST.contains(&name.as_str()) {
            problems.push(format!("{MANIFEST} lists {name}, which it cannot cover"));
        }
    }
    let manifest_bytes = manifest_text.as_deref().map(str::as_bytes);
    let signature = check_signature(
        &mut archive,
        index_of(SIGNATURE),
        public_key,
        manifest_bytes,
    );
    let timestamp = check_timestamp(&mut archive, index_of(TIMESTAMP), tsa, manifest_bytes);
    let mut entries = hash_entries(&mut archive, &files, &expected);
    let present: BTreeSet<&str> = files.iter().map(|(_, n)| n.as_str()).collect();
    for (name, _) in &manifest {
        if !present.contains(name.as_str()) && !OVER_MANIFEST.contains(&name.as_str()) {
            entries.push(EntryResult {
                name: name.clone(),
                status: EntryStatus::Missing,
                detail: format!("listed in {MANIFEST} but not in the bundle"),
            });
        }
    }
    entries.extend(refused);
    Ok(VerifyReport {
        entries,
        problems,
        signature,
        timestamp,
    })
}

type Archive = ZipArchive<BufReader<File>>;

/// The files to check (zip index, name), and the entries refused for their name or kind.
type Listing = (Vec<(usize, String)>, Vec<EntryResult>);

/// Reads the central directory only, nothing decompressed.
fn list_entries(archive: &mut Archive) -> Result<Listing, zip::result::ZipError> {
    let mut refused = Vec::new();
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index)?;
        let refuse = |name: String, why: &str| EntryResult {
            name,
            status: EntryStatus::Refused,
            detail: why.to_string(),
        };
        let Ok(name) = std::str::from_utf8(entry.name_raw()).map(str::to_string) else {
            let lossy = String::from_utf8_lossy(entry.name_raw()).into_owned();
            refused.push(refuse(lossy, "name is not UTF-8"));
            continue;
        };
        let is_symlink =
            entry.is_symlink() || entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
        if let Some(why) = unsafe_name(&name) {
            refused.push(refuse(name, why));
        } else if is_symlink {
            refused.push(refuse(name, "symbolic link"));
        } else if !entry.is_dir() {
            // phi-audit writes no directory entries, but one carries no content to tamper with.
            files.push((index, name));
        }
    }
    Ok((files, refused))
}

/// One small entry (the manifest, the signature, the token), read whole.
fn read_entry(archive: &mut Archive, index: usize) -> std::io::Result<Vec<u8>> {
    archive
        .by_index(index)
        .map_err(std::io::Error::other)
        .and_then(read_small)
}

fn read_manifest(
    archive: &mut Archive,
    index: Option<usize>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let Some(index) = index else {
        problems.push(format!("{MANIFEST} is missing: nothing can be checked"));
        return None;
    };
    match read_entry(archive, index).map(String::from_utf8) {
        Ok(Ok(text)) => Some(text),
        Ok(Err(_)) => {
            problems.push(format!("{MANIFEST} is not UTF-8 text"));
            None
        }
        Err(e) => {
            problems.push(format!("{MANIFEST} cannot be read: {e}"));
            None
        }
    }
}

fn check_signature(
    archive: &mut Archive,
    index: Option<usize>,
    public_key: Option<&PublicKey>,
    manifest: Option<&[u8]>,
) -> SignatureCheck {
    match (index, public_key, manifest) {
        (None, None, _) => SignatureCheck::Absent,
        (None, Some(_), _) => SignatureCheck::Missing,
        (Some(_), None, _) => SignatureCheck::NotChecked,
        (Some(_), Some(_), None) => SignatureCheck::Invalid(BadSignature::Invalid),
        (Some(index), Some(key), Some(manifest)) => match read_entry(archive, index) {
            Err(e) => SignatureCheck::Invalid(BadSignature::Malformed(e.to_string())),
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match sign::verify(manifest, &text, key) {
                    Ok(trusted_comment) => SignatureCheck::Valid {
                        key_id: key.key_id_hex(),
                        trusted_comment,
                    },
                    Err(why) => SignatureCheck::Invalid(why),
                }
            }
        },
    }
}

fn check_timestamp(
    archive: &mut Archive,
    index: Option<usize>,
    tsa: Option<&TsaTrust>,
    manifest: Option<&[u8]>,
) -> TimestampCheck {
    match (index, manifest) {
        (None, _) if tsa.is_some() => TimestampCheck::Missing,
        (None, _) => TimestampCheck::Absent,
        (Some(_), None) => TimestampCheck::Invalid(BadToken {
            check: "message imprint",
            why: format!("there is no readable {MANIFEST} to check the token against"),
        }),
        (Some(index), Some(manifest)) => match read_entry(archive, index) {
            Err(e) => TimestampCheck::Invalid(BadToken {
                check: "format",
                why: format!("{TIMESTAMP} cannot be read: {e}"),
            }),
            Ok(token) => match timestamp::check_token(&token, manifest, tsa) {
                Ok(attested) if tsa.is_some() => TimestampCheck::Valid(attested),
                Ok(attested) => TimestampCheck::NotChecked(attested),
                Err(why) => TimestampCheck::Invalid(why),
            },
        },
    }
}

/// Hashes every entry the manifest covers as a stream, against what the manifest says.
fn hash_entries(
    archive: &mut Archive,
    files: &[(usize, String)],
    expected: &BTreeMap<&str, &str>,
) -> Vec<EntryResult> {
    let mut entries = Vec::new();
    let mut buffer = vec![0u8; 1 << 16];
    for (index, name) in files {
        if OVER_MANIFEST.contains(&name.as_str()) {
            continue;
        }
        let result = |status, detail| EntryResult {
            name: name.clone(),
            status,
            detail,
        };
        let Some(want) = expected.get(name.as_str()) else {
            entries.push(result(
                EntryStatus::Extra,
                format!("not listed in {MANIFEST}"),
            ));
            continue;
        };
        let actual = archive
            .by_index(*index)
            .map_err(std::io::Error::other)
            .and_then(|mut reader| {
                let mut hasher = Sha256::new();
                loop {
                    let n = reader.read(&mut buffer)?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buffer[..n]);
                }
                Ok(hex(&hasher.finalize()))
            });
        entries.push(match actual {
            Ok(actual) if actual == *want => result(EntryStatus::Ok, String::new()),
            Ok(actual) => result(
                EntryStatus::Changed,
                format!("SHA-256 is {actual}, manifest says {want}"),
            ),
            Err(e) => result(EntryStatus::Changed, format!("cannot be read back: {e}")),
        });
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::super::format::{parse_manifest, unsafe_name};

    #[test]
    fn manifest_lines_are_checked_strictly() {
        let digest = "a".repeat(64);
        assert_eq!(
            parse_manifest(&format!("{digest}  report.pdf\n")).unwrap(),
            vec![("report.pdf".to_string(), digest.clone())]
        );
        for bad in [
            format!("{digest} report.pdf\n"),
            format!("{}  report.pdf\n", "A".repeat(64)),
            format!("{}  report.pdf\n", "a".repeat(63)),
            format!("{digest}  ../etc/passwd\n"),
            format!("{digest}  /abs\n"),
        ] {
            assert!(parse_manifest(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unsafe_names_are_recognised() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\..\\x",
            "C:/x",
            "c:x",
            "a//b",
            "./a",
            "",
            "a\u{0}b",
        ] {
            assert!(unsafe_name(bad).is_some(), "{bad:?}");
        }
        for good in [
            "report.pdf",
            "evidence/buckets/a..b.json",
            "evidence/x.json",
            "a/",
        ] {
            assert!(unsafe_name(good).is_none(), "{good:?}");
        }
    }
}
