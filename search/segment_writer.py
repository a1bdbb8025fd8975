"""Whoosh's segment writer with the word-position fields' postings kept in arrays.

Whoosh's `SegmentWriter` pools every posting as a Python tuple (field, word, document, weight,
value), sorts them all at commit, and hands them one by one through three method calls to
the postings writer: at 10,000 articles, one process, about 1.5 million postings, those steps
were a quarter of the index's time (profiled: the pool's `add` 2.4 s, the commit's loop over
postings 1.9 s, `add_posting` 2.0 s, the sort 1.4 s, of 30 s under the profiler). Titles,
bodies, tags and authors (our `WordPositions` fields, 89 % of the postings) are kept here as
a term number, a document number and a weight in arrays, with the encoded positions in a
list; at commit each field's words are sorted once, its postings ordered by numpy, and each
block of 128 is handed to Whoosh's own block writer whole (`W3PostingsWriter._write_block`),
so the bytes written are Whoosh's: tests compare every file of a segment with the one
Whoosh's own writer makes of the same documents (when its pool is not spilled to disk: the
pickles of spilled postings share fewer objects, so Whoosh's own files differ then). The other
fields (ids, keys, categories, suggestion words) take Whoosh's path unchanged, in the same
order of fields.

A posting takes 24 bytes here (and the positions' bytes when a word is seen more than once
in the field; a word seen once shares its encoding) where Whoosh's tuples take about 180, so
these are never spilled to disk: Whoosh's `limitmb` applies to the other fields' postings.
"""

from __future__ import annotations

import operator
from array import array
from itertools import groupby, repeat
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3FieldWriter
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from search import SearchError
from search.analysis import WordAnalyzer
from search.schema import WordPositions, encoded_places
from search.whoosh_fixes import length_codes

# A field length as a search reads it back: the length column keeps a byte per document.
_LENGTH_OF_BYTE = np.array([0] + [byte_to_length(b) for b in range(1, 256)], dtype=np.int64)


class _FieldPostings:
    """One field's postings, in the order documents were added."""

    def __init__(self, boost: float) -> None:
        self.boost = boost
        self.numbers: dict[str, int] = {}
        self.terms = array("i")  # term number per posting
        self.docs = array("I")
        self.weights = array("d")  # as Whoosh computes them: float(frequency) * boost
        self.values: list[bytes] = []

    def add(self, docnum: int, found: dict[str, list[int]], fieldboost: float) -> int:
        """Add one document's words and positions; returns the field's length (words)."""
        numbers = self.numbers
        for term in found:
            if term not in numbers:
                numbers[term] = len(numbers)
        self.terms.extend(map(numbers.__getitem__, found))
        places = found.values()
        counts = list(map(len, places))
        self.docs.extend(repeat(docnum, len(counts)))
        if self.boost == 1.0 and fieldboost == 1.0:
            self.weights.extend(map(float, counts))
        else:  # as Whoosh multiplies: the format's boost, then the document's and field's
            self.weights.extend([float(count) * self.boost * fieldboost for count in counts])
        self.values.extend(map(encoded_places, places))
        return sum(counts)


