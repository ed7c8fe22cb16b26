//! Helpers shared by the integration tests, one file per topic:
//! - `fixtures`: buckets, account metadata and snapshot directories built in memory from JSON,
//!   parsed by the same reader as real snapshots;
//! - `browser`: headless Chromium over WebDriver, to look at report.html as a reader does;
//! - `bundle`: a small hostile snapshot, building its bundle, reading and rewriting zips, and
//!   the external tools (pdftotext, minisign, openssl) some tests need;
//! - `collect`: the local moto server, SDK clients against it, and collect output checks;
//! - `proxy`: an HTTP proxy that injects latency and faults (also built into the benchmark's
//!   `examples/latency_proxy`).
//!
//! Running the built binary is here.

pub mod browser;
pub mod bundle;
pub mod collect;
pub mod fixtures;
pub mod proxy;

/// Runs the built `phi-audit` binary; returns (exit code, stdout, stderr).
pub fn phi_audit(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args(args)
        .output()
        .expect("phi-audit runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
