"""The per-worker search cache: same answers as without it, never across versions."""

from __future__ import annotations

from pathlib import Path

from api import queries
from api.result_cache import ResultCache
from api.settings import Settings
from index_data.live import LiveView
from search.index import SearchResults


def test_lru_keeps_the_most_recent_and_counts_hits() -> None:
    cache: ResultCache[int] = ResultCache(2)
    calls: list[str] = []

    def compute(key: str) -> int:
        calls.append(key)
        return len(calls)

    assert cache.get("a", lambda: compute("a")) == 1
    assert cache.get("a", lambda: compute("a")) == 1
    cache.get("b", lambda: compute("b"))
    cache.get("c", lambda: compute("c"))  # evicts "a", the least recently used
    cache.get("a", lambda: compute("a"))
    assert calls == ["a", "b", "c", "a"]
    assert (cache.hits, cache.misses) == (1, 4)


def test_size_zero_turns_it_off() -> None:
    cache: ResultCache[int] = ResultCache(0)
    assert [cache.get("a", lambda: 1), cache.get("a", lambda: 2)] == [1, 2]


def test_cached_answer_equals_uncached(snapshot: LiveView, built_dir: Path) -> None:
    settings = Settings(data_dir=built_dir)
    cache: ResultCache[SearchResults] = ResultCache(16)
    plain = queries.search(snapshot, settings, "tom cruise train")
    first = queries.search(snapshot, settings, "tom cruise train", cache=cache)
    again = queries.search(snapshot, settings, "tom cruise train", cache=cache)
    assert cache.hits == 1
    assert plain.hits == first.hits == again.hits
    assert plain.total == again.total and plain.facets == again.facets


def test_a_new_version_is_never_answered_from_the_old(snapshot: LiveView) -> None:
    cache: ResultCache[str] = ResultCache(16)
    assert cache.get((snapshot.version, "q"), lambda: "old") == "old"
    assert cache.get((snapshot.version + "1", "q"), lambda: "new") == "new"
