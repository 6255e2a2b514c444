#!/usr/bin/env python3
"""The benchmark dashboard's 20 queries in Vigil and in Prometheus, on the
same data, beside Vigil rendering the whole dashboard.

Writes the data of the dashboard benchmark (web/benches/fixture: 100
instances x 1,000 series = 100,000 series, an hour at 15 s, each instance at
its own offset in the interval, ending a minute ago) as OpenMetrics, imports it into a fresh Vigil and a fresh Prometheus,
loads web/benches/fixture/service.json into Vigil, then times --reps times:

  vigil page        GET /d/bench over the hour: every panel queried and drawn
  vigil queries     the 20 panels' range queries over /api/v1/query_range
  prometheus        the same 20 range queries

The queries are sent two at a time (this machine has two cores; a browser
sends a dashboard's queries at once), with the variables filled in as Vigil
fills them for this dashboard: $instance = host-007:9100, $__rate_interval =
1m (4 x the 15 s scrape interval), $__range = 1h, step 15 s. Loopback only;
both servers are stopped at the end.

    cargo build --release && python3 benches/dashboard_compare.py [--reps 15]
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_compare import free_port, wait_ready, stop, ROOT  # noqa: E402
from promql_compare import Parts, values, agree  # noqa: E402

STEP = 15
LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def fmt(v):
    return repr(float(v))


def write_data(work, t0_s):
    """The fixture's series in its order, with its values (see fixture/mod.rs)."""
    parts = Parts(work)
    steps = range(3600 // STEP + 1)
    n = 0

    offset = 0.0  # each instance's scrape offset in the interval (s), as in the fixture

    def add(name, labels, rate, kind):
        nonlocal n
        head = f"{name}{{{labels}}}"
        if kind == "counter":
            vals = [rate * k for k in steps]
        elif kind == "gauge":
            vals = [rate + (k + n) % 17 for k in steps]
        else:
            vals = [rate for _ in steps]
        parts.series([f"{head} {fmt(v)} {t0_s + k * STEP + offset:.3f}\n" for k, v in zip(steps, vals)])
        n += 1

    for i in range(100):
        offset = (i * 7919 % (STEP * 1000)) / 1000
        base = f'job="api",instance="host-{i:03}:9100"'
        for h in range(64):
            for c, code in enumerate(["200", "201", "404", "500", "503"]):
                rate = (1 + (h + i) % 7) * [20.0, 3.0, 1.0, 0.2, 0.1][c]
                add("http_requests_total", f'{base},handler="/api/v1/h{h:02}",code="{code}"', rate, "counter")
        for h in range(40):
            for k, le in enumerate(LE):
                add("http_request_duration_seconds_bucket", f'{base},handler="/api/v1/h{h:02}",le="{le}"',
                    30.0 * (k + 1) / 12.0, "counter")
            for name, rate in [("http_request_duration_seconds_count", 30.0), ("http_request_duration_seconds_sum", 4.5)]:
                add(name, f'{base},handler="/api/v1/h{h:02}"', rate, "counter")
        add("up", base, 1.0, "constant")
        add("process_cpu_seconds_total", base, 0.5 + (i % 5) * 0.3, "counter")
        add("process_resident_memory_bytes", base, 2e8 + i * 1e6, "gauge")
        add("go_goroutines", base, 40.0 + i % 9, "gauge")
        for g in range(116):
            add(f"app_gauge_{g:03}", base, float(g + i), "gauge")
    parts.close()
    return parts.files


def run_all(base, paths):
    """Wall time of sending every path, two at a time; the bodies in order."""
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        bodies = list(pool.map(lambda p: urllib.request.urlopen(base + p, timeout=300).read(), paths))
    return time.perf_counter() - t0, bodies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "target", "release", "vigil"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-dashboard-compare-")
    procs = []
    try:
        t0_s = int(time.time()) - 3600 - 60
        started = time.time()
        files = write_data(work, t0_s)
        print(f"data: {len(files)} parts, {sum(os.path.getsize(f) for f in files) >> 20} MiB, "
              f"{time.time() - started:.0f} s")
        boards = os.path.join(work, "boards")
        os.mkdir(boards)
        shutil.copy(os.path.join(ROOT, "web", "benches", "fixture", "service.json"), boards)
        dash = json.load(open(os.path.join(boards, "service.json")))

        vport, pport = free_port(), free_port()
        cfg = os.path.join(work, "empty.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
        vlog = open(os.path.join(work, "vigil.log"), "w")
        procs.append(subprocess.Popen([a.vigil, "--config", cfg, "--listen", f"127.0.0.1:{vport}", "--dashboards",
                                       boards, "--data-dir", os.path.join(work, "vigil")], stdout=vlog, stderr=vlog))
        vbase = f"http://127.0.0.1:{vport}"
        wait_ready(vbase, "vigil")
        started = time.time()
        for path in files:
            with open(path, "rb") as f:
                req = urllib.request.Request(vbase + "/api/v1/import/openmetrics", data=f.read(), method="POST")
                urllib.request.urlopen(req, timeout=900).read()
        print(f"vigil import: {time.time() - started:.0f} s")
        pdata = os.path.join(work, "prometheus")
        started = time.time()
        for path in files:
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", path, pdata],
                           check=True, stdout=subprocess.DEVNULL)
        print(f"promtool create-blocks: {time.time() - started:.0f} s")
        for path in files:
            os.remove(path)
        plog = open(os.path.join(work, "prometheus.log"), "w")
        procs.append(subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={pdata}",
                                       f"--web.listen-address=127.0.0.1:{pport}"], stdout=plog, stderr=plog))
        pbase = f"http://127.0.0.1:{pport}"
        wait_ready(pbase, "prometheus", limit=600)

        start, end = t0_s, t0_s + 3600
        fill = {"$instance": "host-007:9100", "$__rate_interval": "1m", "$__range": "1h"}
        exprs = []
        for p in dash["panels"]:
            e = p["targets"][0]["expr"]
            for k, v in fill.items():
                e = e.replace(k, v)
            exprs.append(e)
        paths = ["/api/v1/query_range?" + urllib.parse.urlencode({"query": e, "start": start, "end": end, "step": STEP})
                 for e in exprs]
        page = "/d/bench?" + urllib.parse.urlencode(
            {"from": start * 1000, "to": end * 1000, "var-instance": "host-007:9100"})

        body = urllib.request.urlopen(vbase + page, timeout=300).read().decode()
        failing = body.count("panel-error") + body.count("data-no-data")
        panels = body.count('<section class="panel')
        print(f"vigil page: {len(body)} bytes, {panels} panels, {failing} failing")
        runs = {"vigil page": (vbase, [page]), "vigil queries": (vbase, paths), "prometheus queries": (pbase, paths)}
        answers = {}
        print(f"{'what':20} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
        for name, (base, ps) in runs.items():
            run_all(base, ps)  # warm caches
            times = []
            for _ in range(a.reps):
                t, bodies = run_all(base, ps)
                times.append(t * 1000)
            answers[name] = bodies
            print(f"{name:20} {statistics.median(times):10.1f} {min(times):8.1f} {max(times):8.1f}")
        same = 0
        for e, x, y in zip(exprs, answers["vigil queries"], answers["prometheus queries"]):
            vx, vy = values(x), values(y)
            if agree(vx, vy):
                same += 1
                continue
            print(f"differ: {e}: {len(vx)} vs {len(vy)} series")
            for k in sorted(set(vx) | set(vy))[:3]:
                a_, b_ = vx.get(k, []), vy.get(k, [])
                diffs = [(i, p, q) for i, (p, q) in enumerate(zip(a_, b_)) if p != q][:2]
                print(f"  {k}: {len(a_)} vs {len(b_)} points; first differences {diffs}")
        print(f"answers agree for {same} of {len(paths)} queries")
    finally:
        stop(procs, work)


if __name__ == "__main__":
    main()
