//! How a [`BundleDiff`] is shown to people: the terminal table (100 columns) and a
//! self-contained HTML page rendered with Tera from `report-templates/diff.html` (autoescape on,
//! so bucket names, policies and reasons that came from AWS are HTML-escaped). Both are
//! deterministic. The JSON form is the diff's own format ([`crate::diff::BundleDiff::json`]).

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

use super::table::{wrap, WIDTH};
use super::ReportError;
use crate::diff::access::{AccessChange, AccessDiff};
use crate::diff::{BucketRef, BundleDiff, BundleSide, ConfigChange, StatusChange};

const TEMPLATE_NAME: &str = "diff.html";
const TEMPLATE: &str = include_str!("../../report-templates/diff.html");

fn was(change: &StatusChange) -> String {
    match change.before {
        Some(status) => format!("{status} -> {}", change.after),
        None => format!("new subject, {}", change.after),
    }
}

fn side_lines(out: &mut String, label: &str, side: &BundleSide) {
    let _ = writeln!(out, "{label}: {}", side.bundle);
    let _ = writeln!(
        out,
        "  account {}, collected {}, generated {}",
        side.account_id, side.collected_at, side.generated_at
    );
    let _ = writeln!(out, "  snapshot digest {}", side.digest);
}

fn status_section(out: &mut String, title: &str, changes: &[StatusChange]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "{title} ({})", changes.len());
    if changes.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for change in changes {
        let head = format!(
            "[{}] {} {} ({})",
            change.severity.as_str(),
            change.subject,
            change.control,
            was(change)
        );
        for (i, line) in wrap(&head, WIDTH - 4).into_iter().enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            let _ = writeln!(out, "{indent}{line}");
        }
        for line in wrap(&change.reason, WIDTH - 6) {
            let _ = writeln!(out, "      {line}");
        }
    }
}

fn bucket_section(out: &mut String, title: &str, buckets: &[BucketRef]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "{title} ({})", buckets.len());
    if buckets.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for bucket in buckets {
        let _ = writeln!(
            out,
            "  {}  ({}, {})",
            bucket.name,
            bucket.region.as_deref().unwrap_or("region unknown"),
            if bucket.in_scope {
                "in scope"
            } else {
                "out of scope"
            }
        );
    }
}

/// One line per difference inside two API answers: the JSON pointer of what changed, with the
/// value before and after; for lists whose length changed, the elements added and removed.
pub(crate) fn differences(
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    lines: &mut Vec<String>,
) {
    let shown = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), Value::to_string);
    // The root pointer is "": name it, so a line never starts with a bare colon.
    let at = if path.is_empty() { "(answer)" } else { path };
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (x, y) = (a.get(key), b.get(key));
                if x != y {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    differences(&format!("{path}/{escaped}"), x, y, lines);
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if x != y {
                    differences(&format!("{path}/{i}"), Some(x), Some(y), lines);
                }
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            let start = lines.len();
            for x in a.iter().filter(|x| !b.contains(x)) {
                lines.push(format!("{at} removed: {x}"));
            }
            for y in b.iter().filter(|y| !a.contains(y)) {
                lines.push(format!("{at} added: {y}"));
            }
            if lines.len() == start {
                lines.push(format!("{at}: {} -> {}", shown(before), shown(after)));
            }
        }
        _ => lines.push(format!("{at}: {} -> {}", shown(before), shown(after))),
    }
}

/// `None` for `null`: a call the bundle did not record.
pub(crate) fn present(value: &Value) -> Option<&Value> {
    (!value.is_null()).then_some(value)
}

/// `text` cut to `width` characters, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn config_section(out: &mut String, changes: &[ConfigChange]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "Changed configurations ({})", changes.len());
    if changes.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for change in changes {
        let _ = writeln!(out, "  {} {}", change.bucket, change.operation);
        let mut lines = Vec::new();
        differences(
            "",
            present(&change.before),
            present(&change.after),
            &mut lines,
        );
        for line in lines {
            let _ = writeln!(out, "    {}", cut(&line, WIDTH - 4));
        }
    }
}

/// One line of an access change: `added s3://b user/x: read: no -> yes`.
pub(crate) fn access_line(change: &AccessChange) -> String {
    let who = (change
        .principal
        .split_once(":user/")
        .map(|(_, n)| format!("user/{n}")))
    .or_else(|| {
        change
            .principal
            .split_once(":role/")
            .map(|(_, n)| format!("role/{n}"))
    })
    .unwrap_or_else(|| change.principal.clone());
    let moves: Vec<&str> = (change.gained.iter().chain(&change.lost))
        .map(String::as_str)
        .collect();
    format!(
        "{} {} {who}: {}",
        change.change,
        change.bucket,
        moves.join(", ")
    )
}

