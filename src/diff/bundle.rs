//! Reading a bundle for `diff` and `report --previous` without holding it in memory.
//!
//! [`Bundle::open`] reads only the zip's central directory (refusing unsafe entry names, as
//! `verify` does) and notes where `findings.json`, `MANIFEST.sha256` and each bucket or key file
//! under `evidence/` are. [`Bundle::stream_findings`] then parses `findings.json` straight from
//! its zip entry, handing each finding to a visitor one at a time, so a bundle of any size is
//! compared in memory proportional to what the comparison keeps, never to the document.
//! Evidence files are read one at a time, when the comparison reaches them ([`Bundle::bucket`]).
//!
//! Every entry is read through a guard against hostile bundles (a zip bomb, a forged size): an
//! entry larger than its limit ([`FINDINGS_LIMIT`], [`EVIDENCE_LIMIT`]) is refused with a message
//! naming the limit. Both are far above anything a real bundle holds (100,000 buckets give a
//! findings.json of about 1.5 GB and bucket files of a few KB).

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

use super::{bucket_of_entry, DiffError};
use crate::bundle::format::{unsafe_name, FINDINGS_JSON, MANIFEST};
use crate::findings::{AccessReview, Finding, SnapshotRef};
use crate::snapshot::hex;

/// The most `findings.json` bytes read from one bundle: 64 GiB, forty times the findings of
/// 100,000 buckets. A guard against hostile bundles, not a size any real bundle nears.
pub const FINDINGS_LIMIT: u64 = 64 << 30;
/// The most bytes read from one evidence file (a bucket or key file) or the manifest: 1 GiB,
/// where a real one holds a few KB (a bucket policy is at most 20 KB).
pub const EVIDENCE_LIMIT: u64 = 1 << 30;

/// A bundle opened for comparison: its archive and where the entries `diff` reads are.
pub struct Bundle {
    path: PathBuf,
    archive: ZipArchive<BufReader<File>>,
    findings: Option<usize>,
    manifest: Option<usize>,
    /// Per bucket or key file (see `bucket_of_path`): its entry's index.
    evidence: BTreeMap<String, usize>,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("path", &self.path)
            .field("evidence files", &self.evidence.len())
            .finish()
    }
}

/// What `findings.json` says besides its findings: which snapshot, when, and the access review.
#[derive(Debug, Clone)]
pub struct FindingsHead {
    pub generated_at: String,
    pub snapshot: SnapshotRef,
    /// Empty when the bundle has none (written before the access review, or no ePHI bucket).
    pub access_review: AccessReview,
}

