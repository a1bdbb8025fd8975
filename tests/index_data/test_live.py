"""Changes made after a build are served at once, laid over the snapshot (no rebuild)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index_data.article import article_from_record
from index_data.build import BuildConfig, build_snapshot, related_text
from index_data.live import LiveView, RelatedFilter
from index_data.store import ArticleStore
from recommend.model import RelatedConfig
from search.index import SearchRequest
from tests.conftest import ARTICLES, fixture_records, ingest

NEW = {
    "id": "pathaan-2-second-trailer",
    "title": "Second Pathaan 2 trailer puts Shah Rukh Khan on a train roof",
    "body": "The second trailer of Pathaan 2 ends with Shah Rukh Khan fighting on a train roof "
    "as the spy chases a rival across Spain.",
    "category": "bollywood",
    "published_at": "2025-09-20",
}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    ingest(tmp_path, ARTICLES)
    build_snapshot(tmp_path, publish=True)
    return tmp_path


def change(data_dir: Path, upsert: list[dict[str, object]] = (), delete: list[str] = ()) -> None:  # type: ignore[assignment]
    with ArticleStore(data_dir / "articles.db") as store:
        if upsert:
            store.upsert_many([article_from_record(r) for r in upsert])
        for article_id in delete:
            store.delete(article_id)


def ids(view: LiveView, text: str) -> list[str]:
    return [h.id for h in view.search(SearchRequest(text, per_page=20)).hits]


def brute_force(data_dir: Path, view: LiveView, article_id: str, k: int) -> list[str]:
    """Exact related list over every article in the store (the truth), with the snapshot's
    vocabulary, duplicates excluded."""
    model = view.snapshot.related_model
    with ArticleStore(data_dir / "articles.db") as store:
        articles = store.read_all().articles
    live = [a.id for a in articles]
    assert sorted(live) == sorted(view.catalog)
    assert model.encoder is not None
    # As the build reads them: alias variants written as one spelling.
    texts = [related_text(a, view.snapshot.related_aliases) for a in articles]
    vectors = model.encoder.encode([t for _, t, _ in texts], [b for _, _, b in texts])
    vectors = vectors.toarray()
    row = live.index(article_id)
    sims = vectors @ vectors[row]
    order = [int(i) for i in np.argsort(-sims, kind="stable")]
    threshold = model.config.duplicate_threshold
    picked: list[str] = []
    for i in order:
        if i == row or sims[i] <= model.config.min_score or sims[i] >= threshold:
            continue
        twin = [p for p in picked if float(vectors[live.index(p)] @ vectors[i]) >= threshold]
        if not twin:
            picked.append(live[i])
    return picked[:k]


def test_upsert_is_searchable_and_related_without_a_rebuild(data_dir: Path) -> None:
    change(data_dir, upsert=[NEW])
    view = LiveView.open(data_dir)
    try:
        assert view.changed_count == 1 and view.article_count == 13
        assert ids(view, "second trailer")[0] == NEW["id"]
        # Ranked with the snapshot's articles: all-words first across both indexes.
        got = ids(view, "pathaan train")
        assert got[0] == NEW["id"] and "pathaan-2-trailer" in got
        assert view.article(NEW["id"])["title"] == NEW["title"]  # type: ignore[index]
        own = view.related(NEW["id"], 5)
        assert own is not None and own[0].id in {"pathaan-2-trailer", "pathaan-2-announced"}
        # It enters the lists of the stories it is now close to.
        announced = view.related("pathaan-2-announced", 3)
        assert announced is not None and NEW["id"] in [e.id for e in announced]
        for article_id in view.catalog:
            listed = [e.id for e in view.related(article_id, 20) or []]
            assert listed == brute_force(data_dir, view, article_id, 20), article_id
    finally:
        view.snapshot.close()


def test_edit_replaces_the_old_version_everywhere(data_dir: Path) -> None:
    edited = {**next(r for r in fixture_records() if r["id"] == "streaming-price-rise")}
    edited["title"] = "Streaming platforms cut prices for students"
    edited["body"] = "Two platforms announced student discounts on monthly plans."
    change(data_dir, upsert=[edited])
    view = LiveView.open(data_dir)
    try:
        assert view.article_count == 12
        assert ids(view, "subscription") == []  # only the old body had it
        assert ids(view, "student discounts") == ["streaming-price-rise"]
        assert view.article("streaming-price-rise")["title"] == edited["title"]  # type: ignore[index]
        related = view.related("streaming-price-rise", 5)
        assert related is not None
        assert [e.id for e in related] == brute_force(data_dir, view, "streaming-price-rise", 5)
    finally:
        view.snapshot.close()


def test_delete_disappears_everywhere_and_lists_are_refilled(data_dir: Path) -> None:
    before = LiveView.open(data_dir)
    holders = [
        a
        for a in before.catalog
        if "pathaan-2-trailer" in [e.id for e in before.related(a, 20) or []]
    ]
    before.snapshot.close()
    change(data_dir, delete=["pathaan-2-trailer"])
    view = LiveView.open(data_dir)
    try:
        assert view.article_count == 11
        assert "pathaan-2-trailer" not in ids(view, "pathaan trailer desert")
        assert view.article("pathaan-2-trailer") is None
        assert view.related("pathaan-2-trailer", 5) is None
        assert holders
        for article_id in view.catalog:
            listed = [e.id for e in view.related(article_id, 20) or []]
            assert "pathaan-2-trailer" not in listed
            assert listed == brute_force(data_dir, view, article_id, 20), article_id
        drafts = view.related_to_text("Pathaan 2 trailer", "desert chase", 10)
        assert "pathaan-2-trailer" not in [d.id for d in drafts]
        facets = view.search(SearchRequest("pathaan")).facets["category"]
        assert facets == {"bollywood": 1, "box-office": 1}
    finally:
        view.snapshot.close()


def build_with_short_lists(data_dir: Path) -> None:
    """The fixture corpus with only two neighbours precomputed per article (and a low score
    floor, so the small corpus has more candidates than that)."""
    ingest(data_dir, ARTICLES)
    config = BuildConfig(related=RelatedConfig(k=2, min_score=0.01))
    build_snapshot(data_dir, config, publish=True)


def test_lists_longer_than_k_and_filtered_lists_are_exact(tmp_path: Path) -> None:
    build_with_short_lists(tmp_path)
    view = LiveView.open(tmp_path)
    try:
        for article_id in view.catalog:
            listed = [e.id for e in view.related(article_id, 8) or []]
            assert listed == brute_force(tmp_path, view, article_id, 8), article_id
        # A category none of the two precomputed neighbours is in: the list is computed
        # exactly rather than coming back empty.
        source = max(view.catalog, key=lambda a: len(brute_force(tmp_path, view, a, 20)))
        full = brute_force(tmp_path, view, source, 20)
        precomputed = {e.id for e in view.related(source, 2) or []}
        assert precomputed == set(full[:2]) and len(full) > 2
        category = next(
            view.catalog[i]["category"]
            for i in full[2:]
            if all(view.catalog[p]["category"] != view.catalog[i]["category"] for p in precomputed)
        )
        only = view.related(source, 5, RelatedFilter(category=category.upper()))
        expected = [i for i in full if view.catalog[i]["category"] == category][:5]
        assert only is not None and expected and [e.id for e in only] == expected
    finally:
        view.snapshot.close()


def test_an_edited_article_keeps_its_rank_and_score(data_dir: Path) -> None:
    before = LiveView.open(data_dir)
    query = SearchRequest("pathaan trailer desert chase")
    first = before.search(query).hits[0]
    before.snapshot.close()
    record = next(r for r in fixture_records() if r["id"] == "pathaan-2-trailer")
    change(data_dir, upsert=[{**record, "body": f"{record['body']} (Updated.)"}])
    view = LiveView.open(data_dir)
    try:
        again = view.search(query).hits[0]
        assert again.id == first.id == "pathaan-2-trailer"
        # Scored with the snapshot's statistics, not the one-article index's own.
        assert again.score == pytest.approx(first.score, rel=0.1)  # type: ignore[arg-type]
    finally:
        view.snapshot.close()


def test_a_new_copy_of_a_story_is_its_duplicate(data_dir: Path) -> None:
    original = next(r for r in fixture_records() if r["id"] == "cruise-premiere")
    change(data_dir, upsert=[{**original, "id": "cruise-premiere-copy", "source": "Other"}])
    view = LiveView.open(data_dir)
    try:
        pair = {"cruise-premiere", "cruise-premiere-copy"}
        for article_id in view.catalog:
            listed = [e.id for e in view.related(article_id, 20) or []]
            assert len(pair & set(listed)) <= 1, article_id
            if article_id in pair:
                assert not pair & set(listed), article_id
    finally:
        view.snapshot.close()


def test_filtered_and_long_lists_are_exact_with_changes_pending(tmp_path: Path) -> None:
    build_with_short_lists(tmp_path)
    change(tmp_path, upsert=[NEW], delete=["music-awards-nominations"])
    view = LiveView.open(tmp_path)
    try:
        for article_id in view.catalog:
            full = brute_force(tmp_path, view, article_id, 20)
            assert [e.id for e in view.related(article_id, 6) or []] == full[:6], article_id
            for category in {view.catalog[i]["category"] for i in full}:
                only = view.related(article_id, 3, RelatedFilter(category=category))
                expected = [i for i in full if view.catalog[i]["category"] == category][:3]
                assert [e.id for e in only or []] == expected, (article_id, category)
    finally:
        view.snapshot.close()


def test_words_of_new_articles_are_not_respelt(data_dir: Path) -> None:
    change(data_dir, upsert=[{**NEW, "id": "quizz-night", "title": "Quizz night at the fair"}])
    view = LiveView.open(data_dir)
    try:
        found = view.search(SearchRequest("quizz"))
        # The new article's own word comes first; "quiz" (a spelling variant: same phonetic
        # key) follows in the variants tier, since only one article has "quizz" itself.
        assert [h.id for h in found.hits] == ["quizz-night", "markup-title"]
        assert found.corrected_query is None
        exact = view.search(SearchRequest("quizz", phonetic=False))
        assert [h.id for h in exact.hits] == ["quizz-night"]
    finally:
        view.snapshot.close()
