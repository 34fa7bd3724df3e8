# Two commands set everything up on a fresh machine: `make demo` and `make test`.
#   make demo       installs the tool only (no development tools) and runs the demo
#   make test-fast  unit tests only (seconds; tests marked `slow` are skipped)
#   make test       everything: ruff, ruff format --check, mypy and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: venv test test-fast lint demo demo-fleet bench soak schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What the tool needs to run (the demo): the package and its dependencies.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $(RUN_STAMP)

# Development: the package with the dev extra (pytest, ruff, mypy, pre-commit, ...).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ringrx_iac tests bench
	$(BIN)/ruff format --check ringrx_iac tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

demo: $(RUN_STAMP)
	$(BIN)/python -m ringrx_iac.demo

demo-fleet: $(RUN_STAMP)
	$(BIN)/python -m ringrx_iac.demo_fleet

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python -m bench soak

schema: $(RUN_STAMP)
	$(BIN)/ringrx-iac schema > schemas/ringrx-iac.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
