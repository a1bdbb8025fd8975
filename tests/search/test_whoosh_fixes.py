"""The read-only view that replaces Whoosh's private copy of each index part behaves as the
BytesIO it replaces, for every call Whoosh makes on it."""

from __future__ import annotations

import io
import os
import pickle
import random
from array import array

from whoosh.filedb.structfile import BufferFile

from search import whoosh_fixes
from search.index import SearchIndex
from search.whoosh_fixes import ViewReader

DATA = b"first line\nsecond\n\nlast without newline" + bytes(range(256))


def test_reads_like_bytesio() -> None:
    rng = random.Random(5)
    view, copy = ViewReader(memoryview(DATA)), io.BytesIO(DATA)
    for _ in range(500):
        op = rng.choice(["read", "readline", "seek", "seek_cur", "seek_end", "tell"])
        n = rng.randrange(-1, 40)
        if op == "read":
            assert view.read(n) == copy.read(n)
        elif op == "readline":
            assert view.readline(n) == copy.readline(n)
        elif op == "seek":
            assert view.seek(rng.randrange(0, len(DATA) + 5)) == copy.seek(view.tell())
        elif op == "seek_cur":
            step = rng.randrange(0, 10)
            assert view.seek(step, os.SEEK_CUR) == copy.seek(step, os.SEEK_CUR)
        elif op == "seek_end":
            step = -rng.randrange(0, 10)
            assert view.seek(step, os.SEEK_END) == copy.seek(step, os.SEEK_END)
        assert view.tell() == copy.tell()
    view.seek(0)
    assert list(view) == io.BytesIO(DATA).readlines()


def test_buffer_file_reads_pickles_and_arrays_without_a_copy() -> None:
    whoosh_fixes.install()
    numbers = array("i", range(50))
    payload = pickle.dumps({"a": 1}) + numbers.tobytes()
    f = BufferFile(memoryview(payload))
    assert isinstance(f.file, ViewReader)
    assert pickle.load(f.file) == {"a": 1}
    got = array("i")
    got.fromfile(f.file, 50)  # type: ignore[arg-type]
    assert got == numbers


def test_field_lengths_read_once_answer_as_whoosh_does(generated: SearchIndex) -> None:
    """Fix 3: every document's length of every field (and fields without lengths) comes out
    as Whoosh's own per-posting column read gives it."""
    whoosh_fixes.install()
    original = whoosh_fixes._doc_field_length_original
    with generated.searching() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            perdoc = leaf._perdoc
            count = leaf.doc_count_all()
            for field in ("title", "body", "tags", "author", "id", "category"):
                for docnum in range(count + 1):
                    assert perdoc.doc_field_length(docnum, field, -7) == original(
                        perdoc, docnum, field, -7
                    ), (field, docnum)