impl Bundle {
    /// Opens the bundle at `path`: reads its central directory only.
    pub fn open(path: &Path) -> Result<Bundle, DiffError> {
        let file = File::open(path).map_err(|source| DiffError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut archive = ZipArchive::new(BufReader::new(file)).map_err(|e| not_a_zip(path, e))?;
        let (mut findings, mut manifest) = (None, None);
        let mut evidence = BTreeMap::new();
        for index in 0..archive.len() {
            let entry = archive
                .by_index_raw(index)
                .map_err(|e| not_a_zip(path, e))?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if let Some(why) = unsafe_name(&name) {
                return Err(DiffError::UnsafeEntry {
                    path: path.to_path_buf(),
                    entry: name,
                    why,
                });
            }
            if name == FINDINGS_JSON {
                findings = Some(index);
            } else if name == MANIFEST {
                manifest = Some(index);
            } else if let Some(bucket) = bucket_of_entry(&name) {
                evidence.insert(bucket, index);
            }
        }
        Ok(Bundle {
            path: path.to_path_buf(),
            archive,
            findings,
            manifest,
            evidence,
        })
    }

    /// The bucket and key files, by name (`<bucket>`, `kms/<region>/<key>`, `<id>/<bucket>`...).
    pub fn evidence_names(&self) -> impl Iterator<Item = &String> {
        self.evidence.keys()
    }

    /// The SHA-256 of `MANIFEST.sha256`, or `None` when the bundle has none.
    pub fn manifest_sha256(&mut self) -> Result<Option<String>, DiffError> {
        let Some(index) = self.manifest else {
            return Ok(None);
        };
        let bytes = self.read_entry(index, EVIDENCE_LIMIT, |reader| {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            Ok(bytes)
        })?;
        Ok(Some(hex(&Sha256::digest(&bytes))))
    }

    /// A bucket or key file, parsed; `None` when the bundle has no such file.
    pub fn bucket(&mut self, name: &str) -> Result<Option<Value>, DiffError> {
        let Some(&index) = self.evidence.get(name) else {
            return Ok(None);
        };
        self.read_entry(index, EVIDENCE_LIMIT, |reader| {
            serde_json::from_reader(BufReader::new(reader)).map_err(|e| e.to_string())
        })
        .map(Some)
    }

    /// Parses `findings.json` from its entry, giving each finding to `visit` in the order of
    /// the file, and returns the rest of what `diff` reads of it. `visit` is also given the
    /// document's `snapshot` when it came before the findings (as phi-audit writes it).
    pub fn stream_findings(
        &mut self,
        visit: &mut FindingVisitor<'_>,
    ) -> Result<FindingsHead, DiffError> {
        let index = self.findings.ok_or_else(|| DiffError::NoFindings {
            path: self.path.clone(),
        })?;
        self.read_entry(index, FINDINGS_LIMIT, |reader| {
            let mut deserializer =
                serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, reader));
            let head = FindingsDocument { visit }
                .deserialize(&mut deserializer)
                .and_then(|head| deserializer.end().map(|()| head));
            head.map_err(|e| e.to_string())
        })
    }

    /// Reads entry `index` through `read`, at most `limit` bytes of it.
    fn read_entry<T>(
        &mut self,
        index: usize,
        limit: u64,
        read: impl FnOnce(&mut Limited<'_>) -> Result<T, String>,
    ) -> Result<T, DiffError> {
        let path = &self.path;
        let entry = self
            .archive
            .by_index(index)
            .map_err(|e| not_a_zip(path, e))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let too_large = || DiffError::TooLarge {
            path: path.clone(),
            entry: name.clone(),
            limit,
        };
        if entry.size() > limit {
            return Err(too_large());
        }
        let mut limited = Limited {
            inner: Box::new(entry),
            left: limit,
            exceeded: false,
        };
        let result = read(&mut limited);
        if limited.exceeded {
            return Err(too_large());
        }
        result.map_err(|message| DiffError::BadEntry {
            path: path.clone(),
            entry: name.clone(),
            message,
        })
    }
}

fn not_a_zip(path: &Path, e: zip::result::ZipError) -> DiffError {
    DiffError::NotAZip {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A reader that fails once more than `left` bytes are read, remembering that it did.
struct Limited<'a> {
    inner: Box<dyn Read + 'a>,
    left: u64,
    exceeded: bool,
}

impl Read for Limited<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the limit: only the end of the entry is acceptable.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded = true;
                    Err(io::Error::other("entry larger than its limit"))
                }
            };
        }
        let room = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// What is given each finding of a stream: the document's `snapshot` when it was read before
/// the findings, and the finding.
pub type FindingVisitor<'a> = dyn FnMut(Option<&SnapshotRef>, Finding) + 'a;

/// `findings.json` as `diff` reads it: `generated_at`, `snapshot` and `access_review` kept,
/// each finding handed to the visitor, everything else (summary, timeline) skipped unread.
struct FindingsDocument<'v, 'a> {
    visit: &'v mut FindingVisitor<'a>,
}

