#!/usr/bin/env bash
# Which SQL does one operation of each benchmark scenario execute, and does
# the raw baseline of order-bench send exactly the same statements?
#
# Starts the server on a fresh database with `log_statement = 'all'` (set on
# that database only, never server-wide), seeds it like `make bench` does
# (110,000 orders by default, so that both lists pass the 10,000 rows the
# server counts and it asks the planner for an estimate, as at 1M rows), then
# for every scenario:
#   - sends the scenario's requests to the server with curl and prints every
#     statement PostgreSQL logged for them: the round trips of that request;
#   - runs one operation of the scenario's raw baseline (order-bench --sides
#     raw --max-ops 1) and captures its statements the same way;
#   - compares the two sequences, statement by statement.
# Left out of the comparison: the pool's check-out `SELECT 1` and session
# set-up, the server's background purge of idempotency keys and its outbox
# backlog gauge (crates/order-postgres/src/outbox.rs), the harness's
# own SQL (tagged `/* order-bench harness */`), and the reservation of a
# block of 32 order numbers, which happens once per 32 creates and so falls
# in different operations on the two sides (it must occur on both), and the
# planner's estimate of a list's total (`EXPLAIN ...`), which both sides ask
# for at most once a second per list and so also falls in different
# operations (it must occur on both too). Exits 1
# when the baseline has drifted from the adapter: re-mirror
# crates/order-bench/src/raw.rs (the diff says where).
#
#   scripts/bench-sql-audit.sh            # needs curl and a readable PostgreSQL log
#   PG_LOG=/path/to/postgresql.log scripts/bench-sql-audit.sh
#   AUDIT_SEED_ORDERS=20000 scripts/bench-sql-audit.sh   # smaller, faster seed
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=sql-audit
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

