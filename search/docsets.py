"""Posting lists read as numpy arrays: the documents a query matches, their BM25F scores, and
facet counts, without a Python call per posting.

Whoosh counts a result set only by collecting it, and collecting with facets scores every match
in pure Python (`groupedby` forces an unlimited collector): at 100,000 articles that was most of
a search's time. Here a term's postings are read a block at a time (one decode per 128
postings) and kept per index with each posting's BM25F value, computed once with the very
parameters Whoosh's scorer for that term holds (idf, average length, B, K1: see
`LuceneIdfBM25F` in search/index.py) and the same formula; `And` and `Or` become numpy
intersections and unions whose values add up, as Whoosh's matchers add their children's
scores, and a facet is a `bincount` over a per-document code column. Phrases are scored by
Whoosh itself (it checks word positions), every match, kept for the next call, and combined
like a term; ranges, prefixes and other shapes are matched by Whoosh, and ranked by its
collector. tests/search/test_tiers.py compares every path with Whoosh scoring every match.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import collectors, scoring
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from search.schema import UNDATED
from search.stored_postings import StoredPostings
from search.whoosh_fixes import length_codes

DocSet = np.ndarray  # sorted, unique int64 document numbers

EMPTY: DocSet = np.zeros(0, dtype=np.int64)
NO_VALUES = np.zeros(0, dtype=np.float64)
# Postings kept per index (8-byte id and 8-byte score each): 2,000,000 is 32 MB, the postings
# of a few hundred common words at 100,000 articles.
CACHE_BUDGET = 2_000_000
PHRASE_BUDGET = 200_000  # matches of phrases Whoosh scored, kept with their scores (3 MB)
# A field length as Whoosh decodes it from the byte it keeps per document.
_LENGTHS = np.array([0.0] + [float(byte_to_length(b)) for b in range(1, 256)])


class Unsupported(Exception):
    """The query or index needs Whoosh's own matcher (a phrase, a range, deleted documents)."""


class Deleted(Unsupported):
    """The index has deleted documents, which its postings still list."""


@dataclass(frozen=True)
class Postings:
    """One term's postings over the whole index, with each one's score (before boosts)."""

    ids: DocSet
    scores: np.ndarray


