# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# Tests create (and drop) their own databases on this server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: test test-unit fmt fmt-check lint doc run build

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

## Benchmark (issue 6): release build, fresh database, server on a free loopback port,
## every scenario beside its raw-SQL baseline, table on stdout and JSON in target/bench/.
## BENCH_QUICK=1 for the under-a-minute smoke run; see docs/performance.md and scripts/bench.sh.
.PHONY: bench
bench:
	CARGO="$(CARGO)" scripts/bench.sh
