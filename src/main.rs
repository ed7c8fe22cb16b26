//! phi-audit command line. Temporary thin entry point for the `collect` branch: the lead merges
//! these subcommands into `cli.rs`; all logic lives in the library.

use clap::{Parser, Subcommand};
use phi_audit::collect::{self, CollectArgs};

#[derive(Parser)]
#[command(name = "phi-audit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect S3 and CloudTrail evidence from an AWS account into a snapshot directory.
    Collect(CollectArgs),
    /// Collect, then build the evidence bundle from the new snapshot.
    Run(CollectArgs),
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match cli.command {
        Command::Collect(args) => runtime.block_on(collect_cmd(args)),
        Command::Run(args) => {
            let code = runtime.block_on(collect_cmd(args));
            if code == 0 {
                eprintln!("phi-audit run: report step not yet available (bundle issue pending)");
            }
            code
        }
    };
    std::process::exit(code);
}

async fn collect_cmd(mut args: CollectArgs) -> i32 {
    // The clock is read once, here; everything in the snapshot uses this instant.
    args.collected_at.get_or_insert_with(chrono::Utc::now);
    let progress = collect::progress::for_stderr();
    match collect::run_collect(&args, progress.as_ref()).await {
        Ok(s) => {
            eprintln!(
                "collected {} buckets ({} in scope) of account {} in {:.1}s: {} API calls, {} failed; snapshot: {}",
                s.buckets,
                s.buckets_in_scope,
                s.account_id,
                s.elapsed.as_secs_f64(),
                s.api_calls,
                s.failed_calls,
                s.out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("phi-audit collect: error: {e}");
            e.exit_code()
        }
    }
}
