# Developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help venv install install-test install-bench migrate demo run worker test test-fast lint typecheck bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY) ## Create the virtual environment in .venv

# Stamp files: pip runs again only when pyproject.toml is newer than the last install (or
# .venv is new), so a second `make run` starts in seconds. `make clean` forgets them.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,bench]'
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed

install: $(VENV)/.installed ## Install the app and its dependencies into .venv

install-test: $(VENV)/.installed-test ## Install the app with test tools into .venv

install-bench: $(VENV)/.installed-bench ## Install the app with test tools and benchmark peers

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --no-input

demo: migrate ## Load the demo review and users (idempotent)
	$(PY) manage.py load_demo

# prepare_demo skips what is already done (migrations applied, demo loaded); without a broker
# it also runs the server itself, so a second start imports the project once, not twice.
run: install ## Start the web server and a worker on http://$(HOST):$(PORT) with the demo review
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		$(PY) manage.py prepare_demo --url http://$(HOST):$(PORT)/ || exit 1; \
		echo "Starting a Celery worker on $$CELERY_BROKER_URL"; \
		$(VENV)/bin/celery -A reviewapp worker --loglevel=info --concurrency=2 & \
		worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		echo "No CELERY_BROKER_URL: background tasks run inside the web process."; \
		$(PY) manage.py prepare_demo --url http://$(HOST):$(PORT)/ --serve $(HOST):$(PORT); \
	fi

worker: install ## Start a Celery worker (needs CELERY_BROKER_URL)
	$(VENV)/bin/celery -A reviewapp worker --loglevel=info

test: install-test ## Install test needs and run the whole suite
	$(PY) -m pytest

test-fast: install-test ## Run the suite without the browser and worker tests
	$(PY) -m pytest -m "not browser and not integration"

lint: install-test ## Check formatting, lint rules, the import contracts (.importlinter) and dead code
	$(VENV)/bin/ruff format --check . && $(VENV)/bin/ruff check . && $(VENV)/bin/lint-imports
	$(PY) tools/dead_code.py

typecheck: install-test ## Run mypy
	$(VENV)/bin/mypy reviewapp screening extraction analysis

bench: install-bench ## Run every benchmark at its quick size (see docs/performance.md)
	$(PY) benchmarks/run_all.py

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) db.sqlite3 media staticfiles
