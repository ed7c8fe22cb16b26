//! The `phi-audit` binary: parses arguments, reads the clock once, runs the command, and turns
//! the outcome into the exit codes of docs/cli.md: 0 done; 1 threshold reached or bundle
//! tampered; 2 bad usage or bad input; 70 an internal fault; 74 the disk, the network or a
//! time-stamping authority failed; 130 interrupted. Nothing else in phi-audit exits.

use clap::Parser;
use phi_audit::cli::{run, Cli, ErrorKind, Outcome};
use std::process::ExitCode;

fn main() -> ExitCode {
    return_freed_memory();
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

/// The allocator: mimalloc, not the system's, built without transparent huge pages (Cargo.toml:
/// a 2 MiB huge page is resident whole however little of it is used). Judging makes and drops
/// millions of small blocks (parsed JSON, reasons, evidence references), most of them freed on
/// another thread than the one that made them; glibc's malloc spent about a quarter of an
/// organisation's evaluation on them (docs/architecture.md, "What a finding costs in memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Freed memory goes back to the system at once rather than a second later, so the peak is the
/// memory in use, not what a burst of frees left behind (the libmimalloc-sys crate does not
/// name this option). `mi_option_purge_delay` is the sixteenth option of mimalloc.h's
/// `mi_option_e` (v3), whose default is 1000 ms: the delay is set only when the option there
/// has that default, so another numbering leaves the allocator as it is instead of changing
/// some other option.
fn return_freed_memory() {
    const PURGE_DELAY: std::ffi::c_int = 15;
    const DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;
    // SAFETY: both functions only read or write a value of mimalloc's option table.
    unsafe {
        if mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY {
            mi_option_set(PURGE_DELAY, 0);
        }
    }
}

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
