# Klinikita: `make run` sets up everything and serves the demo (production build);
# `make dev` is the same demo with hot reload; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
NODE_VERSION := 22.23.3
BUN_VERSION := 1.4.5

# Node 22 and bun come from the npm registry (bun's own installer is not reachable).
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false

.PHONY: setup run dev run-prod test test-fast lint lock clean

setup: $(VENV)/.installed $(TOOLS)/.installed .web/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(TOOLS)/.installed:
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error \
		node@$(NODE_VERSION) bun@$(BUN_VERSION)
	touch $@

# The frontend packages (pinned in reflex.lock/) are installed by compiling the app once.
.web/.installed: $(VENV)/.installed $(TOOLS)/.installed reflex.lock/bun.lock
	$(BIN)/reflex compile
	touch $@

PORT ?= 3000
# The production build of the pages, made again when the code, the assets or the port change
# (the port is written into the build). `reflex export` needs no database.
WEB_BUILD := .web/build/.klinikita-port-$(PORT)
APP_SOURCES := $(shell find klinikita assets -type f -not -name '*.pyc' 2>/dev/null) rxconfig.py

$(WEB_BUILD): $(APP_SOURCES) reflex.lock/bun.lock | setup
	rm -f .web/build/.klinikita-port-*
	REFLEX_FRONTEND_PORT=$(PORT) REFLEX_BACKEND_PORT=$(PORT) \
		$(BIN)/reflex export --frontend-only --no-zip --env prod
	touch $@

# The demo, served as in production (pages and backend on PORT, built once): demo data on
# first start, the SATUSEHAT simulator and its control endpoints for an admin.
run: setup $(WEB_BUILD)
	$(BIN)/python -m klinikita prestart --demo
	KLINIKITA_DEMO=1 KLINIKITA_PUBLIC_URL=$${KLINIKITA_PUBLIC_URL:-http://localhost:$(PORT)} \
		$(BIN)/python -m klinikita.serve --port $(PORT)

# The same demo for developers: pages on 3000 and backend on 8000, reloaded on every change.
dev: setup
	$(BIN)/python -m klinikita prestart --demo
	KLINIKITA_DEMO=1 $(BIN)/reflex run

# Production without systemd: the frontend is built once, then the server (pages and backend on
# PORT) starts again within seconds whenever it dies (deploy/ has units; docs/deploy.md).
run-prod: setup $(WEB_BUILD)
	$(BIN)/python -m klinikita prestart
	$(BIN)/python -m klinikita.supervisor -- $(BIN)/python -m klinikita.serve --port $(PORT)

test: setup
	$(BIN)/lint-imports
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not e2e and not processes"

lint: setup
	$(BIN)/ruff check klinikita tests bench
	$(BIN)/lint-imports

lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) $(TOOLS) .web .states
