//! https targets: the CA from `ca_file`, `server_name` for SNI and the
//! certificate check, and `insecure_skip_verify`. The certificates are made
//! by the `openssl` command for each run.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir.path()).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a server certificate for `metrics.test`, signed by it.
fn make_certs(dir: &TempDir) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Vigil test CA"]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=metrics.test"]);
    openssl(dir, &csr);
    dir.write("ext.cnf", "subjectAltName=DNS:metrics.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// An https server answering every request with a small page; stops when the test ends.
fn serve_tls(dir: &TempDir) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer> =
        CertificateDer::pem_file_iter(dir.path().join("srv.crt")).unwrap().map(|c| c.unwrap()).collect();
    let key = PrivateKeyDer::from_pem_file(dir.path().join("srv.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(tcp) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = "secure_metric 1\n";
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

#[test]
fn https_targets_checked_against_ca_and_server_name() {
    let dir = TempDir::new("tls");
    make_certs(&dir);
    let addr = serve_tls(&dir);
    let ca = dir.path().join("ca.crt").display().to_string();
    let job = |name: &str, tls: &str| {
        format!("  - job_name: {name}\n    scheme: https\n    tls_config:\n{tls}    static_configs:\n      - targets: ['{addr}']\n")
    };
    let mut cfg = String::from("global:\n  scrape_interval: 1s\nscrape_configs:\n");
    cfg += &job("named", &format!("      ca_file: {ca}\n      server_name: metrics.test\n"));
    cfg += &job("unnamed", &format!("      ca_file: {ca}\n"));
    cfg += &job("unknown-ca", "      server_name: metrics.test\n");
    cfg += &job("insecure", "      insecure_skip_verify: true\n");
    let v = Vigil::start(&cfg);
    let targets = wait_for("all scraped", Duration::from_secs(15), || {
        let t = v.targets();
        (t.len() == 4 && t.iter().all(|t| t["health"] != "unknown")).then_some(t)
    });
    for t in &targets {
        let job = t["labels"]["job"].as_str().unwrap();
        let want = if job == "named" || job == "insecure" { "up" } else { "down" };
        assert_eq!(t["health"], want, "{job}: {t}");
        // The instance stays the address, whatever name TLS uses.
        assert_eq!(t["labels"]["instance"], addr.as_str());
    }
    assert_eq!(v.query("secure_metric").len(), 2);
}
