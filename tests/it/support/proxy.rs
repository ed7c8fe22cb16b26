//! A small HTTP/1.1 proxy for tests and the benchmark (std + tokio only): forwards requests to an
//! upstream server, optionally after a fixed delay (latency injection), and answers chosen
//! requests itself with 403 AccessDenied (fault injection).
//!
//! It understands just what the AWS SDK sends to a local emulator: requests with a
//! Content-Length body (or none), no HEAD. Each client connection gets its own upstream
//! connection, kept alive while responses carry a Content-Length (so the proxy adds no
//! connection set-up cost of its own to the measured latency).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// `(bucket, region)`: requests for this path-style bucket signed for another region get
    /// S3's 301 PermanentRedirect with the `x-amz-bucket-region` header, as real S3 answers.
    pub redirect: Option<(String, String)>,
    /// `(bucket, remaining)`: the next `remaining` requests for this bucket get S3's
    /// 503 SlowDown (throttling), each one decrementing the counter.
    pub throttle: Option<(String, Arc<AtomicUsize>)>,
    /// `(operation, text)`: JSON-protocol requests for this operation (`X-Amz-Target` ending in
    /// `.<operation>`) whose body contains `text` get KMS's 400 AccessDeniedException.
    pub deny_json: Option<(String, String)>,
    /// Query-protocol actions (IAM, STS: `Action=<name>` in the form body) answered with 403
    /// AccessDenied in the query protocol's error shape.
    pub deny_actions: Vec<String>,
}

/// The query protocol's AccessDenied answer (IAM, STS).
const QUERY_ACCESS_DENIED: &str = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform this action</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";

/// True when the form body names one of the denied actions.
fn action_denied(config: &ProxyConfig, body: &[u8]) -> bool {
    let body = String::from_utf8_lossy(body);
    body.split('&')
        .filter_map(|kv| kv.strip_prefix("Action="))
        .any(|action| config.deny_actions.iter().any(|d| d == action))
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

/// The path-style bucket a request addresses.
fn request_bucket(head: &str) -> &str {
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// The region a SigV4 request was signed for.
fn signing_region(head: &str) -> Option<&str> {
    let auth = header(head, "authorization")?;
    let credential = auth.split("Credential=").nth(1)?;
    credential.split('/').nth(2)
}

fn denied_json(config: &ProxyConfig, head: &str, body: &[u8]) -> bool {
    let Some((operation, text)) = &config.deny_json else {
        return false;
    };
    header(head, "x-amz-target").is_some_and(|t| t.ends_with(&format!(".{operation}")))
        && find(body, text.as_bytes()).is_some()
}

fn throttled(config: &ProxyConfig, head: &str) -> bool {
    let Some((bucket, remaining)) = &config.throttle else {
        return false;
    };
    request_bucket(head) == bucket
        && remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
}

fn redirected(config: &ProxyConfig, head: &str) -> Option<String> {
    let (bucket, region) = config.redirect.as_ref()?;
    (request_bucket(head) == bucket && signing_region(head) != Some(region.as_str()))
        .then(|| region.clone())
}

const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>PROXY</RequestId></Error>";

/// Reads one response from `up`: (head, body, reusable). Without a Content-Length the body runs
/// to the end of the stream and the connection cannot be reused.
async fn read_response(up: &mut TcpStream) -> std::io::Result<(String, Vec<u8>, bool)> {
    let mut buf = Vec::new();
    let end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 16384];
        let n = up.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut body = buf[end + 4..].to_vec();
    let closing = header(&head, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    match header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(len) => {
            while body.len() < len {
                let mut chunk = [0u8; 16384];
                let n = up.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
            Ok((head, body, !closing))
        }
        None => {
            up.read_to_end(&mut body).await?;
            Ok((head, body, false))
        }
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    config: &ProxyConfig,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut up: Option<TcpStream> = None;
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
        if denied_json(config, &head, &body) {
            let body = r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform this operation"}"#;
            let reply = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client.write_all(reply.as_bytes()).await?;
            continue;
        }
        if action_denied(config, &body) {
            let reply = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}",
                QUERY_ACCESS_DENIED.len(),
                QUERY_ACCESS_DENIED
            );
            client.write_all(reply.as_bytes()).await?;
            continue;
        }
        if throttled(config, &head) {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            let reply = format!(
                "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client.write_all(reply.as_bytes()).await?;
            continue;
        }
        if let Some(region) = redirected(config, &head) {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>";
            let reply = format!(
                "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: {region}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client.write_all(reply.as_bytes()).await?;
            continue;
        }
        if !config.latency.is_zero() {
            tokio::time::sleep(config.latency).await;
        }
        let mut request = head.clone().into_bytes();
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(&body);
        // Reuse the upstream connection; if the server closed it meanwhile, reconnect once.
        let mut attempt = 0;
        let (rhead, rbody) = loop {
            attempt += 1;
            let conn = match up.take() {
                Some(c) => c,
                None => TcpStream::connect(upstream).await?,
            };
            let mut conn = conn;
            let sent = conn.write_all(&request).await;
            let outcome = match sent {
                Ok(()) => read_response(&mut conn).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok((h, b, reusable)) => {
                    if reusable {
                        up = Some(conn);
                    }
                    break (h, b);
                }
                Err(e) if attempt >= 2 => return Err(e),
                Err(_) => continue,
            }
        };
        if header(&rhead, "transfer-encoding").is_some() {
            // A chunked body was read to the end of the stream as is: pass it on unchanged and
            // end the client connection with it.
            let mut reply = rhead.into_bytes();
            reply.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
            reply.extend_from_slice(&rbody);
            client.write_all(&reply).await?;
            return Ok(());
        }
        let mut lines: Vec<String> = rhead
            .split("\r\n")
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                !l.starts_with("connection:")
                    && !l.starts_with("content-length:")
                    && !l.starts_with("transfer-encoding:")
            })
            .map(str::to_owned)
            .collect();
        lines.push(format!("Content-Length: {}", rbody.len()));
        let mut reply = lines.join("\r\n").into_bytes();
        reply.extend_from_slice(b"\r\n\r\n");
        reply.extend_from_slice(&rbody);
        client.write_all(&reply).await?;
    }
    Ok(())
}
