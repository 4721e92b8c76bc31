# Reputation desk. `make run` and `make test` work on a fresh machine: they create the
# virtualenv, start a private PostgreSQL under .pg/, migrate, and go.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format bench stop db venv browser demo clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	@echo "==> Creating the virtualenv and installing pinned packages"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

db: venv
	@scripts/pg.sh start
	@$(PY) manage.py setup_db

demo: db
	@$(PY) manage.py seed_demo

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then echo "==> Installing Chromium (apt)"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "error: chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

run: demo
	@PORT=$(PORT) scripts/run.sh

test: venv browser lint
	@DJANGO_SETTINGS_MODULE=reputation.settings_test $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	@echo "==> Lint: ruff, import contracts (.importlinter), Django checks, migrations"
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports --no-cache --no-logo | tail -n +2 | grep -E "BROKEN|KEPT|Contracts:|^- |not allowed|is not" ; exit $${PIPESTATUS[0]}
	@scripts/pg.sh start >/dev/null
	@$(PY) manage.py check
	@$(PY) manage.py makemigrations --check --dry-run

format: venv
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

bench: db
	@$(PY) bench/run_all.py

stop:
	@scripts/pg.sh stop
