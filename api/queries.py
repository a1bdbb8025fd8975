"""Answer the read requests (search, article, related) the same way for HTTP and the CLI."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime
from typing import Literal

from api.errors import NOT_BLANK, InvalidParameter, NotFound
from api.result_cache import ResultCache
from api.schemas import (
    ArticleResponse,
    RelatedItem,
    RelatedResponse,
    SearchHit,
    SearchResponse,
    SuggestResponse,
    TitleSuggestion,
)
from api.settings import Settings
from index_data.aliases import alias_file
from index_data.article import wall_clock
from index_data.errors import InvalidArticle
from index_data.live import LiveView, RelatedEntry, RelatedFilter
from search.aliases import AliasTable
from search.index import Recency, SearchRequest, SearchResults
from search.query import Filters

RECENCY_CLOCK_SECONDS = 60


def _date(value: str | None, field: str, *, end_of_day: bool) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        # On the publisher's clock, as the index keeps articles' dates: a bound written with
        # an offset was converted to UTC before, and compared with wall-clock times.
        parsed = wall_clock(value)
    except InvalidArticle:
        raise InvalidParameter(
            f"{field} must be an ISO 8601 date or datetime, e.g. 2025-03-14", field=field
        ) from None
    if end_of_day and len(value.strip()) == 10:
        # `to=2025-03-14` means the whole of that day.
        parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return parsed


def _aliases(settings: Settings) -> AliasTable | None:
    return alias_file(settings.data_dir).current() if settings.aliases else None


NOT_BLANK_RE = re.compile(NOT_BLANK)


def check_query(q: str, settings: Settings) -> str:
    # Blank exactly as the schema's pattern says (api/errors.py).
    if NOT_BLANK_RE.search(q) is None:
        raise InvalidParameter("q must not be empty", field="q")
    text = " ".join(q.split())
    if len(q) > settings.max_query_chars:
        raise InvalidParameter(f"q is longer than {settings.max_query_chars} characters", field="q")
    return text


def search(
    snapshot: LiveView,
    settings: Settings,
    q: str,
    *,
    page: int = 1,
    per_page: int = 10,
    category: str | None = None,
    author: str | None = None,
    tag: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: Literal["relevance", "newest"] = "relevance",
    cache: ResultCache[SearchResults] | None = None,
) -> SearchResponse:
    started = time.perf_counter()
    text = check_query(q, settings)
    if per_page > settings.max_per_page:
        raise InvalidParameter(f"per_page must be at most {settings.max_per_page}", "per_page")
    if page * per_page > settings.max_result_depth:
        raise InvalidParameter(
            f"page x per_page must be at most {settings.max_result_depth}; narrow the search",
            field="page",
        )
    filters = Filters(
        category=category or None,
        author=author or None,
        tag=tag or None,
        date_from=_date(date_from, "from", end_of_day=False),
        date_to=_date(date_to, "to", end_of_day=True),
    )
    # The clock read to the minute: with a half-life of days the boost cannot tell, and a
    # request repeated within the minute is the same request, so its answer can be cached.
    now = float(int(time.time()) // RECENCY_CLOCK_SECONDS * RECENCY_CLOCK_SECONDS)
    recency = (
        Recency(settings.recency_weight, settings.recency_half_life_days, now)
        if settings.recency_weight > 0
        else None
    )
    aliases = _aliases(settings)
    request = SearchRequest(
        text=text,
        page=page,
        per_page=per_page,
        filters=filters,
        sort=sort,
        recency=recency,
        aliases=aliases,
        phonetic=settings.phonetic,
        fuzzy=settings.fuzzy,
    )
    if cache is None:
        results = snapshot.search(request)
    else:
        # The alias list is keyed by its file's version (an edit is a new key), not hashed
        # whole on every request.
        version = alias_file(settings.data_dir).version if aliases is not None else "off"
        key = (snapshot.version, version, replace(request, aliases=None))
        results = cache.get(key, lambda: snapshot.search(request))
    return SearchResponse(
        query=text,
        corrected_query=results.corrected_query,
        total=results.total,
        page=page,
        per_page=per_page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        snapshot_id=snapshot.id,
        hits=[SearchHit(**vars(hit)) for hit in results.hits],
        facets=results.facets,
    )


def suggest(snapshot: LiveView, settings: Settings, q: str, *, limit: int = 8) -> SuggestResponse:
    check_query(q, settings)  # q itself is kept: a trailing space asks for the next word
    _check_limit(limit, settings.max_suggestions)
    found = snapshot.suggest(q, limit, _aliases(settings), settings.phonetic)
    return SuggestResponse(
        query=q,
        completions=list(found.completions),
        titles=[TitleSuggestion(id=t.id, title=t.title, url=t.url) for t in found.titles],
        snapshot_id=snapshot.id,
    )


def article(snapshot: LiveView, article_id: str) -> ArticleResponse:
    stored = snapshot.article(article_id)
    if stored is None:
        raise NotFound(f"no article with id {article_id!r}", field="id")
    tags = [t.strip() for t in stored.get("tags", "").split(",") if t.strip()]
    return ArticleResponse(
        id=stored["id"],
        title=stored["title"],
        body=stored.get("body", ""),
        url=stored.get("url"),
        category=stored.get("category"),
        tags=tags,
        author=stored.get("author"),
        published_at=stored.get("published_at_text"),
        source=stored.get("source"),
        lang=stored.get("lang"),
        snapshot_id=snapshot.id,
    )


def _items(entries: list[RelatedEntry]) -> list[RelatedItem]:
    return [
        RelatedItem(
            id=e.id,
            title=e.title,
            url=e.url,
            category=e.category,
            published_at=e.published_at,
            score=e.score,
            shared_terms=list(e.shared_terms),
        )
        for e in entries
    ]


def _check_limit(limit: int, maximum: int) -> None:
    if not 1 <= limit <= maximum:
        raise InvalidParameter(f"limit must be between 1 and {maximum}", "limit")


def related(
    snapshot: LiveView,
    settings: Settings,
    article_id: str,
    *,
    limit: int = 5,
    category: str | None = None,
    max_age_days: int | None = None,
) -> RelatedResponse:
    _check_limit(limit, settings.max_related)
    entries = snapshot.related(
        article_id, limit, RelatedFilter(category=category or None, max_age_days=max_age_days)
    )
    if entries is None:
        raise NotFound(f"no article with id {article_id!r}", field="id")
    return RelatedResponse(id=article_id, snapshot_id=snapshot.id, items=_items(entries))


def related_to_draft(
    snapshot: LiveView, settings: Settings, title: str, body: str, *, limit: int = 5
) -> RelatedResponse:
    _check_limit(limit, settings.max_related)
    if len(title) + len(body) > settings.max_draft_chars:
        raise InvalidParameter(
            f"title and body together are longer than {settings.max_draft_chars} characters",
            field="body",
        )
    if not (title.strip() or body.strip()):
        raise InvalidParameter("a draft needs a title or a body", field="title")
    entries = snapshot.related_to_text(title, body, limit)
    return RelatedResponse(id=None, snapshot_id=snapshot.id, items=_items(entries))
