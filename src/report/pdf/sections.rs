//! The sections of `report.pdf` in reading order: the body (risk-first summary, executive
//! summary, safeguards, policies, appendices), laid out with the flow engine of the parent module.

use super::*;

fn counts_cells(c: &StatusCounts) -> [Cell; 4] {
    [
        cell(thousands(c.fail)),
        cell(thousands(c.error)),
        cell(thousands(c.excepted)),
        cell(thousands(c.pass)),
    ]
}

/// Controls with their counts; a control shown in a safeguard's section has its rationale for
/// that safeguard in a full-width row under it.
fn control_table(flow: &mut Flow, rows: &[ControlRow]) {
    let cols = columns(&[
        ("Control", 44.0, CELL, false),
        ("Severity", 9.0, CELL, false),
        ("Fail", 6.0, CELL, true),
        ("Error", 6.0, CELL, true),
        ("Excepted", 8.0, CELL, true),
        ("Pass", 6.0, CELL, true),
        ("Findings listed under", 15.0, CELL, false),
    ]);
    let mut table = Vec::new();
    for c in rows {
        let [f, e, x, p] = counts_cells(&c.counts);
        table.push(vec![
            cell(format!("{}  {}", c.id, c.title)),
            cell(c.severity.clone()),
            f,
            e,
            x,
            p,
            linked(c.detail_in.clone(), &c.detail_anchor),
        ]);
        if !c.rationale.is_empty() {
            table.push(vec![styled(format!("Why: {}", c.rationale), MUTED_CELL)]);
        }
    }
    flow.table(&cols, &table);
}

/// The rationale row under a control.
const MUTED_CELL: Style = Style {
    font: Font::Regular,
    size: 7.0,
    color: (0.35, 0.35, 0.35),
};

/// Groups of more subjects than this list them in a full-width row under the group's row.
const INLINE_SUBJECTS: usize = 4;

fn findings_table(flow: &mut Flow, groups: &[FindingGroup], unread: &unread::Unread) {
    let cols = columns(&[
        ("Status", 8.0, CELL, false),
        ("Subject", 27.0, CELL_MONO, false),
        ("Reason", 35.0, CELL, false),
        ("Evidence", 30.0, CELL_MONO, false),
    ]);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for g in groups {
        if let Some(row) = unread.row(g) {
            rows.push(row);
            continue;
        }
        let many = g.len() > INLINE_SUBJECTS;
        let capped = g.len() > PDF_GROUP_LIMIT;
        let subjects = match (many, capped) {
            (false, _) => g.subjects(g.len()),
            (true, false) => format!("{} subjects, listed below", thousands(g.len())),
            (true, true) => format!(
                "{} subjects; the first {PDF_GROUP_LIMIT} are listed below",
                thousands(g.len())
            ),
        };
        rows.push(vec![
            styled(g.status.to_uppercase(), status_style(&g.status)),
            cell(subjects),
            cell(g.reason.clone()),
            cell(g.evidence.clone()),
        ]);
        if many {
            // Several names to a line across the page, instead of one per line in a column.
            let named = g.len().min(PDF_GROUP_LIMIT);
            let rest = match g.len() - named {
                0 => String::new(),
                n => format!(
                    "; and {} more, each listed with its evidence in report.html, findings.csv and findings.json",
                    thousands(n)
                ),
            };
            rows.push(vec![cell(format!(
                "{} ({}): {}{rest}",
                g.status.to_uppercase(),
                thousands(g.len()),
                g.subjects(named)
            ))]);
        }
    }
    flow.table(&cols, &rows);
}

