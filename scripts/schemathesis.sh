#!/usr/bin/env bash
# Schemathesis against the running service, driven by its own OpenAPI
# document (run by `make test`).
#
# 1. a Python venv under target/ with the pinned requirements-test.txt
#    (reused while that file is unchanged; python3-venv is installed with
#    apt-get when Debian's python3 lacks it);
# 2. the debug order-server on a free loopback port against a fresh database
#    (scripts/test-server.sh), seeded with real customers, orders in every
#    status and lines whose ids Schemathesis draws from
#    (scripts/schemathesis/seed.py, scripts/schemathesis/schemathesis.toml);
# 3. every phase (examples, coverage, fuzzing, stateful) with every check
#    (`--checks all`; schemathesis.toml lists the few refusals the checks
#    cannot know are right), positive and negative data; any failure fails
#    the script. SCHEMATHESIS_CHECKS narrows the checks for a local run.
# The server is stopped and its database dropped on any exit.
#
# SCHEMATHESIS_MAX_EXAMPLES (default 40) bounds the cases per operation;
# SCHEMATHESIS_SEED replays a run (the seed is printed in the summary).
# Reports: target/schemathesis/ (output.txt, junit.xml).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=schemathesis
OUT=target/$NAME
VENV=target/schemathesis-venv
REQUIREMENTS=requirements-test.txt
CHECKS=${SCHEMATHESIS_CHECKS:-all}

say() { echo "$NAME: $*" >&2; }

# A venv with exactly the pinned requirements; rebuilt when they change.
ensure_venv() {
  local want stamp="$VENV/.requirements.sha256"
  want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
  if [[ -x "$VENV/bin/schemathesis" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    say "python3 -m venv failed: installing Debian's python3-venv"
    rm -rf "$VENV"
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  say "installing $REQUIREMENTS into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$want" >"$stamp"
}

ensure_venv
source scripts/test-server.sh
trap test_server_stop EXIT
test_server_start "$NAME"

API_KEY="$TEST_SERVER_KEY" "$VENV/bin/python" scripts/schemathesis/seed.py "$TEST_SERVER_BASE" "$OUT/dictionaries"

args=(
  --config-file scripts/schemathesis/schemathesis.toml
  run "$TEST_SERVER_BASE/api-docs/openapi.json"
  --checks "$CHECKS"
  # Authentication on, as in production; `ignored_auth` (in CHECKS) repeats
  # requests without the key and fails unless they are refused.
  --header "Authorization: Bearer $TEST_SERVER_KEY"
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}"
  # One worker: hypothesis' source inspection is not thread-safe on CPython 3.11
  # (sporadic "AST constructor recursion depth mismatch" errors with more).
  --workers 1
  --request-timeout 30
  --no-color
  --report junit --report-junit-path "$OUT/junit.xml"
)
[[ -n "${SCHEMATHESIS_SEED:-}" ]] && args+=(--seed "$SCHEMATHESIS_SEED")

say "running with checks $CHECKS"
started=$SECONDS
status=0
"$VENV/bin/schemathesis" "${args[@]}" >"$OUT/output.txt" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  cat "$OUT/output.txt"
  say "FAILED (exit $status) after $((SECONDS - started)) s; output in $OUT/output.txt, server log in $OUT/server.log"
  exit 1
fi
# The summary without its pytest-like closing rule, then one plain result line.
sed -n '/^=* SUMMARY =*$/,$p' "$OUT/output.txt" | grep -v '^=\+ .* =\+$' || true
cases=$(grep -o '[0-9]\+ generated, [0-9]\+ passed' "$OUT/output.txt" | grep -o '[0-9]\+ passed' | cut -d' ' -f1 || true)
say "passed in $((SECONDS - started)) s (full output in $OUT/output.txt)"
echo "schemathesis: ${cases:-0} passed, 0 failed"
