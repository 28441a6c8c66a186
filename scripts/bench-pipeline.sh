#!/usr/bin/env bash
# The benchmark of issue 9: insider-audit against a Playwright peer and a bare
# chromiumoxide floor, on a generated shop served on 127.0.0.1.
#
# Usage: scripts/bench-pipeline.sh [PAGES] [RUNS]        (defaults: 500 pages, 3 runs)
#
# Generates PAGES pages of 30-80 KB (scripts/bench/gen_site.py), serves them
# (scripts/bench/serve.py), and runs RUNS times, interleaved (run 1 of each
# contender, then run 2 of each, ...):
#   insider-audit run at --concurrency 4, 1 and 8 (one logged-out scenario
#     crawling the site from /; --concurrency 1 crawls only BENCH_C1_PAGES pages,
#     default 100, because it does about 1 page/s),
#   the Playwright peer at 4 and 8 pages (benches/peer/crawl.mjs),
#   the floor: bare chromiumoxide to the load event, 4 tabs (examples/floor.rs),
#   insider-audit at --concurrency 4 with the renderer slowed 4x (ia4t, CDP CPU
#     throttling): its findings must be those of the unthrottled run, page by
#     page, or the benchmark fails.
# Each run is measured by scripts/bench/measure.py (wall, CPU of the process
# tree, peak RSS of the tool and of Chromium). Prints the table of medians and
# ratios and writes it to reports/bench-pipeline-<date>.md.
#
# Environment: CHROMIUM (default /usr/bin/chromium), BENCH_C1_PAGES (100),
# BENCH_CONTENDERS (a subset of "ia4 ia1 ia8 peer4 peer8 floor base4"; base4 runs
# BENCH_BASE_BIN, an earlier build, at --concurrency 4; ia4t, throttled), BENCH_LOCK
# (a lock file taken around every contender run, so that other browser
# workloads on a shared machine never overlap a measurement), BENCH_NO_BUILD=1
# (use the release binaries already built, e.g. while the tree does not compile),
# CARGO_TARGET_DIR
# (default $HOME/.cache/insider-audit/target). Needs python3, node >= 20, npm
# (playwright-core is installed into benches/peer on first use, never a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pages=${1:-500}
runs=${2:-3}
c1_pages=${BENCH_C1_PAGES:-100}
(( c1_pages > pages )) && c1_pages=$pages
contenders=${BENCH_CONTENDERS:-ia4 ia1 ia8 peer4 peer8 floor ia4t}
chromium=${CHROMIUM:-/usr/bin/chromium}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/insider-audit/target}

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  echo "building (release)..." >&2
  cargo build --release --quiet
  cargo build --release --quiet --example floor
fi
bin=$CARGO_TARGET_DIR/release/insider-audit
floor=$CARGO_TARGET_DIR/release/examples/floor
if [[ ! -d benches/peer/node_modules/playwright-core ]]; then
  echo "installing playwright-core into benches/peer (no browser download)..." >&2
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix benches/peer --no-audit --no-fund --silent
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pipeline.XXXXXX")
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && { wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

site_info=$(python3 scripts/bench/gen_site.py "$work/site" "$pages")
echo "$site_info" >&2
python3 scripts/bench/serve.py "$work/site" "$work/url" &
server=$!
for _ in $(seq 100); do [[ -s $work/url ]] && break; sleep 0.1; done
[[ -s $work/url ]] || { echo "the site server did not start" >&2; exit 1; }
base=$(cat "$work/url")
echo "serving on $base" >&2

scenario() { # FILE MAX_PAGES
  cat >"$1" <<EOF
{"site": "bench shop", "base_url": "$base",
 "crawl": {"start": ["/"], "max_pages": $2, "max_depth": 50},
 "scenarios": [{"name": "logged-out"}]}
EOF
}
scenario "$work/full.json" "$pages"
scenario "$work/c1.json" "$c1_pages"
"$bin" validate "$work/full.json" "$work/c1.json" >/dev/null

cat >"$work/meta.json" <<EOF
{"pages": $pages, "runs": $runs, "c1_pages": $c1_pages, "chromium": "$chromium",
 "nproc": $(nproc), "site": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].split(", in ")[0]))' "$site_info"),
 "commit": "$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')${BENCH_NO_BUILD:+ (BENCH_NO_BUILD: binaries as last built)}",
 "playwright": "$(node -p 'require("./benches/peer/node_modules/playwright-core/package.json").version')",
 "node": "$(node --version)"}
