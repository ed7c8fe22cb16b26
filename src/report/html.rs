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
use std::ops::Range;

use serde::Serialize;

use super::charts::{BarChart, Charts, Column, Geometry};
use super::facets::{EphiIndex, RowFacets};
use super::model::{BucketRow, FindingGroup, GroupMember, ReportModel, SafeguardSection};
use super::refs::{BundleRefs, EvidenceLink};
use super::ReportError;
use crate::findings::Store;

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../report-templates/report.html");

/// Where report.html's safeguard sections go: the page is rendered up to it, then each section
/// on its own from safeguard.html, then the rest of the page. A section is rendered a part at a
/// time as well: its head, then each control (control-detail.html), each of a control's finding
/// groups (finding-group.html), and a group's subjects and evidence [`MEMBERS_AT_ONCE`]
/// findings at a time (group-subjects.html, group-evidence.html). One group can name ten
/// thousand buckets; as template values, with their links, the largest section was a fifth of
/// a 10,000-bucket report's memory.
const SECTIONS_MARKER: &str =
    "{#- The safeguard sections (safeguard.html) are rendered here, one at a time: html.rs. -#}";
const TAIL_NAME: &str = "report-tail.html";
/// Where Appendix A's rows go: the inventory has a row per bucket, rendered
/// [`INVENTORY_AT_ONCE`] at a time from inventory-rows.html.
const INVENTORY_MARKER: &str =
    "{#- The inventory (inventory-rows.html) is rendered here, a slice at a time: html.rs. -#}";
const INVENTORY_NAME: &str = "inventory-rows.html";
const INVENTORY: &str = include_str!("../../report-templates/inventory-rows.html");
const TAIL_END_NAME: &str = "report-tail-end.html";
const INVENTORY_AT_ONCE: usize = 256;
const SECTION_NAME: &str = "safeguard.html";
const SECTION: &str = include_str!("../../report-templates/safeguard.html");
const DETAILS_MARKER: &str =
    "{#- The controls (control-detail.html) are rendered here, one at a time: html.rs. -#}";
const SECTION_END_NAME: &str = "safeguard-end.html";
const DETAIL_NAME: &str = "control-detail.html";
const DETAIL: &str = include_str!("../../report-templates/control-detail.html");
const GROUPS_MARKER: &str =
    "{#- The finding groups (finding-group.html) are rendered here, one at a time: html.rs. -#}";
const DETAIL_END_NAME: &str = "control-detail-end.html";
const GROUP_NAME: &str = "finding-group.html";
const GROUP: &str = include_str!("../../report-templates/finding-group.html");
const SUBJECTS_MARKER: &str =
    "{#- The subjects (group-subjects.html) are rendered here, a slice at a time: html.rs. -#}";
const EVIDENCE_MARKER: &str =
    "{#- The evidence (group-evidence.html) is rendered here, a slice at a time: html.rs. -#}";
const GROUP_MIDDLE_NAME: &str = "finding-group-middle.html";
const GROUP_END_NAME: &str = "finding-group-end.html";
const SUBJECTS_NAME: &str = "group-subjects.html";
const SUBJECTS: &str = include_str!("../../report-templates/group-subjects.html");
const EVIDENCE_NAME: &str = "group-evidence.html";
const EVIDENCE: &str = include_str!("../../report-templates/group-evidence.html");
const MEMBERS_AT_ONCE: usize = 512;

/// Where report.html's pictures go. Their matrices are the largest values of the head: the heat
/// map has a row per bucket and a cell per specification, which as template values were a
/// fifth of a 10,000-bucket report's memory. So charts.html is rendered with the bar charts
/// alone, then each matrix from matrix.html, its rows [`MATRIX_ROWS_AT_ONCE`] at a time from
/// matrix-rows.html. The page reads as if charts.html held them all.
const CHARTS_MARKER: &str =
    "{#- The pictures (charts.html) are rendered here, with their matrices a slice at a time: html.rs. -#}";
