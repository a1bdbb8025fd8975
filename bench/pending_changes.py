"""What pending changes (made since the last build) cost a worker: building its live view,
and search latency over the snapshot plus the in-memory index of changed articles.

    python -m bench.pending_changes --corpus ../shared/data/bbc-news/articles.jsonl \
        --pending 0 200 1000 --out bench/results/pending-bbc-news.json

Edits the first N articles (their body gains a word) after the build, as an admin would.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import emit
from index_data.article import article_from_record
from index_data.build import build_snapshot
from index_data.live import LiveView
from index_data.store import ArticleStore
from search.index import SearchRequest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--pending", type=int, nargs="+", default=[0, 200, 1000])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    queries = [r["title"] for r in records[-100:]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        with ArticleStore(data_dir / "articles.db") as store:
            store.upsert_many(article_from_record(r) for r in records)
        build_snapshot(data_dir, publish=True)
        for pending in sorted(args.pending):
            with ArticleStore(data_dir / "articles.db") as store:
                store.upsert_many(
                    article_from_record({**r, "body": f"{r['body']} (Updated.)"})
                    for r in records[:pending]
                )
            started = time.perf_counter()
            view = LiveView.open(data_dir)
            built = time.perf_counter() - started
            try:
                for text in queries[:10]:
                    view.search(SearchRequest(text))
                started = time.perf_counter()
                for text in queries:
                    view.search(SearchRequest(text))
                search_ms = (time.perf_counter() - started) / len(queries) * 1000
            finally:
                view.close()
                view.snapshot.close()
            rows.append(
                {
                    "pending": pending,
                    "view_build_seconds": round(built, 2),
                    "search_mean_ms": round(search_ms, 1),
                }
            )
    emit(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": f"python -m bench.pending_changes --corpus {args.corpus} --pending "
            + " ".join(map(str, args.pending)),
            "machine": f"{platform.machine()}, Python {platform.python_version()}",
            "articles": len(records),
            "rows": rows,
        },
        args.out,
    )


if __name__ == "__main__":
    main()
