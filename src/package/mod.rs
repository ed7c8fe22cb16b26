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

mod readme;
mod zipfile;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

use crate::audit::Audit;
use crate::bundle::format::{
    unsafe_name, ACCESS_CSV, ATTESTATIONS_DIR, CATALOG_POLICIES, CHANGES, EVIDENCE_DIR,
    FINDINGS_CSV, FINDINGS_JSON, OSCAL, README, REPORT_HTML, REPORT_PDF,
};
use crate::bundle::sign::SecretKey;
use crate::bundle::timestamp::{Attested, TimestampError, Timestamper};
use crate::diff::previous::ChangesSincePrevious;
use crate::findings::FindingsReport;
use crate::parallel::Threads;
use crate::report;
use crate::tempfiles::{dir_of, sweep_stale, temp_path, TempKind};
pub use readme::README_POWERSHELL_CHECK;
pub use zipfile::entry_time;
use zipfile::{write_zip, Entry, Source};

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

/// What a bundle may carry besides the audit's own documents, and how it is written.
#[derive(Clone, Copy)]
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
    /// Entries are rendered and compressed on up to this many threads; the bundle is the same
    /// bytes on any number.
    pub threads: Threads,
    /// On more than one thread, OSCAL is written beside the two reports for an audit of up to
    /// this many findings, and after them for a larger one, so that its plan and the report
    /// model are never in memory together (default [`OSCAL_BESIDE_REPORTS_UP_TO`]).
    pub oscal_beside_reports_up_to: usize,
}

/// The largest audit (in findings) whose OSCAL document is written beside the reports. At
/// 10,000 buckets (232,000 findings) the model and OSCAL's plan together are about 30 MB, and
/// waiting cost a tenth of the run; at 100 accounts × 1,000 buckets (2.1 million) they were
/// 516 MB at the peak against 463 MB one after the other.
pub const OSCAL_BESIDE_REPORTS_UP_TO: usize = 500_000;

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            sign_key: None,
            previous: None,
            timestamper: None,
            threads: Threads::default(),
            oscal_beside_reports_up_to: OSCAL_BESIDE_REPORTS_UP_TO,
        }
    }
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

/// Renders the audit's documents and writes its bundle to `out` atomically.
pub fn write(
    audit: &Audit,
    options: &Options<'_>,
    out: &Path,
) -> Result<BundleSummary, BundleError> {
    let rendered = Rendered::default();
    let said = readme::Said::of(options);
    let oscal_waits = options.threads.get() > 1
        && audit.findings.findings.len() > options.oscal_beside_reports_up_to;
    let mut entries = documents(audit, &said, &rendered, oscal_waits);
    entries.extend(evidence_entries(audit));
    entries.extend(admin_entries(audit)?);
    // The administrative findings cite the catalog's policy definitions: carry the ones used.
    let cites_catalog = (audit.findings.findings.iter()).any(|f| {
        f.evidence()
            .any(|e| e.starts_with(report::refs::CATALOG_PREFIX))
    });
    if cites_catalog {
        entries.push(Entry {
            name: CATALOG_POLICIES.to_string(),
            source: Source::Bytes(audit.catalog.policies_source.clone().into_bytes()),
        });
    }
    // README.txt first, then in byte order of the names.
    entries.sort_by(|a, b| {
        (a.name != README, a.name.as_bytes()).cmp(&(b.name != README, b.name.as_bytes()))
    });
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
    let mut summary = write_atomically(out, |file| {
        write_zip(file, dir_of(out), &entries, &audit.findings, options)
    })?;
    (summary.pdf_pages, summary.pdf_bytes) = rendered.pdf.get().copied().unwrap_or_default();
    summary.html_bytes = rendered.html_bytes.get().copied().unwrap_or_default();
    Ok(summary)
}

/// What the workers leave for the closing summary, and the report model they share.
#[derive(Default)]
struct Rendered<'a> {
    /// The two reports, rendered one at a time under this lock, and the model they share.
    reports: Mutex<Reports<'a>>,
    /// Told when a report is done (OSCAL waits for both).
    report_done: Condvar,
    html_bytes: OnceLock<usize>,
    pdf: OnceLock<(usize, usize)>,
}

/// The report model, built by the first report to be rendered and dropped after the second:
/// at 100 accounts × 1,000 buckets it is about 400 MB, which OSCAL's plan would otherwise join.
#[derive(Default)]
struct Reports<'a> {
    model: Option<report::model::ReportModel<'a>>,
    done: u8,
}