const AFTER_CHARTS_NAME: &str = "report-after-charts.html";
const CHARTS_NAME: &str = "charts.html";
const CHARTS: &str = include_str!("../../report-templates/charts.html");
const MATRICES_MARKER: &str =
    "{#- The matrices (matrix.html) are rendered here, one at a time: html.rs. -#}";
const CHARTS_END_NAME: &str = "charts-end.html";
const MATRIX_NAME: &str = "matrix.html";
const MATRIX: &str = include_str!("../../report-templates/matrix.html");
const ROWS_MARKER: &str = "{#- The rows (matrix-rows.html) are rendered here: html.rs. -#}";
const MATRIX_END_NAME: &str = "matrix-end.html";
const ROWS_NAME: &str = "matrix-rows.html";
const ROWS: &str = include_str!("../../report-templates/matrix-rows.html");
const MATRIX_ROWS_AT_ONCE: usize = 256;

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
];

/// What the template's Content-Security-Policy holds in place of the script's hash.
const SCRIPT_HASH_PLACEHOLDER: &str = "SCRIPT-HASH";

/// charts.html's context: the pictures without their matrices.
#[derive(Serialize)]
struct ChartsHead<'a> {
    geometry: &'a Geometry,
    bars: &'a [BarChart],
}

/// matrix.html's context: a matrix without its rows.
#[derive(Serialize)]
struct MatrixHead<'a> {
    id: &'a str,
    title: &'a str,
    note: &'a str,
    height: u32,
    columns: &'a [Column],
}

/// finding-group.html's context: the row without its findings.
#[derive(Serialize)]
struct GroupRow<'a> {
    status: &'a str,
    reason: &'a str,
    facets: RowFacets,
}

/// inventory-rows.html's row: a bucket's, with its filter facets (report.pdf prints the row
/// without them).
#[derive(Serialize)]
struct InventoryRow {
    #[serde(flatten)]
    row: BucketRow,
    facets: RowFacets,
}

/// What a section's rows are read with: the audit's findings, how the bundle names their
/// references, and which buckets hold ePHI (the rows' filter facets).
struct Rows<'a> {
    findings: &'a Store,
    refs: &'a BundleRefs,
    ephi: EphiIndex<'a>,
}

/// A finding of group-evidence.html: its references as links.
#[derive(Serialize)]
struct Linked {
    evidence: Vec<EvidenceLink>,
}

/// Renders the page into `out` as it goes (for 10,000 buckets it is ~60 MB, never held whole);
/// returns how many bytes were written. Each finding's references are read from the audit the
/// model was built from as its row is written.
pub fn render_to(model: &ReportModel<'_>, out: &mut dyn Write) -> Result<usize, ReportError> {
    let audit = model.audit();
    let rows = Rows {
        findings: &audit.findings.findings,
        refs: &model.refs,
        ephi: EphiIndex::of(&audit.scope),
    };
    let tera = templates()?;
    // The largest parts of the page are in the context only while their part of the page is
    // rendered: the pictures in the head, each section on its own, the inventory a slice at a time.
    let mut context = tera::Context::from_serialize(model).map_err(template_error)?;
    let contents: Vec<_> = model.safeguards.iter().map(|s| s.contents()).collect();
    context.insert("contents", &contents);
    let mut counted = Counted {
        inner: out,
        bytes: 0,
        last: None,
    };
    let mut render = |name: &str, context: &tera::Context| {
        tera.render_to(name, context, &mut counted)
            .map_err(template_error)
    };
    render(TEMPLATE_NAME, &context)?;
    render_charts(&model.charts, &mut render)?;
    render(AFTER_CHARTS_NAME, &context)?;
    for section in &model.safeguards {
        render_section(section, &rows, &mut render)?;
    }
    render(TAIL_NAME, &context)?;
    let inventory = &model.inventory;
    render_slices(
        &mut render,
        INVENTORY_NAME,
        "rows",
        inventory.len(),
        INVENTORY_AT_ONCE,
        |rows| {
            (rows.map(|i| InventoryRow {
                row: inventory.row(i),
                facets: inventory.facets(i),
            }))
            .collect::<Vec<_>>()
        },
    )?;
    render(TAIL_END_NAME, &context)?;
    if counted.last != Some(b'\n') {
        (counted.write_all(b"\n")).map_err(|e| ReportError::Template(e.to_string()))?;
    }
    Ok(counted.bytes)
}

