//! `report.html`: the report as one self-contained page (inline CSS and SVG, one small inline
//! script for the filters, no external assets), rendered with Tera from
//! `report-templates/report.html`. Its Content-Security-Policy allows no script but that one,
//! by its SHA-256, computed here from the rendered page (so the same page gives the same hash).
//!
//! Autoescape is on (the template's name ends in `.html`), so every value that came from AWS —
//! bucket names, tag values, policy statement ids quoted in reasons — is HTML-escaped. The
//! template is compiled into the binary so the report never depends on files beside it.

use super::model::ReportModel;
use super::ReportError;

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../report-templates/report.html");

/// Sections kept in templates of their own, included by name from report.html
/// (`{% include "NAME" %}`). Each is compiled into the binary like the page itself.
const PARTIALS: &[(&str, &str)] = &[
    (
        "coverage.html",
        include_str!("../../report-templates/coverage.html"),
    ),
    (
        "custody.html",
        include_str!("../../report-templates/custody.html"),
    ),
    (
        "access.html",
        include_str!("../../report-templates/access.html"),
    ),
    (
        "charts.html",
        include_str!("../../report-templates/charts.html"),
    ),
];

/// What the template's Content-Security-Policy holds in place of the script's hash.
const SCRIPT_HASH_PLACEHOLDER: &str = "SCRIPT-HASH";

pub fn render(model: &ReportModel) -> Result<String, ReportError> {
    let mut tera = tera::Tera::default();
    // Counts of a 10,000-bucket account read better as 231,996.
    tera.register_filter("thousands", |n: i64, _: tera::Kwargs, _: &tera::State| {
        super::model::thousands(n.max(0) as usize)
    });
    for (name, text) in PARTIALS.iter().chain([(TEMPLATE_NAME, TEMPLATE)].iter()) {
        tera.add_raw_template(name, text)
            .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    }
    let context = tera::Context::from_serialize(model)
        .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    let mut html = tera
        .render(TEMPLATE_NAME, &context)
        .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    if !html.ends_with('\n') {
        html.push('\n');
    }
    Ok(allow_script(html))
}

/// The page with its Content-Security-Policy naming the SHA-256 of its one inline script (the
/// text between `<script>` and `</script>`, as CSP hashes it).
fn allow_script(html: String) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Some(start) = html.rfind("<script>").map(|i| i + "<script>".len()) else {
        return html;
    };
    let Some(end) = html[start..].find("</script>").map(|i| start + i) else {
        return html;
    };
    let hash = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(&html.as_bytes()[start..end]));
    html.replacen(SCRIPT_HASH_PLACEHOLDER, &hash, 1)
}
