#!/usr/bin/env python3
"""Query answers over HTTP, Vigil beside Prometheus on the same data.

Writes one OpenMetrics file (10,000 gauge series with 20 samples each, and
100 series at 15 s over 4 h 10 m), imports it into a fresh Vigil
(POST /api/v1/import/openmetrics) and into a fresh Prometheus (promtool tsdb
create-blocks-from openmetrics), then times, on each server in turn:

  vector  GET /api/v1/query        bench_wide            (10,000 series)
  matrix  GET /api/v1/query_range  bench_long, 1,000 steps (100 series x 1,000 points)

and prints the median and the spread of --reps requests, and the answer size.
Loopback only; both servers are stopped at the end.

    cargo build --release && python3 benches/api_compare.py [--reps 30]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, what, limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{what} did not become ready")


def stop(procs, work):
    """Stops the servers (SIGTERM, then SIGKILL after 30 s) and removes the work dir."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)


def write_data(path, end_s):
    with open(path, "w") as f:
        f.write("# TYPE bench_wide gauge\n")
        for i in range(10_000):
            labels = f'group="g{i % 50}",i="{i}",job="bench"'
            for k in range(20):
                t = end_s - (19 - k) * 15
                f.write(f"bench_wide{{{labels}}} {(i * 7 + k) % 1000 / 8} {t}\n")
        f.write("# TYPE bench_long gauge\n")
        for i in range(100):
            labels = f'i="{i}",job="bench"'
            for k in range(1001):
                t = end_s - (1000 - k) * 15
                f.write(f"bench_long{{{labels}}} {(i + k * 1.25) % 97} {t}\n")
        f.write("# EOF\n")


def timed(url, reps):
    times, body = [], b""
    for _ in range(reps):
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as r:
            body = r.read()
        times.append(time.perf_counter() - t0)
    return times, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "target", "release", "vigil"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-api-compare-")
    procs = []
    try:
        end_s = int(time.time()) - 60
        data = os.path.join(work, "data.om")
        write_data(data, end_s)

        vport, pport = free_port(), free_port()
        cfg = os.path.join(work, "empty.yml")
        with open(cfg, "w") as f:
            f.write("scrape_configs: []\n")
        vlog = open(os.path.join(work, "vigil.log"), "w")
        procs.append(subprocess.Popen([a.vigil, "--config", cfg, "--listen", f"127.0.0.1:{vport}",
                                       "--data-dir", os.path.join(work, "vigil")], stdout=vlog, stderr=vlog))
        vbase = f"http://127.0.0.1:{vport}"
        wait_ready(vbase, "vigil")
        with open(data, "rb") as f:
            req = urllib.request.Request(vbase + "/api/v1/import/openmetrics", data=f.read(), method="POST")
            with urllib.request.urlopen(req, timeout=600) as r:
                print("vigil import:", r.read().decode()[:200])

        pdata = os.path.join(work, "prometheus")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, pdata],
                       check=True, stdout=subprocess.DEVNULL)
        plog = open(os.path.join(work, "prometheus.log"), "w")
        procs.append(subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={pdata}",
                                       f"--web.listen-address=127.0.0.1:{pport}"], stdout=plog, stderr=plog))
        pbase = f"http://127.0.0.1:{pport}"
        wait_ready(pbase, "prometheus")

        t = end_s - 1
        queries = {
            "vector": "/api/v1/query?" + urllib.parse.urlencode({"query": "bench_wide", "time": t}),
            "matrix": "/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": "bench_long", "start": t - 999 * 15, "end": t, "step": 15}),
        }
        print(f"{'query':8} {'server':10} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'bytes':>10}")
        for name, path in queries.items():
            bodies = []
            for server, base in [("vigil", vbase), ("prometheus", pbase)]:
                timed(base + path, 3)  # warm caches
                times, body = timed(base + path, a.reps)
                bodies.append(body)
                ms = [x * 1000 for x in times]
                print(f"{name:8} {server:10} {statistics.median(ms):10.1f} {min(ms):8.1f} {max(ms):8.1f} {len(body):10}")
            print(f"{name:8} answers byte for byte the same: {'yes' if bodies[0] == bodies[1] else 'NO'}")
    finally:
        stop(procs, work)


if __name__ == "__main__":
    main()
