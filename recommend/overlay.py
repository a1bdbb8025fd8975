"""Related lists as changed by articles upserted or deleted since the model was built.

The model's vocabulary and idf stay fixed (a new word means nothing until the next full
build); a changed article is re-vectorised with them. Nothing is written: every worker derives
the same view from the same list of changes, and answers from it:

- a new or edited article gets its own list, computed against every live vector;
- an article whose precomputed list held a deleted or edited article is recomputed exactly
  (so the list is refilled to k); other articles' lists gain the changed articles that now
  score above their entries;
- deleted articles, and the old version of edited ones, are never listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import sparse

from recommend import UnknownArticle
from recommend.model import RelatedItem, RelatedModel, scores_against, shared_terms, until_full

Keep = Callable[[str], bool] | None


class RelatedView:
    def __init__(
        self,
        model: RelatedModel,
        upserted: Sequence[tuple[str, str, str]] = (),
        removed: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.new_ids = [doc[0] for doc in upserted]
        self.new_row = {article_id: i for i, article_id in enumerate(self.new_ids)}
        gone = set(removed) | set(self.new_ids)
        self.hidden_rows = np.array(
            sorted(model.row_of[i] for i in gone if i in model.row_of), dtype=np.int64
        )
        self._hidden = np.zeros(len(model.ids), dtype=bool)
        self._hidden[self.hidden_rows] = True
        encoder = model.encoder
        if upserted and encoder is not None:
            self.vectors = encoder.encode([d[1] for d in upserted], [d[2] for d in upserted])
        else:
            # No vocabulary (a corpus without terms): changed articles relate to nothing.
            shape = (len(upserted), model.matrix.shape[1])
            self.vectors = sparse.csr_matrix(shape, dtype=np.float32)

    def __contains__(self, article_id: str) -> bool:
        if article_id in self.new_row:
            return True
        row = self.model.row_of.get(article_id)
        return row is not None and not self._hidden[row]

    @property
    def changed(self) -> bool:
        return bool(self.new_ids) or bool(self.hidden_rows.size)

    def related(self, article_id: str, limit: int, keep: Keep = None) -> list[RelatedItem]:
        if article_id in self.new_row:
            vector = self.vectors[self.new_row[article_id]]
            return self._rank(vector, limit, keep, own_new=self.new_row[article_id])
        row = self.model.row_of.get(article_id)
        if row is None or self._hidden[row]:
            raise UnknownArticle(f"no related list for article {article_id!r}")
        listed = self.model.neighbours[row]
        if self.hidden_rows.size and np.isin(listed, self.hidden_rows).any():
            # A listed article is gone or changed: recompute this list exactly (refilled).
            return self._rank(self.model.matrix[row], limit, keep, own_row=row)
        if self.changed:
            if keep is not None or limit > self.model.config.k:
                # The precomputed list plus the changed articles is exact only for its own
                # length and unfiltered.
                return self._rank(self.model.matrix[row], limit, keep, own_row=row)
            items = self._merge_new(row, limit, keep)
        else:
            items = self.model.related(article_id, limit, keep)
        if len(items) < limit and listed.size and listed[-1] >= 0:
            # Asked for more than was precomputed, or filters emptied the list, and more
            # candidates exist beyond it: answer exactly instead of short.
            return self._rank(self.model.matrix[row], limit, keep, own_row=row)
        return items

    def related_to_text(
        self, title: str, body: str, limit: int, keep: Keep = None
    ) -> list[RelatedItem]:
        if not self.changed:
            return self.model.related_to_text(title, body, limit, keep)
        encoder = self.model.encoder
        if encoder is None:
            return []
        vector = encoder.encode([title], [body])
        return self._rank(vector, limit, keep) if vector.nnz else []

    def _merge_new(self, row: int, limit: int, keep: Keep) -> list[RelatedItem]:
        """The precomputed list, with changed articles slotted in where they now belong."""
        model = self.model
        threshold = model.config.duplicate_threshold
        source = model.matrix[row]
        candidates = [
            (float(score), int(col), False)
            for col, score in zip(model.neighbours[row], model.scores[row], strict=True)
            if col >= 0
        ]
        fresh = np.asarray((self.vectors @ source.T).todense()).ravel()
        floor = model.config.min_score
        candidates += [(float(s), i, True) for i, s in enumerate(fresh) if floor < s < threshold]
        candidates.sort(key=lambda c: -c[0])
        return self._take(source, candidates, limit, keep, {int(model.groups[row])})

    def _rank(
        self,
        vector: sparse.csr_matrix,
        limit: int,
        keep: Keep,
        *,
        own_row: int | None = None,
        own_new: int | None = None,
    ) -> list[RelatedItem]:
        """Exact: `vector` against every live vector, duplicates and the source left out."""
        model = self.model
        threshold = model.config.duplicate_threshold
        base = scores_against(model.matrix, vector)
        base[self.hidden_rows] = 0.0
        fresh = np.asarray((self.vectors @ vector.T).todense()).ravel()
        seen = set()
        if own_row is not None:
            base[own_row] = 0.0
            seen.add(int(model.groups[own_row]))
        if own_new is not None:
            fresh[own_new] = 0.0
        for scores in (base, fresh):
            scores[scores >= threshold] = 0.0  # the same story, not a related one
        floor = model.config.min_score

        def take(cols: np.ndarray, truncated: bool) -> list[RelatedItem]:
            # The published articles' best first; the changed ones are few and all taken.
            candidates = [(float(base[c]), int(c), False) for c in cols]
            new = np.nonzero(fresh > floor)[0]
            if truncated:  # below the last kept score the order is unknown: not yet
                new = new[fresh[new] >= base[cols[-1]]]
            candidates += [(float(fresh[i]), int(i), True) for i in new]
            candidates.sort(key=lambda c: -c[0])
            return self._take(vector, candidates, limit, keep, set(seen))

        return until_full(base, floor, limit, take)

    def _take(
        self,
        source: sparse.csr_matrix,
        candidates: list[tuple[float, int, bool]],
        limit: int,
        keep: Keep,
        seen_groups: set[int],
    ) -> list[RelatedItem]:
        model = self.model
        threshold = model.config.duplicate_threshold
        items: list[RelatedItem] = []
        chosen: list[tuple[sparse.csr_matrix, bool]] = []
        for score, index, is_new in candidates:
            if len(items) == limit:
                break
            if is_new:
                other, group, target = self.new_ids[index], -1 - index, self.vectors[index]
            else:
                if self._hidden[index]:
                    continue
                other, group, target = (
                    model.ids[index],
                    int(model.groups[index]),
                    model.matrix[index],
                )
            if group in seen_groups or (keep is not None and not keep(other)):
                continue
            # Duplicate groups were found at build time; a changed article may be a copy of a
            # listed one (or they of it): compare it with what is already chosen.
            if any(
                (is_new or chosen_new) and float(target.multiply(vector).sum()) >= threshold
                for vector, chosen_new in chosen
            ):
                continue
            seen_groups.add(group)
            chosen.append((target, is_new))
            items.append(
                RelatedItem(other, round(score, 4), shared_terms(model.vocabulary, source, target))
            )
        return items
