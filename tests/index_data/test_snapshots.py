from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from index_data.article import article_from_record
from index_data.build import build_snapshot
from index_data.errors import (
    BrokenSnapshot,
    BuildInProgress,
    InvalidSnapshotId,
    SnapshotError,
    SnapshotNotFound,
)
from index_data.live import LiveView
from index_data.snapshot import Snapshot
from index_data.snapshots import SnapshotDir, file_digest, verify
from index_data.store import ArticleStore
from search.index import SearchRequest
from tests.conftest import ARTICLES, ingest


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    ingest(tmp_path, ARTICLES)
    return tmp_path


def titles_for(data_dir: Path, text: str) -> list[str]:
    view = LiveView.open(data_dir)
    try:
        return [h.id for h in view.search(SearchRequest(text)).hits]
    finally:
        view.close()
        view.snapshot.close()


def test_build_publish_and_roll_back(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    first = build_snapshot(data_dir, publish=True)
    assert snaps.current_id() == first.snapshot_id
    manifest = json.loads((snaps.path(first.snapshot_id) / "manifest.json").read_text())
    assert manifest["article_count"] == 12
    assert set(manifest["versions"]) >= {"python", "whoosh-reloaded", "scikit-learn"}
    assert (
        "search/" in " ".join(manifest["files"]) and "related/neighbours.npy" in manifest["files"]
    )
    assert titles_for(data_dir, "quiz") == ["markup-title"]

    with ArticleStore(data_dir / "articles.db") as store:
        store.upsert_many(
            [
                article_from_record(
                    {"id": "new-quiz", "title": "Another quiz night", "body": "A quiz about films."}
                )
            ]
        )
    second = build_snapshot(data_dir)  # built, not yet published
    assert snaps.current_id() == first.snapshot_id
    snaps.publish(second.snapshot_id)
    assert sorted(titles_for(data_dir, "quiz")) == ["markup-title", "new-quiz"]

    snaps.publish(first.snapshot_id)  # rollback: the index goes back, the data does not
    view = LiveView.open(data_dir)
    try:
        assert view.id == first.snapshot_id and view.changed_count == 1
        raw = view.snapshot.search_index.search(SearchRequest("quiz"))
        assert [h.id for h in raw.hits] == ["markup-title"]
        assert sorted(h.id for h in view.search(SearchRequest("quiz")).hits) == [
            "markup-title",
            "new-quiz",
        ]
    finally:
        view.snapshot.close()
    listed = snaps.listing()
    assert [i.id for i in listed] == [second.snapshot_id, first.snapshot_id]
    assert [i.current for i in listed] == [False, True]


def test_interrupted_build_leaves_the_live_snapshot_serving(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    live = build_snapshot(data_dir, publish=True)

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "related lists":
            raise KeyboardInterrupt  # what Ctrl-C or a dying process does mid-build

    with pytest.raises(KeyboardInterrupt):
        build_snapshot(data_dir, publish=True, progress=interrupt)
    assert snaps.current_id() == live.snapshot_id
    assert [i.id for i in snaps.listing()] == [live.snapshot_id]
    assert not any(snaps.staging.iterdir())
    assert titles_for(data_dir, "quiz") == ["markup-title"]
    # And the lock is free: the next build succeeds.
    assert build_snapshot(data_dir).article_count == 12


def test_leftovers_of_a_killed_build_are_ignored_and_cleared(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    live = build_snapshot(data_dir, publish=True)
    # A build killed with -9 leaves a staging folder; one killed mid-rename could leave a
    # snapshot folder without its manifest. Neither is listed, published or kept.
    (snaps.staging / "20200101T000000000Z-aaaaaa" / "search").mkdir(parents=True)
    half = snaps.snapshots / "20200101T000000000Z-bbbbbb"
    shutil.copytree(snaps.path(live.snapshot_id), half)
    (half / "manifest.json").unlink()
    assert [i.id for i in snaps.listing()] == [live.snapshot_id]
    with pytest.raises(BrokenSnapshot, match="incomplete"):
        snaps.publish(half.name)
    build_snapshot(data_dir)
    assert not any(snaps.staging.iterdir())
    assert snaps.current_id() == live.snapshot_id


def test_damaged_snapshot_is_refused(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    good = build_snapshot(data_dir, publish=True)
    bad = build_snapshot(data_dir)
    target = snaps.path(bad.snapshot_id) / "related" / "scores.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BrokenSnapshot, match=r"related/scores\.npy does not match its checksum"):
        snaps.publish(bad.snapshot_id)
    truncated = snaps.path(bad.snapshot_id) / "catalog" / "title.utf8.npy"
    truncated.write_bytes(truncated.read_bytes()[:10])
    with pytest.raises(BrokenSnapshot, match=r"catalog/title\.utf8\.npy has 10 bytes"):
        Snapshot.open(snaps.path(bad.snapshot_id))
    assert snaps.current_id() == good.snapshot_id


def test_one_build_at_a_time(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    with snaps.build_lock("test holder"), pytest.raises(BuildInProgress, match="test holder"):
        build_snapshot(data_dir)
    assert build_snapshot(data_dir).article_count == 12


def test_ids_are_validated_before_touching_disk(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    for bad in ("../../etc", "", "20250101T000000000Z-abc/../x"):
        with pytest.raises(InvalidSnapshotId):
            snaps.publish(bad)
    with pytest.raises(SnapshotNotFound):
        snaps.publish("20200101T000000000Z-cccccc")
    with pytest.raises(SnapshotNotFound):
        snaps.current_path()


def test_empty_store_is_not_built(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="store is empty"):
        build_snapshot(tmp_path)
    assert not os.path.exists(tmp_path / "snapshots") or not any((tmp_path / "snapshots").iterdir())


def test_prune_keeps_current_and_newest(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    oldest = build_snapshot(data_dir, publish=True).snapshot_id
    middle = build_snapshot(data_dir).snapshot_id
    newest = build_snapshot(data_dir).snapshot_id
    assert snaps.prune(keep=1) == [middle]
    assert [i.id for i in snaps.listing()] == [newest, oldest]


def test_serving_never_writes_into_a_snapshot(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    built = build_snapshot(data_dir, publish=True)
    folder = snaps.path(built.snapshot_id)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    view = LiveView(Snapshot.open(folder))
    try:
        for text in ("spy", "tom cruise", "पठान"):
            view.search(SearchRequest(text))
        view.related("pathaan-2-announced", 5)
        view.related_to_text("Pathaan", "spy", 5)
    finally:
        view.snapshot.close()
    # No writer was asked for: no MAIN.tmp, no lock file, every checksum still matches.
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    verify(folder)


@pytest.mark.parametrize(
    "records",
    [
        [{"id": "only", "title": "A", "body": "I"}],  # no term survives: empty vocabulary
        [
            {"id": f"same-{n}", "title": "Weekly chart", "body": "The weekly chart is out."}
            for n in range(25)
        ],  # every term in every article: pruned by max_df
    ],
)
def test_degenerate_corpora_still_build(tmp_path: Path, records: list[dict[str, str]]) -> None:
    with ArticleStore(tmp_path / "articles.db") as store:
        store.upsert_many([article_from_record(r) for r in records])
    build_snapshot(tmp_path, publish=True)
    view = LiveView.open(tmp_path)
    try:
        assert view.article_count == len(records)
        first = records[0]["id"]
        related = view.related(first, 5)
        assert related is not None and all(e.id != first for e in related)
        assert view.article(first) is not None
    finally:
        view.snapshot.close()


def test_prune_spares_the_snapshot_published_before_current(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    older = build_snapshot(data_dir, publish=True).snapshot_id
    previous = build_snapshot(data_dir, publish=True).snapshot_id
    current = build_snapshot(data_dir, publish=True).snapshot_id
    assert snaps.prune(keep=1) == [older]
    assert {i.id for i in snaps.listing()} == {previous, current}


def test_a_manifest_from_another_version_is_refused(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    built = build_snapshot(data_dir).snapshot_id
    manifest_path = snaps.path(built) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["search_schema_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BrokenSnapshot, match="search_schema_version 999"):
        Snapshot.open(snaps.path(built))


@pytest.mark.parametrize("version", [4, 5, 6])
def test_a_snapshot_analyzed_by_an_older_tokenizer_is_refused(data_dir: Path, version: int) -> None:
    """Version 7 splits words at digits and Greek letters ("p53" is "p" and "53"), and
    queries are analyzed by the current code: a snapshot of version 6 or before holds "p53"
    whole, so serving it would miss such words quietly. Opening and publishing refuse it, and
    the published snapshot keeps serving."""
    snaps = SnapshotDir(data_dir)
    live = build_snapshot(data_dir, publish=True).snapshot_id
    older = build_snapshot(data_dir).snapshot_id
    manifest_path = snaps.path(older) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["search_schema_version"] == 7
    manifest["search_schema_version"] = version
    manifest_path.write_text(json.dumps(manifest))
    message = f"search_schema_version {version}, this version reads 7: build a new snapshot"
    with pytest.raises(BrokenSnapshot, match=message):
        Snapshot.open(snaps.path(older))
    with pytest.raises(BrokenSnapshot, match=message):
        snaps.publish(older)
    assert snaps.current_id() == live


def test_publish_opens_the_snapshot_first(data_dir: Path) -> None:
    snaps = SnapshotDir(data_dir)
    live = build_snapshot(data_dir, publish=True).snapshot_id
    for field, value, message in [
        ("search_schema_version", 1, "search_schema_version 1"),
        ("article_count", 99, "counts disagree"),
    ]:
        other = build_snapshot(data_dir).snapshot_id
        path = snaps.path(other) / "manifest.json"
        manifest = json.loads(path.read_text())
        manifest[field] = value  # checksums still match: only opening it finds this
        path.write_text(json.dumps(manifest))
        with pytest.raises(BrokenSnapshot, match=message):
            snaps.publish(other)
        assert snaps.current_id() == live


def test_a_job_that_never_started_stops_blocking(data_dir: Path) -> None:
    from index_data.jobs import JobStore

    jobs = JobStore(data_dir)
    stuck = jobs.create()
    assert jobs.live() is not None
    jobs._db.execute(  # as if the server died right after recording it, a minute ago
        "UPDATE jobs SET created_at = '2020-01-01T00:00:00.000+00:00' WHERE id = ?", (stuck.id,)
    )
    assert jobs.live() is None
    found = jobs.get(stuck.id)
    assert found is not None and found.state == "failed"
    jobs.close()


@pytest.mark.parametrize("text", ["null", "[]", '"text"'])
def test_a_manifest_that_is_not_an_object_is_refused(data_dir: Path, text: str) -> None:
    snaps = SnapshotDir(data_dir)
    built = build_snapshot(data_dir).snapshot_id
    (snaps.path(built) / "manifest.json").write_text(text)
    with pytest.raises(BrokenSnapshot, match="not a JSON object"):
        snaps.publish(built)
    assert built not in [i.id for i in snaps.listing()]


def test_a_related_format_3_snapshot_opens_and_reads_drafts_without_names(
    data_dir: Path,
) -> None:
    """Format 4 added the vectorizer's `name_words`; a snapshot built before it (format 3,
    no such setting saved) opens, and its drafts are analysed as they were built. Written
    by hand here, as such a build wrote it."""
    snaps = SnapshotDir(data_dir)
    built = build_snapshot(data_dir).snapshot_id
    folder = snaps.path(built)
    params_path = folder / "related" / "params.json"
    params = json.loads(params_path.read_text())
    assert params["format_version"] == 4 and params["vectorizer"]["name_words"] == 3
    params["format_version"] = 3
    del params["vectorizer"]["name_words"]
    params_path.write_text(json.dumps(params))
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["related_format_version"] == 4
    manifest["related_format_version"] = 3
    manifest["files"]["related/params.json"] = {
        "size": params_path.stat().st_size,
        "sha256": file_digest(params_path),
    }
    manifest_path.write_text(json.dumps(manifest))
    opened = Snapshot.open(folder)
    try:
        assert opened.related_model.config.vectorizer.name_words == 0
    finally:
        opened.close()
    manifest["related_format_version"] = 2
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BrokenSnapshot, match="related_format_version 2, this version reads 3 or 4"):
        Snapshot.open(folder)
