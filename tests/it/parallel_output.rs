//! Every core, the same bytes (issue #17 item 3): snapshot files are parsed, buckets judged and
//! bundle entries rendered and compressed on worker threads, and the output must not depend on
//! how many there are or in which order they finish. Each case runs `--threads 1` against
//! `--threads 4` on a generated account, a generated organisation and the sample with its
//! attestations and exceptions, and compares the bytes of evaluate's JSON and CSV and of the
//! whole bundle. evaluate's JSON and CSV, written as the buckets are judged, must also be the
//! bytes of the bundle's findings.json and findings.csv, written from the findings held whole.

use crate::support::bundle::{audit_of, entry, samples, GENERATED_AT};
use crate::support::fixtures::gen_fleet;
use crate::support::phi_audit;
use phi_audit::package::{write, Options};
use phi_audit::parallel::Threads;

use std::path::{Path, PathBuf};

/// `phi-audit ARGS --threads N`'s stdout; panics with its output when it fails.
fn run(args: &[&str], threads: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["--threads", threads, "--generated-at", GENERATED_AT]);
    let (code, out, err) = phi_audit(&all);
    // 0, or 1 for a report whose findings reach a --fail-on threshold (not asked here).
    assert_eq!(code, 0, "phi-audit {all:?}:\n{err}");
    out
}

/// Evaluates and reports `snapshot` on one thread and on four; every output must be the same.
fn same_bytes_on_any_thread_count(snapshot: &Path, extra: &[&str], dir: &Path) {
    let snapshot = snapshot.to_str().unwrap();
    let mut streamed = Vec::new();
    for format in ["json", "csv"] {
        let mut args = vec!["evaluate", snapshot, "--format", format];
        args.extend(extra);
        let one = run(&args, "1");
        let four = run(&args, "4");
        assert!(
            one.len() > 1000,
            "evaluate --format {format} printed little"
        );
        assert!(
            one == four,
            "evaluate --format {format} differs on 4 threads"
        );
        streamed.push((format, one));
    }
    let bundles: Vec<PathBuf> = ["1", "4"]
        .iter()
        .map(|threads| {
            let zip = dir.join(format!("threads-{threads}.zip"));
            let mut args = vec!["report", snapshot, "--out", zip.to_str().unwrap()];
            args.extend(extra);
            run(&args, threads);
            zip
        })
        .collect();
    let one = std::fs::read(&bundles[0]).unwrap();
    assert!(
        one == std::fs::read(&bundles[1]).unwrap(),
        "the bundle differs on 4 threads ({})",
        bundles[0].display()
    );
    for (format, out) in streamed {
        assert!(
            out.as_bytes() == entry(&bundles[0], &format!("findings.{format}")),
            "evaluate --format {format} is not the bundle's findings.{format}"
        );
    }
    // The bundle is whole: verify recomputes every entry's hash against the manifest.
    let (code, out, err) = phi_audit(&["verify", bundles[1].to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_generated_account_gives_the_same_bytes_on_one_thread_and_on_four() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    gen_fleet(&snapshot, &["--buckets", "300", "--seed", "7"]);
    same_bytes_on_any_thread_count(&snapshot, &[], dir.path());
}

#[test]
fn a_generated_organisation_gives_the_same_bytes_on_one_thread_and_on_four() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    gen_fleet(&snapshot, &["--buckets", "80", "--accounts", "3"]);
    same_bytes_on_any_thread_count(&snapshot, &[], dir.path());
}

#[test]
fn the_sample_with_its_attestations_gives_the_same_bytes_on_one_thread_and_on_four() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples();
    let attestations = s.join("attestations.yaml");
    let exceptions = s.join("exceptions.yaml");
    same_bytes_on_any_thread_count(
        &s.join("snapshot"),
        &[
            "--attestations",
            attestations.to_str().unwrap(),
            "--exceptions",
            exceptions.to_str().unwrap(),
        ],
        dir.path(),
    );
}

/// OSCAL is written beside the reports for an audit of up to
/// `Options::oscal_beside_reports_up_to` findings and after them above it (it waits for both).
/// The generated cases above take the first way; this one takes both, and both give the bytes of
/// one thread.
#[test]
fn oscal_beside_the_reports_or_after_them_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    gen_fleet(&snapshot, &["--buckets", "200", "--accounts", "2"]);
    let audit = audit_of(&snapshot, GENERATED_AT, None);
    let bundle = |threads: usize, up_to: usize| {
        let zip = dir.path().join(format!("bundle-{threads}-{up_to}.zip"));
        let options = Options {
            threads: Threads::new(threads),
            oscal_beside_reports_up_to: up_to,
            ..Options::default()
        };
        write(&audit, &options, &zip).expect("the bundle is written");
        std::fs::read(&zip).unwrap()
    };
    let one = bundle(1, 0);
    assert!(one == bundle(4, 0), "OSCAL after the reports: other bytes");
    assert!(
        one == bundle(4, usize::MAX),
        "OSCAL beside the reports: other bytes"
    );
}