impl<'de> DeserializeSeed<'de> for FindingsDocument<'_, '_> {
    type Value = FindingsHead;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<FindingsHead, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FindingsDocument<'_, '_> {
    type Value = FindingsHead;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a phi-audit findings document (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FindingsHead, A::Error> {
        let (mut generated_at, mut snapshot, mut access_review) = (None, None, None);
        let mut seen_findings = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "generated_at" => generated_at = Some(map.next_value::<String>()?),
                "snapshot" => snapshot = Some(map.next_value::<SnapshotRef>()?),
                "access_review" => access_review = Some(map.next_value::<AccessReview>()?),
                "findings" => {
                    map.next_value_seed(FindingList {
                        snapshot: snapshot.as_ref(),
                        visit: &mut *self.visit,
                    })?;
                    seen_findings = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_findings {
            return Err(de::Error::missing_field("findings"));
        }
        Ok(FindingsHead {
            generated_at: generated_at.ok_or_else(|| de::Error::missing_field("generated_at"))?,
            snapshot: snapshot.ok_or_else(|| de::Error::missing_field("snapshot"))?,
            access_review: access_review.unwrap_or_default(),
        })
    }
}

/// The `findings` array, one finding at a time.
struct FindingList<'v, 'a> {
    snapshot: Option<&'v SnapshotRef>,
    visit: &'v mut FindingVisitor<'a>,
}

impl<'de> DeserializeSeed<'de> for FindingList<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingList<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(finding) = seq.next_element::<Finding>()? {
            (self.visit)(self.snapshot, finding);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_refuses_one_byte_more_and_accepts_exactly_it() {
        let data = [7u8; 10];
        let read_all = |limit: u64| {
            let mut limited = Limited {
                inner: Box::new(&data[..]),
                left: limit,
                exceeded: false,
            };
            let mut out = Vec::new();
            let result = limited.read_to_end(&mut out);
            (result.is_ok(), limited.exceeded, out.len())
        };
        assert_eq!(read_all(10), (true, false, 10));
        assert_eq!(read_all(11), (true, false, 10));
        let (ok, exceeded, _) = read_all(9);
        assert!(!ok && exceeded);
    }

    #[test]
    fn an_entry_over_its_limit_is_refused_naming_the_limit() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("evidence/buckets/b.json", options).unwrap();
        zip.write_all(br#"{"calls": {}}"#).unwrap();
        zip.finish().unwrap();

        let mut bundle = Bundle::open(&path).unwrap();
        let error = bundle
            .read_entry(0, 4, |reader| {
                let mut bytes = Vec::new();
                reader.read_to_end(&mut bytes).map_err(|e| e.to_string())
            })
            .unwrap_err();
        assert!(matches!(error, DiffError::TooLarge { limit: 4, .. }));
        let text = error.to_string();
        assert!(
            text.contains("evidence/buckets/b.json is larger than 4 bytes")
                && text.contains("hostile"),
            "{text}"
        );
        assert_eq!(
            bundle.bucket("b").unwrap(),
            Some(serde_json::json!({"calls": {}}))
        );
        assert!(matches!(
            bundle.stream_findings(&mut |_, _| {}),
            Err(DiffError::NoFindings { .. })
        ));
    }

    #[test]
    fn findings_are_visited_in_order_and_the_rest_skipped() {
        let text = r#"{"format":"x","generated_at":"2026-10-02T00:00:00Z",
            "snapshot":{"collected_at":"c","account_id":"1","digest":"d"},
            "findings":[
              {"id":"f-1","subject":"s3://a","account":"1","control":"c1","status":"fail","severity":"high",
               "safeguards":[],"policies":[],"reason":"r","evidence":[]},
              {"subject":"s3://b","control":"c2","status":"pass","severity":"low",
               "safeguards":[],"policies":[],"reason":"r","evidence":[]}],
            "summary":{"anything":[1,2,3]}}"#;
        let mut seen = Vec::new();
        let mut deserializer = serde_json::Deserializer::from_reader(text.as_bytes());
        let head = FindingsDocument {
            visit: &mut |s: Option<&SnapshotRef>, f: Finding| {
                assert!(s.is_some());
                seen.push(f.subject)
            },
        }
        .deserialize(&mut deserializer)
        .unwrap();
        assert_eq!(seen, ["s3://a", "s3://b"]);
        assert_eq!(head.snapshot.account_id, "1");
        assert!(head.access_review.is_empty());

        let no_snapshot = r#"{"generated_at":"g","findings":[]}"#;
        let error = FindingsDocument {
            visit: &mut |_, _| {},
        }
        .deserialize(&mut serde_json::Deserializer::from_str(no_snapshot))
        .unwrap_err();
        assert!(
            error.to_string().contains("missing field `snapshot`"),
            "{error}"
        );
    }
}
