"""Write a Whoosh index for a set of documents into an empty folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.filedb.filestore import FileStorage, RamStorage

from search import whoosh_fixes
from search.analysis import BUILD_CACHE, news_analyzer
from search.docsets import read_postings
from search.schema import SearchDoc, build_schema, doc_fields
from search.stored_postings import write_stored_postings
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


def build_index(
    path: str | Path,
    docs: Iterable[SearchDoc],
    *,
    procs: int = 1,
    limit_mb: int = 256,
    on_doc: Callable[[], None] | None = None,
    batch_size: int = 100,
) -> IndexStats:
    """Create a new index at `path` (which must not hold one) and add every document; the
    documents' words and their counts are saved beside it (words.py)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(folder), build_schema())
    # One segment is what a read-only snapshot searches fastest; several processes only pay
    # off for large corpora, where `multisegment` saves the final merge.
    # With procs > 1 the parent hands documents to the other processes `batch_size` at a time.
    writer = (
        ix.writer(procs=procs, limitmb=limit_mb, multisegment=True, batchsize=batch_size)
        if procs > 1
        else ix.writer(limitmb=limit_mb)
    )
    count = 0
    words = WordCounts(analyzer=news_analyzer(BUILD_CACHE))
    try:
        for doc in docs:
            writer.add_document(**doc_fields(doc))
            words.add(doc.title, doc.body)
            count += 1
            if on_doc is not None:
                on_doc()
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    with ix.reader() as reader:
        write_stored_postings(folder, reader, read_postings)
    ix.close()
    words.save(folder)
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    return IndexStats(doc_count=count, size_bytes=size)
