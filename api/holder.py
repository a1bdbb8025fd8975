"""The live-snapshot holder: one reference per worker, swapped when CURRENT changes.

Requests take the snapshot through `use()`, which counts them in; a replaced snapshot is
closed only once its last request has finished, so a swap never fails a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index_data.errors import IndexDataError, SnapshotNotFound
from index_data.snapshot import Snapshot
from index_data.snapshots import SnapshotDir

log = logging.getLogger("gupshup.snapshots")


class SnapshotHolder:
    def __init__(
        self,
        data_dir: Path,
        poll_seconds: float = 1.0,
        on_swap: Callable[[Snapshot, Snapshot | None], None] | None = None,
    ) -> None:
        self._on_swap = on_swap
        self._dir = SnapshotDir(data_dir)
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._in_use: dict[int, int] = {}
        self._retired: list[Snapshot] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.problem: str | None = None

    @property
    def current(self) -> Snapshot | None:
        return self._current

    def current_id(self) -> str | None:
        snapshot = self._current
        return snapshot.id if snapshot is not None else None

    def refresh(self) -> bool:
        """Load the snapshot CURRENT names if it is not the one held; True if swapped."""
        try:
            wanted = self._dir.current_id()
        except IndexDataError as exc:
            self.problem = str(exc)
            return False
        held = self._current
        if wanted is None or (held is not None and held.id == wanted):
            return False
        try:
            fresh = Snapshot.open(self._dir.path(wanted))
        except IndexDataError as exc:
            # Keep serving what we have; say why in logs and /readyz.
            self.problem = f"cannot load snapshot {wanted}: {exc}"
            log.error(self.problem)
            return False
        with self._lock:
            old, self._current = self._current, fresh
            self.problem = None
            if old is not None:
                self._retired.append(old)
        log.info("serving snapshot %s (%d articles)", fresh.id, fresh.article_count)
        if self._on_swap is not None:
            self._on_swap(fresh, old)
        self._close_idle()
        return True

    @contextmanager
    def use(self) -> Iterator[Snapshot]:
        """The current snapshot for the length of one request (503 when there is none)."""
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise SnapshotNotFound(
                    self.problem or "no snapshot is published yet: run `gupshup build --publish`"
                )
            self._in_use[id(snapshot)] = self._in_use.get(id(snapshot), 0) + 1
        try:
            yield snapshot
        finally:
            with self._lock:
                self._in_use[id(snapshot)] -= 1
            self._close_idle()

    def _close_idle(self) -> None:
        with self._lock:
            idle = [s for s in self._retired if self._in_use.get(id(s), 0) == 0]
            self._retired = [s for s in self._retired if s not in idle]
            for s in idle:
                self._in_use.pop(id(s), None)
        for s in idle:
            s.close()

    def start(self) -> None:
        """Watch CURRENT in a background thread."""
        self._thread = threading.Thread(target=self._watch, name="snapshot-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self.refresh()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            everything = [*self._retired, *([self._current] if self._current else [])]
            self._retired, self._current = [], None
        for s in everything:
            s.close()
