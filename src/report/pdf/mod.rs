//! `report.pdf`: the auditor's document, laid out by hand and written as it is laid out. Its fonts
//! are DejaVu Sans, Sans Bold and Sans Mono, shipped in `assets/fonts/` and embedded as subsets
//! (`fonts.rs`: widths, coverage, and the visible `<U+XXXX>` escape for what they lack); the
//! PDF/A-2b identification (XMP, sRGB output intent, language) is `archive.rs`; the file's
//! syntax is `file.rs` and its structure (pages, links, outline, fonts) `document.rs`.
//!
//! The layout is a small flow engine: paragraphs and tables are wrapped with the fonts' own
//! character widths (columns never narrower than their widest word, long identifiers broken at
//! `/`, `#` and the like); a table row that does not fit moves to the next page (a row taller
//! than a page is split across pages) and the header row is repeated on every page. Every page
//! gets a header (account, collection and generation times) and a footer (snapshot digest,
//! "page X of Y", the number added once the page count is known). Body pages are laid out and
//! written first, so the table of contents can give page numbers; no page is held once the
//! next has started, so memory does not grow with the document. The sections are child modules
//! (`sections.rs` and one file per section of its own), which see the engine's private items.
//!
//! Determinism: the same model gives the same bytes. Nothing is random and nothing reads the
//! clock: the trailer's /ID derives from the snapshot digest and the generation time.

use super::buckets::BucketRows;
use super::model::{
    thousands, ChangesView, ControlDetail, ControlRow, ExceptionView, FindingGroup, KeyRow,
    MethodView, OrganisationView, PolicySection, ReportModel, SafeguardSection, StatusCounts,
    SummaryView, PDF_GROUP_LIMIT,
};
use super::previous::{ConfigRow, PreviousView, CATEGORIES};
use super::risk::RiskView;
use super::ReportError;

mod access;
mod archive;
mod charts;
mod coverage;
mod custody;
mod document;
mod file;
mod fonts;
mod sections;
mod unread;

const PAGE_W: f32 = 612.0; // US Letter
const PAGE_H: f32 = 792.0;
const MARGIN_X: f32 = 42.0;
const TOP: f32 = PAGE_H - 58.0; // first baseline area below the running header
const BOTTOM: f32 = 52.0; // above the running footer
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const CELL_PAD: f32 = 3.0;

/// What the method appendix says about the fonts and the characters they lack.
const FONT_NOTE: &str = "Text in this PDF: it is set in DejaVu Sans and DejaVu Sans Mono, embedded in the file (they cover Latin, Greek and Cyrillic, among others). A character outside them (a Chinese or Japanese character, an emoji) is printed as its Unicode code point, <U+XXXX> (for example <U+6771> for the first character of \"Tokyo\" in Japanese), never replaced or dropped; report.html and findings.json show the text itself.";

/// The rendered document.
pub struct Pdf {
    /// The file's size.
    pub bytes: u64,
    pub pages: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    /// The font's resource name in the PDF (its embedded subset is registered under it).
    fn id(self) -> &'static str {
        match self {
            Font::Regular => "FSans",
            Font::Bold => "FSansBold",
            Font::Mono => "FSansMono",
        }
    }

    const ALL: [Font; 3] = [Font::Regular, Font::Bold, Font::Mono];

    /// The font's place in [`Font::ALL`] (and in anything kept per font, in that order).
    fn index(self) -> usize {
        Font::ALL
            .iter()
            .position(|&f| f == self)
            .expect("every font is in ALL")
    }

    /// Advance width of `c` as printed, in thousandths of an em, from the embedded font itself
    /// (a character the font lacks is as wide as its `<U+XXXX>` escape).
    fn width(self, c: char) -> f32 {
        fonts::char_width(self, c)
    }

    fn text_width(self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.width(c)).sum::<f32>() * size / 1000.0
    }
}

/// `text` as printed in the regular face: characters outside the embedded fonts (and control
/// characters) become a visible `<U+XXXX>`, never `?`.
fn printable(text: &str) -> String {
    fonts::printable(text, Font::Regular)
}

