"""Date filters read the published time as a column (schema version 6, no range terms): they
keep exactly the articles whose date, compared by hand, lies in the range (bounds included,
undated articles never), and an index of version 5, whose dates are Whoosh's DATETIME range
terms, answers every filtered search the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from whoosh.fields import DATETIME

import search.build
from search.build import build_index
from search.index import SearchIndex, SearchRequest, _complete_matches
from search.query import Filters, filter_query
from search.schema import SearchDoc, build_schema, doc_fields
from tests.search.conftest import EPOCH, generated_docs

START = EPOCH.replace(tzinfo=None)
DAY = timedelta(days=1)
WINDOWS = [
    # Whole days whose midnight many stories share: both bounds are some stories' exact time.
    (START + 100 * DAY, START + 200 * DAY),
    (None, START + 50 * DAY),
    (START + 300 * DAY, None),
    (START + 123 * DAY, START + 123 * DAY),  # one instant
    (START + 10 * DAY + timedelta(microseconds=1), START + 11 * DAY - timedelta(microseconds=1)),
    (START - 30 * DAY, START - DAY),  # before every story
    (START + 200 * DAY, START + 100 * DAY),  # reversed: nothing
]


def _expected(docs: list[SearchDoc], start: datetime | None, end: datetime | None) -> set[str]:
    kept = set()
    for doc in docs:
        if doc.published_at is None:
            continue
        when = doc.published_at.replace(tzinfo=None)
        if (start is None or when >= start) and (end is None or when <= end):
            kept.add(doc.id)
    return kept


def version_5_schema() -> Any:
    schema = build_schema()
    schema.remove("published_at")
    schema.add("published_at", DATETIME())
    return schema


def version_5_fields(doc: SearchDoc) -> dict[str, object]:
    fields = doc_fields(doc)
    fields.pop("published_at")
    if doc.published_at is not None:
        fields["published_at"] = doc.published_at
    return fields


@pytest.fixture(scope="module")
def version_5(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The generated corpus written with schema version 5's date field."""
    folder: Path = tmp_path_factory.mktemp("v5") / "search"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search.build, "build_schema", version_5_schema)
        patch.setattr(search.build, "doc_fields", version_5_fields)
        build_index(folder, generated_docs(), procs=2)
    opened = SearchIndex.open(folder)
    yield opened
    opened.close()


def _allowed_ids(index: SearchIndex, filters: Filters) -> set[str]:
    with index.searching() as searcher:
        docs = index.docsets.of(searcher, filter_query(filters))
        return {searcher.stored_fields(int(d))["id"] for d in docs}


def test_the_date_is_a_column_with_no_terms(generated: SearchIndex) -> None:
    with generated.searching() as searcher:
        field = searcher.schema["published_at"]
        assert not field.indexed and field.column_type is not None
        assert list(searcher.reader().lexicon("published_at")) == []


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_a_date_filter_keeps_the_articles_dated_in_its_range(
    generated: SearchIndex, version_5: SearchIndex, start: datetime | None, end: datetime | None
) -> None:
    filters = Filters(date_from=start, date_to=end)
    expected = _expected(generated_docs(), start, end)
    assert _allowed_ids(generated, filters) == expected
    assert _allowed_ids(version_5, filters) == expected


@pytest.mark.parametrize("text", ["star", "villain hero", '"box office"', "film -trailer"])
@pytest.mark.parametrize(("start", "end"), WINDOWS[:3])
def test_filtered_searches_answer_as_the_version_5_index(
    generated: SearchIndex,
    version_5: SearchIndex,
    text: str,
    start: datetime | None,
    end: datetime | None,
) -> None:
    request = SearchRequest(
        text, filters=Filters(date_from=start, date_to=end, category="music"), per_page=50
    )
    ours, theirs = generated.search(request), version_5.search(request)
    assert ours.total == theirs.total > 0
    assert [(h.id, h.score) for h in ours.hits] == [(h.id, h.score) for h in theirs.hits]
    assert ours.facets == theirs.facets
    everything = generated.search(SearchRequest(text, per_page=50))
    assert ours.total < everything.total


def test_did_you_mean_counts_complete_matches_inside_the_date_range(
    generated: SearchIndex, version_5: SearchIndex
) -> None:
    window = Filters(date_from=START + 100 * DAY, date_to=START + 200 * DAY)
    nothing = Filters(date_from=START - 30 * DAY, date_to=START - DAY)
    with generated.searching() as ours, version_5.searching() as theirs:
        inside = _complete_matches(ours, generated.docsets, "star film", window)
        assert inside == _complete_matches(theirs, version_5.docsets, "star film", window)
        assert 0 < inside < _complete_matches(ours, generated.docsets, "star film", Filters())
        # No article in the range: none, not every article (Whoosh reads an empty allowed
        # set as no filter).
        assert _complete_matches(ours, generated.docsets, "star film", nothing) == 0
