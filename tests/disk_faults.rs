//! A full or read-only disk under a running Vigil: a clear error, scraping
//! goes on in memory, nothing crashes, and writing resumes (losing nothing)
//! once the disk takes writes again. The data dir is a small tmpfs, so these
//! tests mount file systems and need root; `.ci/run` runs them.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use storage::model::timestamp::now_ms;

const SERIES: usize = 5_000;

/// A tmpfs mounted for the test's life.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let st = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(at).status();
        assert!(st.is_ok_and(|s| s.success()), "mounting a tmpfs failed: these tests need root");
        Mount(at.to_path_buf())
    }

    fn remount(&self, opts: &str) {
        let st = Command::new("mount").args(["-o", &format!("remount,{opts}")]).arg(&self.0).status().unwrap();
        assert!(st.success(), "remount {opts}");
    }
}

/// A read-only bind mount over a directory: new files and opens for writing
/// fail with EROFS (files already open stay writable, as after a remount).
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn over(at: &Path) -> ReadOnly {
        let ok = |args: &[&str]| Command::new("mount").args(args).arg(at).arg(at).status().unwrap().success();
        assert!(ok(&["--bind"]), "bind mount");
        let st = Command::new("mount").args(["-o", "remount,bind,ro"]).arg(at).status().unwrap();
        assert!(st.success(), "read-only remount of the bind mount");
        ReadOnly(at.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn page() -> String {
    let pad = "x".repeat(40);
    let mut s = String::from("# TYPE big gauge\n");
    for i in 0..SERIES {
        s.push_str(&format!("big{{i=\"{i}\",pad=\"{pad}\"}} {}\n", i % 13));
    }
    s
}

fn count_at(v: &Vigil, t_ms: i64) -> u64 {
    let q = urlencode("sum(count_over_time(big[1h]))");
    let j = get_json(&format!("{}/api/v1/query?query={q}&time={}.{:03}", v.base, t_ms / 1000, t_ms % 1000));
    assert_eq!(j["status"], "success", "{j}");
    j["data"]["result"][0]["value"][1].as_str().map_or(0, |s| s.parse::<f64>().unwrap() as u64)
}

fn errors(v: &Vigil) -> f64 {
    v.metric("vigil_tsdb_write_errors_total").unwrap_or(0.0)
}

/// Fills the disk, then gives it room; then makes it read-only, then writable.
#[test]
#[ignore = "mounts a tmpfs as the data dir: needs root (.ci/run runs it)"]
fn full_then_read_only_disk_loses_nothing() {
    let target = FakeTarget::start(vec![("/metrics", Reply::text(page()))]);
    let dir = TempDir::new("vigil-diskfull");
    // About 2 s of WAL at this rate: the disk fills between checkpoints.
    let mount = Mount::tmpfs(&dir.path().join("data"), "1m");
    let config = format!(
        "global:\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\nscrape_configs:\n  \
         - job_name: big\n    static_configs: [{{targets: ['{}']}}]\n",
        target.addr
    );
    let mut v = Vigil::start_in(dir, &config, &["--storage.wal-checkpoint-interval", "5s"]);

    // 1. The disk fills: errors are counted and logged, scraping goes on.
    wait_for("write errors from a full disk", Duration::from_secs(90), || (errors(&v) > 0.0).then_some(()));
    assert!(v.log().contains("No space left on device"), "{}", v.log());
    let before = count_at(&v, now_ms());
    std::thread::sleep(Duration::from_secs(2));
    assert!(v.proc.alive());
    assert!(count_at(&v, now_ms()) >= before + 5 * SERIES as u64, "scraping keeps filling the head");

    // 2. Room again: writing resumes by itself.
    mount.remount("size=64m");
    wait_for("writes to succeed again", Duration::from_secs(30), || {
        v.log().contains("storage writes succeed again").then_some(())
    });

    // 3. Read-only, then writable again.
    let e = errors(&v);
    let ro = ReadOnly::over(&v.data_dir());
    wait_for("write errors from a read-only disk", Duration::from_secs(30), || (errors(&v) > e).then_some(()));
    assert!(v.log().contains("Read-only file system"), "{}", v.log());
    std::thread::sleep(Duration::from_secs(1));
    assert!(v.proc.alive());
    drop(ro);
    let log_len = v.log().len();
    wait_for("writes to succeed again after read-only", Duration::from_secs(30), || {
        v.log()[log_len..].contains("storage writes succeed again").then_some(())
    });
    // Let one more checkpoint pass, then crash: everything up to a second ago is there after the restart,
    // including what was scraped while the disk refused writes.
    std::thread::sleep(Duration::from_secs(2));
    let t = now_ms() - 1_000;
    let want = count_at(&v, t);
    v.kill9();
    v.restart();
    assert_eq!(count_at(&v, t), want, "{}", v.log());
    assert!(!v.log().contains("panicked"), "{}", v.log());
}
