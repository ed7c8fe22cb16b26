//! `s3.name-may-contain-phi`: bucket names and tags that look like identifiers.
//!
//! AWS does not encrypt bucket names, tags or metadata, and shows them in consoles, logs and
//! billing exports, so they must never carry PHI. The patterns aim at what patient identifiers
//! look like, while staying quiet on what S3 names usually contain (account ids, dates of
//! deployments, owners' addresses in ownership tags) — each choice is noted by its pattern.
//!
//! It also owns [`mask_identifiers`], the one masking of what these patterns find: every
//! human-readable output (reasons, the inventory's tags, OSCAL text) goes through it, so a report
//! never reprints the identifier it warns about. The evidence files stay byte for byte.

use regex::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

use super::{BucketContext, Verdict};
use crate::schema::{Operation, BUCKETS_DIR};
use crate::snapshot::Evidence;

struct Pattern {
    what: &'static str,
    regex: Regex,
}

fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |what, source: &str| Pattern {
            what,
            regex: Regex::new(source).expect("pattern compiles"),
        };
        vec![
            // 123-45-6789; a bare run of nine digits is left alone (too many ids look like it).
            p("a social security number", r"(?:^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?:[^0-9]|$)"),
            p(
                "a medical record number",
                r"(?i)(?:^|[^a-z])(?:mrn|medical[-_. ]?record(?:[-_. ]?(?:no|number))?)[-_:#. ]?[0-9]{4,}",
            ),
            // A date with a birth word next to it, or any date before S3 existed (2006): a
            // deployment date in a name is normal, a 1984 date is not.
            p(
                "a date of birth",
                r"(?i)(?:dob|birth|born)[-_:. =]*(?:(?:19|20)[0-9]{2}[-/.]?(?:0[1-9]|1[0-2])[-/.]?(?:0[1-9]|[12][0-9]|3[01])|(?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12][0-9]|3[01])[-/.](?:19|20)[0-9]{2})",
            ),
            p(
                "a date of birth",
                r"(?:^|[^0-9])(?:19[0-9]{2}|200[0-5])[-/.](?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12][0-9]|3[01])(?:[^0-9]|$)|(?:^|[^0-9])(?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12][0-9]|3[01])[-/.](?:19[0-9]{2}|200[0-5])(?:[^0-9]|$)",
            ),
            p("an e-mail address", r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"),
            // (555) 123-4567, 555-123-4567, 555.123.4567; ten bare digits are left alone (epoch
            // timestamps look the same).
            p(
                "a phone number",
                r"(?:^|[^0-9])(?:\([0-9]{3}\) ?|[0-9]{3}[-. ])[0-9]{3}[-.][0-9]{4}(?:[^0-9]|$)",
            ),
        ]
    })
}

/// `text` with what looks like an identifier masked, keeping enough to recognise it: a social
/// security, medical record or phone number keeps its last four digits (`***-**-6789`), a date
/// keeps its year (`1984-**-**`), an e-mail address its first letter and its domain
/// (`j*******@example.com`). Every pattern applies (an ownership tag's e-mail address is masked
/// too: masking is never wrong, only less informative).
pub fn mask_identifiers(text: &str) -> Cow<'_, str> {
    // Every pattern needs a digit, or an `@` for an address: most reasons have neither.
    if !text.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return Cow::Borrowed(text);
    }
    let mut masked: Option<String> = None;
    for pattern in patterns() {
        let current = masked.as_deref().unwrap_or(text);
        if !pattern.regex.is_match(current) {
            continue;
        }
        let next = pattern
            .regex
            .replace_all(current, |c: &regex::Captures| {
                mask_match(pattern.what, &c[0])
            })
            .into_owned();
        masked = Some(next);
    }
    masked.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// One identifier's mask (the match may carry a boundary character or a birth word, which are
/// neither digits of the identifier nor part of an address, and stay).
fn mask_match(what: &str, found: &str) -> String {
    if what == "an e-mail address" {
        let (local, domain) = found.split_once('@').unwrap_or((found, ""));
        let mut chars = local.chars();
        let first = chars.next().map(String::from).unwrap_or_default();
        return format!("{first}{}@{domain}", "*".repeat(chars.count()));
    }
    let runs: Vec<(usize, usize)> = digit_runs(found);
    let keep: Box<dyn Fn(usize, usize, usize) -> bool> = if what == "a date of birth" {
        // The year: a run of four digits, or the first four of YYYYMMDD.
        Box::new(|run_len, offset, _| run_len == 4 || (run_len == 8 && offset < 4))
    } else {
        let total: usize = runs.iter().map(|(s, e)| e - s).sum();
        Box::new(move |_, _, index| index + 4 >= total)
    };
    let mut out = String::with_capacity(found.len());
    let mut index = 0;
    for (i, c) in found.char_indices() {
        match runs.iter().find(|(s, e)| (*s..*e).contains(&i)) {
            Some((s, e)) => {
                out.push(if keep(e - s, i - s, index) { c } else { '*' });
                index += 1;
            }
            None => out.push(c),
        }
    }
    out
}

