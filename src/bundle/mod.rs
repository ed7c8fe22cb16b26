//! The evidence bundle (docs/bundle-layout.md): one zip an auditor receives, reproducible byte for
//! byte and checkable with standard tools.
//!
//! Layered bottom to top:
//! - [`format`](mod@format): the layout itself — entry names, the manifest's line format, the
//!   rules for a safe entry name. Everything that reads or writes a bundle takes these from here.
//! - [`sign`] and [`timestamp`]: the minisign signature and the RFC 3161 token over the manifest.
//! - [`verify`]: proves a bundle is what was written (format, sign, timestamp; never the writer).
//!
//! The writer, which renders an audit through the report module and writes the zip, sits above
//! the report (the top-level `package` module), so nothing here imports a renderer.

pub mod format;
pub mod sign;
pub mod timestamp;
pub mod verify;
