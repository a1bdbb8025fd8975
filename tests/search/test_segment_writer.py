"""The build's segment writer keeps the word-position fields' postings in arrays: the files it
writes must be byte for byte the ones Whoosh's own writer makes of the same documents."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from whoosh import index
from whoosh.writing import SegmentWriter

from search.schema import SearchDoc, build_schema, doc_fields
from search.segment_writer import ArrayPoolWriter, IndexWriterFailed
from tests.search.conftest import WORDS, generated_docs


def _unusual_docs() -> list[SearchDoc]:
    """What the generated corpus lacks: a body past 4,096 words (positions beyond the
    encoded-once ones), Hindi and accented words (byte order of words), authors, several
    tags, repeated words, a title alone, stop words only."""
    rng = random.Random(7)
    long_body = " ".join(rng.choice(WORDS) for _ in range(5000)) + " finale finale"
    return [
        SearchDoc(id="long", title="The long one", body=long_body, author="Ravi Kapoor"),
        SearchDoc(
            id="hindi",
            title="पठान 2 का ट्रेलर",
            body="शाहरुख़ ख़ान की फ़िल्म पठान 2 café résumé naïve Zoë zebra Ångström",
            tags=("पठान", "Box Office", "box office"),
            author="Zoë Ångström",
        ),
        SearchDoc(id="echo", title="Echo echo ECHO", body="echo " * 40 + "star"),
        SearchDoc(id="title-only", title="Star premiere", body=""),
        SearchDoc(id="stops", title="the and of", body="to be or not to be"),
    ]


def _segment_files(
    folder: Path, writer_class: type, documents: list[dict[str, object]]
) -> dict[str, bytes]:
    """Each file of the one segment written of `documents` (`add_document`'s arguments), by
    its name less the segment's random id."""
    folder.mkdir()
    ix = index.create_in(str(folder), build_schema())
    writer = writer_class(ix, compound=False)
    for fields in documents:
        writer.add_document(**fields)
    if writer_class is ArrayPoolWriter:  # the arrays are used, and Whoosh's pool is not
        assert sorted(writer._arrays) == ["author", "body", "tags", "title"]
        assert writer.pool.fieldnames.isdisjoint(writer._arrays)
        assert {item[0] for item in writer.pool.current} >= {"id", "suggest"}
    writer.commit()
    (segment,) = ix._segments()
    ix.close()
    prefix = f"{segment.indexname}_{segment.segid}"
    files = {p.name.replace(prefix, "SEG"): p.read_bytes() for p in folder.iterdir()}
    assert any(name.startswith("SEG") for name in files)
    return {name: data for name, data in files.items() if name.startswith("SEG")}


@pytest.mark.parametrize("count", [1, 130, 1500])
def test_every_file_is_the_one_whoosh_writes(tmp_path: Path, count: int) -> None:
    documents = [doc_fields(doc) for doc in (_unusual_docs() + generated_docs())[:count]]
    theirs = _segment_files(tmp_path / "whoosh", SegmentWriter, documents)
    ours = _segment_files(tmp_path / "arrays", ArrayPoolWriter, documents)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_boosts_weigh_as_in_whoosh(tmp_path: Path) -> None:
    """A document or field boost multiplies the weights as Whoosh multiplies them."""
    documents = []
    for number, doc in enumerate(_unusual_docs()):
        fields = doc_fields(replace(doc, body=doc.body + " extra"))
        fields["_boost"] = 1.0 + number / 3
        fields["_title_boost"] = 0.3
        documents.append(fields)
    theirs = _segment_files(tmp_path / "whoosh", SegmentWriter, documents)
    ours = _segment_files(tmp_path / "arrays", ArrayPoolWriter, documents)
    for name, data in theirs.items():
        assert ours[name] == data, name


def test_a_document_failing_part_way_stops_the_writer(tmp_path: Path) -> None:
    """Its body's postings are already pooled when a later field fails: the writer refuses
    the next document and the commit (Whoosh's would write them under the next document's
    number), and the caller cancels it."""
    ix = index.create_in(str(tmp_path), build_schema())
    writer = ArrayPoolWriter(ix)
    good, bad = _unusual_docs()[:2]
    writer.add_document(**doc_fields(good))
    fields = doc_fields(bad)
    fields["sort_date"] = "not a number"  # after body, title and tags in name order
    with pytest.raises(ValueError):
        writer.add_document(**fields)
    with pytest.raises(IndexWriterFailed, match="document 1 failed part way"):
        writer.add_document(**doc_fields(good))
    with pytest.raises(IndexWriterFailed, match="document 1 failed part way"):
        writer.commit()
    writer.cancel()
    assert ix.doc_count() == 0


def test_merging_segments_is_refused(tmp_path: Path) -> None:
    """A merge would put old segments' postings in Whoosh's pool beside the arrays."""
    ix = index.create_in(str(tmp_path), build_schema())
    first = SegmentWriter(ix)
    first.add_document(**doc_fields(_unusual_docs()[0]))
    first.commit()
    writer = ArrayPoolWriter(ix)
    writer.add_document(**doc_fields(_unusual_docs()[1]))
    with pytest.raises(NotImplementedError, match="merging segments"):
        writer.commit(optimize=True)
    writer.cancel()
    assert ix.doc_count() == 1
