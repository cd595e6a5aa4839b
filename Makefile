# crm-reporting: two commands on a fresh Debian machine with Python 3.11:
#   make demo   # virtualenv, install, demo data, PDF + HTML report of every demo region
#   make test   # install what the tests need and run them
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STORE ?= data/crm.duckdb
SEED ?= 7
SCALE ?= 1
# Reports cover the last complete month unless PERIOD is given (e.g. PERIOD=2026-10).
PERIOD ?= last-complete-month

.PHONY: demo test sysdeps install lint clean bench bench-quick bench-forecast fuzz package-check i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,distributed]'
	touch $@

install: $(VENV)/.installed

sysdeps:
	@bash scripts/sysdeps.sh

demo: sysdeps install
	$(BIN)/crm-report demo-data --seed $(SEED) --scale $(SCALE) --store $(STORE)
	$(BIN)/crm-report run --region all --period $(PERIOD) --store $(STORE)

# the suite in two processes (pytest-xdist), one test file per process at a time so each
# file's module fixtures are built once; PYTEST_WORKERS=0 runs it in this process
PYTEST_WORKERS ?= 2
test: install
	@bash scripts/sysdeps.sh --test
	$(BIN)/python -m pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

# property-based fuzz of exports: 2,000 hypothesis cases (make test runs 200 of them)
FUZZ_EXAMPLES ?= 2000
# and 300 exports ingested by both paths, the DuckDB fast one and pandas (make test: 20)
FAST_EXAMPLES ?= 300
fuzz: install
	CRM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CRM_FUZZ_PROGRESS=$${TMPDIR:-/tmp}/crm-fuzz-progress.json \
	  CRM_FAST_EXAMPLES=$(FAST_EXAMPLES) \
	  $(BIN)/python -m pytest tests/ingest/test_fuzz.py tests/ingest/test_fast_path.py -m "not slow" -q -p no:cacheprovider

# the wheel installed with its dependencies from PyPI into a fresh virtualenv, used from an
# unrelated folder (make test installs it too, sharing the test environment's dependencies)
package-check: sysdeps
	bash scripts/package_check.sh

lint: install
	$(BIN)/ruff check reporting tests

clean:
	rm -rf reports data .pytest_cache

# Whole crm-report processes against their floors -> benchmarks/results.md (20-30 min on an
# idle 2-core machine; a 50 MB export unless BENCH_INGEST_GB is set, e.g. BENCH_INGEST_GB=2
# for the issue's 2 GB ingest case). BENCH_ARGS passes anything else (python -m benchmarks -h).
BENCH_INGEST_GB ?=
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks $(if $(BENCH_INGEST_GB),--ingest-gb $(BENCH_INGEST_GB)) $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

# only the forecast section (issue 15: train + forecast every region of the 1M history store,
# a 12-origin backtest); QUICK=1 for the 20k store
bench-forecast: install
	$(BIN)/python -m benchmarks --only forecast $(if $(QUICK),--quick) $(BENCH_ARGS)

# the gettext catalogue: messages.pot from the code and templates, fa.po following it,
# then the checks the tests make (untranslated, fuzzy, placeholders, obsolete)
i18n:
	$(BIN)/python scripts/i18n_catalogue.py extract
	$(BIN)/python scripts/i18n_catalogue.py update
	$(BIN)/python scripts/i18n_catalogue.py check
