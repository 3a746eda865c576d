# ESS Accompagnement — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench lint install system-deps clean

# Create the virtual environment and install the project with its test tools.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 ou plus récent est nécessaire." if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# Open the desktop application on the demo database of the user data directory (created on first run).
run: $(STAMP)
	$(BIN)/ess-accompagnement

# System libraries Qt needs on a bare Linux (installed with apt-get when run as root).
system-deps: $(STAMP)
	@sh tools/ensure_system_deps.sh $(BIN)/python

lint: $(STAMP)
	$(BIN)/ruff check ess_accompagnement tests benchmarks tools
	$(BIN)/lint-imports

# The whole suite: lint, layer contract, domain/store/CLI tests, real Qt widgets offscreen.
test: $(STAMP) system-deps lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest --junitxml=$(VENV)/junit.xml

# Figures at scale (100 000 projects), as ratios against raw SQLite, written to benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.extras

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache benchmarks/work
