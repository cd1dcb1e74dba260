#!/usr/bin/env bash
# Which SQL does one request execute, and does the raw baseline of
# order-bench still send the same statements?
#
# Starts the server on a fresh database with `log_statement = 'all'` (set on
# that database only, never server-wide), sends one request of each kind the
# benchmark makes and prints, per request, every statement PostgreSQL logged
# for it: the round trips of that request. Then runs the raw baseline once and
# checks that every statement the server ran is one the baseline sends too
# (apart from the pool's `SELECT 1` and session set-up). Exits 1 when the
# baseline has drifted from the adapter: re-mirror crates/order-bench/src/raw.rs.
#
#   scripts/bench-sql-audit.sh            # needs curl and a readable server log
#   PG_LOG=/path/to/postgresql.log scripts/bench-sql-audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_TAG=sql-audit
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

command -v curl >/dev/null || { say "curl is needed"; exit 2; }
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

bench_build
bench_create_database
bench_psql -c "ALTER DATABASE \"$DB\" SET log_statement = 'all'"
bench_start_server

API="http://$SERVER_ADDRESS/api/v1"
mark=0
begin() { mark=$(wc -l <"$PG_LOG"); }
# statements NAME: the statements logged for $DB since `begin`, numbered.
statements() {
  sleep 0.3
  local found
  found=$(tail -n +"$((mark + 1))" "$PG_LOG" | grep "@$DB " | grep -o '\(execute [^:]*\|statement\): .*' \
    | sed 's/^\(execute [^:]*\|statement\): //' || true)
  printf '\n%s: %s statements\n' "$1" "$(grep -c . <<<"$found" || true)"
  nl -w2 -s'. ' <<<"$found" | cut -c1-150
  printf '%s\n' "$found" >>"$OUT/audit-server-$DB.sql"
}
post() { curl -fsS -X POST -H 'content-type: application/json' "$@"; }
id_of() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }

begin
customer=$(post "$API/customer-mgmt/customers" -d '{"name":"Audit","email":"audit@bench.example","source":"bench"}' | id_of)
statements "POST /customers"
begin
order=$(post "$API/order-mgmt/orders" -d "{\"customer_id\":\"$customer\",\"currency\":\"USD\"}" | id_of)
statements "POST /orders"
for n in 1 2 3; do
  begin
  post "$API/order-mgmt/orders/$order/lines" -o /dev/null \
    -d "{\"product_id\":\"00000000-0000-7000-8000-00000000000$n\",\"quantity\":$n,\"unit_price\":1250,\"currency\":\"USD\"}"
  statements "POST /orders/{id}/lines (line $n)"
done
for step in confirm process fulfill; do
  begin
  post "$API/order-mgmt/orders/$order/$step" -o /dev/null
  statements "POST /orders/{id}/$step"
done
begin
curl -fsS "$API/order-mgmt/orders/$order" -o /dev/null
statements "GET /orders/{id}"
begin
curl -fsS "$API/order-mgmt/orders?page=1&page_size=1" -o /dev/null
statements "GET /orders?page=1&page_size=1"
begin
curl -fsS "$API/order-mgmt/orders/customer/$customer?page=1&page_size=1" -o /dev/null
statements "GET /orders/customer/{id}?page=1&page_size=1"

say "running the raw baseline once"
begin
"$BIN/order-bench" --base-url "http://$SERVER_ADDRESS" --database-url "$DB_URL" --sides raw \
  --concurrency 1 --runs 1 --warmup-secs 0 --duration-secs 0.5 --seed-orders 0 --page-size 1 \
  --out-dir "$OUT/audit" >/dev/null
sleep 0.3
tail -n +"$((mark + 1))" "$PG_LOG" | grep "@$DB " | grep -o '\(execute [^:]*\|statement\): .*' \
  | sed 's/^\(execute [^:]*\|statement\): //' | sort -u >"$OUT/audit-raw-$DB.sql"

# The pool's check-out ping and the session set-up are the server stack's
# own; everything else must be in the baseline.
missing=$(sort -u "$OUT/audit-server-$DB.sql" | grep -v -x -e 'SELECT 1' -e "SET TIME ZONE 'UTC'" \
  -e "SET CLIENT_ENCODING TO 'UTF8'" -e '' | grep -v '^INSERT INTO "customer_mgmt_customers"' \
  | comm -23 - "$OUT/audit-raw-$DB.sql" || true)
rm -f "$OUT/audit-server-$DB.sql" "$OUT/audit-raw-$DB.sql"
if [[ -n "$missing" ]]; then
  say "the server runs statements the raw baseline does not send (update crates/order-bench/src/raw.rs):"
  printf '%s\n' "$missing" | cut -c1-300 >&2
  exit 1
fi
say "the raw baseline sends every statement the server runs (besides the pool's SELECT 1)"
