"""Security headers on every answer, and an optional per-client rate limit on the public API.

Headers: `X-Content-Type-Options: nosniff` everywhere; HTML pages also get a
Content-Security-Policy that lets only our own origin supply scripts, styles, images and API
calls (the demo pages have no inline script, so it costs them nothing), no framing, and a
same-origin referrer. FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from a CDN,
so their policy names that CDN as well.

Rate limit (`GUPSHUP_RATE_LIMIT`, requests per second per client, 0 = off): a token bucket
per client (an IPv4 address, or an IPv6 /64) over the public `/api/` routes (not admin,
health, metrics or static files); past it, 429 in the usual JSON error shape with
`Retry-After`. The buckets live in each worker process, so with N workers a client may get up
to N times the rate when its requests spread over them; behind a proxy, set uvicorn's
`FORWARDED_ALLOW_IPS` to the proxy's address so the client address is the reader's.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
    f"style-src 'self' 'unsafe-inline' {DOCS_CDN}; img-src 'self' data: https:; "
    f"worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
MAX_CLIENTS = 10_000  # buckets kept per worker; the least recently seen go first
LIMITED_PREFIX = "/api/"
NOT_LIMITED_PREFIX = "/api/admin"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS_PATHS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = next((v for k, v in headers if k == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    policy = DOCS_POLICY if docs else PAGE_POLICY
                    headers += [
                        (b"content-security-policy", policy.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"same-origin"),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)


class TokenBuckets:
    """`rate` tokens a second, at most `burst` saved, per key; thread-safe."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if a request may go ahead (a token is spent), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if tokens >= 1 else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


def client_key(host: str) -> str:
    """Whom a bucket belongs to: an IPv4 address, or an IPv6 address's /64 (one household or
    server is usually given a whole /64, and could rotate through it)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        limited = (
            scope["type"] == "http"
            and scope.get("method") != "OPTIONS"  # CORS preflights are the browser's, not reads
            and path.startswith(LIMITED_PREFIX)
            and not path.startswith(NOT_LIMITED_PREFIX)
        )
        if not limited:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.buckets.take(client_key(client[0] if client else "unknown"))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = json.dumps(
            error_body(
                "rate_limited",
                f"too many requests from this client: at most {self.buckets.rate:g} a second; "
                f"retry after {retry} s",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
