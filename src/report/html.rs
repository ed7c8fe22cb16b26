//! `report.html`: the report as one self-contained page (inline CSS and SVG, one small inline
//! script for the filters, no external assets), rendered with Tera from
//! `report-templates/report.html`. Its Content-Security-Policy allows no script but that one,
//! by its SHA-256, computed here from the script's text in the template (it holds no template
//! expression, so that is its text in the page). The page is written as it is rendered.
//!
//! Autoescape is on (the template's name ends in `.html`), so every value that came from AWS —
//! bucket names, tag values, policy statement ids quoted in reasons — is HTML-escaped. The
//! template is compiled into the binary so the report never depends on files beside it.

use std::io::Write;

use super::model::ReportModel;
use super::ReportError;

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../report-templates/report.html");

/// Where report.html's safeguard sections go: the page is rendered up to it, then each section
/// on its own from safeguard.html (so one section's findings at a time are in a template
/// context, not the whole report's), then the rest of the page.
const SECTIONS_MARKER: &str =
    "{#- The safeguard sections (safeguard.html) are rendered here, one at a time: html.rs. -#}";
const TAIL_NAME: &str = "report-tail.html";
const SECTION_NAME: &str = "safeguard.html";
const SECTION: &str = include_str!("../../report-templates/safeguard.html");

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

/// Renders the page into `out` as it goes (for 10,000 buckets it is ~60 MB, never held whole);
/// returns how many bytes were written.
pub fn render_to(model: &ReportModel, out: &mut dyn Write) -> Result<usize, ReportError> {
    let template_error = |e: tera::Error| ReportError::Template(format!("{e:?}"));
    let mut tera = tera::Tera::default();
    // Counts of a 10,000-bucket account read better as 231,996.
    tera.register_filter("thousands", |n: i64, _: tera::Kwargs, _: &tera::State| {
        super::model::thousands(n.max(0) as usize)
    });
    let page = allow_script(TEMPLATE);
    let (head, tail) = page
        .split_once(SECTIONS_MARKER)
        .ok_or_else(|| ReportError::Template(format!("{TEMPLATE_NAME} lacks {SECTIONS_MARKER}")))?;
    // The marker stands where `{%- for s in safeguards %}` stood: whitespace before it goes.
    let templates = [
        (TEMPLATE_NAME, head.trim_end()),
        (SECTION_NAME, SECTION),
        (TAIL_NAME, tail),
    ];
    for (name, text) in PARTIALS.iter().chain(templates.iter()) {
        tera.add_raw_template(name, text).map_err(template_error)?;
    }
    // The largest parts of the page are in the context only while their part of the page is
    // rendered: the pictures in the head, each section on its own, the inventory in the tail.
    let mut context = tera::Context::from_serialize(model).map_err(template_error)?;
    let contents: Vec<_> = model.safeguards.iter().map(|s| s.contents()).collect();
    context.insert("contents", &contents);
    context.insert("charts", &model.charts);
    // Tera writes many small pieces; the deflater compresses large ones better.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut counted = Counted {
        inner: &mut buffered,
        bytes: 0,
        last: None,
    };
    tera.render_to(TEMPLATE_NAME, &context, &mut counted)
        .map_err(template_error)?;
    context.remove("charts");
    for section in &model.safeguards {
        let mut one = tera::Context::new();
        one.insert("s", &section.linked(&model.refs));
        tera.render_to(SECTION_NAME, &one, &mut counted)
            .map_err(template_error)?;
    }
    context.insert("inventory", &model.inventory);
    tera.render_to(TAIL_NAME, &context, &mut counted)
        .map_err(template_error)?;
    if counted.last != Some(b'\n') {
        (counted.write_all(b"\n")).map_err(|e| ReportError::Template(e.to_string()))?;
    }
    let bytes = counted.bytes;
    // Its buffer only: flushing the zip entry would end a deflate block early.
    (buffered.into_inner()).map_err(|e| ReportError::Template(e.error().to_string()))?;
    Ok(bytes)
}

/// Passes writes on, counting them and keeping the last byte.
struct Counted<'w> {
    inner: &'w mut dyn Write,
    bytes: usize,
    last: Option<u8>,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The template with its Content-Security-Policy naming the SHA-256 of its one inline script
/// (the text between `<script>` and `</script>`, as CSP hashes it). The script holds no template
/// expression, so its text in the template is its text in the page.
fn allow_script(template: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Some(start) = template.rfind("<script>").map(|i| i + "<script>".len()) else {
        return template.to_string();
    };
    let Some(end) = template[start..].find("</script>").map(|i| start + i) else {
        return template.to_string();
    };
    let script = &template[start..end];
    debug_assert!(!script.contains("{{") && !script.contains("{%"));
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    template.replacen(SCRIPT_HASH_PLACEHOLDER, &hash, 1)
}
