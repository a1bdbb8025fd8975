"""What readers are served: a published snapshot plus the store's changes since it was built.

The snapshot on disk never changes. Articles upserted or deleted after its build are read
from the ArticleStore (the source of truth) and laid over it in memory: a small in-memory
Whoosh index of the changed articles, searched together with the snapshot's index (which
hides their old versions and the deleted ones), and a related-articles view that re-vectorises
them with the snapshot's vocabulary. Every worker derives the same view from the same store
revision, so all answer alike; a full rebuild folds the changes into a new snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index_data.article import Article
from index_data.build import catalog_entry, related_text, search_doc
from index_data.catalog import LiveCatalog
from index_data.snapshot import Snapshot
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore, Changes
from recommend.model import RelatedItem
from recommend.overlay import RelatedView
from search.aliases import AliasTable
from search.index import SearchIndex, SearchRequest, SearchResults
from search.schema import category_key
from search.suggest import Suggestions


@dataclass(frozen=True)
class RelatedEntry:
    id: str
    title: str
    url: str | None
    category: str | None
    published_at: str | None
    score: float
    shared_terms: tuple[str, ...]


@dataclass(frozen=True)
class RelatedFilter:
    category: str | None = None
    max_age_days: int | None = None


class LiveView:
    """Immutable once built; the holder swaps in a new one when the store or CURRENT moves."""

    def __init__(self, snapshot: Snapshot, changes: Changes | None = None) -> None:
        self.snapshot = snapshot
        base_rev = int(snapshot.manifest.get("store_rev", 0))
        upserted = changes.upserted if changes else []
        deleted = changes.deleted if changes else []
        self.rev = max(base_rev, changes.rev) if changes else base_rev
        self.changed_count = len(upserted) + len(deleted)
        self._new: dict[str, Article] = {a.id: a for a in upserted}
        self._hidden = frozenset(self._new) | frozenset(deleted)
        self._extra = (
            SearchIndex.in_memory(
                (search_doc(a) for a in upserted), scored_like=snapshot.search_index
            )
            if upserted
            else None
        )
        self._aliases = snapshot.related_aliases
        self._related = RelatedView(
            snapshot.related_model, [related_text(a, self._aliases) for a in upserted], deleted
        )
        self._catalog = LiveCatalog(
            snapshot.catalog, {a.id: catalog_entry(a) for a in upserted}, deleted
        )

    @classmethod
    def open(cls, data_dir: str | Path) -> LiveView:
        """The current snapshot with every change since its build (what the CLI answers)."""
        snapshot = Snapshot.open(SnapshotDir(data_dir).current_path())
        return cls(snapshot, read_changes(data_dir, snapshot))

    @property
    def id(self) -> str:
        return self.snapshot.id

    @property
    def version(self) -> str:
        """Snapshot and store revision: what an answer depends on (ETags use it)."""
        return f"{self.snapshot.id}@{self.rev}"

    @property
    def manifest(self) -> dict[str, Any]:
        return self.snapshot.manifest

    @property
    def article_count(self) -> int:
        return len(self._catalog)

    @property
    def catalog(self) -> Mapping[str, dict[str, Any]]:
        return self._catalog

    def close(self) -> None:
        """Closes the in-memory part; the snapshot is closed by whoever opened it."""
        if self._extra is not None:
            self._extra.close()

    def search(self, request: SearchRequest) -> SearchResults:
        return self.snapshot.search_index.search(request, hide=self._hidden, extra=self._extra)

    def suggest(
        self, text: str, limit: int, aliases: AliasTable | None = None, phonetic: bool = True
    ) -> Suggestions:
        return self.snapshot.search_index.suggest(
            text, limit, hide=self._hidden, extra=self._extra, aliases=aliases, phonetic=phonetic
        )

    def article(self, article_id: str) -> dict[str, Any] | None:
        """Stored fields of a live article (as the search index stores them), or None."""
        if article_id in self._new:
            assert self._extra is not None
            return self._extra.document(article_id)
        if article_id in self._hidden:
            return None
        return self.snapshot.search_index.document(article_id)

    def related(
        self, article_id: str, limit: int, filters: RelatedFilter | None = None
    ) -> list[RelatedEntry] | None:
        """Related articles of a live article; None when there is no such article."""
        if article_id not in self._related:
            return None
        items = self._related.related(article_id, limit, self._keep(filters or RelatedFilter()))
        return [self._entry(item) for item in items]

    def related_to_text(
        self, title: str, body: str, limit: int, filters: RelatedFilter | None = None
    ) -> list[RelatedEntry]:
        keep = self._keep(filters or RelatedFilter())
        if self._aliases is not None:
            title, body = self._aliases.canonical(title), self._aliases.canonical(body)
        return [self._entry(i) for i in self._related.related_to_text(title, body, limit, keep)]

    def _keep(self, filters: RelatedFilter) -> Callable[[str], bool] | None:
        if filters.category is None and filters.max_age_days is None:
            return None
        category = category_key(filters.category) if filters.category else None
        days = filters.max_age_days
        oldest = time.time() - days * 86_400 if days is not None else None

        def keep(article_id: str) -> bool:
            entry = self._catalog[article_id]
            if category is not None and entry["category"] != category:
                return False
            if oldest is not None:
                return entry["published_ts"] is not None and entry["published_ts"] >= oldest
            return True

        return keep

    def _entry(self, item: RelatedItem) -> RelatedEntry:
        e = self._catalog[item.id]
        return RelatedEntry(
            e["id"],
            e["title"],
            e["url"],
            e["category"],
            e["published_at"],
            item.score,
            item.shared_terms,
        )


def read_changes(data_dir: str | Path, snapshot: Snapshot) -> Changes:
    with ArticleStore(Path(data_dir) / "articles.db") as store:
        return store.changes_since(int(snapshot.manifest.get("store_rev", 0)))
