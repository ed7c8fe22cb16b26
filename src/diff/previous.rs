//! `report --previous OLD.zip` (and `run --previous`): the comparison behind the report's
//! "Changes since last review" section and the bundle's `changes-since-previous.json`.
//!
//! The previous bundle is verified exactly as `diff` verifies its two bundles (no public key:
//! `diff` takes none). A bundle that cannot be read, or does not verify, is refused: a report must
//! not present changes measured against evidence nobody can vouch for. The comparison
//! ([`super::compare`]) then runs against the report still in memory — its findings after
//! exceptions and its snapshot's bucket files — never against a re-read of the zip being written.
//! The previous bundle stays open in between, and its findings are kept only as a compact index.
//!
//! Both sides are named by their file name only, so the bundle records no directory of the
//! machine that made it, and `phi-audit diff OLD.zip NEW.zip --format json` run beside the two
//! bundles prints exactly the bytes of `changes-since-previous.json`.

use std::path::{Path, PathBuf};

use super::DiffError;
use super::{compare, BundleDiff, NewSide, OldSide};
use crate::audit::Audit;
use crate::bundle::format::MANIFEST;
use crate::bundle::verify::{verify, VerifyError};
use crate::parallel::Threads;

/// Why `--previous` was refused (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PreviousError {
    #[error("--previous: {0}")]
    Unreadable(#[source] VerifyError),
    #[error(
        "--previous {}: the previous bundle does not verify, so no changes can be reported \
         against it (verify's listing follows)\n{listing}",
        path.display()
    )]
    DoesNotVerify { path: PathBuf, listing: String },
    #[error("--previous: {0}")]
    Contents(#[from] DiffError),
}

/// A previous bundle that verified intact, open for the comparison: its findings indexed, its
/// evidence files read when compared.
#[derive(Debug)]
pub struct PreviousBundle {
    pub path: PathBuf,
    pub old: OldSide,
    /// The SHA-256 of its `MANIFEST.sha256`: what identifies the whole bundle.
    pub manifest_sha256: String,
}

/// What the report embeds about its previous bundle.
#[derive(Debug, Clone)]
pub struct ChangesSincePrevious {
    /// OLD is the previous bundle, NEW the bundle being written.
    pub diff: BundleDiff,
    pub previous_manifest_sha256: String,
}

impl ChangesSincePrevious {
    /// `changes-since-previous.json`: byte for byte what `diff --format json` prints.
    pub fn json(&self) -> String {
        self.diff.json()
    }
}

/// How a bundle is named inside another: its file name, never its directory.
pub fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl PreviousBundle {
    /// Verifies the bundle at `path` (as `diff` does, on up to `threads` threads) and reads it.
    pub fn load(path: &Path, threads: Threads) -> Result<PreviousBundle, PreviousError> {
        let report = verify(path, None, threads).map_err(PreviousError::Unreadable)?;
        if !report.intact() {
            return Err(PreviousError::DoesNotVerify {
                path: path.to_path_buf(),
                listing: report.render(),
            });
        }
        let old = OldSide::read(path, &file_label(path))?;
        // A bundle that verified has a manifest; this only guards against a change in between.
        let manifest_sha256 = old
            .manifest_sha256
            .clone()
            .ok_or_else(|| DiffError::BadEntry {
                path: path.to_path_buf(),
                entry: MANIFEST.to_string(),
                message: "missing".to_string(),
            })?;
        Ok(PreviousBundle {
            path: path.to_path_buf(),
            old,
            manifest_sha256,
        })
    }

    /// Compares this bundle with the audit whose bundle will be written to `out`: its findings
    /// after exceptions, and its snapshot's bucket files.
    pub fn changes_until(
        &mut self,
        out: &Path,
        audit: &Audit,
    ) -> Result<ChangesSincePrevious, DiffError> {
        let label = file_label(out);
        let new = NewSide::Report {
            label: &label,
            report: &audit.findings,
            root: &audit.scope.root,
            files: &audit.scope.files,
        };
        let diff = compare(&mut self.old, new)?;
        Ok(ChangesSincePrevious {
            diff,
            previous_manifest_sha256: self.manifest_sha256.clone(),
        })
    }
}