/// Renders the named template with a context into the page.
type Render<'a> = dyn FnMut(&str, &tera::Context) -> Result<(), ReportError> + 'a;

fn template_error(e: tera::Error) -> ReportError {
    ReportError::Template(format!("{e:?}"))
}

/// The pictures: the bar charts, then each matrix a slice of rows at a time.
fn render_charts(charts: &Charts, render: &mut Render<'_>) -> Result<(), ReportError> {
    let head = ChartsHead {
        geometry: &charts.geometry,
        bars: &charts.bars,
    };
    let mut context = tera::Context::new();
    context.insert("charts", &head);
    render(CHARTS_NAME, &context)?;
    for matrix in &charts.matrices {
        context.insert(
            "chart",
            &MatrixHead {
                id: &matrix.id,
                title: &matrix.title,
                note: &matrix.note,
                height: matrix.height,
                columns: &matrix.columns,
            },
        );
        render(MATRIX_NAME, &context)?;
        render_slices(
            render,
            ROWS_NAME,
            "rows",
            matrix.len(),
            MATRIX_ROWS_AT_ONCE,
            |rows| rows.map(|n| matrix.line(n)).collect::<Vec<_>>(),
        )?;
        render(MATRIX_END_NAME, &context)?;
    }
    render(CHARTS_END_NAME, &context)
}

/// One safeguard section: its head, then each control and each of its finding groups.
fn render_section(
    section: &SafeguardSection,
    rows: &Rows<'_>,
    render: &mut Render<'_>,
) -> Result<(), ReportError> {
    let mut context = tera::Context::new();
    context.insert("s", section);
    render(SECTION_NAME, &context)?;
    for detail in &section.details {
        let mut one = tera::Context::new();
        one.insert("d", detail);
        render(DETAIL_NAME, &one)?;
        for group in &detail.groups {
            render_group(group, rows, render)?;
        }
        render(DETAIL_END_NAME, &one)?;
    }
    render(SECTION_END_NAME, &context)
}

/// A finding group's row, with the references of [`MEMBERS_AT_ONCE`] findings at a time as
/// links.
fn render_group(
    group: &FindingGroup,
    rows: &Rows<'_>,
    render: &mut Render<'_>,
) -> Result<(), ReportError> {
    let Rows {
        findings,
        refs,
        ephi,
    } = rows;
    let mut context = tera::Context::new();
    context.insert(
        "g",
        &GroupRow {
            status: &group.status,
            reason: &group.reason,
            facets: group.facets(findings, ephi),
        },
    );
    render(GROUP_NAME, &context)?;
    let members = &group.members;
    render_slices(
        render,
        SUBJECTS_NAME,
        "members",
        members.len(),
        MEMBERS_AT_ONCE,
        |range| &members[range],
    )?;
    render(GROUP_MIDDLE_NAME, &context)?;
    let linked = |range: Range<usize>| -> Vec<Linked> {
        (members[range].iter())
            .map(|m| Linked {
                evidence: GroupMember::links(m.finding, refs, findings),
            })
            .collect()
    };
    render_slices(
        render,
        EVIDENCE_NAME,
        "members",
        members.len(),
        MEMBERS_AT_ONCE,
        linked,
    )?;
    render(GROUP_END_NAME, &context)
}

