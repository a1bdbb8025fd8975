"""Write a Whoosh index for a set of documents into an empty folder."""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from whoosh import index
from whoosh.filedb.filestore import FileStorage, RamStorage

from search import SearchError, whoosh_fixes
from search.analysis import BUILD_CACHE, news_analyzer
from search.docsets import leaf_postings
from search.processes import ChildDied, ChildProcess, ChildRaised
from search.schema import SearchDoc, build_schema, doc_fields
from search.segment_writer import ArrayPoolWriter
from search.stored_postings import (
    MIN_POSTINGS,
    SegmentPostings,
    WrittenPostings,
    common_terms,
    gather,
    save_stored_postings,
)
from search.words import WordCounts

whoosh_fixes.install()  # a stat() per posting written, a copy of the index per searcher


class PrivateRamStorage(RamStorage):  # type: ignore[misc]
    """RamStorage whose writer spills to a temporary folder of its own. Whoosh's own puts
    spills in a folder named after the index (`/tmp/MAIN.tmp`) shared by every process on the
    machine, so two workers building at once deleted each other's files; and spills cannot
    go to a RamStorage (Whoosh writes them past its file bookkeeping)."""

    def __init__(self) -> None:
        super().__init__()
        self.temp_folders: list[str] = []

    def temp_storage(self, name: str | None = None) -> FileStorage:
        folder = tempfile.mkdtemp(prefix="gupshup-index-")
        self.temp_folders.append(folder)
        return FileStorage(folder).create()


def build_memory_index(docs: Iterable[SearchDoc], limit_mb: int = 128) -> Any:
    """A Whoosh index in memory holding `docs` (the few articles changed since a build);
    past `limit_mb` of postings the writer spills to a private temporary folder."""
    storage = PrivateRamStorage()
    ix = storage.create_index(build_schema())
    writer = ix.writer(limitmb=limit_mb)
    try:
        for doc in docs:
            writer.add_document(**doc_fields(doc))
        writer.commit()
    finally:
        for folder in storage.temp_folders:
            shutil.rmtree(folder, ignore_errors=True)
    return ix


@dataclass(frozen=True)
class IndexStats:
    doc_count: int
    size_bytes: int


# Postings a writing process keeps in Whoosh's pool before it sorts them into a temporary run
# file (Whoosh's `limitmb`, by its estimate of about 180 bytes a posting). Runs are pickled,
# read back and merged at commit: at 100,000 articles in two processes, when every posting
# went to the pool (about 160 an article), 256 MB (six runs each) took the index 150.7 s and
# 2,048 MB (none) 106.9 s. Titles', bodies', tags' and authors' postings are now kept in
# arrays (search/segment_writer.py, never spilled); the pool holds the other fields', about 17
# an article of the bench corpus, so runs only come with millions of articles or a small
# setting. A build takes an eighth of the machine's memory, at most this
# (index_data/build.py); `GUPSHUP_INDEX_MEMORY_MB` sets it.
MAX_DEFAULT_LIMIT_MB = 2048  # what a build uses by default on a machine of 16 GB or more
PROGRESS_POLL_SECONDS = 0.2
T = TypeVar("T")


