# KeJin 科金直通车 — build and run.  GNU make.
#
#   make run    demo portal on http://127.0.0.1:8000 (SQLite, tasks run in-process)
#   make test   the whole suite on PostgreSQL + Redis + headless Debian chromium
#
# Everything runs from .venv (created with `python3 -m venv`) and node_modules (npm ci).

SHELL         := /bin/bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS     += --no-print-directory

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
VENV_STAMP  := $(VENV)/.kejin-installed
NODE_STAMP  := node_modules/.kejin-installed
NPM_LOCK    := $(wildcard package-lock.json)

HOST          ?= 127.0.0.1
PORT          ?= 8000
PYTEST_XDIST  ?= -n 2 --dist loadgroup
PYTEST_ARGS   ?=
BENCH_ARGS    ?=
CELERY_BEAT_SCHEDULER ?= django_celery_beat.schedulers:DatabaseScheduler

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONUNBUFFERED := 1
# DEMO_PASSWORD (optional) reaches the recipes through the environment, so any characters are safe.
export DEMO_PASSWORD

.PHONY: help install venv node run migrate seed static test test-sqlite services chromium lint \
        makemigrations-check pytest worker beat bench check-deploy security clean distclean

help:
	@echo "KeJin 科金直通车"
	@echo "  make run     启动演示门户 / demo portal at http://$(HOST):$(PORT) (SQLite, demo data)"
	@echo "  make test    全部测试 / lint + migrations check + pytest on PostgreSQL, Redis, chromium, then make test-sqlite"
	@echo "  make test-sqlite  可移植部分在 SQLite + 进程内任务上再跑一遍 / the portable tests as make run ships them"
	@echo "  make lint    ruff check . and lint-imports (the floors of .importlinter, docs/architecture.md)"
	@echo "  make security bandit (and pip-audit with PIP_AUDIT=1), see security/README.md"
	@echo "  make worker  Celery worker (needs REDIS_URL, and DATABASE_URL shared with the web process)"
	@echo "  make beat    Celery beat with django_celery_beat's DatabaseScheduler"
	@echo "  make bench   run bench/*.py"
	@echo "  make clean   remove caches and build output (make distclean also removes .venv, node_modules, db.sqlite3)"
	@echo "Variables: DEMO_PASSWORD, HOST, PORT, PYTEST_ARGS (e.g. PYTEST_ARGS=\"tests/enterprises -x\"), PYTEST_XDIST"

# ---------------------------------------------------------------------------- set-up
install: venv node

venv: $(VENV_STAMP)

# Re-installs only when pyproject.toml is newer than the stamp inside .venv.
$(VENV_STAMP): pyproject.toml
	@if ! [ -x "$(PY)" ] || ! "$(PY)" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then \
		echo ">> creating $(VENV) with $(PYTHON) -m venv"; \
		rm -rf "$(VENV)"; \
		$(PYTHON) -m venv "$(VENV)"; \
	fi
	$(PIP) install --quiet -e '.[dev]'
	@touch "$@"

node: $(NODE_STAMP)

# npm ci (exactly the lockfile) when package-lock.json is newer than the stamp; npm install without a lock.
$(NODE_STAMP): package.json $(NPM_LOCK)
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 and npm" >&2; exit 1; }
	@if [ -f package-lock.json ]; then \
		echo ">> npm ci"; npm ci --no-audit --no-fund; \
	else \
		echo ">> npm install (no package-lock.json)"; npm install --no-audit --no-fund; \
	fi
	@mkdir -p node_modules && touch "$@"

# ---------------------------------------------------------------------------- demo
# DEBUG=1; DATABASE_URL / REDIS_URL are not set here, so by default the portal uses db.sqlite3 and
# Celery runs tasks eagerly in-process. Export them yourself to run against PostgreSQL / Redis.
run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) $(PY) manage.py seed_demo $${DEMO_PASSWORD:+--password "$$DEMO_PASSWORD"}
	@echo
	@echo "================================================================"
	@echo "  科金直通车 KeJin — 山西省科技金融信息服务平台"
	@echo "  打开 / Open:  http://$(HOST):$(PORT)/"
	@echo "  演示账号见上 / demo accounts are listed above.  Ctrl-C 停止 / to stop."
	@echo "================================================================"
	@echo
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput

