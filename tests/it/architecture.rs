//! The module tree is the pipeline: a module may use only the layers below it (docs/architecture.md).
//! This test reads every `use crate::…` / `crate::…` path in src/ and fails on an import that runs
//! back up a layer or across to a module of the same layer, which also rules out cycles. It also
//! keeps every function short enough to read in one sitting.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Module path prefix → layer. A module may import a module of a lower layer, or anything inside
/// its own entry; the longest prefix that matches decides.
const LAYERS: &[(&str, u8)] = &[
    // The contracts and small tools everything shares; they import nothing of the crate.
    ("findings", 0),
    ("schema", 0),
    ("tempfiles", 0),
    ("parallel", 0),
    ("bundle::format", 0),
    // Reading and writing evidence; the catalog; the bundle's signature and timestamp.
    ("snapshot", 1),
    ("collect", 1),
    ("controls", 1),
    ("bundle::sign", 1),
    ("bundle::timestamp", 1),
    // The pure evaluator, then the administrative step after it.
    ("evaluate", 2),
    ("attest", 3),
    // Judged evidence; checking a bundle.
    ("audit", 4),
    ("bundle::verify", 4),
    ("diff", 5),
    ("report", 6),
    ("bundle", 4),
    ("package", 7),
    ("cli", 8),
];

/// Modules held to a narrower rule than their layer: what else they may import.
const ONLY: &[(&str, &[&str])] = &[
    // The collector writes the snapshot format and nothing else: it must not lean on the reader.
    ("collect", &["schema", "tempfiles"]),
];

/// The longest a function may be, in lines.
const LONGEST_FUNCTION: usize = 150;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` → `a::b`, `src/a/mod.rs` and `src/a.rs` → `a`; lib.rs and main.rs → `None`.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).ok()?.with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [only] if only == "lib" || only == "main" => None,
        _ => Some(parts.join("::")),
    }
}

/// The source without unit-test modules (they may reach anywhere) and comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path a file names through `crate::`, including `use crate::{a::b, c}` groups.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let path = item.trim().split(['{', ' ']).next().unwrap_or("");
                found.insert(path.trim_end_matches("::").to_string());
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            found.insert(path.trim_end_matches("::").to_string());
        }
    }
    found.retain(|p| !p.is_empty());
    found
}

/// The table entry that owns a module path: the longest prefix, on `::` boundaries.
fn entry_of(path: &str) -> Option<(&'static str, u8)> {
    LAYERS
        .iter()
        .filter(|(prefix, _)| path == *prefix || path.starts_with(&format!("{prefix}::")))
        .max_by_key(|(prefix, _)| prefix.len())
        .copied()
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let (own, layer) = entry_of(&module)
            .unwrap_or_else(|| panic!("{module} ({}) has no layer in LAYERS", file.display()));
        let code = code_of(&std::fs::read_to_string(file).expect("readable"));
        for import in imports(&code) {
            // Items of the crate root (a function, a macro) are not modules.
            let Some((target, target_layer)) = entry_of(&import) else {
                continue;
            };
            if target == own {
                continue;
            }
            let narrowed = ONLY.iter().find(|(m, _)| *m == own);
            let allowed = match narrowed {
                Some((_, only)) => only.contains(&target),
                None => target_layer < layer,
            };
            if !allowed {
                wrong.push(format!(
                    "{} ({own}, layer {layer}) imports crate::{import} ({target}, layer {target_layer})",
                    file.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up or across the layers of docs/architecture.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_table_catches_an_upward_import() {
    // The checker itself: an evaluator that reached into a renderer would be caught.
    let code = "use crate::report::oscal::not_collected;\nuse crate::{snapshot::Bucket, findings};";
    let found = imports(code);
    assert!(found.contains("report::oscal::not_collected"), "{found:?}");
    assert!(found.contains("snapshot::Bucket") && found.contains("findings"));
    assert_eq!(entry_of("report::oscal"), Some(("report", 6)));
    assert_eq!(entry_of("bundle::format"), Some(("bundle::format", 0)));
    assert_eq!(entry_of("package"), Some(("package", 7)));
    assert!(entry_of("report::oscal").unwrap().1 > entry_of("evaluate").unwrap().1);
}

/// Functions longer than [`LONGEST_FUNCTION`] lines, as `file:line name (N lines)`. The source
/// is rustfmt'ed, so a function ends at the first line that closes its indentation.
fn long_functions(path: &Path, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if !is_fn || line.trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        let Some(end) = lines[i + 1..].iter().position(|l| l.trim_end() == close) else {
            continue;
        };
        let length = end + 2;
        if length > LONGEST_FUNCTION {
            let name = trimmed.split('(').next().unwrap_or(trimmed);
            long.push(format!(
                "{}:{} {name} ({length} lines)",
                path.display(),
                i + 1
            ));
        }
    }
    long
}

#[test]
fn no_function_is_too_long_to_read_in_one_sitting() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let long: Vec<String> = files
        .iter()
        .flat_map(|f| long_functions(f, &std::fs::read_to_string(f).expect("readable")))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {LONGEST_FUNCTION} lines:\n{}",
        long.join("\n")
    );
    // The measure itself: a 200-line function is found.
    let body = format!("fn big() {{\n{}}}\n", "    let x = 1;\n".repeat(198));
    assert_eq!(long_functions(Path::new("x.rs"), &body).len(), 1);
}
