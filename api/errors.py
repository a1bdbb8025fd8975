"""Request errors and the one place that maps them (and package errors) to HTTP answers."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorResponse
from index_data.errors import (
    BrokenSnapshot,
    BuildInProgress,
    IndexDataError,
    InvalidArticle,
    InvalidBatch,
    InvalidSnapshotId,
    SnapshotNotFound,
)

log = logging.getLogger("gupshup.api")

UNPARSED_BODY = "There was an error parsing the body"  # FastAPI's 400 detail
# A parameter that must hold some character other than a space, as the schema states it.
# The class lists the spaces themselves (every character that JSON Schema's ECMA regexes,
# pydantic's Rust regexes or Python call white space), so all three read it alike; `\S`
# differed on characters such as U+001C and U+0085.
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
NOT_BLANK = f"[^{SPACES}]"


class RequestError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidParameter(RequestError):
    status = 422
    code = "invalid_parameter"


class NotFound(RequestError):
    status = 404
    code = "not_found"


class NotReady(RequestError):
    status = 503
    code = "not_ready"


class Unauthorized(RequestError):
    status = 401
    code = "unauthorized"


class Conflict(RequestError):
    status = 409
    code = "conflict"


class PayloadTooLarge(RequestError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(RequestError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 404, 413, 422, 503)
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _validation_field(loc: tuple[object, ...]) -> str | None:
    names = [str(part) for part in loc if part not in ("query", "path", "body")]
    return ".".join(names) or None


# Package errors that map to one status, code and field whatever their message.
SNAPSHOT_ERRORS: dict[type[Exception], tuple[int, str, str | None]] = {
    SnapshotNotFound: (503, "not_ready", None),
    BuildInProgress: (409, "build_in_progress", None),
    BrokenSnapshot: (409, "snapshot_broken", None),
    InvalidSnapshotId: (422, "invalid_parameter", "snapshot_id"),
}


def _fixed_answer(
    status: int, code: str, field: str | None
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(code, str(exc), field), status_code=status)

    return answer


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx/5xx leaves in the same JSON shape; no traceback ever reaches a client."""

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": 'Bearer realm="gupshup-admin"'} if exc.status == 401 else None
        )
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=headers
        )

    @app.exception_handler(InvalidBatch)
    async def invalid_batch(_: Request, exc: InvalidBatch) -> JSONResponse:
        body = error_body("invalid_articles", str(exc), exc.problems[0][1])
        body["error"]["problems"] = [
            {"item": index, "field": field, "message": message}
            for index, field, message in exc.problems[:100]
        ]
        return JSONResponse(body, status_code=422)

    for error, (status, code, field) in SNAPSHOT_ERRORS.items():
        app.add_exception_handler(error, _fixed_answer(status, code, field))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _validation_field(tuple(first.get("loc", ())))
        context = first.get("ctx")
        if field and isinstance(context, dict) and context.get("pattern") == NOT_BLANK:
            message = f"{field} must not be empty"
        else:
            message = f"{field}: {first['msg']}" if field else str(first["msg"])
        return JSONResponse(error_body("invalid_parameter", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        if exc.status_code == 400 and exc.detail == UNPARSED_BODY:
            # FastAPI's words for a body that is not UTF-8 (JSON that does not parse is a 422).
            return JSONResponse(
                error_body("invalid_body", "the request body is not valid UTF-8 JSON", "body"),
                status_code=400,
            )
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(InvalidArticle)
    async def invalid_article(_: Request, exc: InvalidArticle) -> JSONResponse:
        return JSONResponse(error_body("invalid_article", exc.message, exc.field), status_code=422)

    @app.exception_handler(IndexDataError)
    async def data_error(_: Request, exc: IndexDataError) -> JSONResponse:
        log.error("data error: %s", exc)
        return JSONResponse(error_body("unavailable", str(exc)), status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(
            error_body("internal_error", "the server could not answer this request"),
            status_code=500,
        )
