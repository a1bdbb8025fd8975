"""Large builds' way (two index processes, several segments, the related half built beside
them) answers exactly as the one-process build the suite's snapshot has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index_data.build import (
    PARALLEL_INDEX_FROM,
    BuildConfig,
    build_snapshot,
    index_memory_for,
    index_procs_for,
    search_doc,
)
from index_data.live import LiveView
from index_data.readers import read_paths
from search.build import build_index
from search.index import Hit, SearchIndex, SearchRequest
from search.query import Filters
from tests.conftest import ARTICLES, PAGES, ingest

QUERIES = ["tom cruise train", "spy", '"tom cruise"', "box office -pathaan", "shah rukh", "ख़ान"]


def _index_of(folder: Path, procs: int) -> SearchIndex:
    articles = [a for read in read_paths([ARTICLES, PAGES]) for a in read.articles]
    build_index(folder, [search_doc(a) for a in articles], procs=procs)
    return SearchIndex.open(folder)


@pytest.fixture(scope="module")
def two_process_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    index = _index_of(tmp_path_factory.mktemp("parallel") / "search", 2)
    yield index
    index.close()


@pytest.fixture(scope="module")
def one_process_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The same articles in the same order, one process (the suite's snapshot numbers them
    in the store's order, so its ties may fall otherwise)."""
    index = _index_of(tmp_path_factory.mktemp("serial") / "search", 1)
    yield index
    index.close()


def ranked(hits: tuple[Hit, ...]) -> list[tuple[float, str, str]]:
    return sorted((-round(h.score or 0.0, 4), h.id, h.snippet) for h in hits)


def test_automatic_index_memory() -> None:
    """An eighth of the machine for each index process's postings, between 64 and 2,048 MB,
    unless the setting says otherwise."""
    assert index_memory_for(BuildConfig(), machine_mb=24_000) == 2048
    assert index_memory_for(BuildConfig(), machine_mb=8_192) == 1024
    assert index_memory_for(BuildConfig(), machine_mb=256) == 64
    assert index_memory_for(BuildConfig(index_memory_mb=300), machine_mb=8_192) == 300
    assert 64 <= index_memory_for(BuildConfig()) <= 2048


def test_automatic_process_count() -> None:
    assert index_procs_for(BuildConfig(), PARALLEL_INDEX_FROM - 1) == 1
    assert index_procs_for(BuildConfig(), PARALLEL_INDEX_FROM) >= 1
    assert index_procs_for(BuildConfig(index_procs=3), 10) == 3


def test_several_segments(two_process_index: SearchIndex) -> None:
    with two_process_index.searching() as searcher:
        assert len(searcher.reader().leaf_readers()) >= 2


@pytest.mark.parametrize("text", QUERIES)
def test_same_answers_as_one_process(
    one_process_index: SearchIndex, two_process_index: SearchIndex, text: str
) -> None:
    one_process = one_process_index
    for request in (
        SearchRequest(text),
        SearchRequest(text, sort="newest"),
        SearchRequest(text, filters=Filters(category="hollywood")),
    ):
        one, two = one_process.search(request), two_process_index.search(request)
        assert (one.total, one.facets, one.corrected_query) == (
            two.total,
            two.facets,
            two.corrected_query,
        )
        # Documents keep their order across segments, so ties fall the same way too.
        assert [h.score for h in one.hits] == pytest.approx([h.score for h in two.hits])
        assert [(h.id, h.snippet) for h in one.hits] == [(h.id, h.snippet) for h in two.hits]
    assert one_process.suggest(text, 5) == two_process_index.suggest(text, 5)


def test_two_process_build_serves_the_same_snapshot(snapshot: LiveView, tmp_path: Path) -> None:
    """With index_procs 2 the related half is built in a process of its own meanwhile."""
    ingest(tmp_path, ARTICLES, PAGES)
    result = build_snapshot(tmp_path, BuildConfig(index_procs=2), publish=True)
    assert result.seconds["related_fit"] > 0
    view = LiveView.open(tmp_path)
    try:
        assert view.article_count == snapshot.article_count
        # Every list, with aliases written as one spelling by the related process itself.
        for article_id in snapshot.catalog:
            assert view.related(article_id, 5) == snapshot.related(article_id, 5)
        assert ranked(view.search(SearchRequest("tom cruise train")).hits) == ranked(
            snapshot.search(SearchRequest("tom cruise train")).hits
        )
    finally:
        view.close()
        view.snapshot.close()