fn control_detail(flow: &mut Flow, d: &ControlDetail, unread: &unread::Unread) {
    flow.heading_in_toc(&format!("{}: {}", d.id, d.title), 3, true);
    let page = flow.page_index();
    flow.anchors.insert(d.anchor.clone(), page);
    flow.paragraph(
        &format!(
            "Severity: {}. Safeguards: {}. Policies: {}. Deciding evidence: {}.",
            d.severity, d.safeguards, d.policies, d.evidence
        ),
        MUTED,
    );
    if !d.description.is_empty() {
        flow.paragraph(&d.description, BODY);
    }
    for m in &d.mappings {
        flow.paragraph(
            &format!(
                "Why it evidences {} {}: {}",
                m.safeguard, m.title, m.rationale
            ),
            MUTED,
        );
    }
    if !d.remediation_summary.is_empty() {
        flow.paragraph(&format!("Remediation: {}", d.remediation_summary), BODY);
        flow.paragraph(&d.remediation_cli_note, MUTED);
        flow.paragraph_at(&d.remediation_cli, MONO, MARGIN_X + 10.0, CONTENT_W - 10.0);
        flow.paragraph(&format!("Console: {}", d.remediation_console), MUTED);
    }
    flow.paragraph(
        &format!(
            "Findings: {} fail, {} error, {} excepted, {} pass.",
            thousands(d.counts.fail),
            thousands(d.counts.error),
            thousands(d.counts.excepted),
            thousands(d.counts.pass)
        ),
        Style {
            font: Font::Bold,
            ..BODY
        },
    );
    if d.groups.is_empty() {
        flow.paragraph("No failing, error or excepted findings.", BODY);
    } else {
        findings_table(flow, &d.groups, unread);
    }
    let mut passed = d.passed_note.clone();
    if !d.passed_subjects.is_empty() {
        passed.push(' ');
        passed.push_str(&d.passed_subjects.join(", "));
    }
    flow.paragraph(&passed, MUTED);
    if !d.references.is_empty() {
        let refs: Vec<String> = d
            .references
            .iter()
            .map(|r| format!("{} <{}>", r.title, r.url))
            .collect();
        flow.paragraph(&format!("References: {}", refs.join("; ")), MUTED);
    }
    flow.space(6.0);
}

/// A changed API answer shows at most this many differing JSON pointers in the PDF ...
const PDF_DIFFERENCES_LIMIT: usize = 12;
/// ... each cut to this many characters (a whole policy added or removed is one long line).
const PDF_DIFFERENCE_CHARS: usize = 240;

