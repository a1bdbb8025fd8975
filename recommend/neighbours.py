"""Top-k neighbour lists for every row of a unit-length sparse matrix, by blocked products.

Never materialises the N x N similarity matrix: rows are taken in blocks whose dense
similarity slab stays within a memory budget. Near-duplicates (cosine at or above a threshold,
e.g. one story syndicated twice) are grouped, and no list holds the row's own group nor two
members of another group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

SLAB_BUDGET_CELLS = 32_000_000  # ~128 MB of float32 per block
EXTRA_CANDIDATES = 10  # kept beyond k so duplicates can be skipped and the list refilled


@dataclass(frozen=True)
class Neighbours:
    """`indices[i]` are row i's neighbours best first (-1 pads short lists), `scores[i]` their
    cosines; `groups[i]` is the duplicate group of row i (its own index when it has none)."""

    indices: np.ndarray
    scores: np.ndarray
    groups: np.ndarray


def block_rows(n_rows: int) -> int:
    return int(max(16, min(4096, SLAB_BUDGET_CELLS // max(n_rows, 1))))


def build_neighbours(
    matrix: sparse.csr_matrix,
    k: int,
    duplicate_threshold: float,
    min_score: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
    rows_per_block: int | None = None,
) -> Neighbours:
    """Top-k most similar other rows of `matrix` for every row (cosine; rows are unit length)."""
    n = matrix.shape[0]
    width = min(k + EXTRA_CANDIDATES, max(n - 1, 0))
    candidates = np.full((n, width), -1, dtype=np.int32)
    cand_scores = np.zeros((n, width), dtype=np.float32)
    duplicate_pairs: list[np.ndarray] = []
    transposed = matrix.T.tocsc()
    step = rows_per_block or block_rows(n)
    for start in range(0, n, step):
        stop = min(start + step, n)
        slab = (matrix[start:stop] @ transposed).toarray()
        rows = np.arange(stop - start)
        slab[rows, rows + start] = -np.inf  # never oneself
        dup_r, dup_c = np.nonzero(slab >= duplicate_threshold)
        if dup_r.size:
            duplicate_pairs.append(np.stack([dup_r + start, dup_c], axis=1))
            slab[dup_r, dup_c] = -np.inf
        if width:
            _top(slab, width, min_score, candidates[start:stop], cand_scores[start:stop])
        if on_rows is not None:
            on_rows(stop - start)
    groups = _duplicate_groups(n, duplicate_pairs)
    indices, scores = _select(candidates, cand_scores, groups, k)
    return Neighbours(indices=indices, scores=scores, groups=groups)


def _top(
    slab: np.ndarray, width: int, min_score: float, out_idx: np.ndarray, out_scores: np.ndarray
) -> None:
    part = np.argpartition(-slab, width - 1, axis=1)[:, :width]
    part_scores = np.take_along_axis(slab, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    best = np.take_along_axis(part, order, axis=1)
    best_scores = np.take_along_axis(part_scores, order, axis=1)
    # Below the minimum score an article is no neighbour at all.
    valid = best_scores > min_score
    out_idx[:] = np.where(valid, best, -1)
    out_scores[:] = np.where(valid, best_scores, 0.0)


def _duplicate_groups(n: int, pairs: list[np.ndarray]) -> np.ndarray:
    parent = np.arange(n, dtype=np.int32)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for block in pairs:
        for a, b in block:
            ra, rb = root(int(a)), root(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)], dtype=np.int32)


def _select(
    candidates: np.ndarray, cand_scores: np.ndarray, groups: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first k candidates per row, skipping a second member of any duplicate group."""
    n = candidates.shape[0]
    indices = np.full((n, k), -1, dtype=np.int32)
    scores = np.zeros((n, k), dtype=np.float32)
    take = min(k, candidates.shape[1])
    indices[:, :take] = candidates[:, :take]
    scores[:, :take] = cand_scores[:, :take]
    grouped = groups != np.arange(n)
    in_group = np.zeros(n, dtype=bool)
    in_group[groups[grouped]] = True
    in_group[grouped] = True
    safe_cands = np.where(candidates >= 0, candidates, 0)
    touched = np.nonzero((in_group[safe_cands] & (candidates >= 0)).any(axis=1))[0]
    for row in touched:
        seen = {int(groups[row])}
        kept = 0
        indices[row] = -1
        scores[row] = 0.0
        for cand, score in zip(candidates[row], cand_scores[row], strict=True):
            if cand < 0 or kept == k:
                break
            group = int(groups[cand])
            if group in seen:
                continue
            seen.add(group)
            indices[row, kept] = cand
            scores[row, kept] = score
            kept += 1
    return indices, scores
