//! The fonts of `report.pdf`: DejaVu Sans, Sans Bold and Sans Mono (assets/fonts, Bitstream Vera
//! licence, shipped in the repository), their own advance widths for measuring text, the visible
//! escape `<U+XXXX>` for a character a face lacks, and the subset of each that is embedded.
//!
//! Evidence text never changes silently: a character outside a face's coverage is printed as its
//! code point, never as `?` or an empty box, and the method appendix says so.
//!
//! Glyphs are numbered in the order the document first prints them ([`Used`]); that number is
//! the character code in the pages' text and the glyph's id in the embedded subset, so a page
//! can be written before the document's last page has chosen its characters.

use std::collections::HashMap;
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::tables::cmap::Cmap;
use allsorts::tables::os2::Os2;
use allsorts::tables::{FontTableProvider, HeadTable, HheaTable, HmtxTable, MaxpTable};
use allsorts::tag;
use sha2::{Digest, Sha256};

use super::file::{File, Id};
use super::Font;

/// One face: its bytes, name, metrics and, per character it covers, its glyph and advance in
/// 1/1000 em.
pub(super) struct Face {
    bytes: &'static [u8],
    name: &'static str,
    glyphs: HashMap<char, (u16, f32)>,
    ascii: [Option<f32>; 128],
    /// `.notdef`'s advance, 1/1000 em.
    notdef: f32,
    /// Ascent, descent, cap height and bounding box (x min, y min, x max, y max), 1/1000 em.
    ascent: i32,
    descent: i32,
    cap_height: i32,
    bbox: [i32; 4],
}

fn load(bytes: &'static [u8], name: &'static str) -> Result<Face, String> {
    fn failed(name: &str, e: impl std::fmt::Display) -> String {
        format!("the shipped font {name}: {e}")
    }
    let err = |e: allsorts::error::ParseError| failed(name, e);
    let data = ReadScope::new(bytes).read::<FontData<'_>>().map_err(err)?;
    let provider = data.table_provider(0).map_err(|e| failed(name, e))?;
    let table = |t| provider.read_table_data(t).map_err(|e| failed(name, e));
    let head_data = table(tag::HEAD)?;
    let head = ReadScope::new(&head_data)
        .read::<HeadTable>()
        .map_err(err)?;
    let hhea_data = table(tag::HHEA)?;
    let hhea = ReadScope::new(&hhea_data)
        .read::<HheaTable>()
        .map_err(err)?;
    let maxp_data = table(tag::MAXP)?;
    let maxp = ReadScope::new(&maxp_data)
        .read::<MaxpTable>()
        .map_err(err)?;
    let hmtx_data = table(tag::HMTX)?;
    let hmtx = ReadScope::new(&hmtx_data)
        .read_dep::<HmtxTable<'_>>((
            usize::from(maxp.num_glyphs),
            usize::from(hhea.num_h_metrics),
        ))
        .map_err(err)?;
    let cmap_data = table(tag::CMAP)?;
    let cmap = ReadScope::new(&cmap_data).read::<Cmap<'_>>().map_err(err)?;
    let (_, subtable) = allsorts::font::read_cmap_subtable(&cmap)
        .map_err(err)?
        .ok_or_else(|| format!("the shipped font {name} has no Unicode cmap"))?;
    let os2_data = table(tag::OS_2)?;
    let os2 = ReadScope::new(&os2_data)
        .read_dep::<Os2>(os2_data.len())
        .map_err(err)?;

    let scale = 1000.0 / f32::from(head.units_per_em.max(1));
    let units = |v: i16| (f32::from(v) * scale).round() as i32;
    let advance = |gid: u16| f32::from(hmtx.horizontal_advance(gid).unwrap_or(0)) * scale;
    let mut glyphs = HashMap::new();
    let mut ascii = [None; 128];
    subtable
        .mappings_fn(|cp, gid| {
            let Some(c) = char::from_u32(cp) else { return };
            if gid == 0 {
                return;
            }
            glyphs.insert(c, (gid, advance(gid)));
            if cp < 128 {
                ascii[cp as usize] = Some(advance(gid));
            }
        })
        .map_err(err)?;
    Ok(Face {
        bytes,
        name,
        glyphs,
        ascii,
        notdef: advance(0),
        ascent: units(hhea.ascender),
        descent: units(hhea.descender),
        cap_height: os2
            .version2to4
            .as_ref()
            .map_or(units(hhea.ascender), |v| units(v.s_cap_height)),
        bbox: [
            units(head.x_min),
            units(head.y_min),
            units(head.x_max),
            units(head.y_max),
        ],
    })
}

