//! Latency-injecting proxy for `scripts/bench-collect`: forwards to UPSTREAM after DELAY_MS.
//!
//! Usage: latency_proxy UPSTREAM_ADDR DELAY_MS PORT_FILE
//! Writes the port it listens on (127.0.0.1) to PORT_FILE, then serves until killed.

#[path = "../tests/it/support/proxy.rs"]
mod proxy;

use std::time::Duration;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: latency_proxy UPSTREAM_ADDR DELAY_MS PORT_FILE");
        std::process::exit(2);
    }
    let upstream = args[1].parse().expect("UPSTREAM_ADDR like 127.0.0.1:5000");
    let delay: u64 = args[2].parse().expect("DELAY_MS");
    let config = proxy::ProxyConfig {
        latency: Duration::from_millis(delay),
        ..Default::default()
    };
    let addr = proxy::start(upstream, config).await;
    std::fs::write(&args[3], format!("{}\n", addr.port())).expect("write port file");
    std::future::pending::<()>().await;
}
