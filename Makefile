# Developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help venv install install-test migrate demo run worker test test-fast lint typecheck bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY) ## Create the virtual environment in .venv

install: $(PY) ## Install the app and its dependencies into .venv
	$(PIP) install --quiet -e .

install-test: $(PY) ## Install the app with test tools into .venv
	$(PIP) install --quiet -e '.[test]'

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --no-input

demo: migrate ## Load the demo review and users (idempotent)
	$(PY) manage.py load_demo

run: demo ## Start the web server and a worker on http://$(HOST):$(PORT) with the demo review
	@$(PY) manage.py collectstatic --no-input --verbosity 0
	@$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)/
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "Starting a Celery worker on $$CELERY_BROKER_URL"; \
		$(VENV)/bin/celery -A reviewapp worker --loglevel=info --concurrency=2 & \
		worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		echo "No CELERY_BROKER_URL: background tasks run inside the web process."; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

worker: install ## Start a Celery worker (needs CELERY_BROKER_URL)
	$(VENV)/bin/celery -A reviewapp worker --loglevel=info

test: install-test ## Install test needs and run the whole suite
	$(PY) -m pytest

test-fast: ## Run the suite without the browser and worker tests
	$(PY) -m pytest -m "not browser and not integration"

lint: ## Check formatting and lint rules
	$(VENV)/bin/ruff format --check . && $(VENV)/bin/ruff check .

typecheck: ## Run mypy
	$(VENV)/bin/mypy reviewapp screening extraction analysis

bench: ## Run the benchmarks (see docs/performance.md)
	$(PY) benchmarks/run_all.py

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) db.sqlite3 media staticfiles
