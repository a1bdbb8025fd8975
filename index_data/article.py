"""The Article record and the rules every ingested record must pass."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from index_data.errors import InvalidArticle, InvalidBatch

# Ids travel in URLs and CLI arguments; they never become file paths, but we still keep them
# boring: no whitespace or control characters, no `..` segment, bounded length.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 1_000_000
MAX_TAGS = 50
KNOWN_FIELDS = (
    "id",
    "title",
    "body",
    "url",
    "category",
    "tags",
    "author",
    "published_at",
    "source",
    "lang",
)


@dataclass(frozen=True)
class Article:
    """One news article as stored; `extra` keeps unknown fields (stored, never indexed)."""

    id: str
    title: str
    body: str
    url: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    published_at: str | None = None
    source: str | None = None
    lang: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready form (what the store keeps and `/api/articles/{id}` shows)."""
        record: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "category": self.category,
            "tags": list(self.tags),
            "author": self.author,
            "published_at": self.published_at,
            "source": self.source,
            "lang": self.lang,
        }
        if self.extra:
            record["extra"] = dict(self.extra)
        return record

    def published_datetime(self) -> datetime | None:
        """`published_at` as a naive UTC datetime (what sorting and ages compare)."""
        return parse_published_at(self.published_at) if self.published_at else None

    def published_wall_clock(self) -> datetime | None:
        """`published_at` as the publisher wrote it, offset dropped: the date a reader sees on
        the page, which is what a `from`/`to` date filter means."""
        if not self.published_at:
            return None
        return wall_clock(self.published_at)


def wall_clock(value: str) -> datetime:
    """An ISO 8601 date or datetime on the clock it was written in (offset dropped): what the
    index keeps of a published date, and how a date filter's bounds are read, so both are
    compared on the publisher's clock. InvalidArticle if it is not a date."""
    parse_published_at(value)
    text = value.strip()
    if len(text) == 10:
        return datetime.fromisoformat(text)
    return datetime.fromisoformat(text).replace(tzinfo=None)


def validate_id(value: str) -> str:
    """Return `value` if it is an acceptable article id, else raise InvalidArticle."""
    # "x/related" would be unreachable at /api/articles/{id}: the related route takes it.
    parts = value.split("/")
    if not ID_PATTERN.match(value) or ".." in parts or (len(parts) > 1 and parts[-1] == "related"):
        raise InvalidArticle(
            f"invalid id {value[:60]!r}: use 1-200 letters, digits or . _ : / @ + - "
            "(starting with a letter or digit; no '..' part, not ending in '/related')",
            field="id",
        )
    return value


def parse_published_at(value: str) -> datetime:
    """Parse an ISO 8601 date or datetime; aware values are converted to naive UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            parsed_date = date.fromisoformat(text)
            return datetime(parsed_date.year, parsed_date.month, parsed_date.day)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InvalidArticle(
            f"published_at {value[:40]!r} is not an ISO 8601 date or datetime "
            "(e.g. 2025-03-14 or 2025-03-14T09:30:00+05:30)",
            field="published_at",
        ) from None
    return parsed


def _clean_text(value: Any, name: str, *, required: bool, limit: int) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidArticle(f"field {name!r} must be a string, got {type(value).__name__}", name)
    # NFC so that the same word typed two ways is stored one way; control characters (other
    # than newlines and tabs) are never meaningful in an article and break terminals and JSON.
    # Both come before the checks: what is checked is what is stored.
    text = unicodedata.normalize("NFC", value or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not text:
        if required:
            raise InvalidArticle(f"missing required field {name!r}", field=name)
        return None
    if len(text) > limit:
        raise InvalidArticle(f"field {name!r} is longer than {limit:,} characters", field=name)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidArticle(f"field {name!r} holds invalid Unicode (a lone surrogate)", name)
    return text


def _clean_tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[Any] = re.split(r"[|;,]", value)
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidArticle("field 'tags' must be a list of strings", field="tags")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidArticle("field 'tags' must be a list of strings", field="tags")
        tag = " ".join(unicodedata.normalize("NFC", item).split()).lower()
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidArticle(f"field 'tags' has more than {MAX_TAGS} tags", field="tags")
    return tuple(tags)


def article_from_record(record: Mapping[str, Any]) -> Article:
    """Validate a mapping (a JSON object or a CSV row) and build an Article from it."""
    raw_id = record.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise InvalidArticle("missing required field 'id'", field="id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise InvalidArticle("field 'id' must be a string", field="id")
    article_id = validate_id(str(raw_id).strip())
    title = _clean_text(record.get("title"), "title", required=True, limit=MAX_TITLE_CHARS)
    body = _clean_text(record.get("body"), "body", required=True, limit=MAX_BODY_CHARS)
    published = _clean_text(record.get("published_at"), "published_at", required=False, limit=40)
    if published is not None:
        parse_published_at(published)
    category = _clean_text(record.get("category"), "category", required=False, limit=100)
    extra = {k: v for k, v in record.items() if k not in KNOWN_FIELDS and k != "extra"}
    if isinstance(record.get("extra"), Mapping):
        extra = {**record["extra"], **extra}
    try:
        # Unknown fields are stored as JSON: they must be storable.
        json.dumps(extra, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        raise InvalidArticle("unknown fields hold values that cannot be stored as JSON") from None
    return Article(
        id=article_id,
        title=title or "",
        body=body or "",
        url=_clean_text(record.get("url"), "url", required=False, limit=2_000),
        # Categories are facet keys: "Box Office" and "box-office" must be one bucket (the
        # search package's category_key applies the same rule to filters).
        category="-".join(category.lower().split()) if category else None,
        tags=_clean_tags(record.get("tags")),
        author=_clean_text(record.get("author"), "author", required=False, limit=200),
        published_at=published,
        source=_clean_text(record.get("source"), "source", required=False, limit=200),
        lang=_clean_text(record.get("lang"), "lang", required=False, limit=20),
        extra=extra,
    )


def articles_from_records(records: list[Any]) -> list[Article]:
    """Validate a whole batch: every record must be a valid article with an id unique in the
    batch, or nothing is accepted (InvalidBatch lists every problem by 0-based index)."""
    articles: list[Article] = []
    problems: list[tuple[int, str | None, str]] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            problems.append((index, None, f"expected a JSON object, got {type(record).__name__}"))
            continue
        try:
            article = article_from_record(record)
        except InvalidArticle as exc:
            problems.append((index, exc.field, exc.message))
            continue
        if article.id in seen:
            message = f"duplicate id {article.id!r} (also item {seen[article.id]})"
            problems.append((index, "id", message))
            continue
        seen[article.id] = index
        articles.append(article)
    if problems:
        raise InvalidBatch(problems)
    return articles
