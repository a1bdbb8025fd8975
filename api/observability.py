"""Access logs and Prometheus metrics, as one pure ASGI middleware (no per-request task hop).

With several worker processes `gupshup serve` sets PROMETHEUS_MULTIPROC_DIR, and /metrics
aggregates every worker's files; with one process the app's own registry is read.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index_data.live import LiveView

access_log = logging.getLogger("gupshup.access")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The service's metrics, registered in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gupshup_http_requests_total",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gupshup_http_request_duration_seconds",
            "Time to answer, by route.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.snapshot = Gauge(
            "gupshup_snapshot_info",
            "Snapshots a worker has served: 1 for the current one, 0 for earlier ones.",
            ["snapshot_id"],
            registry=self.registry,
            multiprocess_mode="liveall",
        )
        self.articles = Gauge(
            "gupshup_snapshot_articles",
            "Articles in the snapshot served.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )

    def serving(self, view: LiveView, previous: LiveView | None) -> None:
        if previous is not None and previous.id != view.id:
            # 0, not removed: labels cannot be removed in multi-process mode.
            self.snapshot.labels(previous.id).set(0)
        self.snapshot.labels(view.id).set(1)
        self.articles.set(view.article_count)

    def exposition(self) -> tuple[bytes, str]:
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObservabilityMiddleware:
    """One structured access-log line and the metrics for every HTTP request; also stamps
    X-Snapshot-Id on answers that did not set it (errors), when a snapshot is loaded."""

    def __init__(self, app: ASGIApp, metrics: Metrics, current_id: Callable[[], str | None]):
        self.app = app
        self.metrics = metrics
        self.current_id = current_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "snapshot": None}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = list(message.get("headers", []))
                found = [v for k, v in headers if k == b"x-snapshot-id"]
                if found:
                    state["snapshot"] = found[0].decode("latin-1")
                elif (snapshot_id := self.current_id()) is not None:
                    headers.append((b"x-snapshot-id", snapshot_id.encode("latin-1")))
                    state["snapshot"] = snapshot_id
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._record(scope, state, time.perf_counter() - started)

    def _record(self, scope: Scope, state: dict[str, Any], seconds: float) -> None:
        route = scope.get("route")
        # The route template, not the raw path: bounded label values, no ids in metrics.
        name = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(name, scope["method"], str(state["status"])).inc()
        self.metrics.latency.labels(name).observe(seconds)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                json.dumps(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": name,
                        "status": state["status"],
                        "duration_ms": round(seconds * 1000, 2),
                        "snapshot_id": state["snapshot"],
                        "client": (scope.get("client") or ("-",))[0],
                    }
                )
            )
