#!/usr/bin/env bash
# Benchmark of `history trend` (issue #20): the one-file trend page of the
# synthetic year of examples/bench_history.rs (365 nights of a 5,000-page
# site with 20,000 findings, 5% fixed and as many new each night, 1%
# reopened, 2% of pages not audited), from a SQLite store.
#
# Prints one JSON line: the median (and all) of 5 `history trend --output`
# runs in milliseconds, and the file's size in bytes; then one line of each
# view's read time with serve's window (examples/bench_views.rs: the first
# read and the median of 5, one client; serve's own benchmark adds HTTP and
# concurrency). Targets: <= 3 s and
# <= 5 MB. What the file holds at that size: every run in the series (366 at
# most), the 100 worst pages over the last 60 runs in the strip, the 200
# oldest open findings, the last 7 runs' new and fixed (20 each).
#
# Usage: scripts/bench-trend.sh [NIGHTS] [STORE]
#   NIGHTS  nights to record (default 365)
#   STORE   a store bench_history already filled (kept); else a fresh one
#           in a temporary directory, removed at the end
# A release build; not a test: the figures go in the README by hand.
#
# Figures of 2026-12-04 (the 2-core shared machine, load average about 2;
# SQLite, 365 nights, file 147 MB): history trend median 547 ms of 5 (523,
# 527, 547, 567, 568 ms; 747 ms under a load average of 8 before the index
# fixes), the file 1.30 MB (366 runs in the series, 100 pages x 60 runs in
# the strip). Views with serve's window, median of 5 (first read): suites
# 0.2 ms (0.5), a suite's trend 249 ms (249), a run 152 ms (190), a page
# 5.4 ms (6.4), a finding 17.5 ms (19.5).
set -euo pipefail
cd "$(dirname "$0")/.."
nights=${1:-365}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --example bench_history --example bench_views --bin insider-audit >&2
work=$(mktemp -d /tmp/bench-trend.XXXXXX)
trap 'rm -rf "$work"' EXIT
store=${2:-$work/history.db}
if [ ! -f "$store" ]; then
    echo "== recording $nights nights into $store" >&2
    "$target/release/examples/bench_history" "$store" "$nights" | grep summary >&2
fi
times=()
for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$target/release/insider-audit" history trend --history "$store" --output "$work/trend.html"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | paste -sd, -)
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
bytes=$(stat -c %s "$work/trend.html")
echo "{\"nights\": $nights, \"trend_ms_median\": $median, \"trend_ms\": [$sorted], \"bytes\": $bytes}"
"$target/release/examples/bench_views" "$store"
