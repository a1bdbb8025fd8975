"""Open a built index read-only and answer searches: tiers, filters, facets, pages, snippets."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.searching import Results, Searcher

from search import IndexUnavailable
from search.highlight import snippet
from search.query import Filters, filter_query, parse, plan, render
from search.schema import UNDATED
from search.spelling import correct
from search.suggest import Suggestions, suggest

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
# "Did you mean" is considered only when at most this many articles have every word.
FEW_HITS = 2


def weighting() -> scoring.WeightingModel:
    """BM25F as served; per-field b is lower for titles (short, so length says little)."""
    return scoring.BM25F(B=0.75, K1=1.2, title_B=0.5, tags_B=0.3)


class SearchIndex:
    """A read-only index plus one cached searcher per thread (Whoosh searchers are not
    thread-safe, and opening one per query is slow)."""

    def __init__(self, ix: Any, path: Path) -> None:
        self._ix = ix
        self.path = path
        self._local = threading.local()
        self._searchers: list[Searcher] = []
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: str | Path) -> SearchIndex:
        folder = Path(path)
        try:
            # readonly: serving code must never ask for a writer (it would leave MAIN.tmp).
            ix = whoosh_index.open_dir(str(folder), readonly=True)
        except (OSError, whoosh_index.EmptyIndexError) as exc:
            raise IndexUnavailable(f"cannot open search index at {folder}: {exc}") from exc
        return cls(ix, folder)

    @property
    def doc_count(self) -> int:
        return int(self._ix.doc_count())

    def searcher(self) -> Searcher:
        found: Searcher | None = getattr(self._local, "searcher", None)
        if found is None:
            found = self._ix.searcher(weighting=weighting())
            self._local.searcher = found
            with self._lock:
                self._searchers.append(found)
        return found

    def close(self) -> None:
        with self._lock:
            for s in self._searchers:
                s.close()
            self._searchers.clear()
            self._closed = True
        self._ix.close()

    def document(self, article_id: str) -> dict[str, Any] | None:
        """Stored fields of one article, or None."""
        stored: dict[str, Any] | None = self.searcher().document(id=article_id)
        return stored

    def suggest(self, text: str, limit: int) -> Suggestions:
        return suggest(self.searcher(), text, limit)

    def search(self, request: SearchRequest) -> SearchResults:
        query_plan = plan(request.text)
        if query_plan.strict is None or query_plan.loose is None:
            return SearchResults(0, (), {"category": {}}, self._correction(request, 0))
        offset = (request.page - 1) * request.per_page
        wanted = offset + request.per_page
        searcher = self.searcher()
        kwargs: dict[str, Any] = {
            "filter": filter_query(request.filters),
            "groupedby": {"category": sorting.FieldFacet("category", maptype=sorting.Count)},
        }
        if request.sort == "newest":
            kwargs["sortedby"] = sorting.FieldFacet("sort_date", reverse=True)
        boosted = request.sort == "relevance" and request.recency and request.recency.weight > 0
        window = max(wanted, RECENCY_WINDOW) if boosted else max(wanted, 1)
        first = searcher.search(query_plan.strict, limit=window, mask=query_plan.exclude, **kwargs)
        tiers = [first]
        if query_plan.tiered:
            # Documents with every word come first; the rest follow, ranked among themselves.
            mask = _either(query_plan.exclude, query_plan.strict)
            rest = max(wanted - first.scored_length(), 1)
            limit = max(rest, RECENCY_WINDOW) if boosted else rest
            tiers.append(searcher.search(query_plan.loose, limit=limit, mask=mask, **kwargs))
        total = sum(len(r) for r in tiers)
        ranked: list[tuple[Any, float | None]] = []
        for results in tiers:
            if boosted and request.recency is not None:
                ranked.extend(self._boost(list(results), request.recency))
            else:
                ranked.extend((hit, None) for hit in results)
        scored = request.sort == "relevance"
        terms = query_plan.body_terms if request.snippets else None
        page = tuple(
            self._hit(hit, terms, scored, score)
            for hit, score in ranked[offset : offset + request.per_page]
        )
        correction = self._correction(request, len(first))
        return SearchResults(total, page, _facets(tiers), correction)

    def _boost(self, hits: list[Any], recency: Recency) -> list[tuple[Any, float | None]]:
        dates = self.searcher().reader().column_reader("sort_date")
        boosted = [(hit, float(hit.score) * recency.factor(dates[hit.docnum])) for hit in hits]
        boosted.sort(key=lambda pair: -pair[1])
        return list(boosted)

    def _correction(self, request: SearchRequest, complete: int) -> str | None:
        """A corrected query when few articles have all the words typed. Words the index has
        never seen are respelt first (that alone is offered: they matched nothing); if there
        are none, rare known words are, and offered only if more articles then have them all."""
        if not request.suggest_corrections or complete > FEW_HITS:
            return None
        clauses = parse(request.text)
        # Respelling known words is a long shot: only when nothing has every word.
        for known_too in (False, True) if complete == 0 else (False,):
            fixed = correct(self.searcher(), clauses, known_too=known_too)
            if fixed is None:
                continue
            text = render(fixed)
            if not known_too or self._complete_matches(text, request.filters) > complete:
                return text
        return None

    def _complete_matches(self, text: str, filters: Filters) -> int:
        """How many articles have every word of `text`."""
        text_plan = plan(text)
        if text_plan.strict is None:
            return 0
        found = self.searcher().search(
            text_plan.strict, limit=1, filter=filter_query(filters), mask=text_plan.exclude
        )
        return len(found)

    def _hit(
        self, hit: Any, terms: frozenset[str] | None, scored: bool, score: float | None
    ) -> Hit:
        stored = hit.fields()
        passage = snippet(stored.get("body", ""), terms) if terms is not None else ""
        if scored:
            score = round(float(score if score is not None else hit.score), 4)
        return Hit(
            id=stored["id"],
            title=stored["title"],
            url=stored.get("url"),
            category=stored.get("category"),
            author=stored.get("author"),
            published_at=stored.get("published_at_text"),
            # Sorted by date, Whoosh computes no relevance: say so rather than invent one.
            score=score if scored else None,
            snippet=passage,
        )


def _facets(tiers: list[Results]) -> dict[str, dict[str, int]]:
    counts: dict[str, int] = {}
    for results in tiers:
        for name, count in results.groups("category").items():
            if name:
                counts[name] = counts.get(name, 0) + count
    return {"category": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}


def _either(a: wq.Query | None, b: wq.Query) -> wq.Query:
    return b if a is None else wq.Or([a, b])
