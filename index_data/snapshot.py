"""One published snapshot opened read-only: search, related, and articles from one version."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index_data.build import CATALOG
from index_data.errors import BrokenSnapshot
from index_data.snapshots import SnapshotDir, verify
from recommend import RecommendError
from recommend.model import RelatedModel
from search import SearchError
from search.index import SearchIndex, SearchRequest, SearchResults
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


class Snapshot:
    """Everything one snapshot answers. Immutable once opened, so one object can serve many
    threads (the search index keeps a searcher per thread)."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.path = folder
        self.manifest = manifest
        self.id: str = manifest["id"]
        try:
            self.search_index = SearchIndex.open(folder / "search")
            self.related_model = RelatedModel.open(folder / "related")
            entries = json.loads((folder / CATALOG).read_text(encoding="utf-8"))
        except (SearchError, RecommendError, OSError, ValueError) as exc:
            raise BrokenSnapshot(f"snapshot {folder.name} cannot be opened: {exc}") from exc
        self.catalog: dict[str, dict[str, Any]] = {e["id"]: e for e in entries}
        counts = {len(self.catalog), self.search_index.doc_count, len(self.related_model.ids)}
        if counts != {manifest["article_count"]}:
            self.close()
            raise BrokenSnapshot(
                f"snapshot {folder.name}: counts disagree (manifest {manifest['article_count']}, "
                f"parts {sorted(counts)})"
            )

    @classmethod
    def open(cls, folder: str | Path, *, checksums: bool = True) -> Snapshot:
        path = Path(folder)
        return cls(path, verify(path, checksums=checksums))

    @classmethod
    def open_current(cls, data_dir: str | Path) -> Snapshot:
        return cls.open(SnapshotDir(data_dir).current_path())

    @property
    def article_count(self) -> int:
        return int(self.manifest["article_count"])

    def close(self) -> None:
        self.search_index.close()

    def search(self, request: SearchRequest) -> SearchResults:
        return self.search_index.search(request)

    def suggest(self, text: str, limit: int) -> Suggestions:
        return self.search_index.suggest(text, limit)

    def article(self, article_id: str) -> dict[str, Any] | None:
        return self.search_index.document(article_id)

    def related(
        self, article_id: str, limit: int, filters: RelatedFilter | None = None
    ) -> list[RelatedEntry] | None:
        """Related articles of a published article; None when the snapshot does not hold it."""
        if article_id not in self.related_model:
            return None
        keep = self._keep(filters or RelatedFilter())
        items = self.related_model.related(article_id, limit, keep)
        return [self._entry(i.id, i.score, i.shared_terms) for i in items]

    def related_to_text(
        self, title: str, body: str, limit: int, filters: RelatedFilter | None = None
    ) -> list[RelatedEntry]:
        keep = self._keep(filters or RelatedFilter())
        items = self.related_model.related_to_text(title, body, limit, keep)
        return [self._entry(i.id, i.score, i.shared_terms) for i in items]

    def _keep(self, filters: RelatedFilter) -> Callable[[str], bool] | None:
        if filters.category is None and filters.max_age_days is None:
            return None
        category = filters.category.lower() if filters.category else None
        oldest = (
            time.time() - filters.max_age_days * 86_400
            if filters.max_age_days is not None
            else None
        )

        def keep(article_id: str) -> bool:
            entry = self.catalog[article_id]
            if category is not None and entry["category"] != category:
                return False
            if oldest is not None:
                return entry["published_ts"] is not None and entry["published_ts"] >= oldest
            return True

        return keep

    def _entry(self, article_id: str, score: float, terms: tuple[str, ...]) -> RelatedEntry:
        e = self.catalog[article_id]
        return RelatedEntry(
            e["id"], e["title"], e["url"], e["category"], e["published_at"], score, terms
        )
