//! The bundle's zip: its entries produced on worker threads and written in their fixed order.
//!
//! A worker renders, hashes and deflates a batch of consecutive entries into a small zip of its
//! own, in memory; the calling thread copies those already-compressed entries into the bundle in
//! entry order ([`crate::parallel::pipeline`]). Deflate at a fixed level gives the same bytes on
//! any thread, so the bundle is the same bytes on one thread or many. The generated entries
//! (the reports, OSCAL, findings) are started first, in the order the caller ranks them; what a
//! worker holds between producing a batch and its copy is compressed, and past [`SPILL_AT`] it
//! is held in an unnamed file beside the bundle ([`Spill`]), so memory grows with neither the
//! evidence nor the findings: an organisation's OSCAL, findings and CSV, done while report.pdf
//! (the bundle's first entry) is still being written, wait on disk.

use chrono::{DateTime, Datelike, Timelike, Utc};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{trusted_comment, BundleError, BundleSummary, Options};
use crate::bundle::format::{manifest_line, MANIFEST, SIGNATURE, TIMESTAMP};
use crate::findings::FindingsReport;
use crate::parallel;
use crate::snapshot::hex;

/// Writes one generated entry (findings.json, a rendered report) into its zip entry.
pub(super) type Generator<'a> = Box<dyn Fn(&mut dyn Write) -> Result<(), BundleError> + Sync + 'a>;

pub(super) enum Source<'a> {
    Bytes(Vec<u8>),
    /// Produced as it is written: for 10,000 buckets findings.json alone is ~170 MB. Generated
    /// entries are started by their rank (the lowest first), before everything else.
    Generated {
        generate: Generator<'a>,
        start: u8,
    },
    /// A file copied byte for byte; its SHA-256 must still be the one the snapshot recorded.
    File {
        path: PathBuf,
        expected: Option<String>,
    },
}

pub(super) struct Entry<'a> {
    pub name: String,
    pub source: Source<'a>,
}

/// A generated entry reaches the hash and the deflater in writes of this size.
const GENERATED_BUFFER: usize = 1 << 20;

/// Evidence files are packed this many to a batch (fewer when they are large).
const BATCH_ENTRIES: usize = 256;
const BATCH_BYTES: u64 = 8 << 20;

/// The zip timestamp of every entry: the generation time, or 1980-01-01 when it is outside
/// the range zip can store.
pub fn entry_time(generated_at: &str) -> zip::DateTime {
    DateTime::parse_from_rfc3339(generated_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .and_then(|t| {
            zip::DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
            )
            .ok()
        })
        .unwrap_or_default()
}

/// Passes writes through to the zip entry and hashes them on the way.
struct Hashing<'w, W: Write + ?Sized> {
    inner: &'w mut W,
    hasher: Sha256,
}

impl<W: Write + ?Sized> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A batch of entries as a worker leaves it: a zip of its own and each entry's SHA-256.
struct Packed {
    zip: Spill,
    digests: Vec<String>,
}

/// A packed batch moves from memory to a file once it is this large.
const SPILL_AT: usize = 2 << 20;

/// A worker's zip: in memory while it is small, then in an unnamed temporary file in the
/// bundle's directory (removed by the system when closed, even if the run is killed).
struct Spill {
    memory: Cursor<Vec<u8>>,
    file: Option<File>,
    dir: PathBuf,
}

impl Spill {
    fn new(dir: &Path) -> Spill {
        Spill {
            memory: Cursor::new(Vec::new()),
            file: None,
            dir: dir.to_path_buf(),
        }
    }

    fn spill(&mut self) -> std::io::Result<&mut File> {
        let mut file = tempfile::tempfile_in(&self.dir)?;
        file.write_all(self.memory.get_ref())?;
        file.seek(SeekFrom::Start(self.memory.position()))?;
        self.memory = Cursor::new(Vec::new());
        Ok(self.file.insert(file))
    }
}

impl Write for Spill {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = &mut self.file {
            return file.write(buf);
        }
        if self.memory.get_ref().len() + buf.len() > SPILL_AT {
            return self.spill()?.write(buf);
        }
        self.memory.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl Seek for Spill {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match &mut self.file {
            Some(file) => file.seek(to),
            None => self.memory.seek(to),
        }
    }
}

impl Read for Spill {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(file) => file.read(buf),
            None => self.memory.read(buf),
        }
    }
}

fn zip_error(name: &str) -> impl Fn(zip::result::ZipError) -> BundleError + '_ {
    move |source| BundleError::Zip {
        path: PathBuf::from(name),
        source,
    }
}

fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.into();
    move |source| BundleError::Io { path, source }
}

/// Writes one entry's bytes to `out`; returns their SHA-256.
fn produce(entry: &Entry, out: &mut dyn Write, buffer: &mut [u8]) -> Result<String, BundleError> {
    match &entry.source {
        Source::Bytes(bytes) => {
            out.write_all(bytes).map_err(io_error(&entry.name))?;
            Ok(hex(&Sha256::digest(bytes)))
        }
        Source::Generated { generate, .. } => {
            let mut hashing = Hashing {
                inner: out,
                hasher: Sha256::new(),
            };
            // Generators write a token or a row at a time: gathered into large writes, they are
            // hashed and deflated at a fraction of the cost, and deflate better.
            let mut buffered = BufWriter::with_capacity(GENERATED_BUFFER, &mut hashing);
            generate(&mut buffered)?;
            // Its buffer only: flushing the zip entry would end a deflate block early.
            (buffered.into_inner()).map_err(|e| io_error(&entry.name)(e.into_error()))?;
            Ok(hex(&hashing.hasher.finalize()))
        }
        Source::File { path, expected } => {
            let mut input = File::open(path).map_err(io_error(path))?;
            let mut hasher = Sha256::new();
            loop {
                let n = input.read(buffer).map_err(io_error(path))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                out.write_all(&buffer[..n]).map_err(io_error(path))?;
            }
            let actual = hex(&hasher.finalize());
            match expected {
                Some(expected) if *expected != actual => Err(BundleError::EvidenceChanged {
                    path: path.clone(),
                    actual,
                }),
                _ => Ok(actual),
            }
        }
    }
}