bench_require curl curl
bench_init order_bench_audit
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PG_LOG=${PG_LOG:-$(psql -X -At "$PG_URL/postgres" -c "SELECT pg_current_logfile()" 2>/dev/null || true)}
if [[ -n "$PG_LOG" && "$PG_LOG" != /* ]]; then
  PG_LOG="$(psql -X -At "$PG_URL/postgres" -c "SHOW data_directory")/$PG_LOG"
fi
if [[ -z "$PG_LOG" || ! -r "$PG_LOG" ]]; then
  PG_LOG=$(ls -t /var/log/postgresql/postgresql-*.log 2>/dev/null | head -n 1 || true)
fi
[[ -n "$PG_LOG" && -r "$PG_LOG" ]] || { say "cannot read the PostgreSQL log; set PG_LOG"; exit 2; }
say "reading statements from $PG_LOG"

SEED_ORDERS=${AUDIT_SEED_ORDERS:-110000}
PAGE_SIZE=20
WORK="$OUT/audit-$DB"
mkdir -p "$WORK"
# The captures are kept when the audit fails, for a closer look.
# shellcheck disable=SC2317 # called from the EXIT trap
audit_cleanup() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK"; else say "captures kept in $WORK"; fi
  (exit "$rc")
  bench_cleanup
}
trap audit_cleanup EXIT

bench_build
bench_create_database
bench_psql -c "ALTER DATABASE \"$DB\" SET log_statement = 'all'"
bench_start_server

API="http://$SERVER_ADDRESS/api/v1"
ORDERS="$API/order-mgmt/orders"
sql() { psql -X -At "$DB_URL" -v ON_ERROR_STOP=1 -c "$1"; }
post() { curl -fsS -X POST -H 'content-type: application/json' "$@"; }
id_of() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }
raw_bench() {
  "$BIN/order-bench" --base-url "http://$SERVER_ADDRESS" --database-url "$DB_URL" --sides raw \
    --concurrency 1 --runs 1 --warmup-secs 0 --duration-secs 10 --max-ops 1 \
    --page-size "$PAGE_SIZE" --seed-orders "$SEED_ORDERS" --out-dir "$WORK/reports" "$@" >/dev/null
}

mark=0
begin() { mark=$(wc -l <"$PG_LOG"); }
# capture FILE: the statements logged for $DB since `begin`, minus what is
# not part of an operation, one per line (a statement's first line).
# FILE.checkouts gets the number of pool check-outs (`SELECT 1`) among them.
capture() {
  sleep 0.3
  tail -n +"$((mark + 1))" "$PG_LOG" | grep -F "@$DB " \
    | grep -o '\(execute [^:]*\|statement\): .*' | sed 's/^\(execute [^:]*\|statement\): //' \
    >"$1.all" || true
  grep -c -x 'SELECT 1' "$1.all" >"$1.checkouts" || true
  grep -v -x -e 'SELECT 1' -e "SET TIME ZONE 'UTC'" -e "SET CLIENT_ENCODING TO 'UTF8'" "$1.all" \
    | grep -v -e '^/\* order-bench harness \*/' -e '^DELETE FROM "order_mgmt_idempotency_keys"' \
      -e '^SELECT count(\*), min(occurred_at) FROM order_mgmt_order_events WHERE published_at IS NULL' \
    >"$1" || true
}
BLOCK="SELECT nextval('order_mgmt_order_number_seq') AS n FROM generate_series(1, \$1)"
ESTIMATE='EXPLAIN (FORMAT JSON) SELECT 1 FROM order_mgmt_orders '
failed=0
block_seen=""
estimate_seen=""
# compare SCENARIO: server.sql against raw.sql in $WORK/SCENARIO.
compare() {
  local dir="$WORK/$1" n
  for side in server raw; do
    if grep -q -x -F "$BLOCK" "$dir/$side.sql"; then block_seen="$block_seen $side"; fi
    if grep -q -F "$ESTIMATE" "$dir/$side.sql"; then estimate_seen="$estimate_seen $side"; fi
    grep -v -x -F "$BLOCK" "$dir/$side.sql" | grep -v -F "$ESTIMATE" >"$dir/$side.ops" || true
  done
  n=$(grep -c . "$dir/server.ops" || true)
  printf '\n%s: %s statements, %s pool check-outs (each one more statement, SELECT 1)\n' \
    "$1" "$n" "$(cat "$dir/server.sql.checkouts")"
  nl -w2 -s'. ' "$dir/server.ops" | cut -c1-160
  if [[ $n -eq 0 ]]; then
    printf '   NO statement captured for the server: is log_statement working?\n'
    failed=1
  elif diff -q "$dir/server.ops" "$dir/raw.ops" >/dev/null; then
    printf '   raw baseline: the same %s statements\n' "$n"
  else
    printf '   raw baseline DIFFERS (< server, > raw):\n'
    diff "$dir/server.ops" "$dir/raw.ops" | cut -c1-300 | sed 's/^/   /' || true
    failed=1
  fi
}
# server SCENARIO REQUEST...: runs the requests (shell words) and captures them.
server() {
  local scenario=$1
  shift
  mkdir -p "$WORK/$scenario"
  begin
  "$@"
  capture "$WORK/$scenario/server.sql"
}
raw() {
  begin
  raw_bench --scenarios "$1"
  capture "$WORK/$1/raw.sql"
}

say "seeding $SEED_ORDERS orders"
raw_bench --scenarios get

# The fixtures, from the seed (reads first, as in the benchmark).
order=$(sql "SELECT id FROM order_mgmt_orders WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 1")
busiest=$(sql "SELECT customer_id FROM order_mgmt_orders WHERE deleted_at IS NULL
               GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1")
# The cursor pages: after the row half-way down the list, and after the row
# where the last page starts; encoded as the server encodes cursors (unix
# microseconds . uuid hex). cursor_at FILTER DEPTH (DEPTH in SQL, over n rows).
cursor_at() {
  sql "WITH l AS (SELECT created_at, id FROM order_mgmt_orders WHERE deleted_at IS NULL $1)
       SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '.' || replace(id::text, '-', '')
         FROM l ORDER BY created_at DESC, id DESC
       OFFSET (SELECT GREATEST($2, $PAGE_SIZE) - 1 FROM (SELECT count(*) AS n FROM l) AS c) LIMIT 1"
}
LAST="(n + $PAGE_SIZE - 1) / $PAGE_SIZE * $PAGE_SIZE - $PAGE_SIZE"
MIDDLE="n / 2 / $PAGE_SIZE * $PAGE_SIZE"
deep_all=$(cursor_at "" "$LAST")
middle_all=$(cursor_at "" "$MIDDLE")
deep_customer=$(cursor_at "AND customer_id = '$busiest'" "$LAST")
middle_customer=$(cursor_at "AND customer_id = '$busiest'" "$MIDDLE")
fetch() { curl -fsS -o /dev/null "$@"; }

server get fetch "$ORDERS/$order"
raw get
server list-first fetch "$ORDERS?page=1&page_size=$PAGE_SIZE"
raw list-first
server list-middle fetch "$ORDERS?after=$middle_all&page_size=$PAGE_SIZE"
raw list-middle
server list-deep fetch "$ORDERS?after=$deep_all&page_size=$PAGE_SIZE"
raw list-deep
server customer-first fetch "$ORDERS/customer/$busiest?page=1&page_size=$PAGE_SIZE"
raw customer-first
server customer-middle fetch "$ORDERS/customer/$busiest?after=$middle_customer&page_size=$PAGE_SIZE"
raw customer-middle
server customer-deep fetch "$ORDERS/customer/$busiest?after=$deep_customer&page_size=$PAGE_SIZE"
raw customer-deep

customer=$(post "$API/customer-mgmt/customers" -d '{"name":"Audit","email":"audit@bench.example","source":"bench"}' | id_of)
create() { post "$ORDERS" -d "{\"customer_id\":\"$customer\",\"currency\":\"USD\"}" | id_of >"$WORK/order-id"; }
lifecycle() {
  local id n step
  id=$(post "$ORDERS" -d "{\"customer_id\":\"$customer\",\"currency\":\"USD\"}" | id_of)
  for n in 1 2 3; do
    post "$ORDERS/$id/lines" -o /dev/null \
      -d "{\"product_id\":\"00000000-0000-7000-8000-00000000000$n\",\"quantity\":$n,\"unit_price\":$((1250 * n)),\"currency\":\"USD\",\"tax_rate\":\"19\"}"
  done
  post "$ORDERS/$id/discounts" -o /dev/null -d '{"kind":"percentage","percent":"10","code":"BENCH"}'
  for step in confirm process fulfill; do post "$ORDERS/$id/$step" -o /dev/null; done
}
server create create
raw create
server lifecycle lifecycle
raw lifecycle

for scenario in get list-first list-middle list-deep customer-first customer-middle customer-deep \
  create lifecycle; do
  compare "$scenario"
done
echo
case "$block_seen" in
  *server*raw* | *raw*server*) ;;
  *) say "the reservation of order numbers ($BLOCK) was not seen on both sides (seen on:${block_seen:- none})"
     failed=1 ;;
esac
case "$estimate_seen" in
  *server*raw* | *raw*server*) ;;
  *) say "the estimate of a list's total ($ESTIMATE...) was not seen on both sides (seen on:${estimate_seen:- none})"
     failed=1 ;;
esac
if [[ $failed -ne 0 ]]; then
  say "the raw baseline differs from the server's SQL: re-mirror crates/order-bench/src/raw.rs"
  exit 1
fi
say "the raw baseline sends exactly the server's statements, scenario by scenario (besides the pool's SELECT 1)"
