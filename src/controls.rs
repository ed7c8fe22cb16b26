//! The control catalog: one definition per control (title, why it matters for ePHI, severity,
//! 164.312 safeguards, Dash policy, remediation, references, deciding evidence), kept as YAML in
//! `controls/`, one file per family.
//!
//! The catalog is parsed with positions and then validated, so every mistake is reported as
//! `file:line:column: field: message`. The built-in catalog is compiled into the binary;
//! `--controls DIR` reads another copy (for organisations that adapt wording or severities).

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::findings::{Names, Severity};
use crate::schema::Operation;

pub mod policies;
pub mod specs;
pub use policies::PolicyDefinition;
pub use specs::{specification, Specification, SAFEGUARDS, SPECIFICATIONS};

/// The Dash administrative policies each control belongs to.
pub const POLICIES: &[&str] = &[
    "System Access Policy",
    "Configuration Management Policy",
    "Auditing Policy",
    "Data Integrity Policy",
];

/// The built-in catalog, one file per family.
const BUILTIN: &[(&str, &str)] = &[
    (
        "controls/access.yaml",
        include_str!("../controls/access.yaml"),
    ),
    (
        "controls/configuration.yaml",
        include_str!("../controls/configuration.yaml"),
    ),
    (
        "controls/integrity.yaml",
        include_str!("../controls/integrity.yaml"),
    ),
    (
        "controls/encryption.yaml",
        include_str!("../controls/encryption.yaml"),
    ),
    ("controls/kms.yaml", include_str!("../controls/kms.yaml")),
    (
        "controls/audit.yaml",
        include_str!("../controls/audit.yaml"),
    ),
    (
        "controls/cloudtrail.yaml",
        include_str!("../controls/cloudtrail.yaml"),
    ),
    (
        "controls/administrative.yaml",
        include_str!("../controls/administrative.yaml"),
    ),
    (
        "controls/organization.yaml",
        include_str!("../controls/organization.yaml"),
    ),
    (
        "controls/identity.yaml",
        include_str!("../controls/identity.yaml"),
    ),
];

/// The built-in administrative policy definitions (see [`policies`]).
const BUILTIN_POLICIES: (&str, &str) = (
    "controls/policies.yaml",
    include_str!("../controls/policies.yaml"),
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub id: String,
    pub family: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub safeguards: Names,
    /// Why the control evidences each of its safeguards: one sentence per safeguard, keyed by
    /// its id (the catalog refuses a safeguard without one, or one for a safeguard not mapped).
    pub rationale: BTreeMap<String, String>,
    pub policies: Names,
    /// The API answers that decide this control (for the report's method appendix).
    pub evidence: Vec<String>,
    pub remediation: Remediation,
    pub references: Vec<Reference>,
    /// What a failure on an ePHI bucket puts at risk, for the report's risk-first summary;
    /// `None` for controls that summary does not group.
    pub risk: Option<Risk>,
}

/// The kinds of risk to ePHI the report names first, in the order an auditor asks about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Readable, listable or writable by anyone on the internet.
    Public,
    /// Open to other AWS accounts.
    Shared,
    /// Not encrypted at rest, or reachable over plain HTTP.
    Unencrypted,
    /// Access to it is not recorded.
    Untracked,
    /// Overwrites and deletions cannot be undone.
    Unversioned,
}

impl Risk {
    pub const ALL: [Risk; 5] = [
        Risk::Public,
        Risk::Shared,
        Risk::Unencrypted,
        Risk::Untracked,
        Risk::Unversioned,
    ];

