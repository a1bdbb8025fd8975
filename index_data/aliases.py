"""The data dir's alias file: read (falling back to the starter list), replaced atomically,
and re-read by each worker when it changes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from search.aliases import AliasError, AliasTable, starter_aliases

ALIASES_FILE = "aliases.txt"


def related_view(doc: tuple[str, str, str], aliases: AliasTable | None) -> tuple[str, str, str]:
    """(id, title, body) as the related engine sees them: alias variants made one spelling."""
    if aliases is None:
        return doc
    article_id, title, body = doc
    return (article_id, aliases.canonical(title), aliases.canonical(body))


def load_aliases(data_dir: Path) -> AliasTable:
    """The data dir's alias file if an admin has written one, else the starter list."""
    path = data_dir / ALIASES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return starter_aliases()
    except (OSError, UnicodeDecodeError) as exc:
        raise AliasError(f"{path}: cannot read: {exc}") from exc
    return AliasTable.parse(text, str(path))


def alias_source(data_dir: Path) -> str:
    path = data_dir / ALIASES_FILE
    return str(path) if path.exists() else "starter list (no aliases.txt in the data dir)"


def save_aliases(data_dir: Path, table: AliasTable) -> Path:
    """Replace the data dir's alias file atomically (readers see the old or the new list)."""
    path = data_dir / ALIASES_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".aliases-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("# Name aliases: one group per line, variants separated by '='.\n")
            handle.write(table.to_text())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class AliasFile:
    """The data dir's aliases as of the file's last change: each worker re-reads the file when
    its modification time or size moves, so an admin's edit is served without a restart."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._stamp: tuple[int, int] | None = None
        self._table = starter_aliases()
        self._loaded = False

    @property
    def version(self) -> str:
        """Changes whenever the served list may have (for ETags)."""
        self.current()
        return "starter" if self._stamp is None else f"{self._stamp[0]}-{self._stamp[1]}"

    def current(self) -> AliasTable:
        path = self._data_dir / ALIASES_FILE
        try:
            info = path.stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if not self._loaded or stamp != self._stamp:
            try:
                self._table = load_aliases(self._data_dir)
            except AliasError:
                # A file broken on disk by hand keeps the last good list serving; the admin
                # API and CLI never write one (they validate first).
                if not self._loaded:
                    self._table = starter_aliases()
            self._stamp, self._loaded = stamp, True
        return self._table


_FILES: dict[Path, AliasFile] = {}


def alias_file(data_dir: Path) -> AliasFile:
    """The one AliasFile of a data dir in this process (so its cache is shared)."""
    key = Path(data_dir).resolve()
    found = _FILES.get(key)
    if found is None:
        found = _FILES.setdefault(key, AliasFile(key))
    return found
