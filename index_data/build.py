"""Build a complete snapshot (search + related) from one read of the store, then publish it."""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from index_data.aliases import load_aliases, related_view
from index_data.article import Article
from index_data.catalog import write_catalog
from index_data.errors import SnapshotError
from index_data.related_process import RelatedProcess
from index_data.snapshots import SnapshotDir, fsync_path, new_snapshot_id, write_manifest
from index_data.store import ArticleStore
from recommend.model import FORMAT_VERSION, RelatedConfig, build_related
from search.aliases import AliasError, AliasTable
from search.build import MAX_DEFAULT_LIMIT_MB, IndexBuildError, build_index
from search.schema import SCHEMA_VERSION, SearchDoc

# (stage, items just done, stage total): lets the CLI draw progress bars and jobs report counts.
Progress = Callable[[str, int, int], None]
RELATED_ALIASES = "related_aliases.txt"


# From this many articles the Whoosh index is written by two processes (each writes a segment
# of half the articles, no final merge; search/build.py). Measured on 5,000 composed
# articles: 26-32 s instead of 44-67 s; below it, one process finishes in well under a
# minute and leaves one segment.
PARALLEL_INDEX_FROM = 20_000


@dataclass(frozen=True)
class BuildConfig:
    related: RelatedConfig = field(default_factory=RelatedConfig)
    index_procs: int = 0  # 0: decided by the article count (index_procs_for)
    # Postings each index process keeps in Whoosh's pool before spilling runs to disk (MB):
    # the fields outside the writer's arrays (search/segment_writer.py), about a tenth of the
    # postings; 0: an eighth of the machine's memory, at most 2,048 (index_memory_for).
    index_memory_mb: int = 0
    # Related vectors see every alias variant as its group's first spelling (the data dir's
    # alias list at build time, saved in the snapshot).
    aliases: bool = True


def index_procs_for(config: BuildConfig, articles: int) -> int:
    if config.index_procs > 0:
        return config.index_procs
    return min(2, os.cpu_count() or 1) if articles >= PARALLEL_INDEX_FROM else 1


