//! report.pdf fit for the archive, checked with poppler's tools as a reader's software sees it:
//! every font embedded, PDF/A-2b identification (XMP, sRGB output intent, /Lang, no PDF/X keys),
//! clickable reference URLs and internal links, text outside the fonts printed as a visible
//! `<U+XXXX>` (read back with pdftotext), and no body page left nearly empty.

use crate::support::bundle::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const UNICODE_TAG: &str = "Zoë Ångström – 東京 診療所 🚑";

/// The small snapshot with a tag value in several scripts (and an emoji), and its report.pdf.
fn fixture_pdf() -> &'static (tempfile::TempDir, PathBuf) {
    static PDF: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    PDF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("snapshot");
        write_snapshot(&snapshot);
        let path = snapshot.join("buckets/public-www.json");
        let mut bucket: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        bucket["calls"]["GetBucketTagging"] = json!({"ok": {"TagSet": [
            {"Key": "team", "Value": "web"},
            {"Key": "owner", "Value": UNICODE_TAG},
        ]}});
        std::fs::write(&path, serde_json::to_vec(&bucket).unwrap()).unwrap();
        let bundle = dir.path().join("bundle.zip");
        build(&snapshot, &bundle, None, None).expect("bundle builds");
        let pdf = dir.path().join("report.pdf");
        std::fs::write(&pdf, entry(&bundle, "report.pdf")).unwrap();
        (dir, pdf)
    })
}

/// The sample clinic's report.pdf (README's first command).
fn sample_pdf() -> &'static (tempfile::TempDir, PathBuf) {
    static PDF: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    PDF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let s = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let zip = dir.path().join("bundle.zip");
        crate::support::bundle::report_sample(&s.join("snapshot"), &zip);
        let pdf = dir.path().join("report.pdf");
        std::fs::write(&pdf, entry(&zip, "report.pdf")).unwrap();
        (dir, pdf)
    })
}