/// Renders, hashes and deflates `batch` into a zip of its own, spilled to `dir` when large.
fn pack(batch: &[Entry], options: SimpleFileOptions, dir: &Path) -> Result<Packed, BundleError> {
    let mut zip = ZipWriter::new(Spill::new(dir));
    let mut buffer = vec![0u8; 1 << 16];
    let mut digests = Vec::with_capacity(batch.len());
    for entry in batch {
        zip.start_file(entry.name.as_str(), options)
            .map_err(zip_error(&entry.name))?;
        digests.push(produce(entry, &mut zip, &mut buffer)?);
    }
    let zip = zip.finish().map_err(zip_error("bundle"))?;
    Ok(Packed { zip, digests })
}

/// Consecutive entries that one worker packs: a generated entry alone, files together.
fn batches(entries: &[Entry]) -> Vec<std::ops::Range<usize>> {
    let sizes = entries.iter().map(|entry| match &entry.source {
        Source::File { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
        Source::Bytes(bytes) => bytes.len() as u64,
        Source::Generated { .. } => u64::MAX,
    });
    parallel::batches(sizes, BATCH_ENTRIES, BATCH_BYTES)
}

/// The order batches are started in: the generated entries by their rank, then the rest in zip
/// order.
fn start_order(entries: &[Entry], batches: &[std::ops::Range<usize>]) -> Vec<usize> {
    let rank = |b: &std::ops::Range<usize>| {
        (entries[b.clone()].iter())
            .filter_map(|e| match e.source {
                Source::Generated { start, .. } => Some(start),
                _ => None,
            })
            .min()
    };
    let mut order: Vec<usize> = (0..batches.len()).collect();
    // `None` (no generated entry) sorts first, so it is mapped past every rank.
    order.sort_by_key(|&i| (rank(&batches[i]).map_or(u16::MAX, u16::from), i));
    order
}

/// Writes `entries` (in their order), then MANIFEST.sha256 and, as asked, its signature and
/// timestamp token. Large compressed entries wait for their turn in `spill_dir`.
pub(super) fn write_zip(
    file: File,
    spill_dir: &Path,
    entries: &[Entry],
    findings: &FindingsReport,
    options: &Options<'_>,
) -> Result<BundleSummary, BundleError> {
    let entry_options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(entry_time(&findings.generated_at))
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let mut manifest_lines: Vec<(String, String)> = Vec::with_capacity(entries.len());
    let batches = batches(entries);
    let start = start_order(entries, &batches);
    parallel::pipeline(
        &batches,
        &start,
        options.threads,
        |batch| pack(&entries[batch.clone()], entry_options, spill_dir),
        |i, packed| {
            let packed = packed?;
            let mut archive = ZipArchive::new(BufReader::with_capacity(1 << 16, packed.zip))
                .map_err(zip_error("bundle"))?;
            for (k, (entry, digest)) in entries[batches[i].clone()]
                .iter()
                .zip(packed.digests)
                .enumerate()
            {
                let raw = archive.by_index_raw(k).map_err(zip_error(&entry.name))?;
                zip.raw_copy_file(raw).map_err(zip_error(&entry.name))?;
                manifest_lines.push((entry.name.clone(), digest));
            }
            Ok::<(), BundleError>(())
        },
    )?;
    finish(zip, manifest_lines, findings, options, entry_options)
}

/// MANIFEST.sha256, the signature and the timestamp token; then the zip's directory.
fn finish(
    mut zip: ZipWriter<BufWriter<File>>,
    mut manifest_lines: Vec<(String, String)>,
    findings: &FindingsReport,
    options: &Options<'_>,
    entry_options: SimpleFileOptions,
) -> Result<BundleSummary, BundleError> {
    let mut count = manifest_lines.len() + 1;
    manifest_lines.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let manifest: String = manifest_lines
        .iter()
        .map(|(name, digest)| manifest_line(digest, name))
        .collect();
    let mut add = |name: &str, bytes: &[u8]| -> Result<(), BundleError> {
        zip.start_file(name, entry_options)
            .map_err(zip_error(name))?;
        zip.write_all(bytes).map_err(io_error(name))
    };
    add(MANIFEST, manifest.as_bytes())?;
    let mut signed_by = None;
    if let Some(key) = options.sign_key {
        let signature = key.sign(manifest.as_bytes(), &trusted_comment(findings));
        add(SIGNATURE, signature.as_bytes())?;
        signed_by = Some(key.public().key_id_hex());
        count += 1;
    }
    let mut timestamp = None;
    if let Some(timestamper) = options.timestamper {
        let stamp = timestamper.stamp(manifest.as_bytes())?;
        add(TIMESTAMP, &stamp.response_der)?;
        timestamp = Some(stamp.attested);
        count += 1;
    }
    let writer = zip.finish().map_err(zip_error("bundle"))?;
    let file = writer
        .into_inner()
        .map_err(|e| io_error("bundle")(e.into_error()))?;
    file.sync_all().map_err(io_error("bundle"))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(BundleSummary {
        path: PathBuf::new(),
        entries: count,
        bytes,
        pdf_pages: 0,
        pdf_bytes: 0,
        html_bytes: 0,
        manifest_sha256: hex(&Sha256::digest(manifest.as_bytes())),
        signed_by,
        timestamp,
        stale_removed: Vec::new(),
    })
}
