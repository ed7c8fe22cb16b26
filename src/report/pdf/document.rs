//! report.pdf's structure, written as the pages arrive: each page's content stream goes to the
//! file as soon as the page is laid out (with the running header and footer), and only its
//! links are kept. Once the body is done, the cover and contents follow, then each page's
//! number, the page objects with their link annotations, the fonts of the glyphs the pages
//! printed, the outline and the catalog.
//!
//! A write error does not stop the layout (a flow's pages cannot fail); the first one is kept
//! and returned when the document is finished.

use super::archive::{self, Identity};
use super::file::{num, text, File, Id};
use super::fonts::Used;
use super::{page_label, running_head, Font, Laid, LinkTarget, PageOps, PageSink, Pdf};
use super::{ReportError, ReportModel, PAGE_H, PAGE_W};

/// A page once its content is written: what its page object will name.
struct Written {
    content: Id,
    links: Vec<([f32; 4], LinkTarget)>,
}

/// The document being written.
pub(super) struct Document<'w, 'm> {
    file: File<'w>,
    model: &'m ReportModel<'m>,
    used: [Used; 3],
    /// The body's pages, in order.
    body: Vec<Written>,
    error: Option<std::io::Error>,
}

impl<'w, 'm> Document<'w, 'm> {
    pub(super) fn start(
        out: &'w mut dyn std::io::Write,
        model: &'m ReportModel<'m>,
    ) -> Result<Self, ReportError> {
        Ok(Document {
            file: File::start(out).map_err(write_error)?,
            model,
            used: Font::ALL.map(Used::new),
            body: Vec::new(),
            error: None,
        })
    }

    /// Writes a page's content, with the running header and footer, and keeps its links.
    fn write(&mut self, mut page: PageOps) -> std::io::Result<Written> {
        running_head(&mut page, self.model);
        let content = page.content(&mut self.used);
        Ok(Written {
            content: self.file.add_stream("", &content)?,
            links: std::mem::take(&mut page.links),
        })
    }

    /// Closes the document: `front` (the cover and contents) goes before the body `laid` out.
    pub(super) fn finish(
        mut self,
        front: Vec<PageOps>,
        laid: Laid,
        id: &Identity,
    ) -> Result<Pdf, ReportError> {
        if let Some(e) = self.error.take() {
            return Err(write_error(e));
        }
        let first_body = front.len();
        let mut pages = Vec::with_capacity(first_body + self.body.len());
        for page in front {
            pages.push(self.write(page).map_err(write_error)?);
        }
        pages.append(&mut self.body);
        let resources = self.file.reserve();
        let parent = self.file.reserve();
        let ids: Vec<Id> = pages.iter().map(|_| self.file.reserve()).collect();
        // A link's target page, as the page object's number.
        let target = |link: &LinkTarget| match link {
            LinkTarget::BodyPage(p) => ids.get(first_body + p).copied(),
            LinkTarget::Anchor(a) => laid
                .anchors
                .get(a)
                .and_then(|p| ids.get(first_body + p).copied()),
            LinkTarget::Uri(_) => None,
        };
        let total = pages.len();
        for (n, (page, &id)) in pages.iter().zip(&ids).enumerate() {
            let label = page_label(n + 1, total).content(&mut self.used);
            let label = self.file.add_stream("", &label).map_err(write_error)?;
            let annots: String = page
                .links
                .iter()
                .filter_map(|(rect, link)| annotation(*rect, link, &target))
                .collect();
            let body = format!(
                "<</Type/Page/Parent {parent}/MediaBox[0 0 {} {}]/Resources {resources}/Contents[{} {label}]/Annots[{annots}]>>",
                num(PAGE_W),
                num(PAGE_H),
                page.content
            );
            self.file.object(id, &body).map_err(write_error)?;
        }
        self.fonts(resources)?;
        let kids: Vec<String> = ids.iter().map(Id::to_string).collect();
        let tree = format!("<</Type/Pages/Count {total}/Kids[{}]>>", kids.join(" "));
        self.file.object(parent, &tree).map_err(write_error)?;
        let outline = self.outline(&laid, |p| ids[first_body + p])?;
        let identified = archive::identify(&mut self.file, id).map_err(write_error)?;
        let catalog =
            self.file
                .add(&format!(
                "<</Type/Catalog/Pages {parent}/PageLayout/OneColumn/PageMode/UseOutlines{}{}>>",
                outline.map(|o| format!("/Outlines {o}")).unwrap_or_default(),
                identified.catalog
            ))
                .map_err(write_error)?;
        let bytes = self
            .file
            .finish(&format!(
                "/Root {catalog}/Info {}{}",
                identified.info,
                id.file_id()
            ))
            .map_err(write_error)?;
        Ok(Pdf {
            bytes,
            pages: total,
        })
    }

