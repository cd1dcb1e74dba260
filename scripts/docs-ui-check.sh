#!/usr/bin/env bash
# Swagger UI (/docs/) rendered by headless Chromium, as a person would see it
# (run by `make test`).
#
# Starts the debug order-server on a fresh database (scripts/test-server.sh),
# lets Debian's chromium render /docs/ (Swagger UI builds the page client-side
# from /api-docs/openapi.json), and checks that the rendered page shows every
# operation of the OpenAPI document: each method and path pair, and the
# title. Saves the DOM and a full-page screenshot under target/docs-ui/.
#
# Chromium is installed with apt-get when missing; if that fails the check
# fails: it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=docs-ui
OUT=target/$NAME

say() { echo "$NAME: $*" >&2; }

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

CHROMIUM=$(find_chromium)
if [[ -z "$CHROMIUM" ]]; then
  say "chromium is missing: installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROMIUM=$(find_chromium)
fi
if [[ -z "$CHROMIUM" ]]; then
  say "FAILED: no chromium and it could not be installed (apt-get install chromium)"
  exit 1
fi

source scripts/test-server.sh
profile=""
cleanup() {
  test_server_stop
  [[ -n "$profile" ]] && rm -rf "$profile"
}
trap cleanup EXIT
test_server_start "$NAME"

python3 -c 'import json, sys, urllib.request
print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1], timeout=30))))' \
  "$TEST_SERVER_BASE/api-docs/openapi.json" >"$OUT/openapi.json"

profile=$(mktemp -d)
# Flags: no sandbox as root; no background networking, since nothing but
# loopback is reachable; a fresh profile; virtual time lets Swagger UI fetch
# the document and render before the DOM is dumped.
chromium_run() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-dev-shm-usage --user-data-dir="$profile" \
    --hide-scrollbars --virtual-time-budget=5000 "$@" "$TEST_SERVER_BASE/docs/" 2>>"$OUT/chromium.log"
}
: >"$OUT/chromium.log"
started=$SECONDS
chromium_run --dump-dom >"$OUT/docs.html"
chromium_run --window-size=1400,5200 --screenshot="$OUT/docs.png" >/dev/null
[[ -s "$OUT/docs.png" ]] || { say "FAILED: chromium wrote no screenshot (see $OUT/chromium.log)"; exit 1; }
say "rendered in $((SECONDS - started)) s; screenshot $OUT/docs.png"

# Every (method, path) of the document must be an operation block of the page.
python3 - "$OUT/openapi.json" "$OUT/docs.html" <<'PY'
import html.parser, json, sys

document = json.load(open(sys.argv[1]))
expected = {
    (method.upper(), path)
    for path, item in document["paths"].items()
    for method in item
    if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
}


class Page(html.parser.HTMLParser):
    """Collects the rendered text and Swagger UI's operation blocks."""

    def __init__(self):
        super().__init__()
        self.text, self.operations = [], []
        self.method = self.path = None
        self.capture = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if "opblock-summary-method" in classes:
            self.capture, self.method = "method", ""
        elif "opblock-summary-path" in classes:
            self.capture, self.path = "path", ""

    def handle_endtag(self, tag):
        if tag == "span" and self.capture:
            self.capture = None
            if self.method is not None and self.path is not None:
                self.operations.append((self.method.strip(), self.path.strip()))
                self.method = self.path = None

    def handle_data(self, data):
        data = data.replace("\u200b", "")
        self.text.append(data)
        if self.capture == "method":
            self.method += data
        elif self.capture == "path":
            self.path += data


page = Page()
page.feed(open(sys.argv[2], encoding="utf-8").read())
text = "".join(page.text)
rendered = set(page.operations)
missing = sorted(expected - rendered)
failures = [f"{m} {p} not rendered" for m, p in missing]
failures += [f"path {p} not in the page text" for p in sorted({p for _, p in expected}) if p not in text]
title = document["info"]["title"]
if title not in text:
    failures.append(f"title {title!r} not in the page text")
for failure in failures:
    print(f"docs-ui: {failure}", file=sys.stderr)
print(f"docs-ui: {len(rendered & expected)} of {len(expected)} operations rendered", file=sys.stderr)
print(f"docs-ui: {len(expected) - len(missing)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
PY
