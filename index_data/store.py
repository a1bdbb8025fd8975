"""The ArticleStore: SQLite in the data dir, the source of truth every snapshot is built from."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from index_data.article import Article
from index_data.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    rev INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tombstones (
    id TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    deleted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_rev ON articles (rev);
CREATE INDEX IF NOT EXISTS tombstones_rev ON tombstones (rev);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('rev', '0');
"""


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Changes:
    """What changed after a revision: current versions of upserted articles, deleted ids."""

    rev: int
    upserted: list[Article]
    deleted: list[str]

    def __bool__(self) -> bool:
        return bool(self.upserted or self.deleted)


@dataclass(frozen=True)
class StoreRead:
    """Every article as of one store revision (one consistent read)."""

    rev: int
    articles: list[Article]


def content_hash(article: Article) -> str:
    payload = json.dumps(article.to_record(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ArticleStore:
    """Upserts and reads articles. Every write is one durable transaction (WAL, synchronous=FULL).

    `rev` is a store-wide counter bumped by every change, so a build can record which revision
    it saw and later changes can be found.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open article store {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to article store {self.path}: {exc}") from exc
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot commit to article store {self.path}: {exc}") from exc

    def _next_rev(self, db: sqlite3.Connection) -> int:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rev'")
        return int(db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()[0])

    def upsert_many(self, articles: Iterable[Article]) -> UpsertResult:
        """Insert or replace by id, all in one transaction; identical content changes nothing."""
        inserted = updated = unchanged = 0
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._write() as db:
            rev: int | None = None
            for article in articles:
                digest = content_hash(article)
                row = db.execute(
                    "SELECT content_hash FROM articles WHERE id = ?", (article.id,)
                ).fetchone()
                if row is not None and row[0] == digest:
                    unchanged += 1
                    continue
                rev = rev if rev is not None else self._next_rev(db)
                record = json.dumps(article.to_record(), ensure_ascii=False)
                db.execute(
                    "INSERT INTO articles (id, record, content_hash, rev, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "record = excluded.record, content_hash = excluded.content_hash, "
                    "rev = excluded.rev, updated_at = excluded.updated_at",
                    (article.id, record, digest, rev, now),
                )
                db.execute("DELETE FROM tombstones WHERE id = ?", (article.id,))
                if row is None:
                    inserted += 1
                else:
                    updated += 1
        return UpsertResult(inserted, updated, unchanged)

    def delete(self, article_id: str) -> bool:
        """Delete by id; returns False when there was no such article."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._write() as db:
            if db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is None:
                return False
            rev = self._next_rev(db)
            db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            db.execute(
                "INSERT OR REPLACE INTO tombstones (id, rev, deleted_at) VALUES (?, ?, ?)",
                (article_id, rev, now),
            )
        return True

    def get(self, article_id: str) -> Article | None:
        row = self._db.execute("SELECT record FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article(row[0]) if row else None

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def rev(self) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()[0])

    def read_all(self) -> StoreRead:
        """Every article, ordered by id, and the revision they belong to, in one transaction."""
        self._db.execute("BEGIN")
        try:
            rev = int(self._db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()[0])
            rows = self._db.execute("SELECT record FROM articles ORDER BY id").fetchall()
        finally:
            self._db.execute("COMMIT")
        return StoreRead(rev, [_article(row[0]) for row in rows])

    def changes_since(self, rev: int) -> Changes:
        """Everything upserted or deleted after `rev`, as of now (one transaction)."""
        self._db.execute("BEGIN")
        try:
            now = int(self._db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()[0])
            rows = self._db.execute(
                "SELECT record FROM articles WHERE rev > ? ORDER BY id", (rev,)
            ).fetchall()
            gone = self._db.execute(
                "SELECT id FROM tombstones WHERE rev > ? ORDER BY id", (rev,)
            ).fetchall()
        finally:
            self._db.execute("COMMIT")
        return Changes(now, [_article(r[0]) for r in rows], [g[0] for g in gone])

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))


def _article(record_json: str) -> Article:
    """A stored record back as an Article. It was validated on the way in; it is not judged
    again here, so a rule tightened later can never stop every build."""
    record: dict[str, Any] = json.loads(record_json)
    return Article(
        id=record["id"],
        title=record["title"],
        body=record["body"],
        url=record.get("url"),
        category=record.get("category"),
        tags=tuple(record.get("tags") or ()),
        author=record.get("author"),
        published_at=record.get("published_at"),
        source=record.get("source"),
        lang=record.get("lang"),
        extra=record.get("extra") or {},
    )
