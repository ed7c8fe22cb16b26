//! The report as a reader sees it: report.html of the sample bundle (the README's first command),
//! unzipped and opened in headless Chromium (support::browser): its layout measured, its filters
//! checked against findings.json, its console free of errors, and the page printed to PDF.

use crate::support::browser::Browser;
use crate::support::bundle::{extract, require_tool};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sample bundle, unzipped into a temp dir: (the dir, report.html).
pub(crate) fn sample_report() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("riverside.zip");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    crate::support::bundle::report_sample(&samples.join("snapshot"), &bundle);
    let unzipped = dir.path().join("bundle");
    extract(&bundle, &unzipped);
    let html = unzipped.join("report.html");
    (dir, html)
}

/// Every label of the cover (and of the other label/value lists) has its own value beside it:
/// the value starts on the label's line, right of it, and no two labels share a line.
#[test]
fn every_cover_value_sits_beside_its_label() {
    let (_dir, html) = sample_report();
    let mut browser = Browser::start();
    browser.open(&html);
    let labels = browser.find_all("dl.cover > dt");
    let values = browser.find_all("dl.cover > dd");
    assert!(labels.len() >= 10, "the cover lists its facts: {labels:?}");
    assert_eq!(labels.len(), values.len(), "one value per label");
    let mut previous_top = f64::MIN;
    for (label, value) in labels.iter().zip(&values) {
        let (l, v) = (browser.rect(label), browser.rect(value));
        let name = browser.text(label);
        let shown = browser.text(value);
        assert!(
            (l.y - v.y).abs() < 2.0,
            "{name:?} is at y={} but its value {shown:?} is at y={}",
            l.y,
            v.y
        );
        assert!(
            v.x >= l.x + l.width,
            "{name:?}: the value overlaps the label"
        );
        assert!(
            l.y > previous_top,
            "{name:?} shares a line with the label above"
        );
        previous_top = l.y;
    }
    // The values are the cover's own, in order: the buckets line is beside "Buckets".
    let pairs: Vec<(String, String)> = labels
        .iter()
        .zip(&values)
        .map(|(l, v)| (browser.text(l), browser.text(v)))
        .collect();
    let buckets = pairs
        .iter()
        .find(|(l, _)| l == "Buckets")
        .expect("a Buckets line");
    assert!(buckets.1.contains("found"), "{buckets:?}");
    let digest = pairs
        .iter()
        .find(|(l, _)| l.starts_with("Snapshot digest"))
        .expect("a digest line");
    assert_eq!(digest.1.len(), 64, "{digest:?}");
}

/// What the test reads of every filterable row.
const ROWS_JS: &str = r##"
return Array.prototype.map.call(document.querySelectorAll("tr[data-row]"), function (row) {
  var ids = Array.prototype.map.call(row.querySelectorAll("[id^='f-']"), function (e) { return e.id; });
  if (row.id.indexOf("f-") === 0) { ids.push(row.id); }
  var inventory = row.closest("#appendix-inventory") !== null;
  return {
    ids: ids,
    inventory: inventory,
    cells: Array.prototype.map.call(row.cells, function (c) { return c.textContent; }),
    visible: row.getClientRects().length > 0,
    text: row.textContent,
    attrs: {
      status: row.getAttribute("data-status"),
      severity: row.getAttribute("data-severity"),
      spec: row.getAttribute("data-spec"),
      account: row.getAttribute("data-account"),
      ephi: row.getAttribute("data-ephi"),
      bucket: row.getAttribute("data-bucket")
    }
  };
});"##;

#[derive(Debug)]
struct Row {
    ids: Vec<String>,
    /// An inventory row: its bucket name (else empty).
    bucket: String,
    visible: bool,
    text: String,
    /// The row's data attributes by facet (absent: the row is not narrowed by that facet).
    attrs: BTreeMap<String, String>,
}

fn rows(browser: &mut Browser) -> Vec<Row> {
    let value = browser.execute(ROWS_JS, json!([]));
    value
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| Row {
            ids: (r["ids"].as_array().unwrap().iter())
                .map(|i| i.as_str().unwrap().to_string())
                .collect(),
            bucket: if r["inventory"] == true {
                r["cells"][0].as_str().unwrap().to_string()
            } else {
                String::new()
            },
            visible: r["visible"] == true,
            text: r["text"].as_str().unwrap().to_string(),
            attrs: (r["attrs"].as_object().unwrap().iter())
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
        })
        .collect()
}

