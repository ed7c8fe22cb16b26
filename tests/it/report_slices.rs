//! report.html renders its largest parts a slice at a time (src/report/html.rs): a heat map's
//! rows, a finding group's subjects and evidence, and the inventory's rows. At the slices' edges the page must read as
//! if it were rendered whole: every finding named once, a separator between each two findings
//! and none after the last. The sample is too small to reach an edge, so this renders a
//! generated fleet whose largest group and heat map each take several slices.

use crate::support::bundle::audit_of;
use crate::support::fixtures::gen_fleet;
use phi_audit::findings::Store;
use phi_audit::report::html;
use phi_audit::report::model::{FindingGroup, ReportModel};

const BUCKETS: usize = 1400;
/// html.rs renders a group's findings 512 at a time, and a matrix's rows and the inventory's 256
/// at a time.
const MEMBERS_AT_ONCE: usize = 512;
const ROWS_AT_ONCE: usize = 256;

/// The text of `page` from `start` up to (not including) the next `end`.
fn cell<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let at = page
        .find(start)
        .unwrap_or_else(|| panic!("report.html lacks {start}"));
    let to = at + page[at..].find(end).unwrap();
    &page[at..to]
}

/// The group's row reads as one: its subjects cell names each finding once, in order, with ", "
/// between them; its evidence cell links each reference, with "; " between findings.
fn row_reads_as_one(page: &str, group: &FindingGroup, findings: &Store) {
    let n = group.members.len();
    let first = format!(
        "<td class=\"subjects\"><span id=\"{}\">",
        group.members[0].id
    );
    let subjects = cell(page, &first, "</td>");
    assert_eq!(subjects.matches("<span id=").count(), n, "{}", group.reason);
    assert_eq!(subjects.matches("</span>, <span").count(), n - 1);
    assert!(
        subjects.ends_with("</span>"),
        "a separator after the last subject"
    );
    let mut from = 0;
    for member in &group.members {
        let at = subjects[from..]
            .find(&format!("<span id=\"{}\">", member.id))
            .unwrap_or_else(|| panic!("{} is not named, or not in order", member.id));
        from += at + 1;
    }
    let after = &page[page.find(&first).unwrap()..];
    let evidence = cell(after, "<td class=\"evidence\">", "</td></tr>");
    let references: usize = (group.members.iter())
        .map(|m| findings.get(m.finding as usize).evidence().len())
        .sum();
    assert_eq!(evidence.matches("<a href=").count(), references);
    // A finding with no reference still has its separator (references never hold "; ").
    assert_eq!(evidence.matches("; ").count(), n - 1);
    assert!(
        !evidence.ends_with("; "),
        "a separator after the last finding"
    );
}

#[test]
fn slices_of_a_large_group_the_heat_map_and_the_inventory_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    gen_fleet(dir.path(), &["--buckets", &BUCKETS.to_string()]);
    let audit = audit_of(dir.path(), "2026-10-02T00:00:00Z", None);
    let model = ReportModel::build(&audit);
    let mut page = Vec::new();
    html::render_to(&model, &mut page).unwrap();
    let page = String::from_utf8(page).unwrap();

    let groups: Vec<&FindingGroup> = (model.safeguards.iter())
        .flat_map(|s| &s.details)
        .flat_map(|d| &d.groups)
        .collect();
    let largest = groups.iter().map(|g| g.members.len()).max().unwrap();
    assert!(
        largest > 2 * MEMBERS_AT_ONCE,
        "the largest group ({largest}) must take three slices"
    );
    for group in &groups {
        row_reads_as_one(&page, group, &audit.findings.findings);
    }

    let heatmap = &model.charts.matrices[0];
    assert_eq!(heatmap.id, "chart-heatmap");
    let rows = heatmap.len();
    assert!(
        rows > 2 * ROWS_AT_ONCE,
        "the heat map ({rows} rows) must take three slices"
    );
    let drawn = cell(&page, "id=\"chart-heatmap\"", "</figure>");
    assert_eq!(drawn.matches("<g class=\"matrix-row\"").count(), rows);
    assert_eq!(drawn.matches("</g>").count(), rows);
    assert!(
        drawn.ends_with("</g>\n    </svg>\n  "),
        "the picture ends after its last row"
    );
    for row in heatmap.lines() {
        assert!(drawn.contains(&format!("data-bucket=\"{}\"", row.bucket)));
    }

    // Appendix A: every bucket once and in order, the table closed after the last row.
    assert!(model.inventory.len() > 2 * ROWS_AT_ONCE);
    let inventory = cell(&page, "id=\"appendix-inventory\"", "</section>");
    assert_eq!(
        inventory.matches("<tr data-row").count(),
        model.inventory.len()
    );
    let mut from = 0;
    for row in model.inventory.iter() {
        let name = format!("<td class=\"mono\">{}</td>", row.name);
        let at = inventory[from..]
            .find(&name)
            .unwrap_or_else(|| panic!("{} is not listed, or not in order", row.name));
        from += at + name.len();
    }
    assert!(
        inventory.contains("</td></tr>\n    </tbody>\n  </table>\n"),
        "the table ends after its last row"
    );
}
