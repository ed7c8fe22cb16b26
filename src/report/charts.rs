//! The report's pictures (issue #18 item 1), as a model both renderers draw: report.html as
//! inline SVG (report-templates/charts.html), report.pdf as vector drawing (pdf/charts.rs).
//!
//! - status by 164.312 specification: one stacked bar per specification (fail, error,
//!   excepted, pass, not applicable), from the same counts as the summary's safeguard table;
//! - the bucket x control-family heat map: each in-scope bucket's worst status per family, ePHI
//!   buckets first, then failing ones, then the rest (the PDF shows the first
//!   [`PDF_HEATMAP_ROWS`] ePHI or failing ones and counts the others);
//! - with `--previous`: new failures, expired exceptions, still failing, fixed;
//! - for organisations: accounts x specifications.
//!
//! Every picture carries its numbers as text (each bar's counts beside it, each cell's count
//! in it) and tells statuses apart by pattern as well as colour, so it reads in greyscale.
//! Geometry for the SVG (in user units of a 720-wide view box) is computed here, so the
//! template only places what it is given; the PDF scales the same numbers to the page.

use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::buckets::BucketRows;
use super::model::{thousands, MatrixRow, OrganisationView, StatusCounts};
use super::previous::{PreviousView, CATEGORIES};
use crate::findings::{Status, Text};

/// The SVG view box width; every x below is in these units.
pub const VIEW_W: u32 = 720;
/// Where bars start, how wide they are, and where the numbers beside them start.
pub const BAR_X: u32 = 230;
pub const BAR_W: u32 = 230;
pub const NUMBERS_X: u32 = 470;
/// Height of one bar's row, and of one heat map row.
pub const ROW_H: u32 = 22;
/// Space above the first row (column heads) in the matrices.
pub const HEAD_H: u32 = 34;
/// Where matrix cells start (after the row label).
pub const CELL_X: u32 = 290;
/// The PDF lists at most this many heat map rows (ePHI and failing buckets first); the rest are
/// counted, and the HTML report and the inventory appendix list every bucket.
pub const PDF_HEATMAP_ROWS: usize = 30;

/// The statuses in drawing order, each with the label shown for it.
pub const STATUSES: [(Status, &str); 5] = [
    (Status::Fail, "fail"),
    (Status::Error, "error"),
    (Status::Excepted, "excepted"),
    (Status::Pass, "pass"),
    (Status::NotApplicable, "n/a"),
];

/// The pictures in reading order: the bar charts (status by specification, then, with
/// `--previous`, the comparison), then the matrices (the heat map, then, for organisations,
/// accounts x specifications). Each has its own `id` (`chart-…`).
#[derive(Debug, Clone, Serialize)]
pub struct Charts<'a> {
    pub geometry: Geometry,
    pub bars: Vec<BarChart>,
    pub matrices: Vec<Matrix<'a>>,
}

/// The constants above, for the template.
#[derive(Debug, Clone, Serialize)]
pub struct Geometry {
    pub view_w: u32,
    pub bar_x: u32,
    pub bar_w: u32,
    pub numbers_x: u32,
}

/// Horizontal bars, stacked by status or one value each.
#[derive(Debug, Clone, Serialize)]
pub struct BarChart {
    pub id: String,
    pub title: String,
    pub note: String,
    /// The view box height.
    pub height: u32,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// The specification id (or the category of the trend chart).
    pub key: String,
    pub label: String,
    /// Where the bar's subject is detailed (empty: nowhere).
    pub anchor: String,
    pub y: u32,
    pub total: usize,
    pub segments: Vec<Segment>,
    /// The numbers beside the bar: `fail 3, error 1, excepted 0, pass 20, n/a 2`.
    pub text: String,
    /// Written inside a bar with no findings, so an empty bar never reads as a clean one
    /// (empty when the bar has findings).
    pub empty_note: String,
}

/// What an empty specification bar says: no control judged it (see the coverage table).
const NO_FINDINGS: &str = "no findings: see the 164.312 coverage table";

#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    /// A status (`fail` … `not_applicable`), or a trend category's pattern.
    pub status: String,
    pub count: usize,
    /// x and width in view box units, one decimal.
    pub x: String,
    pub w: String,
    /// Whether the count fits inside the segment (it is beside the bar in any case).
    pub labelled: bool,
    pub label_x: String,
}