fn poppler(tool: &str, args: &[&str], pdf: &Path) -> String {
    let mut command = Command::new(require_tool(tool, "poppler-utils"));
    command.args(args).arg(pdf);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_font_is_embedded_dejavu() {
    for (_, pdf) in [fixture_pdf(), sample_pdf()] {
        let fonts = poppler("pdffonts", &[], pdf);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(rows.len() >= 3, "{fonts}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            // name, type (2 words), encoding, emb, sub, uni, object id
            assert!(cols[0].contains("+DejaVuSans"), "{row}");
            assert_eq!(
                &cols[4..7],
                ["yes", "yes", "yes"],
                "embedded, subset, unicode: {row}"
            );
        }
    }
}

#[test]
fn metadata_identifies_pdfa_2b_and_never_pdfx() {
    let (_, pdf) = sample_pdf();
    let info = poppler("pdfinfo", &[], pdf);
    assert!(
        info.contains("Title:           HIPAA Security Rule evidence: AWS account 111122223333"),
        "{info}"
    );
    assert!(info.contains("PDF version:     1.7"), "{info}");
    assert!(info.contains("Metadata Stream: yes"), "{info}");
    assert!(
        info.contains("CreationDate:    Fri Oct  2 09:00:00 2026 UTC"),
        "{info}"
    );
    assert!(!info.contains("PDF/X"), "{info}");
    let xmp = poppler("pdfinfo", &["-meta"], pdf);
    for needle in [
        "<pdfaid:part>2</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "<rdf:li xml:lang=\"x-default\">HIPAA Security Rule evidence: AWS account 111122223333</rdf:li>",
        "<dc:language><rdf:Bag><rdf:li>en</rdf:li></rdf:Bag></dc:language>",
        "<xmp:CreateDate>2026-10-02T09:00:00+00:00</xmp:CreateDate>",
    ] {
        assert!(xmp.contains(needle), "{needle} not in\n{xmp}");
    }
    // The catalog and annotation dictionaries are not compressed: read them from the bytes.
    let bytes = std::fs::read(pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/Lang(en)"), "no /Lang");
    assert!(text.contains("/S/GTS_PDFA1"), "no PDF/A output intent");
    assert!(text.contains("/OutputConditionIdentifier(sRGB IEC61966-2.1)"));
    assert!(!text.contains("GTS_PDFX"), "a PDF/X key is left");
}

#[test]
fn reference_urls_and_internal_links_are_clickable() {
    let (_, pdf) = sample_pdf();
    let urls = poppler("pdfinfo", &["-url"], pdf);
    assert!(
        urls.contains("https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C/section-164.312"),
        "{urls}"
    );
    assert!(
        urls.lines()
            .filter(|l| l.contains("https://docs.aws.amazon.com/"))
            .count()
            >= 10,
        "{urls}"
    );
    let bytes = std::fs::read(pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let goto = text.matches("/S/GoTo").count();
    assert!(goto >= 40, "only {goto} internal links (contents, details)");
    let links = text.matches("/Subtype/Link").count();
    assert_eq!(
        text.matches("/F 4").count(),
        links,
        "every link annotation is printable (PDF/A)"
    );
}

#[test]
fn text_outside_the_fonts_prints_as_code_points_never_question_marks() {
    let (_, pdf) = fixture_pdf();
    let text = poppler("pdftotext", &[], pdf);
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let expected = "owner=ZoëÅngström–<U+6771><U+4EAC><U+8A3A><U+7642><U+6240><U+1F691>";
    assert!(squeezed.contains(expected), "{expected} not in\n{text}");
    assert!(!text.contains("Ångström - ??"), "{text}");
    // The method appendix says so.
    assert!(squeezed.contains("<U+XXXX>"), "{text}");
}

/// No body page is less than a third full, except the last one (the table of contents may end
/// on a short page too): short sections share a page instead of leaving one nearly empty.
#[test]
fn no_body_page_is_left_nearly_empty() {
    let (_, pdf) = sample_pdf();
    let bbox = poppler("pdftotext", &["-bbox"], pdf);
    let pages: Vec<&str> = bbox.split("<page ").skip(1).collect();
    // The body starts with the "Executive summary" heading, set larger than its contents entry.
    let first_body = pages
        .iter()
        .position(|p| {
            p.split("<word ").any(|w| {
                let num = |key: &str| {
                    w.split(key).nth(1)?.split('"').next()?.parse::<f32>().ok()
                };
                w.contains(">Executive<")
                    && matches!((num("yMin=\""), num("yMax=\"")), (Some(a), Some(b)) if b - a > 12.0)
            })
        })
        .expect("the executive summary heading");
    let (top, bottom) = (792.0 - 58.0, 52.0);
    let mut short = Vec::new();
    for (i, page) in pages.iter().enumerate().skip(first_body) {
        if i + 1 == pages.len() {
            continue;
        }
        let lowest = page
            .split("yMax=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse::<f32>().ok())
            .filter(|&y| y > 792.0 - top && y < 792.0 - 45.0)
            .fold(0.0, f32::max);
        let fill = (lowest - (792.0 - top)) / (top - bottom);
        if fill < 1.0 / 3.0 {
            short.push((i + 1, fill));
        }
    }
    assert!(short.is_empty(), "pages under a third full: {short:?}");
}

/// The page objects, in order, from the page tree (written as one flat list of `N 0 R`).
fn page_objects(bytes: &str) -> Vec<String> {
    let kids = bytes
        .split("/Type/Pages/Count ")
        .nth(1)
        .and_then(|s| s.split("/Kids[").nth(1))
        .and_then(|s| s.split(']').next())
        .expect("a page tree");
    kids.split(" R")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

/// The cross-reference table points at every object, the outline names each major section on
/// the page where its heading stands, and every internal link goes to a page of the document.
#[test]
fn outline_links_and_cross_references_point_where_they_should() {
    let (_, pdf) = sample_pdf();
    let raw = std::fs::read(pdf).unwrap();
    let bytes = String::from_utf8_lossy(&raw).into_owned();
    // Offsets are bytes: read the table from the raw file.
    let xref = raw.windows(6).rposition(|w| w == b"\nxref\n").unwrap() + 1;
    let table = String::from_utf8(raw[xref..].to_vec()).unwrap();
    let count: usize = table.lines().nth(1).unwrap()[2..].parse().unwrap();
    for (n, line) in table.lines().skip(3).take(count - 1).enumerate() {
        let offset: usize = line[..10].parse().unwrap();
        let head = format!("{} 0 obj\n", n + 1);
        assert!(
            raw[offset..].starts_with(head.as_bytes()),
            "object {}",
            n + 1
        );
    }

    let pages = page_objects(&bytes);
    assert_eq!(pages.len(), 68);
    let page_of = |reference: &str| {
        pages
            .iter()
            .position(|p| p == reference)
            .unwrap_or_else(|| panic!("{reference} is not a page"))
            + 1
    };
    // Outline items (the document information has a /Title too, without a destination).
    let items: Vec<(&str, usize)> = bytes
        .split("/Title(")
        .skip(1)
        .filter_map(|s| {
            let (title, rest) = s.split_once(")/Dest[")?;
            let dest = rest.split(" /XYZ").next()?;
            Some((title, page_of(dest.trim_end_matches(" R"))))
        })
        .collect();
    assert!(items.len() >= 10, "{items:?}");
    for (title, page) in &items {
        let n = page.to_string();
        let text = poppler("pdftotext", &["-f", &n, "-l", &n], pdf);
        let title = title.replace("\\(", "(").replace("\\)", ")");
        assert!(
            text.contains(&title),
            "{title}: page {page} does not show it"
        );
    }
    let gotos: Vec<&str> = bytes
        .split("/S/GoTo/D[")
        .skip(1)
        .map(|s| s.split(" /XYZ").next().unwrap())
        .collect();
    assert!(gotos.len() >= 40);
    for reference in gotos {
        page_of(reference.trim_end_matches(" R"));
    }
}
