#!/usr/bin/env bash
# Benchmark of the history store (issue #19): a synthetic year of nightly runs
# of a 5,000-page site with 20,000 findings (examples/bench_history.rs: fixed
# seed; each night 5% fixed and as many new, 1% reopened, 2% of pages not
# audited), recorded into a SQLite file and into a throwaway local PostgreSQL
# (Debian's server binaries, default settings).
#
# Prints, per engine, one JSON line per night and a summary: the median time to
# record a night (all nights and the last 30), the SQLite file's size after
# the year and the bytes an unchanged night adds, and the medians of 5
# `history list` and `history show` (a run's states) calls on the full store.
#
# Usage: scripts/bench-history.sh [NIGHTS] [PG_NIGHTS]   (defaults 365 and 365)
# A release build; not a test: the figures go in the README by hand.
#
# Figures of 2026-12-04 (the 2-core shared machine, under the load of two other
# builds; medians): SQLite, 365 nights: recording a night 560 ms (p90 826 ms,
# the last 30 nights 551 ms), file 147 MB after the year (about 390 KB a
# changing night), an unchanged night 0 bytes of file growth (one runs row and
# 8 run_groups rows, in pages the file already had), history list 2.0 ms,
# a run's states (history show) 202 ms. PostgreSQL 15, 60 nights: recording
# 1.05 s, list 8.3 ms, show 189 ms, database 63 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
nights=${1:-365}
pg_nights=${2:-$nights}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --example bench_history >&2
bin="$target/release/examples/bench_history"
work=$(mktemp -d /tmp/bench-history.XXXXXX)
pg_bin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    if [ -f "$work/pg/postmaster.pid" ]; then as_pg "$pg_bin/pg_ctl" -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== SQLite: $nights nights" >&2
"$bin" "$work/history.db" "$nights" | tee "$work/sqlite.jsonl" | grep summary

echo "== PostgreSQL: $pg_nights nights" >&2
[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -o "-p $port -k $work -c listen_addresses=127.0.0.1" -w start >/dev/null
"$bin" "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" "$pg_nights" | tee "$work/pg.jsonl" | grep summary
as_pg psql -h 127.0.0.1 -p "$port" -U postgres -Atc "SELECT 'postgres_bytes: ' || pg_database_size('postgres')" postgres || true