/// Rows x columns, each cell the worst status of its findings with their counts.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix<'a> {
    pub id: String,
    pub title: String,
    pub note: String,
    pub height: u32,
    pub columns: Vec<Column>,
    /// The rows, read with [`Matrix::lines`].
    #[serde(skip)]
    pub rows: Lines<'a>,
    /// The PDF's note on the rows it leaves out (empty when it shows them all).
    pub pdf_rest: String,
    /// How many rows the PDF shows.
    pub pdf_rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub key: Text,
    /// The head as drawn (a specification without `164.312`).
    pub label: String,
    pub x: u32,
    pub w: u32,
}

/// A matrix's rows: made whole (accounts), or a bucket's each, made when it is drawn (the heat
/// map has one per in-scope bucket: `report::buckets`).
#[derive(Debug, Clone)]
pub enum Lines<'a> {
    Made(Vec<MatrixLine>),
    Buckets(HeatmapLines<'a>),
}

/// The heat map's rows: which bucket each is, in drawing order, and each control's column.
#[derive(Debug, Clone)]
pub struct HeatmapLines<'a> {
    buckets: BucketRows<'a>,
    order: Vec<u32>,
    column_of: BTreeMap<&'a str, usize>,
}

impl Matrix<'_> {
    /// How many rows the matrix has.
    pub fn len(&self) -> usize {
        match &self.rows {
            Lines::Made(rows) => rows.len(),
            Lines::Buckets(lines) => lines.order.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `n`.
    pub fn line(&self, n: usize) -> MatrixLine {
        match &self.rows {
            Lines::Made(rows) => rows[n].clone(),
            Lines::Buckets(lines) => lines.line(&self.columns, n),
        }
    }

    /// The rows in order.
    pub fn lines(&self) -> impl Iterator<Item = MatrixLine> + '_ {
        (0..self.len()).map(|n| self.line(n))
    }
}

