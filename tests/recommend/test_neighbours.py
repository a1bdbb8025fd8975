"""Neighbour lists against a brute-force numpy oracle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.preprocessing import normalize

from recommend.neighbours import _top, build_neighbours


def random_unit_rows(n: int, dim: int, seed: int, density: float = 0.15) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, dim)) * (rng.random((n, dim)) < density)
    return normalize(sparse.csr_matrix(dense.astype(np.float32)))


def oracle(matrix: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, -np.inf)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


@pytest.mark.parametrize("rows_per_block", [None, 7, 64])
def test_matches_brute_force(rows_per_block: int | None) -> None:
    matrix = random_unit_rows(120, 40, seed=3)
    got = build_neighbours(matrix, k=10, duplicate_threshold=1.01, rows_per_block=rows_per_block)
    want_idx, want_scores = oracle(matrix, 10)
    positive = want_scores > 0
    assert np.array_equal(np.where(positive, want_idx, -1), got.indices)
    assert np.allclose(np.where(positive, want_scores, 0), got.scores, atol=1e-5)


def test_duplicates_are_grouped_and_never_listed_twice() -> None:
    base = random_unit_rows(30, 25, seed=5, density=0.5).toarray()
    base[1] = base[0]  # an exact copy of row 0
    base[2] = base[0] + 0.05 * base[5]  # a near copy of row 0 (and so of row 1)
    matrix = normalize(sparse.csr_matrix(base))
    got = build_neighbours(matrix, k=8, duplicate_threshold=0.95)
    assert got.groups[0] == got.groups[1] == got.groups[2]
    assert len(set(got.groups.tolist())) == 28
    for row in range(30):
        listed = [int(c) for c in got.indices[row] if c >= 0]
        assert row not in listed
        groups = [int(got.groups[c]) for c in listed]
        assert got.groups[row] not in groups, f"row {row} lists its own duplicate"
        assert len(groups) == len(set(groups)), f"row {row} lists one story twice"
        assert list(got.scores[row][: len(listed)]) == sorted(
            got.scores[row][: len(listed)], reverse=True
        )
    # Others' lists keep one member of the group and refill to k from the next candidates.
    full = [r for r in range(3, 30) if (got.indices[r] >= 0).sum() == 8]
    assert len(full) == 27


@pytest.mark.parametrize("threads", [1, 2])
def test_dense_columns_match_brute_force(threads: int) -> None:
    """Columns every row uses (like the encoder's LSA dimensions) take the dense path."""
    rng = np.random.default_rng(11)
    sparse_cols = random_unit_rows(150, 60, seed=7, density=0.1).toarray()
    dense_cols = rng.standard_normal((150, 4)).astype(np.float32)
    matrix = normalize(sparse.csr_matrix(np.hstack([sparse_cols, dense_cols])))
    got = build_neighbours(
        matrix, k=10, duplicate_threshold=1.01, rows_per_block=16, threads=threads
    )
    want_idx, want_scores = oracle(matrix, 10)
    positive = want_scores > 0
    assert np.allclose(np.where(positive, want_scores, 0), got.scores, atol=1e-5)
    # Float sums in another order may swap exact ties; scores at each rank must agree.
    assert (np.where(positive, want_idx, -1) == got.indices).mean() > 0.99


def test_public_product_route_gives_the_same_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without scipy's private kernels the blocks fall back to `a @ b`: same lists."""
    import recommend.neighbours as module

    matrix = random_unit_rows(90, 30, seed=13)
    fast = build_neighbours(matrix, k=6, duplicate_threshold=1.01, rows_per_block=20)
    monkeypatch.setattr(module, "_sparsetools", None)
    public = build_neighbours(matrix, k=6, duplicate_threshold=1.01, rows_per_block=20)
    assert np.allclose(fast.scores, public.scores, atol=1e-6)
    assert (fast.indices == public.indices).mean() > 0.99


def _top_oracle(slab: np.ndarray, width: int, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Each row sorted whole: best first, ties by column."""
    idx = np.full((slab.shape[0], width), -1, dtype=np.int32)
    scores = np.zeros((slab.shape[0], width), dtype=np.float32)
    for row, values in enumerate(slab):
        order = sorted(range(len(values)), key=lambda c: (-values[c], c))[:width]
        for rank, col in enumerate(order):
            if values[col] > min_score:
                idx[row, rank] = col
                scores[row, rank] = values[col]
    return idx, scores


def _assert_top_is_exact(slab: np.ndarray, width: int, min_score: float) -> None:
    idx = np.empty((slab.shape[0], width), dtype=np.int32)
    scores = np.empty((slab.shape[0], width), dtype=np.float32)
    _top(slab, width, min_score, idx, scores)
    want_idx, want_scores = _top_oracle(slab, width, min_score)
    assert np.array_equal(idx, want_idx)
    assert np.array_equal(scores, want_scores)


@pytest.mark.parametrize("cols", [40, 700, 3000])
def test_top_columns_are_exact_with_ties_and_excluded_cells(cols: int) -> None:
    """The threshold shortcut and the whole-row fallback both give each row's exact best,
    ties by column: scores rounded to two decimals tie often; -inf cells (the row itself,
    its duplicates) and scores at or below the minimum are never listed; some rows have
    fewer good cells than the list is long (they are ranked whole)."""
    rng = np.random.default_rng(cols)
    slab = np.round(rng.random((60, cols)), 2).astype(np.float32)
    slab[rng.random(slab.shape) < 0.05] = -np.inf
    slab[:5, :] = -np.inf  # nothing to list
    slab[5:10, 10:] = 0.0  # only ten candidates, then scores at the minimum
    slab[10:15] = np.float32(0.5)  # every cell ties
    slab[15:20, 0:160:16] = 1.5  # ten best cells, all in the threshold's sample: too few
    _assert_top_is_exact(slab, 30, 0.0)


def test_rows_of_mostly_zeros_list_only_their_scored_cells() -> None:
    """Few articles share a word with most others when texts are short: rows of zeros with
    a few positive cells, some rows with fewer than the list is long, some with more. The
    threshold never goes below the least listable score, so the zeros are not candidates."""
    rng = np.random.default_rng(17)
    slab = np.zeros((50, 2000), dtype=np.float32)
    for row in range(50):
        cells = rng.choice(2000, size=int(rng.integers(0, 60)), replace=False)
        slab[row, cells] = np.round(rng.random(len(cells)), 2) + 0.01
    slab[3, 7] = np.nextafter(np.float32(0.05), np.float32(0))  # at the minimum: not listed
    slab[3, 8] = np.float32(0.05)  # the float32 nearest 0.05 is just above it: listed
    _assert_top_is_exact(slab, 30, 0.05)


def test_a_slab_with_nothing_to_list() -> None:
    """Every cell excluded (the rows themselves and their duplicates) or at the minimum."""
    slab = np.zeros((6, 400), dtype=np.float32)
    slab[:3] = -np.inf
    idx = np.empty((6, 30), dtype=np.int32)
    scores = np.empty((6, 30), dtype=np.float32)
    _top(slab, 30, 0.0, idx, scores)
    assert (idx == -1).all() and (scores == 0).all()


def _two_step(monkeypatch: pytest.MonkeyPatch, share: float = 0.2) -> None:
    """Words in over `share` of the rows count as common (the served 1 % finds none in a
    small random matrix)."""
    import recommend.neighbours as module

    monkeypatch.setattr(module, "COMMON_TERM_SHARE", share)


def news_like(n: int, seed: int) -> np.ndarray:
    """Rows like the encoder's: 80 rarer words (10 % of rows each), 6 common ones (35 %:
    over the 20 % _two_step sets), 3 small dense LSA-like columns."""
    rng = np.random.default_rng(seed)
    rare = random_unit_rows(n, 80, seed=seed, density=0.1).toarray()
    common = random_unit_rows(n, 6, seed=seed + 1, density=0.35).toarray()
    return np.hstack([rare, common, 0.1 * rng.standard_normal((n, 3))]).astype(np.float32)


def test_two_step_ranking_is_exact_when_every_row_is_a_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 rows and lists of 10 (+10 spare): 3 x 20 candidates cover every other row, so
    rescoring all of them must give the brute-force lists."""
    _two_step(monkeypatch)
    matrix = normalize(sparse.csr_matrix(news_like(40, seed=3)))
    got = build_neighbours(matrix, k=10, duplicate_threshold=1.01, approximate=True)
    want_idx, want_scores = oracle(matrix, 10)
    positive = want_scores > 0
    assert np.array_equal(np.where(positive, want_idx, -1), got.indices)
    assert np.allclose(np.where(positive, want_scores, 0), got.scores, atol=1e-5)


def test_two_step_lists_hold_exact_cosines_and_miss_only_uncandidated_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With 45 candidates out of 299, every listed score is the true cosine, lists are in
    order, and an exact top-5 row is missing only where the slab without the common words
    ranked it below every candidate."""
    import recommend.neighbours as module

    _two_step(monkeypatch)
    matrix = normalize(sparse.csr_matrix(news_like(300, seed=19)))
    k = 5
    got = build_neighbours(matrix, k=k, duplicate_threshold=1.01, approximate=True)
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, -np.inf)
    sparse_part, dense_part = module._split_dense_columns(matrix)
    rare, common = module._split_common_columns(sparse_part)
    assert common is not None and common.shape[1] > 0 and rare.nnz > 0
    approx = (rare @ rare.T).toarray() + dense_part @ dense_part.T
    np.fill_diagonal(approx, -np.inf)
    wide = module.RESCORE_FACTOR * (k + module.EXTRA_CANDIDATES)
    missed = 0
    for row in range(300):
        listed = got.indices[row][got.indices[row] >= 0]
        assert row not in listed
        assert np.allclose(got.scores[row][: len(listed)], sims[row, listed], atol=1e-5)
        assert list(got.scores[row][: len(listed)]) == sorted(
            got.scores[row][: len(listed)], reverse=True
        )
        candidate_floor = np.sort(approx[row])[::-1][wide - 1]
        exact_top = np.argsort(-sims[row], kind="stable")[:k]
        for col in set(exact_top[sims[row, exact_top] > 0].tolist()) - set(listed.tolist()):
            missed += 1
            assert approx[row, col] <= candidate_floor + 1e-6, (row, col)
    assert missed > 0  # the approximation is exercised, not bypassed


def test_two_step_rows_with_more_duplicates_than_candidates_still_fill_their_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """70 copies of one story (more than the 45 candidates a row of a 5-list gets): each
    copy's list leaves its group out and is refilled from the next candidates (it came out
    empty before they were)."""
    _two_step(monkeypatch, share=0.3)
    rng = np.random.default_rng(23)
    base = news_like(600, seed=29)
    base[1:70] = base[0] + 0.01 * rng.random((69, base.shape[1]))
    matrix = normalize(sparse.csr_matrix(base))
    got = build_neighbours(matrix, k=5, duplicate_threshold=0.95, approximate=True)
    assert len(set(got.groups[:70].tolist())) == 1
    sims = (matrix @ matrix.T).toarray()
    for row in range(70):
        listed = [int(c) for c in got.indices[row] if c >= 0]
        assert len(listed) == 5 and min(listed) >= 70
        assert np.allclose(got.scores[row], sims[row, listed], atol=1e-5)


def _shapes_passed(monkeypatch: pytest.MonkeyPatch, function: str, axis: int) -> list[int]:
    """The size along `axis` of the array passed first to recommend.neighbours.`function`,
    one entry per call, recorded while the function still runs as it would."""
    import recommend.neighbours as module

    seen: list[int] = []
    original = getattr(module, function)

    def spy(array: np.ndarray, *args: object, **kwargs: object) -> object:
        seen.append(array.shape[axis])
        return original(array, *args, **kwargs)

    monkeypatch.setattr(module, function, spy)
    return seen


def test_two_step_ranking_from_the_configured_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import recommend.neighbours as module

    _two_step(monkeypatch)
    calls = _shapes_passed(monkeypatch, "_rescored_top", axis=0)
    monkeypatch.setattr(module, "APPROX_MIN_ROWS", 50)
    build_neighbours(random_unit_rows(40, 30, seed=1), k=5, duplicate_threshold=1.01)
    assert calls == []
    build_neighbours(random_unit_rows(60, 30, seed=1), k=5, duplicate_threshold=1.01)
    assert sum(calls) == 60


@pytest.mark.parametrize("approximate", [False, True])
def test_rows_in_a_long_chain_of_near_copies_get_full_lists(
    monkeypatch: pytest.MonkeyPatch, approximate: bool
) -> None:
    """60 stories each a near copy of the previous one (cosine >= 0.95 to its neighbours in
    the chain, far less end to end): one duplicate group, joined link by link. A story's
    best candidates are then members of its own group that are not copies of it, and group
    skipping emptied its list; the lists are refilled from beyond the first candidates,
    and without the two-step ranking they are the brute-force best stories outside the
    group."""
    _two_step(monkeypatch, share=0.3)
    rng = np.random.default_rng(31)
    base = news_like(400, seed=37)
    for i in range(1, 60):
        base[i] = base[i - 1] + 0.06 * np.abs(rng.standard_normal(base.shape[1])) * (
            rng.random(base.shape[1]) < 0.3
        )
    matrix = normalize(sparse.csr_matrix(base))
    sims = (matrix @ matrix.T).toarray()
    assert sims[0, 59] < 0.9 < min(sims[i, i + 1] for i in range(59))
    got = build_neighbours(matrix, k=5, duplicate_threshold=0.9, approximate=approximate)
    assert (got.scores[got.indices < 0] == 0).all()  # unused places score 0, never -inf
    chain = got.groups[0]
    assert (got.groups[:60] == chain).all()
    for row in range(60):
        listed = got.indices[row]
        assert (listed >= 0).all() and (got.groups[listed] != chain).all(), row
        assert np.allclose(got.scores[row], sims[row, listed], atol=1e-5)
        if not approximate:
            outside = np.flatnonzero(got.groups != chain)
            best = outside[np.argsort(-sims[row, outside], kind="stable")[:5]]
            assert np.allclose(got.scores[row], sims[row, best], atol=1e-5), row


def test_the_benchmarks_recall_measure_scores_exact_lists_as_whole() -> None:
    """bench.scale's recall of built lists against brute force: 1 for exact lists (groups
    and all), and it counts an item taken out of a list."""
    from bench.scale import neighbour_recall

    base = news_like(200, seed=41)
    base[1] = base[0]  # a duplicate group, handled alike by both sides
    matrix = normalize(sparse.csr_matrix(base))
    got = build_neighbours(matrix, k=5, duplicate_threshold=0.95, min_score=0.05)
    whole = neighbour_recall(matrix, got, 5, 0.05, sample=50)
    assert whole["recall_at_k"] == 1.0 and whole["score_share"] == pytest.approx(1.0)
    rows = np.sort(np.random.default_rng(0).choice(200, 50, replace=False))
    got.indices[rows[0], 4] = -1  # one item of a sampled row's list lost
    damaged = neighbour_recall(matrix, got, 5, 0.05, sample=50)
    assert damaged["recall_worst_row"] == pytest.approx(0.8)
    assert damaged["recall_at_k"] == pytest.approx(1 - 0.2 / 50)


def few_groups(n: int, groups: int) -> sparse.csr_matrix:
    """n stories that are near-copies of `groups` stories sharing a few words: every row's
    listable neighbours fall in `groups` - 1 other groups, fewer than a list holds."""
    rng = np.random.default_rng(43)
    base = np.zeros((groups, groups * 5 + 4), dtype=np.float32)
    for g in range(groups):
        base[g, g * 5 : g * 5 + 5] = 1.0
    base[:, -4:] = 0.5
    rows = base[np.arange(n) % groups] * (1 + 0.01 * rng.random((n, base.shape[1])))
    return normalize(sparse.csr_matrix(rows.astype(np.float32)))


@pytest.mark.parametrize("approximate", [False, True])
def test_lists_that_cannot_be_filled_are_ranked_once_more_and_no_further(
    monkeypatch: pytest.MonkeyPatch, approximate: bool
) -> None:
    """10 groups of near-copies and lists of 20: no row can list more than the 9 other
    groups. Each short row is ranked once more, from 30 candidates (other groups reduced to
    their best member, so more would add nothing), and lists one story of each other group;
    unused places are -1 with a score of 0."""
    _two_step(monkeypatch)
    widths = _shapes_passed(monkeypatch, "_select", axis=1)
    matrix = few_groups(400, 10)
    got = build_neighbours(
        matrix, k=20, duplicate_threshold=0.9, min_score=0.05, approximate=approximate
    )
    assert len(set(got.groups.tolist())) == 10
    assert set(widths) == {30} and len(widths) > 1  # the first pass, then the refill
    for row in range(400):
        listed = got.indices[row][got.indices[row] >= 0]
        assert len(listed) == 9, row
        assert sorted(set(got.groups[listed].tolist()) | {got.groups[row]}) == sorted(
            set(got.groups.tolist())
        )
        assert (got.scores[row][got.indices[row] < 0] == 0).all()


def test_a_story_beside_a_large_group_of_copies_gets_a_full_list() -> None:
    """A story close to 1,100 near-copies of another (one group) and to 30 other stories:
    its list holds the group's best copy and then the others, as brute force ranks them (a
    refill that only widened its candidates needed 1,100 of them)."""
    rng = np.random.default_rng(1)
    dim = 1140
    story = np.zeros(dim, dtype=np.float32)
    story[:5], story[10] = 1.0, 1.3
    copies = np.zeros((1100, dim), dtype=np.float32)
    copies[:, :5] = 1.0
    copies[:, 5:10] = rng.random((1100, 5)) * 0.05
    others = np.zeros((30, dim), dtype=np.float32)
    others[:, 10] = 0.4
    others[np.arange(30), 11 + np.arange(30)] = 1.0
    matrix = normalize(sparse.csr_matrix(np.vstack([story, copies, others])))
    got = build_neighbours(matrix, k=10, duplicate_threshold=0.9, min_score=0.05)
    assert len(set(got.groups[1:1101].tolist())) == 1 and got.groups[0] == 0
    sims = (matrix[:1] @ matrix.T).toarray()[0]
    sims[0] = -np.inf
    best_copy = 1 + int(np.argmax(sims[1:1101]))
    others_ranked = 1101 + np.argsort(-sims[1101:], kind="stable")
    want = sorted([best_copy, *others_ranked[:9].tolist()], key=lambda c: (-sims[c], c))
    assert got.indices[0].tolist() == want
    assert np.allclose(got.scores[0], sims[want], atol=1e-5)


@pytest.mark.parametrize("approximate", [False, True])
def test_a_refilled_list_with_few_listable_stories_pads_with_zero_scores(
    monkeypatch: pytest.MonkeyPatch, approximate: bool
) -> None:
    """A chain of 40 overlapping stories (one group, link by link) and 3 stories that share
    one word with its first: the first story's list, refilled past its group, holds those 3
    and then -1 places scored 0 (they were -inf on the two-step path)."""
    _two_step(monkeypatch)
    rows = np.zeros((43, 63), dtype=np.float32)
    for i in range(40):
        rows[i, i : i + 20] = 1.0  # story i and i + j share 20 - j words
    for other in range(3):
        rows[40 + other, 0] = 0.3
        rows[40 + other, 60 + other] = 1.0
    got = build_neighbours(
        normalize(sparse.csr_matrix(rows)), k=5, duplicate_threshold=0.9,
        approximate=approximate,
    )  # fmt: skip
    assert len(set(got.groups[:40].tolist())) == 1
    assert sorted(got.indices[0][:3].tolist()) == [40, 41, 42]
    assert (got.indices[0][3:] == -1).all()
    assert (got.scores[got.indices < 0] == 0).all()


def test_the_recall_measure_of_a_corpus_with_nothing_to_list() -> None:
    from bench.scale import neighbour_recall

    matrix = normalize(sparse.csr_matrix(np.eye(6, dtype=np.float32)))  # no shared word
    got = build_neighbours(matrix, k=3, duplicate_threshold=0.9, min_score=0.05)
    assert neighbour_recall(matrix, got, 3, 0.05) == {"recall_rows": 0}


def blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_the_stage_and_is_restored_after() -> None:
    # The stage runs its own threads; BLAS threads on top of them oversubscribed the cores
    # (README, Performance: 80 -> 55 CPU-seconds at 100k). Seen from the progress callback,
    # which the stage calls between blocks.
    from threadpoolctl import threadpool_limits

    if not blas_threads():
        pytest.skip("numpy reports no BLAS library to threadpoolctl")
    seen: list[list[int]] = []
    # From two threads, so the limit shows whatever the machine's default (one core, or
    # OPENBLAS_NUM_THREADS=1, would make 1 the default).
    with threadpool_limits(2, "blas"):
        before = blas_threads()
        assert before == [2] * len(before)
        build_neighbours(
            random_unit_rows(200, 40, seed=5), k=5, duplicate_threshold=1.01,
            rows_per_block=50, on_rows=lambda done: seen.append(blas_threads()),
        )  # fmt: skip
        assert blas_threads() == before
    assert seen and all(threads == [1] * len(before) for threads in seen)
