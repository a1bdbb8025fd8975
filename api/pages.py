"""The demo site and the embeddable widget: two HTML pages and the static files they load.

The pages hold no data: their scripts call the public API (`/api/search`, `/api/suggest`,
`/api/articles/...`) like any other site would, so what the demo shows is what an embedder
gets. Neither page has inline script or inline event handlers, so a strict
`script-src 'self'` Content-Security-Policy leaves them working.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"

# HTML is revalidated on every visit (it names the scripts to load); the scripts and styles
# are revalidated after this many seconds, so a deploy reaches readers within minutes.
ASSET_MAX_AGE = 300


class CachedStaticFiles(StaticFiles):
    """StaticFiles (ETag, Last-Modified, 304s) plus a Cache-Control header."""

    route: BaseRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI leaves a mount's route out of the scope; metrics and the access log label
        # requests by route, so name it, and every file counts under the one "/static".
        if self.route is not None:
            scope.setdefault("route", self.route)
        await super().__call__(scope, receive, send)

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
        return response


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, headers={"Cache-Control": "no-cache"})


def page_routes() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    # HEAD too: link checkers and uptime probes ask for the pages without their bodies.
    @router.api_route("/", methods=["GET", "HEAD"])
    def search_page() -> FileResponse:
        """The search page: state lives in the query string (q, page, category, sort)."""
        return _page("index.html")

    @router.api_route("/article/{article_id:path}", methods=["GET", "HEAD"])
    def article_page(article_id: str) -> FileResponse:
        """One page for every article: its script reads the id from the path. An unknown id
        still gets the page (200), which then says the story was not found."""
        return _page("article.html")

    return router


def install_pages(app: FastAPI) -> None:
    app.include_router(page_routes())
    files = CachedStaticFiles(directory=STATIC_DIR)
    app.mount("/static", files, name="static")
    files.route = app.router.routes[-1]