impl HeatmapLines<'_> {
    /// Row `n`: its bucket's findings counted per column (control family).
    fn line(&self, columns: &[Column], n: usize) -> MatrixLine {
        let i = self.order[n] as usize;
        let (account, b) = self.buckets.bucket(i);
        let mut counts = vec![StatusCounts::default(); columns.len()];
        let mut total = StatusCounts::default();
        for f in self.buckets.findings(i) {
            let column = self.column_of.get(f.control().as_str()).copied();
            // A control outside the catalog counts under "other", the last column.
            let column = column.unwrap_or(columns.len() - 1);
            counts[column].add(f.status());
            total.add(f.status());
        }
        MatrixLine {
            label: self.buckets.label(i),
            account: account.id.clone(),
            bucket: b.name.clone(),
            ephi: if b.holds_ephi() { "yes" } else { "no" }.to_string(),
            y: HEAD_H + n as u32 * ROW_H,
            cells: cells(columns, |c| counts[c].clone()),
            text: counts_text(&total),
            counts: total,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixLine {
    pub label: String,
    pub account: String,
    /// The bucket (heat map) or empty (accounts).
    pub bucket: String,
    /// `yes`/`no` for buckets, empty for accounts.
    pub ephi: String,
    pub y: u32,
    pub cells: Vec<Cell>,
    /// The row's counts over every column.
    pub counts: StatusCounts,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Its column's key, shared with the column (a heat map has a cell per bucket and family).
    pub key: Text,
    /// The worst status among the cell's findings, or `none`.
    pub status: &'static str,
    pub counts: StatusCounts,
    /// `3 fail`, `1 error`, `1 exc.`, `pass`, `n/a` or `-`.
    pub label: Cow<'static, str>,
    pub x: u32,
    pub w: u32,
}

fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

pub(crate) fn count_of(c: &StatusCounts, status: Status) -> usize {
    match status {
        Status::Fail => c.fail,
        Status::Error => c.error,
        Status::Excepted => c.excepted,
        Status::Pass => c.pass,
        Status::NotApplicable => c.not_applicable,
    }
}

/// `fail 3, error 1, excepted 0, pass 20, n/a 2`.
pub fn counts_text(c: &StatusCounts) -> String {
    STATUSES
        .iter()
        .map(|(s, label)| format!("{label} {}", thousands(count_of(c, *s))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Segments of `values` (pattern key, count) across [`BAR_W`], scaled so `scale` fills it.
fn segments(values: &[(&str, usize)], scale: usize) -> Vec<Segment> {
    let mut x = BAR_X as f64;
    let mut out = Vec::new();
    for (status, count) in values {
        if *count == 0 {
            continue;
        }
        let w = BAR_W as f64 * *count as f64 / scale.max(1) as f64;
        // 7 units per digit at the 10-unit font, plus padding.
        let digits = thousands(*count).len() as f64;
        out.push(Segment {
            status: status.to_string(),
            count: *count,
            x: one_decimal(x),
            w: one_decimal(w),
            labelled: w >= digits * 6.5 + 4.0,
            label_x: one_decimal(x + w / 2.0),
        });
        x += w;
    }
    out
}

fn status_segments(c: &StatusCounts) -> Vec<Segment> {
    let values: Vec<(&str, usize)> = STATUSES
        .iter()
        .map(|(s, _)| (s.as_str(), count_of(c, *s)))
        .collect();
    segments(&values, c.total)
}

/// The status-by-specification chart, from the summary's safeguard rows.
// spec list: see coverage (the rows follow the catalog's safeguard list).
fn spec_chart(matrix: &[MatrixRow]) -> BarChart {
    let bars: Vec<Bar> = matrix
        .iter()
        .enumerate()
        .map(|(i, m)| Bar {
            key: m.id.clone(),
            label: format!("{} {}", m.id, m.title),
            anchor: m.anchor.clone(),
            y: HEAD_H + i as u32 * ROW_H,
            total: m.counts.total,
            segments: status_segments(&m.counts),
            text: counts_text(&m.counts),
            empty_note: if m.counts.total == 0 {
                NO_FINDINGS.to_string()
            } else {
                String::new()
            },
        })
        .collect();
    BarChart {
        id: "chart-specs".to_string(),
        title: "Findings by 164.312 specification".to_string(),
        note: "Each bar is one specification's findings, by status (bars are each scaled to their own total; the counts are beside them). A control that supports several specifications is counted under each.".to_string(),
        height: HEAD_H + bars.len() as u32 * ROW_H + 6,
        bars,
    }
}

/// The worst status of a cell, by the report's order (fail first), or `none`.
fn worst(c: &StatusCounts) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| count_of(c, *s) > 0)
        .map(|(s, _)| s.as_str())
        .unwrap_or("none")
}

fn cell_label(c: &StatusCounts) -> Cow<'static, str> {
    match worst(c) {
        "fail" => format!("{} fail", thousands(c.fail)).into(),
        "error" => format!("{} error", thousands(c.error)).into(),
        "excepted" => format!("{} exc.", thousands(c.excepted)).into(),
        "pass" => "pass".into(),
        "not_applicable" => "n/a".into(),
        _ => "-".into(),
    }
}

/// A row's cells, `counts` giving each column's (by its number).
fn cells(columns: &[Column], counts: impl Fn(usize) -> StatusCounts) -> Vec<Cell> {
    (columns.iter().enumerate())
        .map(|(n, col)| {
            let c = counts(n);
            Cell {
                key: col.key.clone(),
                status: worst(&c),
                label: cell_label(&c),
                counts: c,
                x: col.x,
                w: col.w,
            }
        })
        .collect()
}

/// Columns spread over the width right of the labels.
fn spread(keys: Vec<(String, String)>) -> Vec<Column> {
    let n = keys.len().max(1) as u32;
    let w = (VIEW_W - CELL_X) / n;
    keys.into_iter()
        .enumerate()
        .map(|(i, (key, label))| Column {
            key: Text::from(key),
            label,
            x: CELL_X + i as u32 * w,
            w,
        })
        .collect()
}

/// The bucket x control-family heat map: every in-scope bucket, ePHI ones first, then those
/// with failures or errors (most failures first), then the rest, each group by name. Its rows
/// are made when drawn ([`HeatmapLines`]); here they are only put in order.
fn heatmap<'a>(buckets: &BucketRows<'a>) -> Matrix<'a> {
    let audit = buckets.audit;
    let family_of: BTreeMap<&str, &str> = (audit.catalog.controls.iter())
        .map(|c| (c.id.as_str(), c.family.as_str()))
        .collect();
    // Each in-scope bucket with what orders it: its rank, its failures.
    let mut used_families: BTreeSet<&str> = BTreeSet::new();
    let mut other = false;
    let mut keyed: Vec<(u8, usize, u32)> = Vec::new();
    for i in 0..buckets.len() {
        let mut total = StatusCounts::default();
        for f in buckets.findings(i) {
            match family_of.get(f.control().as_str()) {
                Some(family) => used_families.insert(family),
                None => std::mem::replace(&mut other, true),
            };
            total.add(f.status());
        }
        let (_, b) = buckets.bucket(i);
        if !b.in_scope {
            continue;
        }
        let rank = match (b.holds_ephi(), total.fail + total.error > 0) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        keyed.push((rank, total.fail, i as u32));
    }
    // Families in catalog order, then any other.
    let mut families: Vec<&str> = Vec::new();
    for c in &audit.catalog.controls {
        if used_families.contains(c.family.as_str()) && !families.contains(&c.family.as_str()) {
            families.push(&c.family);
        }
    }
    if other {
        families.push("other");
    }
    let columns = spread(
        families
            .iter()
            .map(|f| (f.to_string(), f.to_string()))
            .collect(),
    );
    let column_of: BTreeMap<&str, usize> = (family_of.iter())
        .filter_map(|(control, family)| {
            let column = families.iter().position(|f| f == family)?;
            Some((*control, column))
        })
        .collect();
    let label = |i: u32| (buckets.label_parts(i as usize).into_iter()).flat_map(str::bytes);
    keyed.sort_by(|a, b| {
        (a.0.cmp(&b.0))
            .then(b.1.cmp(&a.1))
            .then_with(|| label(a.2).cmp(label(b.2)))
    });
    let shown = (keyed.iter())
        .take_while(|k| k.0 < 2)
        .count()
        .min(PDF_HEATMAP_ROWS);
    let ephi_count = keyed.iter().filter(|k| k.0 == 0).count();
    let pdf_rest = match keyed.len() - shown {
        0 => String::new(),
        n => format!(
            "{} more in-scope buckets are not drawn here ({} of them with a failure or error): report.html draws every bucket, and Appendix A lists each bucket's counts.",
            thousands(n),
            thousands(keyed[shown..].iter().filter(|k| k.0 < 2).count())
        ),
    };
    Matrix {
        id: "chart-heatmap".to_string(),
        title: "Buckets by control family".to_string(),
        note: format!(
            "Each in-scope bucket ({} hold ePHI, marked ePHI and listed first; then buckets with failures or errors), each cell the worst status of the bucket's findings in that control family, with how many. Appendix A gives each bucket's counts of every status.",
            thousands(ephi_count)
        ),
        height: HEAD_H + keyed.len() as u32 * ROW_H + 6,
        columns,
        pdf_rows: shown,
        pdf_rest,
        rows: Lines::Buckets(HeatmapLines {
            buckets: buckets.clone(),
            order: keyed.into_iter().map(|k| k.2).collect(),
            column_of,
        }),
    }
}

