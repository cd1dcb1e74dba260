#!/usr/bin/env bash
# Regenerates crates/order-postgres/src/schema.rs from migrations/ with
# `diesel print-schema` on a throw-away database, and either writes it
# (`--write`, what `make schema` does) or fails when the checked-in file
# differs (what CI does), so the diesel schema can never drift from the SQL.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v diesel >/dev/null 2>&1; then
  echo "schema-check: the diesel CLI is missing; install it with" >&2
  echo "  cargo install diesel_cli --locked --no-default-features --features postgres" >&2
  exit 2
fi

server="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
server="${server%/*}"
db="schema_check_$$_${RANDOM}"
url="$server/$db"
generated="$(mktemp)"
cleanup() {
  psql "$server/postgres" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -f "$generated"
}
trap cleanup EXIT

psql "$server/postgres" -qAtc "CREATE DATABASE $db" >/dev/null
# --config-file /dev/null: print to stdout instead of rewriting the file in place.
diesel migration run --migration-dir migrations --database-url "$url" \
  --config-file /dev/null >/dev/null
diesel print-schema --database-url "$url" --config-file /dev/null >"$generated"

target=crates/order-postgres/src/schema.rs
if [ "${1:-}" = "--write" ]; then
  cp "$generated" "$target"
  echo "schema-check: wrote $target"
elif ! diff -u "$target" "$generated"; then
  echo "schema-check: $target differs from what diesel print-schema makes of migrations/;" >&2
  echo "  run 'make schema' and commit the result" >&2
  exit 1
else
  echo "schema-check: $target matches migrations/"
fi
