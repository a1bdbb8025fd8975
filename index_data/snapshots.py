"""Snapshot folders on disk: ids, manifests with checksums, publish (atomic CURRENT), list, prune.

Layout under the data dir::

    staging/<id>/      a build in progress (never served)
    snapshots/<id>/    complete snapshots; manifest.json is written last
    CURRENT            the id of the published snapshot, replaced atomically
    build.lock         held (flock) by the one running build; the OS frees it if that dies
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index_data.errors import (
    BrokenSnapshot,
    BuildInProgress,
    InvalidSnapshotId,
    SnapshotError,
    SnapshotNotFound,
)

# Time to the millisecond, then randomness: ids sort in build order (builds never overlap).
SNAPSHOT_ID = re.compile(r"^\d{8}T\d{9}Z-[0-9a-f]{6}$")
MANIFEST = "manifest.json"


def new_snapshot_id() -> str:
    now = datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def check_snapshot_id(snapshot_id: str) -> str:
    """Reject anything that is not an id we create; ids become folder names."""
    if not SNAPSHOT_ID.match(snapshot_id):
        raise InvalidSnapshotId(
            f"invalid snapshot id {snapshot_id[:60]!r} (expected e.g. 20250314T093000123Z-a1b2c3)"
        )
    return snapshot_id


@dataclass(frozen=True)
class SnapshotInfo:
    id: str
    created_at: str
    article_count: int
    size_bytes: int
    current: bool


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Checksum every file of the folder into the manifest and write it, last and durably."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST:
            files[rel] = {"size": path.stat().st_size, "sha256": file_digest(path)}
            fsync_path(path)  # on disk before CURRENT can ever name this snapshot
    for sub in sorted(p for p in folder.rglob("*") if p.is_dir()):
        fsync_path(sub)
    manifest = {**manifest, "files": files}
    tmp = folder / (MANIFEST + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / MANIFEST)
    fsync_path(folder)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BrokenSnapshot(
            f"snapshot {folder.name} has no {MANIFEST}: it is incomplete"
        ) from None
    except (OSError, ValueError) as exc:
        raise BrokenSnapshot(f"snapshot {folder.name}: unreadable {MANIFEST}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise BrokenSnapshot(f"snapshot {folder.name}: {MANIFEST} is not a JSON object")
    return manifest


def verify(folder: Path, *, checksums: bool = True) -> dict[str, Any]:
    """The manifest of a snapshot folder whose files all match it, else BrokenSnapshot."""
    manifest = read_manifest(folder)
    problems: list[str] = []
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)
        for v in files.values()
    ):
        raise BrokenSnapshot(f"snapshot {folder.name}: manifest has no valid file list")
    for rel, expected in files.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif path.stat().st_size != expected["size"]:
            problems.append(
                f"{rel} has {path.stat().st_size} bytes, manifest says {expected['size']}"
            )
        elif checksums and file_digest(path) != expected["sha256"]:
            problems.append(f"{rel} does not match its checksum")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        raise BrokenSnapshot(f"snapshot {folder.name} is damaged: {shown}")
    return manifest


class SnapshotDir:
    """The snapshot part of a data dir."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir)
        self.staging = self.root / "staging"
        self.snapshots = self.root / "snapshots"
        self.current_file = self.root / "CURRENT"
        self.lock_file = self.root / "build.lock"

    def path(self, snapshot_id: str) -> Path:
        return self.snapshots / check_snapshot_id(snapshot_id)

    def current_id(self) -> str | None:
        try:
            text = self.current_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"cannot read {self.current_file}: {exc}") from exc
        return check_snapshot_id(text) if text else None

    def current_path(self) -> Path:
        snapshot_id = self.current_id()
        if snapshot_id is None:
            raise SnapshotNotFound("no snapshot is published yet: run `gupshup build --publish`")
        return self.path(snapshot_id)

    def publish(self, snapshot_id: str) -> dict[str, Any]:
        """Verify a snapshot, then point CURRENT at it atomically (also how to roll back)."""
        folder = self.path(snapshot_id)
        if not folder.is_dir():
            raise SnapshotNotFound(f"no snapshot {snapshot_id!r} (see `gupshup snapshots`)")
        manifest = verify(folder)
        # Checksums are not enough: open it as a worker will (counts, versions, every part).
        from index_data.snapshot import Snapshot  # here: snapshot.py builds on this module

        Snapshot(folder, manifest).close()
        tmp = self.root / f"CURRENT.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        with tmp.open("w", encoding="ascii") as handle:
            handle.write(snapshot_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        previous = self.current_id() if self.current_file.exists() else None
        os.replace(tmp, self.current_file)
        fsync_path(self.root)
        if previous and previous != snapshot_id:
            # Workers move to the new snapshot within a poll; until then they serve this one.
            (self.root / "PREVIOUS").write_text(previous + "\n", encoding="ascii")
        return manifest

    def listing(self) -> list[SnapshotInfo]:
        """Complete snapshots, newest first (folders without a manifest are not listed)."""
        current = self.current_id()
        infos = []
        if not self.snapshots.is_dir():
            return []
        for folder in sorted(self.snapshots.iterdir(), reverse=True):
            if not (folder.is_dir() and SNAPSHOT_ID.match(folder.name)):
                continue
            try:
                manifest = read_manifest(folder)
                size = sum(int(f["size"]) for f in manifest.get("files", {}).values())
                infos.append(
                    SnapshotInfo(
                        id=folder.name,
                        created_at=str(manifest.get("created_at", "")),
                        article_count=int(manifest.get("article_count", 0)),
                        size_bytes=size,
                        current=folder.name == current,
                    )
                )
            except (BrokenSnapshot, KeyError, TypeError, ValueError, AttributeError):
                continue  # a damaged manifest: not a snapshot anyone can use
        return infos

    def previous_id(self) -> str | None:
        try:
            text = (self.root / "PREVIOUS").read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return text if SNAPSHOT_ID.match(text) else None

    def prune(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest snapshots; never the current one, nor the one
        published before it (workers may still be finishing requests on it)."""
        if keep < 1:
            raise SnapshotError("prune must keep at least 1 snapshot")
        protected = {self.current_id(), self.previous_id()}
        removed = []
        for info in self.listing()[keep:]:
            if info.id not in protected:
                shutil.rmtree(self.snapshots / info.id)
                removed.append(info.id)
        return removed

    def lock_holder(self) -> str | None:
        """Who holds the build lock right now (None when it is free)."""
        if not self.lock_file.exists():
            return None
        with self.lock_file.open("a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                return handle.read().strip() or "another process"
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None

    @contextmanager
    def build_lock(self, holder: str) -> Iterator[None]:
        """Exclusive build lock. flock is released by the kernel if the holder dies, so a
        crashed build never blocks the next one."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = self.lock_file.open("a+", encoding="utf-8")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                who = handle.read().strip() or "another process"
                raise BuildInProgress(f"a build is already running ({who})") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{holder}, pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            handle.close()

    def clear_staging(self) -> None:
        """Remove leftovers of interrupted builds (only call while holding the build lock)."""
        if self.staging.is_dir():
            for folder in self.staging.iterdir():
                shutil.rmtree(folder, ignore_errors=True)
