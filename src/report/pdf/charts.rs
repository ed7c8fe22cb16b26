//! The pictures of report.pdf (`report::charts`), drawn as vector shapes
//! (`Draw` operations): filled rectangles and hatch lines (no images), the statuses told apart by
//! pattern (fail hatched, error cross-hatched, excepted dotted, pass plain, not applicable
//! white) as well as colour, and every number printed as text in or beside its shape. The
//! geometry is the model's (view box units), scaled to the page width.
//!
//! Only drawing helpers live here; text goes through the engine's `PageOps::text_at`.

use super::*;
use crate::report::charts::{BarChart, Charts, Matrix, BAR_W, BAR_X, CELL_X, NUMBERS_X, VIEW_W};

/// Page points per view box unit.
fn scale() -> f32 {
    CONTENT_W / VIEW_W as f32
}

fn x_of(units: f32) -> f32 {
    MARGIN_X + units * scale()
}

const BAR_H: f32 = 10.0;
const BAR_ROW: f32 = 13.5;
const CELL_ROW: f32 = 13.0;

const LABEL: Style = Style {
    font: Font::Regular,
    size: 7.0,
    color: (0.1, 0.1, 0.1),
};
const LABEL_MONO: Style = Style {
    font: Font::Mono,
    size: 6.3,
    color: (0.1, 0.1, 0.1),
};
const NUMBERS: Style = Style {
    font: Font::Regular,
    size: 6.5,
    color: (0.1, 0.1, 0.1),
};

/// Fill colour of a status's shapes.
fn fill_of(status: &str) -> (f32, f32, f32) {
    match status {
        "fail" => (0.69, 0.0, 0.13),
        "error" => (0.88, 0.65, 0.15),
        "excepted" => (0.62, 0.71, 0.85),
        "pass" => (0.81, 0.91, 0.84),
        "not_applicable" => (1.0, 1.0, 1.0),
        _ => (0.96, 0.96, 0.96),
    }
}

/// The style of a count drawn on a status's shape: white and bold on the dark fail pattern.
fn on(status: &str, size: f32) -> Style {
    if status == "fail" {
        Style {
            font: Font::Bold,
            size,
            color: (1.0, 1.0, 1.0),
        }
    } else {
        Style {
            font: Font::Regular,
            size,
            color: (0.0, 0.0, 0.0),
        }
    }
}

fn outline(page: &mut PageOps, [x, y, w, h]: [f32; 4], grey: f32) {
    let corners = vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
    page.path(corners, true, 0.4, grey);
}

/// Lines of slope `+1` (`rising`) or `-1` every `step` points, clipped to the rectangle.
fn hatch(page: &mut PageOps, [x, y, w, h]: [f32; 4], step: f32, rising: bool, grey: f32) {
    let mut offset = step;
    while offset < w + h {
        // The line u + v = offset (u across from the left, v up from the bottom), clipped.
        let (u0, v0) = if offset <= h {
            (0.0, offset)
        } else {
            (offset - h, h)
        };
        let (u1, v1) = if offset <= w {
            (offset, 0.0)
        } else {
            (w, offset - w)
        };
        let map = |u: f32, v: f32| {
            if rising {
                (x + u, y + h - v)
            } else {
                (x + u, y + v)
            }
        };
        page.path(vec![map(u0, v0), map(u1, v1)], false, 0.6, grey);
        offset += step;
    }
}

/// A status's pattern over a rectangle: fill, then hatch, cross-hatch or dots.
fn pattern(page: &mut PageOps, area: [f32; 4], status: &str) {
    page.rect(area, fill_of(status));
    match status {
        "fail" => hatch(page, area, 3.0, true, 0.25),
        "error" => {
            hatch(page, area, 3.5, true, 0.35);
            hatch(page, area, 3.5, false, 0.35);
        }
        "excepted" => {
            let [x, y, w, h] = area;
            let mut dy = 1.5;
            while dy + 0.9 < h {
                let mut dx = 1.5;
                while dx + 0.9 < w {
                    page.rect([x + dx, y + dy, 0.9, 0.9], (0.2, 0.22, 0.3));
                    dx += 3.0;
                }
                dy += 3.0;
            }
        }
        _ => {}
    }
    outline(page, area, 0.35);
}

