//! One HTTP scrape: request with Prometheus's headers, read the body under
//! the size limit, un-gzip it under the same limit, check it is UTF-8.

use crate::config::{Auth, ScrapeConfig};
use crate::scrape::parse::Format;
use flate2::read::GzDecoder;
use std::io::Read;
use std::time::Duration;

/// What Prometheus 2.x sends, without protobuf (Vigil reads text only).
pub const ACCEPT_HEADER: &str =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Used when `body_size_limit` is 0 (unlimited in Prometheus): a bound so
/// that a runaway or hostile target cannot exhaust memory.
pub const MAX_BODY_BYTES: u64 = 256 << 20;

/// A scraped body, decoded.
pub struct Body {
    pub text: String,
    pub format: Format,
}

/// Builds the HTTP client of one scrape config (auth is added per request).
pub fn client(cfg: &ScrapeConfig) -> Result<reqwest::Client, String> {
    builder(cfg)?.build().map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// For `tls_config.server_name`: a client for one target that connects to
/// the target's address while naming `server_name` in TLS (SNI and the
/// certificate check), and the URL to scrape with it.
pub async fn server_name_client(
    cfg: &ScrapeConfig,
    url: &str,
    server_name: &str,
) -> Result<(reqwest::Client, String), String> {
    let mut u = reqwest::Url::parse(url).map_err(|e| format!("invalid scrape URL {url:?}: {e}"))?;
    let host = u.host_str().ok_or_else(|| format!("no host in {url:?}"))?.to_string();
    let port = u.port_or_known_default().unwrap_or(443);
    let addr = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    u.set_host(Some(server_name)).map_err(|e| format!("invalid server_name {server_name:?}: {e}"))?;
    let client =
        builder(cfg)?.resolve(server_name, addr).build().map_err(|e| format!("cannot build HTTP client: {e}"))?;
    Ok((client, u.to_string()))
}

fn builder(cfg: &ScrapeConfig) -> Result<reqwest::ClientBuilder, String> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("Vigil/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .pool_max_idle_per_host(1)
        .redirect(reqwest::redirect::Policy::limited(10));
    let tls = &cfg.tls;
    if let Some(ca) = &tls.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("invalid ca_file {}: {e}", ca.display()))?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        let mut pem = std::fs::read(cert).map_err(|e| format!("cannot read cert_file {}: {e}", cert.display()))?;
        pem.extend(std::fs::read(key).map_err(|e| format!("cannot read key_file {}: {e}", key.display()))?);
        b = b.identity(reqwest::Identity::from_pem(&pem).map_err(|e| format!("invalid client certificate: {e}"))?);
    }
    if tls.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    Ok(b)
}

/// Scrapes `url` once, within `timeout`.
pub async fn fetch(client: &reqwest::Client, cfg: &ScrapeConfig, url: &str, timeout: Duration) -> Result<Body, String> {
    match tokio::time::timeout(timeout, fetch_inner(client, cfg, url, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("scrape timed out after {timeout:?} (scrape_timeout)")),
    }
}

async fn fetch_inner(
    client: &reqwest::Client,
    cfg: &ScrapeConfig,
    url: &str,
    timeout: Duration,
) -> Result<Body, String> {
    let mut req = client
        .get(url)
        .header("Accept", ACCEPT_HEADER)
        .header("Accept-Encoding", "gzip")
        .header("X-Prometheus-Scrape-Timeout-Seconds", format!("{}", timeout.as_secs_f64()));
    match &cfg.auth {
        Auth::None => {}
        Auth::Basic { username, password } => {
            let pw = password.read().map_err(|e| format!("cannot read password_file: {e}"))?;
            req = req.basic_auth(username, Some(pw));
        }
        Auth::Header { kind, credentials } => {
            let c = credentials.read().map_err(|e| format!("cannot read credentials file: {e}"))?;
            req = req.header("Authorization", format!("{kind} {c}"));
        }
    }
    let mut resp = req.send().await.map_err(|e| describe(url, &e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("server returned HTTP status {status}"));
    }
    let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let format = Format::from_content_type(header("content-type").as_deref());
    let gzip = header("content-encoding").is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    let limit = if cfg.body_size_limit == 0 { MAX_BODY_BYTES } else { cfg.body_size_limit };
    let mut raw = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(url, &e))? {
        if (raw.len() + chunk.len()) as u64 > limit {
            return Err(format!("body size limit exceeded ({limit} bytes)"));
        }
        raw.extend_from_slice(&chunk);
    }
    let bytes = if gzip {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("invalid gzip body: {e}"))?;
        if out.len() as u64 > limit {
            return Err(format!("body size limit exceeded ({limit} bytes, after gunzip)"));
        }
        out
    } else {
        raw
    };
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("body is not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()))?;
    Ok(Body { text, format })
}

fn describe(url: &str, e: &reqwest::Error) -> String {
    let mut msg = format!("Get {url:?}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}
