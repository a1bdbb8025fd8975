"""The gupshup CLI, in-process through click's runner, on real files and a real data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import cli
from api.settings import Settings
from tests.conftest import ARTICLES, PAGES


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def published(tmp_path: Path) -> Path:
    assert run(tmp_path, "ingest", str(ARTICLES), str(PAGES))[0] == 0
    code, out, _ = run(tmp_path, "build", "--publish")
    assert code == 0 and "built and published: 14 articles" in out
    return tmp_path


def test_bad_file_is_rejected_whole_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(ARTICLES.read_text().splitlines()[0] + "\n" + '{"id": "x", "title": "T"}\n')
    code, _, err = run(tmp_path / "data", "ingest", str(bad))
    assert code == 1
    assert f"error: {bad}:2: missing required field 'body'" in err
    assert f"rejected {bad}: nothing stored from it" in err
    assert "Traceback" not in err
    code, out, _ = run(tmp_path / "data", "stats", "--json")
    assert json.loads(out)["store"]["articles"] == 0

    code, out, err = run(tmp_path / "data", "ingest", "--skip-invalid", str(bad))
    assert code == 0 and "1 new" in out and ":2: missing required field 'body'" in err


def test_reingest_changes_nothing(published: Path) -> None:
    code, out, _ = run(published, "ingest", str(ARTICLES))
    assert code == 0 and out.startswith("0 new, 0 updated, 12 unchanged")


def test_json_output_is_what_the_api_returns(published: Path) -> None:
    _, cli_search, _ = run(published, "search", "pathaan", "--category", "bollywood", "--json")
    _, cli_related, _ = run(published, "related", "pathaan-2-announced", "--limit", "3", "--json")
    with TestClient(create_app(Settings(data_dir=published))) as client:
        http_search = client.get("/api/search", params={"q": "pathaan", "category": "bollywood"})
        http_related = client.get("/api/articles/pathaan-2-announced/related?limit=3")
    from_cli, from_http = json.loads(cli_search), http_search.json()
    from_cli.pop("took_ms"), from_http.pop("took_ms")
    assert from_cli == from_http
    assert json.loads(cli_related) == http_related.json()


def test_snapshots_publish_and_stats(published: Path) -> None:
    _, listing, _ = run(published, "snapshots", "--json")
    first = json.loads(listing)[0]["id"]
    code, out, _ = run(published, "build")
    second = out.split()[1]
    code, out, _ = run(published, "publish", second)
    assert code == 0 and out.startswith(f"published {second}")
    code, out, _ = run(published, "publish", first)  # roll back
    _, listing, _ = run(published, "snapshots")
    assert f"* {first}" in listing and "(current)" in listing
    _, stats, _ = run(published, "stats", "--json")
    report = json.loads(stats)
    assert report["current"]["id"] == first and report["snapshots"] == 2
    assert report["store"]["articles"] == 14


def test_errors_are_one_line(published: Path, tmp_path: Path) -> None:
    code, _, err = run(published, "publish", "../../etc")
    assert code == 1 and err.startswith("Error: invalid snapshot id")
    code, _, err = run(published, "related", "no-such-story")
    assert code == 1 and "no article with id 'no-such-story'" in err
    code, _, err = run(published, "search", "   ")
    assert code == 1 and "q must not be empty" in err
    code, _, err = run(tmp_path / "empty", "search", "spy")
    assert code == 1 and "no snapshot is published yet" in err
    code, _, err = run(tmp_path / "empty", "ingest", str(tmp_path / "missing.jsonl"))
    assert code == 1 and "no such file or folder" in err


def test_a_bad_setting_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUPSHUP_MAX_PER_PAGE", "abc")
    code, _, err = run(tmp_path, "stats")
    assert code == 1 and err.startswith("Error: bad setting: GUPSHUP_MAX_PER_PAGE:")
    assert "Traceback" not in err


def test_delete_and_build_refused_while_a_rebuild_runs(published: Path) -> None:
    import os

    from index_data.jobs import JobStore

    code, out, _ = run(published, "delete", "pathaan-2-trailer")
    assert code == 0 and out.startswith("deleted pathaan-2-trailer")
    _, found, _ = run(published, "search", "trailer", "--json")
    assert json.loads(found)["hits"] == []
    code, _, err = run(published, "delete", "pathaan-2-trailer")
    assert code == 1 and "no article with id 'pathaan-2-trailer'" in err
    jobs = JobStore(published)
    job = jobs.create()
    jobs.started(job.id, os.getpid())
    code, _, err = run(published, "build")
    assert code == 1 and f"a rebuild is already running (job {job.id})" in err
    jobs.fail(job.id, "test over")
    jobs.close()


def test_aliases_show_add_and_set(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "aliases")
    assert code == 0 and out.startswith("# 27 groups from starter list")
    assert "Pathaan = पठान\n" in out
    code, out, _ = run(tmp_path, "aliases", "add", "Kapur = Kapoor")
    assert code == 0 and out.startswith("28 alias groups saved to")
    code, out, _ = run(tmp_path, "aliases", "--json")
    assert json.loads(out)["groups"][-1] == ["Kapur", "Kapoor"]
    bad = tmp_path / "bad.txt"
    bad.write_text("SRK = Shah Rukh Khan\nonly one\n", encoding="utf-8")
    code, _, err = run(tmp_path, "aliases", "set", str(bad))
    assert code == 1 and f"{bad}:2: a group needs at least two variants" in err
    good = tmp_path / "good.txt"
    good.write_text("# ours\nSRK = Shah Rukh Khan\n", encoding="utf-8")
    code, out, _ = run(tmp_path, "aliases", "set", str(good))
    assert code == 0 and out.startswith("1 alias groups saved")
    assert run(tmp_path, "aliases")[1].endswith("SRK = Shah Rukh Khan\n")
