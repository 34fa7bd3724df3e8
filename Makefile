# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint demo demo-fleet bench schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ringrx_iac tests bench
	$(BIN)/ruff format --check ringrx_iac tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/python -m ringrx_iac.demo

demo-fleet: $(STAMP)
	$(BIN)/python -m ringrx_iac.demo_fleet

bench: $(STAMP)
	$(BIN)/python -m bench

schema: $(STAMP)
	$(BIN)/ringrx-iac schema > schemas/ringrx-iac.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
