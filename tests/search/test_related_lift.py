"""The related lift (search/index.py, `RelatedLift`): matches named by the best matches'
related lists rise among the other matches of their tier, below the first page.

The corpus is generated: three subjects (monsoon, cricket, weddings) of 20 stories each, every
story mentioning "film" a random number of times. The expected order is computed here from
the served order without the lift and the snapshot's related lists, looked up by article id
(so it also checks that the lists' rows are the index's documents)."""

from __future__ import annotations

import json
import random
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index_data.article import article_from_record
from index_data.build import build_snapshot, search_doc
from index_data.errors import BrokenSnapshot
from index_data.live import LiveView
from index_data.snapshot import Snapshot
from index_data.snapshots import SnapshotDir
from index_data.store import ArticleStore
from search.build import build_index
from search.index import (
    LIFT_DEPTH,
    LIFT_KEEP,
    LIFT_SOURCES,
    LIFT_WEIGHT,
    Hit,
    Recency,
    SearchRequest,
)

SUBJECTS = {
    "monsoon": "monsoon rain umbrella flood drizzle cloud thunder puddle".split(),
    "cricket": "cricket bat wicket stadium bowler pitch umpire boundary".split(),
    "wedding": "wedding sangeet mehendi bride groom baraat dholak lehenga".split(),
}
FILLER = "week city crowd night morning story people team".split()
DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def _records(per_subject: int = 20) -> list[dict[str, str]]:
    rng = random.Random(11)
    records = []
    for subject, words in SUBJECTS.items():
        for n in range(per_subject):
            body = [rng.choice(words) for _ in range(rng.randint(15, 40))]
            body += [rng.choice(FILLER) for _ in range(rng.randint(5, 30))]
            films = rng.randint(1, 4)
            body += ["film"] * films
            # "premiere": said often in twelve wedding stories, once in three monsoon ones.
            if subject == "wedding" and n < 12:
                body += ["premiere"] * 3
            if subject == "monsoon" and n < 3:
                body.append("premiere")
            rng.shuffle(body)
            records.append(
                {
                    "id": f"{subject}-{n:02d}",
                    "title": f"{subject} diary {n}",
                    "body": " ".join(body),
                    # The stories that say "film" once (low in a search for it) are the
                    # newest, the others a month old or more.
                    "published_at": (
                        DAY0 + timedelta(days=59 if films == 1 else rng.randrange(30))
                    ).isoformat(),
                }
            )
    return records


def _view(data_dir: Path, records: list[dict[str, str]]) -> LiveView:
    with ArticleStore(data_dir / "articles.db") as store:
        store.upsert_many(article_from_record(r) for r in records)
    build_snapshot(data_dir, publish=True)
    return LiveView.open(data_dir)


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveView]:
    opened = _view(tmp_path_factory.mktemp("lift"), _records())
    yield opened
    opened.snapshot.close()


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveView]:
    """150 stories with "film": more than the recency boost's 100."""
    opened = _view(tmp_path_factory.mktemp("wide"), _records(50))
    yield opened
    opened.snapshot.close()


def _hits(view: LiveView, text: str, lift: bool = True, **kwargs: object) -> list[Hit]:
    request = SearchRequest(text, per_page=300, snippets=False, related_lift=lift, **kwargs)  # type: ignore[arg-type]
    return list(view.search(request).hits)


def _check_lift(view: LiveView, text: str, tier_sizes: list[int]) -> list[str]:
    """The lifted order checked against the lift worked out here from the order without it,
    tier by tier; its ids. Scores are shown rounded to 4 places, so each lifted score is
    compared within that, and each lifted run must be in order of them."""
    plain = _hits(view, text, lift=False)
    lifted = _hits(view, text)
    assert sum(tier_sizes) == len(plain) == len(lifted)
    model = view.snapshot.related_model
    top = plain[0].score
    assert top is not None
    bonus: dict[str, float] = defaultdict(float)
    for hit in plain[:LIFT_SOURCES]:
        assert hit.score is not None
        row = model.row_of[hit.id]
        for col, related in zip(model.neighbours[row], model.scores[row], strict=True):
            if col >= 0:
                bonus[model.ids[int(col)]] += hit.score / top * float(related)
    scores = {h.id: h.score or 0.0 for h in plain}
    start = 0
    for size in tier_sizes:
        a, b = max(start, LIFT_KEEP), min(start + size, LIFT_DEPTH)
        assert lifted[start:a] == plain[start:a]  # the first page and the depth beyond stay
        assert lifted[b : start + size] == plain[b : start + size]
        if b > a:
            run = lifted[a:b]
            assert {h.id for h in run} == {h.id for h in plain[a:b]}
            for hit in run:
                want = scores[hit.id] + LIFT_WEIGHT * top * bonus[hit.id]
                assert hit.score == pytest.approx(want, abs=2e-4), hit.id
            shown = [h.score or 0.0 for h in run]
            assert shown == sorted(shown, reverse=True)
        start += size
    return [h.id for h in lifted]


