//! The scope file (YAML): which buckets are evaluated.
//!
//! ```yaml
//! include: ["phi-*", "claims-*"]   # bucket name globs (* and ?); empty = every bucket
//! exclude:                        # wins over include; each with who decided it and why
//!   - pattern: "*-tmp"
//!     justification: "scratch space; the data handling standard forbids PHI there"
//!     approver: "J. Doe, Security Officer"
//!   - "sandbox-*"                    # a bare glob is accepted, with a warning
//! tags: { phi: "true" }            # every selector must match; "*" = tag present, any value
//! regions: [us-east-1, eu-west-1]  # empty = every region
//! ephi:                            # tags that also designate a bucket as holding ePHI
//!   sensitivity: [phi, restricted] # a value or a list; "*" = tag present, any value
//! ```
//! Besides the `ephi:` selectors, a bucket holds ePHI when tagged `phi` = true/yes or
//! `data-classification` = phi/ephi (keys and values compared case-insensitively; the evaluator
//! decides, from the selectors recorded in snapshot.json's `scope`).
//! An exclusion without `justification` and `approver` is accepted but never silently: collect
//! prints a warning, and every report of the snapshot shows it.
//! Out-of-scope buckets are still listed in the snapshot (with the reason), so an auditor sees what
//! was left out and why. When a bucket's tags cannot be read, a tag selector cannot prove the
//! bucket out of scope, so it stays in scope: leaving a PHI bucket unevaluated is the worse error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::schema::{ScopeExclusion, ScopeFileRef};

/// A problem in the scope file, located by file, line and field.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), location(*line, *column))]
pub struct ScopeError {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

fn location(line: u64, column: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

/// A YAML scalar read as text, so `phi: true` and `phi: "true"` select the same tag value.
#[derive(Debug, Clone, PartialEq)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<ExcludeEntry>>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<Text>>,
    #[serde(default)]
    regions: Vec<Spanned<String>>,
    #[serde(default)]
    ephi: BTreeMap<String, Spanned<OneOrMany>>,
}

/// An `exclude` entry: a bare glob, or the glob with its justification and approver. Read by
/// hand rather than as an untagged enum, so a misspelt member is named in the error.
#[derive(Debug)]
enum ExcludeEntry {
    Glob(String),
    Documented(DocumentedExclusion),
}

impl<'de> Deserialize<'de> for ExcludeEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = ExcludeEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bucket name glob, or {pattern, justification, approver}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExcludeEntry, E> {
                Ok(ExcludeEntry::Glob(v.to_owned()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<ExcludeEntry, A::Error> {
                DocumentedExclusion::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ExcludeEntry::Documented)
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentedExclusion {
    pattern: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    approver: Option<String>,
}

impl ExcludeEntry {
    fn into_exclusion(self) -> ScopeExclusion {
        match self {
            ExcludeEntry::Glob(pattern) => ScopeExclusion {
                pattern,
                justification: None,
                approver: None,
            },
            ExcludeEntry::Documented(d) => ScopeExclusion {
                pattern: d.pattern,
                justification: d.justification.filter(|t| !t.trim().is_empty()),
                approver: d.approver.filter(|t| !t.trim().is_empty()),
            },
        }
    }
}

/// A tag value, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Text),
    Many(Vec<Text>),
}

impl OneOrMany {
    fn into_values(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => vec![text.0],
            OneOrMany::Many(items) => items.into_iter().map(|t| t.0).collect(),
        }
    }
}

/// The parsed scope. `Scope::default()` selects every bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub include: Vec<String>,
    /// Exclusion globs, each with its justification and approver when the file gives them.
    pub exclude: Vec<ScopeExclusion>,
    pub tags: BTreeMap<String, String>,
    pub regions: Vec<String>,
    /// Tag key → values that designate a bucket as holding ePHI, besides the defaults.
    pub ephi: BTreeMap<String, Vec<String>>,
    /// The file the scope was read from, with its digest (`None` for the default scope).
    pub file: Option<ScopeFileRef>,
}

/// What the scope says of one bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    In,
    Out(String),
}

