//! Shared helpers of the collect integration tests.

pub use super::proxy;

use std::path::Path;

use phi_audit::collect::clients::Clients;
use phi_audit::collect::CollectArgs;
use serde_json::Value;

/// The moto server's URL. The moto tests cannot run without it, and must not pretend to pass.
pub fn endpoint() -> String {
    match std::env::var("PHI_AUDIT_TEST_ENDPOINT") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "PHI_AUDIT_TEST_ENDPOINT is not set: these tests need the local moto server. \
             Run them as `scripts/with-moto cargo test` (it installs moto into .venv-moto/ \
             on first use, starts it on a free 127.0.0.1 port and stops it afterwards)."
        ),
    }
}

/// A bucket-name prefix unique to this test run and test, so tests can share one server.
pub fn unique_prefix(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{tag}-{:x}{:x}",
        std::process::id() % 0xfff,
        nanos % 0xfffff
    )
}

/// SDK clients against `endpoint` (the same construction collect uses).
pub async fn clients(endpoint: &str, region: &str) -> Clients {
    let mut args = CollectArgs::new("unused");
    args.endpoint_url = Some(endpoint.to_owned());
    args.regions = vec![region.to_owned()];
    Clients::load(&args).await
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `code` of an error RESULT (panics with the RESULT otherwise).
pub fn code(result: &Value) -> &str {
    result["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error RESULT, got {result}"))
}

/// The payload of an ok RESULT (panics with the RESULT otherwise).
pub fn ok(result: &Value) -> &Value {
    result
        .get("ok")
        .unwrap_or_else(|| panic!("expected an ok RESULT, got {result}"))
}

/// Leftover `<name>.tmp-*` directories next to `out`.
pub fn temp_dirs_next_to(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{name}.tmp-")))
        .collect()
}
