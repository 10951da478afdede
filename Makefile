# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# The emulators (the `emulators` extra, left out of production installs) and the example
# vendor plugin are distributions of their own in this repository: installed from their
# directories, editable, before the extras that name them.
$(BIN)/scimbridge: pyproject.toml emulators/pyproject.toml examples/scimbridge-bulkimport/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . -e emulators
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet -e examples/scimbridge-bulkimport
	touch $@

.PHONY: install run test lint typecheck bench
install: $(BIN)/scimbridge

## run: serve the bridge on SQLite in front of the five bundled vendor emulators
run: install
	$(BIN)/scimbridge demo

## test: the whole suite, with a throwaway PostgreSQL server when one can be installed
test: install
	bash scripts/with-postgres.sh $(BIN)/python -m pytest

## lint: ruff's lint rules and its formatting, checked, and deptry: every library each
## distribution (scimbridge, the emulators, the example plugin) imports is one it declares
lint: install
	$(BIN)/ruff check scimbridge emulators tests bench examples
	$(BIN)/ruff format --check scimbridge emulators tests bench examples
	$(BIN)/deptry .
	cd emulators && $(abspath $(BIN))/deptry .
	cd examples/scimbridge-bulkimport && $(abspath $(BIN))/deptry .

## typecheck: mypy --strict on scimbridge/ and the emulators ([tool.mypy] in pyproject.toml)
typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_mapping.py

## docs: the documentation site in site/ (mkdocs.yml); it stops while the configuration reference is stale
.PHONY: docs
docs: install
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	$(BIN)/mkdocs build --strict --site-dir site

## config-reference: write docs/configuration.md and docs/reference/bridge-config.schema.json
## from the configuration's schema (commit them; tests/docs/test_config_reference.py fails when stale)
.PHONY: config-reference
config-reference: install
	$(BIN)/python docs/hooks/config_reference.py

## bench-scim: scimbridge beside a bare Flask app and scim2-server, under gunicorn (docs/performance.md)
## Arguments through BENCH_SCIM_ARGS, e.g. make bench-scim BENCH_SCIM_ARGS=--quick
.PHONY: bench-scim
bench-scim: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "bench-scim: installing wrk"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; } \
	  || echo "bench-scim: wrk could not be installed; Python threads will send the load"; \
	fi
	@if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "bench-scim: installing PostgreSQL"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; } \
	  || echo "bench-scim: PostgreSQL could not be installed; its run will be skipped"; \
	fi
	$(BIN)/python bench/bench_scim.py $(BENCH_SCIM_ARGS)
