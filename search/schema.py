"""The Whoosh schema and the document shape the index is built from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.system import pack_uint
from whoosh.util.times import datetime_to_long

from search.analysis import BUILD_CACHE, WordAnalyzer, name_analyzer, news_analyzer

# 4: no `spell_` fields (the word list is search/words.tsv) and sort_date is a column only.
# 5: the positions format is `WordPositions` (same postings, but Whoosh's pickled schema names
# the class, so code before it cannot open the index: the version makes it refuse the snapshot
# cleanly). 6: published_at is a column only, read as an array by date filters
# (search/docsets.py); its eight range terms per article were 38 % of the index's terms at
# 10,000 articles and most of them at 100,000 (every article's time is distinct). 7: words
# are split where letters meet digits or Greek letters, and a lone Greek letter is indexed by
# its name (search/analysis.py). Queries are analyzed by this code's analyzers, so the "p53"
# of a query is now "p" and "53" while an older index holds "p53": rather than miss such
# words quietly, older snapshots are refused ("build a new snapshot"). SearchIndex still
# answers date filters on an index whose published_at has range terms (schema 4 and 5).
SCHEMA_VERSION = 7
READABLE_SCHEMA_VERSIONS = (7,)
UNDATED = -(2**62)


class ColumnOnlyNumeric(NUMERIC):  # type: ignore[misc]
    """A NUMERIC kept as a per-document column (for sorting) and never indexed: Whoosh writes
    the column whatever `indexed` says, and skips the terms when it is False."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.indexed = False


# The value of a posting at one position (Whoosh's positions encoding of `[place]`), by
# position: shared by every field and document (positions past the limit are encoded anew).
_ONE_PLACE_LIMIT = 4096
_ONE_PLACE: list[bytes] = [pack_uint(1) + dumps([place], 2) for place in range(_ONE_PLACE_LIMIT)]


def encoded_places(places: list[int]) -> bytes:
    """Whoosh's `Positions` encoding of a word's positions in one field (a count and the
    pickled deltas). Most postings are a word once in the field: their bytes come made."""
    if len(places) == 1 and places[0] < _ONE_PLACE_LIMIT:
        return _ONE_PLACE[places[0]]
    deltas = [places[0]]
    deltas += [b - a for a, b in pairwise(places)]
    encoded: bytes = pack_uint(len(deltas)) + dumps(deltas, 2)
    return encoded


class WordPositions(Positions):  # type: ignore[misc]
    """Whoosh's `Positions` format (the same postings bytes, read by its own code) whose
    `word_values`, given our `WordAnalyzer`, takes each term's positions from the analyzer
    in one call instead of a token object per word; any other analyzer or option takes
    Whoosh's own path. The postings of titles, bodies, tags and authors come from here
    (search/segment_writer.py writes them the same way): tests hold both paths equal on
    generated text."""

    def word_values(
        self, value: Any, analyzer: Any, **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        if (
            type(analyzer) is not WordAnalyzer
            or not isinstance(value, str)
            or set(kwargs) - {"mode"}
        ):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for term, places in analyzer.term_positions(value).items():
            yield (term, len(places), float(len(places)) * boost, encoded_places(places))


def _with_word_positions(field: TEXT) -> TEXT:
    field.format = WordPositions(field_boost=field.format.field_boost)
    return field


@dataclass(frozen=True)
class SearchDoc:
    """What the index needs of one article (plain values, no storage types)."""

    id: str
    title: str
    body: str
    url: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    published_at: datetime | None = None  # wall-clock time as published (date filters)
    published_ts: float | None = None  # seconds since the epoch, UTC (sorting)
    published_at_text: str | None = None
    source: str | None = None
    lang: str | None = None


def build_schema() -> Schema:
    news, names = news_analyzer(BUILD_CACHE), name_analyzer(BUILD_CACHE)
    return Schema(
        id=ID(stored=True, unique=True),
        # The unstemmed words "did you mean" offers are counted beside the index (words.py),
        # not indexed a second time (`spelling=True`).
        title=_with_word_positions(TEXT(analyzer=news, stored=True, phrase=True)),
        body=_with_word_positions(TEXT(analyzer=news, stored=True, phrase=True)),
        # Searchable words of the tags, and the exact tags for filtering.
        tags=_with_word_positions(TEXT(analyzer=news, stored=True, phrase=True)),
        tag_key=KEYWORD(commas=True, lowercase=True),
        # Unstemmed words of title and tags, for search-as-you-type (completions and titles).
        suggest=TEXT(analyzer=names, phrase=False),
        author=_with_word_positions(TEXT(analyzer=names, stored=True, phrase=True)),
        author_key=ID(),
        category=ID(stored=True, sortable=True),
        # The wall-clock time as published, as Whoosh's DATETIME encodes it (`datetime_to_long`),
        # UNDATED when there is none: date filters compare this column (docsets.py), so the
        # range terms a DATETIME field indexes (8 per article, nearly all of them distinct)
        # are not written.
        published_at=ColumnOnlyNumeric(bits=64, sortable=True, signed=True),
        # Seconds since the epoch, UNDATED when there is no date: sorting on it puts undated
        # stories last under "newest" (a missing DATETIME value would sort first). Only the
        # column is read, so its 16 range terms per article are not indexed.
        sort_date=ColumnOnlyNumeric(bits=64, sortable=True, signed=True),
        published_at_text=STORED(),
        url=STORED(),
        source=STORED(),
        lang=ID(stored=True),
    )


def key(value: str) -> str:
    """The exact-match form of a filter value (author, tag)."""
    return " ".join(value.split()).lower()


def category_key(value: str) -> str:
    """A category as a facet key: "Box Office" and "box-office" are one category (the same
    rule ingest applies, so a filter typed either way finds them)."""
    return "-".join(value.lower().split())


def _date_value(value: datetime | None) -> int:
    """The published_at column's value: Whoosh's DATETIME encoding, or UNDATED."""
    if value is None:
        return UNDATED
    if not isinstance(value, datetime):
        raise TypeError(f"{value!r} is not a datetime")
    return int(datetime_to_long(value))


def doc_fields(doc: SearchDoc) -> dict[str, object]:
    """The keyword arguments for `writer.add_document` (empty values are left out)."""
    fields: dict[str, object] = {
        "id": doc.id,
        "title": doc.title,
        # The body field indexes the headline too (stored as the body alone, for snippets and
        # the article view): BM25 then counts a word once per story, with the title's own
        # field adding a small boost, instead of summing two saturated scores. On SciFact
        # (train) this took nDCG@10 from 0.687 to 0.6945 (README, Quality).
        "body": f"{doc.title}\n{doc.body}",
        "_stored_body": doc.body,
    }
    optional: dict[str, object | None] = {
        "url": doc.url,
        "category": category_key(doc.category) if doc.category else None,
        "tags": ", ".join(doc.tags) if doc.tags else None,
        "suggest": " ".join([doc.title, *doc.tags]),
        "tag_key": ",".join(key(t) for t in doc.tags) if doc.tags else None,
        "author": doc.author,
        "author_key": key(doc.author) if doc.author else None,
        "published_at": _date_value(doc.published_at),
        "sort_date": (int(doc.published_ts) if doc.published_ts is not None else UNDATED),
        "published_at_text": doc.published_at_text,
        "source": doc.source,
        "lang": doc.lang,
    }
    fields.update({name: value for name, value in optional.items() if value is not None})
    return fields