def _leaf_postings(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """Ids and weights (term frequencies) of one segment's posting list, block by block."""
    if type(matcher) is not W3LeafMatcher or matcher._byteids:
        raise Unsupported("not a plain segment posting list")
    ids, weights = [], []
    while matcher.is_active():
        matcher._read_data()
        count = matcher._blocklength
        ids.append(np.cumsum(np.asarray(matcher._data[0], dtype=np.int64)))
        found = matcher._data[1]
        if found is None or isinstance(found, float):
            weights.append(np.full(count, 1.0 if found is None else found))
        else:
            weights.append(np.asarray(found, dtype=np.float64))
        matcher._next_block()
    if not ids:
        return EMPTY, NO_VALUES
    return np.concatenate(ids), np.concatenate(weights)


def leaf_postings(leaf: Any, field: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
    """A word's document numbers (within the segment) and weights in one segment, from
    Whoosh's blocks; empty when the segment lacks the word."""
    if leaf.has_deletions():
        raise Deleted("deleted documents")
    try:
        matcher = leaf.postings(field, text)
    except (TermNotFound, ValueError):
        return EMPTY, NO_VALUES
    return _leaf_postings(matcher)


def read_postings(reader: Any, field: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
    """A word's document numbers and weights over every segment of `reader`, from Whoosh's
    blocks (what search/stored_postings.py saves for common words at build time)."""
    ids, weights = [], []
    for leaf, base in reader.leaf_readers():
        leaf_ids, leaf_weights = leaf_postings(leaf, field, text)
        if len(leaf_ids):
            ids.append(leaf_ids + base)
            weights.append(leaf_weights)
    if not ids:
        return EMPTY, NO_VALUES
    return np.concatenate(ids), np.concatenate(weights)


def _compound(query: wq.Query) -> bool:
    """An And, or an Or without a minimum match or coordination scaling: the shapes whose
    scores are their children's added up."""
    if isinstance(query, wq.And):
        return True
    return isinstance(query, wq.Or) and not query.minmatch and not getattr(query, "scale", None)


def _values_at(postings: Postings, docs: DocSet) -> np.ndarray:
    """The scores of `postings` at `docs`, all of which it has."""
    return postings.scores[np.searchsorted(postings.ids, docs)]


class _PostingsCache:
    """Postings by key, least recently used out once they hold more than `budget` postings
    in all (an entry bigger than the budget is not kept). Thread-safe."""

    def __init__(self, budget: int) -> None:
        self._entries: OrderedDict[Any, Postings] = OrderedDict()
        self._held = 0
        self._budget = budget
        self._lock = threading.Lock()

    def get(self, key: Any) -> Postings | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Any, found: Postings) -> None:
        with self._lock:
            if key in self._entries or len(found.ids) > self._budget:
                return
            self._entries[key] = found
            self._held += len(found.ids)
            while self._held > self._budget:
                _, dropped = self._entries.popitem(last=False)
                self._held -= len(dropped.ids)


class DocSets:
    """Match sets and scores of queries over one read-only index (whose postings never
    change), with a bounded cache of term postings and per-field length and facet columns.
    Thread-safe; the searcher passed in must belong to this index."""

    def __init__(
        self, size: int, stored: StoredPostings | None = None, budget: int = CACHE_BUDGET
    ) -> None:
        self.size = size  # documents in the index (numbers run from 0 to size - 1)
        # Common words' postings saved at build time (stored_postings.py); others from Whoosh.
        self._stored = stored if stored is not None else StoredPostings.empty()
        self._terms = _PostingsCache(budget)
        self._phrases = _PostingsCache(PHRASE_BUDGET)
        self._columns: dict[tuple[str, str], Any] = {}
        # Why this index cannot be read as arrays (deleted documents), once found.
        self._unsupported = ""
        self._lock = threading.Lock()

    def forget_stored(self) -> None:
        """Drop this index's saved arrays (its snapshot is closed); Whoosh's blocks remain."""
        self._stored = StoredPostings.empty()

    # ---- set algebra: a flag per document of the index (100,000 flags are 100 KB) beats
    # sorting the concatenated arrays, which is what numpy's union1d and intersect1d do.

    def union(self, sets: Iterable[DocSet]) -> DocSet:
        present = [s for s in sets if len(s)]
        if len(present) <= 1:
            return present[0] if present else EMPTY
        marks = np.zeros(self.size, dtype=bool)
        for docs in present:
            marks[docs] = True
        return np.flatnonzero(marks)

    def intersection(self, sets: list[DocSet]) -> DocSet:
        ordered = sorted(sets, key=len)
        found = ordered[0]
        for other in ordered[1:]:
            if not len(found):
                break
            if len(found) * 16 < len(other):  # few against many: binary search
                at = np.minimum(np.searchsorted(other, found), len(other) - 1)
                found = found[other[at] == found]
            else:
                marks = np.zeros(self.size, dtype=bool)
                marks[other] = True
                found = found[marks[found]]
        return found

    def difference(self, docs: DocSet, remove: DocSet) -> DocSet:
        if not len(docs) or not len(remove):
            return docs
        marks = np.zeros(self.size, dtype=bool)
        marks[remove] = True
        kept: DocSet = docs[~marks[docs]]
        return kept

    def _sum_union(self, parts: list[Postings]) -> Postings:
        """Every document of `parts` with the sum of its scores there (added in the order of
        `parts`, as Whoosh's union adds its children's)."""
        present = [p for p in parts if len(p.ids)]
        if len(present) <= 1:
            return present[0] if present else Postings(EMPTY, NO_VALUES)
        marks = np.zeros(self.size, dtype=bool)
        sums = np.zeros(self.size)
        for part in present:
            marks[part.ids] = True
            sums[part.ids] += part.scores  # ids are unique within a part
        docs = np.flatnonzero(marks)
        return Postings(docs, sums[docs])

    # ---- match sets ----------------------------------------------------------------------

    def of(self, searcher: Any, query: wq.Query | None) -> DocSet:
        """The documents `query` matches (None matches nothing)."""
        if query is None:
            return EMPTY
        try:
            if isinstance(query, wq.Term):
                return self.term(searcher, query.fieldname, query.text).ids
            if _compound(query):
                parts = [self.of(searcher, q) for q in query.subqueries]
                if not parts:
                    return EMPTY
                is_and = isinstance(query, wq.And)
                return self.intersection(parts) if is_and else self.union(parts)
            if isinstance(query, wq.Phrase):
                return self._phrase(searcher, query).ids  # scored once, for the ranking too
        except Unsupported:
            pass
        if isinstance(query, wq.NumericRange) and column_only(searcher.schema, query.fieldname):
            return self._range(searcher, query)
        # Date ranges of older indexes, prefixes and any other shape: Whoosh's own matcher,
        # unscored.
        return np.unique(np.fromiter(searcher.docs_for_query(query), dtype=np.int64))

    # ---- scores --------------------------------------------------------------------------

    def scores(self, searcher: Any, query: wq.Query) -> Postings | None:
        """Every match of `query` with its score as Whoosh would give it, or None when the
        query has a part (a prefix, a range) that only Whoosh's collector should rank."""
        try:
            return self._scored(searcher, query)
        except Unsupported:
            return None

    def _scored(self, searcher: Any, query: wq.Query) -> Postings:
        if isinstance(query, wq.Phrase):
            return self._phrase(searcher, query)  # its boost is in Whoosh's scores
        if not isinstance(query, wq.Term) and not _compound(query):
            raise Unsupported(type(query).__name__)
        if isinstance(query, wq.Term):
            found = self.term(searcher, query.fieldname, query.text)
        elif len(query.subqueries) <= 1:
            # Whoosh matches a compound of one child as the child alone, its boost unused.
            if not query.subqueries:
                return Postings(EMPTY, NO_VALUES)
            return self._scored(searcher, query.subqueries[0])
        elif isinstance(query, wq.Or):
            found = self._sum_union([self._scored(searcher, q) for q in query.subqueries])
        else:
            parts = [self._scored(searcher, q) for q in query.subqueries]
            docs = self.intersection([p.ids for p in parts])
            values = np.zeros(len(docs))
            for part in parts:
                values = values + _values_at(part, docs)
            found = Postings(docs, values)
        if query.boost != 1.0:
            found = Postings(found.ids, found.scores * query.boost)
        return found

    def _phrase(self, searcher: Any, query: wq.Phrase) -> Postings:
        """A phrase scored by Whoosh, every match (it checks word positions); kept for the
        next call, since a search asks for a tier's documents and then for their scores."""
        if self._unsupported:
            raise Unsupported(self._unsupported)
        key = repr(query)
        found = self._phrases.get(key)
        if found is None:
            pairs = sorted((hit.docnum, hit.score) for hit in searcher.search(query, limit=None))
            found = Postings(
                np.fromiter((d for d, _ in pairs), dtype=np.int64, count=len(pairs)),
                np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs)),
            )
            self._phrases.put(key, found)
        return found

    # ---- terms ---------------------------------------------------------------------------

    def term(self, searcher: Any, field: str, text: Any) -> Postings:
        found = self._terms.get((field, text))
        if found is None:
            found = self._read_term(searcher, field, text)
            self._terms.put((field, text), found)
        return found

    def _read_term(self, searcher: Any, field: str, text: Any) -> Postings:
        stored = self._stored.get(field, text) if isinstance(text, str) else None
        if stored is not None:
            docs, tf = stored
        else:
            docs, tf = self._read_segments(searcher.reader(), field, text)
        if not len(docs):
            return Postings(EMPTY, NO_VALUES)
        return Postings(docs, self._term_scores(searcher, field, text, docs, tf))

    def _read_segments(self, reader: Any, field: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
        if self._unsupported:
            raise Unsupported(self._unsupported)
        try:
            return read_postings(reader, field, text)
        except Deleted as exc:  # for good: the index is what it is (one word's odd block is not)
            self._unsupported = str(exc)
            raise

    def _term_scores(
        self, searcher: Any, field: str, text: Any, docs: DocSet, tf: np.ndarray
    ) -> np.ndarray:
        """Each posting's score, from the scorer Whoosh would use for this term."""
        scorer = searcher.weighting.scorer(searcher, field, text)
        if isinstance(scorer, scoring.WeightScorer):
            return tf
        if not isinstance(scorer, scoring.BM25FScorer):
            raise Unsupported(type(scorer).__name__)
        length = self.lengths(searcher, field)[docs]
        idf, avgfl = float(scorer.idf), float(scorer.avgfl)
        b, k1 = float(scorer.B), float(scorer.K1)
        # whoosh.scoring.bm25, term by term in the same order, so the values are the same.
        values: np.ndarray = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avgfl)))
        return values

    def lengths(self, searcher: Any, field: str) -> np.ndarray:
        """Each document's length of `field`, as Whoosh decodes it for scoring."""

        def read(leaf: Any, count: int) -> np.ndarray:
            codes = length_codes(leaf._perdoc, field)
            if codes is None:
                return np.zeros(count)
            return _LENGTHS[np.frombuffer(codes, dtype=np.uint8)]

        return self._per_document(searcher, ("length", field), read)

    def column(self, searcher: Any, field: str) -> np.ndarray:
        """Each document's value of a sortable numeric field (its column), as int64."""

        def read(leaf: Any, count: int) -> np.ndarray:
            values = leaf.column_reader(field)
            return np.fromiter((values[i] for i in range(count)), np.int64, count=count)

        return self._per_document(searcher, ("column", field), read)

    def _range(self, searcher: Any, query: wq.NumericRange) -> DocSet:
        """The documents whose column value for the query's field lies in its range (a date
        filter: schema.py keeps the published time as a column only). Bounds as Whoosh's
        range reads them; a document without a value (UNDATED) is in no range."""
        values = self.column(searcher, query.fieldname)
        keep = values != UNDATED
        if query.start is not None:
            keep &= values > query.start if query.startexcl else values >= query.start
        if query.end is not None:
            keep &= values < query.end if query.endexcl else values <= query.end
        reader = searcher.reader()
        if reader.has_deletions():
            live = np.zeros(len(values), dtype=bool)
            live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
            keep &= live
        return np.flatnonzero(keep)

    def _per_document(
        self, searcher: Any, key: tuple[str, str], read: Callable[[Any, int], np.ndarray]
    ) -> np.ndarray:
        """A value per document of the index, read segment by segment once, then kept."""
        with self._lock:
            found = self._columns.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        leaves = searcher.reader().leaf_readers()
        parts = [read(leaf, leaf.doc_count_all()) for leaf, _ in leaves]
        values = np.concatenate(parts) if parts else NO_VALUES
        with self._lock:
            self._columns[key] = values
        return values

    # ---- facets --------------------------------------------------------------------------

    def facet(self, searcher: Any, field: str, docs: DocSet) -> dict[str, int]:
        """How many of `docs` have each value of `field` (documents with none are left out)."""
        codes, names = self._facet_codes(searcher, field)
        if not len(docs) or not names:
            return {}
        picked = codes[docs]
        counts = np.bincount(picked[picked >= 0], minlength=len(names))
        return {names[i]: int(n) for i, n in enumerate(counts) if n}

    def _facet_codes(self, searcher: Any, field: str) -> tuple[np.ndarray, list[str]]:
        with self._lock:
            found = self._columns.get(("facet", field))
        if found is not None:
            return found  # type: ignore[no-any-return]
        reader = searcher.reader()
        codes = np.full(reader.doc_count_all(), -1, dtype=np.int32)
        names: list[str] = []
        for raw in reader.field_terms(field):
            name = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            codes[self.of(searcher, wq.Term(field, raw))] = len(names)
            names.append(name)
        with self._lock:
            self._columns[("facet", field)] = (codes, names)
        return codes, names


