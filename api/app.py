"""The FastAPI app factory: lifespan opens the live snapshot into a holder; routes read it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from anyio import to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import multiprocess

from api.admin import admin_routes
from api.errors import install_error_handlers
from api.holder import SnapshotHolder
from api.observability import MULTIPROC_ENV, Metrics, ObservabilityMiddleware
from api.pages import install_pages
from api.routes import health_routes, read_routes
from api.security import RateLimitMiddleware, SecurityHeadersMiddleware
from api.settings import Settings, build_config

log = logging.getLogger("gupshup.api")


Role = Literal["all", "public", "admin"]


def create_app(settings: Settings | None = None, role: Role | None = None) -> FastAPI:
    """The app. `role` "public" leaves the admin API out, "admin" serves only it (and health);
    by default both, unless `admin_port` gives the admin API a listener of its own."""
    settings = settings or Settings()
    role = role or ("public" if settings.admin_port is not None else "all")
    metrics = Metrics()
    holder = SnapshotHolder(settings.data_dir, settings.snapshot_poll_seconds, metrics.serving)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Searches are CPU-bound Python: more threads than this only add searchers (memory)
        # and contention, not throughput. Each thread keeps one searcher per snapshot.
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        holder.refresh()
        holder.start()
        try:
            yield
        finally:
            holder.close()
            if os.environ.get(MULTIPROC_ENV):
                multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    app = FastAPI(
        title="Gupshup Search",
        version="0.1.0",
        description="Search and Related Articles for news sites.",
        lifespan=lifespan,
    )
    # The holder lives in app.state, not in lifespan state: Starlette hands each request a
    # shallow copy of lifespan state, so a snapshot stored there could never be swapped.
    app.state.holder = holder
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(health_routes(settings))
    if role != "admin":
        app.include_router(read_routes(settings))
    admin_on = settings.admin_token is not None and settings.admin_token.get_secret_value()
    if admin_on and role != "public":
        app.include_router(admin_routes(settings, build_config(settings)))
    if role != "admin":
        install_pages(app)
    # Added innermost first: a 429 still gets CORS and security headers, and is logged.
    if settings.rate_limit > 0:
        app.add_middleware(
            RateLimitMiddleware, rate=settings.rate_limit, burst=settings.rate_limit_burst
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "If-None-Match"],
            expose_headers=["X-Snapshot-Id", "ETag"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, current_id=holder.current_id)
    logging.getLogger("gupshup.access").disabled = not settings.access_log
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (worker processes read settings from GUPSHUP_*)."""
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    return create_app(settings)


def admin_app_from_env() -> FastAPI:
    """Factory for the admin API's own listener (`GUPSHUP_ADMIN_PORT`)."""
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    return create_app(settings, role="admin")
