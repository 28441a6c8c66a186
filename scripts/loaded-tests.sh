#!/usr/bin/env bash
# The test suite on a busy machine: the README's `cargo test` beside a busy
# loop on every core (as on a shared CI runner), TIMES times in a row. The
# verdicts must not change with load, so every run must pass.
#
# Usage: scripts/loaded-tests.sh [TIMES]          (default 5)
# Prints one line per run (pass/fail, seconds) and, for a failing run, the
# failures; exits 1 if any run failed. The build is done first, unloaded: the
# load is for the tests, not for the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
times=${1:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/insider-audit/target}
cargo test --locked --no-run -q 2>/dev/null

busy=()
stop_busy() {
  if ((${#busy[@]})); then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
  fi
  busy=()
}
trap stop_busy EXIT
trap 'exit 130' INT TERM

failed=0
log=$(mktemp "${TMPDIR:-/tmp}/loaded-tests.XXXXXX")
for run in $(seq "$times"); do
  for _ in $(seq "$(nproc)"); do
    bash -c 'while :; do :; done' &
    busy+=($!)
  done
  start=$(date +%s)
  if cargo test --locked >"$log" 2>&1; then
    echo "run $run: pass in $(($(date +%s) - start)) s beside $(nproc) busy loops"
  else
    failed=1
    echo "run $run: FAIL in $(($(date +%s) - start)) s beside $(nproc) busy loops"
    grep -E '^(test .* FAILED|---- |thread .* panicked|  left|  right|assertion)' "$log" | head -n 40
  fi
  stop_busy
done
rm -f "$log"
exit "$failed"
