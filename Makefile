# One set of targets for people and CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GUPSHUP_DATA_DIR ?= var

.PHONY: run test check lint typecheck sample serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## Load the bundled sample articles, build and publish a snapshot, serve the API.
run: $(STAMP) sample
	$(BIN)/gupshup serve

sample: $(STAMP)
	$(BIN)/gupshup ingest sample/articles.jsonl sample/pages
	$(BIN)/gupshup build --publish

## The whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check search recommend index_data api tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
