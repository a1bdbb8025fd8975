"""The HTTP routes. Limits come from the settings, so /openapi.json states them."""

# No `from __future__ import annotations`: FastAPI evaluates these annotations, and their
# limits come from the settings in the enclosing function's scope.
import os
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import queries
from api.caching import not_modified
from api.errors import ERROR_RESPONSES, NOT_BLANK
from api.holder import SnapshotHolder
from api.result_cache import ResultCache
from api.schemas import (
    ArticleResponse,
    ErrorResponse,
    RelatedResponse,
    SearchResponse,
    SuggestResponse,
)
from api.settings import Settings
from index_data.aliases import alias_file
from index_data.live import LiveView
from search.index import SearchResults

Category = Annotated[str | None, Query(max_length=100, description="Only this category.")]
Author = Annotated[str | None, Query(max_length=200, description="Only this author.")]
Tag = Annotated[str | None, Query(max_length=200, description="Only articles with this tag.")]
DateFrom = Annotated[
    str | None, Query(alias="from", max_length=40, description="Published on/after (ISO date).")
]
DateTo = Annotated[
    str | None, Query(alias="to", max_length=40, description="Published on/before (ISO date).")
]


def holder_of(request: Request) -> SnapshotHolder:
    holder: SnapshotHolder = request.app.state.holder
    return holder


def cached_answer(
    request: Request,
    response: Response,
    settings: Settings,
    produce: Callable[[LiveView], BaseModel],
) -> Any:
    """Answer a GET from the current snapshot, or 304 when the client's copy is current."""
    with holder_of(request).use() as view:
        # An edited alias list changes answers as much as a new snapshot does.
        aliases = alias_file(settings.data_dir).version if settings.aliases else "off"
        unchanged = not_modified(request, response, view, settings.cache_max_age, aliases)
        return unchanged if unchanged is not None else produce(view)


