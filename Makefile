# 继教管理平台 — everyday commands. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST := $(VENV)/bin/pytest
PYBABEL := $(VENV)/bin/pybabel
MO := app/translations/zh/LC_MESSAGES/messages.mo
PO := app/translations/zh/LC_MESSAGES/messages.po

.PHONY: run test install install-dev system-deps certificate-font redis worker translations test-sqlite test-pg \
	bench bench-smoke bench-curve cluster cluster-stop cluster-test wrk clean

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

## Debian packages the tests need (headless Chromium and its driver, CJK fonts, pdftotext)
system-deps:
	bash scripts/system_deps.sh

## Redis on 127.0.0.1:6379 (Debian redis-server, installed and started when missing): the job tests'
## Celery worker and production-like runs use it; the embedded default (make run) does not
redis:
	bash scripts/ensure_redis.sh

## install, migrate, seed the demo world and serve on http://127.0.0.1:5000 (jobs run in-process)
run: install certificate-font
	$(PY) run.py

## the TrueType CJK font certificate PDFs embed (Debian fonts-wqy-zenhei); without it the app runs but says
## that certificates cannot be printed
certificate-font:
	@bash scripts/certificate_font.sh

## a Celery worker for the jobs of an app started with CELERY_BROKER_URL (or REDIS_URL) set
REDIS_URL ?= redis://127.0.0.1:6379/0
worker: install redis
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(REDIS_URL)} $(VENV)/bin/celery -A app.jobs.worker worker --loglevel INFO

## install and run the whole suite (SQLite by default; set TEST_DATABASE_URL for PostgreSQL)
test: install-dev redis
	$(PYTEST) -q

## the suite against a freshly created PostgreSQL database on 127.0.0.1:5432
test-pg: install-dev redis
	bash scripts/ensure_postgres.sh jijiao_test
	TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/jijiao_test $(PYTEST) -q

## scale benchmark (docs/benchmark.md): fills $(BENCH_DB) with BENCH_PERSONS persons (re-used when the same
## size and seed are loaded already, replaced otherwise), then measures pages, forms, batch approval, wrk
BENCH_DB ?= jijiao_bench
BENCH_URL ?= postgresql://postgres@127.0.0.1:5432/$(BENCH_DB)
BENCH_PERSONS ?= 1000000
BENCH_SEED ?= 1
BENCH_JSON ?= bench-results/bench.json
BENCH_ARGS ?=
FLASK := $(VENV)/bin/flask --app app:create_app
bench: install-dev
	@$(MAKE) -s wrk || echo "wrk could not be installed: the throughput check will be skipped"
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -1)" main start
	@for _ in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	@psql -q -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" \
	  | grep -q 1 || createdb -h 127.0.0.1 -U postgres $(BENCH_DB)
	DATABASE_URL=$(BENCH_URL) $(FLASK) prepare --no-demo
	DATABASE_URL=$(BENCH_URL) $(FLASK) seed-scale --persons $(BENCH_PERSONS) --seed $(BENCH_SEED) --replace
	DATABASE_URL=$(BENCH_URL) $(FLASK) bench --json $(BENCH_JSON) $(BENCH_ARGS)

## the same at 10,000 persons in its own database, fewer runs: a quick check of the tooling
bench-smoke:
	$(MAKE) bench BENCH_DB=jijiao_bench_smoke BENCH_PERSONS=10000 BENCH_JSON=bench-results/bench-smoke.json \
	  BENCH_ARGS="--runs 3 --warmup 1 --wrk-duration 3"

## Debian's wrk (load generator of the benchmark and the cluster test), installed when missing
wrk:
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1

## the scale curve: `make bench` at 100k, 1M and 3M persons (own databases jijiao_bench_curve_<N>), then
## bench-results/curve.json, docs/benchmark-curve.png and the table in docs/benchmark.md
CURVE_SIZES ?= 100000 1000000 3000000
CURVE_ARGS ?= --runs 7 --warmup 2
bench-curve: install-dev
	@for n in $(CURVE_SIZES); do \
	  $(MAKE) bench BENCH_DB=jijiao_bench_curve_$$n BENCH_PERSONS=$$n BENCH_JSON=bench-results/curve-$$n.json \
	    BENCH_ARGS="$(CURVE_ARGS)" || exit 1; \
	done
	$(PY) scripts/bench_curve.py $(foreach n,$(CURVE_SIZES),bench-results/curve-$(n).json)

## the production layout on this machine (README › Production): two app hosts (gunicorn) behind nginx, a Celery
## worker, PostgreSQL (database jijiao_cluster, demo world), Redis and an S3-compatible store; Ctrl-C stops it
cluster: $(VENV)/.installed-dev translations redis
	$(PY) scripts/cluster.py run

## stop what `scripts/cluster.py start` left running
cluster-stop:
	$(PY) scripts/cluster.py stop

## start a cluster of its own (run/cluster-test, ports 8200-8210), drive it, stop it (< 10 minutes)
cluster-test: $(VENV)/.installed-dev translations redis wrk
	$(PYTEST) -v -s tests/cluster/cluster_checks.py

clean:
	rm -rf $(VENV) instance