/// The byte ranges of the runs of ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Tag keys whose values conventionally name the workforce member responsible for a resource:
/// an e-mail address there identifies staff, not a patient.
const OWNERSHIP_TAG_KEYS: &[&str] = &[
    "owner",
    "contact",
    "created-by",
    "createdby",
    "maintainer",
    "team",
    "technical-contact",
    "business-owner",
];

/// What in `text` looks like an identifier, if anything.
pub fn identifiers_in(text: &str, skip_email: bool) -> Vec<&'static str> {
    patterns()
        .iter()
        .filter(|p| !(skip_email && p.what == "an e-mail address"))
        .filter(|p| p.regex.is_match(text))
        .map(|p| p.what)
        .fold(Vec::new(), |mut found, what| {
            if !found.contains(&what) {
                found.push(what);
            }
            found
        })
}

pub fn name_may_contain_phi(ctx: &BucketContext) -> Verdict {
    let bucket = ctx.bucket;
    let mut hits = Vec::new();
    for what in identifiers_in(&bucket.name, false) {
        hits.push(format!("the bucket name looks like it contains {what}"));
    }
    let tags_ref = bucket.evidence_ref(Operation::GetBucketTagging);
    let evidence = vec![
        format!("{BUCKETS_DIR}/{}.json#/name", bucket.name),
        tags_ref,
    ];
    let tags_unknown = match &bucket.tags {
        Evidence::Found(tags) => {
            for tag in tags {
                let ownership = OWNERSHIP_TAG_KEYS.contains(&tag.key.to_ascii_lowercase().as_str());
                for what in identifiers_in(&tag.key, false) {
                    hits.push(format!(
                        "the tag key \"{}\" looks like it contains {what}",
                        tag.key
                    ));
                }
                for what in identifiers_in(&tag.value, ownership) {
                    hits.push(format!(
                        "the value of tag \"{}\" looks like it contains {what}",
                        tag.key
                    ));
                }
            }
            None
        }
        Evidence::NotConfigured => None,
        Evidence::Unavailable(why) => Some(why.to_string()),
    };
    if !hits.is_empty() {
        return Verdict::fail(
            format!(
                "{}; names and tags are not encrypted.",
                capitalise(&hits.join("; "))
            ),
            evidence,
        );
    }
    if let Some(why) = tags_unknown {
        return Verdict::error(
            format!("Not assessed: the name holds no identifier, but {why}, so the tags could not be checked."),
            evidence,
        );
    }
    Verdict::pass(
        "Neither the bucket name nor its tags look like they contain identifiers.",
        evidence,
    )
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::identifiers_in;

    #[test]
    fn identifiers_are_recognised() {
        let cases: &[(&str, &[&str])] = &[
            (
                "riverside-export-mrn-00482913",
                &["a medical record number"],
            ),
            ("patient-123-45-6789", &["a social security number"]),
            ("jane.doe@example.com", &["an e-mail address"]),
            ("call (555) 123-4567", &["a phone number"]),
            ("555.123.4567", &["a phone number"]),
            ("dob-1984-03-12", &["a date of birth"]),
            ("dob 2011-03-12", &["a date of birth"]),
            ("1975-11-02", &["a date of birth"]),
        ];
        for (text, expected) in cases {
            assert_eq!(identifiers_in(text, false), *expected, "{text}");
        }
    }

    #[test]
    fn identifiers_are_masked_but_recognisable() {
        let cases = [
            (
                "chart copy pt 123-45-6789 dob 1984-03-12",
                "chart copy pt ***-**-6789 dob 1984-**-**",
            ),
            ("jane.doe@example.com", "j*******@example.com"),
            (
                "riverside-export-mrn-00482913",
                "riverside-export-mrn-****2913",
            ),
            ("call (555) 123-4567 now", "call (***) ***-4567 now"),
            ("born 03/12/1984", "born **/**/1984"),
            ("dob19840312", "dob1984****"),
            ("riverside-phi-datalake-raw", "riverside-phi-datalake-raw"),
        ];
        for (text, expected) in cases {
            assert_eq!(super::mask_identifiers(text), expected, "{text}");
            assert!(identifiers_in(&super::mask_identifiers(text), false).is_empty());
        }
    }

    #[test]
    fn ordinary_names_are_left_alone() {
        for text in [
            "riverside-phi-datalake-raw",
            "logs-111122223333-us-east-1",
            "backup-2024-03-01",
            "build-1700000000",
            "release-1.2.3",
            "cost-center-4410",
        ] {
            assert!(
                identifiers_in(text, false).is_empty(),
                "{text}: {:?}",
                identifiers_in(text, false)
            );
        }
        assert!(identifiers_in("it-team@clinic.example", true).is_empty());
    }
}
