//! Browser tests: real headless Chromium, driven through ChromeDriver's WebDriver API.
//!
//! The flows themselves live in `web/tests/flows.rs`; this module gives them a [`Browser`]
//! with a handful of verbs (open, wait for, click, type, read text, screenshot) and runs each
//! flow against the built site in `dist/`, served from loopback. Screenshots go to
//! `web/test-output/`.

use crate::http::{json_request, serve_dir};
use crate::tools::Tools;
use crate::{root, Failure, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../../web/tests/flows.rs"]
mod flows;

/// How long to wait for the page (and its wasm) before a flow fails.
const WAIT: Duration = Duration::from_secs(20);

/// Runs every flow whose name contains one of `filters` (every flow when there are none),
/// and fails, naming each flow that failed, when any did.
pub fn run_all(tools: &Tools, filters: &[String]) -> Result {
    let chosen: Vec<&(&str, flows::Flow)> = flows::ALL
        .iter()
        .chain(flows::share_flows::ALL)
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = flows::ALL
            .iter()
            .chain(flows::share_flows::ALL)
            .map(|(n, _)| *n)
            .collect();
        return Err(Failure(format!(
            "no browser flow matches {}; the flows are: {}",
            filters.join(" or "),
            names.join(", ")
        )));
    }
    let site = serve_dir(root().join("dist"))?;
    let driver = Driver::start(tools)?;
    let out_dir = root().join("web/test-output");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| Failure(format!("cannot create {}: {e}", out_dir.display())))?;
    let mut passed = 0;
    let mut failed = 0;
    for (name, flow) in chosen {
        let t = Instant::now();
        let traced = flows::TRACED.contains(name);
        let mut browser = Browser::open(&driver, tools, site, out_dir.clone(), traced)?;
        let result = flow(&mut browser);
        if result.is_err() {
            let _ = browser.screenshot(&format!("FAILED-{name}"));
        }
        browser.close();
        match result {
            Ok(()) => {
                passed += 1;
                println!("browser flow {name} ... ok ({:.1?})", t.elapsed());
            }
            Err(Failure(m)) => {
                failed += 1;
                println!("browser flow {name} ... FAILED: {m}");
            }
        }
    }
    println!("browser: {passed} passed, {failed} failed");
    if failed > 0 {
        return Err(Failure(format!(
            "{failed} browser flow(s) failed; screenshots in {}",
            out_dir.display()
        )));
    }
    Ok(())
}

/// A running ChromeDriver, stopped on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(tools: &Tools) -> Result<Driver> {
        let port = free_port()?;
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Failure(format!("cannot start chromedriver: {e}")))?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok((200, v)) = json_request(port, "GET", "/status", None) {
                if v["value"]["ready"] == json!(true) {
                    return Ok(driver);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(Failure("chromedriver did not become ready".into()))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Failure(format!("no free port: {e}")))?;
    Ok(l.local_addr().expect("bound").port())
}

/// One browser session on the site.
pub struct Browser {
    driver: u16,
    session: String,
    site: u16,
    out_dir: PathBuf,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    /// Opens a fresh Chromium. `traced`: Chromium also records its trace (the `blink`, `v8` and
    /// user-timing categories), which [`Browser::trace_events`] reads.
    fn open(
        driver: &Driver,
        tools: &Tools,
        site: u16,
        out_dir: PathBuf,
        traced: bool,
    ) -> Result<Browser> {
        let profile = std::env::temp_dir().join(format!(
            "synod-chromium-{}-{}",
            std::process::id(),
            free_port()?
        ));
        let mut caps = json!({
            "capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": tools.chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--window-size=1280,800",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }}
        });
        if traced {
            // ChromeDriver records the trace and hands it out with the performance log.
            let always = &mut caps["capabilities"]["alwaysMatch"];
            always["goog:loggingPrefs"] = json!({"performance": "ALL"});
            always["goog:chromeOptions"]["perfLoggingPrefs"] = json!({
                "enableNetwork": false,
                "enablePage": false,
                "traceCategories": "blink,blink.user_timing,v8",
            });
        }
        let (status, v) = json_request(driver.port, "POST", "/session", Some(&caps))?;
        let session = v["value"]["sessionId"]
            .as_str()
            .filter(|_| status == 200)
            .ok_or_else(|| Failure(format!("cannot open a Chromium session: {v}")))?
            .to_owned();
        Ok(Browser {
            driver: driver.port,
            session,
            site,
            out_dir,
            _profile: TempDir(profile),
        })
    }