/// Greedy word wrap by measured width; a word wider than the line (a long bucket name, ARN or
/// policy) is broken between characters so it never overflows.
fn wrap(text: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let text = fonts::printable(text, font);
    let space = font.width(' ') * size / 1000.0;
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0.0f32;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word_w = font.text_width(word, size);
        if !line.is_empty() && line_w + space + word_w <= width {
            line.push(' ');
            line.push_str(word);
            line_w += space + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        if word_w <= width {
            line.push_str(word);
            line_w = word_w;
            continue;
        }
        // Too wide for a line: break after the last '/', '-', '.', '#', '_' or ':' that fits
        // (paths and names stay readable), else between characters.
        let mut rest: Vec<char> = word.chars().collect();
        while !rest.is_empty() {
            let mut fit = 0;
            let mut w = 0.0;
            for &c in &rest {
                let cw = font.width(c) * size / 1000.0;
                if w + cw > width && fit > 0 {
                    break;
                }
                w += cw;
                fit += 1;
            }
            if fit < rest.len() {
                fit = break_point(&rest[..fit]);
            }
            let piece: String = rest.drain(..fit).collect();
            if rest.is_empty() {
                line_w = font.text_width(&piece, size);
                line = piece;
            } else {
                lines.push(piece);
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Where to break an identifier too long for its line, given the `fit` characters that fit: after
/// a `/` or `#` past the first third (a JSON pointer or path stays readable), else after any of
/// `-._:,;=&?` in the last two thirds, else before a capital that follows a small letter
/// (`PutBucket|PublicAccessBlock`), else between characters. Returns how many characters to keep.
fn break_point(fit: &[char]) -> usize {
    let n = fit.len();
    let after = |set: &str, from: usize| {
        fit.iter()
            .rposition(|c| set.contains(*c))
            .map(|at| at + 1)
            .filter(|&at| at >= from && at < n)
    };
    after("/#", n / 3)
        .or_else(|| after("/#-._:,;=&?", n / 3))
        .or_else(|| {
            (n / 3..n)
                .rev()
                .find(|&i| i > 0 && fit[i].is_uppercase() && fit[i - 1].is_lowercase())
        })
        .unwrap_or(n)
}

/// The web addresses in `text` (references print as `Title <https://...>`).
fn urls_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "<>\"".contains(c))
        .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(|w| w.trim_end_matches([';', ',', ')', '.']).to_string())
        .collect()
}

/// Byte spans of one wrapped line that belong to a URL of `urls`, each with its full address:
/// a URL that starts on the line, or the rest of one a previous line broke (`open`).
fn url_spans(
    line: &str,
    urls: &[String],
    open: &mut Option<String>,
) -> Vec<(usize, usize, String)> {
    let mut spans = Vec::new();
    let end_of = |from: usize| {
        line[from..]
            .find(|c: char| c.is_whitespace() || "<>\"".contains(c))
            .map_or(line.len(), |e| from + e)
    };
    if let Some((url, done)) = open.take().and_then(|u| {
        let end = end_of(0);
        let rest = &line[..end];
        (!rest.is_empty() && u.contains(rest)).then(|| (u.clone(), u.ends_with(rest)))
    }) {
        let end = end_of(0);
        spans.push((0, end, url.clone()));
        if !done {
            *open = Some(url);
        }
    }
    let mut from = 0;
    while let Some(at) = line[from..].find("http").map(|a| from + a) {
        let end = end_of(at);
        let piece = line[at..end].trim_end_matches([';', ',', ')', '.']);
        if let Some(url) = urls
            .iter()
            .find(|u| u.starts_with(piece) && piece.len() >= 8)
        {
            spans.push((at, at + piece.len(), url.clone()));
            if piece.len() < url.len() && end == line.len() {
                *open = Some(url.clone());
            }
        }
        from = end.max(at + 4);
    }
    spans
}

#[derive(Clone, Copy)]
struct Style {
    font: Font,
    size: f32,
    color: (f32, f32, f32),
}

const BODY: Style = Style {
    font: Font::Regular,
    size: 9.0,
    color: (0.1, 0.1, 0.1),
};
const MUTED: Style = Style {
    font: Font::Regular,
    size: 8.0,
    color: (0.35, 0.35, 0.35),
};
const CELL: Style = Style {
    font: Font::Regular,
    size: 7.5,
    color: (0.1, 0.1, 0.1),
};
const CELL_MONO: Style = Style {
    font: Font::Mono,
    size: 6.8,
    color: (0.1, 0.1, 0.1),
};
const CELL_HEAD: Style = Style {
    font: Font::Bold,
    size: 7.5,
    color: (0.0, 0.0, 0.0),
};
const SMALL_CELL: Style = Style {
    font: Font::Regular,
    size: 6.8,
    color: (0.1, 0.1, 0.1),
};
const MONO: Style = Style {
    font: Font::Mono,
    size: 7.5,
    color: (0.1, 0.1, 0.1),
};

fn status_style(status: &str) -> Style {
    let color = match status {
        "fail" => (0.69, 0.0, 0.13),
        "error" => (0.54, 0.35, 0.0),
        "excepted" => (0.23, 0.36, 0.55),
        "pass" => (0.12, 0.42, 0.2),
        _ => (0.35, 0.35, 0.35),
    };
    Style {
        font: Font::Bold,
        size: 7.0,
        color,
    }
}

fn leading(style: Style) -> f32 {
    style.size * 1.28
}

struct Column {
    header: &'static str,
    width: f32,
    style: Style,
    right: bool,
}

fn columns(spec: &[(&'static str, f32, Style, bool)]) -> Vec<Column> {
    let total: f32 = spec.iter().map(|c| c.1).sum();
    spec.iter()
        .map(|&(header, w, style, right)| Column {
            header,
            width: w / total * CONTENT_W,
            style,
            right,
        })
        .collect()
}

/// A column never gets narrower than its widest word (a status, an API name, a header) needs,
/// up to this share of the page; longer identifiers break at `/` and the like (see `wrap`).
const FIT_CAP: f32 = 0.25 * CONTENT_W;

/// The widest space-separated word of `text` in `style`, plus the cell padding.
fn widest_word(text: &str, style: Style) -> f32 {
    fonts::printable(text, style.font)
        .split(' ')
        .map(|w| style.font.text_width(w, style.size))
        .fold(0.0, f32::max)
        + 2.0 * CELL_PAD
        + 0.5
}

/// `cols` with widths adjusted to their content: a column narrower than its widest word (capped
/// at [`FIT_CAP`]) is widened, the width taken from the others in proportion to their room to
/// spare, so a status word or an API name never splits mid-word.
fn fit_columns<R: AsRef<[Cell]>>(cols: &[Column], rows: impl Iterator<Item = R>) -> Vec<Column> {
    let mut need: Vec<f32> = cols
        .iter()
        .map(|c| widest_word(c.header, CELL_HEAD))
        .collect();
    for row in rows {
        let row = row.as_ref();
        if row.len() != cols.len() {
            continue;
        }
        for ((n, c), cell) in need.iter_mut().zip(cols).zip(row) {
            *n = n.max(widest_word(&cell.text, cell.style.unwrap_or(c.style)));
        }
    }
    let need: Vec<f32> = need.into_iter().map(|n| n.min(FIT_CAP)).collect();
    let deficit: f32 = cols
        .iter()
        .zip(&need)
        .map(|(c, n)| (n - c.width).max(0.0))
        .sum();
    let spare: f32 = cols
        .iter()
        .zip(&need)
        .map(|(c, n)| (c.width - n).max(0.0))
        .sum();
    let widths: Vec<f32> = if deficit <= 0.0 {
        cols.iter().map(|c| c.width).collect()
    } else if spare > deficit {
        cols.iter()
            .zip(&need)
            .map(|(c, &n)| {
                if c.width < n {
                    n
                } else {
                    c.width - deficit * (c.width - n) / spare
                }
            })
            .collect()
    } else {
        // Not enough room for every word: the smaller needs (a status, a time, an API name) are
        // met in full and the largest (long identifiers, which break at `/` and the like) share
        // what is left equally.
        let mut sorted = need.clone();
        sorted.sort_by(f32::total_cmp);
        let (mut rest, mut left) = (CONTENT_W, sorted.len() as f32);
        let mut level = f32::MAX;
        for n in sorted {
            if n * left > rest {
                level = rest / left;
                break;
            }
            rest -= n;
            left -= 1.0;
        }
        need.iter().map(|n| n.min(level)).collect()
    };
    cols.iter()
        .zip(widths)
        .map(|(c, width)| Column {
            header: c.header,
            width,
            style: c.style,
            right: c.right,
        })
        .collect()
}

/// One cell's content: text and an optional style override (status colours).
struct Cell {
    text: String,
    style: Option<Style>,
    /// An anchor (a control's detail) the cell links to.
    link: Option<String>,
}

fn cell(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        style: None,
        link: None,
    }
}

fn styled(text: impl Into<String>, style: Style) -> Cell {
    Cell {
        text: text.into(),
        style: Some(style),
        link: None,
    }
}

fn linked(text: impl Into<String>, anchor: &str) -> Cell {
    Cell {
        text: text.into(),
        style: Some(Style {
            color: (0.1, 0.25, 0.55),
            ..CELL
        }),
        link: Some(anchor.to_string()),
    }
}

/// A clickable area: (x, y, width, height) and where it goes.
enum LinkTarget {
    /// A body anchor, resolved to its page once the layout is done.
    Anchor(String),
    /// A 0-based index into the body pages.
    BodyPage(usize),
    /// A web address (a reference), opened by the reader's browser.
    Uri(String),
}

/// A drawing operation, painted below the page's text.
#[derive(Debug, PartialEq)]
enum Draw {
    /// The fill colour (RGB, 0 to 1).
    Fill((f32, f32, f32)),
    /// The stroke colour.
    Stroke((f32, f32, f32)),
    /// The stroke width, in points.
    Width(f32),
    /// A filled rectangle: x, y, width, height.
    Rect([f32; 4]),
    /// A stroked line through `points`, back to the first when `closed`.
    Path {
        points: Vec<(f32, f32)>,
        closed: bool,
    },
}

/// A text operation: the font and colour hold until changed.
enum Text {
    Font(Font, f32),
    Color((f32, f32, f32)),
    /// Text at a baseline position, already printable in the current font.
    Show(f32, f32, String),
}

/// One page while it is laid out; written to the file (and dropped) when the next one starts.
#[derive(Default)]
struct PageOps {
    graphics: Vec<Draw>,
    text: Vec<Text>,
    font: Option<(Font, u32)>,
    color: Option<(u32, u32, u32)>,
    links: Vec<([f32; 4], LinkTarget)>,
}

impl PageOps {
    fn text_at(&mut self, x: f32, y: f32, text: &str, style: Style) {
        if text.is_empty() {
            return;
        }
        let text = fonts::printable(text, style.font);
        let key = (style.font, (style.size * 100.0) as u32);
        if self.font != Some(key) {
            self.text.push(Text::Font(style.font, style.size));
            self.font = Some(key);
        }
        let c = style.color;
        let ckey = (
            (c.0 * 1000.0) as u32,
            (c.1 * 1000.0) as u32,
            (c.2 * 1000.0) as u32,
        );
        if self.color != Some(ckey) {
            self.text.push(Text::Color(c));
            self.color = Some(ckey);
        }
        self.text.push(Text::Show(x, y, text));
    }

    /// A filled rectangle (x, y, width, height).
    fn rect(&mut self, area: [f32; 4], colour: (f32, f32, f32)) {
        self.graphics.push(Draw::Fill(colour));
        self.graphics.push(Draw::Rect(area));
    }

    /// A grey line `width` points wide through `points`, back to the first when `closed`.
    fn path(&mut self, points: Vec<(f32, f32)>, closed: bool, width: f32, grey: f32) {
        self.graphics.push(Draw::Stroke((grey, grey, grey)));
        self.graphics.push(Draw::Width(width));
        self.graphics.push(Draw::Path { points, closed });
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        self.rect([x, y, w, h], (grey, grey + 0.01, grey + 0.02));
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, grey: f32) {
        self.path(vec![(x1, y), (x2, y)], false, width, grey);
    }

    /// The page's content stream: the drawing, then the text. Glyphs are numbered by `used`
    /// as they are first printed.
    fn content(&self, used: &mut [fonts::Used; 3]) -> Vec<u8> {
        use file::num;
        use std::fmt::Write;
        // Writing to a String cannot fail: the results of `write!` are left unread.
        let mut out = String::with_capacity(64 * (self.graphics.len() + self.text.len()));
        let colour = |out: &mut String, (r, g, b): (f32, f32, f32), op: &str| {
            let _ = writeln!(out, "{} {} {} {op}", num(r), num(g), num(b));
        };
        for draw in &self.graphics {
            match draw {
                Draw::Fill(c) => colour(&mut out, *c, "rg"),
                Draw::Stroke(c) => colour(&mut out, *c, "RG"),
                Draw::Width(w) => {
                    let _ = writeln!(out, "{} w", num(*w));
                }
                Draw::Rect([x, y, w, h]) => {
                    let _ = writeln!(out, "{} {} {} {} re\nf", num(*x), num(*y), num(*w), num(*h));
                }
                Draw::Path { points, closed } => {
                    for (i, (x, y)) in points.iter().enumerate() {
                        let op = if i == 0 { "m" } else { "l" };
                        let _ = writeln!(out, "{} {} {op}", num(*x), num(*y));
                    }
                    out.push_str(if *closed { "h\nS\n" } else { "S\n" });
                }
            }
        }
        if self.text.is_empty() {
            return out.into_bytes();
        }
        out.push_str("BT\n");
        let mut font = Font::Regular;
        for text in &self.text {
            match text {
                Text::Font(f, size) => {
                    font = *f;
                    let _ = writeln!(out, "/{} {} Tf", f.id(), num(*size));
                }
                Text::Color(c) => colour(&mut out, *c, "rg"),
                Text::Show(x, y, s) => {
                    let _ = writeln!(out, "1 0 0 1 {} {} Tm", num(*x), num(*y));
                    used[font.index()].encode(s, &mut out);
                    out.push_str(" Tj\n");
                }
            }
        }
        out.push_str("ET\n");
        out.into_bytes()
    }
}

/// A heading for the table of contents and the outline.
struct TocEntry {
    title: String,
    level: u8,
    /// 0-based index into the body pages.
    page: usize,
}

/// Where a flow's finished pages go: the file (`document::Document`), or a list (the cover).
trait PageSink {
    fn page(&mut self, page: PageOps);
}

impl PageSink for Vec<PageOps> {
    fn page(&mut self, page: PageOps) {
        self.push(page);
    }
}

/// What a flow leaves once its pages are gone: the headings and anchors, by page.
struct Laid {
    toc: Vec<TocEntry>,
    /// Anchor → 0-based page of the flow, for links.
    anchors: std::collections::BTreeMap<String, usize>,
}

/// Pages laid out one after another; each is handed to the sink as the next one starts.
struct Flow<'s> {
    current: PageOps,
    /// Pages handed over before the current one.
    done: usize,
    sink: &'s mut dyn PageSink,
    y: f32,
    toc: Vec<TocEntry>,
    /// Space above and below the text of a table row.
    row_pad: f32,
    /// Anchor → 0-based page, for links.
    anchors: std::collections::BTreeMap<String, usize>,
}

impl<'s> Flow<'s> {
    fn new(sink: &'s mut dyn PageSink) -> Flow<'s> {
        Flow {
            current: PageOps::default(),
            done: 0,
            sink,
            y: TOP,
            toc: Vec::new(),
            row_pad: CELL_PAD,
            anchors: std::collections::BTreeMap::new(),
        }
    }

    fn page(&mut self) -> &mut PageOps {
        &mut self.current
    }

    /// The current page's 0-based number in this flow.
    fn page_index(&self) -> usize {
        self.done
    }

    fn new_page(&mut self) {
        self.sink.page(std::mem::take(&mut self.current));
        self.done += 1;
        self.y = TOP;
    }

    /// Hands over the last page.
    fn finish(mut self) -> Laid {
        self.sink.page(std::mem::take(&mut self.current));
        Laid {
            toc: self.toc,
            anchors: self.anchors,
        }
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn space(&mut self, h: f32) {
        self.y -= h;
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        self.paragraph_at(text, style, MARGIN_X, CONTENT_W);
    }

    fn paragraph_at(&mut self, text: &str, style: Style, x: f32, width: f32) {
        let lead = leading(style);
        let urls = urls_in(text);
        let mut open: Option<String> = None;
        for line in wrap(text, style.font, style.size, width) {
            self.ensure(lead);
            self.y -= lead;
            let y = self.y + 2.0;
            for (start, end, url) in url_spans(&line, &urls, &mut open) {
                let left = x + style.font.text_width(&line[..start], style.size);
                let w = style.font.text_width(&line[start..end], style.size);
                self.page()
                    .links
                    .push(([left, y - 2.0, w, style.size + 2.0], LinkTarget::Uri(url)));
            }
            self.page().text_at(x, y, &line, style);
        }
        self.y -= lead * 0.35;
    }

    /// A section heading; level 1 starts a new page.
    fn heading(&mut self, text: &str, level: u8) {
        self.heading_in_toc(text, level, level <= 2);
    }

    /// A heading; `in_toc` lists it in the table of contents (control details are, at level 3).
    fn heading_in_toc(&mut self, text: &str, level: u8, in_toc: bool) {
        let style = match level {
            1 => Style {
                font: Font::Bold,
                size: 15.0,
                color: (0.0, 0.0, 0.0),
            },
            2 => Style {
                font: Font::Bold,
                size: 11.5,
                color: (0.0, 0.0, 0.0),
            },
            _ => Style {
                font: Font::Bold,
                size: 9.5,
                color: (0.1, 0.1, 0.1),
            },
        };
        if level == 1 {
            // A major section starts a new page unless this one is less than half full: no
            // page is left nearly empty by a short section before it.
            if self.y < TOP - 0.5 * (TOP - BOTTOM) {
                self.new_page();
            } else if self.y < TOP {
                self.y -= 22.0;
            }
        } else {
            // Keep a heading with at least a few lines of what follows.
            self.ensure(leading(style) + 60.0);
            self.y -= 6.0;
        }
        let lines = wrap(text, style.font, style.size, CONTENT_W);
        for line in &lines {
            self.y -= leading(style);
            let y = self.y;
            self.page().text_at(MARGIN_X, y, line, style);
        }
        if level == 1 {
            self.y -= 4.0;
            let y = self.y;
            self.page().hline(MARGIN_X, PAGE_W - MARGIN_X, y, 1.2, 0.1);
            self.y -= 8.0;
        } else {
            self.y -= 3.0;
        }
        if in_toc {
            let page = self.page_index();
            self.toc.push(TocEntry {
                title: printable(text),
                level,
                page,
            });
        }
    }

    /// A key/value list (the cover, attestations).
    fn fields(&mut self, rows: &[(&str, String, Style)]) {
        // The keys' column fits the longest key (bold), at least 150 pt, at most half the page.
        let key_w = rows
            .iter()
            .map(|(key, _, _)| Font::Bold.text_width(key, BODY.size) + 10.0)
            .fold(150.0, f32::max)
            .min(CONTENT_W / 2.0);
        for (key, value, style) in rows {
            let lines = wrap(value, style.font, style.size, CONTENT_W - key_w);
            let lead = leading(BODY).max(leading(*style));
            self.ensure(lead * lines.len() as f32);
            for (i, line) in lines.iter().enumerate() {
                self.y -= lead;
                let y = self.y;
                if i == 0 {
                    self.page().text_at(
                        MARGIN_X,
                        y,
                        key,
                        Style {
                            font: Font::Bold,
                            ..BODY
                        },
                    );
                }
                self.page().text_at(MARGIN_X + key_w, y, line, *style);
            }
            self.y -= 2.0;
        }
        self.y -= 4.0;
    }

    fn table_header(&mut self, cols: &[Column]) {
        let wrapped: Vec<Vec<String>> = cols
            .iter()
            .map(|c| {
                wrap(
                    c.header,
                    CELL_HEAD.font,
                    CELL_HEAD.size,
                    c.width - 2.0 * CELL_PAD,
                )
            })
            .collect();
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let lead = leading(CELL_HEAD);
        let h = n as f32 * lead + 2.0 * CELL_PAD;
        let top = self.y;
        self.page().fill_rect(MARGIN_X, top - h, CONTENT_W, h, 0.92);
        let mut x = MARGIN_X;
        for (c, lines) in cols.iter().zip(&wrapped) {
            for (i, line) in lines.iter().enumerate() {
                let y = top - CELL_PAD - (i as f32 + 1.0) * lead + 2.0;
                let tx = if c.right {
                    x + c.width - CELL_PAD - CELL_HEAD.font.text_width(line, CELL_HEAD.size)
                } else {
                    x + CELL_PAD
                };
                self.page().text_at(tx, y, line, CELL_HEAD);
            }
            x += c.width;
        }
        self.y = top - h;
        let y = self.y;
        self.page().hline(MARGIN_X, PAGE_W - MARGIN_X, y, 0.8, 0.3);
    }

    /// A table with wrapped cells; the header row repeats on every page the table spans, and a
    /// row taller than the remaining space continues on the next page.
    ///
    /// A row of a single cell spans the whole width (the subjects of a large finding group).
    fn table(&mut self, cols: &[Column], rows: &[Vec<Cell>]) {
        self.table_of(cols, rows.iter());
    }

    /// [`Flow::table`] with rows made as they are laid out: `rows` is read twice (its clone
    /// fits the columns to every row first), so a table of 100,000 buckets is never held.
    fn table_of<R: AsRef<[Cell]>>(
        &mut self,
        cols: &[Column],
        rows: impl Iterator<Item = R> + Clone,
    ) {
        let fitted = fit_columns(cols, rows.clone());
        let cols = &fitted[..];
        let head_h = leading(CELL_HEAD) * 2.0 + 2.0 * CELL_PAD;
        self.ensure(head_h + 3.0 * leading(CELL));
        self.table_header(cols);
        let span = [Column {
            header: "",
            width: CONTENT_W,
            style: CELL_MONO,
            right: false,
        }];
        for row in rows {
            let row = row.as_ref();
            let row_cols: &[Column] = if row.len() == 1 && cols.len() > 1 {
                &span
            } else {
                cols
            };
            let wrapped: Vec<(Vec<String>, Style)> = row_cols
                .iter()
                .zip(row)
                .map(|(c, cell)| {
                    let style = cell.style.unwrap_or(c.style);
                    (
                        wrap(&cell.text, style.font, style.size, c.width - 2.0 * CELL_PAD),
                        style,
                    )
                })
                .collect();
            let lead = wrapped
                .iter()
                .map(|(_, s)| leading(*s))
                .fold(leading(CELL), f32::max);
            let total = wrapped.iter().map(|(l, _)| l.len()).max().unwrap_or(1);
            let mut done = 0;
            while done < total {
                let available = ((self.y - BOTTOM - 2.0 * self.row_pad) / lead).floor() as isize;
                // Move a short row whole to the next page rather than split it.
                if available < 1 || (done == 0 && (available as usize) < total && total <= 6) {
                    self.new_page();
                    self.table_header(cols);
                    continue;
                }
                let take = (available as usize).min(total - done);
                let top = self.y;
                let mut x = MARGIN_X;
                for (n, (c, (lines, style))) in row_cols.iter().zip(&wrapped).enumerate() {
                    if let Some(anchor) = row.get(n).and_then(|cell| cell.link.as_ref()) {
                        let shown = lines.len().saturating_sub(done).min(take) as f32;
                        if shown > 0.0 {
                            let h = shown * lead + self.row_pad;
                            let rect = [x, top - h, c.width, h];
                            self.page()
                                .links
                                .push((rect, LinkTarget::Anchor(anchor.clone())));
                        }
                    }
                    for (i, line) in lines.iter().skip(done).take(take).enumerate() {
                        let y = top - self.row_pad - (i as f32 + 1.0) * lead + 2.0;
                        let tx = if c.right {
                            x + c.width - CELL_PAD - style.font.text_width(line, style.size)
                        } else {
                            x + CELL_PAD
                        };
                        self.page().text_at(tx, y, line, *style);
                    }
                    x += c.width;
                }
                self.y = top - take as f32 * lead - 2.0 * self.row_pad;
                let y = self.y;
                self.page().hline(MARGIN_X, PAGE_W - MARGIN_X, y, 0.4, 0.75);
                done += take;
                if done < total {
                    self.new_page();
                    self.table_header(cols);
                }
            }
        }
        self.y -= 8.0;
    }
}

fn cover(model: &ReportModel) -> PageOps {
    let mut pages = Vec::new();
    let mut flow = Flow::new(&mut pages);
    let c = &model.cover;
    flow.space(60.0);
    flow.paragraph("phi-audit evidence report", MUTED);
    flow.paragraph(
        &c.title,
        Style {
            font: Font::Bold,
            size: 20.0,
            color: (0.0, 0.0, 0.0),
        },
    );
    flow.paragraph(
        "45 CFR 164.312 technical safeguards, as evidenced by the configuration of Amazon S3.",
        BODY,
    );
    flow.space(20.0);
    flow.fields(&[
        ("Organisation", c.organisation.clone(), BODY),
        (
            if model.organisation.is_some() {
                "Management account"
            } else {
                "AWS account"
            },
            format!("{} ({})", c.account_id, c.partition),
            BODY,
        ),
        ("Regions", c.regions.clone(), BODY),
        ("Review period", c.review_period.clone(), BODY),
        ("Evidence collected (UTC)", c.collected_at.clone(), BODY),
        ("Collected by", c.collected_by.clone(), BODY),
        ("Report generated (UTC)", c.generated_at.clone(), BODY),
        (
            "Buckets",
            format!("{} found, {} in scope", c.buckets_total, c.buckets_in_scope),
            BODY,
        ),
        ("Scope", c.scope.clone(), BODY),
        (
            "Tool",
            format!(
                "phi-audit {} (snapshot collected by phi-audit {})",
                c.tool_version, c.collector_version
            ),
            BODY,
        ),
        ("Snapshot digest", c.digest.clone(), MONO),
        ("At a glance", model.summary.verdict.clone(), BODY),
    ]);
    flow.space(16.0);
    flow.paragraph(
        "This document is part of an evidence bundle. MANIFEST.sha256 in the bundle lists the SHA-256 of every file; README.txt explains how to check it with standard tools. The raw API answers this report rests on are under evidence/.",
        MUTED,
    );
    flow.finish();
    pages.into_iter().next().expect("one page")
}

// Sized for the worst case (every entry a 15 pt level-1 line).
const TOC_PER_PAGE: usize = 44;

fn toc_pages(entries: &[TocEntry], first_body_page: usize) -> Vec<PageOps> {
    let mut pages = Vec::new();
    for (n, chunk) in entries.chunks(TOC_PER_PAGE).enumerate() {
        let mut page = PageOps::default();
        let mut y = TOP;
        if n == 0 {
            y -= 18.0;
            page.text_at(
                MARGIN_X,
                y,
                "Contents",
                Style {
                    font: Font::Bold,
                    size: 15.0,
                    color: (0.0, 0.0, 0.0),
                },
            );
            y -= 10.0;
            page.hline(MARGIN_X, PAGE_W - MARGIN_X, y, 1.2, 0.1);
            y -= 6.0;
        }
        for entry in chunk {
            y -= if entry.level == 1 { 15.0 } else { 12.0 };
            let (x, style) = if entry.level == 1 {
                (
                    MARGIN_X,
                    Style {
                        font: Font::Bold,
                        ..BODY
                    },
                )
            } else {
                (MARGIN_X + 14.0, Style { size: 8.0, ..BODY })
            };
            let number = (entry.page + first_body_page + 1).to_string();
            let number_w = style.font.text_width(&number, style.size);
            let title_lines = wrap(&entry.title, style.font, style.size, CONTENT_W - 60.0);
            page.text_at(x, y, &title_lines[0], style);
            page.text_at(PAGE_W - MARGIN_X - number_w, y, &number, style);
            page.links.push((
                [MARGIN_X, y - 3.0, CONTENT_W, style.size + 4.0],
                LinkTarget::BodyPage(entry.page),
            ));
        }
        pages.push(page);
    }
    pages
}

/// The running header (account, collection and generation times) and footer (snapshot digest)
/// every page carries; the page's number is [`page_label`], written once the count is known.
fn running_head(page: &mut PageOps, model: &ReportModel) {
    let c = &model.cover;
    let small = LABEL;
    let y_top = PAGE_H - 30.0;
    page.text_at(
        MARGIN_X,
        y_top,
        &printable(&format!(
            "phi-audit | HIPAA Security Rule evidence | {}",
            c.header_subject
        )),
        small,
    );
    let right = format!(
        "collected {} | generated {}",
        c.collected_at, c.generated_at
    );
    let w = small.font.text_width(&right, small.size);
    let left_w = small.font.text_width(&c.header_subject, small.size) + 160.0;
    // A long subject (an organisation) puts the times on a line of their own.
    let y_right = if left_w + w + 12.0 > CONTENT_W {
        y_top - 9.0
    } else {
        y_top
    };
    page.text_at(PAGE_W - MARGIN_X - w, y_right, &printable(&right), small);
    page.hline(MARGIN_X, PAGE_W - MARGIN_X, y_right - 5.0, 0.5, 0.6);

    let y_bottom = FOOTER_Y;
    page.hline(MARGIN_X, PAGE_W - MARGIN_X, y_bottom + 10.0, 0.5, 0.6);
    page.text_at(MARGIN_X, y_bottom, "snapshot digest", small);
    page.text_at(
        MARGIN_X + small.font.text_width("snapshot digest ", small.size),
        y_bottom,
        &printable(&c.digest),
        Style {
            font: Font::Mono,
            size: 6.5,
            color: small.color,
        },
    );
}

/// The footer's "page X of Y", a content stream of its own.
fn page_label(number: usize, total: usize) -> PageOps {
    let mut page = PageOps::default();
    let label = format!("page {number} of {total}");
    let w = LABEL.font.text_width(&label, LABEL.size);
    page.text_at(PAGE_W - MARGIN_X - w, FOOTER_Y, &label, LABEL);
    page
}

/// The running header's and footer's text.
const LABEL: Style = Style {
    font: Font::Regular,
    size: 7.0,
    color: (0.35, 0.35, 0.35),
};

/// The footer's baseline.
const FOOTER_Y: f32 = 30.0;

/// Writes report.pdf to `out` as it is laid out: each body page is written when the next one
/// starts, then the cover and contents (which need the body's page numbers), then each page's
/// number, the fonts and the document's structure.
pub fn render_to(model: &ReportModel, out: &mut dyn std::io::Write) -> Result<Pdf, ReportError> {
    let mut doc = document::Document::start(out, model)?;
    let body = sections::body(model, &mut doc);
    let mut front = vec![cover(model)];
    let toc_count = body.toc.len().div_ceil(TOC_PER_PAGE).max(1);
    front.extend(toc_pages(&body.toc, 1 + toc_count));
    doc.finish(front, body, &archive::Identity::of(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_never_exceeds_width() {
        let long = "riverside-phi-".repeat(10);
        for width in [40.0, 80.0, 200.0] {
            for line in wrap(&format!("a {long} b"), Font::Mono, 7.0, width) {
                assert!(Font::Mono.text_width(&line, 7.0) <= width + 0.01, "{line}");
            }
            for line in wrap(
                &format!("Statement \"{long}\" allows"),
                Font::Regular,
                8.0,
                width,
            ) {
                assert!(
                    Font::Regular.text_width(&line, 8.0) <= width + 0.01,
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn identifiers_break_at_separators_or_camel_case() {
        let at = |s: &str| {
            let chars: Vec<char> = s.chars().collect();
            let keep = break_point(&chars);
            chars[..keep].iter().collect::<String>()
        };
        assert_eq!(at("evidence/buckets/riverside-pat"), "evidence/buckets/");
        assert_eq!(at("riverside-patient-educ"), "riverside-patient-");
        assert_eq!(at("PutBucketPublicAccessBloc"), "PutBucketPublicAccess");
        assert_eq!(at("abcdefghij"), "abcdefghij");
    }

    #[test]
    fn columns_fit_status_words_and_api_names() {
        let cols = columns(&[
            ("Status", 2.0, CELL, false),
            ("Event", 8.0, CELL, false),
            ("Reason", 90.0, CELL, false),
        ]);
        let rows = [vec![
            styled("EXCEPTED", status_style("excepted")),
            cell("PutBucketPublicAccessBlock"),
            cell("a long reason ".repeat(20)),
        ]];
        let fitted = fit_columns(&cols, rows.iter());
        let total: f32 = fitted.iter().map(|c| c.width).sum();
        assert!((total - CONTENT_W).abs() < 0.01, "{total}");
        let status = status_style("excepted");
        assert!(
            fitted[0].width - 2.0 * CELL_PAD >= status.font.text_width("EXCEPTED", status.size)
        );
        assert!(
            fitted[1].width - 2.0 * CELL_PAD
                >= CELL
                    .font
                    .text_width("PutBucketPublicAccessBlock", CELL.size)
        );
        for (c, text, style) in [
            (&fitted[0], "EXCEPTED", status),
            (&fitted[1], "PutBucketPublicAccessBlock", CELL),
        ] {
            assert_eq!(
                wrap(text, style.font, style.size, c.width - 2.0 * CELL_PAD).len(),
                1
            );
        }
    }

    #[test]
    fn urls_in_wrapped_text_are_found_whole() {
        let text = "References: S3 guide <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html>; eCFR";
        let urls = urls_in(text);
        assert_eq!(
            urls,
            ["https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html"]
        );
        let mut open = None;
        let mut linked = Vec::new();
        for line in wrap(text, Font::Regular, 8.0, 150.0) {
            for (start, end, url) in url_spans(&line, &urls, &mut open) {
                assert_eq!(url, urls[0]);
                linked.push(line[start..end].to_string());
            }
        }
        assert_eq!(linked.concat(), urls[0]);
        assert!(linked.len() > 1, "the URL wraps over lines: {linked:?}");
    }

    #[test]
    fn printable_escapes_what_the_fonts_cannot_show() {
        assert_eq!(printable("a\tb\u{1F691}c é"), "a b<U+1F691>c é");
    }
}
