//! A small HTTP/1.1 proxy for tests and the benchmark (std + tokio only): forwards requests to an
//! upstream server, optionally after a fixed delay (latency injection), and answers chosen
//! requests itself with 403 AccessDenied (fault injection).
//!
//! It understands just what the AWS SDK sends to a local emulator: requests with a
//! Content-Length body (or none). Each forwarded request uses a fresh upstream connection with
//! `Connection: close`; the client side keeps its connection alive.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// Delay added before each forwarded request.
    pub latency: Duration,
    /// Path-style bucket whose requests with one of `deny_queries` as a query key get a 403.
    pub deny_bucket: Option<String>,
    pub deny_queries: Vec<String>,
}

/// Starts the proxy on 127.0.0.1 (a free port) in front of `upstream`; returns its address.
pub async fn start(upstream: SocketAddr, config: ProxyConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("proxy address");
    let config = Arc::new(config);
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let config = Arc::clone(&config);
            tokio::spawn(async move {
                let _ = serve(client, upstream, &config).await;
            });
        }
    });
    addr
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request head + body from `stream`, using `buf` for bytes read ahead.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<(String, Vec<u8>)>> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len = content_length(&head);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 16384];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..total].to_vec();
            buf.drain(..total);
            return Ok(Some((head, body)));
        }
        let mut chunk = [0u8; 16384];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn content_length(head: &str) -> usize {
    header(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn denied(config: &ProxyConfig, head: &str) -> bool {
    let Some(bucket) = &config.deny_bucket else {
        return false;
    };
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path_bucket = path.trim_start_matches('/').split('/').next().unwrap_or("");
    path_bucket == bucket
        && query
            .split('&')
            .map(|kv| kv.split('=').next().unwrap_or(""))
            .any(|k| config.deny_queries.iter().any(|d| d == k))
}

const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>PROXY</RequestId></Error>";

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    config: &ProxyConfig,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut client, &mut buf).await? {
        if denied(config, &head) {
            let reply = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{}",
                ACCESS_DENIED.len(),
                ACCESS_DENIED
            );
            client.write_all(reply.as_bytes()).await?;
            continue;
        }
        if !config.latency.is_zero() {
            tokio::time::sleep(config.latency).await;
        }
        // Forward with Connection: close, so the upstream's end of stream ends the response.
        let mut lines: Vec<&str> = head
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        lines.push("Connection: close");
        let mut request = lines.join("\r\n").into_bytes();
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(&body);
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&request).await?;
        let mut response = Vec::new();
        up.read_to_end(&mut response).await?;
        let Some(end) = find(&response, b"\r\n\r\n") else {
            return Ok(());
        };
        let head = String::from_utf8_lossy(&response[..end]).into_owned();
        let framed = header(&head, "content-length").is_some()
            || header(&head, "transfer-encoding").is_some();
        let mut lines: Vec<String> = head
            .split("\r\n")
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .map(str::to_owned)
            .collect();
        if !framed {
            // No framing: the body is everything the upstream sent; say so with a length.
            lines.push(format!("Content-Length: {}", response.len() - end - 4));
        }
        let mut reply = lines.join("\r\n").into_bytes();
        reply.extend_from_slice(b"\r\n\r\n");
        reply.extend_from_slice(&response[end + 4..]);
        client.write_all(&reply).await?;
    }
    Ok(())
}
