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
from search.highlight import lead_snippet, make_highlighter
from search.query import Filters, QueryPlan, filter_query, plan

Sort = Literal["relevance", "newest"]


@dataclass(frozen=True)
class SearchRequest:
    text: str
    page: int = 1
    per_page: int = 10
    filters: Filters = field(default_factory=Filters)
    sort: Sort = "relevance"
    snippets: bool = True


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
        self._highlighter = make_highlighter()
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

    def search(self, request: SearchRequest) -> SearchResults:
        query_plan = plan(request.text)
        if query_plan.strict is None or query_plan.loose is None:
            return SearchResults(0, (), {"category": {}})
        offset = (request.page - 1) * request.per_page
        wanted = offset + request.per_page
        searcher = self.searcher()
        kwargs: dict[str, Any] = {
            "filter": filter_query(request.filters),
            "groupedby": {"category": sorting.FieldFacet("category", maptype=sorting.Count)},
        }
        if request.sort == "newest":
            kwargs["sortedby"] = sorting.FieldFacet("sort_date", reverse=True)
        first = searcher.search(
            query_plan.strict, limit=max(wanted, 1), mask=query_plan.exclude, **kwargs
        )
        tiers = [first]
        if query_plan.tiered:
            # Documents with every word come first; the rest follow, ranked among themselves.
            mask = _either(query_plan.exclude, query_plan.strict)
            tiers.append(
                searcher.search(
                    query_plan.loose, limit=max(wanted - len(first), 1), mask=mask, **kwargs
                )
            )
        return self._page(tiers, offset, request, query_plan)

    def _page(
        self, tiers: list[Results], offset: int, request: SearchRequest, query_plan: QueryPlan
    ) -> SearchResults:
        total = sum(len(r) for r in tiers)
        facets: dict[str, int] = {}
        for results in tiers:
            for name, count in results.groups("category").items():
                if name:
                    facets[name] = facets.get(name, 0) + count
        for results in tiers:
            results.highlighter = self._highlighter
        ranked = [hit for results in tiers for hit in results]
        scored = request.sort == "relevance"
        hits = tuple(
            self._hit(h, request.snippets, scored)
            for h in ranked[offset : offset + request.per_page]
        )
        ordered = dict(sorted(facets.items(), key=lambda kv: (-kv[1], kv[0])))
        return SearchResults(total=total, hits=hits, facets={"category": ordered})

    def _hit(self, hit: Any, with_snippet: bool, scored: bool) -> Hit:
        stored = hit.fields()
        snippet = ""
        if with_snippet:
            marked = hit.highlights("body", top=2)
            # Paragraph breaks inside a snippet would only confuse a one-line result.
            snippet = " ".join(marked.split()) if marked else lead_snippet(stored.get("body", ""))
        return Hit(
            id=stored["id"],
            title=stored["title"],
            url=stored.get("url"),
            category=stored.get("category"),
            author=stored.get("author"),
            published_at=stored.get("published_at_text"),
            # Sorted by date, Whoosh computes no relevance: say so rather than invent one.
            score=round(float(hit.score), 4) if scored else None,
            snippet=snippet,
        )


def _either(a: wq.Query | None, b: wq.Query) -> wq.Query:
    return b if a is None else wq.Or([a, b])
