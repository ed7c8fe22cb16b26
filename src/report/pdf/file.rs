//! The PDF file's syntax: numbered objects written to the output as they are made, each one's
//! offset kept for the cross-reference table, which closes the file with its trailer. Nothing
//! here holds a page once it is written: report.pdf of 30,000 pages is written in the memory of
//! one.
//!
//! Objects are written as text in the compact style most PDF writers use
//! (`/Type/Page/Parent 2 0 R`); streams other than the XMP metadata are Flate-compressed. An
//! object is reserved (its number given out) before it is written, so a page can name its font
//! or its parent before they exist.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

/// An object's number (its generation is always 0).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Id(u32);

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} 0 R", self.0)
    }
}

/// The file being written.
pub(super) struct File<'w> {
    out: &'w mut dyn Write,
    written: u64,
    /// Each object's offset, by number - 1; `None` while reserved and not yet written.
    offsets: Vec<Option<u64>>,
}

impl<'w> File<'w> {
    /// Starts the file: the header, and a comment of high bytes that marks it binary.
    pub(super) fn start(out: &'w mut dyn Write) -> std::io::Result<File<'w>> {
        let mut file = File {
            out,
            written: 0,
            offsets: Vec::new(),
        };
        file.put(b"%PDF-1.7\n%\xbb\xad\xc0\xde\n")?;
        Ok(file)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// A number for an object written later.
    pub(super) fn reserve(&mut self) -> Id {
        self.offsets.push(None);
        Id(self.offsets.len() as u32)
    }

    fn begin(&mut self, id: Id) -> std::io::Result<()> {
        let slot = &mut self.offsets[id.0 as usize - 1];
        assert!(slot.is_none(), "object {} written twice", id.0);
        *slot = Some(self.written);
        self.put(format!("{} 0 obj\n", id.0).as_bytes())
    }

    /// Writes `id` as the dictionary (or other object) `body`, given without its `obj` lines.
    pub(super) fn object(&mut self, id: Id, body: &str) -> std::io::Result<()> {
        self.begin(id)?;
        self.put(body.as_bytes())?;
        self.put(b"\nendobj\n")
    }

    /// Writes a new object and returns its number.
    pub(super) fn add(&mut self, body: &str) -> std::io::Result<Id> {
        let id = self.reserve();
        self.object(id, body)?;
        Ok(id)
    }

    /// Writes `id` as a stream of `data`, compressed; `entries` are its dictionary's own
    /// (`/N 3`), without `/Length` and `/Filter`.
    pub(super) fn stream(&mut self, id: Id, entries: &str, data: &[u8]) -> std::io::Result<()> {
        let packed = deflate(data)?;
        self.raw_stream(id, &format!("{entries}/Filter/FlateDecode"), &packed)
    }

    /// Writes a new compressed stream and returns its number.
    pub(super) fn add_stream(&mut self, entries: &str, data: &[u8]) -> std::io::Result<Id> {
        let id = self.reserve();
        self.stream(id, entries, data)?;
        Ok(id)
    }

    /// Writes `id` as a stream of `data` exactly as given (already compressed, or to stay
    /// readable without a filter, as PDF/A asks of the metadata).
    pub(super) fn raw_stream(&mut self, id: Id, entries: &str, data: &[u8]) -> std::io::Result<()> {
        self.begin(id)?;
        self.put(format!("<<{entries}/Length {}>>\nstream\n", data.len()).as_bytes())?;
        self.put(data)?;
        self.put(b"\nendstream\nendobj\n")
    }

    /// Closes the file: the cross-reference table and the trailer (`entries` without `/Size`).
    /// Every reserved object must have been written.
    pub(super) fn finish(mut self, trailer: &str) -> std::io::Result<u64> {
        let start = self.written;
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for (n, offset) in self.offsets.iter().enumerate() {
            let offset =
                offset.unwrap_or_else(|| panic!("object {} reserved, never written", n + 1));
            table.push_str(&format!("{offset:010} 00000 n \n"));
        }
        self.put(table.as_bytes())?;
        let size = self.offsets.len() + 1;
        self.put(
            format!("trailer\n<<{trailer}/Size {size}>>\nstartxref\n{start}\n%%EOF").as_bytes(),
        )?;
        Ok(self.written)
    }
}

/// `data` in zlib's format (FlateDecode), at the default level.
pub(super) fn deflate(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(data.len() / 3), Compression::default());
    encoder.write_all(data)?;
    encoder.finish()
}

/// A number as PDF writes it: at most three decimals, no exponent, no `-0`.
pub(super) fn num(v: f32) -> Num {
    Num(v)
}

/// [`num`]'s number, written when displayed.
pub(super) struct Num(f32);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rounded = (self.0 * 1000.0).round() / 1000.0;
        if rounded == 0.0 || !rounded.is_finite() {
            return f.write_str("0");
        }
        write!(f, "{rounded}")
    }
}

/// A text string: literal when printable ASCII (with `\`, `(` and `)` escaped), else UTF-16BE
/// with its byte-order mark, in hex.
pub(super) fn text(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('(');
        for c in s.chars() {
            if matches!(c, '\\' | '(' | ')') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(')');
        return out;
    }
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        out.push_str(&format!("{unit:04X}"));
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_never_negative_zero() {
        assert_eq!(num(612.0).to_string(), "612");
        assert_eq!(num(0.1).to_string(), "0.1");
        assert_eq!(num(48.703125).to_string(), "48.703");
        assert_eq!(num(-0.0001).to_string(), "0");
        assert_eq!(num(-2.5).to_string(), "-2.5");
    }

    #[test]
    fn text_strings_escape_or_go_to_utf16() {
        assert_eq!(text("a (b) \\ c"), "(a \\(b\\) \\\\ c)");
        assert_eq!(text("Zoë"), "<FEFF005A006F00EB>");
        assert_eq!(text("tab\there"), "<FEFF00740061006200090068006500720065>");
    }

    #[test]
    fn cross_references_point_at_their_objects() {
        let mut bytes = Vec::new();
        let mut file = File::start(&mut bytes).unwrap();
        let later = file.reserve();
        let first = file.add("<</Type/Catalog/Pages 2 0 R>>").unwrap();
        file.object(later, "[1 2 3]").unwrap();
        file.finish(&format!("/Root {first}")).unwrap();
        // Offsets count bytes: the header's binary comment is not text.
        let xref = bytes.windows(5).position(|w| w == b"xref\n").unwrap();
        let tail = String::from_utf8(bytes[xref..].to_vec()).unwrap();
        let offsets: Vec<usize> = tail
            .lines()
            .skip(3)
            .take(2)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert!(bytes[offsets[0]..].starts_with(b"1 0 obj\n[1 2 3]"));
        assert!(bytes[offsets[1]..].starts_with(b"2 0 obj\n<</Type/Catalog"));
        assert!(tail.ends_with(&format!("startxref\n{xref}\n%%EOF")));
        assert!(tail.contains("/Root 2 0 R/Size 3>>"));
    }

    #[test]
    #[should_panic(expected = "reserved, never written")]
    fn a_reserved_object_left_unwritten_is_a_bug() {
        let mut bytes = Vec::new();
        let mut file = File::start(&mut bytes).unwrap();
        file.reserve();
        let _ = file.finish("");
    }
}