impl Scope {
    /// Reads and validates a scope file.
    pub fn load(path: &Path) -> Result<Self, ScopeError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScopeError {
            file: path.to_owned(),
            line: 0,
            column: 0,
            message: format!("cannot read the scope file: {e}"),
        })?;
        let mut scope = Self::parse(path, &text)?;
        scope.file = Some(ScopeFileRef {
            path: path.display().to_string(),
            sha256: Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        });
        Ok(scope)
    }

    /// One warning per exclusion without a justification or an approver.
    pub fn warnings(&self) -> Vec<String> {
        self.exclude
            .iter()
            .filter_map(ScopeExclusion::warning)
            .collect()
    }

    /// Parses scope YAML; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ScopeError> {
        let err = |line: u64, column: u64, message: String| ScopeError {
            file: path.to_owned(),
            line,
            column,
            message,
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let file: ScopeFile = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            // The library's message already names the location; keep only its first line.
            let message = e.to_string();
            let message = message.lines().next().unwrap_or("invalid YAML").to_owned();
            err(line, column, message)
        })?;

        let exclude: Vec<Spanned<ScopeExclusion>> = (file.exclude.into_iter())
            .map(|e| Spanned {
                value: e.value.into_exclusion(),
                referenced: e.referenced,
                defined: e.defined,
            })
            .collect();
        let globs = (file
            .include
            .iter()
            .map(|g| ("include", &g.value, &g.referenced)))
        .chain(
            exclude
                .iter()
                .map(|e| ("exclude", &e.value.pattern, &e.referenced)),
        );
        for (field, glob, at) in globs {
            if glob.is_empty() || glob.contains('/') {
                return Err(err(
                    at.line(),
                    at.column(),
                    format!("{field}: {glob:?} is not a bucket name glob (letters, digits, '.', '-', '*', '?')"),
                ));
            }
        }
        for r in &file.regions {
            if !is_region_name(&r.value) {
                return Err(err(
                    r.referenced.line(),
                    r.referenced.column(),
                    format!(
                        "regions: {:?} is not an AWS region name like us-east-1",
                        r.value
                    ),
                ));
            }
        }
        for (key, value) in &file.tags {
            if key.is_empty() {
                return Err(err(
                    value.referenced.line(),
                    value.referenced.column(),
                    "tags: a tag key must not be empty".to_owned(),
                ));
            }
        }
        let mut ephi = BTreeMap::new();
        for (key, values) in file.ephi {
            let (line, column) = (values.referenced.line(), values.referenced.column());
            let values = values.value.into_values();
            if key.is_empty() || values.is_empty() || values.iter().any(String::is_empty) {
                return Err(err(
                    line,
                    column,
                    format!("ephi: {key:?} needs a non-empty tag key and at least one non-empty value (\"*\" = any value)"),
                ));
            }
            ephi.insert(key, values);
        }
        Ok(Self {
            ephi,
            include: file.include.into_iter().map(|s| s.value).collect(),
            exclude: exclude.into_iter().map(|s| s.value).collect(),
            tags: file.tags.into_iter().map(|(k, v)| (k, v.value.0)).collect(),
            regions: file.regions.into_iter().map(|s| s.value).collect(),
            file: None,
        })
    }

    /// The scope as recorded in snapshot.json.
    /// `ephi` is recorded only when the file names selectors.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "include": self.include,
            "exclude": self.exclude,
            "tags": self.tags,
            "regions": self.regions,
        });
        if !self.ephi.is_empty() {
            value["ephi"] = json!(self.ephi);
        }
        value
    }

    /// Decides on the bucket's name and region alone (before its tags are read).
    pub fn decide_by_name(&self, name: &str, region: &str) -> Decision {
        if let Some(e) = self.exclude.iter().find(|e| glob_match(&e.pattern, name)) {
            return Decision::Out(format!("excluded by scope pattern {:?}", e.pattern));
        }
        if !self.include.is_empty() && !self.include.iter().any(|p| glob_match(p, name)) {
            return Decision::Out("matches no include pattern of the scope".to_owned());
        }
        if !self.regions.is_empty() && !self.regions.iter().any(|r| r == region) {
            return Decision::Out(format!("region {region} is not in the scope's regions"));
        }
        Decision::In
    }

    /// Applies the tag selectors. `tags` is None when the bucket's tags could not be read.
    pub fn decide_by_tags(&self, tags: Option<&BTreeMap<String, String>>) -> Decision {
        let Some(tags) = tags else {
            return Decision::In;
        };
        for (key, wanted) in &self.tags {
            match tags.get(key) {
                None => {
                    return Decision::Out(format!(
                        "has no tag {key:?} (scope requires {key}={wanted:?})"
                    ))
                }
                Some(v) if wanted != "*" && v != wanted => {
                    return Decision::Out(format!(
                        "tag {key}={v:?} does not match the scope's {key}={wanted:?}"
                    ))
                }
                Some(_) => {}
            }
        }
        Decision::In
    }

    /// True when the scope has tag selectors (so tags decide, and must be read first).
    pub fn has_tag_selectors(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// `aa-bbbb-1` style region names (also `us-gov-west-1`, `cn-north-1`).
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Glob match with `*` (any run, also empty) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("phi-*", "phi-claims"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c*", "abcdef"));
        assert!(!glob_match("phi-*", "nophi-x"));
        assert!(glob_match("*-logs", "a-b-logs"));
    }

    #[test]
    fn parses_and_decides() {
        let s = Scope::parse(
            Path::new("scope.yaml"),
            "include: [\"phi-*\"]\nexclude: [\"*-tmp\"]\ntags:\n  phi: true\nregions: [us-east-1]\n",
        )
        .unwrap();
        assert_eq!(s.tags.get("phi").map(String::as_str), Some("true"));
        assert_eq!(s.decide_by_name("phi-a", "us-east-1"), Decision::In);
        assert!(matches!(
            s.decide_by_name("phi-a-tmp", "us-east-1"),
            Decision::Out(_)
        ));
        assert!(matches!(
            s.decide_by_name("other", "us-east-1"),
            Decision::Out(_)
        ));
        assert!(matches!(
            s.decide_by_name("phi-a", "eu-west-1"),
            Decision::Out(_)
        ));
        let tags: BTreeMap<String, String> = [("phi".to_owned(), "false".to_owned())].into();
        assert!(matches!(s.decide_by_tags(Some(&tags)), Decision::Out(_)));
        assert_eq!(s.decide_by_tags(None), Decision::In);
    }

    #[test]
    fn ephi_selectors_are_parsed_and_recorded() {
        let s = Scope::parse(
            Path::new("scope.yaml"),
            "ephi:\n  sensitivity: [phi, Restricted]\n  hipaa: true\n",
        )
        .unwrap();
        assert_eq!(s.ephi["sensitivity"], vec!["phi", "Restricted"]);
        assert_eq!(s.ephi["hipaa"], vec!["true"]);
        assert_eq!(s.to_json()["ephi"]["hipaa"], json!(["true"]));
        assert!(Scope::default().to_json().get("ephi").is_none());
        let e = Scope::parse(Path::new("s.yaml"), "ephi:\n  phi: []\n").unwrap_err();
        assert!(e.to_string().starts_with("s.yaml:2:"), "{e}");
    }

    #[test]
    fn exclusions_carry_justification_and_approver_and_a_bare_one_warns() {
        let s = Scope::parse(
            Path::new("scope.yaml"),
            "exclude:\n  - \"tmp-*\"\n  - pattern: \"sandbox-*\"\n    justification: \"no PHI by policy\"\n    approver: \"CISO\"\n  - pattern: \"old-*\"\n    justification: \"decommissioned\"\n",
        )
        .unwrap();
        assert_eq!(s.exclude.len(), 3);
        assert_eq!(s.exclude[1].approver.as_deref(), Some("CISO"));
        assert!(
            matches!(s.decide_by_name("sandbox-a", "us-east-1"), Decision::Out(r) if r.contains("sandbox-*"))
        );
        assert_eq!(
            s.warnings(),
            [
                "scope exclusion \"tmp-*\" has no justification or approver: buckets it matches were left out of the audit without a recorded reason",
                "scope exclusion \"old-*\" has no approver: buckets it matches were left out of the audit without a recorded reason",
            ]
        );
        assert_eq!(
            s.to_json()["exclude"],
            json!([{"pattern": "tmp-*"}, {"pattern": "sandbox-*", "justification": "no PHI by policy", "approver": "CISO"},
                   {"pattern": "old-*", "justification": "decommissioned"}])
        );
        // A misspelt member is an error naming the line, not an exclusion without approver.
        let e = Scope::parse(
            Path::new("s.yaml"),
            "exclude:\n  - pattern: \"a-*\"\n    aprover: \"x\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("s.yaml:3:"), "{e}");
        assert!(e.to_string().contains("unknown field `aprover`"), "{e}");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = Scope::parse(
            Path::new("s.yaml"),
            "include: [a]\nregions:\n  - Frankfurt\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("s.yaml:3:"), "{text}");
        assert!(text.contains("regions"), "{text}");
        let e = Scope::parse(Path::new("s.yaml"), "includes: [a]\n").unwrap_err();
        assert!(e.to_string().contains("includes"), "{e}");
        assert!(e.to_string().starts_with("s.yaml:1:"), "{e}");
    }
}
