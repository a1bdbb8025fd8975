"""The postings of common words, written beside the index as plain arrays at build time.

A search reads a word's postings from the Whoosh segment a block of 128 at a time, and each
block is a zlib-compressed pickle that also holds the word positions: at 100,000 articles a
common word ("years": 50,000 articles) took 30-40 ms to read, the slowest part of a search the
first time a worker met that word, and the tail of the latency under load (8 clients queue
behind such reads). At build time the index is read once and the document numbers and term
frequencies of every word in at least MIN_POSTINGS articles (the words that span blocks: 6,800
words, 90 % of the body's postings at 100,000 articles) are saved as two arrays that workers
memory-map: reading one is a slice, shared by every worker through the page cache.

Files (in the index folder): `common_ids.npy` (int32 document numbers, word after word, each
word's sorted), `common_tf.npy` (their weights, term frequencies, as float32 like Whoosh's
blocks) and `common_terms.json` ({field: {word: [start, stop]}}).
Rare words, and indexes with deletions, are read from Whoosh as before.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

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


def split_terms(terms: Sequence[CommonTerm], parts: int) -> list[list[CommonTerm]]:
    """`terms` cut into at most `parts` runs of consecutive terms with about as many
    postings each (so processes reading one run each finish together): a term goes to the
    part of the postings its middle posting falls in."""
    total = sum(df for _, _, df in terms)
    runs: list[list[CommonTerm]] = [[] for _ in range(max(1, parts))]
    seen = 0
    for term in terms:
        middle = 2 * seen + term[2]  # twice the middle posting's place, kept in integers
        runs[min(len(runs) - 1, middle * len(runs) // max(1, 2 * total))].append(term)
        seen += term[2]
    return [run for run in runs if run] or [[]]


Gathered = tuple[np.ndarray, np.ndarray, list[int]]  # ids, weights, postings per term


def gather(reader: Any, read: Any, terms: Iterable[CommonTerm]) -> Gathered:
    """The postings of `terms`, one after the other: `read(reader, field, text)` gives one
    word's (ids, weights) over the whole index (the function searches use, so the arrays
    are what a search would have read)."""
    id_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    counts: list[int] = []
    for field, text, _ in terms:
        ids, weights = read(reader, field, text)
        id_parts.append(np.asarray(ids, dtype=np.int32))
        tf_parts.append(np.asarray(weights, dtype=np.float64))
        counts.append(len(ids))
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    # Whoosh keeps weights as float32 in its blocks: float32 here loses nothing.
    tf = np.concatenate(tf_parts).astype(np.float32) if tf_parts else np.zeros(0, np.float32)
    return ids, tf, counts


def save_stored_postings(
    folder: Path, runs: Sequence[Sequence[CommonTerm]], gathered: Sequence[Gathered]
) -> int:
    """Save what `gather` read for each run of terms (`split_terms`), in order. Returns the
    number of postings saved."""
    terms: dict[str, dict[str, list[int]]] = {}
    at = 0
    for run, (_, _, counts) in zip(runs, gathered, strict=True):
        for (field, text, _), count in zip(run, counts, strict=True):
            terms.setdefault(field, {})[text] = [at, at + count]
            at += count
    ids = np.concatenate([g[0] for g in gathered])  # int32 and float32, as `gather` made them
    tf = np.concatenate([g[1] for g in gathered])
    np.save(folder / IDS_FILE, ids)
    np.save(folder / TF_FILE, tf)
    (folder / TERMS_FILE).write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
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
