# salesprep: `make demo` runs the weekly job on a generated demo org; `make test` runs every test.
# Both bootstrap a virtualenv with the locked dependencies (uv) on first use.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# Benchmark sizes, run one after the other (`make bench SIZE=M` runs one; L takes over an hour).
SIZE ?= S M L
# The test suite runs on this many pytest-xdist workers, a test file each at a time (half its
# time is spent waiting on Airflow, dbt and server processes; decision 53). 1: serially.
TEST_WORKERS ?= 2
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# Install every package's bytecode (.pyc) with it: where PYTHONDONTWRITEBYTECODE is set (CI),
# Python never caches it, and each process (`salesprep run`, `airflow dags test`, the tests'
# subprocesses) would compile Airflow, dbt and GX from source again, seconds of CPU each.
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test lint bench setup browser adapters clean dbt-manifest

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

# The dbt manifest the Cosmos task group (SALESPREP_DBT_TASKS=cosmos) is rendered from at DAG
# parse time; rebuilt when the dbt project changes.
DBT_MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds \
	dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

$(DBT_MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	$(VENV)/bin/python -m salesprep.orchestration.dbt_tasks

dbt-manifest: $(DBT_MANIFEST)

setup: $(VENV)/.synced $(DBT_MANIFEST)

demo: setup
	$(VENV)/bin/salesprep demo

# Headless Chromium for the packet browser tests (Debian's package). Installed only where we may
# (root with apt-get); elsewhere the browser tests skip and say why.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install chromium: the browser tests will skip"; \
	fi

# The Snowflake and BigQuery adapters the cross-database test compiles with, in their own
# environment and lock (tests/warehouse/compile_adapters): their pins must not hold back ours.
ADAPTERS_PROJECT := tests/warehouse/compile_adapters
ADAPTERS_VENV := .venv-adapters
$(ADAPTERS_VENV)/.synced: $(UV) $(ADAPTERS_PROJECT)/pyproject.toml $(ADAPTERS_PROJECT)/uv.lock
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(ADAPTERS_VENV) $(UV) sync --frozen \
		--project $(ADAPTERS_PROJECT) --python $(PYTHON)
	@touch $@

adapters: $(ADAPTERS_VENV)/.synced

test: setup browser adapters
	$(VENV)/bin/ruff check include dags tests bench
	$(VENV)/bin/ruff format --check include dags tests bench
	cd dbt_project && ../$(VENV)/bin/sqlfluff lint models --processes 2
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	$(VENV)/bin/ruff check include dags tests bench
	$(VENV)/bin/ruff format --check include dags tests bench

# The benchmark harness (bench/salesprep_bench) is dev-only, not in the wheel: it is put on
# PYTHONPATH here and by pytest's `pythonpath` (pyproject.toml); see docs/decisions.md.
bench: setup
	@for size in $(SIZE); do \
		PYTHONPATH="$(CURDIR)/bench$${PYTHONPATH:+:$$PYTHONPATH}" $(VENV)/bin/python -m salesprep_bench --size $$size || exit 1; \
	done

clean:
	rm -rf demo demo-international $(VENV) $(ADAPTERS_VENV) $(TOOLS) dbt_project/target dbt_project/logs