def build_index(
    path: str | Path,
    docs: Sequence[SearchDoc],
    *,
    procs: int = 1,
    limit_mb: int = MAX_DEFAULT_LIMIT_MB,
    on_progress: Callable[[int], None] | None = None,
) -> IndexStats:
    """Create a new index at `path` (which must not hold one) and add every document; the
    documents' words and their counts are saved beside it (words.py).

    With `procs` > 1 the documents are cut into `procs` runs of consecutive documents, each
    written as a segment of its own by one process (this one and `procs` - 1 forked
    children), so documents keep their order and no final merge is needed. `on_progress`
    gets the number of documents written since its last call."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(folder), build_schema())
    parts = max(1, procs)
    bounds = [len(docs) * part // parts for part in range(parts + 1)]
    shares = [docs[a:b] for a, b in pairwise(bounds) if b > a] or [docs]
    # A word in MIN_POSTINGS articles has MIN_POSTINGS / parts of them in one segment at
    # least; each writer keeps the words it holds half that often (a segment holding a common
    # word less often is read for it at the end).
    floor = MIN_POSTINGS if parts == 1 else MIN_POSTINGS // (2 * parts)
    children: list[_SegmentChild] = []
    progress = _Progress(on_progress, children)
    writer: Any = None
    written: list[SegmentPostings] = []
    try:
        # The children first: forked after this process opened its writer, they would
        # hold its lock file's descriptor too.
        for share in shares[1:]:
            children.append(_SegmentChild(ix, share, limit_mb, floor))
        kept = WrittenPostings(floor)
        writer = ArrayPoolWriter(ix, limitmb=limit_mb, codec=kept.codec())
        words = _write_documents(writer, shares[0], progress.add)
        if not shares[0]:
            writer.commit()  # an empty index: no segment at all
        else:
            segments = [writer._finalize_segment()]
            written.append(kept.arrays(segments[0]))
            for child in children:
                segment, counts, postings = child.result(progress.poll)
                segments.append(segment)
                written.append(postings)
                words.merge(counts)
            writer._commit_toc(segments)
            writer._finish()
    except BaseException as exc:
        for child in children:
            child.stop()
        # The error raised is the one that matters: cancelling a writer whose files failed
        # (a full disk) fails again, and the caller discards the folder anyway.
        with contextlib.suppress(Exception):
            if writer is not None and not writer.is_closed:
                writer.cancel()
        if isinstance(exc, Exception) and not isinstance(exc, OSError | IndexBuildError):
            # As a child's failure reads (a file system error stays one, for the caller).
            raise IndexBuildError(f"writing the index failed: {type(exc).__name__}: {exc}") from exc
        raise
    progress.poll()
    with ix.reader() as reader:
        terms = common_terms(reader)
        save_stored_postings(folder, terms, gather(reader, written, leaf_postings, terms))
        count = reader.doc_count()
    del written
    ix.close()
    words.save(folder)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    return IndexStats(doc_count=count, size_bytes=size)


def _answer(child: ChildProcess[T], who: str) -> T:
    """What `child` returned, or IndexBuildError naming `who` and how it ended."""
    try:
        return child.result()
    except ChildDied as died:
        raise IndexBuildError(f"{who} died ({died})") from None
    except ChildRaised as raised:
        raise IndexBuildError(f"{who} failed: {raised}") from None


def _write_documents(
    writer: Any, docs: Sequence[SearchDoc], written: Callable[[], None]
) -> WordCounts:
    words = WordCounts(analyzer=news_analyzer(BUILD_CACHE))
    for doc in docs:
        writer.add_document(**doc_fields(doc))
        words.add(doc.title, doc.body)
        written()
    return words


def _write_share(
    ix: Any, docs: Sequence[SearchDoc], limit_mb: int, floor: int, written: Any
) -> tuple[Any, Counter[str], SegmentPostings]:
    """A forked writer's work: its documents as a segment (Whoosh's own description of it,
    as its multiprocess writer sends it), their word counts and the common words' postings
    its writer kept."""
    kept = WrittenPostings(floor)
    writer = ArrayPoolWriter(ix, _lk=False, limitmb=limit_mb, codec=kept.codec())

    def count() -> None:
        written.value += 1

    words = _write_documents(writer, docs, count)
    segment = writer._finalize_segment()
    return segment, words.counts, kept.arrays(segment)


class _SegmentChild:
    """One run of documents written as a segment by a forked process. Forked, not spawned:
    the child reads the parent's documents in place instead of receiving a pickled copy. A
    build runs in the CLI's or a rebuild job's main thread (tests and `gupshup eval` call it
    from processes that may hold other threads); the child takes no lock those threads could
    hold: it writes its own files, sends on its own pipe and exits (Whoosh's multiprocess
    writer, used before, forked too). It dies with the build (processes.py): it inherits the
    build's lock file."""

    def __init__(self, ix: Any, docs: Sequence[SearchDoc], limit_mb: int, floor: int) -> None:
        self.written = multiprocessing.get_context("fork").RawValue("q", 0)
        self.size = len(docs)
        self._child = ChildProcess("fork", _write_share, ix, docs, limit_mb, floor, self.written)

    def result(self, waiting: Callable[[], None]) -> tuple[Any, Counter[str], SegmentPostings]:
        """The segment, word counts and kept postings, once the child has sent them;
        `waiting` is called while it writes."""
        while not self._child.ready(PROGRESS_POLL_SECONDS):
            waiting()
        segment, counts, postings = _answer(self._child, "an index process")
        if segment.doc_count() != self.size:
            raise IndexBuildError(
                f"an index process wrote {segment.doc_count()} of its {self.size} documents"
            )
        return segment, counts, postings

    def stop(self) -> None:
        """Ends the child if it still runs (the build failed elsewhere)."""
        self._child.stop()


class IndexBuildError(SearchError):
    """A process writing part of the index failed or died."""


class _Progress:
    """Documents written, by this process and the children, reported as increments."""

    def __init__(
        self, report: Callable[[int], None] | None, children: Sequence[_SegmentChild]
    ) -> None:
        self._report = report
        self._children = children
        self._own = 0
        self._reported = 0

    def add(self) -> None:
        self._own += 1
        if self._report is not None and (self._own % 100 == 0 or not self._children):
            self.poll()

    def poll(self) -> None:
        if self._report is None:
            return
        done = self._own + sum(child.written.value for child in self._children)
        if done > self._reported:
            self._report(done - self._reported)
            self._reported = done