def health_routes(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz(response: Response) -> dict[str, str]:
        """Liveness: the process answers."""
        response.headers["Cache-Control"] = "no-store"
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"model": ErrorResponse}})
    def readyz(request: Request, response: Response) -> dict[str, Any]:
        """Ready only when a snapshot is loaded: its id, article count and build time."""
        holder = holder_of(request)
        response.headers["Cache-Control"] = "no-store"
        with holder.use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return {
                "status": "ready",
                "snapshot_id": snapshot.id,
                "article_count": snapshot.article_count,
                "store_rev": snapshot.rev,
                "pending_changes": snapshot.changed_count,
                "built_at": snapshot.manifest.get("created_at"),
                "problem": holder.problem,
                "worker_pid": os.getpid(),
            }

    @router.get("/metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text format: requests and latency per route, snapshot served."""
        body, content_type = request.app.state.metrics.exposition()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return router


def read_routes(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["read"], responses=ERROR_RESPONSES)
    # The schema says what the server checks: a query of spaces only is refused (the API
    # fuzzer found the schema allowing "", which the server answered with 422).
    query_text = Query(
        description="What the reader typed (some character other than a space).",
        max_length=settings.max_query_chars,
        pattern=NOT_BLANK,
    )
    # One per app, so one per worker process (see api/result_cache.py).
    search_cache: ResultCache[SearchResults] = ResultCache(settings.search_cache_size)

    @router.get("/search", response_model=SearchResponse)
    def search(
        request: Request,
        response: Response,
        q: Annotated[str, query_text],
        page: Annotated[int, Query(ge=1, description="1-based page number.")] = 1,
        per_page: Annotated[
            int, Query(ge=1, le=settings.max_per_page, description="Hits per page.")
        ] = 10,
        category: Annotated[
            str | None, Query(max_length=100, description="Only this category.")
        ] = None,
        author: Annotated[
            str | None, Query(max_length=200, description="Only this author.")
        ] = None,
        tag: Annotated[str | None, Query(max_length=200, description="Only this tag.")] = None,
        date_from: Annotated[
            str | None,
            Query(alias="from", max_length=40, description="Published on or after (ISO date)."),
        ] = None,
        date_to: Annotated[
            str | None,
            Query(alias="to", max_length=40, description="Published on or before (ISO date)."),
        ] = None,
        sort: Annotated[
            Literal["relevance", "newest"], Query(description="Ranking, or newest first.")
        ] = "relevance",
    ) -> Any:
        """Full-text search for the site's search box. `q` may hold `"phrases"`, `-words` and
        `field:value` (title, body, tag, author, category); `page` x `per_page` is limited."""
        return cached_answer(
            request,
            response,
            settings,
            lambda snapshot: queries.search(
                snapshot,
                settings,
                q,
                page=page,
                per_page=per_page,
                category=category,
                author=author,
                tag=tag,
                date_from=date_from,
                date_to=date_to,
                sort=sort,
                cache=search_cache,
            ),
        )

    @router.get("/suggest", response_model=SuggestResponse)
    def suggest(
        request: Request,
        response: Response,
        q: Annotated[str, query_text],
        limit: Annotated[int, Query(ge=1, le=settings.max_suggestions)] = 8,
    ) -> Any:
        """Search-as-you-type: completions of the last word and titles that match."""
        return cached_answer(
            request,
            response,
            settings,
            lambda snapshot: queries.suggest(snapshot, settings, q, limit=limit),
        )

    # A related list that needs no recomputing (no filter, no more than was precomputed, no
    # change since the build) is a lookup well under a millisecond: it is answered on the
    # event loop, skipping the hop to a worker thread, which cost more than the lookup
    # (30,000 articles, 8 clients: related p50 6.0 -> 5.2 ms; with the row reads of
    # recommend/model.py, 2.4 ms). Anything else may rank every article (75 ms at 100k), so
    # it goes to a thread, as searches do, and never holds the loop.
    @router.get("/articles/{article_id:path}/related", response_model=RelatedResponse)
    async def related(
        request: Request,
        response: Response,
        article_id: str,
        limit: Annotated[int, Query(ge=1, le=settings.max_related)] = 5,
        category: Annotated[
            str | None, Query(max_length=100, description="Only this category.")
        ] = None,
        max_age_days: Annotated[
            int | None, Query(ge=1, le=36_500, description="Only stories this recent.")
        ] = None,
    ) -> Any:
        """The Related Articles block of an article page: never the article itself, a copy
        of it, or a deleted story."""

        def answer() -> Any:
            return cached_answer(
                request,
                response,
                settings,
                lambda snapshot: queries.related(
                    snapshot,
                    settings,
                    article_id,
                    limit=limit,
                    category=category,
                    max_age_days=max_age_days,
                ),
            )

        view = holder_of(request).current
        lookup = (
            view is not None
            and view.changed_count == 0
            and not category
            and max_age_days is None
            and limit <= view.snapshot.related_model.config.k
        )
        return answer() if lookup else await run_in_threadpool(answer)

    @router.get("/articles/{article_id:path}", response_model=ArticleResponse)
    async def article(request: Request, response: Response, article_id: str) -> Any:
        """One article's stored fields."""
        return cached_answer(
            request, response, settings, lambda snapshot: queries.article(snapshot, article_id)
        )

    class DraftRequest(BaseModel):
        title: str = Field("", max_length=settings.max_draft_chars, description="Headline.")
        body: str = Field("", max_length=settings.max_draft_chars, description="Text.")
        limit: int = Field(5, ge=1, le=settings.max_related, description="Stories wanted.")

    @router.post("/related", response_model=RelatedResponse)
    def related_to_draft(request: Request, response: Response, draft: DraftRequest) -> Any:
        """Related stories for an unpublished draft (title and/or body)."""
        with holder_of(request).use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            response.headers["Cache-Control"] = "no-store"
            return queries.related_to_draft(
                snapshot, settings, draft.title, draft.body, limit=draft.limit
            )

    return router