/// Picks `value` (empty: "any") in the filter bar's select for `facet`, by clicking it.
fn choose(browser: &mut Browser, facet: &str, value: &str) {
    let option = browser.find_all(&format!(
        "#filters select[data-facet='{facet}'] option[value='{value}']"
    ));
    assert_eq!(option.len(), 1, "the {facet} filter offers {value:?}");
    browser.click(&option[0]);
}

/// The facts of findings.json a row's facets come from.
struct Truth {
    findings: BTreeMap<String, Value>,
    /// ePHI per bucket, as the inventory shows it.
    ephi: BTreeMap<String, bool>,
}

impl Truth {
    /// The findings a row stands for: its own (finding rows) or its bucket's (inventory rows).
    fn of(&self, row: &Row) -> Vec<&Value> {
        if row.bucket.is_empty() {
            row.ids.iter().map(|id| &self.findings[id]).collect()
        } else {
            let subject = format!("s3://{}", row.bucket);
            (self.findings.values())
                .filter(|f| f["subject"] == subject.as_str())
                .collect()
        }
    }

    /// Whether the row should show under `facet` = `value`: some finding it stands for has it
    /// (rows of no bucket are not narrowed by the bucket facets).
    fn shows(&self, row: &Row, facet: &str, value: &str) -> bool {
        if row.ids.is_empty() && row.bucket.is_empty() {
            // A row that stands for no finding (the access review's): its own attributes
            // decide, as the shared convention says; an absent one does not narrow it.
            return match row.attrs.get(facet) {
                None => true,
                Some(v) if facet == "bucket" => v.split_whitespace().any(|n| n.contains(value)),
                Some(v) => v.split_whitespace().any(|x| x == value),
            };
        }
        let findings = self.of(row);
        let buckets: Vec<String> = if row.bucket.is_empty() {
            (findings.iter())
                .filter_map(|f| f["subject"].as_str().unwrap().strip_prefix("s3://"))
                .map(str::to_string)
                .collect()
        } else {
            vec![row.bucket.clone()]
        };
        match facet {
            // The sample is one account: every bucket of the inventory is that account's.
            "account" if !row.bucket.is_empty() => {
                self.findings.values().all(|f| f["account"] == value)
            }
            "status" | "severity" | "account" => findings.iter().any(|f| f[facet] == value),
            "spec" => (findings.iter())
                .any(|f| (f["safeguards"].as_array().unwrap().iter()).any(|s| s == value)),
            "ephi" => {
                buckets.is_empty() || buckets.iter().any(|b| self.ephi[b] == (value == "yes"))
            }
            "bucket" => buckets.is_empty() || buckets.iter().any(|b| b.contains(value)),
            _ => unreachable!("{facet}"),
        }
    }
}

fn check(browser: &mut Browser, truth: &Truth, facet: &str, value: &str) -> usize {
    let rows = rows(browser);
    let mut shown = 0;
    for row in &rows {
        let expected = truth.shows(row, facet, value);
        assert_eq!(
            row.visible,
            expected,
            "{facet}={value}: row {:?} {:?} should be {}",
            row.ids,
            row.bucket,
            if expected { "shown" } else { "hidden" }
        );
        shown += usize::from(row.visible);
    }
    assert!(shown > 0, "{facet}={value} shows some rows");
    shown
}

