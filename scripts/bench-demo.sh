#!/usr/bin/env bash
# Measures `insider-audit demo`: wall time and pages per second over several runs.
# Usage: scripts/bench-demo.sh [RUNS] [extra insider-audit options...]
# Prints each run, then the median. Machines are shared and noisy: quote medians.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/insider-audit
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  "$bin" demo -q --format json --output "$out/report-$i.json" "$@" >/dev/null || true
  end=$(date +%s.%N)
  pages=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['pages'])" "$out/report-$i.json")
  echo "run $i: $(python3 -c "print(f'{$end-$start:.2f}')") s, $pages pages"
  echo "$start $end $pages" >> "$out/times"
done
python3 - "$out/times" <<'PY'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
walls = [e - s for s, e, _ in rows]
rates = [p / (e - s) for s, e, p in rows]
print(f"median wall {statistics.median(walls):.2f} s, median {statistics.median(rates):.2f} pages/s over {len(rows)} runs ({int(rows[0][2])} pages each)")
PY