seed: install
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) $(PY) manage.py seed_demo $${DEMO_PASSWORD:+--password "$$DEMO_PASSWORD"}

static: install
	DEBUG=1 $(PY) manage.py collectstatic --noinput

# ---------------------------------------------------------------------------- tests
# DATABASE_URL / REDIS_URL default (in pyproject's pytest-env and in ensure_services.sh) to the
# local PostgreSQL and Redis; export them to use other servers.
test: install
	bash scripts/ensure_services.sh
	bash scripts/ensure_chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) security
	$(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)
	@if [ -f test-results/api-fuzz.txt ]; then cat test-results/api-fuzz.txt; fi
	$(MAKE) test-sqlite

# The embedded default, tested: the portable part of the suite again with what `make run` ships —
# SQLite (DATABASE_URL set but empty wins over pytest-env's D: default) and eager tasks (no REDIS_URL):
# every page of each role (the permission matrix), the SQLite branches of the match writer and the
# dashboard SQL, the demo seed, and a smoke test that starts the portal exactly as `make run` does.
SQLITE_TESTS ?= tests/test_permission_matrix.py tests/portal/test_dashboard.py tests/portal/test_dashboard_home.py \
	tests/matching/test_runs.py tests/matching/test_background_run.py tests/portal/test_seed.py \
	tests/portal/test_make_run_smoke.py
test-sqlite: install
	DATABASE_URL= REDIS_URL= CACHE_URL= DEBUG=1 $(VENV)/bin/pytest $(PYTEST_XDIST) $(SQLITE_TESTS)

# bandit over the project code against the reviewed baseline; pip-audit only with PIP_AUDIT=1 (it
# needs a vulnerability database this build machine cannot reach). See security/README.md.
security: venv
	$(VENV)/bin/bandit -r . -c .bandit.yml -b security/bandit-baseline.json -q
	@if [ "$${PIP_AUDIT:-0}" = "1" ]; then \
		ignores=$$(grep -v '^#' security/pip-audit-ignore.txt 2>/dev/null | awk 'NF {printf " --ignore-vuln %s", $$1}'); \
		$(VENV)/bin/pip-audit --strict $$ignores; \
	else \
		echo "pip-audit skipped (set PIP_AUDIT=1 where pypi.org / osv.dev are reachable; see security/README.md)"; \
	fi

services:
	bash scripts/ensure_services.sh

chromium:
	bash scripts/ensure_chromium.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

makemigrations-check: venv
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

pytest: install
	$(VENV)/bin/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# ---------------------------------------------------------------------------- background work
# A worker only makes sense with a broker: without REDIS_URL the web process runs tasks itself.
worker: venv
	@[ -n "$${REDIS_URL:-}" ] || { echo "REDIS_URL is not set: without it tasks run eagerly in the web process."; \
		echo "e.g. make worker REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/kejin"; exit 1; }
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A portal worker -l info

beat: venv
	@[ -n "$${REDIS_URL:-}" ] || { echo "REDIS_URL is not set: beat needs a broker."; \
		echo "e.g. make beat REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/kejin"; exit 1; }
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A portal beat -l info --scheduler $(CELERY_BEAT_SCHEDULER)

# ---------------------------------------------------------------------------- benchmarks
bench: install
	@mkdir -p bench/out
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no bench/*.py scripts"; exit 0; fi; \
	for f in "$${scripts[@]}"; do \
		case "$$(basename "$$f")" in _*|conftest.py) continue;; esac; \
		echo "== $$f"; \
		DEBUG=$${DEBUG:-1} DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-portal.settings} \
			PYTHONPATH=. $(PY) "$$f" $(BENCH_ARGS); \
	done

# ---------------------------------------------------------------------------- production helpers
check-deploy: venv
	DEBUG=0 $(PY) manage.py check --deploy

# ---------------------------------------------------------------------------- cleaning
clean:
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -path ./.git -prune -o \
		\( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache \) -type d -print0 \
		| xargs -0 rm -rf
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -path ./.git -prune -o \
		-name '*.py[co]' -type f -print0 | xargs -0 rm -f
	rm -rf staticfiles test-results bench/out build *.egg-info

distclean: clean
	rm -rf $(VENV) node_modules db.sqlite3
