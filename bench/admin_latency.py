"""Admin figures on one corpus: upsert-to-visible time on every worker, and a full rebuild
under query load (its duration and the error count of the queries during it).

    python -m bench.admin_latency --corpus ../shared/data/bbc-news/articles.jsonl \
        --name bbc-news --out bench/results/admin-bbc-news.json

Uses a real `gupshup serve --workers 2` (the test suite's server runner). An upsert counts as
visible when both workers report a store revision that includes it (`/readyz`), which is when
their search and related answers include it; the bench also checks a search finds it.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from bench.report import emit
from index_data.build import build_snapshot
from index_data.readers import read_paths
from index_data.store import ArticleStore
from tests.api.server import Server

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def upsert_latency(server: Server, records: list[dict[str, object]], count: int) -> list[float]:
    rng = random.Random(7)
    seconds = []
    for n in range(count):
        source = rng.choice(records)
        marker = f"benchmarker{n}"
        article = {
            "title": f"{source['title']} {marker}",
            "body": source["body"],
            "category": source.get("category"),
        }
        started = time.monotonic()
        status, body = server.json("PUT", f"/api/admin/articles/bench-{n}", article, AUTH)
        assert status == 200, body
        rev = body["store_rev"]  # type: ignore[index]
        server.workers_at(lambda r, rev=rev: r["store_rev"] >= rev, timeout=30)
        seconds.append(time.monotonic() - started)
        _, found = server.json("GET", f"/api/search?q={marker}")
        ids = [h["id"] for h in found["hits"]]  # type: ignore[index]
        assert ids == [f"bench-{n}"], (marker, found)
        status, _ = server.json("GET", f"/api/articles/bench-{n}/related")
        assert status == 200
    return seconds


def rebuild_under_load(server: Server, records: list[dict[str, object]]) -> dict[str, object]:
    statuses: list[int] = []
    stop = threading.Event()
    rng = random.Random(3)
    paths = [f"/api/search?q={quote(str(r['title']).split()[0])}" for r in rng.sample(records, 50)]
    paths += [
        f"/api/articles/{quote(str(r['id']), safe='')}/related" for r in rng.sample(records, 50)
    ]

    def load() -> None:
        while not stop.is_set():
            statuses.append(server.request("GET", rng.choice(paths))[0])

    readers = [threading.Thread(target=load) for _ in range(4)]
    for reader in readers:
        reader.start()
    started = time.monotonic()
    _, accepted = server.json("POST", "/api/admin/reindex", None, AUTH)
    job_id = accepted["job_id"]  # type: ignore[index]
    while True:
        _, job = server.json("GET", f"/api/admin/jobs/{job_id}", None, AUTH)
        if job["state"] in ("succeeded", "failed"):  # type: ignore[index]
            break
        time.sleep(0.2)
    built = time.monotonic() - started
    swap, _ = server.workers_at(lambda r: r["snapshot_id"] == job["snapshot_id"], timeout=10)  # type: ignore[index]
    time.sleep(1)
    stop.set()
    for reader in readers:
        reader.join()
    return {
        "job_state": job["state"],  # type: ignore[index]
        "rebuild_seconds": round(built, 2),
        "swap_seconds_after_publish": round(swap, 2),
        "queries_during_rebuild": len(statuses),
        "non_2xx": sum(1 for s in statuses if not 200 <= s < 300),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--upserts", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    records = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        with ArticleStore(data_dir / "articles.db") as store:
            for read in read_paths([args.corpus]):
                store.upsert_many(read.articles)
        build_snapshot(data_dir, publish=True)
        server = Server(
            data_dir, env={"GUPSHUP_ADMIN_TOKEN": TOKEN, "GUPSHUP_ACCESS_LOG": "false"}
        ).start()
        try:
            upserts = upsert_latency(server, records, args.upserts)
            rebuild = rebuild_under_load(server, records)
        finally:
            server.stop()
    report = {
        "name": args.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.admin_latency --corpus {args.corpus} --name {args.name} "
        f"--upserts {args.upserts}",
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "articles": len(records),
        "upsert_to_visible_on_both_workers_seconds": {
            "median": round(statistics.median(upserts), 3),
            "max": round(max(upserts), 3),
            "count": len(upserts),
        },
        "rebuild_under_load": rebuild,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
