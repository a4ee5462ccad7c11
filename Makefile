# The two commands of the README: `make demo` and `make test`. Nothing else is needed on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test install install-dev lint typecheck contracts pytest clean node-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(STAMP)

demo: install
	$(BIN)/cloudoptima up

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy cloudoptima

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

pytest: install-dev node-tools
	$(BIN)/pytest

test: lint typecheck contracts pytest

clean:
	rm -rf $(VENV) .cloudoptima .pytest_cache .mypy_cache .ruff_cache
