"""Writing the index: documents cut into runs written as segments by forked processes, the
pool's memory limit, and what a build reports when one of its processes fails or dies."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import whoosh.writing
from whoosh import index

from search.build import IndexBuildError, build_index
from search.schema import SearchDoc
from search.stored_postings import IDS_FILE, TERMS_FILE, TF_FILE
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


def _lengths(folder: Path, count: int) -> list[tuple[int, ...]]:
    ix = index.open_dir(str(folder))
    try:
        with ix.reader() as reader:
            return [
                tuple(reader.doc_field_length(n, f, 0) for f in ("title", "body", "tags"))
                for n in range(count)
            ]
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
    assert _postings(tmp_path / "three") == _postings(tmp_path / "one")
    assert _lengths(tmp_path / "three", 301) == _lengths(tmp_path / "one", 301)
    assert sum(reported) == 301 and all(n > 0 for n in reported)
    # The common words' arrays, read by three processes there and one here: the same bytes.
    common = json.loads((tmp_path / "one" / TERMS_FILE).read_text())
    assert sum(len(words) for words in common.values()) >= 3  # something to share out
    for name in (IDS_FILE, TF_FILE, TERMS_FILE):
        assert (tmp_path / "three" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_more_processes_than_documents(tmp_path: Path) -> None:
    docs = _docs(2)
    assert build_index(tmp_path / "ix", docs, procs=4).doc_count == 2
    assert _stored_ids(tmp_path / "ix") == [d.id for d in docs]


@pytest.mark.parametrize("procs", [1, 2])
def test_postings_spilled_to_disk_read_as_those_kept_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, procs: int
) -> None:
    """A 1 MB pool (some 5,800 postings) makes every writing process, the forked ones too,
    sort its postings into run files, merged at commit; the index holds the very postings
    of one written from memory. (Titles', bodies', tags' and authors' postings are kept in
    arrays, never spilled: search/segment_writer.py; the pool holds the other fields', about
    7 an article here.)"""
    docs = _docs(2000)
    build_index(tmp_path / "memory", docs)
    spilled_by = tmp_path / "spilled_by"
    save = whoosh.writing.PostingPool.save

    def save_and_tell(pool: object) -> None:
        with spilled_by.open("a") as out:  # a forked writer's calls land here too
            out.write(f"{os.getpid()}\n")
        save(pool)

    monkeypatch.setattr(whoosh.writing.PostingPool, "save", save_and_tell)
    build_index(tmp_path / "runs", docs, procs=procs, limit_mb=1)
    in_memory = _postings(tmp_path / "memory")
    assert len(in_memory) > 3 * 5800
    assert _postings(tmp_path / "runs") == in_memory
    assert len(set(spilled_by.read_text().split())) == procs


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
        (_NotADate(), "an index process failed: TypeError: not-a-date is not a datetime"),
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
    """The first run is written by the calling process: its error reads as a child's would,
    and the forked writer of the second run (2,000 documents, seconds of work) is stopped
    instead of waited for: it never assembles its segment."""
    docs = _docs(4000)
    docs[0] = replace(docs[0], published_at=_NotADate())  # type: ignore[arg-type]
    with pytest.raises(
        IndexBuildError, match="writing the index failed: TypeError: not-a-date is not a datetime"
    ):
        build_index(tmp_path / "ix", docs, procs=2)
    assert multiprocessing.active_children() == []
    assert not list((tmp_path / "ix").glob("*.seg"))


class _Hangs:
    """A published date whose description never returns: the process indexing it hangs."""

    def __repr__(self) -> str:
        time.sleep(3600)
        return "never"


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # the field after the state is the parent's pid
                found.append(int(stat.parent.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # dead, waiting for a reaper that may never come


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux ends children with us")
def test_index_processes_end_with_the_build(tmp_path: Path) -> None:
    """A build killed (kill -9, the out-of-memory killer) takes its forked writers with it:
    they hold its lock file, so while one ran on, every new build was refused. Here the
    child hangs on a document and would run forever."""
    script = (
        "from dataclasses import replace\n"
        "from search.build import build_index\n"
        "from tests.search.test_build import _Hangs, _docs\n"
        "docs = _docs(40)\n"
        "docs[30] = replace(docs[30], published_at=_Hangs())\n"
        f"build_index({str(tmp_path / 'ix')!r}, docs, procs=2)\n"
    )
    build = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not children and build.poll() is None and time.monotonic() < deadline:
            children = _children_of(build.pid)
            time.sleep(0.05)
        assert children, "the build started no index process"
        build.kill()
        build.wait()
        deadline = time.monotonic() + 30
        while not all(_gone(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(_gone(pid) for pid in children), children
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
