//! The pictures against findings.json (issue #18 item 1): the values report.html's inline SVG
//! carries (its data attributes) and the numbers report.pdf prints in and beside its shapes
//! (read back with pdftotext) are the counts findings.json gives, for the sample bundle.

use crate::report_browser::sample_report;
use crate::support::bundle::require_tool;
use phi_audit::audit::control_ids;
use phi_audit::controls::{Catalog, SAFEGUARDS};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const STATUSES: [&str; 5] = ["fail", "error", "excepted", "pass", "not_applicable"];

type Counts = BTreeMap<String, usize>;

/// A heat map row as drawn: its bucket, whether it is marked ePHI, its cells by family.
type DrawnRow = (String, bool, Vec<(String, Counts)>);

fn findings(html: &Path) -> Vec<Value> {
    let json: Value =
        serde_json::from_slice(&std::fs::read(html.with_file_name("findings.json")).unwrap())
            .unwrap();
    json["findings"].as_array().unwrap().clone()
}

/// One figure of the page, `<figure … id="ID">` to its `</figure>`.
fn figure<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let end = start + page[start..].find("</figure>").unwrap();
    &page[start..end]
}

/// The `data-counts="fail error excepted pass n/a"` attribute of one tag.
fn data_counts(tag: &str) -> Counts {
    let re = Regex::new(r#"data-counts="([\d ]+)""#).unwrap();
    let counts = re
        .captures(tag)
        .unwrap_or_else(|| panic!("no counts in {tag}"));
    let numbers: Vec<usize> = counts[1].split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(numbers.len(), STATUSES.len(), "{tag}");
    STATUSES
        .iter()
        .map(|s| s.to_string())
        .zip(numbers)
        .collect()
}

fn zero() -> Counts {
    STATUSES.iter().map(|s| (s.to_string(), 0)).collect()
}

/// What a heat map cell says: its worst status with how many, as charts.rs words it.
fn cell_label(c: &Counts) -> String {
    match STATUSES.iter().find(|s| c[**s] > 0) {
        Some(&"fail") => format!("{} fail", c["fail"]),
        Some(&"error") => format!("{} error", c["error"]),
        Some(&"excepted") => format!("{} exc.", c["excepted"]),
        Some(&"pass") => "pass".to_string(),
        Some(_) => "n/a".to_string(),
        None => "-".to_string(),
    }
}

fn pdf_text(pdf: &Path) -> String {
    let pdftotext = require_tool("pdftotext", "poppler-utils");
    let out = Command::new(pdftotext)
        .args(["-layout", "-f", "1", "-l", "8"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pictures_draw_the_counts_of_findings_json() {
    let (_dir, html) = sample_report();
    let page = std::fs::read_to_string(&html).unwrap();
    let findings = findings(&html);
    let pdf = pdf_text(&html.with_file_name("report.pdf"));

    // Status by specification: every non-administrative finding under each specification it
    // maps to.
    let mut by_spec: BTreeMap<&str, Counts> = BTreeMap::new();
    for (spec, _) in SAFEGUARDS {
        let mut counts = zero();
        for f in &findings {
            let mapped =
                (f["safeguards"].as_array().unwrap().iter()).any(|s| s.as_str() == Some(spec));
            if mapped && !f["control"].as_str().unwrap().starts_with("admin.") {
                *counts.get_mut(f["status"].as_str().unwrap()).unwrap() += 1;
            }
        }
        by_spec.insert(spec, counts);
    }
    let specs = figure(&page, "chart-specs");
    let bar = Regex::new(r#"(?s)<g class="bar" data-key="([^"]+)" data-total="(\d+)">(.*?)</g>"#)
        .unwrap();
    let segment = Regex::new(r#"data-status="(\w+)" data-count="(\d+)""#).unwrap();
    let mut drawn = 0;
    for c in bar.captures_iter(specs) {
        let expected = &by_spec[&c[1]];
        let mut counts = zero();
        for s in segment.captures_iter(&c[3]) {
            counts.insert(s[1].to_string(), s[2].parse().unwrap());
        }
        assert_eq!(&counts, expected, "the bar of {} in report.html", &c[1]);
        assert_eq!(
            c[2].parse::<usize>().unwrap(),
            expected.values().sum::<usize>()
        );
        drawn += 1;
        // The PDF prints the same numbers beside the same bar.
        let line = Regex::new(&format!(
            r"{} .*fail (\d+), error (\d+), excepted (\d+), pass (\d+), n/a (\d+)",
            regex::escape(&c[1])
        ))
        .unwrap();
        let printed = line
            .captures(&pdf)
            .unwrap_or_else(|| panic!("report.pdf has no bar for {}", &c[1]));
        for (i, status) in STATUSES.iter().enumerate() {
            assert_eq!(
                printed[i + 1].parse::<usize>().unwrap(),
                expected[*status],
                "report.pdf: {} {status}",
                &c[1]
            );
        }
    }
    assert_eq!(drawn, SAFEGUARDS.len(), "one bar per specification");

    // The heat map: each bucket's findings per control family.
    let catalog = Catalog::builtin(&control_ids()).unwrap();
    let family: BTreeMap<&str, &str> = (catalog.controls.iter())
        .map(|c| (c.id.as_str(), c.family.as_str()))
        .collect();
    let mut by_bucket: BTreeMap<String, BTreeMap<String, Counts>> = BTreeMap::new();
    for f in &findings {
        let Some(bucket) = f["subject"].as_str().unwrap().strip_prefix("s3://") else {
            continue;
        };
        let fam = family[f["control"].as_str().unwrap()];
        let cell = (by_bucket.entry(bucket.to_string()).or_default())
            .entry(fam.to_string())
            .or_insert_with(zero);
        *cell.get_mut(f["status"].as_str().unwrap()).unwrap() += 1;
    }
    let heatmap = figure(&page, "chart-heatmap");
    let row = Regex::new(r#"(?s)(<g class="matrix-row"[^>]*>)(.*?)</g>"#).unwrap();
    let cell =
        Regex::new(r#"<rect class="cell" data-key="([^"]+)" data-status="(\w+)"[^>]*>"#).unwrap();
    let bucket_of = Regex::new(r#"data-bucket="([^"]+)" data-ephi="(yes|no)""#).unwrap();
    let mut rows: Vec<DrawnRow> = Vec::new();
    for r in row.captures_iter(heatmap) {
        let b = bucket_of.captures(&r[1]).unwrap();
        let (bucket, ephi) = (b[1].to_string(), &b[2] == "yes");
        let expected = &by_bucket[&bucket];
        let mut total = zero();
        for c in expected.values() {
            for (s, n) in c {
                *total.get_mut(s).unwrap() += n;
            }
        }
        assert_eq!(data_counts(&r[1]), total, "the heat map row of {bucket}");
        let mut cells = Vec::new();
        for c in cell.captures_iter(&r[2]) {
            let want = expected.get(&c[1]).cloned().unwrap_or_else(zero);
            assert_eq!(data_counts(&c[0]), want, "{bucket} x {}", &c[1]);
            let worst = STATUSES.iter().find(|s| want[**s] > 0).unwrap_or(&"none");
            assert_eq!(&c[2], *worst, "{bucket} x {}: worst status", &c[1]);
            cells.push((c[1].to_string(), want));
        }
        let in_columns: usize = cells.iter().map(|(_, c)| c.values().sum::<usize>()).sum();
        assert_eq!(
            in_columns,
            total.values().sum::<usize>(),
            "{bucket}: every finding is in a column"
        );
        rows.push((bucket, ephi, cells));
    }
    assert_eq!(
        rows.iter()
            .map(|r| r.0.clone())
            .collect::<std::collections::BTreeSet<_>>(),
        by_bucket.keys().cloned().collect(),
        "every bucket with findings is drawn, once"
    );
    let first_other = rows.iter().position(|r| !r.1).unwrap_or(rows.len());
    assert!(first_other > 0, "the sample has ePHI buckets");
    assert!(
        rows[first_other..].iter().all(|r| !r.1),
        "ePHI buckets come first"
    );

    // The PDF prints each drawn row's cells in the same order.
    let mut printed_rows = 0;
    for (bucket, ephi, cells) in &rows {
        let label = if *ephi {
            format!("[ePHI] {bucket}")
        } else {
            bucket.clone()
        };
        let Some(line) = (pdf.lines().map(str::trim)).find(|l| {
            l.strip_prefix(label.as_str())
                .is_some_and(|r| r.starts_with("  "))
        }) else {
            continue;
        };
        let shown: Vec<&str> = line[label.len()..]
            .split("  ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        let expected: Vec<String> = cells.iter().map(|(_, c)| cell_label(c)).collect();
        assert_eq!(shown, expected, "report.pdf's heat map row of {bucket}");
        printed_rows += 1;
    }
    let troubled = (rows.iter())
        .filter(|r| r.1 || r.2.iter().any(|(_, c)| c["fail"] + c["error"] > 0))
        .count();
    assert_eq!(
        printed_rows, troubled,
        "the PDF draws the ePHI and failing buckets"
    );
}
