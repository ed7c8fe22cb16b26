//! The report as a reader sees it: report.html of the sample bundle (the README's first command),
//! unzipped and opened in headless Chromium (support::browser), its layout measured.

use crate::support::browser::Browser;
use crate::support::bundle::extract;
use crate::support::phi_audit;
use std::path::{Path, PathBuf};

/// The sample bundle, unzipped into a temp dir: (the dir, report.html).
fn sample_report() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("riverside.zip");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let (code, out, err) = phi_audit(&[
        "report",
        samples.join("snapshot").to_str().unwrap(),
        "--attestations",
        samples.join("attestations.yaml").to_str().unwrap(),
        "--exceptions",
        samples.join("exceptions.yaml").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        "2026-10-02T09:00:00Z",
    ]);
    assert_eq!(code, 0, "{out}{err}");
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
