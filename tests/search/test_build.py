"""Writing the index: documents cut into runs written as segments by forked processes, the
pool's memory limit, and what a build reports when one of its processes fails or dies."""

from __future__ import annotations

import multiprocessing
import os
import random
from dataclasses import replace
from pathlib import Path

import pytest
from whoosh import index

from search.build import IndexBuildError, build_index
from search.schema import SearchDoc
from search.words import WordCounts
from tests.search.conftest import _doc


def _docs(count: int, seed: int = 3) -> list[SearchDoc]:
    rng = random.Random(seed)
    return [_doc(n, rng) for n in range(count)]


def _postings(folder: Path) -> list[tuple[object, ...]]:
    ix = index.open_dir(str(folder))
    try:
        with ix.reader() as reader:
            return list(reader.iter_postings())
    finally:
        ix.close()


def _stored_ids(folder: Path) -> list[str]:
    ix = index.open_dir(str(folder))
    try:
        with ix.reader() as reader:
            return [fields["id"] for _, fields in reader.iter_docs()]
    finally:
        ix.close()


def test_processes_keep_the_documents_order_and_count_every_word(tmp_path: Path) -> None:
    """Three processes write three runs of consecutive documents: the index numbers the
    documents as they were given, and the word list counts every article once, as one
    process does."""
    docs = _docs(301)
    reported: list[int] = []
    stats = build_index(tmp_path / "three", docs, procs=3, on_progress=reported.append)
    build_index(tmp_path / "one", docs, procs=1)
    assert stats.doc_count == 301
    assert _stored_ids(tmp_path / "three") == [d.id for d in docs]
    ix = index.open_dir(str(tmp_path / "three"))
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) == 3
    ix.close()
    assert sorted(WordCounts.load(tmp_path / "three").items()) == sorted(
        WordCounts.load(tmp_path / "one").items()
    )
    assert sum(reported) == 301 and all(n > 0 for n in reported)


def test_more_processes_than_documents(tmp_path: Path) -> None:
    docs = _docs(2)
    assert build_index(tmp_path / "ix", docs, procs=4).doc_count == 2
    assert _stored_ids(tmp_path / "ix") == [d.id for d in docs]


def test_postings_spilled_to_disk_read_as_those_kept_in_memory(tmp_path: Path) -> None:
    """A 1 MB pool (some 5,800 postings) writes several sorted runs merged at commit; the
    index holds the very postings of one written from memory."""
    docs = _docs(400)
    build_index(tmp_path / "memory", docs)
    build_index(tmp_path / "runs", docs, limit_mb=1)
    in_memory = _postings(tmp_path / "memory")
    assert len(in_memory) > 3 * 5800
    assert _postings(tmp_path / "runs") == in_memory


class _NotADate:
    """A published date Whoosh cannot index: it raises, naming the value."""

    def __repr__(self) -> str:
        return "not-a-date"


class _KillsTheProcess:
    """A published date whose description ends the process that indexes it, as the kernel's
    out-of-memory killer would."""

    def __repr__(self) -> str:
        os._exit(7)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_NotADate(), "an index process failed: Exception: not-a-date is not a datetime"),
        (_KillsTheProcess(), r"an index process died \(exit code 7\)"),
    ],
)
def test_a_failed_or_dead_index_process_fails_the_build(
    tmp_path: Path, bad: object, message: str
) -> None:
    """A document only the second process writes breaks it: the build raises, naming what
    happened, instead of publishing an index without that process's documents."""
    docs = _docs(40)
    docs[30] = replace(docs[30], published_at=bad)  # type: ignore[arg-type]
    with pytest.raises(IndexBuildError, match=message):
        build_index(tmp_path / "ix", docs, procs=2)
    assert not (tmp_path / "ix" / "words.tsv").exists()


def test_a_failure_in_this_process_stops_the_others(tmp_path: Path) -> None:
    """The first run is written by the calling process: its error is raised as it is, and
    the forked writer of the second run is not left behind."""
    docs = _docs(40)
    docs[3] = replace(docs[3], published_at=_NotADate())  # type: ignore[arg-type]
    with pytest.raises(Exception, match="not-a-date is not a datetime"):
        build_index(tmp_path / "ix", docs, procs=2)
    assert multiprocessing.active_children() == []
