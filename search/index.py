"""Open a built index read-only and answer searches: tiers, filters, facets, pages, snippets."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from search import IndexUnavailable
from search.aliases import AliasTable
from search.analysis import fold, phonetic_key
from search.build import build_memory_index
from search.docsets import EMPTY, DocSet, DocSets, column_only, top, whoosh_top
from search.highlight import snippet
from search.query import FIELD_WEIGHTS, Filters, QueryPlan, filter_query, parse, plan, render
from search.schema import UNDATED, SearchDoc
from search.spelling import correct
from search.stored_postings import StoredPostings, StoredPostingsError
from search.suggest import Suggestions, suggest
from search.words import WordCounts, WordsError

Sort = Literal["relevance", "newest"]


@dataclass(frozen=True)
class Recency:
    """Blend freshness into relevance: score x (1 + weight x 0.5 ** (age_days / half_life))."""

    weight: float
    half_life_days: float
    now: float  # seconds since the epoch, UTC

    def factor(self, published_ts: int) -> float:
        if published_ts == UNDATED:
            return 1.0
        age_days = max(0.0, (self.now - published_ts) / 86_400)
        return 1.0 + self.weight * float(0.5 ** (age_days / self.half_life_days))


@dataclass(frozen=True)
class SearchRequest:
    text: str
    page: int = 1
    per_page: int = 10
    filters: Filters = field(default_factory=Filters)
    sort: Sort = "relevance"
    snippets: bool = True
    recency: Recency | None = None
    suggest_corrections: bool = True
    aliases: AliasTable | None = None  # name variants searched together (search/aliases.py)
    # When at most FEW_HITS articles have every word: also match romanised spelling variants
    # (`phonetic`) and the corrected spelling of likely typos (`fuzzy`), each in a tier of
    # its own below the exact matches.
    phonetic: bool = True
    fuzzy: bool = True
    # Matches related to the best ones rise among the rest (`RelatedLift`), when the index
    # has the snapshot's related lists; sorted by relevance only.
    related_lift: bool = True


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    url: str | None
    category: str | None
    author: str | None
    published_at: str | None
    score: float | None
    snippet: str


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]]
    corrected_query: str | None = None


# Recency re-ranks this many leading results of each tier (beyond it, pure BM25F order).
RECENCY_WINDOW = 100
# The related lift (`RelatedLift`): the best LIFT_SOURCES matches lend their related lists to
# the matches at positions LIFT_KEEP to LIFT_DEPTH - 1, weighted by LIFT_WEIGHT, each tier's
# run of those positions sorted again.
# Chosen on SciFact's train split (README, Quality): recall@100 0.9351 -> 0.9426, MAP
# 0.664 -> 0.6652; test 0.9287 -> 0.935, MAP 0.6755 -> 0.6766; nDCG@10 cannot move.
LIFT_SOURCES = 10
LIFT_KEEP = 10
LIFT_DEPTH = 300
LIFT_WEIGHT = 0.5
# "Did you mean", spelling variants and typo correction are tried only when at most this many
# articles have every word as typed.
FEW_HITS = 2
MAX_RESPELLINGS = 5  # spelling variants of one word searched, the commonest first


class CorpusStats:
    """A snapshot index's collection statistics (document count, document frequencies,
    average field lengths), read through one reader under a lock. The small in-memory index
    of changed articles scores with these, so its scores compare with the snapshot's: with
    its own (a few documents) every word would look rare."""

    def __init__(self, ix: Any) -> None:
        self._reader = ix.reader()
        self._lock = threading.Lock()

    def doc_count(self) -> int:
        with self._lock:
            return int(self._reader.doc_count_all())

    def doc_frequency(self, fieldname: str, text: bytes) -> int:
        with self._lock:
            return int(self._reader.doc_frequency(fieldname, text))

    def avg_field_length(self, fieldname: str) -> float:
        with self._lock:
            total = self._reader.field_length(fieldname)
            return float(total) / max(1, int(self._reader.doc_count_all()))

    def close(self) -> None:
        self._reader.close()


class LuceneIdfBM25F(scoring.BM25F):  # type: ignore[misc]
    """BM25F with Lucene's idf, log(1 + (N - df + 0.5) / (df + 0.5)), instead of Whoosh's
    log(N / (df + 1)) + 1, which gives common words too much weight in long queries.
    With `stats`, N, df and average field lengths come from there (see CorpusStats)."""

    stats: CorpusStats | None = None

    def scorer(self, searcher: Searcher, fieldname: str, text: bytes, qf: int = 1) -> Any:
        found = super().scorer(searcher, fieldname, text, qf)
        if isinstance(found, scoring.BM25FScorer):
            if self.stats is not None:
                n = self.stats.doc_count()
                df = self.stats.doc_frequency(fieldname, text)
                found.avgfl = self.stats.avg_field_length(fieldname) or 1
            else:
                parent = searcher.get_parent()
                n = parent.doc_count_all()
                df = parent.doc_frequency(fieldname, text)
            found.idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            # The bound that lets a top-N search skip posting blocks was computed with
            # Whoosh's idf and field lengths: recompute it with the ones that score.
            info = searcher.term_info(fieldname, text)
            found._maxquality = found._score(info.max_weight(), info.min_length())
        return found


def weighting(stats: CorpusStats | None = None) -> scoring.WeightingModel:
    """BM25F as served (k1 1.2, b 0.75); per-field b is lower for titles and tags (short, so
    length says little)."""
    model = LuceneIdfBM25F(B=0.75, K1=1.2, title_B=0.5, tags_B=0.3)
    model.stats = stats
    return model


@dataclass(frozen=True)
class RelatedLift:
    """Matches that the best matches' related lists name rise among the other matches: the
    cluster hypothesis (stories about one subject are relevant together), which finds the
    abstracts or stories that say the same thing in other words.

    `neighbours[d]` and `scores[d]` are the precomputed related articles of the index's
    document `d` (its row in the snapshot's related model: both halves are built from one
    list of articles, in its order; -1 pads a short list) and their scores. A match `d` at
    position LIFT_KEEP to LIFT_DEPTH - 1 of the whole ranking scores
    `score(d) + weight x best x sum over the best `sources` matches s of
    (score(s) / best) x related(s, d)`, and each tier's run of those positions is sorted
    again (so a tier's matches stay together). The first page and the set of matches (total,
    facets) stay as they are; only the snapshot's own documents lend or gain (not the
    articles changed since the build)."""

    neighbours: np.ndarray
    scores: np.ndarray
    sources: int = LIFT_SOURCES
    keep: int = LIFT_KEEP
    depth: int = LIFT_DEPTH
    weight: float = LIFT_WEIGHT

    def bonus(self, best: list[tuple[int, float]], top: float) -> dict[int, float]:
        """Document -> sum of (source's score / `top`) x related score, over `best`."""
        found: dict[int, float] = {}
        for docnum, score in best:
            share = score / top
            for col, related in zip(
                self.neighbours[docnum].tolist(), self.scores[docnum].tolist(), strict=True
            ):
                if col < 0:
                    break
                found[col] = found.get(col, 0.0) + share * related
        return found

    def apply(
        self, ranked: list[tuple[_Part, int, float | None]], bounds: list[int], own: _Part
    ) -> list[tuple[_Part, int, float | None]]:
        """`ranked` (tiers one after another, `bounds` the start of each and the end) with
        each tier's positions `keep` to `depth` - 1 lifted and sorted again."""
        best = [
            (docnum, score)
            for part, docnum, score in ranked[: self.sources]
            if part is own and score is not None and score > 0
        ]
        top = ranked[0][2] if ranked else None
        if not best or top is None or top <= 0:
            return ranked
        bonus = self.bonus(best, top)
        if not bonus:
            return ranked
        scale = self.weight * top
        out = list(ranked)
        for start, end in pairwise(bounds):
            start, end = max(start, self.keep), min(end, self.depth)
            if end - start < 2:
                continue
            lifted = [
                (part, docnum, score + scale * bonus.get(docnum, 0.0) if part is own else score)
                for part, docnum, score in ranked[start:end]
                if score is not None
            ]
            if len(lifted) != end - start:
                continue
            lifted.sort(key=lambda entry: -entry[2])  # stable
            out[start:end] = lifted
        return out


class SearchIndex:
    """A read-only index plus one cached searcher per thread (Whoosh searchers are not
    thread-safe, and opening one per query is slow)."""

    def __init__(
        self,
        ix: Any,
        path: Path | None,
        words: WordCounts,
        stats: CorpusStats | None = None,
        stored: StoredPostings | None = None,
    ) -> None:
        self._borrowed_stats = stats
        self.words = words
        self._own_stats: CorpusStats | None = None
        self._ix = ix
        self.path = path
        self._idle: list[Searcher] = []
        self._hidden_cache: dict[frozenset[str], frozenset[int]] = {}
        self._opened = 0
        self._lock = threading.Lock()
        self._closed = False
        self._words: tuple[dict[str, list[str]], dict[str, tuple[str, ...]]] | None = None
        self.docsets = DocSets(int(ix.doc_count_all()), stored)
        self.lift: RelatedLift | None = None

    def use_related(self, neighbours: np.ndarray, scores: np.ndarray) -> None:
        """Lift matches by these related lists (row = this index's document number: the
        snapshot checks that its two halves list the articles in one order)."""
        if len(neighbours) != self.doc_count or len(scores) != self.doc_count:
            raise ValueError(
                f"related lists for {len(neighbours)} articles, the index has {self.doc_count}"
            )
        self.lift = RelatedLift(neighbours, scores)

    @classmethod
    def open(cls, path: str | Path) -> SearchIndex:
        folder = Path(path)
        try:
            # readonly: serving code must never ask for a writer (it would leave MAIN.tmp).
            ix = whoosh_index.open_dir(str(folder), readonly=True)
        except (OSError, whoosh_index.EmptyIndexError) as exc:
            raise IndexUnavailable(f"cannot open search index at {folder}: {exc}") from exc
        with ix.reader() as reader:
            # Not ours (builds write whole indexes), but the saved arrays would still list
            # the deleted documents: such an index is read from Whoosh's blocks only.
            deletions = reader.has_deletions()
        try:
            words = WordCounts.load(folder)
            stored = None if deletions else StoredPostings.load(folder, int(ix.doc_count_all()))
        except (WordsError, StoredPostingsError) as exc:
            raise IndexUnavailable(str(exc)) from exc
        return cls(ix, folder, words, stored=stored)

    @classmethod
    def in_memory(cls, docs: Iterable[SearchDoc], scored_like: SearchIndex) -> SearchIndex:
        """An index of a few documents held in memory (articles changed since a build), whose
        scores use `scored_like`'s collection statistics so the two rank as one."""
        docs = list(docs)
        words = WordCounts.of((doc.title, doc.body) for doc in docs)
        return cls(build_memory_index(docs), None, words, scored_like.stats())

    def stats(self) -> CorpusStats:
        with self._lock:
            if self._own_stats is None:
                self._own_stats = CorpusStats(self._ix)
            return self._own_stats

    def sound_alikes(self) -> dict[str, list[str]]:
        """Indexed words (unstemmed, as in titles and bodies) by phonetic key, commonest
        first; built on first use from the word list, about a second per 300,000 distinct
        words, instead of a second indexed copy of every text."""
        return self._vocabulary()[0]

    def words_by_initial(self) -> dict[str, tuple[str, ...]]:
        """The same vocabulary by first letter: where "did you mean" looks for respellings."""
        return self._vocabulary()[1]

    def _vocabulary(self) -> tuple[dict[str, list[str]], dict[str, tuple[str, ...]]]:
        with self._lock:
            if self._words is not None:
                return self._words
        found: dict[str, list[tuple[int, str]]] = {}
        initials: dict[str, set[str]] = {}
        for word, count in self.words.items():
            initials.setdefault(word[:1], set()).add(word)
            sound = phonetic_key(word)
            if sound is not None:
                found.setdefault(sound, []).append((-count, word))
        sounds = {k: list(dict.fromkeys(w for _, w in sorted(v))) for k, v in found.items()}
        words = (sounds, {k: tuple(sorted(v)) for k, v in initials.items()})
        with self._lock:
            self._words = words
        return words

    def warm(self) -> None:
        """Build what the first searches would otherwise wait for: the vocabulary (spelling
        variants, did you mean), the category facet codes, the text fields' lengths and the
        date columns (sorting by date, date filters). A server calls this before it swaps a
        new snapshot in."""
        if not self.doc_count:
            return
        self._vocabulary()
        with self.searching() as searcher:
            self.docsets.facet(searcher, "category", EMPTY)
            for field_name in FIELD_WEIGHTS:
                self.docsets.lengths(searcher, field_name)
            for field_name in ("sort_date", "published_at"):
                if column_only(searcher.schema, field_name):
                    self.docsets.column(searcher, field_name)

    @property
    def doc_count(self) -> int:
        return int(self._ix.doc_count())

    @contextmanager
    def searching(self) -> Iterator[Searcher]:
        """A searcher for one call. Whoosh searchers must not be shared between threads, and
        opening one per query is slow, so they are pooled: at most as many exist as calls have
        run at once, whichever threads make them (anyio retires idle threads)."""
        with self._lock:
            searcher = self._idle.pop() if self._idle else None
        if searcher is None:
            searcher = self._ix.searcher(weighting=weighting(self._borrowed_stats))
            with self._lock:
                self._opened += 1
        try:
            yield searcher
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.append(searcher)
            if closed:
                searcher.close()

    def _docnums(self, searcher: Searcher, ids: frozenset[str]) -> frozenset[int]:
        """Document numbers of `ids` in this (read-only, so unchanging) index, cached."""
        if not ids:
            return frozenset()
        with self._lock:
            found = self._hidden_cache.get(ids)
        if found is None:
            numbers = (searcher.document_number(id=article_id) for article_id in ids)
            found = frozenset(n for n in numbers if n is not None)
            with self._lock:
                if len(self._hidden_cache) > 4:
                    self._hidden_cache.clear()
                self._hidden_cache[ids] = found
        return found

    @property
    def searchers_opened(self) -> int:
        return self._opened

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._closed = True
        for searcher in idle:
            searcher.close()
        if self._own_stats is not None:
            self._own_stats.close()
        self._ix.close()
        # Let the saved arrays' mappings go with the last slice a running search still holds
        # (closing them under it would crash it): a pruned snapshot's files are then freed.
        self.docsets.forget_stored()

    def ids_of(self, docnums: Iterable[int]) -> list[str]:
        """The article ids of these document numbers."""
        with self.searching() as searcher:
            return [str(searcher.stored_fields(d)["id"]) for d in docnums]

    def document(self, article_id: str) -> dict[str, Any] | None:
        """Stored fields of one article, or None."""
        with self.searching() as searcher:
            stored: dict[str, Any] | None = searcher.document(id=article_id)
        return stored

    def suggest(
        self,
        text: str,
        limit: int,
        *,
        hide: frozenset[str] = frozenset(),
        extra: SearchIndex | None = None,
        aliases: AliasTable | None = None,
        phonetic: bool = True,
    ) -> Suggestions:
        """Completions from this index; titles from it (less `hide`) and from `extra`."""
        sounds = self.sound_alikes() if phonetic else None
        with self.searching() as searcher:
            hidden = self._docnums(searcher, hide)
            found = suggest(searcher, self.docsets, text, limit, hidden, aliases, sounds)
        if extra is None:
            return found
        with extra.searching() as searcher:
            more = suggest(searcher, extra.docsets, text, limit)
        titles = (*more.titles, *found.titles)[:limit]
        completions = tuple(dict.fromkeys((*found.completions, *more.completions)))[:limit]
        return Suggestions(completions, titles)

    def search(
        self,
        request: SearchRequest,
        *,
        hide: frozenset[str] = frozenset(),
        extra: SearchIndex | None = None,
    ) -> SearchResults:
        """Search this index, leaving out the articles in `hide`, together with `extra` (a
        small index of articles changed since this one was built), ranked as one list."""
        query_plan = plan(request.text, request.aliases)
        if query_plan.strict is None or query_plan.loose is None:
            with self.searching() as searcher:
                return SearchResults(
                    0, (), {"category": {}}, self._correction(searcher, request, 0, None)
                )
        offset = (request.page - 1) * request.per_page
        boosted = bool(
            request.sort == "relevance" and request.recency and request.recency.weight > 0
        )
        with ExitStack() as stack:
            searcher = stack.enter_context(self.searching())
            indexes = [(self, searcher, self._docnums(searcher, hide))]
            if extra is not None:
                indexes.append((extra, stack.enter_context(extra.searching()), frozenset()))
            return self._search(query_plan, request, indexes, offset, boosted)

    def _search(
        self,
        query_plan: QueryPlan,
        request: SearchRequest,
        indexes: list[tuple[SearchIndex, Searcher, frozenset[int]]],
        offset: int,
        boosted: bool,
    ) -> SearchResults:
        """Tiers in order, each leaving out what an earlier one matched. Every tier's documents
        are counted (total, facets) as unscored sets; Whoosh scores a tier only if the page
        reaches into it, and then only its best `limit` (block-max skipping)."""
        wanted = offset + request.per_page
        lift = self.lift if request.related_lift and request.sort == "relevance" else None
        # Each tier the page reaches is ranked this deep at least, whatever the page: the
        # recency boost reorders its first RECENCY_WINDOW matches, and the related lift the
        # matches above overall position `lift.depth`.
        floor = RECENCY_WINDOW if boosted else 1
        depth = lift.depth if lift is not None else 1
        window = max(wanted, floor, depth)
        assert query_plan.strict is not None and query_plan.loose is not None
        # Sorted by date, only the articles with every word are listed (if any has them all):
        # a date-ordered list of partial matches would bury the story under noise.
        newest = request.sort == "newest"
        parts = [
            _Part(index, searcher, hidden, query_plan, request)
            for index, searcher, hidden in indexes
        ]
        firsts = [part.tier(query_plan.strict) for part in parts]
        complete = sum(len(docs) for docs in firsts)
        also = indexes[1][0].words if len(indexes) > 1 else None
        correction = self._correction(indexes[0][1], request, complete, also)
        tiers: list[tuple[wq.Query, list[DocSet]]] = [(query_plan.strict, firsts)]
        terms = set(query_plan.body_terms)
        if not newest and complete <= FEW_HITS:
            for extra_plan in self._variant_plans(request, indexes, correction):
                assert extra_plan.strict is not None
                tiers.append((extra_plan.strict, [p.tier(extra_plan.strict) for p in parts]))
                terms |= extra_plan.body_terms
        if newest and complete == 0 and query_plan.tiered:
            tiers = [(query_plan.loose, [p.tier(query_plan.loose) for p in parts])]
        elif query_plan.tiered and not newest:
            # Documents with every word come first; the rest follow, ranked among themselves.
            tiers.append((query_plan.loose, [p.tier(query_plan.loose) for p in parts]))
        ranked: list[tuple[_Part, int, float | None]] = []
        bounds = [0]
        listed = 0
        for number, (query, docs) in enumerate(tiers):
            if listed >= wanted:
                break  # the page is full: later tiers are counted, never scored
            limit = window if number == 0 else max(wanted - listed, floor, depth - listed)
            entries = [
                (key, part, docnum, score)
                for part, found in zip(parts, docs, strict=True)
                for key, docnum, score in part.ranked(query, found, limit)
            ]
            entries.sort(key=lambda entry: -entry[0])  # stable: ties keep Whoosh's order
            ranked.extend((part, docnum, score) for _, part, docnum, score in entries)
            bounds.append(len(ranked))
            listed += sum(min(len(found), limit) for found in docs)
        if lift is not None:
            ranked = lift.apply(ranked, bounds, parts[0])
        marked = frozenset(terms) if request.snippets else None
        page = tuple(
            _hit(
                part.searcher.stored_fields(docnum),
                marked,
                score,
                scored=request.sort == "relevance",
            )
            for part, docnum, score in ranked[offset : offset + request.per_page]
        )
        matched = [part.sets.union(found[i] for _, found in tiers) for i, part in enumerate(parts)]
        total = sum(len(docs) for docs in matched)
        return SearchResults(total, page, _facets(parts, matched), correction)

    def _variant_plans(
        self,
        request: SearchRequest,
        indexes: list[tuple[SearchIndex, Searcher, frozenset[int]]],
        correction: str | None,
    ) -> list[QueryPlan]:
        """The strict tiers tried when exact matches are few: every word or its romanised
        spelling variants, then the corrected query ("did you mean")."""
        found: list[QueryPlan] = []
        if request.phonetic:
            maps = [index.sound_alikes() for index, _, _ in indexes]

            def respell(word: str) -> list[str]:
                sound = phonetic_key(word)
                if sound is None:
                    return []
                typed = fold(word.lower())
                alikes = [w for m in maps for w in m.get(sound, ()) if w != typed]
                return list(dict.fromkeys(alikes))[:MAX_RESPELLINGS]

            sounding = plan(request.text, request.aliases, respell)
            if sounding.respelt and sounding.strict is not None:
                found.append(sounding)
        if request.fuzzy and correction is not None:
            corrected = plan(correction, request.aliases)
            if corrected.strict is not None:
                found.append(corrected)
        return found

    def _correction(
        self,
        searcher: Searcher,
        request: SearchRequest,
        complete: int,
        also: WordCounts | None,
    ) -> str | None:
        """A corrected query when few articles have all the words typed. Words the index has
        never seen are respelt first (that alone is offered: they matched nothing); if there
        are none, rare known words are, and offered only if more articles then have them all."""
        if not request.suggest_corrections or complete > FEW_HITS:
            return None
        clauses = parse(request.text)
        # Respelling known words is a long shot: only when nothing has every word.
        for known_too in (False, True) if complete == 0 else (False,):
            fixed = correct(
                self.words, clauses, self.words_by_initial(), known_too=known_too, also=also
            )
            if fixed is None:
                continue
            text = render(fixed)
            if (
                not known_too
                or _complete_matches(searcher, self.docsets, text, request.filters) > complete
            ):
                return text
        return None


def _complete_matches(searcher: Searcher, sets: DocSets, text: str, filters: Filters) -> int:
    """How many articles allowed by `filters` have every word of `text`."""
    text_plan = plan(text)
    if text_plan.strict is None:
        return 0
    query = filter_query(filters)
    # The filters as the documents they allow (a date filter reads a column, which Whoosh's
    # own filter query would not); Whoosh takes an empty set as no filter at all.
    allowed = None if query is None else set(sets.of(searcher, query).tolist())
    if allowed is not None and not allowed:
        return 0
    found = searcher.search(text_plan.strict, limit=1, filter=allowed, mask=text_plan.exclude)
    return len(found)


Entry = tuple[float, int, float | None]  # ranking key, document number, score to report


def _hit(
    stored: dict[str, Any], terms: frozenset[str] | None, score: float | None, *, scored: bool
) -> Hit:
    return Hit(
        id=stored["id"],
        title=stored["title"],
        url=stored.get("url"),
        category=stored.get("category"),
        author=stored.get("author"),
        published_at=stored.get("published_at_text"),
        # Sorted by date, Whoosh computes no relevance: say so rather than invent one.
        score=round(score, 4) if scored and score is not None else None,
        snippet=snippet(stored.get("body", ""), terms) if terms is not None else "",
    )


class _Part:
    """One index of a search (the snapshot, or the small index of changed articles): the
    documents each tier adds there, and the best of them scored."""

    def __init__(
        self,
        index: SearchIndex,
        searcher: Searcher,
        hidden: frozenset[int],
        query_plan: QueryPlan,
        request: SearchRequest,
    ) -> None:
        self.searcher = searcher
        self.request = request
        self.sets = index.docsets
        filters = filter_query(request.filters)
        self.allowed = None if filters is None else self.sets.of(searcher, filters)
        hidden_docs = np.fromiter(sorted(hidden), dtype=np.int64, count=len(hidden))
        # Left out of every tier: hidden articles (changed or deleted since the build) and
        # the reader's exclusions; each tier adds what it matched.
        self.removed = self.sets.union([hidden_docs, self.sets.of(searcher, query_plan.exclude)])

    def tier(self, query: wq.Query) -> DocSet:
        """The documents `query` adds: matched, allowed by the filters, not yet taken."""
        matched = self.sets.of(self.searcher, query)
        docs = matched if self.allowed is None else self.sets.intersection([matched, self.allowed])
        docs = self.sets.difference(docs, self.removed)
        self.removed = self.sets.union([self.removed, docs])
        return docs

    def ranked(self, query: wq.Query, docs: DocSet, limit: int) -> list[Entry]:
        """The best `limit` of a tier's documents, as `_entries` gives them."""
        if not len(docs):
            return []
        searcher = self.searcher
        if self.request.sort == "newest":
            # Newest first, ties by document number (as Whoosh's sorting collector orders).
            dates = self.sets.column(searcher, "sort_date")[docs]
            order = np.lexsort((docs, -dates))[:limit]
            return self._entries([(int(d), 0.0) for d in docs[order]])
        found = self.sets.scores(searcher, query)
        if found is not None:
            return self._entries(top(found, docs, limit))
        # Shapes left to Whoosh (or an index with deletions): allowing exactly the tier's
        # documents applies the filters, hidden articles, exclusions and earlier tiers.
        return self._entries(whoosh_top(searcher, query, limit, set(docs.tolist())))

    def _entries(self, best: list[tuple[int, float]]) -> list[Entry]:
        """Ranked (document, score) pairs as entries comparable across indexes."""
        request = self.request
        if request.sort == "newest":
            dates = self.sets.column(self.searcher, "sort_date")
            return [(float(dates[docnum]), docnum, None) for docnum, _ in best]
        if request.recency is not None and request.recency.weight > 0:
            # The boost reorders the tier's first RECENCY_WINDOW matches (it never lowers a
            # score, so they stay above the rest), however deep the tier is ranked.
            dates = self.sets.column(self.searcher, "sort_date")
            factor = request.recency.factor
            boosted = [
                (score * factor(int(dates[docnum])) if n < RECENCY_WINDOW else score, docnum)
                for n, (docnum, score) in enumerate(best)
            ]
            return [(b, docnum, b) for b, docnum in boosted]
        return [(score, docnum, score) for docnum, score in best]


def _facets(parts: list[_Part], matched: list[DocSet]) -> dict[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for part, docs in zip(parts, matched, strict=True):
        for name, count in part.sets.facet(part.searcher, "category", docs).items():
            counts[name] = counts.get(name, 0) + count
    return {"category": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}