/// Every filter of the bar, applied as a reader would, leaves exactly the rows whose findings
/// (in findings.json) have the chosen value; the search box keeps the rows holding the text;
/// the page logs no error (its script runs under its own Content-Security-Policy); and the
/// page prints whole, whatever is filtered.
#[test]
fn the_filters_show_the_rows_findings_json_selects() {
    let (dir, html) = sample_report();
    let json: Value =
        serde_json::from_slice(&std::fs::read(html.with_file_name("findings.json")).unwrap())
            .unwrap();
    let findings: BTreeMap<String, Value> = (json["findings"].as_array().unwrap().iter())
        .map(|f| (f["id"].as_str().unwrap().to_string(), f.clone()))
        .collect();
    let mut browser = Browser::start();
    browser.open(&html);
    let ready = browser.execute(
        "return document.documentElement.getAttribute('data-filter-ready');",
        json!([]),
    );
    assert_eq!(ready, "yes", "the filter script ran");
    let all = rows(&mut browser);
    assert!(
        all.iter().all(|r| r.visible),
        "nothing is hidden before a filter is chosen"
    );
    // Every failing, error and excepted finding is on a row (with scripts off, too: rows are
    // only ever hidden by the script).
    let on_rows: BTreeSet<&str> = all
        .iter()
        .flat_map(|r| &r.ids)
        .map(String::as_str)
        .collect();
    for (id, f) in &findings {
        if ["fail", "error", "excepted"].contains(&f["status"].as_str().unwrap()) {
            assert!(
                on_rows.contains(id.as_str()),
                "{id} ({}) has no row",
                f["control"]
            );
        }
    }
    let ephi: BTreeMap<String, bool> = (all.iter().filter(|r| !r.bucket.is_empty()))
        .map(|r| {
            let cells = browser.execute(
                "return Array.prototype.map.call(document.querySelectorAll('#appendix-inventory tr[data-row]'), function (r) { return [r.cells[0].textContent, r.cells[3].textContent]; });",
                json!([]),
            );
            let ephi = (cells.as_array().unwrap().iter())
                .find(|c| c[0] == r.bucket.as_str())
                .map(|c| c[1].as_str().unwrap().starts_with("yes"))
                .unwrap();
            (r.bucket.clone(), ephi)
        })
        .collect();
    assert!(ephi.values().any(|e| *e) && ephi.values().any(|e| !*e));
    let truth = Truth { findings, ephi };

    for (facet, value) in [
        ("status", "fail"),
        ("status", "excepted"),
        ("severity", "critical"),
        ("spec", "164.312(b)"),
        ("account", "111122223333"),
        ("ephi", "yes"),
        ("ephi", "no"),
    ] {
        choose(&mut browser, facet, value);
        let shown = check(&mut browser, &truth, facet, value);
        if facet != "account" {
            assert!(shown < all.len(), "{facet}={value} hides some rows");
        }
        choose(&mut browser, facet, "");
        assert!(
            rows(&mut browser).iter().all(|r| r.visible),
            "{facet}: any shows all again"
        );
    }
    let bucket = browser.find_all("#filters input[data-facet='bucket']")[0].clone();
    browser.type_into(&bucket, "fax");
    check(&mut browser, &truth, "bucket", "fax");
    browser.clear(&bucket);

    let search = browser.find_all("#filters input[data-facet='search']")[0].clone();
    browser.type_into(&search, "AccessDenied");
    let found = rows(&mut browser);
    for row in &found {
        assert_eq!(
            row.visible,
            row.text.to_lowercase().contains("accessdenied"),
            "search: {:?}",
            row.ids
        );
    }
    assert!(found.iter().any(|r| r.visible) && found.iter().any(|r| !r.visible));
    let output = browser.find_all("#filters output")[0].clone();
    let status = browser.text(&output);
    assert!(
        status.contains(" of "),
        "the bar says how many rows it shows: {status:?}"
    );

    assert_eq!(
        browser.console_errors(),
        Vec::<String>::new(),
        "no console errors"
    );

    // Printed while the search hides most rows: every bucket of the inventory is on paper, and
    // the filter bar is not.
    let pdf = browser.print_pdf();
    let printed = dir.path().join("printed.pdf");
    std::fs::write(&printed, &pdf).unwrap();
    let pdfinfo = require_tool("pdfinfo", "poppler-utils");
    let info = Command::new(pdfinfo).arg(&printed).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    let pages: usize = (info.lines())
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().parse().unwrap())
        .expect("pdfinfo gives the page count");
    assert!(pages > 10, "the whole report prints: {pages} pages");
    let pdftotext = require_tool("pdftotext", "poppler-utils");
    let text = Command::new(pdftotext)
        .arg(&printed)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Appendix A: Bucket inventory"));
    // Narrow columns wrap long names: compare without the line breaks.
    let joined: String = text.split_whitespace().collect();
    for bucket in truth.ephi.keys() {
        assert!(joined.contains(bucket.as_str()), "{bucket} is printed");
    }
    assert!(
        !text.contains("Filter rows"),
        "the filter bar is not printed"
    );
}
