"""Request errors and the one place that maps them (and package errors) to HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index_data.errors import IndexDataError, InvalidArticle, SnapshotNotFound

log = logging.getLogger("gupshup.api")


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


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "field": field}}


def _validation_field(loc: tuple[object, ...]) -> str | None:
    names = [str(part) for part in loc if part not in ("query", "path", "body")]
    return ".".join(names) or None


def install_error_handlers(app: FastAPI) -> None:
    """Every 4xx/5xx leaves in the same JSON shape; no traceback ever reaches a client."""

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _validation_field(tuple(first.get("loc", ())))
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        return JSONResponse(error_body("invalid_parameter", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(SnapshotNotFound)
    async def not_ready(_: Request, exc: SnapshotNotFound) -> JSONResponse:
        return JSONResponse(error_body("not_ready", str(exc)), status_code=503)

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
