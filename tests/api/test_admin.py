"""The admin API through TestClient, on a real data dir (store, snapshots, rebuild process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from index_data.build import build_snapshot
from index_data.jobs import JobStore
from index_data.snapshots import SnapshotDir
from tests.conftest import ARTICLES, ingest

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW = {
    "title": "Pathaan 2 wraps its Spain schedule with a train chase",
    "body": "Shah Rukh Khan finished the Spain schedule of Pathaan 2 with a chase on a train.",
    "category": "bollywood",
    "tags": ["pathaan 2"],
}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    ingest(tmp_path, ARTICLES)
    build_snapshot(tmp_path, publish=True)
    return tmp_path


@pytest.fixture()
def client(data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=data_dir,
        admin_token=TOKEN,
        recency_weight=0,
        max_batch_articles=3,
        max_body_bytes=20_000,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def search_ids(client: TestClient, q: str) -> list[str]:
    return [h["id"] for h in client.get("/api/search", params={"q": q}).json()["hits"]]


def test_admin_is_off_without_a_token(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as plain:
        response = plain.put("/api/admin/articles/x", json=NEW, headers=AUTH)
        assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
def test_auth_failures(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [
        ("put", "/api/admin/articles/x"),
        ("delete", "/api/admin/articles/x"),
        ("post", "/api/admin/reindex"),
        ("get", "/api/admin/snapshots"),
    ]:
        response = client.request(method.upper(), path, headers=headers, json=NEW)
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"


def test_the_token_never_reaches_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        client.put("/api/admin/articles/logged", json=NEW, headers=AUTH)
        client.get("/api/admin/snapshots", headers={"Authorization": f"Bearer {TOKEN}-wrong"})
    assert any(r.name == "gupshup.access" for r in caplog.records)  # lines were written
    assert TOKEN not in caplog.text


def test_upsert_is_served_at_once(client: TestClient) -> None:
    before = client.get("/api/search", params={"q": "spain schedule"})
    response = client.put("/api/admin/articles/pathaan-2-spain-wrap", json=NEW, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["inserted"] == 1
    assert search_ids(client, "spain schedule")[0] == "pathaan-2-spain-wrap"
    article = client.get("/api/articles/pathaan-2-spain-wrap").json()
    assert article["title"] == NEW["title"] and article["tags"] == ["pathaan 2"]
    related = client.get("/api/articles/pathaan-2-announced/related").json()
    assert "pathaan-2-spain-wrap" in [i["id"] for i in related["items"]]
    own = client.get("/api/articles/pathaan-2-spain-wrap/related").json()["items"]
    assert own and own[0]["id"].startswith("pathaan-2")
    # Same snapshot, new store revision: a cached answer is no longer current.
    again = client.get(
        "/api/search",
        params={"q": "spain schedule"},
        headers={"If-None-Match": before.headers["ETag"]},
    )
    assert again.status_code == 200
    ready = client.get("/readyz").json()
    assert ready["pending_changes"] == 1 and ready["article_count"] == 13
    # Same content again changes nothing.
    same = client.put("/api/admin/articles/pathaan-2-spain-wrap", json=NEW, headers=AUTH)
    assert same.json()["unchanged"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "id": "other-id"}, "id"),
        ({**NEW, "title": ""}, "title"),
        ({**NEW, "published_at": "last tuesday"}, "published_at"),
        ([NEW], "body"),
    ],
)
def test_bad_upserts_are_refused(client: TestClient, body: object, field: str) -> None:
    response = client.put("/api/admin/articles/some-id", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert client.get("/api/articles/some-id").status_code == 404


def test_invalid_json_body(client: TestClient) -> None:
    response = client.put("/api/admin/articles/x", content=b"{not json", headers=AUTH)
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]["message"]


def test_batches_are_all_or_nothing(client: TestClient) -> None:
    good = {**NEW, "id": "batch-good"}
    bad = {**NEW, "id": "batch-bad", "body": None}
    response = client.post("/api/admin/articles", json=[good, bad], headers=AUTH)
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert problems == [{"item": 1, "field": "body", "message": "missing required field 'body'"}]
    assert client.get("/api/articles/batch-good").status_code == 404  # nothing stored
    dup = client.post("/api/admin/articles", json=[good, good], headers=AUTH)
    assert dup.status_code == 422 and "duplicate id" in dup.json()["error"]["message"]
    lines = "\n".join(json.dumps({**NEW, "id": f"line-{n}"}) for n in range(2))
    ok = client.post("/api/admin/articles", content=lines.encode(), headers=AUTH)
    assert ok.status_code == 200 and ok.json()["inserted"] == 2
    assert client.get("/api/articles/line-1").status_code == 200


def test_limits_give_413(client: TestClient) -> None:
    four = [{**NEW, "id": f"n{n}"} for n in range(4)]
    response = client.post("/api/admin/articles", json=four, headers=AUTH)
    assert response.status_code == 413 and "at most 3 articles" in response.text
    huge = {**NEW, "body": "word " * 5_000}
    assert client.put("/api/admin/articles/huge", json=huge, headers=AUTH).status_code == 413


def test_delete(client: TestClient) -> None:
    assert "pathaan-2-trailer" in search_ids(client, "trailer")
    response = client.delete("/api/admin/articles/pathaan-2-trailer", headers=AUTH)
    assert response.status_code == 200 and response.json()["deleted"] == 1
    assert search_ids(client, "trailer") == []
    assert client.get("/api/articles/pathaan-2-trailer").status_code == 404
    assert client.get("/api/articles/pathaan-2-trailer/related").status_code == 404
    for article in ("pathaan-2-announced", "pathaan-2-box-office"):
        items = client.get(f"/api/articles/{article}/related?limit=20").json()["items"]
        assert "pathaan-2-trailer" not in [i["id"] for i in items]
    again = client.delete("/api/admin/articles/pathaan-2-trailer", headers=AUTH)
    assert again.status_code == 404
    assert client.delete("/api/admin/articles/..%2F..%2Fetc", headers=AUTH).status_code == 404


def wait_for_job(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/admin/jobs/{job_id}", headers=AUTH).json()
        if job["state"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_reindex_in_a_separate_process(client: TestClient, data_dir: Path) -> None:
    client.put("/api/admin/articles/pathaan-2-spain-wrap", json=NEW, headers=AUTH)
    old = client.get("/readyz").json()["snapshot_id"]
    response = client.post("/api/admin/reindex", headers=AUTH)
    assert response.status_code == 202
    job = wait_for_job(client, response.json()["job_id"])
    assert job["state"] == "succeeded", job
    progress = job["progress"]
    assert isinstance(progress, dict)
    assert (progress["stage"], progress["done"], progress["total"]) == ("related lists", 13, 13)
    assert "per_second" in progress
    assert SnapshotDir(data_dir).current_id() == job["snapshot_id"] != old
    deadline = time.monotonic() + 5
    while client.get("/readyz").json()["snapshot_id"] != job["snapshot_id"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    ready = client.get("/readyz").json()
    assert ready["pending_changes"] == 0 and ready["article_count"] == 13
    assert search_ids(client, "spain schedule")[0] == "pathaan-2-spain-wrap"
    assert client.get("/api/admin/jobs/no-such-job", headers=AUTH).status_code == 404


def test_second_rebuild_is_refused_with_the_running_one_named(
    client: TestClient, data_dir: Path
) -> None:
    with SnapshotDir(data_dir).build_lock("build by hand"):
        response = client.post("/api/admin/reindex", headers=AUTH)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "build_in_progress"
        assert "build by hand" in response.json()["error"]["message"]
    jobs = JobStore(data_dir)
    live = jobs.create()
    jobs.started(live.id, os.getpid())  # a live process holds the job
    response = client.post("/api/admin/reindex", headers=AUTH)
    assert response.status_code == 409 and live.id in response.json()["error"]["message"]
    jobs.fail(live.id, "test over")
    jobs.close()


def test_a_dead_build_is_reported_failed_and_blocks_nothing(
    client: TestClient, data_dir: Path
) -> None:
    jobs = JobStore(data_dir)
    job = jobs.create()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    jobs.started(job.id, dead.pid)
    jobs.close()
    state = client.get(f"/api/admin/jobs/{job.id}", headers=AUTH).json()
    assert state["state"] == "failed" and "exited before finishing" in state["error"]
    response = client.post("/api/admin/reindex", headers=AUTH)
    assert response.status_code == 202
    assert wait_for_job(client, response.json()["job_id"])["state"] == "succeeded"


def test_snapshots_and_rollback(client: TestClient, data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    first = snaps.current_id()
    second = build_snapshot(data_dir).snapshot_id
    listed = client.get("/api/admin/snapshots", headers=AUTH).json()
    assert [s["id"] for s in listed] == [second, first]
    assert [s["current"] for s in listed] == [False, True]
    published = client.post(f"/api/admin/snapshots/{second}/publish", headers=AUTH)
    assert published.status_code == 200
    assert client.get("/readyz").json()["snapshot_id"] == second
    rollback = client.post(f"/api/admin/snapshots/{first}/publish", headers=AUTH)
    assert rollback.status_code == 200 and client.get("/readyz").json()["snapshot_id"] == first
    bad_id = client.post("/api/admin/snapshots/..%2F..%2Fetc/publish", headers=AUTH)
    assert bad_id.status_code == 404  # never reaches a route that touches the disk
    assert client.post("/api/admin/snapshots/not-an-id/publish", headers=AUTH).status_code == 422
    missing = client.post("/api/admin/snapshots/20200101T000000000Z-abcdef/publish", headers=AUTH)
    assert missing.status_code == 404
    damaged = snaps.path(second) / "related" / "neighbours.npy"
    damaged.write_bytes(damaged.read_bytes()[:-4] + b"\x00\x00\x00\x01")
    refused = client.post(f"/api/admin/snapshots/{second}/publish", headers=AUTH)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "snapshot_broken"
    assert "neighbours.npy does not match its checksum" in refused.json()["error"]["message"]
    assert client.get("/readyz").json()["snapshot_id"] == first


def test_job_rate_is_items_per_second_of_the_stage() -> None:
    from index_data.jobs import Job

    job = Job(
        id="j",
        kind="rebuild",
        state="running",
        stage="search index",
        done=250,
        total=1000,
        error=None,
        snapshot_id=None,
        pid=1,
        created_at="2025-01-01T00:00:00.000+00:00",
        updated_at="2025-01-01T00:00:12.500+00:00",
        stage_started_at="2025-01-01T00:00:02.500+00:00",
    )
    assert job.rate() == 25.0
    assert job.to_json()["progress"] == {
        "stage": "search index",
        "done": 250,
        "total": 1000,
        "per_second": 25.0,
    }


def test_aliases_are_listed_replaced_and_served_at_once(client: TestClient, data_dir: Path) -> None:
    listed = client.get("/api/admin/aliases", headers=AUTH).json()
    assert listed["source"].startswith("starter list")
    assert ["Tom Cruise", "टॉम क्रूज़"] in listed["groups"]
    before = client.get("/api/search", params={"q": "zorblax"})
    assert before.json()["total"] == 0
    groups = [["Zorblax", "Tom Cruise"]]
    saved = client.put("/api/admin/aliases", json={"groups": groups}, headers=AUTH)
    assert saved.status_code == 200 and saved.json()["groups"] == groups
    assert (data_dir / "aliases.txt").read_text(encoding="utf-8").endswith("Zorblax = Tom Cruise\n")
    # Served at once, and a cached copy of the old answer is no longer current.
    after = client.get(
        "/api/search",
        params={"q": "zorblax"},
        headers={"If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200 and after.json()["total"] >= 1
    assert all("cruise" in h["id"] for h in after.json()["hits"])


def test_a_bad_alias_list_is_refused_and_the_old_one_kept(
    client: TestClient, data_dir: Path
) -> None:
    for groups, where in (([["SRK"]], "group 1"), ([["a", "b"], ["x", ""]], "group 2")):
        response = client.put("/api/admin/aliases", json={"groups": groups}, headers=AUTH)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["field"] == "groups" and error["message"].startswith(where)
    assert not (data_dir / "aliases.txt").exists()
    assert client.put("/api/admin/aliases", json={"groups": []}).status_code == 401
