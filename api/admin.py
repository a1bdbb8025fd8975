"""The admin API: upsert and delete articles, rebuild in the background, jobs, snapshots.

Mounted only when GUPSHUP_ADMIN_TOKEN is set. Writes go to the ArticleStore first (durable:
the 2xx is sent after the commit), then this worker's view is refreshed at once; the other
workers pick the change up within GUPSHUP_SNAPSHOT_POLL_SECONDS.
"""

# No `from __future__ import annotations`: FastAPI evaluates these annotations.
import hmac
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from api.errors import (
    ERROR_RESPONSES,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
)
from api.holder import SnapshotHolder
from api.security import TokenBuckets, client_key
from api.settings import Settings
from index_data.aliases import alias_file, alias_source, save_aliases
from index_data.article import articles_from_records, validate_id
from index_data.build import BuildConfig
from index_data.errors import InvalidArticle
from index_data.jobs import JobStore
from index_data.rebuild import start_rebuild
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore
from search.aliases import AliasError, AliasTable

bearer = HTTPBearer(auto_error=False, description="GUPSHUP_ADMIN_TOKEN")


class WriteResult(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    deleted: int = 0
    store_rev: int = Field(description="The store revision that holds the change.")


class Aliases(BaseModel):
    groups: list[list[str]] = Field(
        description="Each group lists the spellings of one name or term; the first is the one "
        "suggestions show. At most 5,000 groups of 2-20 variants, each up to 100 characters "
        "and 6 words.",
        max_length=5_000,
    )
    source: str | None = Field(
        None, description="Where the list served now comes from (answers only)."
    )


class JobAccepted(BaseModel):
    job_id: str
    state: str
    url: str


def admin_routes(settings: Settings, build_config: BuildConfig) -> APIRouter:
    token = settings.admin_token.get_secret_value().encode() if settings.admin_token else b""

    # Failed attempts per client: GUPSHUP_ADMIN_LOGIN_FAILURES at once, then one every 6
    # seconds (per worker); past that, 429 with Retry-After, so a token cannot be guessed
    # at the speed of the server.
    allowed = settings.admin_login_failures
    failures = TokenBuckets(rate=1 / 6, burst=allowed) if allowed else None

    def require_token(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> None:
        client = client_key(request.client.host if request.client else "unknown")
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("admin endpoints need 'Authorization: Bearer <token>'")
        # Constant time: how much of a guess matched must not show in the answer's timing.
        if not token or not hmac.compare_digest(credentials.credentials.encode(), token):
            wait = failures.take(client) if failures is not None else 0.0
            if wait > 0:
                raise TooManyRequests(
                    "too many failed admin logins from this client", retry_after=wait
                )
            raise Unauthorized("the admin token is not valid")

    router = APIRouter(
        prefix="/api/admin",
        tags=["admin"],
        dependencies=[Depends(require_token)],
        responses={**ERROR_RESPONSES, 401: ERROR_RESPONSES[404], 409: ERROR_RESPONSES[404]},
    )
    data_dir = Path(settings.data_dir)

    def store() -> ArticleStore:
        return ArticleStore(settings.store_path)

    def holder(request: Request) -> SnapshotHolder:
        found: SnapshotHolder = request.app.state.holder
        return found

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise PayloadTooLarge(f"request body is larger than {settings.max_body_bytes} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise PayloadTooLarge(
                    f"request body is larger than {settings.max_body_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def parse_json(raw: bytes) -> Any:
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidParameter("body is not valid UTF-8", field="body") from None
        except json.JSONDecodeError as exc:
            raise InvalidParameter(
                f"body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                field="body",
            ) from None
        except (RecursionError, ValueError) as exc:  # e.g. an integer of 5,000 digits
            raise InvalidParameter(f"body is not valid JSON: {exc}"[:300], "body") from None

    @router.put("/articles/{article_id:path}", response_model=WriteResult)
    async def put_article(request: Request, article_id: str) -> WriteResult:
        """Insert or replace one article (the same fields as ingest)."""
        try:
            validate_id(article_id)
        except InvalidArticle as exc:
            raise InvalidParameter(exc.message, field="id") from None
        record = parse_json(await body_of(request))
        if not isinstance(record, dict):
            raise InvalidParameter("body must be a JSON object (one article)", field="body")
        if str(record.setdefault("id", article_id)) != article_id:
            raise InvalidParameter("the id in the body differs from the id in the path", "id")
        return await run_in_threadpool(_write, request, [record])

    @router.post("/articles", response_model=WriteResult)
    async def post_articles(request: Request) -> WriteResult:
        """Insert or replace a batch (a JSON array, or JSON Lines); all valid or none stored."""
        raw = await body_of(request)
        text = raw.lstrip()
        if text.startswith(b"["):
            records = parse_json(raw)
        else:
            records = []
            for number, line in enumerate(raw.split(b"\n"), start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line.decode("utf-8")))
                    except (UnicodeDecodeError, ValueError, RecursionError):
                        raise InvalidParameter(
                            f"line {number} of the JSON Lines body is not valid JSON", "body"
                        ) from None
        if not records:
            raise InvalidParameter("the batch is empty", field="body")
        if len(records) > settings.max_batch_articles:
            raise PayloadTooLarge(
                f"a batch holds at most {settings.max_batch_articles} articles", field="body"
            )
        return await run_in_threadpool(_write, request, records)

    def _write(request: Request, record_list: list[Any]) -> WriteResult:
        # Runs in the threadpool: storing and rebuilding the worker's view must not hold up
        # the event loop (and every other request of this worker) meanwhile.
        articles = articles_from_records(record_list)
        with store() as articles_store:
            result = articles_store.upsert_many(articles)
            rev = articles_store.rev()
        holder(request).refresh()
        return WriteResult(
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            store_rev=rev,
        )

    @router.delete("/articles/{article_id:path}", response_model=WriteResult)
    def delete_article(request: Request, article_id: str) -> WriteResult:
        """Delete one article: gone from search and every related list within seconds."""
        try:
            validate_id(article_id)
        except InvalidArticle:
            raise NotFound(f"no article with id {article_id[:60]!r}", field="id") from None
        with store() as articles_store:
            if not articles_store.delete(article_id):
                raise NotFound(f"no article with id {article_id!r}", field="id")
            rev = articles_store.rev()
        holder(request).refresh()
        return WriteResult(inserted=0, updated=0, unchanged=0, deleted=1, store_rev=rev)

    @router.get("/aliases", response_model=Aliases)
    def get_aliases() -> Aliases:
        table = alias_file(settings.data_dir).current()
        return Aliases(groups=table.as_lists(), source=alias_source(settings.data_dir))

    @router.put("/aliases", response_model=Aliases)
    def put_aliases(aliases: Aliases) -> Aliases:
        """Replace the alias list (validated first; served by every worker within a second,
        and used for related-article vectors from the next build)."""
        try:
            table = AliasTable.from_groups(aliases.groups)
        except AliasError as exc:
            raise InvalidParameter(str(exc), field="groups") from None
        save_aliases(settings.data_dir, table)
        return Aliases(groups=table.as_lists(), source=alias_source(settings.data_dir))

    @router.post("/reindex", status_code=202, response_model=JobAccepted)
    def reindex() -> JobAccepted:
        """Start a full rebuild in a separate process; 409 names a rebuild already running."""
        job = start_rebuild(data_dir, build_config)
        return JobAccepted(job_id=job.id, state=job.state, url=f"/api/admin/jobs/{job.id}")

    @router.get("/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        """A job's state (queued/running/succeeded/failed), progress and error."""
        jobs = JobStore(data_dir)
        try:
            found = jobs.get(job_id)
        finally:
            jobs.close()
        if found is None:
            raise NotFound(f"no job {job_id[:60]!r}", field="job_id")
        return found.to_json()

    @router.get("/snapshots")
    def snapshots() -> list[dict[str, Any]]:
        """Every complete snapshot, newest first, and which is current."""
        return [vars(info) for info in SnapshotDir(data_dir).listing()]

    @router.post("/snapshots/{snapshot_id}/publish")
    def publish(request: Request, snapshot_id: str) -> dict[str, Any]:
        """Publish a snapshot (rollback): verified first, refused (409) if damaged."""
        snaps = SnapshotDir(data_dir)
        if not snaps.path(snapshot_id).is_dir():
            raise NotFound(f"no snapshot {snapshot_id!r}", field="snapshot_id")
        manifest = snaps.publish(snapshot_id)
        holder(request).refresh()
        return {"published": snapshot_id, "article_count": manifest["article_count"]}

    return router