/// This review against the previous one: from the "Changes since last review" counts and this
/// review's failures.
fn trend(previous: &PreviousView, fail_now: usize) -> BarChart {
    let count = |label: &str| {
        previous
            .counts
            .iter()
            .find(|c| c.label == label)
            .map(|c| c.count)
            .unwrap_or(0)
    };
    let (new, fixed, expired) = (
        count(CATEGORIES[0]),
        count(CATEGORIES[1]),
        count(CATEGORIES[3]),
    );
    let still = fail_now.saturating_sub(new + expired);
    // Drawn as what they are now: failing (hatched), or fixed (plain).
    let values = [
        ("New failures", "fail", new),
        ("Exceptions expired (now failing)", "fail", expired),
        ("Still failing", "fail", still),
        ("Fixed failures", "pass", fixed),
    ];
    let scale = values.iter().map(|v| v.2).max().unwrap_or(0);
    let bars: Vec<Bar> = values
        .iter()
        .enumerate()
        .map(|(i, (label, pattern, n))| Bar {
            key: label.to_string(),
            label: label.to_string(),
            anchor: "changes-since-previous".to_string(),
            y: HEAD_H + i as u32 * ROW_H,
            total: *n,
            segments: segments(&[(pattern, *n)], scale),
            text: thousands(*n),
            empty_note: String::new(),
        })
        .collect();
    BarChart {
        id: "chart-trend".to_string(),
        title: "This review against the previous one".to_string(),
        note: format!(
            "Failing findings now: {}; of them new since the previous review, failing again after an exception expired, or failing in both. Fixed: failing then, passing, excepted or not applicable now.",
            thousands(fail_now)
        ),
        height: HEAD_H + bars.len() as u32 * ROW_H + 6,
        bars,
    }
}

