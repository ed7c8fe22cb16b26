//! The `phi-audit` binary: parses arguments, reads the clock once, runs the command, and turns
//! the outcome into the exit codes of docs/cli.md: 0 done; 1 threshold reached or bundle
//! tampered; 2 bad usage or bad input; 70 an internal fault; 74 the disk, the network or a
//! time-stamping authority failed; 130 interrupted. Nothing else in phi-audit exits.

use clap::Parser;
use phi_audit::cli::{run, Cli, ErrorKind, Outcome};
use std::process::ExitCode;

fn main() -> ExitCode {
    return_large_blocks();
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(cli, chrono::Utc::now(), &mut out) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::ThresholdReached | Outcome::Tampered) => ExitCode::from(1),
        Err(err) => {
            let code = match err.kind() {
                ErrorKind::Input => 2,
                ErrorKind::Internal => 70,
                ErrorKind::Environment => 74,
                ErrorKind::Interrupted => 130,
            };
            eprintln!("phi-audit: error: {}", message(&anyhow::Error::from(err)));
            ExitCode::from(code)
        }
    }
}

/// glibc's malloc raises its mmap threshold whenever it frees a large block, so later large
/// blocks (a PDF page's operations, a deflated bundle entry waiting its turn) are carved from
/// the heap, whose holes the process keeps: at 10,000 buckets that was a quarter of the
/// report's peak memory (docs/architecture.md). A fixed threshold gives every block of 128 KiB
/// or more back to the system when it is freed (64 KiB would give a little more back, at twice
/// the system time of an organisation's evaluation).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks() {
    // SAFETY: mallopt only sets a parameter of the allocator, before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks() {}

/// The error and its causes on one line. Most messages already quote their cause ("path: No
/// such file"); a cause is added only when it says something the message does not.
fn message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain().map(|c| c.to_string()) {
        if !message.contains(&cause) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&cause);
        }
    }
    message
}
