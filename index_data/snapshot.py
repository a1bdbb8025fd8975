"""One snapshot opened read-only and verified: its search index, related model and catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from index_data.build import RELATED_ALIASES
from index_data.catalog import Catalog
from index_data.errors import BrokenSnapshot
from index_data.snapshots import verify
from recommend import RecommendError
from recommend.model import READABLE_FORMAT_VERSIONS, RelatedModel
from search import SearchError
from search.aliases import AliasTable
from search.index import SearchIndex
from search.schema import READABLE_SCHEMA_VERSIONS


class Snapshot:
    """The parts of one snapshot. Immutable once opened, so one object serves many threads
    (the search index keeps a searcher per thread); `LiveView` answers from it."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.path = folder
        self.manifest = manifest
        self.id = folder.name
        _check_manifest(folder, manifest)
        try:
            self.search_index = SearchIndex.open(folder / "search")
            self.related_model = RelatedModel.open(folder / "related")
            model = self.related_model
            self.catalog = Catalog(folder, model.ids, model.row_of)
            # The alias list the related vectors were built with: drafts and changed
            # articles are written the same way before they are compared with them.
            aliases = folder / RELATED_ALIASES
            self.related_aliases = (
                AliasTable.parse(aliases.read_text(encoding="utf-8"), str(aliases))
                if aliases.exists()
                else None
            )
        except (SearchError, RecommendError, OSError, ValueError, KeyError, TypeError) as exc:
            raise BrokenSnapshot(f"snapshot {folder.name} cannot be opened: {exc}") from exc
        counts = {len(self.catalog), self.search_index.doc_count, len(self.related_model.ids)}
        if counts != {manifest["article_count"]}:
            self.close()
            raise BrokenSnapshot(
                f"snapshot {folder.name}: counts disagree (manifest {manifest['article_count']}, "
                f"parts {sorted(counts)})"
            )
        # Search lifts matches by the related lists, which name articles by their row: the
        # build writes both halves from one list of articles, so row = document number. A
        # sample of rows confirms it (all of them would be a stored-field read per article).
        ids = self.related_model.ids
        sample = sorted({len(ids) - 1, *range(0, len(ids), max(1, len(ids) // 16))} - {-1})
        if self.search_index.ids_of(sample) != [ids[row] for row in sample]:
            self.close()
            raise BrokenSnapshot(
                f"snapshot {folder.name}: the search index and the related lists list the "
                "articles in different orders"
            )
        self.search_index.use_related(self.related_model.neighbours, self.related_model.scores)

    @classmethod
    def open(cls, folder: str | Path, *, checksums: bool = True) -> Snapshot:
        path = Path(folder)
        return cls(path, verify(path, checksums=checksums))

    @property
    def article_count(self) -> int:
        return int(self.manifest["article_count"])

    def close(self) -> None:
        self.search_index.close()


def _check_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """A manifest must describe this folder and a format this code reads."""
    if manifest.get("id") != folder.name:
        raise BrokenSnapshot(f"snapshot {folder.name}: manifest names {manifest.get('id')!r}")
    if not isinstance(manifest.get("article_count"), int):
        raise BrokenSnapshot(f"snapshot {folder.name}: manifest has no article count")
    versions = {
        "search_schema_version": READABLE_SCHEMA_VERSIONS,
        "related_format_version": READABLE_FORMAT_VERSIONS,
    }
    for key, readable in versions.items():
        if manifest.get(key) not in readable:
            wanted = " or ".join(str(v) for v in readable)
            raise BrokenSnapshot(
                f"snapshot {folder.name} was built with {key} {manifest.get(key)}, this version "
                f"reads {wanted}: build a new snapshot"
            )