/// Accounts x specifications, from the organisation summary's per-account counts.
fn accounts(org: &OrganisationView) -> Matrix<'static> {
    let first = org.accounts.first();
    let keys: Vec<(String, String)> = first
        .map(|a| {
            a.safeguards
                .iter()
                .map(|s| {
                    let short = s.id.strip_prefix("164.312").unwrap_or(&s.id).to_string();
                    (s.id.clone(), short)
                })
                .collect()
        })
        .unwrap_or_default();
    let columns = spread(keys);
    let rows: Vec<MatrixLine> = org
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let counts: BTreeMap<String, StatusCounts> = a
                .safeguards
                .iter()
                .map(|s| (s.id.clone(), s.counts.clone()))
                .collect();
            MatrixLine {
                label: if a.name.is_empty() {
                    a.id.clone()
                } else {
                    format!("{} {}", a.id, a.name)
                },
                account: a.id.clone(),
                bucket: String::new(),
                ephi: String::new(),
                y: HEAD_H + i as u32 * ROW_H,
                cells: cells(&columns, |n| {
                    counts
                        .get(columns[n].key.as_str())
                        .cloned()
                        .unwrap_or_default()
                }),
                text: counts_text(&a.counts),
                counts: a.counts.clone(),
            }
        })
        .collect();
    Matrix {
        id: "chart-accounts".to_string(),
        title: "Accounts by 164.312 specification".to_string(),
        note: "Each account's findings per specification: the worst status, with how many. The organisation summary gives each account's counts of every status.".to_string(),
        height: HEAD_H + rows.len() as u32 * ROW_H + 6,
        columns,
        pdf_rows: rows.len(),
        pdf_rest: String::new(),
        rows: Lines::Made(rows),
    }
}

impl<'a> Charts<'a> {
    /// The pictures of an audit (its buckets: `report::buckets`), from the summary's safeguard
    /// rows and the organisation view the tables show; the trend is added by
    /// [`Charts::with_previous`].
    pub fn build(
        buckets: &BucketRows<'a>,
        matrix: &[MatrixRow],
        organisation: Option<&OrganisationView>,
    ) -> Charts<'a> {
        Charts {
            geometry: Geometry {
                view_w: VIEW_W,
                bar_x: BAR_X,
                bar_w: BAR_W,
                numbers_x: NUMBERS_X,
            },
            bars: vec![spec_chart(matrix)],
            matrices: [Some(heatmap(buckets)), organisation.map(accounts)]
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    /// Adds the comparison with the previous review (`fail_now`: this review's failures).
    pub fn with_previous(&mut self, previous: &PreviousView, fail_now: usize) {
        self.bars.truncate(1);
        self.bars.push(trend(previous, fail_now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(fail: usize, error: usize, excepted: usize, pass: usize, na: usize) -> StatusCounts {
        StatusCounts {
            fail,
            error,
            excepted,
            pass,
            not_applicable: na,
            total: fail + error + excepted + pass + na,
        }
    }

    #[test]
    fn a_bar_is_its_statuses_in_order_and_fills_its_width() {
        let segs = status_segments(&counts(3, 1, 0, 20, 2));
        let statuses: Vec<&str> = segs.iter().map(|s| s.status.as_str()).collect();
        assert_eq!(statuses, ["fail", "error", "pass", "not_applicable"]);
        let last = segs.last().unwrap();
        let end = last.x.parse::<f64>().unwrap() + last.w.parse::<f64>().unwrap();
        assert!((end - (BAR_X + BAR_W) as f64).abs() < 0.2, "{end}");
        assert_eq!(segs.iter().map(|s| s.count).sum::<usize>(), 26);
        assert!(
            segs[2].labelled && !segs[1].labelled,
            "1 of 26 is too thin for its count"
        );
        assert!(status_segments(&StatusCounts::default()).is_empty());
    }

    #[test]
    fn a_cell_names_its_worst_status_with_how_many() {
        assert_eq!(cell_label(&counts(2, 5, 1, 9, 0)), "2 fail");
        assert_eq!(cell_label(&counts(0, 5, 1, 9, 0)), "5 error");
        assert_eq!(cell_label(&counts(0, 0, 1, 9, 0)), "1 exc.");
        assert_eq!(cell_label(&counts(0, 0, 0, 9, 1)), "pass");
        assert_eq!(cell_label(&counts(0, 0, 0, 0, 1)), "n/a");
        assert_eq!(cell_label(&StatusCounts::default()), "-");
        assert_eq!(worst(&StatusCounts::default()), "none");
        assert_eq!(
            counts_text(&counts(1200, 0, 0, 3, 0)),
            "fail 1,200, error 0, excepted 0, pass 3, n/a 0"
        );
    }
}
