"""Build time and library-level latency of the core engine on one corpus.

    python -m bench.core_latency --corpus ../shared/data/bbc-news/articles.jsonl \
        --name bbc-news --out bench/results/core-bbc-news.json

Ingests the corpus into a temporary data dir with the product's own readers and store, builds
and publishes a snapshot, then times searches (1-3 word queries drawn from titles, seeded) and
related lookups through the same `Snapshot` object the server uses. Not a test: figures vary
with the machine's load, so it reports percentiles and is run by hand or by `make bench`.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import emit
from index_data.build import build_snapshot
from index_data.live import LiveView
from index_data.readers import read_paths
from index_data.store import ArticleStore
from search.index import SearchRequest


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def title_queries(titles: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [[w for w in re.findall(r"[A-Za-z]{3,}", t)] for t in titles]
    words = [w for w in words if w]
    queries = []
    for _ in range(count):
        pool = rng.choice(words)
        size = min(len(pool), rng.choice([1, 2, 2, 3]))
        start = rng.randrange(0, len(pool) - size + 1)
        queries.append(" ".join(pool[start : start + size]).lower())
    return queries


def timed(fn, items):  # type: ignore[no-untyped-def]
    samples = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - started)
    return samples


def run(corpus: list[Path], queries: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        reads = read_paths(list(corpus))
        with ArticleStore(data_dir / "articles.db") as store:
            for read in reads:
                store.upsert_many(read.articles)
            count = store.count()
        ingest_s = time.perf_counter() - started
        result = build_snapshot(data_dir, publish=True)
        snapshot = LiveView.open(data_dir)
        try:
            ids = list(snapshot.catalog)
            titles = [snapshot.catalog[i]["title"] for i in ids]
            texts = title_queries(titles, queries, seed)
            for text in texts[:50]:  # warm the searcher and the OS cache
                snapshot.search(SearchRequest(text))
            search = timed(lambda q: snapshot.search(SearchRequest(q)), texts)
            bare = timed(lambda q: snapshot.search(SearchRequest(q, snippets=False)), texts)
            rng = random.Random(seed)
            sample_ids = [rng.choice(ids) for _ in range(queries)]
            related = timed(lambda i: snapshot.related(i, 5), sample_ids)
            drafts = [snapshot.article(i) for i in sample_ids[:100]]
            to_text = timed(lambda a: snapshot.related_to_text(a["title"], a["body"], 5), drafts)
        finally:
            snapshot.snapshot.close()
    return {
        "articles": count,
        "ingest_seconds": round(ingest_s, 3),
        "build_seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "snapshot_bytes": result.size_bytes,
        "queries": queries,
        "search_with_snippets": percentiles(search),
        "search_without_snippets": percentiles(bare),
        "related_by_id": percentiles(related),
        "related_to_text": percentiles(to_text),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = {
        "name": args.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.core_latency "
        + " ".join(
            [
                "--corpus",
                *map(str, args.corpus),
                "--name",
                args.name,
                "--queries",
                str(args.queries),
            ]
        ),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        **run(args.corpus, args.queries, args.seed),
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