/// `text` cut with `...` to fit `width`.
fn fit(text: &str, style: Style, width: f32) -> String {
    let text = printable(text);
    if style.font.text_width(&text, style.size) <= width {
        return text;
    }
    let mut cut: String = text.clone();
    while !cut.is_empty() && style.font.text_width(&format!("{cut}..."), style.size) > width {
        cut.pop();
    }
    format!("{cut}...")
}

fn centred(page: &mut PageOps, centre_x: f32, y: f32, text: &str, style: Style) {
    let w = style.font.text_width(text, style.size);
    page.text_at(centre_x - w / 2.0, y, text, style);
}

/// A count on a patterned shape: on a white box where the pattern is busy (error, excepted).
fn count_on(page: &mut PageOps, status: &str, centre_x: f32, y: f32, text: &str) {
    let style = on(status, 6.5);
    if matches!(status, "error" | "excepted") {
        let w = style.font.text_width(text, style.size);
        page.rect(
            [centre_x - w / 2.0 - 1.0, y - 1.6, w + 2.0, style.size + 1.0],
            (1.0, 1.0, 1.0),
        );
    }
    centred(page, centre_x, y, text, style);
}

/// The legend: one swatch per status with its pattern named.
fn legend(flow: &mut Flow) {
    flow.ensure(14.0);
    flow.y -= 12.0;
    let y = flow.y;
    let mut x = MARGIN_X;
    for (status, label) in [
        ("fail", "fail (hatched)"),
        ("error", "error: not assessed (cross-hatched)"),
        ("excepted", "excepted (dotted)"),
        ("pass", "pass (plain)"),
        ("not_applicable", "not applicable (white)"),
    ] {
        pattern(flow.page(), [x, y - 1.0, 16.0, 8.0], status);
        flow.page().text_at(x + 19.0, y, label, LABEL);
        x += 24.0 + LABEL.font.text_width(label, LABEL.size);
    }
    flow.y -= 6.0;
}

fn bar_chart(flow: &mut Flow, chart: &BarChart) {
    flow.heading(&chart.title, 3);
    flow.paragraph(&chart.note, MUTED);
    let s = scale();
    for bar in &chart.bars {
        flow.ensure(BAR_ROW);
        flow.y -= BAR_ROW;
        let base = flow.y;
        let label = fit(&bar.label, LABEL, (BAR_X as f32 - 6.0) * s);
        flow.page().text_at(MARGIN_X, base + 2.5, &label, LABEL);
        if !bar.anchor.is_empty() {
            let w = LABEL.font.text_width(&label, LABEL.size);
            flow.page().links.push((
                [MARGIN_X, base, w, BAR_H],
                LinkTarget::Anchor(bar.anchor.clone()),
            ));
        }
        let frame = [x_of(BAR_X as f32), base, BAR_W as f32 * s, BAR_H];
        outline(flow.page(), frame, 0.6);
        for seg in &bar.segments {
            let (sx, sw) = (
                seg.x.parse::<f32>().unwrap_or(0.0),
                seg.w.parse::<f32>().unwrap_or(0.0),
            );
            pattern(flow.page(), [x_of(sx), base, sw * s, BAR_H], &seg.status);
            if seg.labelled {
                count_on(
                    flow.page(),
                    &seg.status,
                    x_of(sx + sw / 2.0),
                    base + 2.6,
                    &thousands(seg.count),
                );
            }
        }
        if !bar.empty_note.is_empty() {
            let note = fit(&bar.empty_note, NUMBERS, BAR_W as f32 * s - 8.0);
            (flow.page()).text_at(x_of(BAR_X as f32) + 4.0, base + 2.5, &note, NUMBERS);
        }
        let numbers = fit(
            &bar.text,
            NUMBERS,
            (VIEW_W - NUMBERS_X) as f32 * s + MARGIN_X - 4.0,
        );
        flow.page()
            .text_at(x_of(NUMBERS_X as f32), base + 2.5, &numbers, NUMBERS);
    }
    flow.space(8.0);
}

