# The two commands of the README: `make demo` and `make test`. Nothing else is needed on a fresh machine.
#
# Installs come from the lock files in requirements/ (exact versions and hashes, resolved by uv): a fresh
# clone gets exactly what the tests ran against. `make lock` regenerates them after a change to
# pyproject.toml; `make lock UPGRADE=1` (everything) or `make lock UPGRADE_PACKAGE=fastapi` upgrades.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed-dev
# The CPU build of torch that the lock pins lies on this kind of machine's disk (pip's find-links).
WHEELS ?= /opt/wheels
FIND_LINKS := $(if $(wildcard $(WHEELS)),--find-links $(WHEELS))
SYNC := $(UV) pip sync --python $(BIN)/python --require-hashes --quiet $(FIND_LINKS)
EDITABLE := $(UV) pip install --python $(BIN)/python --no-deps --no-build-isolation --quiet -e .
COMPILE := $(UV) pip compile --generate-hashes --python-version 3.11 --no-header --quiet $(FIND_LINKS) \
	$(if $(UPGRADE),--upgrade) $(if $(UPGRADE_PACKAGE),--upgrade-package $(UPGRADE_PACKAGE))

.PHONY: demo test install install-dev lock lint typecheck contracts pytest clean node-tools web web-test browser

# A new venv gets the pinned uv (with its hashes) from pip; uv then installs everything else.
BOOT := $(VENV)/.bootstrapped
$(BOOT): requirements/bootstrap.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements/bootstrap.lock
	touch $@

$(VENV)/.installed: $(BOOT) requirements/runtime.lock pyproject.toml
	$(SYNC) requirements/runtime.lock
	$(EDITABLE)
	rm -f $(STAMP)
	touch $@

$(STAMP): $(BOOT) requirements/dev.lock pyproject.toml
	$(SYNC) requirements/dev.lock
	$(EDITABLE)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(STAMP)

# Regenerate the locks from pyproject.toml (+ requirements/build.in); dev is constrained to runtime's pins.
lock: $(BOOT)
	$(COMPILE) pyproject.toml requirements/build.in -o requirements/runtime.lock
	$(COMPILE) pyproject.toml requirements/build.in --extra dev -c requirements/runtime.lock \
		-o requirements/dev.lock
	grep -h '^uv==' requirements/build.in | $(UV) pip compile --generate-hashes --python-version 3.11 \
		--no-header --quiet - -o requirements/bootstrap.lock

demo: install web
	$(BIN)/cloudoptima up

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Strict mypy over the paths [tool.mypy] `files` names: cloudoptima, every cloudoptima_* app package, benchmarks
# and the tests' support code (conftest.py, fakes, seeds, *_support.py). The test modules themselves (test_*.py)
# stay out for now (`exclude` in pyproject.toml).
typecheck: install-dev
	$(BIN)/mypy

contracts: install-dev
	$(BIN)/lint-imports

# MCP Inspector CLI (pinned in package.json + package-lock.json) for tests/mcp; reinstalled when the lock changes.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: skipping the MCP Inspector install (its tests in tests/mcp will be skipped)"; \
	fi

node-tools: node_modules/.installed

# The web console (web/: its own package.json + package-lock.json): `npm ci` when the lock changes, then
# `npm run build` (tsc --noEmit, then vite build) into web/dist/, which the gateway serves at /, when a source
# changes. Without npm the console is skipped and the gateway's / says how to build it.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

web/node_modules/.installed: web/package.json web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --no-audit --no-fund && touch node_modules/.installed; \
	else \
		echo "npm not found: skipping the web console's install (the gateway's / will say how to build it)"; \
	fi

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	@if [ -f web/node_modules/.installed ]; then \
		cd web && npm run --silent build && touch dist/index.html; \
	else \
		echo "npm not found: skipping the web console's build"; \
	fi

web: web/dist/index.html

# The console's unit tests (Vitest: dates, month-to-date windows, the end-of-month forecast, token claims).
web-test: web
	@if [ -f web/node_modules/.installed ]; then cd web && npm run --silent test; else echo "npm not found: skipping the web console's unit tests"; fi

# Debian's Chromium for the browser tests (tests/browser, driven by Playwright through executable_path); never a
# downloaded browser build. Installed as root when missing; otherwise the tests skip and say how to install it.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "$(CHROMIUM) not found: the browser tests (tests/browser) will be skipped;" \
			"install it with: sudo apt-get install --no-install-recommends chromium"; \
	fi

# tests/browser drive the built console (web) in Chromium (browser). The suite runs on PYTEST_WORKERS xdist
# workers (default: one per core), a module or the browser folder per worker at a time (tests/conftest.py).
PYTEST_WORKERS ?= auto
pytest: install-dev node-tools web browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope

test: web web-test lint typecheck contracts pytest

clean:
	rm -rf $(VENV) .cloudoptima .pytest_cache .mypy_cache .ruff_cache web/dist web/node_modules
