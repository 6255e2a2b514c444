//! Headless Chromium driven over the DevTools protocol, so that a test can
//! measure the DOM a page built (boxes, overflow, what scripts did) instead
//! of reading its HTML. One page per browser; the browser is killed by PID
//! when dropped, and every wait is bounded.
//!
//! The protocol runs over a WebSocket on loopback: the handful of frames a
//! test needs (masked text frames out, text frames in) are written here.

use super::{Proc, TempDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A headless Chromium with one page open.
pub struct Browser {
    socket: TcpStream,
    next_id: u64,
    // Dropped last: the browser outlives the socket, the profile outlives the browser.
    _proc: Proc,
    _profile: TempDir,
}

impl Browser {
    /// Starts Chromium at `width`×`height` on `url` and waits (up to 30 s)
    /// until the page has loaded.
    pub fn open(url: &str, (width, height): (u32, u32)) -> Browser {
        let profile = TempDir::new("chromium-cdp");
        let mut cmd = Command::new("chromium");
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .arg("--remote-debugging-address=127.0.0.1")
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut proc = Proc::spawn("chromium", &mut cmd);
        let stderr = proc.child.stderr.take().expect("chromium's stderr");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        });
        let ws = rx.recv_timeout(Duration::from_secs(30)).expect("chromium's DevTools address");
        let host = ws.trim_start_matches("ws://").split('/').next().expect("host:port").to_string();
        let page = devtools_json(&host, "/json/list");
        let target = page
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let path = &target[target.find("/devtools").expect("a DevTools path")..];
        let mut socket = TcpStream::connect(&host).expect("connect to DevTools");
        socket.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        write!(
            socket,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dmlnaWwtdGVzdHMtY2RwIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("handshake");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).expect("handshake answer");
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        let mut b = Browser { socket, next_id: 0, _proc: proc, _profile: profile };
        b.call("Page.navigate", serde_json::json!({ "url": url }));
        b.wait_until("document.readyState === 'complete'", Duration::from_secs(30));
        b
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    pub fn eval(&mut self, js: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        assert!(r["exceptionDetails"].is_null(), "{js}: {}", r["exceptionDetails"]);
        r["result"]["value"].clone()
    }

    /// Waits until `js` is true in the page, for at most `limit`.
    pub fn wait_until(&mut self, js: &str, limit: Duration) {
        let start = Instant::now();
        while self.eval(js) != serde_json::Value::Bool(true) {
            assert!(start.elapsed() < limit, "{js} never became true");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Moves the (real) pointer to `(x, y)` in the page's CSS pixels.
    pub fn mouse_move(&mut self, x: f64, y: f64) {
        self.call("Input.dispatchMouseEvent", serde_json::json!({ "type": "mouseMoved", "x": x, "y": y }));
    }

    /// A left click at `(x, y)`, with ctrl held when `ctrl`.
    pub fn click(&mut self, x: f64, y: f64, ctrl: bool) {
        let modifiers = if ctrl { 2 } else { 0 };
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                serde_json::json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1, "modifiers": modifiers }),
            );
        }
    }

    /// A PNG of the page as it is now, kept under `target/screenshots/<name>.png`.
    pub fn screenshot(&mut self, name: &str) {
        let r =
            self.call("Page.captureScreenshot", serde_json::json!({ "format": "png", "captureBeyondViewport": true }));
        let png = base64_decode(r["data"].as_str().expect("screenshot data"));
        let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
        std::fs::create_dir_all(&shots).expect("screenshots dir");
        std::fs::write(shots.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Sends one protocol command and returns its result, skipping events.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = serde_json::json!({ "id": id, "method": method, "params": params }).to_string();
        self.send(msg.as_bytes());
        loop {
            let reply: serde_json::Value = serde_json::from_slice(&self.receive()).expect("a JSON message");
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method}: {}", reply["error"]);
                return reply["result"].clone();
            }
        }
    }

    /// One masked text frame (a client must mask; the key may be any).
    fn send(&mut self, payload: &[u8]) {
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let key = [0x37u8, 0xfa, 0x21, 0x3d];
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        self.socket.write_all(&frame).expect("send a frame");
    }

    /// One whole message (continuation frames joined; control frames skipped).
    fn receive(&mut self) -> Vec<u8> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.socket.read_exact(&mut head).expect("a frame");
            let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
            let len = match head[1] & 0x7f {
                126 => {
                    let mut n = [0u8; 2];
                    self.socket.read_exact(&mut n).expect("length");
                    u16::from_be_bytes(n) as usize
                }
                127 => {
                    let mut n = [0u8; 8];
                    self.socket.read_exact(&mut n).expect("length");
                    u64::from_be_bytes(n) as usize
                }
                n => n as usize,
            };
            let mut payload = vec![0u8; len];
            self.socket.read_exact(&mut payload).expect("payload");
            if opcode >= 0x8 {
                continue; // ping, pong, close: not for the test
            }
            message.extend_from_slice(&payload);
            if fin {
                return message;
            }
        }
    }
}

/// A GET of DevTools' HTTP side, read by its Content-Length (it keeps the
/// connection open whatever the request asks).
fn devtools_json(host: &str, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(host).expect("connect to DevTools");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").expect("request");
    let mut reader = BufReader::new(s);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().expect("a length");
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("the body");
    serde_json::from_slice(&body).expect("JSON")
}

/// Standard base64 (the screenshot's encoding).
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, c)| n | u32::from(value(*c)) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// What overflows its panel, measured in the page Chromium laid out: titles,
/// stat values, legend entries and values (legends may scroll up and down
/// inside the panel, never out of its sides; text cut with an ellipsis, as
/// Grafana cuts long names, is not overflow); and each chart's width as a
/// share of its panel's inner width.
#[allow(dead_code)] // not every test that opens a browser measures panels
pub const MEASURE_PANELS: &str = r#"(() => {
  const out = { overflow: [], narrow: [], panels: 0 };
  for (const p of document.querySelectorAll('section.panel')) {
    out.panels++;
    const r = p.getBoundingClientRect(), id = p.dataset.panelId;
    for (const e of p.querySelectorAll('h3, .stat, .stat-name, .stat-value, .legend li, .legend-table td, .legend-table th, .bar-gauge text')) {
      const b = e.getBoundingClientRect();
      const scrolls = e.closest('.legend, .legend-table, .bar-scroll');
      const inside = b.left >= r.left - 1 && b.right <= r.right + 1 && (scrolls || (b.top >= r.top - 1 && b.bottom <= r.bottom + 1));
      const cut = getComputedStyle(e).textOverflow === 'ellipsis';
      if (!inside || (!cut && e.scrollWidth > e.clientWidth + 1)) out.overflow.push(id + ': ' + e.tagName + '.' + e.className + ' ' + e.textContent.trim().slice(0, 40));
    }
    const svg = p.querySelector(':scope > svg');
    if (svg && p.querySelector('.legend, .legend-table')) {
      const style = getComputedStyle(p), legend = p.querySelector('.legend, .legend-table');
      const beside = p.classList.contains('legend-right') ? legend.getBoundingClientRect().width + 8 : 0;
      const inner = p.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - beside;
      // The drawing keeps its aspect ratio: its width is what the box's height allows.
      const box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      const drawn = vb && vb.height ? Math.min(box.width, box.height * vb.width / vb.height) : box.width;
      const share = drawn / inner;
      if (share < 0.9) out.narrow.push(id + ': ' + share.toFixed(2));
    }
  }
  return out;
})()"#;
