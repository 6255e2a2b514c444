//! Helpers for the integration tests: free ports, a minimal HTTP client,
//! a scriptable fake target, and the real `vigil` binary under test.
//!
//! Every process and thread started here stops by itself: processes are
//! killed by PID on drop, servers stop when dropped, and every wait is bounded.

#![allow(dead_code)]

pub mod browser;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("no free port")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "vigil-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An HTTP response as the tests need it.
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// A minimal HTTP/1.1 request over a fresh connection (`Connection: close`),
/// with a form-encoded body when `body` is not empty.
pub fn http(method: &str, url: &str, body: &str) -> std::io::Result<Response> {
    let ct = if body.is_empty() { "" } else { "application/x-www-form-urlencoded" };
    http_bytes(method, url, ct, body.as_bytes())
}

/// Like [`http`], with any body and content type.
pub fn http_bytes(method: &str, url: &str, content_type: &str, body: &[u8]) -> std::io::Result<Response> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let ct = if content_type.is_empty() { String::new() } else { format!("Content-Type: {content_type}\r\n") };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{ct}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    // The server may answer (and close) before reading a refused body.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    Ok(Response { status, body })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

pub fn get(url: &str) -> Response {
    http("GET", url, "").unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

pub fn get_json(url: &str) -> serde_json::Value {
    let r = get(url);
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("GET {url}: {e}: {}", r.body))
}

/// Polls `f` every 100 ms until it returns Some, or panics after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process killed (by PID) when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
        let child = cmd.stdin(Stdio::null()).spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { child, name: name.to_string() }
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
    /// Resident memory in bytes, from /proc.
    pub fn rss(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `vigil` binary built for these tests.
pub fn vigil_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vigil")
}

/// A running Vigil on a free port with the given prometheus.yml text
/// (`{self}` in it is replaced by Vigil's own address).
pub struct Vigil {
    pub proc: Proc,
    pub base: String,
    pub addr: String,
    pub dir: TempDir,
    pub config: PathBuf,
    pub args: Vec<String>,
}

impl Vigil {
    pub fn start(config: &str) -> Vigil {
        Self::start_with(config, &[])
    }

    /// Like [`Vigil::start`], with extra command-line arguments.
    pub fn start_with(config: &str, args: &[&str]) -> Vigil {
        Self::start_in(TempDir::new("vigil"), config, args)
    }

    /// Like [`Vigil::start_with`], in a prepared directory (its `data` is the data dir).
    pub fn start_in(dir: TempDir, config: &str, args: &[&str]) -> Vigil {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let config_path = dir.write("prometheus.yml", &config.replace("{self}", &addr));
        let proc = Self::spawn(&dir, &config_path, &addr, &args);
        let base = format!("http://{addr}");
        let v = Vigil { proc, base, addr, dir, config: config_path, args };
        v.wait_ready();
        v
    }

    fn spawn(dir: &TempDir, config: &Path, addr: &str, args: &[String]) -> Proc {
        // Appended, so a restarted process's log follows the previous one's.
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(dir.path().join("vigil.log")).expect("log file");
        Proc::spawn(
            "vigil",
            Command::new(vigil_bin())
                .arg("--config")
                .arg(config)
                .arg("--listen")
                .arg(addr)
                .arg("--data-dir")
                .arg(dir.path().join("data"))
                .args(args)
                .stdout(Stdio::null())
                .stderr(log),
        )
    }

    fn wait_ready(&self) {
        wait_for("vigil to be ready", Duration::from_secs(30), || {
            http("GET", &format!("{}/-/ready", self.base), "").ok().filter(|r| r.status == 200)
        });
    }

    /// Kills the process with SIGKILL (no chance to flush anything) and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.proc.child.kill();
        let _ = self.proc.child.wait();
    }

    /// Stops the process with SIGTERM and waits for a graceful exit.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.proc.pid().to_string()).status();
        wait_for("vigil to exit", Duration::from_secs(30), || self.proc.child.try_wait().ok().flatten());
    }

    /// Starts a new process on the same data dir, config and address.
    pub fn restart(&mut self) {
        let _ = self.proc.child.try_wait();
        self.proc = Self::spawn(&self.dir, &self.config, &self.addr, &self.args);
        self.wait_ready();
    }

    /// The value of a sample on /metrics (the first line starting with `name`).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let page = get(&format!("{}/metrics", self.base)).body;
        page.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Data dir of this Vigil.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vigil.log")).unwrap_or_default()
    }

    /// /api/v1/targets activeTargets.
    pub fn targets(&self) -> Vec<serde_json::Value> {
        let j = get_json(&format!("{}/api/v1/targets", self.base));
        j["data"]["activeTargets"].as_array().cloned().unwrap_or_default()
    }

    /// An instant query's result vector.
    pub fn query(&self, q: &str) -> Vec<serde_json::Value> {
        let url = format!("{}/api/v1/query?query={}", self.base, urlencode(q));
        let j = get_json(&url);
        assert_eq!(j["status"], "success", "{q}: {j}");
        j["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the fake target answers on one path.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub gzip: bool,
    pub delay: Duration,
    pub body: Vec<u8>,
    /// When set, requests without exactly this `Authorization` header get 401.
    pub require_auth: Option<String>,
}

impl Reply {
    pub fn text(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4",
            gzip: false,
            delay: Duration::ZERO,
            body: body.into(),
            require_auth: None,
        }
    }
}

