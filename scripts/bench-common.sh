# Shared by scripts/bench.sh and scripts/bench-sql-audit.sh (sourced, not run):
# a fresh database, the server started on it on a free loopback port, and a
# cleanup that always stops the server and drops the database.
#
# After `bench_start_server`: $DB, $DB_URL, $SERVER_PID, $SERVER_ADDRESS,
# $SERVER_LOG, $BIN (release folder). Call `bench_init NAME` first and
# `trap bench_cleanup EXIT` right after it.

CARGO=${CARGO:-cargo}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
OUT=target/bench
SERVER_PID=""
DB_CREATED=""

say() { echo "${BENCH_TAG:-bench}: $*" >&2; }

# bench_require COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is
# missing and we are root on a Debian-like system (a fresh CI machine), else
# stops with a message naming the package. Never skips the benchmark.
bench_require() {
  command -v "$1" >/dev/null && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "$1 is missing: installing $2"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >/dev/null \
      || { say "could not install $2 (needed for $1)"; exit 2; }
    command -v "$1" >/dev/null || { say "$2 is installed but $1 is still not on PATH"; exit 2; }
  else
    say "$1 is needed: install $2 (e.g. apt-get install $2)"
    exit 2
  fi
}

# bench_init PREFIX: names the database and the log, checks the tools.
bench_init() {
  DB="${1}_$(date +%Y%m%d%H%M%S)_$$"
  DB_URL="$PG_URL/$DB?sslmode=${BENCH_PG_SSLMODE:-disable}"
  SERVER_LOG="$OUT/server-$DB.log"
  mkdir -p "$OUT"
  bench_require psql postgresql-client
  psql -X -q "$PG_URL/postgres" -c 'SELECT 1' >/dev/null 2>&1 \
    || { say "PostgreSQL does not answer at $PG_URL"; exit 2; }
  TARGET_DIR=$($CARGO metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  BIN="${TARGET_DIR:-target}/release"
}

# bench_build: release build of order-bench, and of the server unless
# BENCH_SERVER_BIN names a prebuilt one.
bench_build() {
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
}

bench_psql() {
  psql -X -q "$PG_URL/postgres" -v ON_ERROR_STOP=1 "$@" >/dev/null
}

bench_create_database() {
  say "creating database $DB"
  bench_psql -c "CREATE DATABASE \"$DB\""
  DB_CREATED=1
}

# bench_start_server: starts it on a free port and waits (bounded) for the
# address it logs.
bench_start_server() {
  # BENCH_AUTH=on measures with API keys (one key, its rate limit out of the
  # way); off, the default, keeps the figures comparable with earlier runs.
  # The outbox relay publishes to NATS when BENCH_NATS_URL is set (bench.sh
  # sets it, with a stream of this run's own, unless BENCH_RELAY=off).
  local relay=() relay_state=off
  if [[ -n "${BENCH_NATS_URL:-}" && "${BENCH_RELAY:-on}" == on ]]; then
    relay=(NATS_URL="$BENCH_NATS_URL" NATS_STREAM="$BENCH_NATS_STREAM" NATS_SUBJECT_PREFIX="$BENCH_NATS_SUBJECTS")
    relay_state=on
  fi
  say "starting the server (AUTH=${BENCH_AUTH:-off}, relay $relay_state)"
  unset BENCH_API_KEY
  # The log is appended to by every start of this run: read only this start's lines.
  local from_line
  from_line=$(( $(wc -l <"$SERVER_LOG" 2>/dev/null || echo 0) + 1 ))
  env -u NATS_URL DATABASE_URL="$DB_URL" HOST=127.0.0.1 PORT=0 LOG_FORMAT=json \
    RUST_LOG="${BENCH_SERVER_RUST_LOG:-info}" AUTH="${BENCH_AUTH:-off}" \
    RATE_LIMIT_PER_SECOND="${RATE_LIMIT_PER_SECOND:-100000}" RATE_LIMIT_BURST="${RATE_LIMIT_BURST:-100000}" \
    "${relay[@]}" "$SERVER_BIN" >>"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  SERVER_ADDRESS=""
  for _ in $(seq 1 600); do
    SERVER_ADDRESS=$(tail -n "+$from_line" "$SERVER_LOG" 2>/dev/null | grep -m1 -o '"address":"[^"]*"' | sed 's/"address":"\(.*\)"/\1/' || true)
    [[ -n "$SERVER_ADDRESS" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { say "the server exited during start-up"; exit 1; }
    sleep 0.1
  done
  [[ -n "$SERVER_ADDRESS" ]] || { say "the server did not log its address within 60 s"; exit 1; }
  case "$SERVER_ADDRESS" in
    127.*|\[::1\]*) ;;
    *) say "the server listens on $SERVER_ADDRESS, not on loopback: refusing to load it"; exit 1 ;;
  esac
  say "server pid $SERVER_PID listening on $SERVER_ADDRESS"
  if [[ "${BENCH_AUTH:-off}" == on ]]; then
    BENCH_API_KEY=$(DATABASE_URL="$DB_URL" RUST_LOG=warn "$SERVER_BIN" keys create --name order-bench \
      --scopes orders:write,orders:fulfil,customers:write 2>>"$SERVER_LOG")
    export BENCH_API_KEY
  fi
}

bench_stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    say "stopping the server (pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      say "server still running after 15 s, killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# bench_drain_outbox: waits (at most 60 s) until the relay has published every
# event of the runs so far, so that the next run does not pay for this one's
# events; says how long it took, or how many were left.
bench_drain_outbox() {
  local left started=$SECONDS
  for _ in $(seq 1 300); do
    left=$(psql -X -qAt "$DB_URL" -c "SELECT count(*) FROM order_mgmt_order_events WHERE published_at IS NULL")
    [[ "$left" == 0 ]] && { say "outbox drained in $((SECONDS - started)) s"; return 0; }
    sleep 0.2
  done
  say "outbox: $left events still unpublished after 60 s (the relay fell behind)"
}

# The EXIT trap: whatever happened, stop the server and drop the database;
# keep the server log only when something failed (or BENCH_KEEP_LOG=1).
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  bench_stop_server
  if [[ -n "${BENCH_NATS_STREAM:-}" && -n "${BENCH_NATS_URL:-}" ]]; then
    python3 scripts/bench_nats.py delete "$BENCH_NATS_URL" "$BENCH_NATS_STREAM" \
      || say "could not delete the NATS stream $BENCH_NATS_STREAM"
  fi
  if [[ -n "$DB_CREATED" ]]; then
    say "dropping database $DB"
    bench_psql -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" || say "could not drop $DB"
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
