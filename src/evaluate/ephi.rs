//! Which buckets hold ePHI: the one function that decides it ([`designate`]).
//!
//! A bucket holds ePHI when its tags say so: `phi` = true/yes, `data-classification` = phi/ephi,
//! or a selector of the scope file's `ephi:` (recorded in snapshot.json `scope.ephi`; `"*"` = any
//! value). Keys and values compare case-insensitively. When no in-scope bucket carries a
//! designating tag key at all (with any value, `phi=false` included), nobody has designated
//! anything, so every in-scope bucket counts as ePHI. A bucket whose tags cannot be read counts
//! as ePHI too: leaving a PHI bucket out of the access review is the worse error.

use std::collections::BTreeMap;

use crate::snapshot::aws::Tag;
use crate::snapshot::{Bucket, EphiBasis, EphiDesignation, Evidence};

/// The default designating tags: key → values (lower case).
const DEFAULT_SELECTORS: &[(&str, &[&str])] = &[
    ("phi", &["true", "yes"]),
    ("data-classification", &["phi", "ephi"]),
];

/// The designating tag keys and values, lower-cased, defaults first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selectors(Vec<(String, Vec<String>)>);

impl Selectors {
    /// The defaults plus the recorded `scope.ephi` selectors.
    pub fn new(extra: &BTreeMap<String, Vec<String>>) -> Selectors {
        let mut all: Vec<(String, Vec<String>)> = DEFAULT_SELECTORS
            .iter()
            .map(|(k, vs)| (k.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect();
        for (key, values) in extra {
            all.push((
                key.to_lowercase(),
                values.iter().map(|v| v.to_lowercase()).collect(),
            ));
        }
        Selectors(all)
    }

    fn has_key(&self, tag: &Tag) -> bool {
        self.0.iter().any(|(k, _)| tag.key.eq_ignore_ascii_case(k))
    }

    fn designates(&self, tag: &Tag) -> bool {
        let value = tag.value.to_lowercase();
        self.0.iter().any(|(k, vs)| {
            tag.key.eq_ignore_ascii_case(k) && vs.iter().any(|v| v == "*" || *v == value)
        })
    }
}

/// The designation of each bucket, in the order given: `None` for an out-of-scope bucket.
pub fn designate(buckets: &[Bucket], selectors: &Selectors) -> Vec<Option<EphiDesignation>> {
    let tags: Vec<(bool, &Evidence<Vec<Tag>>)> =
        buckets.iter().map(|b| (b.in_scope, &b.tags)).collect();
    designate_tags(&tags, selectors)
}

/// [`designate`] over (in scope, tags) pairs.
pub fn designate_tags(
    buckets: &[(bool, &Evidence<Vec<Tag>>)],
    selectors: &Selectors,
) -> Vec<Option<EphiDesignation>> {
    let anyone_designated = buckets.iter().any(|(in_scope, tags)| {
        *in_scope
            && tags
                .found()
                .is_some_and(|t| t.iter().any(|t| selectors.has_key(t)))
    });
    buckets
        .iter()
        .map(|(in_scope, tags)| {
            in_scope.then(|| {
                let basis = match tags {
                    Evidence::Unavailable(_) => EphiBasis::TagsUnreadable,
                    _ if !anyone_designated => EphiBasis::NoBucketDesignated,
                    Evidence::Found(tags) => match tags.iter().find(|t| selectors.designates(t)) {
                        Some(tag) => EphiBasis::Tag {
                            key: tag.key.clone(),
                            value: tag.value.clone(),
                        },
                        None => EphiBasis::NotDesignated,
                    },
                    Evidence::NotConfigured => EphiBasis::NotDesignated,
                };
                EphiDesignation {
                    ephi: basis != EphiBasis::NotDesignated,
                    basis,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Operation;
    use crate::snapshot::Unavailable;

    fn tags(pairs: &[(&str, &str)]) -> Evidence<Vec<Tag>> {
        Evidence::Found(
            pairs
                .iter()
                .map(|(k, v)| Tag {
                    key: k.to_string(),
                    value: v.to_string(),
                })
                .collect(),
        )
    }

    fn ephi(d: &Option<EphiDesignation>) -> Option<bool> {
        d.as_ref().map(|d| d.ephi)
    }

    #[test]
    fn default_tags_designate_case_insensitively() {
        let s = Selectors::new(&BTreeMap::new());
        let a = tags(&[("PHI", "Yes")]);
        let b = tags(&[("Data-Classification", "ePHI")]);
        let c = tags(&[("phi", "false")]);
        let d = Evidence::NotConfigured;
        let out = designate_tags(&[(true, &a), (true, &b), (true, &c), (true, &d)], &s);
        let got: Vec<_> = out.iter().map(ephi).collect();
        assert_eq!(got, [Some(true), Some(true), Some(false), Some(false)]);
        assert_eq!(
            out[0].as_ref().unwrap().basis,
            EphiBasis::Tag {
                key: "PHI".into(),
                value: "Yes".into()
            }
        );
    }

    #[test]
    fn no_designating_key_anywhere_makes_every_in_scope_bucket_ephi() {
        let s = Selectors::new(&BTreeMap::new());
        let a = tags(&[("team", "billing")]);
        let b = Evidence::NotConfigured;
        // An out-of-scope bucket's phi tag does not count.
        let c = tags(&[("phi", "true")]);
        let out = designate_tags(&[(true, &a), (true, &b), (false, &c)], &s);
        assert_eq!(
            out[0].as_ref().unwrap().basis,
            EphiBasis::NoBucketDesignated
        );
        assert_eq!(ephi(&out[1]), Some(true));
        assert_eq!(out[2], None);
        // phi=false is a designating key: then the others are not ePHI.
        let d = tags(&[("phi", "false")]);
        let out = designate_tags(&[(true, &a), (true, &d)], &s);
        assert_eq!(ephi(&out[0]), Some(false));
    }

    #[test]
    fn scope_selectors_add_keys_and_any_value() {
        let extra: BTreeMap<String, Vec<String>> = [
            ("Sensitivity".to_string(), vec!["Restricted".to_string()]),
            ("hipaa".to_string(), vec!["*".to_string()]),
        ]
        .into();
        let s = Selectors::new(&extra);
        let a = tags(&[("sensitivity", "restricted")]);
        let b = tags(&[("HIPAA", "anything")]);
        let c = tags(&[("sensitivity", "public")]);
        let out = designate_tags(&[(true, &a), (true, &b), (true, &c)], &s);
        let got: Vec<_> = out.iter().map(ephi).collect();
        assert_eq!(got, [Some(true), Some(true), Some(false)]);
    }

    #[test]
    fn unreadable_tags_count_as_ephi() {
        let s = Selectors::new(&BTreeMap::new());
        let a = tags(&[("phi", "true")]);
        let b = Evidence::Unavailable(Unavailable {
            operation: Operation::GetBucketTagging,
            code: "AccessDenied".into(),
            message: String::new(),
        });
        let out = designate_tags(&[(true, &a), (true, &b)], &s);
        assert_eq!(out[1].as_ref().unwrap().basis, EphiBasis::TagsUnreadable);
        assert!(out[1].as_ref().unwrap().ephi);
    }

    #[test]
    fn recorded_selectors_are_read_strictly() {
        let path = std::path::Path::new("snapshot.json");
        let meta = |scope: &str| {
            crate::snapshot::parse_meta(path, format!(r#"{{"format":"phi-audit-snapshot/1","collected_at":"2026-10-01T00:00:00Z","account_id":"111122223333","scope":{scope}}}"#).as_bytes())
        };
        let ok = meta(r#"{"ephi":{"hipaa":["*"]}}"#).unwrap();
        assert_eq!(ok.ephi_selectors["hipaa"], vec!["*"]);
        let err = meta(r#"{"ephi":{"hipaa":"x"}}"#).unwrap_err().to_string();
        assert_eq!(
            err,
            "snapshot.json: /scope/ephi/hipaa: must be a non-empty list of strings"
        );
    }
}
