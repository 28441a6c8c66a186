#!/usr/bin/env bash
# Benchmark of `history serve` (issue #20): every view of the synthetic year
# (examples/bench_history.rs: 365 nights of a 5,000-page site with 20,000
# findings) served from a SQLite store over HTTP on loopback, with 8
# concurrent clients.
#
# Per view (the suites, the suite's trend, its latest run, its worst page,
# its oldest open finding, each in HTML and JSON): the first request after the
# server started (cold: the store is read and the view rendered), then 20
# requests from 8 clients at once (answered from the views the server keeps
# while the store does not change); prints the cold time and the median and
# p95 of those 20 in milliseconds. Target: <= 300 ms.
#
# Usage: scripts/bench-serve.sh [STORE]   (default: record 365 nights into a
#        temporary store first, which takes a few minutes)
# A release build; not a test: the figures go in the README by hand
# (README, "history serve": medians of 3 runs of 2026-12-04, e.g. the suite's
# trend cold 282 ms JSON / 254 ms HTML, then 5 ms median, 7-8 ms p95).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --example bench_history --bin insider-audit >&2
work=$(mktemp -d /tmp/bench-serve.XXXXXX)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
store=${1:-$work/history.db}
if [ ! -f "$store" ]; then
    echo "== recording 365 nights into $store" >&2
    "$target/release/examples/bench_history" "$store" 365 | grep summary >&2
fi
"$target/release/insider-audit" history serve --history "$store" --addr 127.0.0.1:0 >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q http "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
origin=$(grep -o 'http://[0-9.:]*' "$work/serve.out" | head -1)
python3 - "$origin" <<'PY'
import concurrent.futures, json, statistics, sys, time, urllib.request

origin = sys.argv[1]

def fetch(path, accept="text/html"):
    req = urllib.request.Request(origin + path, headers={"Accept": accept})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
        assert r.status == 200, (path, r.status)
    return (time.perf_counter() - t) * 1000, body

def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]

# Find what to ask for, as a client would: from the JSON of the views.
cold = {}
cold["/"], body = fetch("/", "application/json")
suite = json.loads(body)[0]["name"]
suite_path = "/suites/" + urllib.request.quote(suite, safe="")
cold[suite_path], body = fetch(suite_path, "application/json")
trend = json.loads(body)
run_path = "/runs/" + urllib.request.quote(trend["runs"][-1]["id"], safe="")
page_path = suite_path + "/pages/" + trend["strip"]["rows"][0]["page"]
finding_path = "/findings/" + trend["open"]["oldest"][0]["fp"]
for path in (run_path, page_path, finding_path):
    cold[path], _ = fetch(path, "application/json")
cold_html = {}
for path in ["/", suite_path, run_path, page_path, finding_path]:
    cold_html[path], _ = fetch(path)

print(f"{'view':<58} {'cold':>8} {'median':>8} {'p95':>8}   (ms; 20 requests, 8 clients)")
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    for path in ["/", suite_path, run_path, page_path, finding_path]:
        for accept, form in (("text/html", "html"), ("application/json", "json")):
            times = list(pool.map(lambda _: fetch(path, accept)[0], range(20)))
            c = f"{(cold if form == 'json' else cold_html)[path]:.0f}"
            print(f"{path + ' (' + form + ')':<58} {c:>8} {statistics.median(times):>8.0f} {p95(times):>8.0f}")
PY
