# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test install install-dev browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch is pinned first: 2.13.0 installs from a local CPU wheel on these machines.
$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_DEV): $(STAMP_RUN)
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

demo: $(STAMP_RUN)
	$(BIN)/vocalmine demo

# Headless Chromium for the report's browser test (Debian packages).
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 || echo "chromium not installed: the browser test will be skipped"; }

# ruff: the product code's lint (pyproject.toml [tool.ruff]); then the tests, two processes (pytest-xdist), one
# test file per process at a time so that a file's fixtures are built once
test: $(STAMP_DEV) browser
	$(BIN)/ruff check vocalmine mining features model evaluation report
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The dev extras too: bench/robustness.py's catalog section runs the hypothesis properties.
bench: $(STAMP_DEV)
	@echo "dev extras installed; run one of these with $(BIN)/python, e.g. $(BIN)/python bench/robustness.py --quick:"
	@ls bench/*.py

clean:
	rm -rf $(VENV) data
