"""A generated corpus for the search tests that need long posting lists (many blocks of
128) and several segments: a seeded mix of a small word list, written by two processes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search.build import build_index
from search.index import SearchIndex
from search.schema import SearchDoc

WORDS = (
    "star film premiere trailer box office record song dance director producer award "
    "festival debut sequel remake villain hero comedy drama thriller action romance music "
    "album tour concert stage screen studio release weekend opening audience critic review"
).split()
RARE = "monsoon kite lantern saffron tabla veena".split()
CATEGORIES = ("bollywood", "hollywood", "music", "television")
DOCS = 1500
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _doc(number: int, rng: random.Random) -> SearchDoc:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 120))]
    if rng.random() < 0.05:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
    # Dates on 400 days (many stories share one) and some undated: "newest" has ties.
    published = EPOCH + timedelta(days=rng.randrange(400)) if number % 7 else None
    return SearchDoc(
        id=f"doc-{number:04d}",
        title=title.capitalize(),
        body=" ".join(words),
        category=CATEGORIES[rng.randrange(len(CATEGORIES))] if number % 11 else None,
        tags=(rng.choice(WORDS),) if number % 3 == 0 else (),
        published_at=published,
        published_ts=published.timestamp() if published else None,
        published_at_text=published.isoformat() if published else None,
    )


def generated_docs() -> list[SearchDoc]:
    """The generated corpus, the same documents on every call (seeded)."""
    rng = random.Random(20261129)
    return [_doc(n, rng) for n in range(DOCS)]


@pytest.fixture(scope="package")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    folder: Path = tmp_path_factory.mktemp("tiers") / "search"
    build_index(folder, generated_docs(), procs=2)
    opened = SearchIndex.open(folder)
    yield opened
    opened.close()