/// The face behind `font`, parsed once.
pub(super) fn face(font: Font) -> &'static Face {
    static FACES: OnceLock<[Face; 3]> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        [
            (
                include_bytes!("../../../assets/fonts/DejaVuSans.ttf").as_slice(),
                "DejaVuSans",
            ),
            (
                include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf").as_slice(),
                "DejaVuSans-Bold",
            ),
            (
                include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf").as_slice(),
                "DejaVuSansMono",
            ),
        ]
        .map(|(bytes, name)| load(bytes, name).unwrap_or_else(|e| panic!("{e}")))
    });
    match font {
        Font::Regular => &faces[0],
        Font::Bold => &faces[1],
        Font::Mono => &faces[2],
    }
}

impl Face {
    /// Advance of `c` in 1/1000 em, `None` when the face has no glyph for it.
    pub(super) fn advance(&self, c: char) -> Option<f32> {
        if (c as u32) < 128 {
            return self.ascii[c as usize];
        }
        self.glyphs.get(&c).map(|g| g.1)
    }
}

/// The visible stand-in for a character the face cannot show.
fn escape(c: char) -> String {
    format!("<U+{:04X}>", c as u32)
}

/// `text` as it is printed in `font`: tabs and line breaks become spaces, and every character
/// the face lacks (or a control character) becomes `<U+XXXX>`.
pub(super) fn printable(text: &str, font: Font) -> String {
    let face = face(font);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push_str(&escape(c)),
            c if face.advance(c).is_some() => out.push(c),
            c => out.push_str(&escape(c)),
        }
    }
    out
}

/// Width of `c` as printed (an escape is as wide as its text), in 1/1000 em.
pub(super) fn char_width(font: Font, c: char) -> f32 {
    let face = face(font);
    match c {
        '\t' | '\n' | '\r' => face.advance(' ').unwrap_or(0.0),
        c if c.is_control() => escape(c).chars().filter_map(|e| face.advance(e)).sum(),
        c => face
            .advance(c)
            .unwrap_or_else(|| escape(c).chars().filter_map(|e| face.advance(e)).sum()),
    }
}

/// The glyphs of one face that the document prints, numbered from 1 in the order first printed
/// (0 is `.notdef`).
pub(super) struct Used {
    font: Font,
    code: HashMap<u16, u16>,
    /// By number - 1: the glyph, the character it shows and its advance.
    glyphs: Vec<(u16, char, f32)>,
}

