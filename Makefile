# KIM-Fachdatenbank. Two commands do everything on a fresh machine:
#   make run    install, migrate, load the demo district, serve on http://127.0.0.1:8000
#               (another port: make run PORT=8080)
#   make test   the whole suite (SQLite, PostgreSQL, browser)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KIM := $(BIN)/kim
export DJANGO_SETTINGS_MODULE := kim.settings
# The PostgreSQL leg of the suite; CI makes it mandatory (KIM_REQUIRE_POSTGRES=1).
export PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/kim
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres install messages lint bench clean screenshots system-packages

install: $(VENV)/.installed node_modules/.installed messages

$(VENV)/.installed: pyproject.toml requirements.lock
	PYTHON=$(PYTHON) bash tools/system_packages.sh --build
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compiled translations are build products: made from the .po files, never committed.
messages: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d src/kim/locale -D django

# The key that signs sessions: made once per installation, never committed (var/ is ignored).
var/secret-key: | $(VENV)/.installed
	$(KIM) secret-key --file $@

run: install var/secret-key
	$(KIM) migrate --verbosity 0
	$(KIM) load-demo
	@echo ""
	@echo "KIM-Fachdatenbank startet auf http://127.0.0.1:$(PORT)  (beenden mit Strg+C)"
	$(KIM) serve --bind 127.0.0.1:$(PORT)

test: install system-packages var/secret-key
	$(BIN)/python tools/run_suite.py

# chromium and pdftotext for the tests; installed when missing (root on Debian).
system-packages:
	bash tools/system_packages.sh

lint: install
	$(BIN)/python -m ruff check --select F,E9,B src tests bench tools

# The benchmarks (about 15 minutes on the 2-core machine). The state-scale ones build
# the database STATESCALE_URL with STATE_SHARE of NRW's ten years of KIM
# (1 = the whole state, about 1 million participants and 12 million appointments: another
# 10 minutes): make bench STATE_SHARE=1
STATE_SHARE ?= 0.1
STATESCALE_URL ?= postgres://postgres@127.0.0.1:5432/kim_sbench_make
bench: install var/secret-key
	$(BIN)/python bench/page_load.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/import_file.py
	$(BIN)/python bench/statescale.py --share $(STATE_SHARE) --db-url $(STATESCALE_URL)
	$(BIN)/python bench/duckdb_compare.py --db-url $(STATESCALE_URL) --statewide
	$(BIN)/python bench/pages.py --db-url $(STATESCALE_URL)
	$(BIN)/python bench/load.py --db-url $(STATESCALE_URL)

screenshots: install var/secret-key
	KIM_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser -q

clean:
	rm -rf $(VENV) node_modules var test-artifacts