EOF

lock() { if [[ -n ${BENCH_LOCK:-} ]]; then flock "$BENCH_LOCK" "$@"; else "$@"; fi; }

run_one() { # NAME RUN
  local name=$1 run=$2 out=$work/$1-$2
  local -a cmd
  local report=
  case $name in
    ia4t)
      report=$out.report.json
      cmd=("$bin" run "$work/full.json" --concurrency 4 --cpu-throttle 4 --format json --output "$report" -q --browser "$chromium") ;;
    ia4|ia8|ia1)
      local n=${name#ia} file=$work/full.json
      [[ $name == ia1 ]] && file=$work/c1.json
      report=$out.report.json
      cmd=("$bin" run "$file" --concurrency "$n" --format json --output "$report" -q --browser "$chromium") ;;
    base4)
      # BENCH_BASE_BIN: an earlier build, side by side with this one at --concurrency 4.
      report=$out.report.json
      cmd=("${BENCH_BASE_BIN:?base4 needs BENCH_BASE_BIN}" run "$work/full.json" --concurrency 4 --format json --output "$report" -q --browser "$chromium") ;;
    peer4|peer8)
      cmd=(node benches/peer/crawl.mjs "$base" --concurrency "${name#peer}" --max-pages "$pages" --browser "$chromium") ;;
    floor)
      cmd=("$floor" "$base" --concurrency 4 --max-pages "$pages" --browser "$chromium") ;;
    *) echo "unknown contender $name" >&2; exit 2 ;;
  esac
  lock python3 scripts/bench/measure.py "$out.measure.json" -- "${cmd[@]}" >"$out.stdout" 2>"$out.stderr" || true
  python3 - "$name" "$run" "$out" "$report" >>"$work/runs.jsonl" <<'PY'
import json, sys
name, run, out, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
measure = json.load(open(out + ".measure.json"))
pages = 0
try:
    if report:
        pages = json.load(open(report))["summary"]["pages"]
    else:
        pages = json.loads(open(out + ".stdout").read().strip().splitlines()[-1])["pages"]
except (OSError, ValueError, KeyError, IndexError):
    pass
print(json.dumps({"name": name, "run": run, "pages": pages, "measure": measure, "report": report or None}))
PY
  tail -n 1 "$work/runs.jsonl" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read()); m = r["measure"]
rate = r["pages"] / m["wall_s"] if m["wall_s"] else 0
print("run {} {:6} {:5} pages {:7.1f} s {:6.2f} pages/s {:7.1f} CPU-s  exit {}".format(
    r["run"], r["name"], r["pages"], m["wall_s"], rate, m["cpu_s"], m["exit"]))
if m["exit"] not in ((0, 1) if r["name"].startswith(("ia", "base")) else (0,)) or r["pages"] == 0:
    print("".join(open(sys.argv[1]).readlines()[-5:]), end="")' "$out.stderr" >&2
}

for run in $(seq "$runs"); do
  for name in $contenders; do
    run_one "$name" "$run"
  done
done

mkdir -p reports
# The same verdicts with the renderer slowed: every throttled run against the
# first unthrottled one, page by page (URL, findings and notes).
if [[ " $contenders " == *" ia4t "* && " $contenders " == *" ia4 "* ]]; then
  python3 - "$work" "$runs" <<'PY'
import json, sys
work, runs = sys.argv[1], int(sys.argv[2])
def verdicts(path):
    report = json.load(open(path))
    return {p["url"]: (sorted((f["rule"], f.get("attribute") or "") for f in p["findings"]),
                       sorted(n["kind"] for n in p.get("notes", [])))
            for p in report["pages"]}
base = verdicts(f"{work}/ia4-1.report.json")
bad = 0
for run in range(1, runs + 1):
    got = verdicts(f"{work}/ia4t-{run}.report.json")
    for url in sorted(set(base) | set(got)):
        if base.get(url) != got.get(url):
            bad += 1
            print(f"throttled run {run}: {url}: {got.get(url)} (unthrottled: {base.get(url)})", file=sys.stderr)
print(f"throttled 4x: {runs} run(s) of {len(base)} pages, {bad} page(s) judged otherwise", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
fi
python3 scripts/bench/report.py "$work" "reports/bench-pipeline-$(date +%Y%m%d-%H%M%S).md"
