"""The FastAPI app factory: lifespan opens the live snapshot into a holder; routes read it."""

# No `from __future__ import annotations` here: FastAPI must evaluate the route annotations,
# whose limits come from the settings in create_app's closure.

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from api import queries
from api.errors import install_error_handlers
from api.holder import SnapshotHolder
from api.schemas import ArticleResponse, ErrorResponse, RelatedResponse, SearchResponse
from api.settings import Settings

log = logging.getLogger("gupshup.api")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (404, 422, 503)
}


class DraftRequest(BaseModel):
    title: str = Field("", max_length=1_000, description="The draft's headline.")
    body: str = Field("", max_length=100_000, description="The draft's text.")
    limit: int = Field(5, ge=1, le=50, description="How many related stories to return.")


def holder_of(request: Request) -> SnapshotHolder:
    holder: SnapshotHolder = request.app.state.holder
    return holder


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        holder = SnapshotHolder(settings.data_dir, settings.snapshot_poll_seconds)
        holder.refresh()
        holder.start()
        app.state.holder = holder
        try:
            yield
        finally:
            holder.close()

    app = FastAPI(
        title="Gupshup Search",
        version="0.1.0",
        description="Search and Related Articles for news sites.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(_health_routes())
    app.include_router(_read_routes(settings), prefix="/api")
    return app


def _health_routes() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"model": ErrorResponse}})
    def readyz(request: Request, response: Response) -> dict[str, Any]:
        """Ready only when a snapshot is loaded."""
        holder = holder_of(request)
        with holder.use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return {
                "status": "ready",
                "snapshot_id": snapshot.id,
                "article_count": snapshot.article_count,
                "built_at": snapshot.manifest.get("created_at"),
                "problem": holder.problem,
            }

    return router


def _read_routes(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["read"], responses=ERRORS)

    @router.get("/search", response_model=SearchResponse)
    def search(
        request: Request,
        response: Response,
        q: Annotated[str, Query(description="What the reader typed.", max_length=100_000)],
        page: Annotated[int, Query(ge=1, description="1-based page number.")] = 1,
        per_page: Annotated[
            int, Query(ge=1, le=settings.max_per_page, description="Hits per page.")
        ] = 10,
        category: Annotated[str | None, Query(description="Only this category.")] = None,
        author: Annotated[str | None, Query(description="Only this author.")] = None,
        tag: Annotated[str | None, Query(description="Only articles with this tag.")] = None,
        date_from: Annotated[
            str | None, Query(alias="from", description="Published on or after (ISO date).")
        ] = None,
        date_to: Annotated[
            str | None, Query(alias="to", description="Published on or before (ISO date).")
        ] = None,
        sort: Annotated[
            Literal["relevance", "newest"], Query(description="Ranking or newest first.")
        ] = "relevance",
    ) -> SearchResponse:
        """Full-text search for the site's search box."""
        with holder_of(request).use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return queries.search(
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
            )

    @router.get("/articles/{article_id:path}/related", response_model=RelatedResponse)
    def related(
        request: Request,
        response: Response,
        article_id: str,
        limit: Annotated[int, Query(ge=1, le=settings.max_related)] = 5,
        category: Annotated[str | None, Query(description="Only this category.")] = None,
        max_age_days: Annotated[
            int | None, Query(ge=1, le=36_500, description="Only stories this recent.")
        ] = None,
    ) -> RelatedResponse:
        """The Related Articles block of an article page."""
        with holder_of(request).use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return queries.related(
                snapshot,
                settings,
                article_id,
                limit=limit,
                category=category,
                max_age_days=max_age_days,
            )

    @router.get("/articles/{article_id:path}", response_model=ArticleResponse)
    def article(request: Request, response: Response, article_id: str) -> ArticleResponse:
        """One article's stored fields."""
        with holder_of(request).use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return queries.article(snapshot, article_id)

    @router.post("/related", response_model=RelatedResponse)
    def related_to_draft(
        request: Request, response: Response, draft: DraftRequest
    ) -> RelatedResponse:
        """Related stories for an unpublished draft."""
        with holder_of(request).use() as snapshot:
            response.headers["X-Snapshot-Id"] = snapshot.id
            return queries.related_to_draft(
                snapshot, settings, draft.title, draft.body, limit=draft.limit
            )

    return router


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (worker processes read settings from GUPSHUP_*)."""
    return create_app(Settings())