impl Used {
    pub(super) fn new(font: Font) -> Used {
        Used {
            font,
            code: HashMap::new(),
            glyphs: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.glyphs.is_empty()
    }

    /// Appends `text` (already printable in this face) as the hex string of its glyph numbers.
    /// A character without a glyph, which `printable` never lets through, is `.notdef` (0).
    pub(super) fn encode(&mut self, text: &str, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let face = face(self.font);
        out.push('<');
        for c in text.chars() {
            let code = match face.glyphs.get(&c) {
                Some(&(gid, advance)) => *self.code.entry(gid).or_insert_with(|| {
                    self.glyphs.push((gid, c, advance));
                    self.glyphs.len() as u16
                }),
                None => 0,
            };
            for shift in [12, 8, 4, 0] {
                out.push(char::from(HEX[usize::from(code >> shift) & 0xf]));
            }
        }
        out.push('>');
    }

    /// Writes the face as a Type 0 font of the used glyphs (its subset embedded, its widths and
    /// its map back to Unicode), and returns the font's number.
    pub(super) fn embed(&self, file: &mut File<'_>) -> Result<Id, String> {
        let face = face(self.font);
        let subset = self.subset()?;
        let digest = Sha256::digest(&subset);
        let tag: String = digest[..6]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let name = format!("{tag}+{}", face.name);
        let io = |e: std::io::Error| e.to_string();
        let program = file
            .add_stream(&format!("/Length1 {}", subset.len()), &subset)
            .map_err(io)?;
        let [x0, y0, x1, y1] = face.bbox;
        let descriptor = file
            .add(&format!(
                "<</Type/FontDescriptor/FontName/{name}/Flags 32/FontBBox[{x0} {y0} {x1} {y1}]/ItalicAngle 0/Ascent {}/Descent {}/CapHeight {}/StemV 80/FontFile2 {program}>>",
                face.ascent, face.descent, face.cap_height
            ))
            .map_err(io)?;
        let to_unicode = file.add_stream("", self.cmap().as_bytes()).map_err(io)?;
        let mut widths = format!("{}", face.notdef.round());
        for (_, _, advance) in &self.glyphs {
            widths.push_str(&format!(" {}", advance.round()));
        }
        file.add(&format!(
            "<</Type/Font/Subtype/Type0/BaseFont/{name}/Encoding/Identity-H/ToUnicode {to_unicode}/DescendantFonts[<</Type/Font/Subtype/CIDFontType2/BaseFont/{name}/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor {descriptor}/W[0[{widths}]]/CIDToGIDMap/Identity>>]>>"
        ))
        .map_err(io)
    }

    /// The face cut to `.notdef` and the used glyphs, in their numbers' order: glyph ids in the
    /// subset are the numbers the pages print.
    fn subset(&self) -> Result<Vec<u8>, String> {
        use allsorts::subset::{CmapTarget, SubsetProfile};
        let face = face(self.font);
        let mut gids = Vec::with_capacity(self.glyphs.len() + 1);
        gids.push(0);
        gids.extend(self.glyphs.iter().map(|g| g.0));
        let data = ReadScope::new(face.bytes)
            .read::<FontData<'_>>()
            .map_err(|e| e.to_string())?;
        let provider = data.table_provider(0).map_err(|e| e.to_string())?;
        allsorts::subset::subset(&provider, &gids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| format!("subsetting {}: {e}", face.name))
    }

    /// The ToUnicode CMap: each glyph number back to the character it printed.
    fn cmap(&self) -> String {
        let mut out = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for (block, chunk) in self.glyphs.chunks(100).enumerate() {
            out.push_str(&format!("{} beginbfchar\n", chunk.len()));
            for (i, (_, c, _)) in chunk.iter().enumerate() {
                let code = block * 100 + i + 1;
                let mut units = [0u16; 2];
                let utf16: String = c
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                out.push_str(&format!("<{code:04X}> <{utf16}>\n"));
            }
            out.push_str("endbfchar\n");
        }
        out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_cover_latin_greek_and_cyrillic() {
        for font in [Font::Regular, Font::Bold, Font::Mono] {
            for text in ["Zoë Ångström – café", "Αθήνα ελληνικά", "Москва кириллица"]
            {
                assert_eq!(printable(text, font), text, "{font:?}");
            }
        }
    }

    #[test]
    fn what_a_face_lacks_is_escaped_visibly() {
        assert_eq!(
            printable("東京 🚑\u{7}\tx", Font::Regular),
            "<U+6771><U+4EAC> <U+1F691><U+0007> x"
        );
        let escaped = printable("東", Font::Mono);
        let width: f32 = escaped.chars().map(|c| char_width(Font::Mono, c)).sum();
        assert_eq!(char_width(Font::Mono, '東'), width);
    }

    #[test]
    fn widths_come_from_the_font() {
        // DejaVu Sans: 'i' is narrower than 'W'; Mono: every character alike.
        assert!(char_width(Font::Regular, 'i') < char_width(Font::Regular, 'W'));
        assert_eq!(char_width(Font::Mono, 'i'), char_width(Font::Mono, 'W'));
        assert!(char_width(Font::Bold, 'a') > char_width(Font::Regular, 'a'));
    }

    #[test]
    fn glyphs_are_numbered_as_first_printed_and_so_are_the_subsets_ids() {
        let mut used = Used::new(Font::Regular);
        let mut out = String::new();
        used.encode("Zoë Zoë", &mut out);
        assert_eq!(out, "<0001000200030004000100020003>");
        let a = used.subset().unwrap();
        assert_eq!(a, used.subset().unwrap(), "the same glyphs, the same bytes");
        assert!(a.len() < 40_000, "{}", a.len());
        // The subset's own cmap: each character's glyph id is the number the page printed.
        let data = ReadScope::new(&a).read::<FontData<'_>>().unwrap();
        let provider = data.table_provider(0).unwrap();
        let cmap_data = provider.read_table_data(tag::CMAP).unwrap();
        let cmap = ReadScope::new(&cmap_data).read::<Cmap<'_>>().unwrap();
        let (_, subtable) = allsorts::font::read_cmap_subtable(&cmap).unwrap().unwrap();
        let mut ids = HashMap::new();
        subtable
            .mappings_fn(|cp, gid| {
                ids.insert(char::from_u32(cp).unwrap(), gid);
            })
            .unwrap();
        for (c, number) in [('Z', 1), ('o', 2), ('ë', 3), (' ', 4)] {
            assert_eq!(ids.get(&c), Some(&number), "{c}");
        }
        let cmap = used.cmap();
        assert!(cmap.contains("<0003> <00EB>"), "{cmap}");
    }
}
