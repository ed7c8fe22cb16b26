//! The "Access review" section of report.pdf ([`crate::report::access`]): grouped by bucket —
//! one full-width row naming the bucket, then its principals — after the principals listed once
//! for most buckets, so a large account stays readable.

use super::*;
use crate::report::access::{AccessRow, AccessView};

fn through(r: &AccessRow) -> String {
    let mut lines: Vec<String> = (r.via.iter())
        .map(|v| format!("{}: {}", v.label, v.evidence.text))
        .collect();
    if !r.notes.is_empty() {
        lines.push(r.notes.clone());
    }
    lines.join("; ")
}

fn rights(r: &AccessRow) -> [Cell; 3] {
    let shown = |a: &str| match a {
        "yes" => styled(
            "yes",
            Style {
                font: Font::Bold,
                ..CELL
            },
        ),
        other => cell(other),
    };
    [shown(&r.read), shown(&r.write), shown(&r.manage)]
}

pub(super) fn access_section(flow: &mut Flow, view: &AccessView) {
    flow.heading("Access review: who can reach ePHI", 1);
    flow.anchors.insert(view.anchor.clone(), flow.page_index());
    flow.paragraph(&view.intro, BODY);
    for a in &view.accounts {
        if !a.heading.is_empty() {
            flow.heading(&a.heading, 2);
        }
        if !a.not_assessed.is_empty() {
            flow.paragraph(
                &format!(
                    "NOT ASSESSED: {}. Who can reach this account's ePHI buckets is unknown; this is not a finding that nobody can.",
                    a.not_assessed
                ),
                status_style("error"),
            );
            continue;
        }
        flow.paragraph(&a.note, BODY);
        if !a.broad.is_empty() {
            flow.heading(
                "Principals that reach most ePHI buckets the same way (listed once)",
                3,
            );
            let cols = columns(&[
                ("Principal", 15.0, CELL_MONO, false),
                ("Type", 5.0, CELL, false),
                ("Read", 8.5, CELL, false),
                ("Write", 8.5, CELL, false),
                ("Manage", 8.5, CELL, false),
                ("Buckets", 17.0, CELL, false),
                (
                    "Through (statement: where recorded)",
                    24.0,
                    CELL_MONO,
                    false,
                ),
                ("Identity findings", 13.5, CELL, false),
            ]);
            let rows: Vec<Vec<Cell>> = (a.broad.iter())
                .map(|r| {
                    let [read, write, manage] = rights(r);
                    vec![
                        cell(r.name.clone()),
                        cell(r.kind.clone()),
                        read,
                        write,
                        manage,
                        cell(r.reach.clone()),
                        cell(through(r)),
                        cell(r.identity_text.clone()),
                    ]
                })
                .collect();
            flow.table(&cols, &rows);
        }
        if !a.buckets.is_empty() {
            flow.heading("Per bucket", 3);
            let cols = columns(&[
                ("Principal", 19.0, CELL_MONO, false),
                ("Type", 5.0, CELL, false),
                ("Read", 8.5, CELL, false),
                ("Write", 8.5, CELL, false),
                ("Manage", 8.5, CELL, false),
                (
                    "Through (statement: where recorded)",
                    34.0,
                    CELL_MONO,
                    false,
                ),
                ("Identity findings", 16.5, CELL, false),
            ]);
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            for b in &a.buckets {
                let mut head = format!("s3://{}  (ePHI: {})", b.name, b.ephi);
                if !b.note.is_empty() {
                    head.push_str(&format!("  NOT ASSESSED IN PART: {}", b.note));
                }
                if !b.also.is_empty() {
                    head.push_str(&format!("  {}", b.also));
                }
                rows.push(vec![styled(
                    head,
                    Style {
                        font: Font::Bold,
                        ..CELL
                    },
                )]);
                for r in &b.rows {
                    let [read, write, manage] = rights(r);
                    rows.push(vec![
                        cell(r.name.clone()),
                        cell(r.kind.clone()),
                        read,
                        write,
                        manage,
                        cell(through(r)),
                        cell(r.identity_text.clone()),
                    ]);
                }
            }
            flow.table(&cols, &rows);
        }
        if !a.only_broad.is_empty() {
            flow.paragraph(
                &format!(
                    "Reached only by the principals listed once above ({}): {}.",
                    a.only_broad.len(),
                    a.only_broad.join(", ")
                ),
                BODY,
            );
        }
        if !a.nobody.is_empty() {
            flow.paragraph(
                &format!(
                    "No IAM user or role of the account can read, write or manage ({}): {}.",
                    a.nobody.len(),
                    a.nobody.join(", ")
                ),
                BODY,
            );
        }
    }
}

/// The access part of "Changes since last review".
pub(super) fn previous_access(flow: &mut Flow, p: &PreviousView) {
    flow.heading(
        &format!("Access to ePHI gained or lost ({})", p.access.len()),
        3,
    );
    if p.access.is_empty() {
        flow.paragraph("None.", MUTED);
    } else {
        let cols = columns(&[
            ("Change", 8.0, CELL, false),
            ("Bucket", 20.0, CELL_MONO, false),
            ("Principal", 24.0, CELL_MONO, false),
            ("Gained", 15.0, CELL, false),
            ("Lost", 15.0, CELL, false),
            ("Through (this review)", 18.0, CELL, false),
        ]);
        let rows: Vec<Vec<Cell>> = (p.access.iter())
            .map(|c| {
                vec![
                    cell(c.change.clone()),
                    cell(c.bucket.clone()),
                    cell(format!("{} ({})", c.principal, c.kind)),
                    cell(c.gained.clone()),
                    cell(c.lost.clone()),
                    cell(c.via.clone()),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
    for note in &p.access_not_compared {
        flow.paragraph(note, status_style("error"));
    }
}
