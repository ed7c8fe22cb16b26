//! A real headless browser for the report tests: Debian's `chromium` driven by `chromedriver`
//! over the W3C WebDriver protocol (plain HTTP + JSON on 127.0.0.1), with no client library.
//! scripts/test installs both; a test that needs them fails with an install message, never skips.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::bundle::require_tool;

/// A chromedriver process and one headless Chromium session; both end when this is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

/// An element's position and size on the page, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    pub fn start() -> Browser {
        let chromium = require_tool("chromium", "chromium");
        let chromedriver = require_tool("chromedriver", "chromium-driver");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The page's console messages, for `console_errors`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                // As the machine's notes prescribe for root in a closed network.
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1200,1600",
                         format!("--user-data-dir={}", profile.display())],
            }
        }}});
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let created = browser.call("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        // Printing a 70-page report on a busy 2-core machine takes longer than the 10 s default.
        browser.session_call(
            "POST",
            "/timeouts",
            Some(json!({"script": 120_000, "pageLoad": 120_000})),
        );
        browser
    }

    /// Opens a local file.
    pub fn open(&mut self, path: &Path) {
        let url = format!("file://{}", path.canonicalize().unwrap().display());
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The elements matching a CSS selector, in document order.
    pub fn find_all(&mut self, selector: &str) -> Vec<String> {
        let found = self.session_call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": selector})),
        );
        found
            .as_array()
            .unwrap_or_else(|| panic!("no element list for {selector}: {found}"))
            .iter()
            .map(|e| {
                e.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .expect("an element reference")
                    .to_string()
            })
            .collect()
    }

    pub fn rect(&mut self, element: &str) -> Rect {
        let r = self.session_call("GET", &format!("/element/{element}/rect"), None);
        let number = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("rect {k}: {r}"));
        Rect {
            x: number("x"),
            y: number("y"),
            width: number("width"),
            height: number("height"),
        }
    }

    pub fn text(&mut self, element: &str) -> String {
        let t = self.session_call("GET", &format!("/element/{element}/text"), None);
        t.as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its return value.
    pub fn execute(&mut self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Clicks an element (an `<option>` is chosen this way), as a user would.
    pub fn click(&mut self, element: &str) {
        self.session_call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Types `text` into an element.
    pub fn type_into(&mut self, element: &str, text: &str) {
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Empties a text input.
    pub fn clear(&mut self, element: &str) {
        self.session_call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
    }

    /// The page printed to PDF (WebDriver's print command, Letter paper).
    pub fn print_pdf(&mut self) -> Vec<u8> {
        use base64::Engine;
        let printed = self.session_call(
            "POST",
            "/print",
            Some(json!({"page": {"width": 21.59, "height": 27.94}, "background": true})),
        );
        base64::engine::general_purpose::STANDARD
            .decode(printed.as_str().expect("the PDF as base64"))
            .expect("base64")
    }

    /// The console messages of level SEVERE (errors, refused scripts) since the last call.
    pub fn console_errors(&mut self) -> Vec<String> {
        let log = self.session_call("POST", "/se/log", Some(json!({"type": "browser"})));
        log.as_array()
            .unwrap_or_else(|| panic!("no browser log: {log}"))
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].to_string())
            .collect()
    }

    fn session_call(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body)
    }

    /// One WebDriver command: an HTTP/1.1 request, the JSON reply's `value`.
    fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut length = None;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let mut bytes = Vec::new();
        match length {
            Some(n) => {
                bytes.resize(n, 0);
                reader.read_exact(&mut bytes).unwrap();
            }
            None => {
                reader.read_to_end(&mut bytes).unwrap();
            }
        }
        let reply: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {path}: {status}: not JSON ({e})"));
        assert!(
            status.contains(" 200 "),
            "{method} {path}: {}: {reply}",
            status.trim()
        );
        reply["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.call("DELETE", &path, None)
            }));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