/// A target serving fixed replies by path on a thread; stops when dropped.
pub struct FakeTarget {
    pub addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeTarget {
    pub fn start(routes: Vec<(&'static str, Reply)>) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake target");
        let addr = listener.local_addr().expect("addr").to_string();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let routes = Arc::new(routes);
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let routes = routes.clone();
                        let stop3 = stop2.clone();
                        std::thread::spawn(move || serve(s, &routes, &stop3));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FakeTarget { addr, stop, thread: Some(thread) }
    }
}

impl FakeTarget {
    /// A target serving the current content of `file` on every path.
    pub fn start_dynamic(file: PathBuf) -> FakeTarget {
        FakeTarget::start_generated(move |_| {
            String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned()
        })
    }
}

/// Serves one request and closes, so that the next request sees new content.
fn serve_once(s: TcpStream, routes: &[(&'static str, Reply)], stop: &AtomicBool) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut s = s;
    let mut buf = [0u8; 8192];
    let mut req = Vec::new();
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stop;
    let r = &routes[0].1;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        r.content_type,
        r.body.len()
    );
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(&r.body));
}

impl Drop for FakeTarget {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut s: TcpStream, routes: &[(&'static str, Reply)], stop: &AtomicBool) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 8192];
    let mut req = Vec::new();
    // One request per connection is enough for the tests; keep-alive requests are served in a loop.
    loop {
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").map_or(req.len(), |p| p + 4);
        let head = String::from_utf8_lossy(&req[..head_end]).into_owned();
        req.drain(..head_end);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let reply = routes.iter().find(|(p, _)| *p == path).map(|(_, r)| r.clone());
        let Some(r) = reply else {
            let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
            continue;
        };
        if let Some(want) = &r.require_auth {
            let got = head.lines().find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.trim())
            });
            if got != Some(want.as_str()) {
                let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nunauthorized");
                continue;
            }
        }
        let deadline = Instant::now() + r.delay;
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let enc = if r.gzip { "Content-Encoding: gzip\r\n" } else { "" };
        let head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{enc}Content-Length: {}\r\n\r\n",
            r.status,
            r.content_type,
            r.body.len()
        );
        if s.write_all(head.as_bytes()).and_then(|_| s.write_all(&r.body)).is_err() {
            return;
        }
    }
}

/// The path of a file under ../shared (beside the repository), if present.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join(rel)
}

/// A real Prometheus on a free port, scraping with `config`.
pub struct Prometheus {
    _proc: Proc,
    pub base: String,
    pub addr: String,
    _dir: TempDir,
}

impl Prometheus {
    pub fn start(config: &str) -> Prometheus {
        Self::start_with_data(config, |_| {})
    }

    /// Like [`Prometheus::start`], after `prepare` has written into its (new) data dir.
    pub fn start_with_data(config: &str, prepare: impl FnOnce(&std::path::Path)) -> Prometheus {
        Self::start_full(config, free_port(), prepare)
    }

    /// Like [`Prometheus::start`], on a given port (for a config that names it).
    pub fn start_on(config: &str, port: u16) -> Prometheus {
        Self::start_full(config, port, |_| {})
    }

    fn start_full(config: &str, port: u16, prepare: impl FnOnce(&std::path::Path)) -> Prometheus {
        let dir = TempDir::new("prom");
        prepare(&dir.path().join("data"));
        let cfg = dir.write("prometheus.yml", config);
        let addr = format!("127.0.0.1:{port}");
        let proc = Proc::spawn(
            "prometheus",
            Command::new("prometheus")
                .arg(format!("--config.file={}", cfg.display()))
                .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
                .arg(format!("--web.listen-address={addr}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let base = format!("http://{addr}");
        wait_for("prometheus to be ready", Duration::from_secs(30), || {
            http("GET", &format!("{base}/-/ready"), "").ok().filter(|r| r.status == 200)
        });
        Prometheus { _proc: proc, base, addr, _dir: dir }
    }
}

impl FakeTarget {
    /// A target whose `/metrics` body is `body(n)` for its `n`-th request
    /// (from 0): counters that grow, gauges that move.
    pub fn start_generated(body: impl Fn(u64) -> String + Send + Sync + 'static) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake target");
        let addr = listener.local_addr().expect("addr").to_string();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let routes = vec![("/metrics", Reply::text(body(n)))];
                        n += 1;
                        let stop3 = stop2.clone();
                        std::thread::spawn(move || serve_once(s, &routes, &stop3));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FakeTarget { addr, stop, thread: Some(thread) }
    }
}

/// Runs headless Chromium on `url` with a fresh profile, returning the DOM
/// it built, and saves a screenshot as `target/screenshots/<name>.png`.
pub fn chromium(url: &str, name: &str) -> String {
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let run = |extra: &[String]| {
        let profile = TempDir::new("chromium");
        let out = Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--window-size=1400,1000")
            .args(extra)
            .arg(url)
            .output()
            .expect("chromium (Debian's chromium package)");
        assert!(out.status.success(), "chromium {url}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[format!("--screenshot={}", shots.join(format!("{name}.png")).display())]);
    assert!(shots.join(format!("{name}.png")).exists(), "screenshot of {name}");
    run(&["--dump-dom".to_string()])
}

/// The body of a GET, as bytes (images).
pub fn http_raw(url: &str) -> Vec<u8> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |p| p + 4);
    raw.split_off(at)
}
