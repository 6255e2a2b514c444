#!/usr/bin/env python3
"""PromQL on the same data in Vigil and in Prometheus: the three queries of
the PromQL issue's benchmark.

Writes OpenMetrics history ending a minute ago and imports it into a fresh
Vigil (POST /api/v1/import/openmetrics, in parts of whole series) and into a
fresh Prometheus (promtool tsdb create-blocks-from openmetrics):

  requests  http_requests_total: 100 handlers x 100 instances = 10,000 counters, 65 min at 15 s
  latency   http_request_duration_seconds_bucket: 1,000 histograms x 12 buckets, 65 min at 15 s
  wide      app_series: 100,000 gauges with 5 samples each (the last minute)

then times each query --reps times on each server in turn:

  range    sum by (handler) (rate(http_requests_total[5m]))          1 h at 15 s (241 steps)
  range    histogram_quantile(0.95, sum by (le) (rate(..._bucket[5m]))) 1 h at 15 s
  instant  count(app_series{path=~"/api/v[23]/r1.*"})                  a regex over 100k series

It prints the median and spread of the request times, the server's peak RSS
growth while the query runs (sampled every 2 ms from /proc, above the RSS
before the repetitions), the bytes of samples each query loads (16 per
sample), and whether both answers agree (to 1e-9, relative). Loopback only;
both servers are stopped at the end.

    cargo build --release && python3 benches/promql_compare.py [--reps 15]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_compare import free_port, wait_ready, stop, ROOT  # noqa: E402

STEP = 15
SPAN = 65 * 60  # an hour plus the 5 m window before its first step
PART_BYTES = 96 << 20  # import bodies of whole series, each under Vigil's 256 MiB limit


class Parts:
    """OpenMetrics files of whole series, started anew past PART_BYTES."""

    def __init__(self, work):
        self.work, self.files, self.f, self.size = work, [], None, 0

    def series(self, lines):
        text = "".join(lines)
        if self.f is None or self.size + len(text) > PART_BYTES:
            self.close()
            path = os.path.join(self.work, f"part{len(self.files)}.om")
            self.files.append(path)
            self.f, self.size = open(path, "w"), 0
        self.f.write(text)
        self.size += len(text)

    def close(self):
        if self.f is not None:
            self.f.write("# EOF\n")
            self.f.close()
            self.f = None


def write_data(work, end_s):
    parts = Parts(work)
    times = [end_s - SPAN + k * STEP for k in range(SPAN // STEP + 1)]
    for h in range(100):
        for i in range(100):
            name = f'http_requests_total{{handler="h{h}",instance="i{i}",job="api"}}'
            per = 1 + (h * 7 + i) % 23
            parts.series([f"{name} {k * per} {t}\n" for k, t in enumerate(times)])
    les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
    for j in range(1000):
        for n, le in enumerate(les):
            name = f'http_request_duration_seconds_bucket{{instance="i{j % 100}",handler="h{j // 100}",le="{le}"}}'
            per = (n + 1) * (1 + j % 5)
            parts.series([f"{name} {k * per} {t}\n" for k, t in enumerate(times)])
    recent = [end_s - 60 + k * STEP for k in range(5)]
    for i in range(100_000):
        name = f'app_series{{path="/api/v{1 + i % 3}/r{i % 1000}",id="{i}"}}'
        parts.series([f"{name} {(i + k) % 100} {t}\n" for k, t in enumerate(recent)])
    parts.close()
    # TYPE lines are optional: every family is read as unknown by both importers.
    return parts.files


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def timed(url, reps, pid):
    base = rss(pid)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss(pid))
            time.sleep(0.002)

    th = threading.Thread(target=sample)
    th.start()
    times, body = [], b""
    try:
        for _ in range(reps):
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, timeout=300) as r:
                body = r.read()
            times.append(time.perf_counter() - t0)
    finally:
        stop.set()
        th.join()
    return times, body, peak[0] - base


def values(body):
    d = json.loads(body)["data"]
    out = {}
    for s in d["result"]:
        key = json.dumps(s["metric"], sort_keys=True)
        out[key] = [float(v[1]) for v in s.get("values", [s.get("value")])]
    return out


def agree(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        if len(a[k]) != len(b[k]):
            return False
        for x, y in zip(a[k], b[k]):
            if not (x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y)) or (x != x and y != y)):
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "target", "release", "vigil"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-promql-compare-")
    procs = []
    try:
        end_s = int(time.time()) - 60
        t0 = time.time()
        files = write_data(work, end_s)
        print(f"data: {len(files)} parts, {sum(os.path.getsize(f) for f in files) >> 20} MiB, {time.time() - t0:.0f} s")

        vport, pport = free_port(), free_port()
        cfg = os.path.join(work, "empty.yml")
        with open(cfg, "w") as f:
            f.write("scrape_configs: []\n")
        vlog = open(os.path.join(work, "vigil.log"), "w")
        vigil = subprocess.Popen([a.vigil, "--config", cfg, "--listen", f"127.0.0.1:{vport}",
                                  "--data-dir", os.path.join(work, "vigil")], stdout=vlog, stderr=vlog)
        procs.append(vigil)
        vbase = f"http://127.0.0.1:{vport}"
        wait_ready(vbase, "vigil")
        t0 = time.time()
        for path in files:
            with open(path, "rb") as f:
                req = urllib.request.Request(vbase + "/api/v1/import/openmetrics", data=f.read(), method="POST")
                with urllib.request.urlopen(req, timeout=900) as r:
                    r.read()
        print(f"vigil import: {time.time() - t0:.0f} s")

        pdata = os.path.join(work, "prometheus")
        t0 = time.time()
        for path in files:
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", path, pdata],
                           check=True, stdout=subprocess.DEVNULL)
        print(f"promtool create-blocks: {time.time() - t0:.0f} s")
        plog = open(os.path.join(work, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={pdata}",
                                 f"--web.listen-address=127.0.0.1:{pport}"], stdout=plog, stderr=plog)
        procs.append(prom)
        pbase = f"http://127.0.0.1:{pport}"
        wait_ready(pbase, "prometheus", limit=300)

        end = end_s - 1
        rng = {"start": end - 3600, "end": end, "step": STEP}
        queries = [
            ("sum_rate", "range", "sum by (handler) (rate(http_requests_total[5m]))", 10_000 * (3600 + 300) // STEP),
            ("hist_quantile", "range",
             "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
             12_000 * (3600 + 300) // STEP),
            ("regex", "instant", 'count(app_series{path=~"/api/v[23]/r1.*"})',
             5 * sum(1 for i in range(100_000) if i % 3 > 0 and str(i % 1000).startswith("1"))),
        ]
        print(f"{'query':14} {'server':10} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'peak RSS +MiB':>14}"
              f" {'samples MiB':>12}")
        for name, kind, q, samples in queries:
            if kind == "range":
                path = "/api/v1/query_range?" + urllib.parse.urlencode({"query": q, **rng})
            else:
                path = "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": end})
            answers = []
            for server, base, proc in [("vigil", vbase, vigil), ("prometheus", pbase, prom)]:
                timed(base + path, 2, proc.pid)  # warm caches
                times, body, grew = timed(base + path, a.reps, proc.pid)
                answers.append(values(body))
                ms = sorted(x * 1000 for x in times)
                print(f"{name:14} {server:10} {ms[len(ms) // 2]:10.1f} {ms[0]:8.1f} {ms[-1]:8.1f}"
                      f" {grew / 2**20:14.1f} {samples * 16 / 2**20:12.1f}")
            print(f"{name:14} answers agree: {'yes' if agree(*answers) else 'NO'} ({len(answers[0])} series)")
    finally:
        stop(procs, work)


if __name__ == "__main__":
    main()
