"""The read-only view that replaces Whoosh's private copy of each index part behaves as the
BytesIO it replaces, for every call Whoosh makes on it."""

from __future__ import annotations

import io
import os
import pickle
import random
from array import array
from pathlib import Path

from whoosh.filedb.structfile import BufferFile

from search import whoosh_fixes
from search.build import build_index
from search.index import SearchIndex
from search.schema import SearchDoc
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
    """Fix 3: every document's length of every field (and fields without lengths, and
    document numbers past the segment) comes out as Whoosh's own column reads give it."""
    with generated.searching() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            perdoc = leaf._perdoc
            lengths = whoosh_fixes.ColumnLengths(perdoc)
            count = leaf.doc_count_all()
            for field in ("title", "body", "tags", "author", "id", "category"):
                for docnum in range(count + 3):
                    want: object
                    try:
                        want = perdoc.doc_field_length(docnum, field, -7)
                    except IndexError as exc:
                        want = type(exc)
                    try:
                        got: object = lengths.doc_field_length(docnum, field, -7)
                    except IndexError as exc:
                        got = type(exc)
                    assert got == want, (field, docnum)


def test_fix_3_is_used_while_postings_are_written(tmp_path: Path) -> None:
    whoosh_fixes.install()
    seen: list[object] = []
    original = whoosh_fixes._add_postings_original

    def spy(self: object, schema: object, lengths: object, items: object) -> object:
        seen.append(lengths)
        return original(self, schema, lengths, items)

    whoosh_fixes._add_postings_original = spy
    try:
        build_index(tmp_path / "ix", [SearchDoc(id="a", title="Pathaan", body="Pathaan 2")])
    finally:
        whoosh_fixes._add_postings_original = original
    assert seen and all(isinstance(x, whoosh_fixes.ColumnLengths) for x in seen)