fn matrix_heads(flow: &mut Flow, chart: &Matrix) {
    flow.ensure(12.0 + CELL_ROW);
    flow.y -= 10.0;
    let y = flow.y;
    let s = scale();
    for c in &chart.columns {
        let head = fit(&c.label, CELL_HEAD, c.w as f32 * s - 2.0);
        centred(
            flow.page(),
            x_of(c.x as f32 + c.w as f32 / 2.0),
            y,
            &head,
            CELL_HEAD,
        );
    }
    flow.y -= 3.0;
}

fn matrix(flow: &mut Flow, chart: &Matrix) {
    flow.heading(&chart.title, 3);
    flow.paragraph(&chart.note, MUTED);
    matrix_heads(flow, chart);
    let s = scale();
    for row in chart.lines().take(chart.pdf_rows) {
        if flow.y - CELL_ROW < BOTTOM {
            flow.new_page();
            matrix_heads(flow, chart);
        }
        flow.y -= CELL_ROW;
        let base = flow.y;
        let label = if row.ephi == "yes" {
            format!("[ePHI] {}", row.label)
        } else {
            row.label.clone()
        };
        let label = fit(&label, LABEL_MONO, CELL_X as f32 * s - 6.0);
        flow.page()
            .text_at(MARGIN_X, base + 3.5, &label, LABEL_MONO);
        for c in &row.cells {
            let area = [
                x_of(c.x as f32) + 0.8,
                base + 0.8,
                c.w as f32 * s - 1.6,
                CELL_ROW - 1.6,
            ];
            pattern(flow.page(), area, c.status);
            let text = fit(&c.label, on(c.status, 6.5), area[2] - 2.0);
            count_on(
                flow.page(),
                c.status,
                area[0] + area[2] / 2.0,
                base + 3.8,
                &text,
            );
        }
    }
    if !chart.pdf_rest.is_empty() {
        flow.space(3.0);
        flow.paragraph(&chart.pdf_rest, MUTED);
    }
    flow.space(8.0);
}

/// Every picture, in the model's order, under one heading.
pub(super) fn charts(flow: &mut Flow, charts: &Charts) {
    flow.heading("At a glance", 2);
    legend(flow);
    for chart in &charts.bars {
        bar_chart(flow, chart);
    }
    for chart in &charts.matrices {
        matrix(flow, chart);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hatching_stays_inside_its_rectangle() {
        for rising in [true, false] {
            let mut page = PageOps::default();
            let area = [100.0, 200.0, 37.0, 11.0];
            hatch(&mut page, area, 3.0, rising, 0.3);
            let mut lines = 0;
            for op in &page.graphics {
                if let Draw::Path { points, .. } = op {
                    lines += 1;
                    for &(x, y) in points {
                        assert!((100.0 - 1e-3..=137.0 + 1e-3).contains(&x), "x {x}");
                        assert!((200.0 - 1e-3..=211.0 + 1e-3).contains(&y), "y {y}");
                    }
                }
            }
            assert_eq!(lines, 15, "one line every 3 pt across 37 + 11");
        }
    }

    #[test]
    fn labels_that_do_not_fit_are_cut_visibly() {
        let cut = fit(&"riverside-".repeat(10), LABEL_MONO, 60.0);
        assert!(cut.ends_with("..."));
        assert!(LABEL_MONO.font.text_width(&cut, LABEL_MONO.size) <= 60.0);
        assert_eq!(fit("short", LABEL, 60.0), "short");
    }
}