def column_only(schema: Any, fieldname: str) -> bool:
    """Whether the index keeps `fieldname` as a column and indexes no terms for it (the
    dates since schema 6; `published_at` of older indexes has terms and no column)."""
    if fieldname not in schema:
        return False
    field = schema[fieldname]
    return not field.indexed and field.column_type is not None


def top(found: Postings, docs: DocSet, limit: int) -> list[tuple[int, float]]:
    """The best `limit` of `docs` by score, ties by document number (Whoosh's order)."""
    if len(docs) < len(found.ids):
        found = Postings(docs, found.scores[np.searchsorted(found.ids, docs)])
    scores = found.scores
    if len(scores) > limit:
        # Everything scoring at least the limit-th best, then a full order of just those.
        cut = -np.partition(-scores, limit - 1)[limit - 1]
        keep = np.flatnonzero(scores >= cut)
        order = keep[np.lexsort((found.ids[keep], -scores[keep]))][:limit]
    else:
        order = np.lexsort((found.ids, -scores))
    return [(int(d), float(v)) for d, v in zip(found.ids[order], scores[order], strict=True)]


def whoosh_top(
    searcher: Any,
    query: wq.Query,
    limit: int,
    allow: set[int] | None = None,
    restrict: set[int] | None = None,
) -> list[tuple[int, float]]:
    """The best `limit` matches of `query` (within `allow`) ranked by Whoosh itself, for the
    shapes the posting arrays leave to it. Top-N with block-max skipping, but without
    Whoosh's "matcher replacement" (every 10 matches it rewrites an OR whose parts cannot
    reach the N-th score): that rewrite lost documents of AND-of-OR queries (on 30,000
    articles, the 3rd best story of "howard rejects"); tests/search/test_tiers.py shows it.
    `allow`: only these documents; `restrict`: never these."""
    collector: Any = collectors.TopCollector(limit, usequality=True, replace=0)
    if allow is not None or restrict:
        collector = collectors.FilterCollector(collector, allow=allow, restrict=restrict)
    searcher.search_with_collector(query, collector)
    return [(hit.docnum, float(hit.score or 0.0)) for hit in collector.results()]
