#!/usr/bin/env bash
# Same pages and findings as another build: runs BASE_BIN and NEW_BIN on the
# demo, on the generated benchmark shop and on its heavy variant, and diffs
# their JSON reports normalised (times, durations and step durations, run ids, ports, and each
# push's time and recorder sequence number removed: their order stays). Exit 0 when every pair is the same.
#
# Usage: scripts/compare-builds.sh BASE_BIN [NEW_BIN] [PAGES]
#        (NEW_BIN defaults to this tree's release build; PAGES to 200)
set -euo pipefail
cd "$(dirname "$0")/.."
base_bin=${1:?usage: scripts/compare-builds.sh BASE_BIN [NEW_BIN] [PAGES]}
new_bin=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/insider-audit/target}/release/insider-audit}
pages=${3:-200}
chromium=${CHROMIUM:-/usr/bin/chromium}
work=$(mktemp -d "${TMPDIR:-/tmp}/compare-builds.XXXXXX")
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && { wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

normalise() { # REPORT.json > normalised
  python3 - "$1" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))
for key in ("started_at", "duration_ms", "run", "tool"):
    report.pop(key, None)
for scenario in report.get("scenarios", []):
    for step in scenario.get("steps", []):
        step.pop("ms", None)
for page in report.get("pages", []):
    page.pop("load_ms", None)
    for push in page.get("pushes", []):
        # When and at which of the recorder's own events it happened: the
        # order of the pushes is the array's.
        push.pop("t", None)
        push.pop("seq", None)
text = json.dumps(report, indent=1, sort_keys=True)
print(re.sub(r"http://127\.0\.0\.1:\d+", "http://HOST", text))
PY
}

status=0
compare() { # NAME
  normalise "$work/$1.base.json" >"$work/$1.base.norm"
  normalise "$work/$1.new.json" >"$work/$1.new.norm"
  if diff -u "$work/$1.base.norm" "$work/$1.new.norm" >"$work/$1.diff"; then
    echo "$1: same pages and findings ($(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["pages"], "pages,", s["errors"], "errors,", s["warnings"], "warnings")' "$work/$1.new.json"))"
  else
    echo "$1: DIFFERENT"; head -40 "$work/$1.diff"; status=1
  fi
}

for which in base new; do
  bin=$base_bin; [[ $which == new ]] && bin=$new_bin
  (cd "$work" && "$bin" demo -q --browser "$chromium" --format json --output "$work/demo.$which.json" --out-dir "$work/demo-$which" >/dev/null) || true
done
compare demo

for variant in plain heavy; do
  heavy=0; [[ $variant == heavy ]] && heavy=1
  GEN_HEAVY=$heavy python3 scripts/bench/gen_site.py "$work/site-$variant" "$pages" >/dev/null
  rm -f "$work/url"
  python3 scripts/bench/serve.py "$work/site-$variant" "$work/url" &
  server=$!
  for _ in $(seq 100); do [[ -s $work/url ]] && break; sleep 0.1; done
  cat >"$work/$variant.json" <<JSON
{"site": "bench shop", "base_url": "$(cat "$work/url")",
 "crawl": {"start": ["/"], "max_pages": $pages, "max_depth": 50},
 "scenarios": [{"name": "logged-out"}]}
JSON
  for which in base new; do
    bin=$base_bin; [[ $which == new ]] && bin=$new_bin
    "$bin" run "$work/$variant.json" -q --browser "$chromium" --screenshots never --format json \
      --output "$work/$variant.$which.json" --out-dir "$work/$variant-$which" || true
  done
  compare "$variant"
  kill "$server"; wait "$server" 2>/dev/null || true; server=
done
exit $status
