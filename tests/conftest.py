"""Shared fixtures: the hand-written fixture corpus, and one built snapshot per session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_data.build import BuildConfig, build_snapshot
from index_data.live import LiveView
from index_data.readers import read_paths
from index_data.store import ArticleStore

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles.jsonl"
PAGES = FIXTURES / "pages"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def fixture_records() -> list[dict[str, object]]:
    return [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()]


def ingest(data_dir: Path, *paths: Path) -> None:
    with ArticleStore(data_dir / "articles.db") as store:
        for read in read_paths(list(paths)):
            assert read.ok, read.problems
            store.upsert_many(read.articles)


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the fixture corpus (JSONL + pages) ingested, built and published."""
    data_dir = tmp_path_factory.mktemp("built")
    ingest(data_dir, ARTICLES, PAGES)
    build_snapshot(data_dir, BuildConfig(), publish=True)
    return data_dir


@pytest.fixture(scope="session")
def snapshot(built_dir: Path) -> Iterator[LiveView]:
    """The published fixture snapshot as readers are served it (no pending changes)."""
    view = LiveView.open(built_dir)
    yield view
    view.close()
    view.snapshot.close()
