"""Admin work against a real `gupshup serve --workers 2`: updates reach every worker, a
rebuild under load fails no request and loses no write, an acknowledged write survives kill -9."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_data.build import build_snapshot
from index_data.snapshots import SnapshotDir, read_manifest
from tests.api.server import Server
from tests.conftest import ARTICLES, fixture_records, ingest

TOKEN = "server-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STORY = {
    "title": "Monsoon premiere moves to a drive-in cinema",
    "body": "The monsoon musical will premiere at a drive-in cinema near the sea.",
    "category": "bollywood",
}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    ingest(tmp_path, ARTICLES)
    build_snapshot(tmp_path, publish=True)
    running = Server(tmp_path, env={"GUPSHUP_ADMIN_TOKEN": TOKEN}).start()
    try:
        yield running
    finally:
        running.stop()


def found(server: Server, q: str) -> list[str]:
    _, body = server.json("GET", f"/api/search?q={q}")
    return [h["id"] for h in body["hits"]]  # type: ignore[index]


def test_updates_reach_every_worker_within_two_seconds(server: Server) -> None:
    assert server.request("PUT", "/api/admin/articles/x", STORY)[0] == 401
    status, body = server.json("PUT", "/api/admin/articles/drive-in-premiere", STORY, AUTH)
    assert status == 200
    rev = body["store_rev"]  # type: ignore[index]
    took, workers = server.workers_at(lambda r: r["store_rev"] >= rev, timeout=5)
    assert len(workers) == 2 and took <= 2.0, f"{len(workers)} workers after {took:.2f} s"
    for _ in range(10):  # any worker now answers with it
        assert found(server, "drive-in")[0] == "drive-in-premiere"
        _, related = server.json("GET", "/api/articles/drive-in-premiere/related")
        assert related["items"]  # type: ignore[index]

    status, body = server.json("DELETE", "/api/admin/articles/drive-in-premiere", None, AUTH)
    assert status == 200
    rev = body["store_rev"]  # type: ignore[index]
    took, workers = server.workers_at(lambda r: r["store_rev"] >= rev, timeout=5)
    assert len(workers) == 2 and took <= 2.0
    for _ in range(10):
        assert found(server, "drive-in") == []
        assert server.request("GET", "/api/articles/drive-in-premiere")[0] == 404


def test_rebuild_under_load_fails_nothing_and_loses_no_write(tmp_path: Path) -> None:
    # Enough articles that the rebuild takes a few seconds: copies of the fixture stories.
    records = [{**r, "id": f"{r['id']}-{n}"} for n in range(120) for r in fixture_records()]
    corpus = tmp_path / "many.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    ingest(tmp_path, corpus)
    build_snapshot(tmp_path, publish=True)
    server = Server(tmp_path, env={"GUPSHUP_ADMIN_TOKEN": TOKEN}).start()
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        paths = [
            "/api/search?q=spy+trailer",
            "/api/articles/pathaan-2-trailer-3/related",
            "/api/suggest?q=path",
        ]
        while not stop.is_set():
            for path in paths:
                statuses.append(server.request("GET", path)[0])

    readers = [threading.Thread(target=load) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        status, accepted = server.json("POST", "/api/admin/reindex", None, AUTH)
        assert status == 202
        job_id = accepted["job_id"]  # type: ignore[index]
        assert server.json("POST", "/api/admin/reindex", None, AUTH)[0] == 409
        while (
            server.json("GET", f"/api/admin/jobs/{job_id}", None, AUTH)[1]["progress"][  # type: ignore[index]
                "stage"
            ]
            is None
        ):
            time.sleep(0.05)
        # Written while the build runs, after it read the store: must survive the swap.
        status, body = server.json("PUT", "/api/admin/articles/written-during-rebuild", STORY, AUTH)
        assert status == 200
        write_rev = body["store_rev"]  # type: ignore[index]
        deadline = time.monotonic() + 120
        while True:
            _, job = server.json("GET", f"/api/admin/jobs/{job_id}", None, AUTH)
            if job["state"] in ("succeeded", "failed"):  # type: ignore[index]
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["state"] == "succeeded", job  # type: ignore[index]
        new_id = job["snapshot_id"]  # type: ignore[index]
        took, workers = server.workers_at(lambda r: r["snapshot_id"] == new_id, timeout=5)
        assert len(workers) == 2 and took <= 2.0
        time.sleep(0.5)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        server.stop()
    manifest = read_manifest(SnapshotDir(tmp_path).path(new_id))
    assert manifest["store_rev"] < write_rev, "the write was not made during the build"
    assert len(statuses) > 50 and set(statuses) == {200}, (len(statuses), set(statuses))
    server = Server(tmp_path).start()
    try:
        assert found(server, "drive-in") == ["written-during-rebuild"]
    finally:
        server.stop()


def test_acknowledged_write_survives_kill_9(server: Server) -> None:
    status, _ = server.json("PUT", "/api/admin/articles/drive-in-premiere", STORY, AUTH)
    assert status == 200
    server.kill9()  # every process, right after the answer
    restarted = Server(server.data_dir).start()
    try:
        assert found(restarted, "drive-in") == ["drive-in-premiere"]
        assert restarted.request("GET", "/api/articles/drive-in-premiere")[0] == 200
    finally:
        restarted.stop()


def test_rollback_and_a_damaged_snapshot_on_a_real_server(server: Server) -> None:
    snaps = SnapshotDir(server.data_dir)
    first = snaps.current_id()
    second = build_snapshot(server.data_dir).snapshot_id
    status, _ = server.json("POST", f"/api/admin/snapshots/{second}/publish", None, AUTH)
    assert status == 200
    took, workers = server.workers_at(lambda r: r["snapshot_id"] == second, timeout=5)
    assert len(workers) == 2 and took <= 2.0
    status, _ = server.json("POST", f"/api/admin/snapshots/{first}/publish", None, AUTH)
    assert status == 200  # rollback
    took, workers = server.workers_at(lambda r: r["snapshot_id"] == first, timeout=5)
    assert len(workers) == 2 and took <= 2.0
    index_file = next((snaps.path(second) / "search").glob("*.seg"))
    index_file.write_bytes(index_file.read_bytes()[:-16])  # truncated on disk
    status, body = server.json("POST", f"/api/admin/snapshots/{second}/publish", None, AUTH)
    assert status == 409 and "damaged" in body["error"]["message"]  # type: ignore[index]
    assert server.json("POST", f"/api/admin/snapshots/{second}/publish")[0] == 401
    _, ready = server.json("GET", "/readyz")
    assert ready["snapshot_id"] == first  # type: ignore[index]
