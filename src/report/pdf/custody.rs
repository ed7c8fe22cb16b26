//! Appendix E of report.pdf: the chain of custody ([`crate::report::custody`]'s view) — who
//! collected, the collection options, the scope exclusions with justification and approver,
//! and the warnings an undocumented exclusion or an unrecorded collector give.

use super::*;
use crate::report::custody::{CustodyView, CUSTODY_ANCHOR};

pub(super) const TITLE: &str = "Appendix E: Collection and scope (chain of custody)";

pub(super) fn custody_appendix(flow: &mut Flow, view: &CustodyView) {
    flow.heading(TITLE, 1);
    let page = flow.page_index();
    flow.anchors.insert(CUSTODY_ANCHOR.to_string(), page);
    flow.paragraph(
        "Who collected the evidence this report rests on, with which options, and what the scope left out on whose authority, as recorded in snapshot.json.",
        BODY,
    );
    for warning in &view.warnings {
        flow.paragraph(&format!("Warning: {warning}"), status_style("error"));
    }
    flow.heading("Who collected", 3);
    let cols = columns(&[
        ("Role", 16.0, CELL, false),
        ("Account", 12.0, CELL, false),
        ("Principal (GetCallerIdentity Arn)", 44.0, CELL_MONO, false),
        ("UserId", 28.0, CELL_MONO, false),
    ]);
    let rows: Vec<Vec<Cell>> = (view.collectors.iter())
        .map(|c| {
            vec![
                cell(c.role.clone()),
                cell(c.account.clone()),
                cell(c.principal.clone()),
                cell(c.user_id.clone()),
            ]
        })
        .collect();
    flow.table(&cols, &rows);

    flow.heading("Collection options", 3);
    if view.options.is_empty() {
        flow.paragraph("Not recorded (collector not recorded).", BODY);
    } else {
        let fields: Vec<(&str, String, Style)> = (view.options.iter())
            .map(|o| (o.label.as_str(), o.value.clone(), BODY))
            .collect();
        flow.fields(&fields);
    }

    flow.heading("Scope exclusions", 3);
    if view.exclusions.is_empty() {
        flow.paragraph("None: the scope excludes no bucket by name.", BODY);
    } else {
        let cols = columns(&[
            ("Excluded pattern", 16.0, CELL_MONO, false),
            ("Buckets excluded", 24.0, CELL_MONO, false),
            ("Justification", 38.0, CELL, false),
            ("Approver", 22.0, CELL, false),
        ]);
        let missing = |text: &str, documented: bool| {
            if documented {
                cell(text.to_string())
            } else {
                Cell {
                    text: text.to_string(),
                    style: Some(status_style("error")),
                    link: None,
                }
            }
        };
        let rows: Vec<Vec<Cell>> = (view.exclusions.iter())
            .map(|e| {
                vec![
                    cell(e.pattern.clone()),
                    cell(e.buckets.clone()),
                    missing(&e.justification, e.justification != "MISSING"),
                    missing(&e.approver, e.approver != "MISSING"),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
    flow.heading("Scope as recorded", 3);
    flow.paragraph(&view.scope, MONO);
}
