//! Evidence references as the bundle's documents print them. findings.json keeps each
//! reference relative to the input it points into (docs/findings-format.md); every document
//! written for reading (findings.csv, report.html, report.pdf, OSCAL) names the file where it
//! sits in the bundle, so that it can be followed: `evidence/` for the snapshot,
//! `attestations/` for the attestation and exception files and the policy documents they name,
//! `catalog/` for the catalog's policy definitions (`controls/…` in findings.json). One rule, here.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::attest::Administrative;
use crate::audit::Audit;
use crate::bundle::format::{ATTESTATIONS_DIR, CATALOG_DIR, EVIDENCE_DIR};
use crate::findings::FastMap;

/// The catalog's prefix in findings.json's references.
pub const CATALOG_PREFIX: &str = "controls/";

/// One reference, ready to print and to link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceLink {
    /// The bundle path and, when the answer was recorded, its JSON pointer.
    pub text: String,
    /// A relative URL from the bundle's top directory (the pointer percent-encoded).
    pub href: String,
}

/// What tells the references apart: the administrative files and the answers never recorded.
#[derive(Debug, Clone, Default)]
pub struct BundleRefs {
    admin: HashSet<String>,
    not_collected: HashSet<String>,
}

impl BundleRefs {
    pub fn new(audit: &Audit) -> BundleRefs {
        let mut refs = BundleRefs::administrative(&audit.admin_files, &audit.admin);
        refs.not_collected = (audit.scope.accounts.iter())
            .flat_map(|a| a.not_collected_refs.iter().cloned())
            .collect();
        refs
    }

    /// The references of the administrative files alone (every reference [`Self::path`] and
    /// [`Self::bundle_file`] tell apart), before any account is judged.
    pub fn administrative(admin_files: &[PathBuf], admin: &Administrative) -> BundleRefs {
        let mut files: HashSet<String> = (admin_files.iter())
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
            .collect();
        files.extend(admin.attested_documents().into_iter().map(|(r, _)| r));
        BundleRefs {
            admin: files,
            not_collected: HashSet::new(),
        }
    }

    /// The reference's file, as the bundle names it.
    pub fn bundle_file(&self, file: &str) -> String {
        if let Some(rest) = file.strip_prefix(CATALOG_PREFIX) {
            format!("{CATALOG_DIR}{rest}")
        } else if self.admin.contains(file) {
            format!("{ATTESTATIONS_DIR}{file}")
        } else {
            format!("{EVIDENCE_DIR}{file}")
        }
    }

    /// The reference with its file as the bundle names it, pointer and all (findings.csv).
    pub fn path(&self, reference: &str) -> String {
        match reference.split_once('#') {
            Some((file, pointer)) => format!("{}#{pointer}", self.bundle_file(file)),
            None => self.bundle_file(reference),
        }
    }

    /// The reference as the bundle names it: `evidence/buckets/b.json#/calls/GetBucketAcl`. An
    /// answer the snapshot never recorded names its file alone, and says so.
    pub fn link(&self, reference: &str) -> EvidenceLink {
        let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let path = self.bundle_file(file);
        if pointer.is_empty() || self.not_collected.contains(reference) {
            let text = if pointer.is_empty() {
                path.clone()
            } else {
                format!("{path} (no answer recorded at #{pointer})")
            };
            return EvidenceLink {
                href: percent_encode(&path),
                text,
            };
        }
        EvidenceLink {
            text: format!("{path}#{pointer}"),
            href: format!("{}#{}", percent_encode(&path), percent_encode(pointer)),
        }
    }

    /// [`Self::link`]'s text of each reference, the same file named once:
    /// `evidence/a.json #/calls/X #/calls/Y; evidence/b.json #/p`.
    pub fn compact<S: AsRef<str>>(&self, refs: &[S]) -> String {
        // The files in the order first named; a group of ten thousand buckets names as many.
        let mut files: Vec<(String, Vec<String>)> = Vec::new();
        let mut index: FastMap<String, usize> = FastMap::default();
        for r in refs {
            let text = self.link(r.as_ref()).text;
            let (file, pointer) = match text.split_once('#') {
                Some((f, p)) if !f.ends_with(' ') => (f.to_string(), format!("#{p}")),
                _ => (text, String::new()),
            };
            match index.get(&file) {
                Some(&i) => files[i].1.push(pointer),
                None => {
                    index.insert(file.clone(), files.len());
                    files.push((file, vec![pointer]));
                }
            }
        }
        files
            .into_iter()
            .map(|(file, pointers)| {
                let pointers: Vec<String> =
                    pointers.into_iter().filter(|p| !p.is_empty()).collect();
                if pointers.is_empty() {
                    file
                } else {
                    format!("{file} {}", pointers.join(" "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// RFC 3986: what may stand unescaped in a path or fragment stays, everything else is `%XX`.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
