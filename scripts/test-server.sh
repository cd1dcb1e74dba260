# Sourced (not run) by the black-box checks of `make test`
# (scripts/schemathesis.sh, scripts/docs-ui-check.sh): the debug
# `order-server` on a free loopback port against a fresh, uniquely named
# database, and a cleanup that always stops it and drops the database.
#
#   source scripts/test-server.sh
#   trap test_server_stop EXIT
#   test_server_start NAME     # sets TEST_SERVER_BASE (http://127.0.0.1:PORT)
#                              # and TEST_SERVER_KEY (an API key with every scope but admin)
#
# Authentication is on, as in production; rate limits are raised far above
# what the checks send, so they never answer 429 (the limits have their own tests).
#
# TEST_DATABASE_URL (the Makefile's default, a maintenance database on the
# local PostgreSQL) names the server the database is created on.

CARGO=${CARGO:-cargo}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
TEST_SERVER_PID=""
TEST_SERVER_DB=""
TEST_SERVER_BASE=""
TEST_SERVER_LOG=""
TEST_SERVER_KEY=""

# test_server_start NAME: builds (incrementally) and starts the server, waits
# (bounded) for the address it logs.
test_server_start() {
  local name=$1 target_dir bin address=""
  echo "$name: building order-server (debug)" >&2
  "$CARGO" build --quiet -p order-server
  target_dir=$("$CARGO" metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target_dir/debug/order-server"
  mkdir -p "target/$name"
  TEST_SERVER_DB="order_${name//-/_}_$(date +%s)_$$"
  TEST_SERVER_LOG="target/$name/server.log"
  : >"$TEST_SERVER_LOG"
  # The server creates the database and migrates it.
  DATABASE_URL="${TEST_DATABASE_URL%/*}/$TEST_SERVER_DB" HOST=127.0.0.1 PORT=0 \
    LOG_FORMAT=json RUST_LOG="${TEST_SERVER_RUST_LOG:-warn,order_server=info}" \
    AUTH=on RATE_LIMIT_PER_SECOND=100000 RATE_LIMIT_BURST=100000 AUTH_FAILURES_PER_MINUTE=1000000 \
    "$bin" >>"$TEST_SERVER_LOG" 2>&1 &
  TEST_SERVER_PID=$!
  for _ in $(seq 1 300); do
    address=$(grep -m1 -o '"address":"[^"]*"' "$TEST_SERVER_LOG" | cut -d'"' -f4 || true)
    [[ -n "$address" ]] && break
    if ! kill -0 "$TEST_SERVER_PID" 2>/dev/null; then
      echo "$name: the server exited during start-up:" >&2
      cat "$TEST_SERVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ -z "$address" ]]; then
    echo "$name: the server did not log its address within 30 s" >&2
    return 1
  fi
  TEST_SERVER_BASE="http://$address"
  # The server has migrated the database: the key table exists.
  TEST_SERVER_KEY=$(DATABASE_URL="${TEST_DATABASE_URL%/*}/$TEST_SERVER_DB" RUST_LOG=warn \
    "$bin" keys create --name "$name" \
    --scopes orders:write,orders:fulfil,customers:write,events:read 2>>"$TEST_SERVER_LOG")
  echo "$name: server pid $TEST_SERVER_PID on $TEST_SERVER_BASE, database $TEST_SERVER_DB" >&2
}

# test_server_stop: stops the server and drops its database; safe to call twice.
test_server_stop() {
  if [[ -n "$TEST_SERVER_PID" ]]; then
    kill "$TEST_SERVER_PID" 2>/dev/null || true
    wait "$TEST_SERVER_PID" 2>/dev/null || true
    TEST_SERVER_PID=""
  fi
  if [[ -n "$TEST_SERVER_DB" ]]; then
    psql -X -q "$TEST_DATABASE_URL" \
      -c "DROP DATABASE IF EXISTS \"$TEST_SERVER_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    TEST_SERVER_DB=""
  fi
}
