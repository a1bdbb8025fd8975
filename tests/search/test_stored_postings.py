"""Common words' postings saved beside the index at build time: exactly what a search would
read from Whoosh's blocks, refused when damaged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

import search.build
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


def _skewed_docs() -> list[SearchDoc]:
    """600 articles: "premiere" in every one (twice in every third), "monsoon" in ten of the
    first 300 and in 280 of the last 300: a common word (290 articles) that a two-process
    build's first segment holds less often than its writer keeps (MIN_POSTINGS / 4)."""
    docs = []
    for n in range(600):
        words = ["premiere"] * (2 if n % 3 == 0 else 1) + [f"only{n}"]
        if n < 10 or 300 <= n < 580:
            words.append("monsoon")
        docs.append(SearchDoc(id=f"d{n}", title=f"Story {n}", body=" ".join(words)))
    return docs


def test_the_arrays_are_the_same_however_many_processes_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each segment's writer keeps its common words' postings as it writes them; a word a
    segment holds fewer times than the writer keeps is read from that segment's blocks. The
    files must be the very ones a one-process build saves (document numbers in store order),
    and equal to what a search reads from Whoosh."""
    read_from_blocks: list[tuple[str, str]] = []
    leaf_postings = search.build.leaf_postings

    def recording(leaf: object, field: str, text: str) -> object:
        read_from_blocks.append((field, text))
        return leaf_postings(leaf, field, text)

    monkeypatch.setattr(search.build, "leaf_postings", recording)
    docs = _skewed_docs()
    saved = {}
    for procs in (1, 2, 3):
        folder = tmp_path / f"procs{procs}"
        read_from_blocks.clear()
        build_index(folder, docs, procs=procs)
        saved[procs] = [(folder / name).read_bytes() for name in (IDS_FILE, TF_FILE, TERMS_FILE)]
        if procs == 2:
            # The first segment holds "monsoon" 10 times (its writer keeps 64 or more).
            assert read_from_blocks == [("body", "monsoon")]
        if procs == 1:
            assert read_from_blocks == []  # one segment: its writer kept every common word
        ix = whoosh_index.open_dir(str(folder))
        stored = StoredPostings.load(folder, len(docs))
        with ix.reader() as reader:
            for word in ("monsoon", "premier"):  # the analyzer stems "premiere"
                found = stored.get("body", word)
                assert found is not None, word
                ids, weights = read_postings(reader, "body", word)
                np.testing.assert_array_equal(found[0], ids)
                np.testing.assert_array_equal(found[1], weights)
        ix.close()
    assert saved[1] == saved[2] == saved[3]
    monsoon = StoredPostings.load(tmp_path / "procs2", len(docs)).get("body", "monsoon")
    assert monsoon is not None
    assert monsoon[0].tolist() == [*range(10), *range(300, 580)]
    premiere = StoredPostings.load(tmp_path / "procs3", len(docs)).get("body", "premier")
    assert premiere is not None
    assert premiere[1].tolist() == [2.0 if n % 3 == 0 else 1.0 for n in range(600)]


def test_the_segments_name_whoosh_codec(tmp_path: Path) -> None:
    """The writers that keep postings are ours, but the segments they describe must name
    Whoosh's codec (the table of contents pickles each segment with its codec): the index
    opens without our writing code, as every index before it."""
    folder = tmp_path / "search"
    build_index(folder, _skewed_docs(), procs=2)
    script = (
        "import sys\n"
        "from whoosh import index\n"
        f"ix = index.open_dir({str(folder)!r})\n"
        "from whoosh.codec.whoosh3 import W3Codec\n"
        "assert all(type(segment.codec()) is W3Codec for segment in ix._segments())\n"
        "with ix.searcher() as s:\n"
        "    print(len(ix._segments()), s.doc_count(), s.doc_frequency('body', 'monsoon'))\n"
        "assert 'search.stored_postings' not in sys.modules, 'the index needs our writer'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "600", "290"]
