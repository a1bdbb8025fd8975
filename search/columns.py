"""A fix for Whoosh 2.7's segment writer: remember which per-document columns a segment lacks.

While a segment is written, Whoosh looks up the field length of every posting. For fields that
keep no lengths (ids, keywords, the spelling and suggestion words) it finds no column and, not
caching that answer, asks the file system again for the next posting: one `stat` per posting.
Profiled on 1,500 composed news articles this was 4.3 s of a 25 s index build. A segment's files
never change once written, so "no such column" can be cached like a found one.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3PerDocReader

_original = W3PerDocReader._cached_reader


def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    readers = self._readers
    if fieldname not in readers:
        readers[fieldname] = _original(self, fieldname, column)
    return readers[fieldname]


def cache_missing_columns() -> None:
    """Install the fix (idempotent); search.build does at import."""
    W3PerDocReader._cached_reader = _cached_reader
