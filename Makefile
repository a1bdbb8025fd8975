# One set of targets for people and CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GUPSHUP_DATA_DIR ?= var

.PHONY: run test check lint typecheck sample venv clean bench bench-full bench-core bench-http bench-admin eval screenshots page-weight soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

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
	$(BIN)/ruff check search recommend index_data api tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

## The README's screenshots of the demo pages (docs/*.png), in Debian's /usr/bin/chromium.
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots --out docs

## Bytes of / and of the widget (plain and gzip): bench/results/page-weight.json.
page-weight: $(STAMP)
	$(BIN)/python -m bench.page_weight --out bench/results/page-weight.json

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

## Speed at scale, ours beside tantivy, bm25s and sparse_dot_topn (needs ../shared/data and
## wrk): a quick 10k-article run (a few minutes), and 10k, 30k and 100k (about 30 minutes here).
## Results: bench/results/scale-*.json and scale.md. Generated corpora go to bench/corpora/.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.scale --articles 10000

bench-full: $(BENCH_STAMP)
	$(BIN)/python -m bench.scale --articles 10000
	$(BIN)/python -m bench.scale --articles 30000
	$(BIN)/python -m bench.scale --articles 100000 --http-seconds 15

## Soak (needs ../shared/data and wrk): 10 minutes of mixed traffic at 8 clients on 30,000
## articles, a full rebuild and 100 updates in the middle: bench/results/soak-30k.json and .md.
soak: $(BENCH_STAMP)
	$(BIN)/python -m bench.soak --articles 30000 --minutes 10 --out bench/results/soak-30k.json

## Build time and library-level latency on the sample corpus and (when present) BBC News.
bench-core: $(STAMP)
	$(BIN)/python -m bench.core_latency --corpus sample/articles.jsonl sample/pages --name sample --out bench/results/core-sample.json
	@if [ -d ../shared/data/bbc-news ]; then \
	  $(BIN)/python -m bench.core_latency --corpus ../shared/data/bbc-news/articles.jsonl --name bbc-news --out bench/results/core-bbc-news.json; \
	else echo "skipping BBC News: ../shared/data/bbc-news is absent"; fi

## HTTP latency and throughput under wrk (apt-get install wrk), 2 workers, 1 and 8 clients.
bench-http: $(STAMP)
	$(BIN)/python -m bench.http_load --corpus ../shared/data/bbc-news/articles.jsonl --name bbc-news --workers 2 --clients 1 8 --seconds 15 --out bench/results/http-bbc-news.json

## Admin figures: upsert-to-visible on both workers, rebuild under load (BBC News).
bench-admin: $(STAMP)
	$(BIN)/python -m bench.admin_latency --corpus ../shared/data/bbc-news/articles.jsonl --name bbc-news --out bench/results/admin-bbc-news.json

## Relevance figures of the served defaults (needs ../shared/data): bench/results/quality.md.
eval: $(STAMP)
	$(BIN)/python -m bench.quality --data ../shared/data --out bench/results/quality.md
