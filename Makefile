# 继教管理平台 — everyday commands. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST := $(VENV)/bin/pytest
PYBABEL := $(VENV)/bin/pybabel
MO := app/translations/zh/LC_MESSAGES/messages.mo
PO := app/translations/zh/LC_MESSAGES/messages.po

.PHONY: run test install install-dev system-deps translations test-sqlite test-pg bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev system-deps translations

## the catalog is always compiled from the .po, never stale
translations: $(VENV)/.installed
	$(PYBABEL) compile -d app/translations -l zh

## Debian packages the browser tests need (headless Chromium and its driver, CJK fonts)
system-deps:
	bash scripts/system_deps.sh

## install, migrate, seed the demo world and serve on http://127.0.0.1:5000
run: install
	$(PY) run.py

## install and run the whole suite (SQLite by default; set TEST_DATABASE_URL for PostgreSQL)
test: install-dev
	$(PYTEST) -q

## the suite against a freshly created PostgreSQL database on 127.0.0.1:5432
test-pg: install-dev
	bash scripts/ensure_postgres.sh jijiao_test
	TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/jijiao_test $(PYTEST) -q

clean:
	rm -rf $(VENV) instance
