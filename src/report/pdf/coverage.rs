//! The PDF's coverage table (src/report/coverage.rs): every 164.312 specification with its
//! marking, what covers it and the conclusion, as a section of its own after the executive
//! summary.

use super::*;
use crate::report::coverage::CoverageView;

pub(super) fn coverage_section(flow: &mut Flow, coverage: &CoverageView) {
    flow.heading("164.312 coverage", 1);
    let page = flow.page_index();
    flow.anchors.insert(coverage.anchor.clone(), page);
    flow.paragraph(&coverage.note, BODY);
    flow.paragraph(
        "Controls are listed with their findings as fail/error/excepted/pass; why each control evidences the specification is given in the specification's section and in the control's details.",
        MUTED,
    );
    let cols = columns(&[
        ("Specification", 19.0, CELL, false),
        ("Marking", 10.0, CELL, false),
        ("Covered by", 42.0, SMALL_CELL, false),
        ("Conclusion", 29.0, CELL, false),
    ]);
    let mut rows = Vec::new();
    for row in &coverage.rows {
        let mut covered: Vec<String> = row
            .controls
            .iter()
            .map(|c| {
                format!(
                    "{} {}/{}/{}/{}",
                    c.id,
                    thousands(c.counts.fail),
                    thousands(c.counts.error),
                    thousands(c.counts.excepted),
                    thousands(c.counts.pass),
                )
            })
            .collect();
        covered.extend(
            row.attestations
                .iter()
                .map(|a| format!("Attestation: {} ({})", a.policy, a.state)),
        );
        if row.not_assessed {
            covered.push(format!(
                "NOT ASSESSED BY THIS TOOL. Request: {}",
                row.request
            ));
        } else if !row.request.is_empty() {
            covered.push(format!("Beyond this tool, request: {}", row.request));
        }
        let verdict_style = Style {
            font: Font::Bold,
            ..status_style(match row.verdict.as_str() {
                "Not met" => "fail",
                "Met" => "pass",
                "Met with exceptions" => "excepted",
                "Attested" => "not_applicable",
                _ => "error",
            })
        };
        let first = row.controls.first().map(|c| c.detail_anchor.clone());
        let spec_cell = match &first {
            Some(anchor) => linked(format!("{} {}", row.id, row.title), anchor),
            None => cell(format!("{} {}", row.id, row.title)),
        };
        rows.push(vec![
            spec_cell,
            cell(row.marking.clone()),
            cell(covered.join("; ")),
            styled(
                row.conclusion.clone(),
                Style {
                    size: CELL.size,
                    ..verdict_style
                },
            ),
        ]);
    }
    flow.table(&cols, &rows);
}
