//! File patterns as Prometheus takes them in `rule_files`,
//! `scrape_config_files` and `file_sd_configs`: the last component may hold
//! `*` and `?` wildcards.

use std::path::{Path, PathBuf};

/// Expands a path whose last component may hold `*` and `?` wildcards.
pub fn expand(pattern: &str) -> Vec<PathBuf> {
    let p = Path::new(pattern);
    let Some(file) = p.file_name().and_then(|f| f.to_str()) else { return Vec::new() };
    if !file.contains(['*', '?']) {
        return vec![p.to_path_buf()];
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(file.as_bytes(), n.as_bytes())))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(b'?'), Some(_)) => wildcard(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.json", b"a.json"));
        assert!(wildcard(b"a?.yml", b"ab.yml"));
        assert!(!wildcard(b"*.json", b"a.yml"));
    }
}
