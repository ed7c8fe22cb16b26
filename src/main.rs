//! The `phi-audit` binary: parses arguments, reads the clock once, runs the command, and maps
//! the outcome to the exit codes of docs/cli.md (0 done, 1 threshold reached or tampered,
//! 2 bad usage or bad input).

use clap::Parser;
use phi_audit::cli::{run, Cli, Outcome};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(cli, chrono::Utc::now(), &mut out) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::ThresholdReached | Outcome::Tampered) => ExitCode::from(1),
        Err(err) => {
            let code = err.exit_code();
            let err = anyhow::Error::from(err);
            // Most messages already quote their cause ("path: No such file"); add a cause only
            // when it says something the message does not.
            let mut message = String::new();
            for cause in err.chain().map(|c| c.to_string()) {
                if !message.contains(&cause) {
                    if !message.is_empty() {
                        message.push_str(": ");
                    }
                    message.push_str(&cause);
                }
            }
            eprintln!("phi-audit: error: {message}");
            ExitCode::from(code)
        }
    }
}
