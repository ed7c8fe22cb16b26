//! The RESULT envelope of docs/snapshot-format.md (`{"ok": ...}` or `{"error": {"code", "message"}}`) and the
//! small JSON builder the service modules use to write AWS CLI shapes.
//!
//! Error messages are sanitised here, in one place, so no module can leak a credential or a signed
//! URL into a snapshot: query strings are cut from every URL and AWS key ids are masked.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use serde_json::{json, Map, Value};

use crate::schema::Operation;

/// Error code recorded when no HTTP response carried an AWS error code (connection refused,
/// timeout, unparseable reply).
pub const TRANSPORT_ERROR: &str = "TransportError";

/// Wraps a payload as `{"ok": payload}`.
pub fn ok(payload: Value) -> Value {
    json!({ "ok": payload })
}

/// Builds `{"error": {"code", "message"}}` with a sanitised message.
pub fn error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": sanitize(message) } })
}

/// The AWS error code and a human-readable, sanitised message for any SDK error.
pub fn describe<E>(err: &SdkError<E, HttpResponse>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            if let Some(code) = err.code() {
                let message = err
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| code.to_owned());
                return (code.to_owned(), sanitize(&message));
            }
            // An error response without a code (an HTML error page, a proxy in the way): the
            // status and the start of the body say more than the parser's complaint.
            let raw = err.raw_response();
            let status = raw.map(|r| r.status().as_u16());
            let body = raw
                .and_then(|r| r.body().bytes())
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            let snippet: String = body.chars().take(200).collect();
            let code = match status {
                Some(403) => "AccessDenied".to_owned(),
                Some(404) => "NotFound".to_owned(),
                Some(status) => format!("Http{status}"),
                None => TRANSPORT_ERROR.to_owned(),
            };
            let message = match status {
                Some(status) => format!("HTTP {status} without an AWS error code: {snippet}"),
                None => context_text(err),
            };
            (code, sanitize(&message))
        }
        _ => (TRANSPORT_ERROR.to_owned(), sanitize(&context_text(err))),
    }
}

/// The SDK's error chain as text ("dispatch failure: io error: ... Connection refused"), without
/// the Debug dump of the error that `DisplayErrorContext` appends.
pub fn context_text<E: std::error::Error + 'static>(err: &E) -> String {
    let text = DisplayErrorContext(err).to_string();
    let cut = [
        " (DispatchFailure(",
        " (TimeoutError(",
        " (ConstructionFailure(",
        " (ResponseError(",
        " (ServiceError(",
    ]
    .iter()
    .filter_map(|marker| text.find(marker))
    .min();
    match cut {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Turns an SDK call outcome into a RESULT, converting the output with `convert`.
pub fn record<T, E>(
    outcome: Result<T, SdkError<E, HttpResponse>>,
    convert: impl FnOnce(&T) -> Value,
) -> Value
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match outcome {
        Ok(out) => ok(convert(&out)),
        Err(err) => {
            let (code, message) = describe(&err);
            error(&code, &message)
        }
    }
}

/// True when a RESULT is an error.
pub fn is_error(result: &Value) -> bool {
    result.get("error").is_some()
}

/// The error code of a RESULT, if it is an error.
pub fn error_code(result: &Value) -> Option<&str> {
    result.get("error")?.get("code")?.as_str()
}

/// Removes secrets a message could carry: the query string of any URL (presigned URLs carry
/// `X-Amz-Credential` / `X-Amz-Signature` / `X-Amz-Security-Token` there) and access key ids.
pub fn sanitize(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_url = false;
    let mut skipping_query = false;
    let chars: Vec<char> = message.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        if !in_url && (rest.starts_with("http://") || rest.starts_with("https://")) {
            in_url = true;
        }
        if in_url {
            if c.is_whitespace() || c == '"' || c == '\'' || c == '>' || c == ')' {
                in_url = false;
                skipping_query = false;
            } else if c == '?' && !skipping_query {
                skipping_query = true;
                out.push_str("?<redacted>");
                i += 1;
                continue;
            } else if skipping_query {
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    mask_key_ids(&out)
}

/// Masks AWS access key ids (AKIA/ASIA followed by 16 upper-case alphanumerics).
fn mask_key_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let candidate = &bytes[i..];
        let is_key = candidate.len() >= 20
            && (candidate.starts_with(b"AKIA") || candidate.starts_with(b"ASIA"))
            && candidate[4..20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if is_key {
            out.push_str(&text[i..i + 4]);
            out.push_str("****************");
            i += 20;
        } else {
            let ch = text[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// RFC 3339 UTC text for an SDK timestamp (the CLI prints ISO 8601 too).
pub fn timestamp(dt: &DateTime) -> Value {
    match dt.fmt(DateTimeFormat::DateTime) {
        Ok(text) => Value::String(text),
        Err(_) => Value::Null,
    }
}

/// Builds a JSON object member by member, leaving absent members out (as the AWS CLI does).
#[derive(Default)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn str(mut self, key: &str, value: Option<&str>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), Value::String(v.to_owned()));
        }
        self
    }

    pub fn bool(mut self, key: &str, value: Option<bool>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), Value::Bool(v));
        }
        self
    }

    pub fn int(mut self, key: &str, value: Option<i64>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), Value::from(v));
        }
        self
    }

    pub fn time(mut self, key: &str, value: Option<&DateTime>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), timestamp(v));
        }
        self
    }

    pub fn val(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), v);
        }
        self
    }

    /// A list member, left out when empty (the SDK cannot tell "absent" from "empty" for most
    /// lists, and the CLI omits absent ones).
    pub fn list<T>(mut self, key: &str, items: &[T], convert: impl Fn(&T) -> Value) -> Self {
        if !items.is_empty() {
            self.0.insert(
                key.to_owned(),
                Value::Array(items.iter().map(convert).collect()),
            );
        }
        self
    }

    /// A list member the service always returns (e.g. `Grants`, `TagSet`): written even when empty.
    pub fn list_always<T>(mut self, key: &str, items: &[T], convert: impl Fn(&T) -> Value) -> Self {
        self.0.insert(
            key.to_owned(),
            Value::Array(items.iter().map(convert).collect()),
        );
        self
    }

    pub fn strings(self, key: &str, items: &[String]) -> Self {
        self.list(key, items, |s| Value::String(s.clone()))
    }

    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// True when a RESULT is an error other than a "not configured" answer (normal evidence, not a
/// failure of collection: [`Operation::not_configured`]). No error code means "not configured"
/// for one operation and a failure for another, so the operation need not be known.
pub fn is_collection_failure(result: &Value) -> bool {
    error_code(result).is_some_and(|code| {
        !Operation::ALL
            .iter()
            .any(|op| op.means_not_configured(code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_cuts_query_strings_and_key_ids() {
        let msg = "error sending https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F&X-Amz-Signature=abc failed for AKIAABCDEFGHIJKLMNOP";
        let clean = sanitize(msg);
        assert!(!clean.contains("X-Amz-Signature"), "{clean}");
        assert!(!clean.contains("ABCDEFGHIJKLMNOP"), "{clean}");
        assert!(
            clean.contains("https://b.s3.amazonaws.com/k?<redacted> failed"),
            "{clean}"
        );
    }

    #[test]
    fn obj_omits_absent_members() {
        let v = Obj::new()
            .str("A", Some("x"))
            .str("B", None)
            .list("C", &[] as &[String], |s| Value::String(s.clone()))
            .build();
        assert_eq!(v, json!({"A": "x"}));
    }
}
