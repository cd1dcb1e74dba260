#!/usr/bin/env bash
# `make bench`: build in release mode, create a fresh database, start the
# server on it (free port, loopback only), run every scenario of order-bench
# against it, print the table; then stop the server and drop the database,
# whatever happened (trap on exit).
#
#   make bench                     # full run: 1,000,000 seeded orders, ~5 min
#   BENCH_QUICK=1 make bench       # smoke run: 20,000 orders, under a minute
#   make bench BENCH_ARGS="--scenarios get,create --concurrency 64"
#
# Environment:
#   BENCH_PG_URL          server to use, without database
#                         (default postgres://postgres@127.0.0.1:5432)
#   BENCH_SERVER_RUST_LOG the server's RUST_LOG (default: info, the server's own
#                         default; one access-log line per request is part of
#                         what a request costs)
#   BENCH_KEEP_LOG=1      keep target/bench/server-*.log after a successful run
#   BENCH_SERVER_BIN      a prebuilt order-server to measure instead of building
#                         one (e.g. to compare two builds of the server)
#   BENCH_*               every other option of `order-bench --help`
#   DB_POOL_SIZE, HTTP_WORKERS, ...  passed to the server as they are
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
DB="order_bench_$(date +%Y%m%d%H%M%S)_$$"
OUT=target/bench
SERVER_LOG="$OUT/server-$DB.log"
server_pid=""
db_created=""

say() { echo "bench: $*" >&2; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping the server (pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "server still running after 15 s, killing it"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$db_created" ]]; then
    say "dropping database $DB"
    psql -X -q "$PG_URL/postgres" -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null || say "could not drop $DB"
  fi
  if [[ -f "$SERVER_LOG" ]]; then
    if [[ $rc -ne 0 ]]; then
      say "last lines of the server log ($SERVER_LOG):"
      tail -n 20 "$SERVER_LOG" >&2 || true
    elif [[ "${BENCH_KEEP_LOG:-}" != 1 ]]; then
      rm -f "$SERVER_LOG"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v psql >/dev/null || { say "psql is needed (apt-get install postgresql-client)"; exit 2; }
pg_isready -q -d "$PG_URL/postgres" 2>/dev/null || psql -X -q "$PG_URL/postgres" -c 'SELECT 1' >/dev/null \
  || { say "PostgreSQL does not answer at $PG_URL"; exit 2; }

TARGET_DIR=$($CARGO metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN="${TARGET_DIR:-target}/release"
if [[ -n "${BENCH_SERVER_BIN:-}" ]]; then
  say "building order-bench (release); server: $BENCH_SERVER_BIN"
  $CARGO build --release --quiet -p order-bench
  SERVER_BIN=$BENCH_SERVER_BIN
else
  say "building (release)"
  $CARGO build --release --quiet -p order-server -p order-bench
  SERVER_BIN="$BIN/order-server"
fi
[[ -x "$SERVER_BIN" ]] || { say "no server binary at $SERVER_BIN"; exit 2; }

mkdir -p "$OUT"
say "creating database $DB"
psql -X -q "$PG_URL/postgres" -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null
db_created=1

say "starting the server"
DATABASE_URL="$PG_URL/$DB" HOST=127.0.0.1 PORT=0 LOG_FORMAT=json \
  RUST_LOG="${BENCH_SERVER_RUST_LOG:-info}" \
  "$SERVER_BIN" >>"$SERVER_LOG" 2>&1 &
server_pid=$!

address=""
for _ in $(seq 1 600); do
  address=$(grep -m1 -o '"address":"[^"]*"' "$SERVER_LOG" 2>/dev/null | sed 's/"address":"\(.*\)"/\1/' || true)
  [[ -n "$address" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { say "the server exited during start-up"; exit 1; }
  sleep 0.1
done
[[ -n "$address" ]] || { say "the server did not log its address within 60 s"; exit 1; }
case "$address" in
  127.*|\[::1\]*) ;;
  *) say "the server listens on $address, not on loopback: refusing to load it"; exit 1 ;;
esac
say "server pid $server_pid listening on $address"

# Not exec: the trap must still stop the server and drop the database.
# shellcheck disable=SC2086 # BENCH_ARGS is split on purpose
"$BIN/order-bench" --base-url "http://$address" --database-url "$PG_URL/$DB" \
  --server-pid "$server_pid" --out-dir "$OUT" ${BENCH_ARGS:-} "$@"
