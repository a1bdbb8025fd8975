"""A real `gupshup serve --workers 2` process: every worker follows a publish, no request fails."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_data.article import article_from_record
from index_data.build import build_snapshot
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore
from tests.api.server import Server
from tests.conftest import ARTICLES, ingest


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    ingest(tmp_path, ARTICLES)
    build_snapshot(tmp_path, publish=True)
    running = Server(tmp_path).start()
    try:
        yield running.port, tmp_path
    finally:
        running.stop()


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_publish_reaches_every_worker_without_a_failed_request(server: tuple[int, Path]) -> None:
    port, data_dir = server
    old_id = json.loads(get(port, "/readyz")[2])["snapshot_id"]
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            statuses.append(get(port, "/api/search?q=spy")[0])

    worker = threading.Thread(target=load)
    worker.start()
    try:
        with ArticleStore(data_dir / "articles.db") as store:
            store.upsert_many(
                [
                    article_from_record(
                        {"id": "late-news", "title": "Late spy news", "body": "A late spy story."}
                    )
                ]
            )
        new_id = build_snapshot(data_dir).snapshot_id
        SnapshotDir(data_dir).publish(new_id)
        published = time.monotonic()
        pids_on_new: set[int] = set()
        pids_seen: set[int] = set()
        while time.monotonic() - published < 10 and (len(pids_on_new) < 2):
            body = json.loads(get(port, "/readyz")[2])
            pids_seen.add(body["worker_pid"])
            if body["snapshot_id"] == new_id:
                pids_on_new.add(body["worker_pid"])
        took = time.monotonic() - published
        time.sleep(0.3)  # a little more traffic on the new snapshot
    finally:
        stop.set()
        worker.join()
    assert new_id != old_id
    assert len(pids_on_new) == 2, f"workers seen {pids_seen}, on the new snapshot {pids_on_new}"
    assert took <= 2.0, f"every worker served the new snapshot after {took:.2f} s"
    assert statuses and set(statuses) == {200}, f"{len(statuses)} requests: {set(statuses)}"
    status, headers, body = get(port, "/api/search?q=late")
    assert status == 200 and headers["x-snapshot-id"] == new_id
    assert json.loads(body)["hits"][0]["id"] == "late-news"
    metrics = get(port, "/metrics")[2].decode()
    assert 'route="/api/search"' in metrics  # aggregated across the worker processes
