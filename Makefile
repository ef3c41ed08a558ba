# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Both create .venv from pyproject.toml on first use (and again when it changes).

# The first Python >= 3.12 that really runs (a pyenv shim for an inactive version does not).
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.12*/bin/python3.12 $$(command -v python3.12) \
	$$(command -v python3.13) $$(command -v python3); do \
	"$$p" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The web app's stylesheet and scripts: GOV.UK Frontend compiled with sass (npm packages, Node.js on the PATH).
ASSETS := web/static/cis.css

.PHONY: run test bench lint histories chaos clean

# The assets are an order-only prerequisite: built whenever they are missing or older than their sources,
# without reinstalling the Python packages each time a stylesheet changes.
$(STAMP): pyproject.toml | $(ASSETS)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (set PYTHON=/path/to/python3.12)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 and npm are needed for the web app's stylesheet"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

$(ASSETS): node_modules/.package-lock.json web/assets/cis.scss web/assets/cis.js
	npm run --silent build

run: $(STAMP)
	$(BIN)/cis demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Record this release's replay histories into a new folder tests/histories/<version>/ (never over an existing one):
# the scenario tests on the time-skipping server, and a small cohort on the dev stack with production settings.
histories: $(STAMP)
	$(BIN)/python -m tests.record_histories

# The chaos run: 200 cycles on the embedded stack while the worker is killed, PostgreSQL restarts and SMTP refuses.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules web/static
