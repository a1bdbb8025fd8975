"""What a Related Articles item shows of each article of a snapshot (title, url, category,
date), kept as columns a server maps from disk instead of a dictionary per article.

A snapshot's catalog was `catalog.json`, read into a dictionary per article: about 56 MB of
private memory in each worker at 100,000 articles. The columns (`catalog/`: each text column
one UTF-8 array and its end offsets, the timestamps one float array) are memory-mapped and
decoded one entry at a time, when an item is shown; snapshots built before them still open
from their `catalog.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = "catalog"
JSON_FILE = "catalog.json"  # snapshots built before the columns
TEXT_COLUMNS = ("id", "title", "url", "category", "published_at")
# Every field of an entry, in the order catalog_entry (index_data/build.py) gives them.
FIELDS = (*TEXT_COLUMNS, "published_ts")

Entry = dict[str, Any]


def write_catalog(folder: Path, entries: Sequence[Entry]) -> None:
    """The entries as columns in `folder/catalog/` (a missing value is marked as missing)."""
    out = folder / FOLDER
    out.mkdir()
    for name in TEXT_COLUMNS:
        values = [entry[name] for entry in entries]
        encoded = [(v or "").encode("utf-8") for v in values]
        ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
        np.save(out / f"{name}.ends.npy", ends)
        np.save(out / f"{name}.utf8.npy", np.frombuffer(b"".join(encoded), dtype=np.uint8))
        np.save(out / f"{name}.missing.npy", np.array([v is None for v in values], dtype=bool))
    stamps = [entry["published_ts"] for entry in entries]
    np.save(out / "published_ts.npy", np.array([np.nan if s is None else s for s in stamps]))


class _TextColumn:
    """One text column: its values read through memoryviews of the mapped arrays (indexing
    a mapped numpy array per value took 27 us an entry, 5 columns read through views about 5)."""

    def __init__(self, folder: Path, name: str, count: int) -> None:
        self.ends = _load(folder / f"{name}.ends.npy")
        self.text = _load(folder / f"{name}.utf8.npy")
        self.missing = _load(folder / f"{name}.missing.npy")
        if not (len(self.ends) == len(self.missing) == count):
            raise ValueError(f"catalog column {name} has {len(self.ends)} entries, not {count}")
        if count and (int(self.ends[-1]) != len(self.text) or np.any(np.diff(self.ends) < 0)):
            raise ValueError(f"catalog column {name}: offsets do not describe its text")
        self._ends = _view(self.ends, "q")
        self._text = _view(self.text, "B")
        self._missing = _view(self.missing.view(np.uint8), "B")

    def holds(self, values: Sequence[str]) -> bool:
        """Whether the column is exactly `values` (none missing), compared as whole arrays."""
        encoded = [v.encode("utf-8") for v in values]
        ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
        return (
            not self.missing.any()
            and np.array_equal(ends, self.ends)
            and bytes(self.text) == b"".join(encoded)
        )

    def __getitem__(self, row: int) -> str | None:
        if self._missing[row]:
            return None
        return str(self._text[self._ends[row - 1] if row else 0 : self._ends[row]], "utf-8")


def _view(array: np.ndarray, code: str) -> Any:
    """A flat memoryview of `array`'s values as `code` (struct's format letters)."""
    flat: Any = np.ascontiguousarray(array).data.cast("B") if len(array) else memoryview(b"")
    return flat.cast(code)


def _load(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r", allow_pickle=False)  # type: ignore[no-any-return]


class Catalog(Mapping[str, Entry]):
    """Article id -> its entry (a new dictionary per lookup), in the snapshot's order. `ids`
    and `row_of` are the snapshot's article ids and their rows, shared with the related model
    (the columns' own ids must be the same, in the same order)."""

    def __init__(self, folder: Path, ids: Sequence[str], row_of: Mapping[str, int]) -> None:
        columns = folder / FOLDER
        self._ids, self._row_of = ids, row_of
        if columns.is_dir():
            self._text = {name: _TextColumn(columns, name, len(ids)) for name in TEXT_COLUMNS}
            stamps = _load(columns / "published_ts.npy")
            if len(stamps) != len(ids) or stamps.dtype != np.float64:
                raise ValueError(f"catalog has {len(stamps)} dates for {len(ids)} articles")
            self._stamps = _view(stamps, "d")
            if not self._text["id"].holds(ids):
                raise ValueError("catalog ids differ from the related model's")
            self._entries: dict[str, Entry] | None = None
        else:
            entries = json.loads((folder / JSON_FILE).read_text(encoding="utf-8"))
            self._entries = {entry["id"]: entry for entry in entries}

    def __getitem__(self, article_id: str) -> Entry:
        if self._entries is not None:
            return self._entries[article_id]
        row = self._row_of[article_id]
        entry: Entry = {name: column[row] for name, column in self._text.items()}
        stamp = self._stamps[row]
        entry["published_ts"] = None if stamp != stamp else stamp  # NaN: no date
        return entry

    def __contains__(self, article_id: object) -> bool:
        if self._entries is not None:
            return article_id in self._entries
        return article_id in self._row_of

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids if self._entries is None else self._entries)

    def __len__(self) -> int:
        return len(self._ids if self._entries is None else self._entries)


class LiveCatalog(Mapping[str, Entry]):
    """A snapshot's catalog with the articles changed since its build: `new` entries (new
    or updated articles) over it, `deleted` ids left out (whatever `new` says of them);
    iterated in the snapshot's order, then the articles it did not have. What
    `{**base, **new}` less `deleted` was, without copying the snapshot's catalog."""

    def __init__(
        self, base: Mapping[str, Entry], new: Mapping[str, Entry], deleted: Iterable[str]
    ) -> None:
        self._base, self._new = base, new
        self._gone = frozenset(deleted)
        self._added = [a for a in new if a not in base and a not in self._gone]
        self._count = len(base) - sum(1 for a in self._gone if a in base) + len(self._added)

    def __getitem__(self, article_id: str) -> Entry:
        if article_id in self._gone:
            raise KeyError(article_id)
        if article_id in self._new:
            return self._new[article_id]
        return self._base[article_id]

    def __contains__(self, article_id: object) -> bool:
        if article_id in self._gone:
            return False
        return article_id in self._new or article_id in self._base

    def __iter__(self) -> Iterator[str]:
        gone = self._gone
        for article_id in self._base:
            if article_id not in gone:
                yield article_id
        yield from self._added

    def __len__(self) -> int:
        return self._count
