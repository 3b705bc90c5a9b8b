# Greenlight: `make demo` shows the product, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: demo demo-salesforce test test-sqlite test-postgres lint bench bench-full clean help

help:
	@echo "make demo        run Greenlight on its embedded defaults (SQLite, the local sandbox)"
	@echo "make demo-salesforce   the same, with a Salesforce CPQ org played locally (docs/crm.md)"
	@echo "make test        lint and run the whole suite (SQLite, then the store tests on PostgreSQL)"
	@echo "make bench       run every benchmark quickly and write docs/BENCHMARKS.md (bench-full: full size)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Greenlight needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sandbox.demo

demo-salesforce: $(STAMP)
	$(BIN)/python -m sandbox.demo --salesforce

# ruff, the layer contract (docs/architecture.md) and mypy (strict on domain/ and store/)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

test: lint
	@scripts/ensure-postgres
	@scripts/ensure-chromium || [ "$${CI:-}" != "true" ]
	@$(MAKE) --no-print-directory test-sqlite test-postgres

# pytest exits 5 when it collects nothing; that is not a failure of the suite.
# The SQLite suite runs on TEST_WORKERS processes (pytest-xdist; 0 runs it in this one): every
# test has its own files, ports and database. The PostgreSQL run stays in one process: one of
# its tests restarts the shared server.
TEST_WORKERS ?= 2
test-sqlite: $(STAMP)
	@$(BIN)/pytest -n $(TEST_WORKERS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

PG_TESTS := $(wildcard tests/store tests/release tests/faults tests/operations tests/bench)
test-postgres: $(STAMP)
	@if [ -z "$(PG_TESTS)" ]; then echo "no PostgreSQL test folders"; exit 0; fi; \
	GREENLIGHT_TEST_DB=postgres GREENLIGHT_TEST_PG_URL=$(PG_URL) $(BIN)/pytest $(PG_TESTS); \
	status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

bench: $(STAMP)
	$(BIN)/python bench/run.py --quick

bench-full: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .demo