    /// The fonts the pages printed with, and the resources that name them.
    fn fonts(&mut self, resources: Id) -> Result<(), ReportError> {
        let mut names = String::new();
        for (font, used) in Font::ALL.iter().zip(&self.used) {
            if used.is_empty() {
                continue;
            }
            let id = used.embed(&mut self.file).map_err(ReportError::Pdf)?;
            names.push_str(&format!("/{} {id}", font.id()));
        }
        self.file
            .object(resources, &format!("<</Font<<{names}>>>>"))
            .map_err(write_error)
    }

    /// The outline (bookmarks): the level-1 headings, each to its page.
    fn outline(
        &mut self,
        laid: &Laid,
        page: impl Fn(usize) -> Id,
    ) -> Result<Option<Id>, ReportError> {
        let entries: Vec<_> = laid.toc.iter().filter(|e| e.level == 1).collect();
        if entries.is_empty() {
            return Ok(None);
        }
        let root = self.file.reserve();
        let items: Vec<Id> = entries.iter().map(|_| self.file.reserve()).collect();
        for (i, entry) in entries.iter().enumerate() {
            let mut item = format!(
                "<</Parent {root}/Title{}/Dest[{} /XYZ null null null]",
                text(&entry.title),
                page(entry.page)
            );
            if i > 0 {
                item.push_str(&format!("/Prev {}", items[i - 1]));
            }
            if let Some(next) = items.get(i + 1) {
                item.push_str(&format!("/Next {next}"));
            }
            item.push_str(">>");
            self.file.object(items[i], &item).map_err(write_error)?;
        }
        let outline = format!(
            "<</Type/Outlines/Count {}/First {}/Last {}>>",
            items.len(),
            items[0],
            items[items.len() - 1]
        );
        self.file.object(root, &outline).map_err(write_error)?;
        Ok(Some(root))
    }
}

impl PageSink for Document<'_, '_> {
    fn page(&mut self, page: PageOps) {
        if self.error.is_some() {
            return;
        }
        match self.write(page) {
            Ok(written) => self.body.push(written),
            Err(e) => self.error = Some(e),
        }
    }
}

/// A link annotation, printable (flag 4, as PDF/A asks) and without a border; `None` when an
/// internal link's anchor was never laid out.
fn annotation(
    [x, y, w, h]: [f32; 4],
    link: &LinkTarget,
    target: &dyn Fn(&LinkTarget) -> Option<Id>,
) -> Option<String> {
    let action = match link {
        LinkTarget::Uri(uri) => format!("<</S/URI/URI{}>>", text(uri)),
        _ => format!("<</S/GoTo/D[{} /XYZ null null null]>>", target(link)?),
    };
    Some(format!(
        "<</Type/Annot/Subtype/Link/Rect[{} {} {} {}]/Border[0 0 0]/F 4/A{action}>>",
        num(x),
        num(y),
        num(x + w),
        num(y + h)
    ))
}

fn write_error(e: std::io::Error) -> ReportError {
    ReportError::Pdf(format!("writing: {e}"))
}
