#!/usr/bin/env bash
# `BENCH_STORE=sqlite make bench`: the server on the embedded SQLite store (a
# fresh file under target/bench/, deleted at exit), measured with the
# scenarios that need no SQL access to its store: create, get, lifecycle.
# Orders are seeded through the API; there is no raw-SQL baseline (the file
# is the server's alone) and no feature-cost pairs. BENCH_QUICK=1 as for
# PostgreSQL; BENCH_RELAY is off here (the SQLite relay polls; measure the
# store, not the broker). Run by scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

DB="order_bench_sqlite_$(date +%Y%m%d%H%M%S)_$$"
mkdir -p "$OUT"
DB_FILE="$OUT/$DB.sqlite3"
DB_URL="sqlite://$DB_FILE"
SERVER_LOG="$OUT/server-$DB.log"
TARGET_DIR=$($CARGO metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN="${TARGET_DIR:-target}/release"
export BENCH_RELAY=off
: >"$SERVER_LOG"

sqlite_cleanup() {
  local rc=$?
  rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
  # bench_cleanup stops the server, keeps the log on failure and exits with rc.
  (exit "$rc")
  bench_cleanup
}
trap sqlite_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_build
bench_start_server
say "embedded store: $DB_FILE"

# shellcheck disable=SC2086 # BENCH_ARGS is split on purpose
"$BIN/order-bench" --store sqlite --base-url "http://$SERVER_ADDRESS" \
  --server-pid "$SERVER_PID" --out-dir "$OUT" \
  --scenarios "${BENCH_SCENARIOS:-create,get,lifecycle}" --sides http ${BENCH_ARGS:-} "$@"
