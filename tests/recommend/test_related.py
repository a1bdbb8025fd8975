"""Related lists of the fixture snapshot, checked against brute-force cosine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index_data.live import LiveView, RelatedFilter


def brute_force_groups(sims: np.ndarray, threshold: float) -> list[int]:
    """Duplicate groups by plain graph search over every pair at or above the threshold."""
    n = len(sims)
    group = list(range(n))
    for start in range(n):
        if group[start] != start:
            continue
        stack = [start]
        while stack:
            row = stack.pop()
            for other in np.nonzero(sims[row] >= threshold)[0]:
                if group[other] == other and other != start:
                    group[other] = start
                    stack.append(int(other))
    return group


def test_lists_match_brute_force_cosine(snapshot: LiveView) -> None:
    model = snapshot.snapshot.related_model
    dense = model.matrix.toarray()
    assert np.allclose(np.linalg.norm(dense, axis=1), 1.0, atol=1e-5)
    sims = dense @ dense.T
    group = brute_force_groups(sims, model.config.duplicate_threshold)
    assert len(set(group)) == len(group) - 1  # the one syndicated copy in the fixtures
    for row, article_id in enumerate(model.ids):
        expected: list[int] = []
        taken = {group[row]}
        for col in np.argsort(-sims[row], kind="stable"):
            if sims[row, col] > model.config.min_score and group[col] not in taken:
                taken.add(group[col])
                expected.append(int(col))
        got = [int(c) for c in model.neighbours[row] if c >= 0]
        assert got == expected[: model.config.k], article_id
        assert np.allclose(model.scores[row][: len(got)], sims[row, got], atol=1e-5)


def test_story_thread_is_related(snapshot: LiveView) -> None:
    items = snapshot.related("pathaan-2-announced", 3)
    assert items is not None
    # The Hindi review belongs to the thread too: the starter alias list writes पठान and
    # शाहरुख़ ख़ान as "Pathaan" and "Shah Rukh Khan" for the related vectors.
    assert {i.id for i in items} == {
        "pathaan-2-trailer",
        "pathaan-2-review-hi",
        "pathaan-2-box-office",
    }
    assert all("pathaan" in i.shared_terms for i in items)


def test_self_and_syndicated_copy_are_never_related(snapshot: LiveView) -> None:
    for source, copy in [
        ("cruise-train-stunt", "cruise-train-stunt-wire"),
        ("cruise-train-stunt-wire", "cruise-train-stunt"),
    ]:
        items = snapshot.related(source, 20)
        assert items is not None
        listed = [i.id for i in items]
        assert source not in listed and copy not in listed
        assert listed[0] == "cruise-premiere"
        assert {"tom", "cruise"} <= set(items[0].shared_terms)
    # Others list the story once, not twice.
    premiere = [i.id for i in snapshot.related("cruise-premiere", 20) or []]
    assert len({"cruise-train-stunt", "cruise-train-stunt-wire"} & set(premiere)) == 1


def test_filters_and_unknown(snapshot: LiveView) -> None:
    only_box = snapshot.related("pathaan-2-announced", 5, RelatedFilter(category="box-office"))
    assert [i.id for i in only_box or []] == ["pathaan-2-box-office"]
    recent = snapshot.related("pathaan-2-announced", 20, RelatedFilter(max_age_days=36_500))
    undated = {"markup-title", "stars-light-up"}
    assert recent is not None and not any(i.id.startswith(tuple(undated)) for i in recent)
    assert snapshot.related("no-such-article", 5) is None


def test_draft_text(snapshot: LiveView) -> None:
    items = snapshot.related_to_text(
        "Shah Rukh Khan starts shooting the Pathaan sequel", "The spy returns in Spain.", 3
    )
    assert items[0].id == "pathaan-2-announced"
    assert "pathaan" in items[0].shared_terms
    assert snapshot.related_to_text("", "zzzz qqqq", 3) == []


def test_devanagari_terms_are_whole_in_the_vocabulary(snapshot: LiveView) -> None:
    vocabulary = set(snapshot.snapshot.related_model.vocabulary)
    # Vowel signs and virama inside the word (names in the alias list are written in their
    # first spelling, so these are ordinary words).
    assert {"निर्देशक", "दृश्यों", "समीक्षा"} <= vocabulary
    assert "है" not in vocabulary  # Hindi stop word


def test_best_first_is_a_prefix_of_the_whole_order() -> None:
    """Scores rounded so that many tie: the partitioned order is the whole stable order's
    prefix, keeps everything that ties with its last item, and says when it left some out."""
    from recommend.model import best_first

    rng = np.random.default_rng(5)
    for trial in range(200):
        scores = np.round(rng.random(int(rng.integers(0, 300))), 1).astype(np.float32)
        floor = float(rng.choice([-1.0, 0.0, 0.35]))
        count = int(rng.integers(1, 60))
        whole = [int(c) for c in np.argsort(-scores, kind="stable") if scores[c] > floor]
        order, truncated = best_first(scores, floor, count)
        assert order.tolist() == whole[: len(order)], trial
        assert truncated == (len(order) < len(whole))
        assert len(order) >= min(count, len(whole))
        if truncated:
            assert scores[whole[len(order)]] < scores[order[-1]]  # no tie left behind


def test_scores_against_are_the_sparse_products(snapshot: LiveView) -> None:
    from recommend.model import scores_against

    model = snapshot.snapshot.related_model
    assert model.encoder is not None
    for text in ("Shah Rukh Khan starts shooting the Pathaan sequel", "zzzz qqqq", "box office"):
        vector = model.encoder.encode([text], [""])
        want = np.asarray((model.matrix @ vector.T).todense()).ravel()
        assert np.array_equal(scores_against(model.matrix, vector), want)
        row = model.matrix[3]
        want_row = np.asarray((model.matrix @ row.T).todense()).ravel()
        assert np.array_equal(scores_against(model.matrix, row), want_row)


def test_a_draft_filtered_past_its_first_candidates_is_still_answered_exactly(
    tmp_path: Path,
) -> None:
    """200 generated stories on a small shared vocabulary (so most score above the minimum)
    and a filter that refuses all but the draft's 8 least similar: the first 4 x 3 + 32
    candidates are all refused, and the answer comes from further down, as a whole sort
    gives it."""
    import random

    from recommend.model import RelatedConfig, RelatedModel, build_related
    from recommend.overlay import RelatedView

    rng = random.Random(3)
    words = "star film premiere trailer record song dance director award festival".split()
    docs = [
        (f"s{i}", " ".join(rng.choices(words, k=4)), " ".join(rng.choices(words, k=30)))
        for i in range(200)
    ]
    build_related(tmp_path / "related", docs, RelatedConfig())
    model = RelatedModel.open(tmp_path / "related")
    assert model.encoder is not None
    title, body = "film premiere", "a director at the festival"
    vector = model.encoder.encode([title], [body])
    scores = np.asarray((model.matrix @ vector.T).todense()).ravel()
    scores[scores >= model.config.duplicate_threshold] = 0.0
    ranked = [int(c) for c in np.argsort(-scores, kind="stable") if scores[c] > 0.05]
    assert len(ranked) > 4 * 3 + 32 + 8
    allowed = {model.ids[c] for c in ranked[-8:]}
    expected, groups = [], set()
    for col in ranked:
        if model.ids[col] in allowed and int(model.groups[col]) not in groups:
            groups.add(int(model.groups[col]))
            expected.append(model.ids[col])
    assert len(expected) >= 3
    items = model.related_to_text(title, body, 3, keep=lambda i: i in allowed)
    assert [i.id for i in items] == expected[:3]
    # The same draft added as an article (changes pending a rebuild) ranks the same way.
    view = RelatedView(model, [("draft", title, body)])
    assert [i.id for i in view.related("draft", 3, keep=lambda i: i in allowed)] == expected[:3]
