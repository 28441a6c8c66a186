#!/usr/bin/env bash
# The memory benchmark of issue 18: the tool's own peak RSS (VmHWM of the
# insider-audit process, not Chromium's) crawling the generated shop at SMALL
# and at LARGE pages with every report format written, on the plain shop and on
# its heavy variant (1,000 more links and 200 more pushes a page), and a
# `--resume` of the LARGE journal (every page replayed from it).
#
# Usage: scripts/bench-memory.sh [SMALL] [LARGE] [VARIANTS]
#        (defaults: 500 5000 "plain heavy")
#
# Targets: peak RSS at LARGE at most 10 MB above the peak at SMALL, per
# variant; the resume under 100 MB. Prints a table and writes it to
# reports/bench-memory-<date>.md. Environment: CHROMIUM (/usr/bin/chromium),
# BENCH_LOCK (a lock file held around each measured run), BENCH_NO_BUILD=1,
# CARGO_TARGET_DIR (default $HOME/.cache/insider-audit/target).
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-500}
large=${2:-5000}
variants=${3:-plain heavy}
chromium=${CHROMIUM:-/usr/bin/chromium}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/insider-audit/target}
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  echo "building (release)..." >&2
  cargo build --release --quiet
fi
bin=$CARGO_TARGET_DIR/release/insider-audit

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-memory.XXXXXX")
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && { wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lock() {
  if [[ -n ${BENCH_LOCK:-} ]]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi
}

measure() { # NAME ARGS...
  local name=$1; shift
  lock python3 scripts/bench/measure.py "$work/$name.measure.json" -- "$@" \
    >"$work/$name.stdout" 2>"$work/$name.stderr" || true
  python3 - "$work/$name.measure.json" "$name" >>"$work/results.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}\t{m['tool_peak_rss_kb']}\t{m['wall_s']:.1f}\t{m['exit']}")
PY
  tail -n 1 "$work/results.tsv" >&2
}

for variant in $variants; do
  heavy=0
  [[ $variant == heavy ]] && heavy=1
  site=$work/site-$variant
  GEN_HEAVY=$heavy python3 scripts/bench/gen_site.py "$site" "$large" >&2
  rm -f "$work/url"
  python3 scripts/bench/serve.py "$site" "$work/url" &
  server=$!
  for _ in $(seq 100); do [[ -s $work/url ]] && break; sleep 0.1; done
  base=$(cat "$work/url")
  for pages in "$small" "$large"; do
    cat >"$work/$variant-$pages.json" <<JSON
{"site": "bench shop", "base_url": "$base",
 "crawl": {"start": ["/"], "max_pages": $pages, "max_depth": 50},
 "scenarios": [{"name": "logged-out"}]}
JSON
    out=$work/out-$variant-$pages
    measure "$variant-$pages" "$bin" run "$work/$variant-$pages.json" -q --browser "$chromium" \
      --screenshots never --format table --format json --format junit --format html \
      --format markdown --out-dir "$out"
  done
  measure "$variant-$large-resume" "$bin" run "$work/$variant-$large.json" -q \
    --browser "$chromium" --screenshots never --format json --resume "$work/out-$variant-$large"
  ls -l "$work/out-$variant-$large" >&2
  kill "$server"; wait "$server" 2>/dev/null || true; server=
done

mkdir -p reports
report=reports/bench-memory-$(date -u +%Y-%m-%d).md
python3 - "$work/results.tsv" "$small" "$large" "$variants" >"$report" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
small, large, variants = sys.argv[2], sys.argv[3], sys.argv[4].split()
by = {r[0]: r for r in rows}
print("| run | tool peak RSS (MB) | wall (s) | exit |")
print("|---|---:|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {int(r[1]) / 1024:.1f} | {r[2]} | {r[3]} |")
print()
for v in variants:
    a, b = by.get(f"{v}-{small}"), by.get(f"{v}-{large}")
    if a and b:
        growth = (int(b[1]) - int(a[1])) / 1024
        print(f"- {v}: {large} pages vs {small}: {growth:+.1f} MB (target: at most +10 MB)")
    r = by.get(f"{v}-{large}-resume")
    if r:
        print(f"- {v}: --resume of the {large}-page journal: {int(r[1]) / 1024:.1f} MB (target: under 100 MB)")
PY
cat "$report"
echo "wrote $report" >&2
