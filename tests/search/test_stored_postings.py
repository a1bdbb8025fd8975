"""Common words' postings saved beside the index at build time: exactly what a search would
read from Whoosh's blocks, refused when damaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search import IndexUnavailable
from search.build import build_index
from search.docsets import read_postings
from search.index import SearchIndex, SearchRequest
from search.schema import SearchDoc
from search.stored_postings import (
    FIELDS,
    IDS_FILE,
    MIN_POSTINGS,
    TERMS_FILE,
    TF_FILE,
    StoredPostings,
    common_terms,
)


def test_every_common_word_is_saved_as_whoosh_reads_it(generated: SearchIndex) -> None:
    assert generated.path is not None
    stored = StoredPostings.load(generated.path, generated.doc_count)
    saved = rare = 0
    with generated.searching() as searcher:
        reader = searcher.reader()
        assert len(reader.leaf_readers()) > 1  # the fixture has several segments
        for field in FIELDS:
            if field not in reader.schema:
                continue
            for raw, info in reader.iter_field(field):
                text = raw.decode("utf-8")
                found = stored.get(field, text)
                if info.doc_frequency() < MIN_POSTINGS:
                    assert found is None, (field, text)
                    rare += 1
                    continue
                ids, weights = read_postings(reader, field, text)
                assert found is not None, (field, text)
                np.testing.assert_array_equal(found[0], ids)
                np.testing.assert_array_equal(found[1], weights)
                assert found[0].dtype == np.int64 and found[1].dtype == np.float64
                saved += 1
    assert saved == len(stored) and saved > 30 and rare > 0


def test_common_words_summed_per_segment_are_the_merged_index_words(
    generated: SearchIndex,
) -> None:
    # The merged reader lists each word once with its document count over every segment,
    # in the index's order: the counts per segment must add up to the same list.
    with generated.searching() as searcher:
        reader = searcher.reader()
        assert len(reader.leaf_readers()) > 1
        for floor in (2, 40, MIN_POSTINGS):
            merged = [
                (field, raw.decode("utf-8"), info.doc_frequency())
                for field in FIELDS
                if field in reader.schema
                for raw, info in reader.iter_field(field)
                if info.doc_frequency() >= floor
            ]
            assert common_terms(reader, min_postings=floor) == merged
            assert len(merged) > 30


def _built(tmp_path: Path) -> Path:
    folder = tmp_path / "search"
    docs = [
        SearchDoc(id=f"d{n}", title="Monsoon premiere", body=f"film {n} premiere")
        for n in range(MIN_POSTINGS + 4)
    ]
    build_index(folder, docs)
    return folder


def test_damaged_arrays_are_refused_at_open(tmp_path: Path) -> None:
    folder = _built(tmp_path)
    opened = SearchIndex.open(folder)
    try:
        # "film" and "premiere" are in every document: saved, and searched from the arrays.
        assert opened.docsets._stored.get("body", "film") is not None
        assert opened.doc_count == MIN_POSTINGS + 4
    finally:
        opened.close()
    ids = np.load(folder / IDS_FILE)
    ids[0] = MIN_POSTINGS + 4  # a document the index does not have
    np.save(folder / IDS_FILE, ids)
    with pytest.raises(IndexUnavailable, match="name documents not indexed"):
        SearchIndex.open(folder)
    np.save(folder / IDS_FILE, ids[:-1])
    with pytest.raises(IndexUnavailable, match="mismatched shapes"):
        SearchIndex.open(folder)
    # Arrays of one shape again (every posting naming document 0), then damaged word lists.
    np.save(folder / IDS_FILE, np.zeros(len(np.load(folder / TF_FILE)), dtype=np.int32))
    (folder / TERMS_FILE).write_text('{"body": ["film"]}', encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="not a map of fields to words"):
        SearchIndex.open(folder)
    (folder / TERMS_FILE).write_text('{"body": {"film": [0.0, 3]}}', encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="bad span for body:film"):
        SearchIndex.open(folder)
    (folder / TERMS_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match="cannot read the stored postings"):
        SearchIndex.open(folder)
    (folder / TF_FILE).unlink()
    with pytest.raises(IndexUnavailable, match="cannot read the stored postings"):
        SearchIndex.open(folder)


def test_an_index_with_deletions_is_searched_without_the_arrays(tmp_path: Path) -> None:
    """Builds never delete, but an index changed behind our back must not answer from
    arrays that still list a deleted document."""
    folder = _built(tmp_path)
    ix = whoosh_index.open_dir(str(folder))
    writer = ix.writer()
    writer.delete_by_term("id", "d0")
    writer.commit(merge=False)
    ix.close()
    opened = SearchIndex.open(folder)
    try:
        results = opened.search(SearchRequest("film premiere", per_page=500))
        assert results.total == MIN_POSTINGS + 3
        assert "d0" not in {hit.id for hit in results.hits}
    finally:
        opened.close()
