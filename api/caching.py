"""HTTP caching of GET answers: Cache-Control, a weak ETag of snapshot + request, and 304s."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response

from index_data.live import LiveView


def etag_for(version: str, request: Request) -> str:
    """Same snapshot, store revision, request and hour: same answer (up to `took_ms`, hence
    weak). The hour is in it because answers age: the recency boost and `max_age_days`
    depend on the clock."""
    query = urlencode(sorted(parse_qsl(request.url.query, keep_blank_values=True)))
    hour = int(time.time() // 3600)
    key = f"{version}\n{hour}\n{request.url.path}\n{query}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def _matches(header: str, etag: str) -> bool:
    # "*" is not honoured: it would turn an answer that may be an error into a 304.
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag.removeprefix("W/") in tags


def not_modified(
    request: Request, response: Response, view: LiveView, max_age: int, also: str = ""
) -> Response | None:
    """Stamp caching headers on `response`; return a 304 if the client's copy is current.
    `also` is anything else the answer depends on (the alias list's version)."""
    etag = etag_for(f"{view.version}|{also}", request)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "X-Snapshot-Id": view.id,
    }
    response.headers.update(headers)
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return None
