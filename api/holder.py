"""The live-view holder: one reference per worker, swapped when CURRENT or the store moves.

Requests take the view through `use()`, which counts them in; a replaced view (and its
snapshot, once no view uses it) is closed only after its last request, so a swap never fails
a request. A background thread polls `CURRENT` and the store's revision.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index_data.errors import IndexDataError, SnapshotNotFound
from index_data.live import LiveView
from index_data.snapshot import Snapshot
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore

log = logging.getLogger("gupshup.snapshots")


class SnapshotHolder:
    def __init__(
        self,
        data_dir: Path,
        poll_seconds: float = 1.0,
        on_swap: Callable[[LiveView, LiveView | None], None] | None = None,
    ) -> None:
        self._dir = SnapshotDir(data_dir)
        self._store_path = Path(data_dir) / "articles.db"
        self._store: ArticleStore | None = None
        self._poll_seconds = poll_seconds
        self._on_swap = on_swap
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._current: LiveView | None = None
        self._in_use: dict[int, int] = {}
        self._retired: list[LiveView] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.problem: str | None = None
        self._broken: dict[str, str] = {}  # a published id that failed to open, and why

    @property
    def current(self) -> LiveView | None:
        return self._current

    def current_id(self) -> str | None:
        view = self._current
        return view.id if view is not None else None

    def refresh(self) -> bool:
        """Catch up with CURRENT and the store; True if a new view was swapped in."""
        with self._refreshing:
            try:
                return self._refresh()
            except IndexDataError as exc:
                self.problem = str(exc)
                log.error("cannot refresh: %s", exc)
                return False

    def _refresh(self) -> bool:
        wanted = self._dir.current_id()
        if wanted is None:
            return False
        held = self._current
        snapshot = held.snapshot if held is not None and held.id == wanted else None
        problem = self._broken.get(wanted)
        if snapshot is None and problem is None:
            try:
                snapshot = Snapshot.open(self._dir.path(wanted))
                # Before the swap, so no reader's search waits for it.
                snapshot.search_index.warm()
            except IndexDataError as exc:
                # Keep serving what we have (and keep applying writes to it); say why in logs
                # and /readyz, and do not re-check the same broken snapshot every poll.
                problem = f"cannot load snapshot {wanted}: {exc}"
                log.error(problem)
                self._broken = {wanted: problem}
        if snapshot is None:
            if held is None:
                self.problem = problem or self.problem
                return False
            snapshot = held.snapshot
        store = self._open_store()
        if held is not None and held.snapshot is snapshot and store.rev() == held.rev:
            if problem:
                self.problem = problem
            return False
        view = LiveView(snapshot, store.changes_since(int(snapshot.manifest.get("store_rev", 0))))
        with self._lock:
            old, self._current = self._current, view
            self.problem = problem if snapshot.id != wanted else None
            if old is not None:
                self._retired.append(old)
        if old is None or old.snapshot is not snapshot:
            log.info("serving snapshot %s (%d articles)", snapshot.id, snapshot.article_count)
        if self._on_swap is not None:
            self._on_swap(view, old)
        self._close_idle()
        return True

    def _open_store(self) -> ArticleStore:
        if self._store is None:
            self._store = ArticleStore(self._store_path)
        return self._store

    @contextmanager
    def use(self) -> Iterator[LiveView]:
        """The current view for the length of one request (503 when there is none)."""
        with self._lock:
            view = self._current
            if view is None:
                raise SnapshotNotFound(
                    self.problem or "no snapshot is published yet: run `gupshup build --publish`"
                )
            self._in_use[id(view)] = self._in_use.get(id(view), 0) + 1
        try:
            yield view
        finally:
            with self._lock:
                self._in_use[id(view)] -= 1
            self._close_idle()

    def _close_idle(self) -> None:
        with self._lock:
            idle = [v for v in self._retired if self._in_use.get(id(v), 0) == 0]
            self._retired = [v for v in self._retired if v not in idle]
            for view in idle:
                self._in_use.pop(id(view), None)
            alive = {id(v.snapshot) for v in self._retired}
            if self._current is not None:
                alive.add(id(self._current.snapshot))
        for view in idle:
            view.close()
        closed: set[int] = set()
        for view in idle:
            if id(view.snapshot) not in alive and id(view.snapshot) not in closed:
                closed.add(id(view.snapshot))
                view.snapshot.close()

    def start(self) -> None:
        """Watch CURRENT and the store in a background thread."""
        self._thread = threading.Thread(target=self._watch, name="snapshot-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            try:
                self.refresh()
            except Exception as exc:
                self.problem = f"snapshot watcher: {type(exc).__name__}: {exc}"
                log.exception("snapshot watcher failed; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            views = [*self._retired, *([self._current] if self._current else [])]
            self._retired, self._current = [], None
        snapshots = {id(v.snapshot): v.snapshot for v in views}
        for view in views:
            view.close()
        for snapshot in snapshots.values():
            snapshot.close()
        if self._store is not None:
            self._store.close()
