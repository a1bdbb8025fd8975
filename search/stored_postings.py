"""The postings of common words, written beside the index as plain arrays at build time.

A search reads a word's postings from the Whoosh segment a block of 128 at a time, and each
block is a zlib-compressed pickle that also holds the word positions: at 100,000 articles a
common word ("years": 50,000 articles) took 30-40 ms to read, the slowest part of a search the
first time a worker met that word, and the tail of the latency under load (8 clients queue
behind such reads). At build time the document numbers and term frequencies of every word in
at least MIN_POSTINGS articles (the words that span blocks: 6,800 words, 90 % of the body's
postings at 100,000 articles) are saved as two arrays that workers memory-map: reading one is
a slice, shared by every worker through the page cache. They are kept as each segment's
writer writes its blocks (`WrittenPostings`), and put together once every segment is written.

Files (in the index folder): `common_ids.npy` (int32 document numbers, word after word, each
word's sorted), `common_tf.npy` (their weights, term frequencies, as float32 like Whoosh's
blocks) and `common_terms.json` ({field: {word: [start, stop]}}).
Rare words, and indexes with deletions, are read from Whoosh as before.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter

IDS_FILE = "common_ids.npy"
TF_FILE = "common_tf.npy"
TERMS_FILE = "common_terms.json"
FILES = (IDS_FILE, TF_FILE, TERMS_FILE)
MIN_POSTINGS = 256  # two blocks of 128 or more
# Every indexed field a search or a suggestion reads by word (not ids, not dates).
FIELDS = ("title", "body", "tags", "author", "suggest", "category", "tag_key", "author_key", "lang")


class StoredPostingsError(Exception):
    """The arrays are missing, unreadable or do not describe this index."""


CommonTerm = tuple[str, str, int]  # field, word, number of documents


def common_terms(
    reader: Any, fields: Iterable[str] = FIELDS, min_postings: int = MIN_POSTINGS
) -> list[CommonTerm]:
    """Every word of `fields` found in at least `min_postings` documents, in the index's
    order (field by field, words sorted). Each segment's words are counted on their own and
    summed: a reader over several segments merges their word lists one word at a time in
    Python (2.6 s against 0.6 s at 100,000 articles in two segments, the build's last
    seconds, on one core)."""
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    found: list[CommonTerm] = []
    for field in fields:
        if field not in reader.schema:
            continue
        counts: Counter[bytes] = Counter()
        for leaf in leaves:
            for raw, info in leaf.iter_field(field):
                counts[raw] += info.doc_frequency()
        for raw in sorted(counts):  # the index's order: words sorted as bytes
            df = counts[raw]
            if df >= min_postings:
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                found.append((field, text, df))
    return found


Block = tuple["array[int]", "array[float]"]  # a postings block's document numbers and weights


class WrittenPostings:
    """The postings of every word a segment writer finished with at least `floor` postings in
    its segment, kept from the blocks it wrote (document numbers within the segment, weights
    as Whoosh's blocks hold them, float32): the common words' arrays are put together from
    these instead of decoding the blocks again once the index is written (6 s of the build's
    end at 100,000 articles, both cores busy). A segment writer keeps them when made with
    `codec()`; the segment it describes names Whoosh's own codec, as any other."""

    def __init__(self, floor: int) -> None:
        self.floor = max(1, floor)
        self._ids = array("I")
        self._tf = array("f")
        self.spans: dict[tuple[str, bytes], tuple[int, int]] = {}

    def codec(self) -> W3Codec:
        return _KeepingCodec(self)

    def keep(self, field: str, raw: bytes, blocks: Sequence[Block]) -> None:
        start = len(self._ids)
        for ids, weights in blocks:
            self._ids.extend(ids)
            self._tf.extend(weights)
        self.spans[(field, raw)] = (start, len(self._ids))

    def arrays(self, segment: Any) -> SegmentPostings:
        """What was kept for `segment` (the one written), as numpy arrays (sent from a
        writing process to the build's)."""
        kept = SegmentPostings(
            segment.segid,
            np.frombuffer(self._ids, dtype=np.uint32).astype(np.int32),
            np.frombuffer(self._tf, dtype=np.float32).copy(),
            self.spans,
        )
        self._ids, self._tf, self.spans = array("I"), array("f"), {}  # handed over, not kept twice
        return kept


@dataclass(frozen=True)
class SegmentPostings:
    segid: str
    ids: np.ndarray  # int32, within the segment
    tf: np.ndarray  # float32
    spans: dict[tuple[str, bytes], tuple[int, int]]


class _KeepingPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    """Whoosh's postings writer, remembering the blocks of the word it writes."""

    def start_postings(self, format_: Any, terminfo: Any) -> None:
        self.blocks: list[Block] = []
        super().start_postings(format_, terminfo)

    def _write_block(self, last: bool = False) -> None:
        # The block's arrays are replaced, not cleared, once written: keeping them is free.
        self.blocks.append((self._ids, self._weights))
        super()._write_block(last)


class _KeepingFieldWriter(W3FieldWriter):  # type: ignore[misc]
    def __init__(self, codec: _KeepingCodec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._written = codec.written

    def finish_term(self) -> None:
        super().finish_term()
        blocks = self._postwriter.blocks
        count = len(blocks[0][0]) if len(blocks) == 1 else sum(len(ids) for ids, _ in blocks)
        if count >= self._written.floor:
            self._written.keep(self._fieldname, self._btext, blocks)


class _KeepingCodec(W3Codec):  # type: ignore[misc]
    def __init__(self, written: WrittenPostings) -> None:
        super().__init__()
        self.written = written

    def new_segment(self, storage: Any, indexname: str) -> Any:
        # The segment is pickled into the index's table of contents: it names Whoosh's codec.
        return W3Codec().new_segment(storage, indexname)

    def field_writer(self, storage: Any, segment: Any) -> Any:
        return _KeepingFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return _KeepingPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


Gathered = tuple[np.ndarray, np.ndarray, list[int]]  # ids, weights, postings per term


def gather(
    reader: Any, written: Iterable[SegmentPostings], read_leaf: Any, terms: Sequence[CommonTerm]
) -> Gathered:
    """The postings of `terms` over the whole index, one word after the other: from what each
    segment's writer kept (`written`), or, for a word a
    segment holds fewer times than its writer's floor, by `read_leaf(leaf, field, text)`
    (the function searches use, so the arrays are what a search would have read)."""
    if not terms:
        return np.zeros(0, dtype=np.int32), np.zeros(0, np.float32), []
    by_segment = {kept.segid: kept for kept in written}
    parts = []
    for leaf, base in reader.leaf_readers():
        kept = by_segment.get(leaf.segment().segid)
        if kept is None:
            raise ValueError(f"no postings kept for segment {leaf.segment().segid}")
        parts.append((leaf, base, kept, kept.ids + np.int32(base)))
    id_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    counts: list[int] = []
    for field, text, _ in terms:
        raw = text.encode("utf-8")
        count = 0
        for leaf, base, kept, ids in parts:
            span = kept.spans.get((field, raw))
            if span is not None:
                start, stop = span
                id_parts.append(ids[start:stop])
                tf_parts.append(kept.tf[start:stop])
                count += stop - start
                continue
            leaf_ids, weights = read_leaf(leaf, field, text)
            id_parts.append(np.asarray(leaf_ids + base, dtype=np.int32))
            # Whoosh keeps weights as float32 in its blocks: float32 here loses nothing.
            tf_parts.append(np.asarray(weights, dtype=np.float32))
            count += len(leaf_ids)
        counts.append(count)
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    tf = np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.float32)
    return ids, tf, counts


def save_stored_postings(folder: Path, terms: Sequence[CommonTerm], gathered: Gathered) -> int:
    """Save what `gather` put together for `terms`, in order. Returns the number of postings
    saved."""
    ids, tf, counts = gathered  # int32 and float32, as `gather` made them
    spans: dict[str, dict[str, list[int]]] = {}
    at = 0
    for (field, text, _), count in zip(terms, counts, strict=True):
        spans.setdefault(field, {})[text] = [at, at + count]
        at += count
    np.save(folder / IDS_FILE, ids)
    np.save(folder / TF_FILE, tf)
    (folder / TERMS_FILE).write_text(json.dumps(spans, ensure_ascii=False), encoding="utf-8")
    return len(ids)


class StoredPostings:
    """The saved arrays of one index, memory-mapped."""

    def __init__(
        self, ids: np.ndarray, tf: np.ndarray, terms: dict[str, dict[str, list[int]]]
    ) -> None:
        self._ids = ids
        self._tf = tf
        self._terms = terms

    @classmethod
    def empty(cls) -> StoredPostings:
        return cls(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), {})

    @classmethod
    def load(cls, folder: Path, doc_count: int) -> StoredPostings:
        try:
            ids = np.load(folder / IDS_FILE, mmap_mode="r")
            tf = np.load(folder / TF_FILE, mmap_mode="r")
            terms = json.loads((folder / TERMS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problem = f"cannot read the stored postings in {folder}: {exc}"
            raise StoredPostingsError(problem) from exc
        if ids.ndim != 1 or tf.shape != ids.shape:
            raise StoredPostingsError(f"{folder}: stored postings of mismatched shapes")
        if not isinstance(terms, dict) or not all(isinstance(w, dict) for w in terms.values()):
            raise StoredPostingsError(f"{folder}: {TERMS_FILE} is not a map of fields to words")
        if len(ids) and (int(ids.max(initial=0)) >= doc_count or int(ids.min(initial=0)) < 0):
            raise StoredPostingsError(f"{folder}: stored postings name documents not indexed")
        for field, words in terms.items():
            for word, span in words.items():
                if not (
                    isinstance(span, list)
                    and len(span) == 2
                    and all(type(x) is int for x in span)
                    and 0 <= span[0] <= span[1] <= len(ids)
                ):
                    raise StoredPostingsError(f"{folder}: bad span for {field}:{word}")
        return cls(ids, tf, terms)

    def get(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids as int64, weights as float64) of a saved word, or None."""
        span = self._terms.get(field, {}).get(text)
        if span is None:
            return None
        start, stop = span
        return (
            np.asarray(self._ids[start:stop], dtype=np.int64),
            np.asarray(self._tf[start:stop], dtype=np.float64),
        )

    def __len__(self) -> int:
        return sum(len(words) for words in self._terms.values())