fn access_section(out: &mut String, access: &AccessDiff) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Access to ePHI gained or lost ({})",
        access.changes.len()
    );
    if access.changes.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for change in &access.changes {
        for (i, line) in wrap(&access_line(change), WIDTH - 4)
            .into_iter()
            .enumerate()
        {
            let indent = if i == 0 { "  " } else { "    " };
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    for (key, why) in &access.not_compared {
        for line in wrap(&format!("not compared: {key}: {why}"), WIDTH - 2) {
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// `diff --format table`: every section, readable in 100 columns. A changed API answer is shown
/// as the JSON pointers that differ (each line cut to the width); `--format json` gives the
/// answers in full.
pub fn table(diff: &BundleDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "phi-audit diff");
    side_lines(&mut out, "old", &diff.old);
    side_lines(&mut out, "new", &diff.new);
    if !diff.same_account {
        let warning = format!(
            "WARNING: the bundles are of different accounts ({} and {}): the diff compares \
             unrelated buckets",
            diff.old.account_id, diff.new.account_id
        );
        for line in wrap(&warning, WIDTH) {
            let _ = writeln!(out, "{line}");
        }
    }
    status_section(&mut out, "New failures", &diff.new_failures);
    status_section(&mut out, "Fixed failures", &diff.fixed_failures);
    status_section(&mut out, "Newly unassessable", &diff.newly_unassessable);
    status_section(&mut out, "Exceptions expired", &diff.expired_exceptions);
    bucket_section(&mut out, "New buckets", &diff.new_buckets);
    bucket_section(&mut out, "Removed buckets", &diff.removed_buckets);
    config_section(&mut out, &diff.changed_configurations);
    access_section(&mut out, &diff.access_changes);
    let _ = writeln!(out);
    let summary = format!(
        "Summary: new failures {}, fixed failures {}, newly unassessable {}, exceptions expired {}, \
         new buckets {}, removed buckets {}, changed configurations {}, access changes {}",
        diff.new_failures.len(),
        diff.fixed_failures.len(),
        diff.newly_unassessable.len(),
        diff.expired_exceptions.len(),
        diff.new_buckets.len(),
        diff.removed_buckets.len(),
        diff.changed_configurations.len(),
        diff.access_changes.changes.len()
    );
    for line in wrap(&summary, WIDTH) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// What the HTML template reads: the diff, with each API answer as pretty JSON text.
#[derive(Serialize)]
struct HtmlModel<'a> {
    diff: &'a BundleDiff,
    status_sections: Vec<HtmlSection<'a, StatusChange>>,
    bucket_sections: Vec<HtmlSection<'a, BucketRef>>,
    configurations: Vec<HtmlConfig<'a>>,
    tool_version: &'static str,
}

#[derive(Serialize)]
struct HtmlSection<'a, T> {
    title: &'static str,
    items: &'a [T],
}

#[derive(Serialize)]
struct HtmlConfig<'a> {
    bucket: &'a str,
    operation: &'a str,
    before: String,
    after: String,
}

/// `diff --format html`: one self-contained page (inline CSS, no scripts, no external assets).
pub fn html(diff: &BundleDiff) -> Result<String, ReportError> {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("JSON serialises");
    let model = HtmlModel {
        diff,
        status_sections: vec![
            HtmlSection {
                title: "New failures",
                items: &diff.new_failures,
            },
            HtmlSection {
                title: "Fixed failures",
                items: &diff.fixed_failures,
            },
            HtmlSection {
                title: "Newly unassessable",
                items: &diff.newly_unassessable,
            },
            HtmlSection {
                title: "Exceptions expired",
                items: &diff.expired_exceptions,
            },
        ],
        bucket_sections: vec![
            HtmlSection {
                title: "New buckets",
                items: &diff.new_buckets,
            },
            HtmlSection {
                title: "Removed buckets",
                items: &diff.removed_buckets,
            },
        ],
        configurations: diff
            .changed_configurations
            .iter()
            .map(|c| HtmlConfig {
                bucket: &c.bucket,
                operation: &c.operation,
                before: pretty(&c.before),
                after: pretty(&c.after),
            })
            .collect(),
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let mut tera = tera::Tera::default();
    tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    let context = tera::Context::from_serialize(&model)
        .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    let mut page = tera
        .render(TEMPLATE_NAME, &context)
        .map_err(|e| ReportError::Template(format!("{e:?}")))?;
    if !page.ends_with('\n') {
        page.push('\n');
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::{cut, differences};
    use serde_json::json;

    #[test]
    fn long_lines_are_cut_to_the_width() {
        assert_eq!(cut("abc", 20), "abc");
        let text = cut(&"x".repeat(50), 20);
        assert_eq!(text.chars().count(), 20);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn differences_name_the_json_pointers_that_changed() {
        let before = json!({"ok": {"Grants": [1, 2], "A/b": {"x": 1}, "Same": true}});
        let after = json!({"ok": {"Grants": [2, 3, 4], "A/b": {"x": 2}, "Same": true, "New": "n"}});
        let mut lines = Vec::new();
        differences("", Some(&before), Some(&after), &mut lines);
        assert_eq!(
            lines,
            vec![
                "/ok/A~1b/x: 1 -> 2",
                "/ok/Grants removed: 1",
                "/ok/Grants added: 3",
                "/ok/Grants added: 4",
                "/ok/New: absent -> \"n\"",
            ]
        );
        let mut lines = Vec::new();
        differences("", None, Some(&json!({"ok": {}})), &mut lines);
        assert_eq!(lines, vec!["(answer): absent -> {\"ok\":{}}"]);
    }
}
