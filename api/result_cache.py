"""A per-worker LRU of search results: hot queries repeat (a few stories take most of a news
site's searches), and an answer depends only on the live view's version and the request."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ResultCache(Generic[T]):
    """Least recently used first out, at most `size` entries; thread-safe. Keys must include
    the live view's version (snapshot and store revision), so a publish or an edit is never
    answered from before it; old versions' entries simply age out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self.size <= 0:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
        # Computed outside the lock: two threads may both compute a new key, which is
        # harmless (same answer) and better than serialising every search.
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
