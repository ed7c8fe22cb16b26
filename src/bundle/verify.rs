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
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zip::ZipArchive;

use super::format::{parse_manifest, unsafe_name, MANIFEST, OVER_MANIFEST, SIGNATURE, TIMESTAMP};
use super::sign::{self, BadSignature, PublicKey};
use super::timestamp::{self, Attested, BadToken, TsaTrust};
use crate::parallel::{self, Threads};
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

/// Verifies the bundle at `path`, hashing its entries on up to `threads` threads (the report is
/// the same on any number). `Err` only when the zip cannot be read at all.
pub fn verify(
    path: &Path,
    public_key: Option<&PublicKey>,
    threads: Threads,
) -> Result<VerifyReport, VerifyError> {
    verify_with_timestamp(path, public_key, None, threads)
}

/// [`verify`], checking the RFC 3161 token against `tsa` (the `--tsa-cert` certificates).
pub fn verify_with_timestamp(
    path: &Path,
    public_key: Option<&PublicKey>,
    tsa: Option<&TsaTrust>,
    threads: Threads,
) -> Result<VerifyReport, VerifyError> {
    let io_error = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let not_a_zip = |e: zip::result::ZipError| VerifyError::NotAZip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut archive =
        ZipArchive::new(Positional::new(file).map_err(io_error)?).map_err(not_a_zip)?;
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
    let mut entries = hash_entries(&archive, &files, &expected, threads);
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

type Archive = ZipArchive<Positional>;

/// The bundle file, read at positions through a buffer of its own. A clone shares the open file
/// and has a cursor and a buffer of its own, so the clones of one archive read side by side.
#[derive(Clone)]
struct Positional {
    file: Arc<File>,
    len: u64,
    /// The position of the next byte read.
    pos: u64,
    buffer: Box<[u8]>,
    /// What `buffer` holds that is not read yet: `buffer[start..end]`, the bytes at `pos`.
    start: usize,
    end: usize,
}

impl Positional {
    fn new(file: File) -> std::io::Result<Positional> {
        Ok(Positional {
            len: file.metadata()?.len(),
            file: Arc::new(file),
            pos: 0,
            buffer: vec![0; 1 << 16].into_boxed_slice(),
            start: 0,
            end: 0,
        })
    }
}

impl Read for Positional {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.start == self.end {
            if out.len() >= self.buffer.len() {
                let n = read_at(&self.file, out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            self.end = read_at(&self.file, &mut self.buffer, self.pos)?;
            self.start = 0;
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buffer[self.start..self.start + n]);
        self.start += n;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads at `offset` of `file`, whatever the other readers of the file do.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_at(file, buf, offset);
    #[cfg(windows)]
    return std::os::windows::fs::FileExt::seek_read(file, buf, offset);
}

impl Seek for Positional {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(by) => self.len.checked_add_signed(by),
            SeekFrom::Current(by) => self.pos.checked_add_signed(by),
        }
        .ok_or_else(|| std::io::Error::other("seek before the start of the bundle"))?;
        // A target within the buffer keeps it.
        let buffered = (self.pos - self.start as u64)..=(self.pos + (self.end - self.start) as u64);
        if buffered.contains(&target) {
            self.start = (target - buffered.start()) as usize;
        } else {
            (self.start, self.end) = (0, 0);
        }
        self.pos = target;
        Ok(target)
    }
}

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

/// Entries are hashed in batches of consecutive entries, at most this many of about this many
/// bytes (a larger entry alone), the largest batches started first.
const BATCH_ENTRIES: usize = 64;
const BATCH_BYTES: u64 = 1 << 20;

/// Hashes every entry the manifest covers as a stream, against what the manifest says: batches
/// of entries on up to `threads` threads, each with a clone of the archive, the results in
/// entry order.
fn hash_entries(
    archive: &Archive,
    files: &[(usize, String)],
    expected: &BTreeMap<&str, &str>,
    threads: Threads,
) -> Vec<EntryResult> {
    let sizes: Vec<u64> = (files.iter())
        .map(|(index, _)| archive.by_index_data(*index).map_or(0, |e| e.size()))
        .collect();
    let batches = parallel::batches(sizes.iter().copied(), BATCH_ENTRIES, BATCH_BYTES);
    // Declared sizes: a hostile bundle may declare anything.
    let bytes = |batch: &std::ops::Range<usize>| {
        (sizes[batch.clone()].iter()).fold(0u64, |sum, size| sum.saturating_add(*size))
    };
    let mut start: Vec<usize> = (0..batches.len()).collect();
    start.sort_by_key(|&i| std::cmp::Reverse(bytes(&batches[i])));
    let mut entries = Vec::with_capacity(files.len());
    let hash = |batch: &std::ops::Range<usize>| {
        let mut archive = archive.clone();
        let mut buffer = vec![0u8; 1 << 16];
        (files[batch.clone()].iter())
            .filter_map(|(index, name)| {
                check_entry(&mut archive, *index, name, expected, &mut buffer)
            })
            .collect::<Vec<_>>()
    };
    parallel::pipeline(&batches, &start, threads, hash, |_, results| {
        entries.extend(results);
        Ok::<(), ()>(())
    })
    .expect("collecting the results never fails");
    entries
}

/// One entry against the manifest; `None` for the files the manifest cannot cover.
fn check_entry(
    archive: &mut Archive,
    index: usize,
    name: &str,
    expected: &BTreeMap<&str, &str>,
    buffer: &mut [u8],
) -> Option<EntryResult> {
    if OVER_MANIFEST.contains(&name) {
        return None;
    }
    let result = |status, detail| EntryResult {
        name: name.to_string(),
        status,
        detail,
    };
    let Some(want) = expected.get(name) else {
        return Some(result(
            EntryStatus::Extra,
            format!("not listed in {MANIFEST}"),
        ));
    };
    let actual = archive
        .by_index(index)
        .map_err(std::io::Error::other)
        .and_then(|mut reader| {
            let mut hasher = Sha256::new();
            loop {
                let n = reader.read(buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
            Ok(hex(&hasher.finalize()))
        });
    Some(match actual {
        Ok(actual) if actual == *want => result(EntryStatus::Ok, String::new()),
        Ok(actual) => result(
            EntryStatus::Changed,
            format!("SHA-256 is {actual}, manifest says {want}"),
        ),
        Err(e) => result(EntryStatus::Changed, format!("cannot be read back: {e}")),
    })
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