/// "Changes since last review" (`report --previous`): the previous bundle, the counts, then
/// each list. Long answers are cut here; changes-since-previous.json has them in full.
fn previous_section(flow: &mut Flow, p: &PreviousView) {
    flow.heading("Changes since last review", 1);
    flow.fields(&[
        ("Previous bundle", p.bundle.clone(), MONO),
        ("Its report generated (UTC)", p.generated_at.clone(), BODY),
        ("Its evidence collected (UTC)", p.collected_at.clone(), BODY),
        ("Its snapshot digest", p.digest.clone(), MONO),
        (
            "Its MANIFEST.sha256 (SHA-256)",
            p.manifest_sha256.clone(),
            MONO,
        ),
    ]);
    if !p.warning.is_empty() {
        flow.paragraph(&p.warning, status_style("fail"));
    }
    let count_cols: Vec<Column> = CATEGORIES
        .iter()
        .map(|label| Column {
            header: label,
            width: CONTENT_W / CATEGORIES.len() as f32,
            style: CELL,
            right: true,
        })
        .collect();
    let row: Vec<Cell> = p.counts.iter().map(|c| cell(thousands(c.count))).collect();
    flow.table(&count_cols, &[row]);
    for section in &p.status_sections {
        flow.heading(&format!("{} ({})", section.title, section.items.len()), 3);
        if section.items.is_empty() {
            flow.paragraph("None.", MUTED);
            continue;
        }
        let cols = columns(&[
            ("Subject", 24.0, CELL_MONO, false),
            ("Control", 21.0, CELL_MONO, false),
            ("Severity", 8.0, CELL, false),
            ("Change", 13.0, CELL, false),
            ("Reason (this review)", 34.0, CELL, false),
        ]);
        let rows: Vec<Vec<Cell>> = section
            .items
            .iter()
            .map(|c| {
                vec![
                    cell(c.subject.clone()),
                    cell(c.control.clone()),
                    cell(c.severity.clone()),
                    cell(c.change.clone()),
                    cell(c.reason.clone()),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
    for section in &p.bucket_sections {
        flow.heading(&format!("{} ({})", section.title, section.items.len()), 3);
        if section.items.is_empty() {
            flow.paragraph("None.", MUTED);
            continue;
        }
        let cols = columns(&[
            ("Bucket", 60.0, CELL_MONO, false),
            ("Region", 20.0, CELL, false),
            ("Scope", 20.0, CELL, false),
        ]);
        let rows: Vec<Vec<Cell>> = section
            .items
            .iter()
            .map(|b| {
                vec![
                    cell(b.name.clone()),
                    cell(b.region.clone()),
                    cell(b.scope.clone()),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
    flow.heading(
        &format!("Changed configurations ({})", p.configurations.len()),
        3,
    );
    if p.configurations.is_empty() {
        flow.paragraph("None.", MUTED);
    } else {
        let cols = columns(&[
            ("Bucket", 24.0, CELL_MONO, false),
            ("API call", 16.0, CELL_MONO, false),
            ("What changed (before -> after)", 60.0, CELL_MONO, false),
        ]);
        let rows = config_rows(&p.configurations);
        flow.table(&cols, &rows);
    }
    super::access::previous_access(flow, p);
    flow.paragraph(&p.note, MUTED);
}

/// The changed-configuration rows: one per differing JSON pointer (at most
/// [`PDF_DIFFERENCES_LIMIT`] per answer, each cut to [`PDF_DIFFERENCE_CHARS`]), the bucket and
/// call named on the first.
fn config_rows(configurations: &[ConfigRow]) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for c in configurations {
        let mut lines: Vec<String> = c
            .differences
            .iter()
            .take(PDF_DIFFERENCES_LIMIT)
            .map(|line| cut_line(line, PDF_DIFFERENCE_CHARS))
            .collect();
        if c.differences.len() > PDF_DIFFERENCES_LIMIT {
            lines.push(format!(
                "... and {} more differences (see changes-since-previous.json)",
                c.differences.len() - PDF_DIFFERENCES_LIMIT
            ));
        }
        for (i, line) in lines.into_iter().enumerate() {
            let (bucket, operation) = if i == 0 {
                (c.bucket.clone(), c.operation.clone())
            } else {
                (String::new(), String::new())
            };
            rows.push(vec![cell(bucket), cell(operation), cell(line)]);
        }
    }
    rows
}

/// `text` cut to `limit` characters, saying so when cut.
fn cut_line(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(limit).collect();
    cut.push_str(" ... (cut; in full in changes-since-previous.json)");
    cut
}

pub(super) fn body(model: &ReportModel, sink: &mut dyn PageSink) -> Laid {
    let mut flow = Flow::new(sink);
    flow.heading("Executive summary", 1);
    // What an auditor must know first, then the pictures, then the counts.
    risk_summary(&mut flow, &model.risk);
    super::charts::charts(&mut flow, &model.charts);
    executive_summary(&mut flow, &model.summary);
    super::coverage::coverage_section(&mut flow, &model.coverage);
    let unread = unread::Unread::of(&model.safeguards);
    unread.section(&mut flow);
    if let Some(previous) = &model.previous {
        previous_section(&mut flow, previous);
    }
    if let Some(org) = &model.organisation {
        organisation_summary(&mut flow, org);
    }
    safeguard_sections(&mut flow, &model.safeguards, &unread);
    super::access::access_section(&mut flow, &model.access);
    policy_sections(&mut flow, &model.policies);
    inventory_appendix(&mut flow, &model.inventory);
    exceptions_appendix(&mut flow, &model.exceptions);
    changes_appendix(&mut flow, &model.changes);
    method_appendix(&mut flow, &model.method);
    super::custody::custody_appendix(&mut flow, &model.custody);
    flow.finish()
}

/// What needs attention first: each question with its answer and the subjects it names, linked
/// to their details.
fn risk_summary(flow: &mut Flow, risk: &RiskView) {
    flow.heading("What needs attention first", 2);
    flow.paragraph(&risk.ephi_note, BODY);
    let cols = columns(&[
        ("Subject", 38.0, CELL_MONO, false),
        ("What", 50.0, CELL, false),
        ("Details", 12.0, CELL, false),
    ]);
    for item in &risk.items {
        flow.heading_in_toc(&format!("{}: {}", item.title, item.verdict), 3, false);
        if item.entries.is_empty() {
            continue;
        }
        let rows: Vec<Vec<Cell>> = item
            .entries
            .iter()
            .map(|e| {
                vec![
                    cell(e.subject.clone()),
                    cell(e.detail.clone()),
                    linked("details", &e.anchor),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
        if let Some(more) = &item.more {
            flow.paragraph(more, MUTED);
        }
    }
}

fn executive_summary(flow: &mut Flow, s: &SummaryView) {
    flow.heading("The counts", 2);
    flow.paragraph(&s.verdict, BODY);
    flow.heading("Findings by status", 3);
    let mut status_cols: Vec<(&'static str, f32, Style, bool)> = vec![
        ("fail", 1.0, CELL, true),
        ("error", 1.0, CELL, true),
        ("excepted", 1.0, CELL, true),
        ("pass", 1.0, CELL, true),
        ("not_applicable", 1.0, CELL, true),
    ];
    status_cols.push(("total", 1.0, CELL, true));
    let find = |list: &[crate::report::model::Count], label: &str| {
        thousands(
            list.iter()
                .find(|c| c.label == label)
                .map(|c| c.count)
                .unwrap_or(0),
        )
    };
    let mut row: Vec<Cell> = ["fail", "error", "excepted", "pass", "not_applicable"]
        .iter()
        .map(|l| cell(find(&s.by_status, l)))
        .collect();
    row.push(cell(thousands(s.findings)));
    flow.table(&columns(&status_cols), &[row]);
    flow.heading("Failures by severity", 3);
    let sev_cols = columns(&[
        ("critical", 1.0, CELL, true),
        ("high", 1.0, CELL, true),
        ("medium", 1.0, CELL, true),
        ("low", 1.0, CELL, true),
        ("info", 1.0, CELL, true),
    ]);
    let row: Vec<Cell> = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|l| cell(find(&s.failures_by_severity, l)))
        .collect();
    flow.table(&sev_cols, &[row]);
    flow.heading("Safeguards by status", 3);
    let cols = columns(&[
        ("Safeguard", 40.0, CELL, false),
        ("Controls", 8.0, CELL, true),
        ("Fail", 8.0, CELL, true),
        ("Error", 8.0, CELL, true),
        ("Excepted", 9.0, CELL, true),
        ("Pass", 8.0, CELL, true),
        ("N/A", 7.0, CELL, true),
    ]);
    let rows: Vec<Vec<Cell>> = s
        .matrix
        .iter()
        .map(|m| {
            let [f, e, x, p] = counts_cells(&m.counts);
            vec![
                cell(format!("{} {}", m.id, m.title)),
                cell(thousands(m.controls)),
                f,
                e,
                x,
                p,
                cell(thousands(m.counts.not_applicable)),
            ]
        })
        .collect();
    flow.table(&cols, &rows);
    flow.paragraph(
        "A control that supports several safeguards is counted under each of them.",
        MUTED,
    );
    if !s.top_controls.is_empty() {
        flow.heading("Controls with the most failures", 3);
        control_table(flow, &s.top_controls);
    }
}

fn safeguard_sections(flow: &mut Flow, safeguards: &[SafeguardSection], unread: &unread::Unread) {
    for section in safeguards {
        if let Some(account) = &section.account {
            flow.heading(&format!("Account {} {}", account.id, account.name), 1);
            let page = flow.page_index();
            flow.anchors.insert(account.anchor.clone(), page);
            flow.paragraph(
                &format!(
                    "{} The sections that follow, up to the next account, hold this account's findings.",
                    account.note
                ),
                BODY,
            );
        }
        flow.heading(&format!("{} {}", section.id, section.title), 1);
        flow.paragraph(
            &format!(
                "{} controls support this safeguard: {} failing, {} error, {} excepted and {} passing findings.",
                section.controls.len(),
                thousands(section.counts.fail),
                thousands(section.counts.error),
                thousands(section.counts.excepted),
                thousands(section.counts.pass)
            ),
            BODY,
        );
        control_table(flow, &section.controls);
        if !section.keys.is_empty() {
            keys_table(flow, &section.keys);
        }
        for detail in &section.details {
            control_detail(flow, detail, unread);
        }
    }
}

/// The encryption safeguard's Keys part.
fn keys_table(flow: &mut Flow, keys: &[KeyRow]) {
    flow.heading("Keys", 3);
    flow.paragraph(
        "The KMS keys behind the in-scope buckets' default encryption and the trails' log files: each key's state, automatic rotation, who its key policy and grants let decrypt, and what relies on it.",
        BODY,
    );
    let cols = columns(&[
        ("Key", 30.0, CELL_MONO, false),
        ("State", 14.0, CELL, false),
        ("Rotation", 12.0, CELL, false),
        ("Who can decrypt", 12.0, CELL, false),
        ("Protects", 32.0, CELL_MONO, false),
    ]);
    let rows: Vec<Vec<Cell>> = keys
        .iter()
        .map(|k| {
            vec![
                cell(k.arn.clone()),
                cell(k.state.clone()),
                cell(k.rotation.clone()),
                cell(k.decrypt.clone()),
                cell(k.protects.clone()),
            ]
        })
        .collect();
    flow.table(&cols, &rows);
}

fn policy_sections(flow: &mut Flow, policies: &[PolicySection]) {
    for policy in policies {
        flow.heading(&format!("Policy: {}", policy.name), 1);
        let page = flow.page_index();
        flow.anchors.insert(policy.anchor.clone(), page);
        flow.heading("Attestation", 3);
        if let Some(a) = &policy.attestation {
            let mut rows = vec![
                ("Owner", a.owner.clone(), BODY),
                ("Approved by", a.approver.clone(), BODY),
                ("Approved on", a.approved_on.clone(), BODY),
                ("Next review", a.next_review.clone(), BODY),
                ("Statement", a.statement.clone(), BODY),
            ];
            if !a.document.is_empty() {
                rows.push(("Policy document", a.document.clone(), BODY));
                rows.push(("Document SHA-256", a.document_sha256.clone(), MONO));
            }
            flow.fields(&rows);
        }
        flow.paragraph(&policy.attestation_note, BODY);
        if !policy.admin_findings.is_empty() {
            let cols = columns(&[
                ("Status", 8.0, CELL, false),
                ("Control", 24.0, CELL_MONO, false),
                ("Reason", 44.0, CELL, false),
                ("Evidence", 24.0, CELL_MONO, false),
            ]);
            let rows: Vec<Vec<Cell>> = (policy.admin_findings.iter())
                .map(|p| &p.group)
                .map(|g| {
                    vec![
                        styled(g.status.to_uppercase(), status_style(&g.status)),
                        cell(g.control.clone()),
                        cell(g.reason.clone()),
                        cell(g.evidence.clone()),
                    ]
                })
                .collect();
            flow.table(&cols, &rows);
        }
        flow.heading("Technical controls supporting this policy", 3);
        flow.paragraph(
            &format!(
                "{} controls: {} failing, {} error, {} excepted and {} passing findings.",
                policy.controls.len(),
                thousands(policy.counts.fail),
                thousands(policy.counts.error),
                thousands(policy.counts.excepted),
                thousands(policy.counts.pass)
            ),
            BODY,
        );
        control_table(flow, &policy.controls);
    }
}

fn inventory_appendix(flow: &mut Flow, inventory: &BucketRows<'_>) {
    flow.heading("Appendix A: Bucket inventory", 1);
    flow.paragraph(
        "Every bucket the snapshot found, whether it holds ePHI (and on what basis), its tags as collected and the number of findings by status.",
        BODY,
    );
    let cols = columns(&[
        ("Bucket", 24.0, CELL_MONO, false),
        ("Region", 8.0, SMALL_CELL, false),
        ("In scope", 6.5, SMALL_CELL, false),
        ("ePHI", 10.0, SMALL_CELL, false),
        ("Tags", 16.5, SMALL_CELL, false),
        ("Fail", 4.5, SMALL_CELL, true),
        ("Error", 5.5, SMALL_CELL, true),
        ("Excepted", 8.5, SMALL_CELL, true),
        ("Pass", 4.5, SMALL_CELL, true),
        ("N/A", 4.5, SMALL_CELL, true),
        ("Worst", 6.0, SMALL_CELL, false),
    ]);
    // 10,000 buckets are 10,000 rows: a denser table keeps the appendix a third shorter.
    flow.row_pad = 1.5;
    // A row per bucket, each made as it is laid out (a clone of the rows starts again: the
    // columns are fitted to every row first).
    let rows = inventory.iter().map(|b| {
        vec![
            cell(b.name),
            cell(b.region),
            cell(b.in_scope),
            cell(b.ephi),
            cell(b.tags),
            cell(thousands(b.counts.fail)),
            cell(thousands(b.counts.error)),
            cell(thousands(b.counts.excepted)),
            cell(thousands(b.counts.pass)),
            cell(thousands(b.counts.not_applicable)),
            cell(b.worst),
        ]
    });
    flow.table_of(&cols, rows);
    flow.row_pad = CELL_PAD;
}

fn exceptions_appendix(flow: &mut Flow, exceptions: &[ExceptionView]) {
    flow.heading("Appendix B: Risk exceptions", 1);
    let page = flow.page_index();
    flow.anchors
        .insert(crate::report::risk::EXCEPTIONS_ANCHOR.to_string(), page);
    if exceptions.is_empty() {
        flow.paragraph(
            "No exceptions: no risk exceptions were given for this report.",
            BODY,
        );
    } else {
        let cols = columns(&[
            ("Subject", 20.0, CELL_MONO, false),
            ("Control", 16.0, CELL_MONO, false),
            ("Justification", 28.0, CELL, false),
            ("Approved by", 12.0, CELL, false),
            ("Approved", 9.0, CELL, false),
            ("Expires", 9.0, CELL, false),
            ("State", 7.0, CELL, false),
        ]);
        let rows: Vec<Vec<Cell>> = exceptions
            .iter()
            .map(|e| {
                vec![
                    cell(e.subject.clone()),
                    cell(e.control.clone()),
                    cell(e.justification.clone()),
                    cell(e.approver.clone()),
                    cell(e.approved_on.clone()),
                    cell(e.expires.clone()),
                    cell(e.state.clone()),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
}

fn changes_appendix(flow: &mut Flow, changes: &ChangesView) {
    flow.heading("Appendix C: Configuration changes in the period", 1);
    let page = flow.page_index();
    flow.anchors
        .insert(crate::report::risk::CHANGES_ANCHOR.to_string(), page);
    flow.paragraph(&changes.note, BODY);
    if !changes.events.is_empty() {
        let cols = columns(&[
            ("Time (UTC)", 17.5, CELL_MONO, false),
            ("Region", 8.5, CELL, false),
            ("Event", 19.5, CELL, false),
            ("Bucket", 17.0, CELL_MONO, false),
            ("Who", 10.0, CELL, false),
            ("Notes, event id and record", 27.5, CELL, false),
        ]);
        let rows: Vec<Vec<Cell>> = changes
            .events
            .iter()
            .map(|e| {
                vec![
                    cell(e.time.clone()),
                    cell(e.region.clone()),
                    cell(e.event.clone()),
                    cell(e.resources.clone()),
                    cell(e.user.clone()),
                    cell(
                        [e.notes.as_str(), &e.event_id, &e.evidence.text]
                            .iter()
                            .filter(|t| !t.is_empty())
                            .copied()
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
}

fn method_appendix(flow: &mut Flow, method: &MethodView) {
    flow.heading("Appendix D: Method", 1);
    for note in &method.notes {
        flow.paragraph(note, BODY);
    }
    flow.paragraph(FONT_NOTE, BODY);
    flow.heading("Which API answers decide each control", 3);
    let cols = columns(&[
        ("Control", 32.0, CELL, false),
        ("Severity", 8.0, CELL, false),
        ("Deciding evidence", 28.0, CELL, false),
        ("Safeguards", 16.0, CELL, false),
        ("Policies", 16.0, CELL, false),
    ]);
    let rows: Vec<Vec<Cell>> = method
        .controls
        .iter()
        .map(|m| {
            vec![
                cell(format!("{}  {}", m.id, m.title)),
                cell(m.severity.clone()),
                cell(m.evidence.clone()),
                cell(m.safeguards.clone()),
                cell(m.policies.clone()),
            ]
        })
        .collect();
    flow.table(&cols, &rows);
}

/// The organisation summary: every account with its totals, then each account's counts per
/// safeguard.
fn organisation_summary(flow: &mut Flow, org: &OrganisationView) {
    flow.heading("Organisation summary", 1);
    let page = flow.page_index();
    flow.anchors.insert(org.anchor.clone(), page);
    let name = if org.name.is_empty() {
        String::new()
    } else {
        format!(" ({})", org.name)
    };
    flow.paragraph(
        &format!(
            "Organisation {}{name}, management account {}. {}",
            org.id, org.management_account_id, org.note
        ),
        BODY,
    );
    let cols = columns(&[
        ("Account", 14.0, CELL_MONO, false),
        ("Name", 16.0, CELL, false),
        ("Collected", 30.0, CELL, false),
        ("Buckets", 8.0, CELL, true),
        ("Fail", 8.0, CELL, true),
        ("Error", 8.0, CELL, true),
        ("Excepted", 8.0, CELL, true),
        ("Pass", 8.0, CELL, true),
    ]);
    let rows: Vec<Vec<Cell>> = org
        .accounts
        .iter()
        .map(|a| {
            let [f, e, x, p] = counts_cells(&a.counts);
            vec![
                linked(a.id.clone(), &a.anchor),
                cell(a.name.clone()),
                cell(a.collected.clone()),
                cell(thousands(a.buckets)),
                f,
                e,
                x,
                p,
            ]
        })
        .collect();
    flow.table(&cols, &rows);
    flow.heading("Accounts by safeguard", 3);
    let cols = columns(&[
        ("Account", 14.0, CELL_MONO, false),
        ("Safeguard", 46.0, CELL, false),
        ("Fail", 10.0, CELL, true),
        ("Error", 10.0, CELL, true),
        ("Excepted", 10.0, CELL, true),
        ("Pass", 10.0, CELL, true),
    ]);
    let rows: Vec<Vec<Cell>> = org
        .accounts
        .iter()
        .flat_map(|a| {
            a.safeguards.iter().map(|s| {
                let [f, e, x, p] = counts_cells(&s.counts);
                vec![
                    cell(a.id.clone()),
                    cell(format!("{} {}", s.id, s.title)),
                    f,
                    e,
                    x,
                    p,
                ]
            })
        })
        .collect();
    flow.table(&cols, &rows);
    flow.paragraph(
        "A control that supports several safeguards is counted under each of them.",
        MUTED,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_configuration_changes_are_cut_and_say_where_the_rest_is() {
        let policy = format!(
            "(answer): absent -> {{\"ok\":{{\"Policy\":\"{}\"}}}}",
            "x".repeat(1000)
        );
        let many: Vec<String> = (0..15)
            .map(|i| format!("/ok/Rules/{i}/Id: 1 -> 2"))
            .collect();
        let rows = config_rows(&[
            ConfigRow {
                bucket: "b".to_string(),
                operation: "GetBucketPolicy".to_string(),
                differences: vec![policy],
                before: "null".to_string(),
                after: String::new(),
            },
            ConfigRow {
                bucket: "b".to_string(),
                operation: "GetBucketLifecycleConfiguration".to_string(),
                differences: many,
                before: String::new(),
                after: String::new(),
            },
        ]);
        let texts: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(|c| c.text.as_str()).collect())
            .collect();
        assert_eq!(texts.len(), 1 + PDF_DIFFERENCES_LIMIT + 1);
        assert_eq!(texts[0][1], "GetBucketPolicy");
        assert_eq!(
            texts[0][2].chars().count(),
            PDF_DIFFERENCE_CHARS + " ... (cut; in full in changes-since-previous.json)".len()
        );
        assert!(texts[0][2].ends_with("... (cut; in full in changes-since-previous.json)"));
        assert_eq!(texts[1][..2], ["b", "GetBucketLifecycleConfiguration"]);
        assert_eq!(texts[2][..2], ["", ""]);
        assert_eq!(
            texts.last().unwrap()[2],
            "... and 3 more differences (see changes-since-previous.json)"
        );
    }
}
