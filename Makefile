# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Tests create (and drop) their own databases on this server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: test fmt fmt-check lint doc run build

## Start the service on :8081. Without DATABASE_URL it keeps its data in the embedded SQLite file
## ./data/order-mgmt.sqlite3 (nothing to install); DATABASE_URL=postgres://... uses PostgreSQL.
## Override with DATABASE_URL, HOST, PORT, DB_POOL_SIZE, ... (see `cargo run -p order-server -- --help`).
## Authentication is off here (loopback only, for the README's flow); `AUTH=on make run` to use API keys.
run:
	AUTH="$${AUTH:-off}" $(CARGO) run --release -p order-server

build:
	$(CARGO) build --release -p order-server


## Run every test of the workspace (unit, property, use case, repository, HTTP, end to end),
## then the black-box checks of the running server (`make api-check`).
test:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --all-targets --no-fail-fast; \
	else \
		$(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi
	$(CARGO) test --workspace --doc
	@$(MAKE) --no-print-directory api-check

## The debug server on a fresh database, checked from outside: Schemathesis over its OpenAPI
## document (scripts/schemathesis.sh) and Swagger UI rendered by headless Chromium with every
## route on the page (scripts/docs-ui-check.sh; screenshot in target/docs-ui/).
.PHONY: api-check
api-check:
	CARGO="$(CARGO)" scripts/schemathesis.sh
	CARGO="$(CARGO)" scripts/docs-ui-check.sh

## crates/order-postgres/src/schema.rs is generated from migrations/ by `diesel print-schema`:
## `make schema` rewrites it after a migration changes, `make schema-check` (run by CI) fails on drift.
.PHONY: schema schema-check
schema:
	scripts/schema-check.sh --write

schema-check:
	scripts/schema-check.sh

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

## Benchmark (issue 6): release build, fresh database, server on a free loopback port,
## every scenario beside its raw-SQL baseline, table on stdout and JSON in target/bench/.
## BENCH_QUICK=1 for the under-a-minute smoke run; see docs/performance.md and scripts/bench.sh.
.PHONY: bench
bench:
	CARGO="$(CARGO)" scripts/bench.sh
