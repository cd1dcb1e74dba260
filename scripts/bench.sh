#!/usr/bin/env bash
# `make bench`: build in release mode, create a fresh database, start the
# server on it (free port, loopback only), run every scenario of order-bench
# against it, print the table; then stop the server and drop the database,
# whatever happened (trap on exit).
#
#   make bench                     # full run: 1,000,000 seeded orders, 3 rounds, ~7 min
#   BENCH_QUICK=1 make bench       # smoke run: 20,000 orders, 1 round, under a minute
#   BENCH_STORE=sqlite make bench  # the embedded SQLite store: create, get, lifecycle
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
#   BENCH_RELAY           on (default): the outbox relay publishes to NATS during
#                         every run; off: no relay (events wait in the outbox)
#   BENCH_NATS_URL        the NATS JetStream server (default nats://127.0.0.1:4222);
#                         the run's stream BENCH_<database> is deleted at exit
#   BENCH_VARIANTS=0      skip the feature-cost pairs (relay on/off, auth on/off)
#   BENCH_VARIANT_RUNS    rounds of those pairs (default 3)
#   BENCH_*               every other option of `order-bench --help`
#   DB_POOL_SIZE, HTTP_WORKERS, ...  passed to the server as they are
set -euo pipefail
cd "$(dirname "$0")/.."
# BENCH_STORE=sqlite: the embedded store instead (scripts/bench-sqlite.sh).
if [[ "${BENCH_STORE:-postgres}" == sqlite ]]; then
  exec scripts/bench-sqlite.sh "$@"
fi
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

bench_init order_bench
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_build
bench_create_database

# The outbox relay runs during the benchmark, as in production: the server
# publishes to NATS JetStream (BENCH_NATS_URL, default the local server) on a
# stream of this run's own, deleted at exit. BENCH_RELAY=off measures without it.
if [[ "${BENCH_RELAY:-on}" == on ]]; then
  export BENCH_NATS_URL=${BENCH_NATS_URL:-nats://127.0.0.1:4222}
  if ! python3 scripts/bench_nats.py ping "$BENCH_NATS_URL"; then
    say "NATS does not answer at $BENCH_NATS_URL: set BENCH_NATS_URL, or BENCH_RELAY=off to measure without the relay"
    exit 2
  fi
  export BENCH_NATS_STREAM="BENCH_${DB^^}" BENCH_NATS_SUBJECTS="bench_${DB}"
fi
# The sweep's 128 connections exceed the pool (16) plus the server's default
# queue (REQUEST_QUEUE_LIMIT 64), past which it answers 503 at once by design;
# measure the queueing instead of the shedding.
export REQUEST_QUEUE_LIMIT=${REQUEST_QUEUE_LIMIT:-256}
bench_start_server

# Not exec: the trap must still stop the server and drop the database.
# shellcheck disable=SC2086 # BENCH_ARGS is split on purpose
"$BIN/order-bench" --base-url "http://$SERVER_ADDRESS" --database-url "$DB_URL" \
  --server-pid "$SERVER_PID" --out-dir "$OUT" ${BENCH_ARGS:-} "$@"
[[ "${BENCH_RELAY:-on}" == on ]] && bench_drain_outbox
bench_stop_server

# What two features cost, measured in this same run on the same database:
# the lifecycle with the outbox relay publishing against without it (issue
# 11), and GET with an API key against without authentication (issue 13).
# Each round runs both sides of both pairs, one server start each, so that a
# noisy minute hits both sides of a pair; the table gives medians of the
# rounds and the ratio taken within each round. BENCH_VARIANTS=0 skips this.
if [[ "${BENCH_VARIANTS:-1}" != 0 ]]; then
  rounds=${BENCH_VARIANT_RUNS:-3}
  variants="$OUT/variants-$DB"
  mkdir -p "$variants"
  # The quick preset's 1 s window can end before a single lifecycle does on a
  # busy machine (one takes ~1 s at 32 connections there); 3 s at least.
  window=()
  case "${BENCH_QUICK:-}" in
    1|true|yes|on) window=(--duration-secs "${BENCH_VARIANT_SECS:-3}") ;;
  esac
  variant() { # NAME SCENARIO ROUND, with BENCH_AUTH and BENCH_RELAY set by the caller
    bench_start_server
    "$BIN/order-bench" --base-url "http://$SERVER_ADDRESS" --database-url "$DB_URL" \
      --server-pid "$SERVER_PID" --out-dir "$variants/$1-$3" \
      --scenarios "$2" --sides http --runs 1 "${window[@]}" >/dev/null
    [[ "${BENCH_RELAY:-on}" == on && -n "${BENCH_NATS_URL:-}" ]] && bench_drain_outbox
    bench_stop_server
  }
  for round in $(seq 1 "$rounds"); do
    say "feature costs, round $round of $rounds"
    if [[ -n "${BENCH_NATS_URL:-}" ]]; then
      BENCH_AUTH=off BENCH_RELAY=off variant lifecycle-relay-off lifecycle "$round"
      BENCH_AUTH=off BENCH_RELAY=on variant lifecycle-relay-on lifecycle "$round"
    fi
    BENCH_AUTH=off BENCH_RELAY=off variant get-auth-off get "$round"
    BENCH_AUTH=on BENCH_RELAY=off variant get-auth-on get "$round"
  done
  python3 scripts/bench_variants.py "$variants" "$OUT/variants-latest.json"
fi
