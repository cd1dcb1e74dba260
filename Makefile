# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Tests create (and drop) their own databases on this server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: test fmt fmt-check lint doc run build

## Start the service on :8081 against the local PostgreSQL (database order_mgmt is created if missing).
## Override with DATABASE_URL, HOST, PORT, DB_POOL_SIZE, ... (see `cargo run -p order-server -- --help`).
run:
	$(CARGO) run --release -p order-server

build:
	$(CARGO) build --release -p order-server


## Run every test of the workspace (unit, property, use case, repository, HTTP, end to end).
test:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --all-targets --no-fail-fast; \
	else \
		$(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi
	$(CARGO) test --workspace --doc

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

.PHONY: bench
bench:
	CARGO="$(CARGO)" scripts/bench.sh
