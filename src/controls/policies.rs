//! The Dash administrative policies (`controls/policies.yaml`): what each policy document must
//! state, which 164.312 safeguards and which technical controls it covers, and how often it must
//! be reviewed.
//!
//! The policy → control mapping is also recorded on every control (`policies:` in the family
//! files). Both directions are checked against each other here, so a report can say "its 9
//! technical controls" without the two lists ever disagreeing.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;

use super::{parse_yaml, CatalogError, Control, POLICIES, SAFEGUARDS};

/// One administrative policy as the catalog defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDefinition {
    /// One of [`POLICIES`], e.g. `System Access Policy`.
    pub name: String,
    pub purpose: String,
    /// What the policy document must state (the auditor checks the document against these).
    pub must_state: Vec<String>,
    /// 164.312 safeguards the policy addresses.
    pub safeguards: Vec<String>,
    /// The technical controls that implement it, in catalog order.
    pub controls: Vec<String>,
    /// The longest time an approval stays valid (45 CFR 164.316(b)(2)(iii): review periodically).
    pub review_interval_months: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policies: Vec<RawPolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Spanned<String>,
    purpose: Spanned<String>,
    must_state: Vec<Spanned<String>>,
    safeguards: Vec<Spanned<String>>,
    controls: Vec<Spanned<String>>,
    review_interval_months: Spanned<u32>,
}

/// The administrative controls judge the policies themselves; every other control is one of the
/// technical controls a policy covers.
pub const ADMINISTRATIVE_FAMILY: &str = "administrative";

/// The organisation controls say whether an account's evidence exists at all, not how it is
/// configured, so no policy lists them among its technical controls.
pub const ORGANIZATION_FAMILY: &str = "organization";

fn is_technical(control: &Control) -> bool {
    control.family != ADMINISTRATIVE_FAMILY && control.family != ORGANIZATION_FAMILY
}

/// Parses `policies.yaml` and checks it against the already parsed controls.
pub(super) fn parse(
    file: &str,
    text: &str,
    controls: &[Control],
) -> Result<Vec<PolicyDefinition>, CatalogError> {
    let raw: RawFile = parse_yaml(file, text)?;
    let at = |line: u64, column: u64, field: String, message: String| CatalogError::Invalid {
        file: file.to_string(),
        line,
        column,
        field,
        message,
    };
    let mut policies: Vec<PolicyDefinition> = Vec::new();
    for (n, raw) in raw.policies.into_iter().enumerate() {
        let field = |name: &str| format!("policies[{n}].{name}");
        let spanned = |s: &Spanned<String>, name: &str, message: String| {
            at(
                s.referenced.line(),
                s.referenced.column(),
                field(name),
                message,
            )
        };
        let name = raw.name.value.trim().to_string();
        if !POLICIES.contains(&name.as_str()) {
            return Err(spanned(
                &raw.name,
                "name",
                format!("\"{name}\" is not one of: {}", POLICIES.join(", ")),
            ));
        }
        if policies.iter().any(|p| p.name == name) {
            return Err(spanned(
                &raw.name,
                "name",
                format!("{name} is defined twice"),
            ));
        }
        let purpose = raw.purpose.value.trim().to_string();
        if purpose.is_empty() {
            return Err(spanned(&raw.purpose, "purpose", "must not be empty".into()));
        }
        let mut must_state = Vec::new();
        for (i, s) in raw.must_state.iter().enumerate() {
            let text = s.value.trim();
            if text.is_empty() {
                return Err(spanned(
                    s,
                    &format!("must_state[{i}]"),
                    "must not be empty".into(),
                ));
            }
            must_state.push(text.to_string());
        }
        if must_state.is_empty() {
            return Err(spanned(
                &raw.name,
                "must_state",
                "must list at least one thing the policy states".into(),
            ));
        }
        let mut safeguards = Vec::new();
        for (i, s) in raw.safeguards.iter().enumerate() {
            if !SAFEGUARDS.iter().any(|(known, _)| *known == s.value) {
                return Err(spanned(
                    s,
                    &format!("safeguards[{i}]"),
                    format!("\"{}\" is not a 164.312 safeguard phi-audit maps", s.value),
                ));
            }
            safeguards.push(s.value.clone());
        }
        let listed = listed_controls(&raw.controls, controls, &name, &safeguards, &spanned)?;
        if let Some(unlisted) = controls
            .iter()
            .find(|c| is_technical(c) && c.policies.contains(&name) && !listed.contains(&c.id))
        {
            return Err(spanned(
                &raw.name,
                "controls",
                format!(
                    "{} names the {name} in its catalog entry but is not listed here",
                    unlisted.id
                ),
            ));
        }
        let interval = &raw.review_interval_months;
        if !(1..=36).contains(&interval.value) {
            return Err(at(
                interval.referenced.line(),
                interval.referenced.column(),
                field("review_interval_months"),
                format!("{} is not between 1 and 36 months", interval.value),
            ));
        }
        policies.push(PolicyDefinition {
            name,
            purpose,
            must_state,
            safeguards,
            // Catalog order, whatever order the file lists them in.
            controls: controls
                .iter()
                .filter(|c| listed.contains(&c.id))
                .map(|c| c.id.clone())
                .collect(),
            review_interval_months: interval.value,
        });
    }
    if let Some(missing) = POLICIES
        .iter()
        .find(|name| !policies.iter().any(|p| p.name == **name))
    {
        return Err(CatalogError::Catalog {
            file: file.to_string(),
            message: format!("the {missing} is not defined"),
        });
    }
    Ok(policies)
}

/// The error of one field of one policy, at its line and column.
type FieldError<'a> = dyn Fn(&Spanned<String>, &str, String) -> CatalogError + 'a;

/// A policy's `controls`: each a technical control of the catalog that names this policy, once,
/// citing only safeguards the policy lists.
fn listed_controls(
    raw: &[Spanned<String>],
    controls: &[Control],
    name: &str,
    safeguards: &[String],
    spanned: &FieldError<'_>,
) -> Result<BTreeSet<String>, CatalogError> {
    let mut listed = BTreeSet::new();
    for (i, c) in raw.iter().enumerate() {
        let id = c.value.trim();
        let Some(control) = controls
            .iter()
            .find(|control| control.id == id && is_technical(control))
        else {
            return Err(spanned(
                c,
                &format!("controls[{i}]"),
                format!("\"{id}\" is not a technical control of the catalog"),
            ));
        };
        if !control.policies.iter().any(|p| p == name) {
            return Err(spanned(
                c,
                &format!("controls[{i}]"),
                format!(
                    "{id} does not name the {name} in its catalog entry (policies: {})",
                    control.policies.join(", ")
                ),
            ));
        }
        if !listed.insert(id.to_string()) {
            return Err(spanned(
                c,
                &format!("controls[{i}]"),
                format!("{id} is listed twice"),
            ));
        }
        // The policy covers what its controls protect: a safeguard cited by a control but
        // not by the policy would vanish from the policy's page.
        if let Some(missing) = control.safeguards.iter().find(|s| !safeguards.contains(s)) {
            return Err(spanned(
                c,
                &format!("controls[{i}]"),
                format!("{id} cites {missing}, which the policy's safeguards do not list"),
            ));
        }
    }
    Ok(listed)
}
