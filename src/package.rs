//! Writes the evidence bundle (docs/bundle-layout.md) of an [`Audit`]: renders its documents
//! through [`crate::report`], adds the evidence files and the administrative inputs, and writes
//! the zip atomically (a temp file beside the target, then a rename; a failed run leaves nothing,
//! and the next run removes a temporary that a killed run left behind).
//!
//! Determinism: entries are written README.txt first, then in byte order of their paths, then
//! `MANIFEST.sha256`, then `MANIFEST.sha256.sig`, then `MANIFEST.sha256.tsr`; every entry has the
//! same timestamp (the report's generation time, in UTC, at the two-second resolution of zip),
//! mode 0644, deflate at a fixed level and no extra fields. The PDF has no random ids (see
//! `report::pdf`). A timestamped bundle differs in its token alone: the TSA's time and nonce
//! change every run. The token is asked for once the manifest is final and before the rename, so
//! a TSA failure leaves no bundle.

use chrono::{DateTime, Datelike, Timelike, Utc};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::audit::Audit;
use crate::bundle::format::{
    manifest_line, unsafe_name, ACCESS_CSV, ATTESTATIONS_DIR, CATALOG_POLICIES, CHANGES,
    EVIDENCE_DIR, FINDINGS_CSV, FINDINGS_JSON, MANIFEST, OSCAL, README, REPORT_HTML, REPORT_PDF,
    SIGNATURE, TIMESTAMP,
};
use crate::bundle::sign::SecretKey;
use crate::bundle::timestamp::{Attested, TimestampError, Timestamper};
use crate::diff::previous::ChangesSincePrevious;
use crate::findings::FindingsReport;
use crate::report;
use crate::snapshot::hex;
use crate::tempfiles::{sweep_stale, temp_path, TempKind};

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading an input or writing the bundle failed (the disk, not the input's content).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the zip {path}: {source}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{path}: changed since the snapshot was read (its SHA-256 is now {actual}); collect or copy the snapshot again")]
    EvidenceChanged { path: PathBuf, actual: String },
    /// The inputs cannot make a bundle (a name that cannot be stored, a time OSCAL refuses).
    #[error("{0}")]
    Input(String),
    /// A document could not be rendered: a bug, not bad input.
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
}

/// What a bundle may carry besides the audit's own documents.
#[derive(Default, Clone, Copy)]
pub struct Options<'a> {
    /// Sign MANIFEST.sha256 with this minisign key.
    pub sign_key: Option<&'a SecretKey>,
    /// The changes since a previous bundle (`report --previous`): the report's "Changes since
    /// last review" section, `changes-since-previous.json` and a README paragraph.
    pub previous: Option<&'a ChangesSincePrevious>,
    /// `MANIFEST.sha256.tsr` from this time-stamping authority (`report --timestamp-url`). The
    /// TSA is asked once the manifest is final and before the bundle is renamed into place: its
    /// failure fails the run and leaves no bundle.
    pub timestamper: Option<&'a dyn Timestamper>,
}

/// What was written, for the command's closing message and the benchmark.
#[derive(Debug, Clone)]
pub struct BundleSummary {
    pub path: PathBuf,
    pub entries: usize,
    pub bytes: u64,
    pub pdf_pages: usize,
    pub pdf_bytes: usize,
    pub html_bytes: usize,
    pub manifest_sha256: String,
    pub signed_by: Option<String>,
    /// What the RFC 3161 token attests, when the bundle is timestamped.
    pub timestamp: Option<Attested>,
    /// Temporaries of earlier, killed runs that were removed.
    pub stale_removed: Vec<PathBuf>,
}

/// Writes one generated entry (findings.json, findings.csv) as it goes.
type Generator<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a>;

enum Source<'a> {
    Bytes(Vec<u8>),
    /// Streamed straight into the zip: for 10,000 buckets findings.json alone is ~100 MB.
    Generated(Generator<'a>),
    /// A file copied byte for byte; its SHA-256 must still be the one the snapshot recorded.
    File {
        path: PathBuf,
        expected: Option<String>,
    },
}

struct Entry<'a> {
    name: String,
    source: Source<'a>,
}