/// report.pdf and report.html.
const REPORTS: u8 = 2;

impl<'a> Rendered<'a> {
    /// Renders one report with the model (built on first use), one report at a time. The model
    /// is dropped once both reports are done, and the report counts as done even when it failed,
    /// so OSCAL never waits for a report that will not come.
    fn report<T>(
        &self,
        audit: &'a Audit,
        previous: Option<&ChangesSincePrevious>,
        render: impl FnOnce(&report::model::ReportModel<'a>) -> Result<T, BundleError>,
    ) -> Result<T, BundleError> {
        let mut reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        struct Done<'r, 'g, 'a>(&'r Rendered<'a>, &'g mut Reports<'a>);
        impl Drop for Done<'_, '_, '_> {
            fn drop(&mut self) {
                self.1.done += 1;
                if self.1.done == REPORTS {
                    self.1.model = None;
                }
                self.0.report_done.notify_all();
            }
        }
        let done = Done(self, &mut reports);
        let model = done.1.model.get_or_insert_with(|| {
            let mut model = report::model::ReportModel::build(audit);
            if let Some(previous) = previous {
                model.set_previous(report::previous::PreviousView::build(previous));
            }
            model
        });
        render(model)
    }

    /// Waits until both reports are done and the model is dropped.
    fn wait_for_reports(&self) {
        let reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        let _done = (self.report_done)
            .wait_while(reports, |r| r.done < REPORTS)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// The documents the audit is rendered into, each produced when a worker reaches it. report.pdf
/// is started first (the slowest, and it builds the model), report.html after the findings: the
/// two reports are the largest in memory, and are never rendered at the same time. OSCAL is
/// started after both; when `oscal_waits` (a large audit on more than one thread:
/// [`Options::oscal_beside_reports_up_to`]) it waits for them to finish, so that its plan and
/// the model are never in memory together. (On one thread the entries are made in zip order,
/// OSCAL before the reports: it must not wait.)
fn documents<'a>(
    audit: &'a Audit,
    said: &'a readme::Said<'a>,
    rendered: &'a Rendered<'a>,
    oscal_waits: bool,
) -> Vec<Entry<'a>> {
    let previous = said.previous;
    let io = |name: &'static str| {
        move |source| BundleError::Io {
            path: PathBuf::from(name),
            source,
        }
    };
    let mut entries = vec![
        generated(REPORT_PDF, 0, move |out| {
            let pdf = rendered.report(audit, previous, |model| {
                report::pdf::render_to(model, out).map_err(BundleError::from)
            })?;
            let _ = rendered.pdf.set((pdf.pages, pdf.bytes as usize));
            Ok(())
        }),
        generated(FINDINGS_JSON, 1, move |out| {
            report::write_findings_json(&audit.findings, out).map_err(io(FINDINGS_JSON))
        }),
        generated(README, 2, move |out| {
            let text = readme::readme(audit, said, &report::model::ReportModel::cover_of(audit));
            out.write_all(text.as_bytes()).map_err(io(README))
        }),
        generated(FINDINGS_CSV, 3, move |out| {
            report::csv::write_findings_csv(audit, out).map_err(io(FINDINGS_CSV))
        }),
        generated(REPORT_HTML, 4, move |out| {
            let bytes = rendered.report(audit, previous, |model| {
                report::html::render_to(model, out).map_err(BundleError::from)
            })?;
            let _ = rendered.html_bytes.set(bytes);
            Ok(())
        }),
        generated(OSCAL, 5, move |out| {
            if oscal_waits {
                rendered.wait_for_reports();
            }
            let oscal = report::oscal::AssessmentResults::new(audit)
                .map_err(|e| BundleError::Input(e.to_string()))?;
            oscal.write(out).map_err(io(OSCAL))
        }),
        generated(ACCESS_CSV, 6, move |out| {
            report::access::write_access_csv(audit, out).map_err(io(ACCESS_CSV))
        }),
    ];
    if let Some(previous) = previous {
        entries.push(Entry {
            name: CHANGES.to_string(),
            source: Source::Bytes(previous.json().into_bytes()),
        });
    }
    entries
}

/// An entry written by `generate` when a worker reaches it; `start` ranks when it is started.
fn generated<'a>(
    name: &str,
    start: u8,
    generate: impl Fn(&mut dyn Write) -> Result<(), BundleError> + Sync + 'a,
) -> Entry<'a> {
    Entry {
        name: name.to_string(),
        source: Source::Generated {
            generate: Box::new(generate),
            start,
        },
    }
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
