//! The fonts of `report.pdf`: DejaVu Sans, Sans Bold and Sans Mono (assets/fonts, Bitstream Vera
//! licence, shipped in the repository), their own advance widths for measuring text, the visible
//! escape `<U+XXXX>` for a character a face lacks, and the per-document subset that is embedded.
//!
//! Evidence text never changes silently: a character outside a face's coverage is printed as its
//! code point, never as `?` or an empty box, and the method appendix says so.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use printpdf::ParsedFont;
use sha2::{Digest, Sha256};

use super::Font;

/// One face: its bytes, name and, per character it covers, the advance in 1/1000 em.
pub(super) struct Face {
    bytes: &'static [u8],
    name: &'static str,
    glyphs: HashMap<char, (u16, f32)>,
    ascii: [Option<f32>; 128],
}

fn load(bytes: &'static [u8], name: &'static str) -> Face {
    let parsed = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
        .unwrap_or_else(|| panic!("the shipped font {name} parses"));
    let scale = 1000.0 / f32::from(parsed.units_per_em.max(1));
    let mut glyphs = HashMap::new();
    let mut ascii = [None; 128];
    for (&cp, &gid) in &parsed.codepoint_to_glyph {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        if gid == 0 {
            continue;
        }
        let advance = f32::from(parsed.get_glyph_width(gid).unwrap_or(0)) * scale;
        glyphs.insert(c, (gid, advance));
        if cp < 128 {
            ascii[cp as usize] = Some(advance);
        }
    }
    Face {
        bytes,
        name,
        glyphs,
        ascii,
    }
}

/// The face behind `font`, parsed once.
pub(super) fn face(font: Font) -> &'static Face {
    static FACES: OnceLock<[Face; 3]> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        [
            load(
                include_bytes!("../../../assets/fonts/DejaVuSans.ttf"),
                "DejaVuSans",
            ),
            load(
                include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf"),
                "DejaVuSans-Bold",
            ),
            load(
                include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf"),
                "DejaVuSansMono",
            ),
        ]
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

/// A subset of `font` holding `.notdef` and the glyphs of `used` (already printable text), named
/// `ABCDEF+<name>` with a tag derived from its bytes (the same glyphs give the same name).
pub(super) fn subset(font: Font, used: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let face = face(font);
    let mut gids: Vec<u16> = used
        .iter()
        .filter_map(|c| face.glyphs.get(c).map(|g| g.0))
        .collect();
    gids.sort_unstable();
    gids.dedup();
    gids.insert(0, 0);
    let scope = ReadScope::new(face.bytes);
    let data = scope.read::<FontData<'_>>().map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    let bytes =
        allsorts::subset::subset(&provider, &gids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|e| format!("subsetting {}: {e}", face.name))?;
    let mut parsed = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| format!("the subset of {} does not parse", face.name))?;
    let digest = Sha256::digest(&bytes);
    let tag: String = digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    parsed.font_name = Some(format!("{tag}+{}", face.name));
    Ok(parsed)
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
    fn subsets_are_small_deterministic_and_keep_the_glyphs() {
        let used: BTreeSet<char> = "Zoë Ångström".chars().collect();
        let a = subset(Font::Regular, &used).unwrap();
        let b = subset(Font::Regular, &used).unwrap();
        assert_eq!(a.original_bytes, b.original_bytes);
        assert!(
            a.original_bytes.len() < 40_000,
            "{}",
            a.original_bytes.len()
        );
        let name = a.font_name.clone().unwrap();
        assert!(
            name.ends_with("+DejaVuSans") && name.len() == 6 + 1 + 10,
            "{name}"
        );
        for c in used {
            assert!(
                a.lookup_glyph_index(c as u32).is_some_and(|g| g != 0),
                "{c}"
            );
        }
    }
}