class ArrayPoolWriter(SegmentWriter):  # type: ignore[misc]
    """`SegmentWriter` for our schema (search/schema.py): the same files, written faster.
    Fields whose format is `WordPositions` and whose analyzer is a `WordAnalyzer` keep their
    postings in arrays; every other field, and every other step of a document (stored
    values, lengths, columns), is Whoosh's own code."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self._arrays: dict[str, _FieldPostings] = {}
        self._failed: str | None = None
        for name, field in self.schema.items():
            if field.separate_spelling() or field.vector:
                raise ValueError(f"field {name!r}: spelling and vectors are not written here")
            if (
                type(field.format) is WordPositions
                and type(field.analyzer) is WordAnalyzer
                and field.scorable
            ):
                self._arrays[name] = _FieldPostings(field.format.field_boost)

    def add_document(self, **fields: Any) -> None:
        """Whoosh's `add_document` (2.7.5) for fields without spelling words or vectors.
        A document that fails part way has left postings behind (Whoosh's pool keeps them
        too, and its segment then holds them under the next document's number): this writer
        refuses any further document or commit instead, so its segment must be cancelled."""
        self._check_state()
        if self._failed is not None:
            raise IndexWriterFailed(self._failed)
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        add_post = self.pool.add
        arrays = self._arrays
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    pooled = arrays.get(fieldname)
                    if pooled is not None:
                        found = field.analyzer.term_positions(value)
                        length = pooled.add(docnum, found, fieldboost)
                    else:
                        scorable = field.scorable
                        for tbytes, freq, weight, vbytes in field.index(value):
                            if scorable:
                                length += freq
                            add_post((fieldname, tbytes, docnum, weight * fieldboost, vbytes))
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(
                    fieldname, field, customval if field.stored else None, length
                )
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(
                        fieldname, column, field.to_column_value(customval)
                    )
        except Exception as exc:
            self._failed = f"document {docnum} failed part way ({type(exc).__name__}: {exc})"
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: Any) -> None:
        """Merging segments (a commit's merge policy, `optimize`) would put their postings in
        Whoosh's pool beside the arrays: not supported. A build writes a new index."""
        raise NotImplementedError("merging segments: use Whoosh's SegmentWriter")

    def _flush_segment(self) -> None:
        if self._failed is not None:
            raise IndexWriterFailed(self._failed)
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        fieldwriter = self.fieldwriter
        if not isinstance(fieldwriter, W3FieldWriter):
            raise TypeError(f"{type(fieldwriter).__name__} is not Whoosh 3's field writer")
        ours = sorted(name for name, pooled in self._arrays.items() if pooled.terms)
        # Fields in name order, as Whoosh's sorted pool gives them: theirs a field at a time
        # from the pool, ours from the arrays between them.
        for fieldname, postings in groupby(self.pool.iter_postings(), operator.itemgetter(0)):
            while ours and ours[0] < fieldname:
                self._write_field(ours.pop(0), lengths)
            fieldwriter.add_postings(self.schema, lengths, postings)
        while ours:
            self._write_field(ours.pop(0), lengths)
        fieldwriter.close()
        if lengths:
            lengths.close()

    def _write_field(self, fieldname: str, lengths: Any) -> None:
        pooled = self._arrays[fieldname]
        field = self.schema[fieldname]
        fieldwriter = self.fieldwriter
        fieldwriter.start_field(fieldname, field)
        words = [term.encode("utf-8") for term in pooled.numbers]
        by_bytes = sorted(range(len(words)), key=words.__getitem__)
        rank = np.empty(len(words), dtype=np.int32)
        rank[by_bytes] = np.arange(len(words))
        terms = np.frombuffer(pooled.terms, dtype=np.int32)
        # Stable: within a word, documents stay in the order they were added (ascending).
        order = np.argsort(rank[terms], kind="stable")
        docs = np.frombuffer(pooled.docs, dtype=np.uint32)[order]
        weights = np.frombuffer(pooled.weights, dtype=np.float64)[order]
        weights32 = weights.astype(np.float32)
        codes = length_codes(lengths, fieldname) if lengths else None
        if field.scorable and codes is not None:
            doc_lengths = _LENGTH_OF_BYTE[np.frombuffer(codes, dtype=np.uint8)][docs]
        else:
            doc_lengths = np.zeros(len(docs), dtype=np.int64)
        ends = np.cumsum(np.bincount(terms, minlength=len(words))[by_bytes]).tolist()
        values = pooled.values
        start = 0
        for word, end in zip((words[n] for n in by_bytes), ends, strict=True):
            fieldwriter.start_term(word)
            writer = fieldwriter._postwriter
            limit = writer._blocklimit
            for at in range(start, end, limit):
                stop = min(at + limit, end)
                _block(writer, docs, weights, weights32, values, order, doc_lengths, at, stop)
                writer._write_block(last=stop == end)
            fieldwriter.finish_term()
            start = end
        fieldwriter.finish_field()
        del self._arrays[fieldname]  # its memory goes before the next field's is sorted


def _block(
    writer: Any,
    docs: np.ndarray,
    weights: np.ndarray,
    weights32: np.ndarray,
    values: list[bytes],
    order: np.ndarray,
    lengths: np.ndarray,
    start: int,
    stop: int,
) -> None:
    """Fill Whoosh's postings writer's block buffer with postings [start, stop) of the
    field's order (`values` are in the order added), as its `add_posting` would have, one by
    one."""
    ids = array("I")
    ids.frombytes(docs[start:stop].tobytes())
    block_weights = array("f")
    block_weights.frombytes(weights32[start:stop].tobytes())
    writer._ids = ids
    writer._weights = block_weights
    writer._values = [values[i] for i in order[start:stop].tolist()]
    # Whoosh's maximum starts at 0 and rises only for a weight above it (never for NaN).
    above = weights[start:stop]
    above = above[above > 0]
    writer._maxweight = float(above.max()) if len(above) else 0
    known = lengths[start:stop]
    known = known[known > 0]
    writer._minlength = int(known.min()) if len(known) else None
    writer._maxlength = int(known.max()) if len(known) else 0


class IndexWriterFailed(SearchError):
    """A document failed part way through the writer: its segment is incomplete."""