    /// The catalog's spelling (`risk:` in controls/*.yaml).
    pub fn name(self) -> &'static str {
        match self {
            Risk::Public => "public",
            Risk::Shared => "shared",
            Risk::Unencrypted => "unencrypted",
            Risk::Untracked => "untracked",
            Risk::Unversioned => "unversioned",
        }
    }

    /// The heading the report gives it.
    pub fn title(self) -> &'static str {
        match self {
            Risk::Public => "ePHI exposed to the internet",
            Risk::Shared => "ePHI open to other AWS accounts",
            Risk::Unencrypted => "ePHI not encrypted at rest or in transit",
            Risk::Untracked => "Access to ePHI not recorded",
            Risk::Unversioned => "ePHI that cannot be recovered after overwrite or deletion",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remediation {
    pub summary: String,
    /// An `aws` CLI command; `{bucket}` stands for the bucket's name.
    pub cli: String,
    pub console: String,
}

/// The placeholders a remediation command may hold, with what replaces each: the one list the
/// report's "replace … with …" line and findings.csv's filled-in command read.
pub const PLACEHOLDERS: [(&str, &str); 8] = [
    ("{bucket}", "the bucket's name"),
    ("TRAIL_ARN", "the trail's ARN"),
    (
        "TRAIL",
        "the name or ARN of the trail that is to record the data events",
    ),
    ("KEY_ARN", "the ARN of the customer managed KMS key to use"),
    (
        "LOG_BUCKET",
        "the name of the bucket that receives the access logs",
    ),
    ("POLICY", "the policy document's file name"),
    ("ACCOUNT_ID", "the member account's id"),
    ("ACCOUNT", "the account's id"),
];

impl Remediation {
    /// The placeholders [`PLACEHOLDERS`] names that the command holds, in that order. An
    /// upper-case placeholder counts as a whole word only (`TRAIL` is not in `TRAIL_ARN`).
    pub fn placeholders(&self) -> Vec<(&'static str, &'static str)> {
        placeholders_in(&self.cli)
    }

    /// The command with what a subject fixes filled in: a bucket's name for `{bucket}`, a
    /// trail's ARN for `TRAIL_ARN`.
    pub fn cli_for(&self, subject: &str) -> String {
        match subject.strip_prefix("s3://") {
            Some(bucket) => self.cli.replace("{bucket}", bucket),
            None if subject.starts_with("arn:") && subject.contains(":trail/") => {
                replace_token(&self.cli, "TRAIL_ARN", subject)
            }
            None => self.cli.clone(),
        }
    }
}

/// The placeholders of [`PLACEHOLDERS`] that a command holds ([`Remediation::placeholders`]).
pub fn placeholders_in(cli: &str) -> Vec<(&'static str, &'static str)> {
    PLACEHOLDERS
        .iter()
        .filter(|(token, _)| contains_token(cli, token))
        .copied()
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Where `token` stands in `text` as a whole word (a `{…}` token: anywhere).
fn token_positions(text: &str, token: &str) -> Vec<usize> {
    text.match_indices(token)
        .filter(|(at, _)| {
            token.starts_with('{')
                || (!text[..*at].chars().next_back().is_some_and(is_word)
                    && !text[at + token.len()..].chars().next().is_some_and(is_word))
        })
        .map(|(at, _)| at)
        .collect()
}

fn contains_token(text: &str, token: &str) -> bool {
    !token_positions(text, token).is_empty()
}

fn replace_token(text: &str, token: &str, with: &str) -> String {
    let mut out = text.to_string();
    for at in token_positions(text, token).into_iter().rev() {
        out.replace_range(at..at + token.len(), with);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    /// In catalog order: files in the order given, controls in file order.
    pub controls: Vec<Control>,
    index: BTreeMap<String, usize>,
    /// The Dash administrative policies (`policies.yaml`), in file order; empty when only
    /// control files were parsed.
    pub policies: Vec<PolicyDefinition>,
    /// The text of those definitions, as read: the bundle carries it (`catalog/policies.yaml`)
    /// so that the administrative findings' references resolve.
    pub policies_source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        file: String,
        line: u64,
        column: u64,
        field: String,
        message: String,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    Catalog { file: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    family: Spanned<String>,
    #[allow(dead_code)] // documents the family for readers of the YAML
    title: String,
    controls: Vec<RawControl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    id: Spanned<String>,
    title: Spanned<String>,
    description: Spanned<String>,
    severity: Spanned<String>,
    safeguards: Vec<Spanned<String>>,
    /// Absent or empty (`rationale:` alone) leaves every safeguard without one.
    #[serde(default)]
    rationale: Option<BTreeMap<String, Spanned<String>>>,
    policies: Vec<Spanned<String>>,
    evidence: Vec<Spanned<String>>,
    remediation: RawRemediation,
    #[serde(default)]
    references: Vec<RawReference>,
    #[serde(default)]
    risk: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemediation {
    summary: Spanned<String>,
    cli: Spanned<String>,
    console: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    title: Spanned<String>,
    url: Spanned<String>,
}

impl Catalog {
    /// The catalog compiled into this binary.
    pub fn builtin(known_ids: &[&str]) -> Result<Catalog, CatalogError> {
        let files = BUILTIN
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect::<Vec<_>>();
        let (file, text) = BUILTIN_POLICIES;
        Catalog::parse("the built-in catalog (controls/)", &files, known_ids)?
            .with_policies(file, text)
    }

    /// Every `*.yaml` file of a directory, in name order.
    pub fn load_dir(dir: &Path, known_ids: &[&str]) -> Result<Catalog, CatalogError> {
        let io = |source| CatalogError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        paths.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
        // policies.yaml defines administrative policies, not controls.
        paths.retain(|p| p.file_stem().is_none_or(|s| s != "policies"));
        paths.sort();
        // Without its own policies.yaml a catalog directory gets the built-in definitions; they
        // are still checked against its controls.
        let policies_path = dir.join("policies.yaml");
        let (policies_file, policies_text) = if policies_path.is_file() {
            let text =
                std::fs::read_to_string(&policies_path).map_err(|source| CatalogError::Io {
                    path: policies_path.clone(),
                    source,
                })?;
            (policies_path.display().to_string(), text)
        } else {
            (
                BUILTIN_POLICIES.0.to_string(),
                BUILTIN_POLICIES.1.to_string(),
            )
        };
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((path.display().to_string(), text));
        }
        if files.is_empty() {
            return Err(CatalogError::Catalog {
                file: dir.display().to_string(),
                message: "no control catalog files (*.yaml) found".to_string(),
            });
        }
        Catalog::parse(&dir.display().to_string(), &files, known_ids)?
            .with_policies(&policies_file, &policies_text)
    }

    /// Adds the administrative policy definitions, checked against this catalog's controls.
    pub fn with_policies(mut self, file: &str, text: &str) -> Result<Catalog, CatalogError> {
        self.policies = policies::parse(file, text, &self.controls)?;
        self.policies_source = text.to_string();
        Ok(self)
    }

    pub fn policy(&self, name: &str) -> Option<&PolicyDefinition> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// Parses and validates catalog files. `known_ids` are every control this build judges
    /// (`audit::control_ids`): an unknown id is a typo, a missing one would silently drop a check.
    pub fn parse(
        catalog: &str,
        files: &[(String, String)],
        known_ids: &[&str],
    ) -> Result<Catalog, CatalogError> {
        let mut controls: Vec<Control> = Vec::new();
        let mut index = BTreeMap::new();
        for (file, text) in files {
            let raw: RawFile = parse_yaml(file, text)?;
            let family = raw.family.value.clone();
            for (n, control) in raw.controls.into_iter().enumerate() {
                let control = validate(file, n, &family, control, known_ids)?;
                if index.contains_key(&control.id) {
                    return Err(CatalogError::Catalog {
                        file: file.clone(),
                        message: format!("control {} is defined twice", control.id),
                    });
                }
                index.insert(control.id.clone(), controls.len());
                controls.push(control);
            }
        }
        if let Some(missing) = known_ids.iter().find(|id| !index.contains_key(**id)) {
            return Err(CatalogError::Catalog {
                file: catalog.to_string(),
                message: format!(
                    "control {missing} is evaluated by this version of phi-audit but no catalog file defines it"
                ),
            });
        }
        Ok(Catalog {
            controls,
            index,
            policies: Vec::new(),
            policies_source: String::new(),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Control> {
        self.index.get(id).map(|&i| &self.controls[i])
    }
}

/// Deserialises one catalog file; a parser error becomes `file:line:column: message`.
fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, CatalogError> {
    serde_saphyr::from_str(text).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        CatalogError::Yaml {
            file: file.to_string(),
            line,
            column,
            message: yaml_message(&err.to_string()),
        }
    })
}

/// The parser's own words without its location prefix (`error: line 3 column 5: ...`), which
/// our message already carries in `file:line:column` form.
pub fn yaml_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let without_error = first.strip_prefix("error: ").unwrap_or(first);
    match without_error.strip_prefix("line ") {
        Some(rest) => rest
            .split_once(": ")
            .map(|(_, text)| text.to_string())
            .unwrap_or_else(|| without_error.to_string()),
        None => without_error.to_string(),
    }
}

fn validate(
    file: &str,
    n: usize,
    family: &str,
    raw: RawControl,
    known_ids: &[&str],
) -> Result<Control, CatalogError> {
    let fail =
        |spanned_line: u64, column: u64, field: String, message: String| CatalogError::Invalid {
            file: file.to_string(),
            line: spanned_line,
            column,
            field,
            message,
        };
    let at = |s: &Spanned<String>, field: &str, message: String| {
        fail(
            s.referenced.line(),
            s.referenced.column(),
            format!("controls[{n}].{field}"),
            message,
        )
    };
    let id = raw.id.value.trim().to_string();
    if !known_ids.contains(&id.as_str()) {
        return Err(at(
            &raw.id,
            "id",
            format!("\"{id}\" is not a control this version of phi-audit evaluates"),
        ));
    }
    let non_empty = |s: &Spanned<String>, field: &str| -> Result<String, CatalogError> {
        let text = s.value.trim();
        if text.is_empty() {
            Err(at(s, field, "must not be empty".to_string()))
        } else {
            Ok(text.to_string())
        }
    };
    let severity = Severity::parse(raw.severity.value.trim()).ok_or_else(|| {
        at(
            &raw.severity,
            "severity",
            format!(
                "\"{}\" is not one of critical, high, medium, low, info",
                raw.severity.value
            ),
        )
    })?;
    let mut safeguards = Vec::new();
    for (i, s) in raw.safeguards.iter().enumerate() {
        if !SAFEGUARDS.iter().any(|(known, _)| *known == s.value) {
            return Err(at(
                s,
                &format!("safeguards[{i}]"),
                format!(
                    "\"{}\" is not a 164.312 safeguard phi-audit maps ({})",
                    s.value,
                    SAFEGUARDS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        safeguards.push(s.value.clone());
    }
    if safeguards.is_empty() {
        return Err(at(
            &raw.id,
            "safeguards",
            "must name at least one safeguard".to_string(),
        ));
    }
    let rationale = rationale(&raw, &at)?;
    let mut policies = Vec::new();
    for (i, p) in raw.policies.iter().enumerate() {
        if !POLICIES.contains(&p.value.as_str()) {
            return Err(at(
                p,
                &format!("policies[{i}]"),
                format!("\"{}\" is not one of: {}", p.value, POLICIES.join(", ")),
            ));
        }
        policies.push(p.value.clone());
    }
    if policies.is_empty() {
        return Err(at(
            &raw.id,
            "policies",
            "must name at least one policy".to_string(),
        ));
    }
    let mut evidence = Vec::new();
    for (i, e) in raw.evidence.iter().enumerate() {
        let field = format!("evidence[{i}]");
        let text = non_empty(e, &field)?;
        if let Some(name) = named_operation(&text) {
            if !Operation::is_recorded_name(name) {
                return Err(at(
                    e,
                    &field,
                    format!(
                        "\"{name}\" is not an AWS call a snapshot records ({})",
                        recorded_names().join(", ")
                    ),
                ));
            }
        }
        evidence.push(text);
    }
    let mut references = Vec::new();
    for (i, r) in raw.references.iter().enumerate() {
        let url = non_empty(&r.url, &format!("references[{i}].url"))?;
        if !url.starts_with("https://") {
            return Err(at(
                &r.url,
                &format!("references[{i}].url"),
                "must be an https:// address".to_string(),
            ));
        }
        references.push(Reference {
            title: non_empty(&r.title, &format!("references[{i}].title"))?,
            url,
        });
    }
    let risk = raw.risk.as_ref().map(|r| parse_risk(r, &at)).transpose()?;
    Ok(Control {
        id,
        family: family.to_string(),
        title: non_empty(&raw.title, "title")?,
        description: non_empty(&raw.description, "description")?,
        severity,
        safeguards: safeguards.into(),
        rationale,
        policies: policies.into(),
        evidence,
        remediation: Remediation {
            summary: non_empty(&raw.remediation.summary, "remediation.summary")?,
            cli: non_empty(&raw.remediation.cli, "remediation.cli")?,
            console: non_empty(&raw.remediation.console, "remediation.console")?,
        },
        references,
        risk,
    })
}

/// A control's `rationale:`: one non-empty sentence for each of its safeguards and for nothing
/// else. A safeguard without one is refused at the safeguard's line, a sentence for a safeguard
/// the control does not map at the sentence's line.
fn rationale(
    raw: &RawControl,
    at: &dyn Fn(&Spanned<String>, &str, String) -> CatalogError,
) -> Result<BTreeMap<String, String>, CatalogError> {
    let mapped: Vec<&str> = raw.safeguards.iter().map(|s| s.value.as_str()).collect();
    let none = BTreeMap::new();
    let sentences = raw.rationale.as_ref().unwrap_or(&none);
    // In file order, so the first mistake in the file is the one reported.
    let mut given: Vec<(&String, &Spanned<String>)> = sentences.iter().collect();
    given.sort_by_key(|(_, s)| (s.referenced.line(), s.referenced.column()));
    for (id, sentence) in &given {
        let field = format!("rationale.\"{id}\"");
        if !mapped.contains(&id.as_str()) {
            return Err(at(
                sentence,
                &field,
                format!(
                    "\"{id}\" is not one of this control's safeguards ({}): a rationale explains a mapping the control makes",
                    mapped.join(", ")
                ),
            ));
        }
        if sentence.value.trim().is_empty() {
            return Err(at(sentence, &field, "must not be empty".to_string()));
        }
    }
    for (i, s) in raw.safeguards.iter().enumerate() {
        if !sentences.contains_key(&s.value) {
            return Err(at(
                s,
                &format!("safeguards[{i}]"),
                format!(
                    "\"{}\" has no rationale: add a one-sentence `rationale:` entry saying why this control evidences it",
                    s.value
                ),
            ));
        }
    }
    Ok(sentences
        .iter()
        .map(|(id, s)| (id.clone(), s.value.trim().to_string()))
        .collect())
}

/// A control's `risk:`: one of [`Risk::ALL`]'s names.
fn parse_risk(
    r: &Spanned<String>,
    at: &dyn Fn(&Spanned<String>, &str, String) -> CatalogError,
) -> Result<Risk, CatalogError> {
    Risk::ALL
        .into_iter()
        .find(|k| k.name() == r.value)
        .ok_or_else(|| {
            let names: Vec<&str> = Risk::ALL.iter().map(|k| k.name()).collect();
            at(
                r,
                "risk",
                format!("\"{}\" is not one of: {}", r.value, names.join(", ")),
            )
        })
}

/// The AWS operation an evidence entry names, when it names one: its first word, when that is
/// a PascalCase API name (`GetBucketAcl`, `ListObjectsV2 (log target)`); entries in words
/// (`bucket name`, `attestations file`) and snapshot references name none.
fn named_operation(entry: &str) -> Option<&str> {
    let word = entry.split([' ', '(']).next()?;
    let pascal = word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphanumeric())
        && word.chars().filter(char::is_ascii_uppercase).count() >= 2;
    pascal.then_some(word)
}

/// The AWS names of the recorded operations, once each, for messages.
fn recorded_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Operation::ALL.iter().map(|op| op.aws_name()).collect();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remediation_placeholders_are_the_commands_own() {
        let trail = Remediation {
            summary: String::new(),
            cli: "aws cloudtrail update-trail --name TRAIL_ARN --kms-key-id KEY_ARN".to_string(),
            console: String::new(),
        };
        let names: Vec<&str> = trail.placeholders().iter().map(|p| p.0).collect();
        assert_eq!(names, ["TRAIL_ARN", "KEY_ARN"]);
        assert_eq!(
            trail.cli_for("arn:aws:cloudtrail:us-east-1:1:trail/t"),
            "aws cloudtrail update-trail --name arn:aws:cloudtrail:us-east-1:1:trail/t --kms-key-id KEY_ARN"
        );
        let bucket = Remediation {
            cli: "aws cloudtrail put-event-selectors --trail-name TRAIL --x {bucket}/".to_string(),
            ..trail
        };
        let names: Vec<&str> = bucket.placeholders().iter().map(|p| p.0).collect();
        assert_eq!(names, ["{bucket}", "TRAIL"]);
        assert_eq!(
            bucket.cli_for("s3://b"),
            "aws cloudtrail put-event-selectors --trail-name TRAIL --x b/"
        );
    }

    #[test]
    fn evidence_entries_that_name_an_operation_name_a_recorded_one() {
        assert_eq!(named_operation("GetBucketAcl"), Some("GetBucketAcl"));
        assert_eq!(
            named_operation("GetPublicAccessBlock (account)"),
            Some("GetPublicAccessBlock")
        );
        assert_eq!(
            named_operation("ListObjectsV2 (log target)"),
            Some("ListObjectsV2")
        );
        assert_eq!(named_operation("bucket name"), None);
        assert_eq!(
            named_operation("snapshot.json#/accounts/<id>/AssumeRole"),
            None
        );

        // The families the evaluator judges (administrative and organisation controls are
        // judged by attest and audit, above this layer).
        let builtin = BUILTIN
            .iter()
            .filter(|(name, _)| {
                !name.ends_with("administrative.yaml") && !name.ends_with("organization.yaml")
            })
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect::<Vec<_>>();
        let known = crate::evaluate::known_control_ids();
        if let Err(err) = Catalog::parse("builtin", &builtin, &known) {
            panic!("{err}");
        }
        let (file, text) = BUILTIN
            .iter()
            .find(|(f, _)| f.ends_with("integrity.yaml"))
            .unwrap();
        let typo = text.replacen(
            "evidence: [GetBucketVersioning]",
            "evidence: [GetBucketVersionning]",
            1,
        );
        let err = Catalog::parse("catalog", &[(file.to_string(), typo)], &known)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("evidence[0]")
                && err.contains("\"GetBucketVersionning\" is not an AWS call a snapshot records"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_risk_is_refused_at_its_line() {
        let (file, text) = BUILTIN
            .iter()
            .find(|(f, _)| f.ends_with("integrity.yaml"))
            .unwrap();
        let line = text
            .lines()
            .position(|l| l.trim() == "risk: unversioned")
            .expect("integrity.yaml names a risk")
            + 1;
        let typo = text.replacen("risk: unversioned", "risk: unversoined", 1);
        let known = crate::evaluate::known_control_ids();
        let err = Catalog::parse("catalog", &[(file.to_string(), typo)], &known)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&format!("{file}:{line}:")), "{err}");
        assert!(
            err.contains("\"unversoined\" is not one of: public, shared, unencrypted, untracked, unversioned"),
            "{err}"
        );
    }

    #[test]
    fn every_mapping_needs_a_rationale_and_a_rationale_needs_a_mapping() {
        let (file, text) = BUILTIN
            .iter()
            .find(|(f, _)| f.ends_with("integrity.yaml"))
            .unwrap();
        let known = crate::evaluate::known_control_ids();
        let sentence = "      \"164.312(c)(1)\": Without versioning an overwrite or delete destroys the only copy of a record.\n";
        assert!(text.contains(sentence));
        let line_of =
            |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let safeguard_line = line_of(text, "safeguards: [\"164.312(c)(1)\"]");

        let missing = text.replacen(sentence, "", 1);
        let err = Catalog::parse("catalog", &[(file.to_string(), missing)], &known)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{file}:{safeguard_line}:")),
            "{err}"
        );
        assert!(
            err.contains("controls[0].safeguards[0]: \"164.312(c)(1)\" has no rationale"),
            "{err}"
        );

        let stray = text.replacen(
            sentence,
            &format!("{sentence}      \"164.312(d)\": Versioning authenticates nobody.\n"),
            1,
        );
        let err = Catalog::parse("catalog", &[(file.to_string(), stray.clone())], &known)
            .unwrap_err()
            .to_string();
        let stray_line = line_of(&stray, "Versioning authenticates nobody");
        assert!(err.starts_with(&format!("{file}:{stray_line}:")), "{err}");
        assert!(
            err.contains("\"164.312(d)\" is not one of this control's safeguards (164.312(c)(1))"),
            "{err}"
        );

        let evaluated = BUILTIN
            .iter()
            .filter(|(name, _)| {
                !name.ends_with("administrative.yaml") && !name.ends_with("organization.yaml")
            })
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect::<Vec<_>>();
        let catalog = Catalog::parse("catalog", &evaluated, &known).unwrap();
        let versioning = catalog.get("s3.versioning-disabled").unwrap();
        assert_eq!(
            versioning
                .rationale
                .get("164.312(c)(1)")
                .map(String::as_str),
            Some("Without versioning an overwrite or delete destroys the only copy of a record.")
        );
    }
}