/// Renders the audit's documents and writes its bundle to `out` atomically.
pub fn write(
    audit: &Audit,
    options: &Options<'_>,
    out: &Path,
) -> Result<BundleSummary, BundleError> {
    let mut model = report::model::ReportModel::build(audit);
    if let Some(previous) = options.previous {
        model.set_previous(report::previous::PreviousView::build(previous));
    }
    let html = report::html::render(&model)?;
    let pdf = report::pdf::render(&model)?;
    let oscal = report::oscal::AssessmentResults::new(audit)
        .map_err(|e| BundleError::Input(e.to_string()))?;
    let (html_bytes, pdf_bytes, pdf_pages) = (html.len(), pdf.bytes.len(), pdf.pages);
    let findings = &audit.findings;
    let mut entries = vec![
        Entry {
            name: ACCESS_CSV.to_string(),
            source: Source::Generated(Box::new(|out: &mut dyn Write| {
                report::access::write_access_csv(audit, out)
            })),
        },
        Entry {
            name: FINDINGS_CSV.to_string(),
            source: Source::Generated(Box::new(|out: &mut dyn Write| {
                report::csv::write_findings_csv(audit, out)
            })),
        },
        Entry {
            name: FINDINGS_JSON.to_string(),
            source: Source::Generated(Box::new(|out: &mut dyn Write| {
                report::write_findings_json(findings, out)
            })),
        },
        Entry {
            name: OSCAL.to_string(),
            source: Source::Generated(Box::new(|out: &mut dyn Write| oscal.write(out))),
        },
        Entry {
            name: REPORT_HTML.to_string(),
            source: Source::Bytes(html.into_bytes()),
        },
        Entry {
            name: REPORT_PDF.to_string(),
            source: Source::Bytes(pdf.bytes),
        },
    ];
    if let Some(previous) = options.previous {
        entries.push(Entry {
            name: CHANGES.to_string(),
            source: Source::Bytes(previous.json().into_bytes()),
        });
    }
    entries.extend(evidence_entries(audit));
    entries.extend(admin_entries(audit)?);
    // The administrative findings cite the catalog's policy definitions: carry the ones used.
    let cites_catalog = (findings.findings.iter())
        .any(|f| (f.evidence.iter()).any(|e| e.starts_with(report::refs::CATALOG_PREFIX)));
    if cites_catalog {
        entries.push(Entry {
            name: CATALOG_POLICIES.to_string(),
            source: Source::Bytes(audit.catalog.policies_source.clone().into_bytes()),
        });
    }
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    // Two attestations may name the same document.
    entries.dedup_by(|a, b| {
        a.name == b.name
            && matches!((&a.source, &b.source), (Source::File { path: x, .. }, Source::File { path: y, .. }) if x == y)
    });
    if let Some(pair) = entries.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(BundleError::Input(format!(
            "two inputs would both be stored as {} in the bundle; rename one",
            pair[0].name
        )));
    }
    let readme = readme(audit, options, &model);
    entries.insert(
        0,
        Entry {
            name: README.to_string(),
            source: Source::Bytes(readme.into_bytes()),
        },
    );
    let mut summary = write_atomically(out, |file| write_zip(file, &entries, findings, options))?;
    summary.pdf_pages = pdf_pages;
    summary.pdf_bytes = pdf_bytes;
    summary.html_bytes = html_bytes;
    Ok(summary)
}

/// `evidence/<path>` for every snapshot file, checked against the hash taken when it was read.
fn evidence_entries<'a>(audit: &'a Audit) -> impl Iterator<Item = Entry<'a>> + 'a {
    let scope = &audit.scope;
    scope.files.iter().map(|file| Entry {
        name: format!("{EVIDENCE_DIR}{}", file.path),
        source: Source::File {
            path: scope.root.join(&file.path),
            expected: Some(file.sha256.clone()),
        },
    })
}

/// `attestations/`: the attestation and exception files as given, and the policy documents the
/// attestations name, stored at the path the attestation gives so its reference resolves.
fn admin_entries<'a>(audit: &Audit) -> Result<Vec<Entry<'a>>, BundleError> {
    let mut entries = Vec::new();
    for path in &audit.admin_files {
        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            BundleError::Input(format!(
                "{}: not a file name phi-audit can bundle",
                path.display()
            ))
        })?;
        entries.push(Entry {
            name: format!("{ATTESTATIONS_DIR}{name}"),
            source: Source::File {
                path: path.clone(),
                expected: None,
            },
        });
    }
    for (relative, path) in audit.attested_documents() {
        if let Some(why) = unsafe_name(&relative) {
            return Err(BundleError::Input(format!(
                "attestation document {relative}: {why}; keep policy documents beside or below the attestations file"
            )));
        }
        entries.push(Entry {
            name: format!("{ATTESTATIONS_DIR}{relative}"),
            source: Source::File {
                path,
                expected: None,
            },
        });
    }
    Ok(entries)
}

