#!/usr/bin/env bash
# `make bench`: build in release mode, create a fresh database, start the
# server on it (free port, loopback only), run every scenario of order-bench
# against it, print the table; then stop the server and drop the database,
# whatever happened (trap on exit).
#
#   make bench                     # full run: 1,000,000 seeded orders, 3 rounds, ~7 min
#   BENCH_QUICK=1 make bench       # smoke run: 20,000 orders, 1 round, under a minute
#   make bench BENCH_ARGS="--scenarios get,create --concurrency 64"
#
# Environment:
#   BENCH_PG_URL          server to use, without database
#                         (default postgres://postgres@127.0.0.1:5432)
#   BENCH_PG_SSLMODE      libpq sslmode of the server's and the baseline's
#                         connections (default disable: PostgreSQL is on this
#                         machine, and libpq's own default, prefer, would put
#                         TLS on the server's loopback connections only, since
#                         the baseline never negotiates it)
#   BENCH_SERVER_RUST_LOG the server's RUST_LOG (default: info, the server's own
#                         default; one access-log line per request is part of
#                         what a request costs)
#   BENCH_SERVER_BIN      a prebuilt order-server to measure instead of building
#                         one (e.g. to compare two builds of the server)
#   BENCH_KEEP_LOG=1      keep target/bench/server-*.log after a successful run
#   BENCH_*               every other option of `order-bench --help`
#   DB_POOL_SIZE, HTTP_WORKERS, ...  passed to the server as they are
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

bench_init order_bench
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_build
bench_create_database
bench_start_server

# Not exec: the trap must still stop the server and drop the database.
# shellcheck disable=SC2086 # BENCH_ARGS is split on purpose
"$BIN/order-bench" --base-url "http://$SERVER_ADDRESS" --database-url "$DB_URL" \
  --server-pid "$SERVER_PID" --out-dir "$OUT" ${BENCH_ARGS:-} "$@"