def test_matches_related_to_the_best_rise_below_the_first_page(view: LiveView) -> None:
    plain = [h.id for h in _hits(view, "film", lift=False)]
    lifted = _check_lift(view, "film", [60])  # every story has "film": one tier
    assert lifted != plain  # the lift did move something
    # The subject most of the first page is about gains places below it.
    subjects = [i.split("-")[0] for i in plain[:LIFT_KEEP]]
    leading = max(SUBJECTS, key=subjects.count)
    places = [
        sum(n for n, i in enumerate(order) if n >= LIFT_KEEP and i.startswith(leading))
        for order in (plain, lifted)
    ]
    assert places[1] < places[0], (leading, subjects)


def test_the_lift_stays_inside_each_tier(view: LiveView) -> None:
    """Stories with every word still come first: "film umbrella" ranks the monsoon
    stories that say "umbrella" first, then the other stories with "film"."""
    with_both = {h.id for h in _hits(view, "umbrella", lift=False)}
    lifted = _check_lift(view, "film umbrella", [len(with_both), 60 - len(with_both)])
    assert 10 < len(with_both) < 60
    assert set(lifted[: len(with_both)]) == with_both


def test_a_related_story_never_passes_a_story_with_every_word(view: LiveView) -> None:
    """ "film premiere": the first page is wedding stories with both words, the three monsoon
    stories with both follow them; wedding stories with "film" only are related to the first
    page, and lifted, but stay below every story with both words."""
    with_both = [h.id for h in _hits(view, "premiere", lift=False)]
    lifted = _check_lift(view, "film premiere", [15, 45])
    assert len(with_both) == 15
    assert set(lifted[:15]) == set(with_both)
    assert {i for i in lifted[10:15] if i.startswith("monsoon")} == {
        "monsoon-00",
        "monsoon-01",
        "monsoon-02",
    }
    # Without the tiers, the related wedding stories would have passed them.
    scores = {h.id: h.score or 0.0 for h in _hits(view, "film premiere")}
    best_related = max(scores[i] for i in lifted[15:] if i.startswith("wedding"))
    assert best_related > min(scores[i] for i in lifted[10:15] if i.startswith("monsoon"))


def test_pages_and_totals_do_not_depend_on_the_lift(view: LiveView) -> None:
    whole = [h.id for h in _hits(view, "film")]
    paged: list[str] = []
    for page in range(1, 10):
        request = SearchRequest("film", page=page, per_page=7, snippets=False)
        paged += [h.id for h in view.search(request).hits]
    assert paged == whole
    with_lift = view.search(SearchRequest("film umbrella"))
    without = view.search(SearchRequest("film umbrella", related_lift=False))
    assert (with_lift.total, with_lift.facets) == (without.total, without.facets)
    # Sorted by date, nothing is lifted.
    newest = SearchRequest("film", sort="newest", per_page=100)
    assert view.search(newest) == view.search(
        SearchRequest("film", sort="newest", per_page=100, related_lift=False)
    )


def test_with_the_recency_boost_the_first_page_is_still_the_unlifted_one(wide: LiveView) -> None:
    """The boost reorders each tier's first 100 matches while the lift ranks 300: a fresh
    story past the first 100 must not reach the first page by its date, and pages must not
    depend on the page asked for."""
    fresh = Recency(weight=5.0, half_life_days=14, now=(DAY0 + timedelta(days=60)).timestamp())
    for text in ("film", "film premiere"):
        boosted = [h.id for h in _hits(wide, text, recency=fresh)]
        plain = [h.id for h in _hits(wide, text, lift=False, recency=fresh)]
        assert len(boosted) == 150
        assert boosted[:LIFT_KEEP] == plain[:LIFT_KEEP], text
        # And as a reader asks for it, ten at a time (the boost's reach must not depend on
        # how deep the page makes the search rank).
        page_one = [
            [h.id for h in wide.search(SearchRequest(text, recency=fresh, related_lift=on)).hits]
            for on in (True, False)
        ]
        assert page_one[0] == page_one[1] == plain[:LIFT_KEEP], text
        assert sorted(boosted) == sorted(plain)
        # The boost does act: the first page differs from the one without it.
        assert plain[:LIFT_KEEP] != [h.id for h in _hits(wide, text, lift=False)][:LIFT_KEEP]
        paged: list[str] = []
        for page in range(1, 23):
            request = SearchRequest(text, page=page, per_page=7, snippets=False, recency=fresh)
            paged += [h.id for h in wide.search(request).hits]
        assert paged == boosted, text


def test_a_snapshot_whose_halves_list_articles_in_other_orders_is_refused(
    tmp_path: Path,
) -> None:
    """A search index written in another order than the related lists (not what a build
    does, but what the lift relies on) is found out when the snapshot opens."""
    with ArticleStore(tmp_path / "articles.db") as store:
        store.upsert_many(article_from_record(r) for r in _records()[:30])
        articles = store.read_all().articles
    built = build_snapshot(tmp_path).snapshot_id
    folder = SnapshotDir(tmp_path).path(built)
    shutil.rmtree(folder / "search")
    build_index(folder / "search", [search_doc(a) for a in reversed(articles)])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with pytest.raises(BrokenSnapshot, match="list the articles in different orders"):
        Snapshot(folder, manifest)  # the manifest's file list names the old segments