/// Creates a temp file beside `out`, lets `fill` write it, then renames it over `out`. Any
/// failure removes the temp file, so a failed run leaves nothing behind.
fn write_atomically(
    out: &Path,
    fill: impl FnOnce(File) -> Result<BundleSummary, BundleError>,
) -> Result<BundleSummary, BundleError> {
    let temp = temp_path(out, TempKind::HiddenFile, std::process::id())
        .ok_or_else(|| BundleError::Input(format!("--out {}: not a file name", out.display())))?;
    // A run killed outright could not remove its temporary: the next run into the same place does.
    let stale_removed =
        sweep_stale(out, TempKind::HiddenFile).map_err(|source| BundleError::Io {
            path: out.to_path_buf(),
            source,
        })?;
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|source| BundleError::Io {
            path: temp.clone(),
            source,
        })?;
    struct Cleanup<'p>(&'p Path, bool);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let _ = std::fs::remove_file(self.0);
            }
        }
    }
    let mut guard = Cleanup(&temp, false);
    let mut summary = fill(file)?;
    std::fs::rename(&temp, out).map_err(|source| BundleError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    guard.1 = true;
    summary.path = out.to_path_buf();
    summary.stale_removed = stale_removed;
    Ok(summary)
}

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
struct Hashing<'w, W: Write> {
    inner: &'w mut W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_zip(
    file: File,
    entries: &[Entry],
    findings: &FindingsReport,
    options: &Options<'_>,
) -> Result<BundleSummary, BundleError> {
    let zip_err = |source| BundleError::Zip {
        path: PathBuf::from("bundle"),
        source,
    };
    let entry_options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(entry_time(&findings.generated_at))
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let mut manifest_lines: Vec<(String, String)> = Vec::with_capacity(entries.len());
    let mut buffer = vec![0u8; 1 << 16];
    for entry in entries {
        zip.start_file(entry.name.as_str(), entry_options)
            .map_err(zip_err)?;
        let digest = match &entry.source {
            Source::Bytes(bytes) => {
                zip.write_all(bytes).map_err(|source| BundleError::Io {
                    path: PathBuf::from(&entry.name),
                    source,
                })?;
                hex(&Sha256::digest(bytes))
            }
            Source::Generated(generate) => {
                let mut out = Hashing {
                    inner: &mut zip,
                    hasher: Sha256::new(),
                };
                generate(&mut out).map_err(|source| BundleError::Io {
                    path: PathBuf::from(&entry.name),
                    source,
                })?;
                hex(&out.hasher.finalize())
            }
            Source::File { path, expected } => {
                let io = |source| BundleError::Io {
                    path: path.clone(),
                    source,
                };
                let mut input = File::open(path).map_err(io)?;
                let mut hasher = Sha256::new();
                loop {
                    let n = input.read(&mut buffer).map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buffer[..n]);
                    zip.write_all(&buffer[..n]).map_err(io)?;
                }
                let actual = hex(&hasher.finalize());
                if let Some(expected) = expected {
                    if *expected != actual {
                        return Err(BundleError::EvidenceChanged {
                            path: path.clone(),
                            actual,
                        });
                    }
                }
                actual
            }
        };
        manifest_lines.push((entry.name.clone(), digest));
    }
    manifest_lines.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let manifest: String = manifest_lines
        .iter()
        .map(|(name, digest)| manifest_line(digest, name))
        .collect();
    zip.start_file(MANIFEST, entry_options).map_err(zip_err)?;
    zip.write_all(manifest.as_bytes())
        .map_err(|source| BundleError::Io {
            path: PathBuf::from(MANIFEST),
            source,
        })?;
    let mut signed_by = None;
    let mut count = entries.len() + 1;
    if let Some(key) = options.sign_key {
        let signature = key.sign(manifest.as_bytes(), &trusted_comment(findings));
        zip.start_file(SIGNATURE, entry_options).map_err(zip_err)?;
        zip.write_all(signature.as_bytes())
            .map_err(|source| BundleError::Io {
                path: PathBuf::from(SIGNATURE),
                source,
            })?;
        signed_by = Some(key.public().key_id_hex());
        count += 1;
    }
    let mut timestamp = None;
    if let Some(timestamper) = options.timestamper {
        let stamp = timestamper.stamp(manifest.as_bytes())?;
        zip.start_file(TIMESTAMP, entry_options).map_err(zip_err)?;
        zip.write_all(&stamp.response_der)
            .map_err(|source| BundleError::Io {
                path: PathBuf::from(TIMESTAMP),
                source,
            })?;
        timestamp = Some(stamp.attested);
        count += 1;
    }
    let writer = zip.finish().map_err(zip_err)?;
    let file = writer.into_inner().map_err(|e| BundleError::Io {
        path: PathBuf::from("bundle"),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(|source| BundleError::Io {
        path: PathBuf::from("bundle"),
        source,
    })?;
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

/// The signed trusted comment: ties the signature to one account, snapshot and generation.
pub fn trusted_comment(findings: &FindingsReport) -> String {
    // An organisation's bundle names its management account, and the organisation too.
    let account = match &findings.snapshot.organization_id {
        Some(org) => format!("{}; organization {org}", findings.snapshot.account_id),
        None => findings.snapshot.account_id.clone(),
    };
    format!(
        "phi-audit evidence bundle manifest; account {}; snapshot {}; collected {}; generated {}",
        account, findings.snapshot.digest, findings.snapshot.collected_at, findings.generated_at
    )
}

/// README.txt's line for `changes-since-previous.json` in the contents, and its paragraph.
fn readme_previous(previous: Option<&ChangesSincePrevious>) -> (String, String) {
    let Some(previous) = previous else {
        return (String::new(), String::new());
    };
    let old = &previous.diff.old;
    let entry = format!(
        "{CHANGES}\n\
         \x20                what changed since the previous bundle (format phi-audit-diff/1)\n"
    );
    let paragraph = format!(
        "Changes since the previous review\n\
         ---------------------------------\n\
         The report's \"Changes since last review\" section and {CHANGES} compare this\n\
         bundle with the previous one, which phi-audit verified intact before comparing:\n\n\
         Previous bundle:         {bundle}\n\
         Its report generated:    {generated}\n\
         Its evidence collected:  {collected}\n\
         SHA-256 of its MANIFEST.sha256:\n\
         \x20   {manifest}\n\n\
         With both bundles in one directory, the same comparison is printed by:\n\n\
         \x20   phi-audit diff {bundle} {new} --format json\n\n",
        bundle = old.bundle,
        generated = old.generated_at,
        collected = old.collected_at,
        manifest = previous.previous_manifest_sha256,
        new = previous.diff.new.bundle,
    );
    (entry, paragraph)
}

fn readme(audit: &Audit, options: &Options<'_>, model: &report::model::ReportModel) -> String {
    let f = &audit.findings;
    let (previous_entry, previous_paragraph) = readme_previous(options.previous);
    let timestamp_source = options.timestamper.map(|t| t.source());
    let timestamped = match timestamp_source {
        Some(source) => format!(
            "\nThis bundle carries a trusted timestamp: MANIFEST.sha256.tsr is an RFC 3161 time-stamp\n\
             token from the time-stamping authority at {source}, over the SHA-256 of\n\
             MANIFEST.sha256. It proves the manifest, and so every file it lists, existed at the time\n\
             it states. Get the authority's CA certificate (tsa-ca.pem) from the authority, then:\n\n\
             \x20   openssl ts -verify -in MANIFEST.sha256.tsr -data MANIFEST.sha256 -CAfile tsa-ca.pem\n\
             \x20   openssl ts -reply -in MANIFEST.sha256.tsr -text     # the \"Time stamp:\" line\n\n\
             The first must print \"Verification: OK\". With phi-audit:\n\n\
             \x20   phi-audit verify bundle.zip --tsa-cert tsa-ca.pem\n"
        ),
        None => String::new(),
    };
    let signed = match options.sign_key {
        Some(key) => format!(
            "This bundle is signed: MANIFEST.sha256.sig is a minisign signature of MANIFEST.sha256 made\n\
             with the key whose id is {}. Ask the organisation for its public key file\n\
             (phi-audit.pub) through a channel other than this bundle, then run:\n\n\
             \x20   minisign -Vm MANIFEST.sha256 -x MANIFEST.sha256.sig -p phi-audit.pub\n\n\
             minisign prints the trusted comment, which names the account, the snapshot digest and\n\
             the generation time; they must match the ones above.\n",
            key.public().key_id_hex()
        ),
        None => "This bundle is not signed (no MANIFEST.sha256.sig): the manifest proves the files belong\n\
                 together, but not who produced them. Compare MANIFEST.sha256's own SHA-256 with the value\n\
                 the organisation gives you through another channel.\n"
            .to_string(),
    };
    format!(
        "phi-audit evidence bundle\n\
         =========================\n\n\
         HIPAA Security Rule (45 CFR 164.312) evidence for the Amazon S3 configuration of\n\
         {subject} ({organisation}).\n\n\
         Evidence collected:  {collected}\n\
         Report generated:    {generated}\n\
         Review period:       {period}\n\
         Snapshot digest:     {digest}\n\
         Tool:                phi-audit {tool}\n\n\
         Contents\n\
         --------\n\
         report.pdf       the audit report: summary, 164.312 coverage (every specification, Required or\n\
         \x20                Addressable, what covers it, a conclusion), a section per safeguard, one per\n\
         \x20                policy, inventory, exceptions, configuration changes and method\n\
         report.html      the same report as a single self-contained web page\n\
         findings.csv     one row per finding (cells that a spreadsheet would run as formulas are\n\
         \x20                prefixed with an apostrophe)\n\
         access-review.csv  who can read, write or manage each ePHI bucket: one row per bucket\n\
         \x20                and IAM user or role (neutralised like findings.csv)\n\
         findings.json    the same findings, machine-readable (format phi-audit-findings/1)\n\
         {previous_entry}\
         oscal/           assessment-results.json: the same findings as a NIST OSCAL 1.1.2\n\
         \x20                assessment-results document, linked to the evidence below\n\
         evidence/        the raw API answers exactly as collected (the snapshot), byte for byte:\n\
         \x20                they may hold identifiers (a tag with a patient's social security\n\
         \x20                number or e-mail address) that the documents above mask; handle them\n\
         \x20                as PHI\n\
         attestations/    the policy attestations and risk exceptions as given, with the policy\n\
         \x20                documents they name, if any\n\
         catalog/         policies.yaml: with attestations, the policy definitions they were\n\
         \x20                judged against (the administrative findings cite it)\n\
         MANIFEST.sha256  the SHA-256 of every other file\n\n\
         {previous_paragraph}\
         How to check that nothing was changed\n\
         -------------------------------------\n\
         Unzip the bundle and run these in its top directory (the one holding MANIFEST.sha256).\n\n\
         Linux (coreutils; also WSL):\n\n\
         \x20   unzip -q bundle.zip -d bundle && cd bundle\n\
         \x20   sha256sum -c MANIFEST.sha256          # every line must say OK\n\
         \x20   find . -type f ! -name 'MANIFEST.sha256*' | sed 's|^\\./||' | LC_ALL=C sort > /tmp/files\n\
         \x20   cut -c67- MANIFEST.sha256 | LC_ALL=C sort | diff - /tmp/files   # no extra files\n\n\
         macOS (shasum comes with the system's Perl):\n\n\
         \x20   unzip -q bundle.zip -d bundle && cd bundle\n\
         \x20   shasum -a 256 -c MANIFEST.sha256      # every line must say OK\n\n\
         Windows (PowerShell; Expand-Archive unzips):\n\n\
         \x20   Expand-Archive bundle.zip -DestinationPath bundle; cd bundle\n\
         \x20   {powershell}\n\n\
         The last prints one line per file and must print no FAILED line.\n\n\
         The snapshot digest above is recomputed from evidence/ with:\n\n\
         \x20   cd evidence && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum\n\n\
         With phi-audit:  phi-audit verify bundle.zip [--public-key phi-audit.pub]\n\n\
         {signed}{timestamped}\n\
         Every zip entry carries the same timestamp (the generation time, UTC), so the same snapshot\n\
         and generation time always give the same bytes.\n",
        subject = model.cover.header_subject,
        organisation = model.cover.organisation,
        collected = f.snapshot.collected_at,
        generated = f.generated_at,
        period = model.cover.review_period,
        digest = f.snapshot.digest,
        tool = env!("CARGO_PKG_VERSION"),
        previous_entry = previous_entry,
        previous_paragraph = previous_paragraph,
        powershell = README_POWERSHELL_CHECK,
    )
}

/// README.txt's Windows check of MANIFEST.sha256: each line is `<hex>  <path>`; PowerShell's
/// `-eq` compares the hex without regard to case (Get-FileHash prints upper case).
pub const README_POWERSHELL_CHECK: &str = "Get-Content MANIFEST.sha256 | ForEach-Object { $h, $p = $_ -split '  ', 2; if ((Get-FileHash -Algorithm SHA256 -LiteralPath $p).Hash -eq $h) { \"OK  $p\" } else { \"FAILED  $p\" } }";
