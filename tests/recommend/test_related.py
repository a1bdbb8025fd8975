"""Related lists of the fixture snapshot, checked against brute-force cosine."""

from __future__ import annotations

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