/// Renders `name` once per slice of `len` items, `at_once` at a time: its context holds the
/// slice (as `view` makes it from the items' numbers) under `key`, and `more` when slices
/// follow.
fn render_slices<V: Serialize>(
    render: &mut Render<'_>,
    name: &str,
    key: &'static str,
    len: usize,
    at_once: usize,
    view: impl Fn(Range<usize>) -> V,
) -> Result<(), ReportError> {
    for start in (0..len).step_by(at_once) {
        let end = (start + at_once).min(len);
        let mut context = tera::Context::new();
        context.insert(key, &view(start..end));
        context.insert("more", &(end < len));
        render(name, &context)?;
    }
    Ok(())
}

/// The page's templates, split at their markers. Where a marker stands, the text before it ends
/// without whitespace when the loop it replaces trimmed it (`{%- for`), as in one template.
fn templates() -> Result<tera::Tera, ReportError> {
    let mut tera = tera::Tera::default();
    // Counts of a 10,000-bucket account read better as 231,996.
    tera.register_filter("thousands", |n: i64, _: tera::Kwargs, _: &tera::State| {
        super::model::thousands(n.max(0) as usize)
    });
    let page = allow_script(TEMPLATE);
    let (head, tail) = split(TEMPLATE_NAME, &page, SECTIONS_MARKER)?;
    let (tail, tail_end) = split(TEMPLATE_NAME, tail, INVENTORY_MARKER)?;
    let (head, after_charts) = split(TEMPLATE_NAME, head, CHARTS_MARKER)?;
    let (charts, charts_end) = split(CHARTS_NAME, CHARTS, MATRICES_MARKER)?;
    let (matrix, matrix_end) = split(MATRIX_NAME, MATRIX, ROWS_MARKER)?;
    let (section, section_end) = split(SECTION_NAME, SECTION, DETAILS_MARKER)?;
    let (detail, detail_end) = split(DETAIL_NAME, DETAIL, GROUPS_MARKER)?;
    let (group, group_rest) = split(GROUP_NAME, GROUP, SUBJECTS_MARKER)?;
    let (group_middle, group_end) = split(GROUP_NAME, group_rest, EVIDENCE_MARKER)?;
    // The markers stand where `{%- for … %}` stood: whitespace before them goes; and a part
    // that a loop's `{%- endfor %}` ended ends without it.
    let templates = [
        (TEMPLATE_NAME, head),
        (CHARTS_NAME, charts.trim_end()),
        (MATRIX_NAME, matrix.trim_end()),
        (ROWS_NAME, ROWS.trim_end()),
        (MATRIX_END_NAME, matrix_end.trim_end()),
        (CHARTS_END_NAME, charts_end),
        (AFTER_CHARTS_NAME, after_charts.trim_end()),
        (SECTION_NAME, section.trim_end()),
        (DETAIL_NAME, detail.trim_end()),
        (GROUP_NAME, group),
        (SUBJECTS_NAME, SUBJECTS.trim_end()),
        (GROUP_MIDDLE_NAME, group_middle),
        (EVIDENCE_NAME, EVIDENCE.trim_end()),
        (GROUP_END_NAME, group_end.trim_end()),
        (DETAIL_END_NAME, detail_end.trim_end()),
        (SECTION_END_NAME, section_end),
        (TAIL_NAME, tail.trim_end()),
        (INVENTORY_NAME, INVENTORY.trim_end()),
        (TAIL_END_NAME, tail_end),
    ];
    for (name, text) in PARTIALS.iter().chain(templates.iter()) {
        tera.add_raw_template(name, text).map_err(template_error)?;
    }
    Ok(tera)
}

/// `template` before and after `marker`.
fn split<'t>(
    name: &str,
    template: &'t str,
    marker: &str,
) -> Result<(&'t str, &'t str), ReportError> {
    template
        .split_once(marker)
        .ok_or_else(|| ReportError::Template(format!("{name} lacks {marker}")))
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
