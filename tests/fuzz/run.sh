#!/usr/bin/env bash
# Fuzz for a bounded time each (default 120 s): the exposition parser and
# append path, then the PromQL parser and engine.
#   tests/fuzz/run.sh [SECONDS]
# Needs cargo-fuzz (installed here if missing). Runs on the stable toolchain
# through RUSTC_BOOTSTRAP, since sanitizer flags are nightly-only.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-120}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/exposition
# Seed with Prometheus's own pages when ../shared is beside the repository.
for f in ../../../shared/prometheus-testdata/textparse/*; do
  [ -f "$f" ] && cp "$f" corpus/exposition/ 2>/dev/null || true
done
printf '# TYPE m counter\nm_total{a="b"} 1 1700000000000\n' > corpus/exposition/seed.txt
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . exposition corpus/exposition -- \
  -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048
mkdir -p corpus/promql
printf 'sum by (job) (rate(a_total[5m])) / on(job) group_left histogram_quantile(0.9, b_bucket)' > corpus/promql/seed1
printf 'topk(2, b offset -1m @ 100) or vector(1) unless b[5m:30s]' > corpus/promql/seed2
printf 'rate(a[5m + step()] anchored offset -(2 * 1m)) + fill_left(0) info(b smoothed, {x=~".*"})' > corpus/promql/seed3
printf 'max_of(1, 2) + on(a) group_right fill(1) increase(c[min_of(range(), 1h):1m] offset 5m)' > corpus/promql/seed4
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . promql corpus/promql -- \
  -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048