    fn close(self) {
        let _ = json_request(
            self.driver,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("/session/{}{path}", self.session);
        let (status, v) = json_request(self.driver, method, &url, body.as_ref())?;
        if status != 200 {
            return Err(Failure(format!("{method} {path}: {}", v["value"])));
        }
        Ok(v["value"].clone())
    }

    /// Opens a page of the site (`path` starts with `/`).
    pub fn goto(&mut self, path: &str) -> Result {
        let url = format!("http://127.0.0.1:{}{path}", self.site);
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn script(&mut self, js: &str) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    fn find(&mut self, css: &str) -> Result<Option<String>> {
        let body = json!({"using": "css selector", "value": css});
        let url = format!("/session/{}/element", self.session);
        let (status, v) = json_request(self.driver, "POST", &url, Some(&body))?;
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            return Err(Failure(format!("find {css}: {}", v["value"])));
        }
        Ok(v["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Waits until an element matching `css` exists, and returns its id.
    pub fn wait_for(&mut self, css: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(id) = self.find(css)? {
                return Ok(id);
            }
            if Instant::now() > deadline {
                return Err(Failure(format!("nothing matched `{css}` within {WAIT:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `css` matches an element whose text contains `needle`.
    pub fn wait_for_text(&mut self, css: &str, needle: &str) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            if self.find(css)?.is_some() {
                last = self.text(css)?;
                if last.contains(needle) {
                    return Ok(last);
                }
            }
            if Instant::now() > deadline {
                return Err(Failure(format!(
                    "`{css}` never contained '{needle}' within {WAIT:?}; last text: '{last}'"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the element matching `css`.
    pub fn click(&mut self, css: &str) -> Result {
        let id = self.wait_for(css)?;
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})))
            .map(|_| ())
    }

    /// Replaces the text of an input the way a person does: select all, then type. (WebDriver's
    /// own "clear" fires no input event, so the app would never hear of it.)
    pub fn fill(&mut self, css: &str, text: &str) -> Result {
        let id = self.wait_for(css)?;
        // Control+A, release the modifier (U+E000), then the new text.
        let keys = format!("\u{E009}a\u{E000}{text}");
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": keys })),
        )
        .map(|_| ())
    }

    /// Chooses a file in the file input matching `css`, as a person picking `path` in the
    /// file dialog does (WebDriver types the path into the input).
    pub fn upload(&mut self, css: &str, path: &std::path::Path) -> Result {
        let id = self.wait_for(css)?;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": path.display().to_string() })),
        )
        .map(|_| ())
    }

    /// The text content of the first element matching `css`.
    pub fn text(&mut self, css: &str) -> Result<String> {
        self.wait_for(css)?;
        let v = self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
                "args": [css],
            })),
        )?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Presses and releases one key on the focused page (WebDriver key codes for special
    /// keys, e.g. `\u{E00C}` for Escape), the way a person types a shortcut.
    pub fn press(&mut self, key: &str) -> Result {
        let actions = json!({"actions": [{
            "type": "key", "id": "keyboard",
            "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}],
        }]});
        self.call("POST", "/actions", Some(actions)).map(|_| ())
    }

    /// Resizes the browser window (outer size, in CSS pixels).
    pub fn resize(&mut self, width: u32, height: u32) -> Result {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .map(|_| ())
    }

    /// How many elements match `css` right now.
    pub fn count(&mut self, css: &str) -> Result<u64> {
        let v = self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "return document.querySelectorAll(arguments[0]).length;",
                "args": [css],
            })),
        )?;
        Ok(v.as_u64().unwrap_or(0))
    }

    /// Sets the value of a form control (a range slider or a select) and fires the `input`
    /// and `change` events a person's drag or choice fires.
    pub fn set_value(&mut self, css: &str, value: &str) -> Result {
        self.wait_for(css)?;
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                           e.dispatchEvent(new Event('input', {bubbles: true})); \
                           e.dispatchEvent(new Event('change', {bubbles: true})); return e.value;",
                "args": [css, value],
            })),
        )
        .map(|_| ())
    }

    /// Waits until the JavaScript expression `js` (a function body returning a value) is
    /// truthy, and returns that value.
    pub fn wait_until(&mut self, what: &str, js: &str) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.script(js)?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(Failure(format!("{what}: not within {WAIT:?} (last: {v})")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends one Chrome DevTools Protocol command (e.g. `Profiler.start`) through
    /// ChromeDriver and returns its result.
    pub fn cdp(&mut self, cmd: &str, params: Value) -> Result<Value> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    /// The trace events Chromium recorded since the last call (a traced session only; see
    /// [`Browser::open`]). ChromeDriver collects them in batches, so the latest may come
    /// with a later call.
    pub fn trace_events(&mut self) -> Result<Vec<Value>> {
        let entries = self.call("POST", "/se/log", Some(json!({"type": "performance"})))?;
        let messages: Vec<Value> = entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .map(|mut m| m["message"].take())
            .collect();
        // A full buffer drops events: say so rather than miss them later.
        let full = messages.iter().any(|m| {
            m["method"] == "Tracing.bufferUsage"
                && m["params"]["percentFull"]
                    .as_f64()
                    .is_some_and(|p| p >= 0.99)
        });
        if full {
            return Err(Failure(
                "Chromium's trace buffer filled up, so the trace lost events".into(),
            ));
        }
        Ok(messages
            .into_iter()
            .filter(|m| m["method"] == "Tracing.dataCollected")
            .map(|mut m| m["params"].take())
            .collect())
    }

    /// Saves `contents` as `web/test-output/NAME` (figures a flow measured, a profile).
    pub fn save(&mut self, name: &str, contents: &str) -> Result {
        let path = self.out_dir.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
    }

    /// Saves a PNG of the viewport as `web/test-output/NAME.png`.
    pub fn screenshot(&mut self, name: &str) -> Result {
        let v = self.call("GET", "/screenshot", None)?;
        let png = base64_decode(v.as_str().unwrap_or_default())
            .ok_or_else(|| Failure("screenshot was not base64".into()))?;
        let path = self.out_dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}
