# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

$(BIN)/scimbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: install run test lint bench
install: $(BIN)/scimbridge

## run: serve the bridge on SQLite in front of the five bundled vendor emulators
run: install
	$(BIN)/scimbridge demo

## test: the whole suite, with a throwaway PostgreSQL server when one can be installed
test: install
	bash scripts/with-postgres.sh $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check scimbridge tests bench

bench: install
	$(BIN)/python bench/bench_mapping.py