def index_memory_for(config: BuildConfig, machine_mb: int | None = None) -> int:
    """Whoosh's posting pool of each index process, in MB (the postings outside the writer's
    arrays): the configured one, else an eighth of the machine's memory (two index
    processes and the related half then leave most of it to the server), at most
    MAX_DEFAULT_LIMIT_MB."""
    if config.index_memory_mb > 0:
        return config.index_memory_mb
    if machine_mb is None:
        machine_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return max(64, min(MAX_DEFAULT_LIMIT_MB, machine_mb // 8))


def related_text(article: Article, aliases: AliasTable | None) -> tuple[str, str, str]:
    """(id, title, body) as the related engine sees them: alias variants made one spelling."""
    return related_view((article.id, article.title, article.body), aliases)


@dataclass(frozen=True)
class BuildResult:
    snapshot_id: str
    article_count: int
    seconds: dict[str, float]
    size_bytes: int
    published: bool


def search_doc(article: Article) -> SearchDoc:
    published = article.published_datetime()
    return SearchDoc(
        id=article.id,
        title=article.title,
        body=article.body,
        url=article.url,
        category=article.category,
        tags=article.tags,
        author=article.author,
        published_at=article.published_wall_clock(),
        published_ts=published.replace(tzinfo=UTC).timestamp() if published else None,
        published_at_text=article.published_at,
        source=article.source,
        lang=article.lang,
    )


def catalog_entry(article: Article) -> dict[str, Any]:
    """What a Related Articles item shows, kept beside the neighbour lists."""
    published = article.published_datetime()
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "category": article.category,
        "published_at": article.published_at,
        "published_ts": published.replace(tzinfo=UTC).timestamp() if published else None,
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in ("whoosh-reloaded", "scikit-learn", "numpy", "scipy", "gupshup-search"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "unknown"
    return found


def build_snapshot(
    data_dir: str | Path,
    config: BuildConfig | None = None,
    *,
    publish: bool = False,
    progress: Progress | None = None,
    holder: str | None = None,
) -> BuildResult:
    """Build a snapshot of everything in the store; the live snapshot is untouched on failure."""
    config = config or BuildConfig()
    snapshots = SnapshotDir(data_dir)
    report = progress or (lambda stage, done, total: None)
    snapshot_id = new_snapshot_id()
    who = f"build {snapshot_id}" + (f", {holder}" if holder else "")
    with snapshots.build_lock(who):
        snapshots.clear_staging()
        staging = snapshots.staging / snapshot_id
        try:
            result = _build_into(staging, snapshot_id, data_dir, config, report)
            snapshots.snapshots.mkdir(parents=True, exist_ok=True)
            staging.rename(snapshots.snapshots / snapshot_id)
            fsync_path(snapshots.snapshots)
        except OSError as exc:
            raise SnapshotError(f"build {snapshot_id} failed: {exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if publish:
            snapshots.publish(snapshot_id)
    return BuildResult(
        snapshot_id, result["article_count"], result["seconds"], result["size_bytes"], publish
    )


def _build_into(
    staging: Path, snapshot_id: str, data_dir: str | Path, config: BuildConfig, report: Progress
) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with ArticleStore(Path(data_dir) / "articles.db") as store:
        read = store.read_all()
    articles = read.articles
    if not articles:
        raise SnapshotError("the article store is empty: run `gupshup ingest PATH` first")
    total = len(articles)
    seconds["read"] = time.perf_counter() - started
    staging.mkdir(parents=True)

    procs = index_procs_for(config, total)
    try:
        aliases = load_aliases(Path(data_dir)) if config.aliases else None
    except AliasError as exc:
        raise SnapshotError(f"cannot build with this alias list: {exc}") from None
    if aliases is not None:
        (staging / RELATED_ALIASES).write_text(aliases.to_text(), encoding="utf-8")
    # A large build fits the related half in another process while the index is written (see
    # related_process.py), which also writes the aliases as one spelling (16 s for 100,000
    # articles, during which the other core sat idle when the build did it first); a small
    # one does the two in turn, reporting rows as it goes.
    beside = (
        RelatedProcess(
            staging / "related",
            [(a.id, a.title, a.body) for a in articles],
            config.related,
            aliases,
        )
        if procs > 1
        else None
    )
    try:
        mark = time.perf_counter()
        try:
            build_index(
                staging / "search",
                [search_doc(a) for a in articles],
                procs=procs,
                limit_mb=index_memory_for(config),
                on_progress=lambda done: report("search index", done, total),
            )
        except IndexBuildError as exc:
            raise SnapshotError(f"build {snapshot_id} failed: {exc}") from None
        seconds["search_index"] = time.perf_counter() - mark

        mark = time.perf_counter()
        if beside is not None:
            stats = beside.result()
            report("related lists", total, total)
        else:
            stats = build_related(
                staging / "related",
                [related_text(a, aliases) for a in articles],
                config.related,
                on_rows=lambda rows: report("related lists", rows, total),
            )
    finally:
        if beside is not None:
            beside.stop()
    seconds["related_fit"] = stats.fit_seconds
    seconds["related_neighbours"] = stats.neighbours_seconds
    seconds["related"] = time.perf_counter() - mark

    write_catalog(staging, [catalog_entry(a) for a in articles])
    seconds["total"] = time.perf_counter() - started
    manifest = write_manifest(
        staging,
        {
            "id": snapshot_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "article_count": total,
            "store_rev": read.rev,
            "search_schema_version": SCHEMA_VERSION,
            "related_format_version": FORMAT_VERSION,
            "related": {
                "vocabulary": stats.vocabulary,
                "duplicate_groups": stats.duplicate_groups,
                "k": config.related.k,
                "duplicate_threshold": config.related.duplicate_threshold,
            },
            "versions": versions(),
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
        },
    )
    size = sum(f["size"] for f in manifest["files"].values())
    return {"article_count": total, "seconds": seconds, "size_bytes": size}
