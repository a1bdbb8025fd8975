"""What reordering search results with the related engine would do to SciFact recall@100.

    python -m bench.recall_study --data ../shared/data --out bench/results/recall-study.md

Issue 5 asks for recall@100 >= 0.93 on SciFact (test). This study indexes SciFact through
the product's own ingest and build, takes each query's ranking to depth 1,000
(`SearchIndex.search`, the served defaults but without the related lift: the row "no lift"),
and reorders it three ways with what the same snapshot's related engine knows. The `lift`
row that train ranks first (m 10, mu 0.5) is what search serves since 2026-12-03
(`search.index.RelatedLift`, which also keeps each tier's matches together); the others are
studies, not product paths:

- `blend`: the best `depth` matches rescored as (1 - w) x BM25 / best BM25 + w x the related
  engine's cosine of the query (as a draft) and the article; the first 10 kept as served.
- `lift`: the matches at positions 11..`depth` raised by the precomputed related lists of the
  best `m` matches: + mu x sum of (that match's BM25 / best BM25) x (its related score).
- `rrf`: reciprocal rank fusion (k) of the served ranking and the related engine's ranking
  of every article (articles with none of the query's words come in); first 10 kept.

Settings are chosen on the train split; the test split is reported. Scores: ir-measures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ir_measures
import numpy as np
from ir_measures import AP, R, nDCG

from api import evaluate
from api.queries import _aliases
from api.settings import Settings
from bench.report import StudyResult, run_study
from index_data.live import LiveView
from recommend.model import scores_against
from search.index import SearchRequest

DEPTH = 1000
KEEP = 10  # the first page stays as ranked
MEASURES = [nDCG @ 10, R @ 100, AP @ 100]


class Runs:
    """One split's served rankings, related cosines and the snapshot's related lists."""

    def __init__(self, view: LiveView, collection: evaluate.Collection, settings: Settings):
        snapshot = view.snapshot
        model = snapshot.related_model
        assert model is not None and model.encoder is not None
        self.ids = model.ids
        self.neighbours = np.asarray(model.neighbours)
        self.related_scores = np.asarray(model.scores)
        self.qrels = collection.qrels
        self.query_ids = list(collection.queries)
        self.ranked: list[np.ndarray] = []
        self.bm25: list[np.ndarray] = []
        self.cosine = np.zeros((len(self.query_ids), len(self.ids)), dtype=np.float32)
        aliases = _aliases(settings)
        for i, query_id in enumerate(self.query_ids):
            text = collection.queries[query_id]
            request = SearchRequest(
                text=text, per_page=DEPTH, snippets=False, aliases=aliases, related_lift=False
            )
            hits = snapshot.search_index.search(request).hits
            self.ranked.append(np.array([model.row_of[h.id] for h in hits], dtype=np.int64))
            self.bm25.append(np.array([h.score or 0.0 for h in hits], dtype=np.float64))
            vector = model.encoder.encode([""], [text])
            if vector.nnz:
                self.cosine[i] = scores_against(model.matrix, vector)

    def score(self, orders: Iterable[np.ndarray]) -> dict[str, float]:
        run = [
            ir_measures.ScoredDoc(query_id, self.ids[int(row)], -float(rank))
            for query_id, order in zip(self.query_ids, orders, strict=True)
            for rank, row in enumerate(order[:100])
        ]
        found = ir_measures.calc_aggregate(MEASURES, self.qrels, run)
        return {str(m): round(float(found[m]), 4) for m in MEASURES}

    def unlifted(self) -> list[np.ndarray]:
        return self.ranked

    def blend(self, w: float, depth: int) -> list[np.ndarray]:
        out = []
        for i, (rows, bm25) in enumerate(zip(self.ranked, self.bm25, strict=True)):
            if not len(rows):
                out.append(rows)
                continue
            top, norm = rows[:depth], bm25[:depth] / bm25[0]
            mixed = (1 - w) * norm + w * self.cosine[i][top]
            rest = top[KEEP:][np.argsort(-mixed[KEEP:], kind="stable")]
            out.append(np.concatenate([top[:KEEP], rest, rows[depth:]]))
        return out

    def lift(self, m: int, mu: float, depth: int) -> list[np.ndarray]:
        out = []
        for rows, bm25 in zip(self.ranked, self.bm25, strict=True):
            if not len(rows):
                out.append(rows)
                continue
            norm = bm25 / bm25[0]
            bonus = np.zeros(len(self.ids))
            for r in range(min(m, len(rows))):
                cols, scores = self.neighbours[rows[r]], self.related_scores[rows[r]]
                listed = cols >= 0
                np.add.at(bonus, cols[listed], norm[r] * scores[listed])
            middle = rows[KEEP:depth]
            mixed = norm[KEEP:depth] + mu * bonus[middle]
            rest = middle[np.argsort(-mixed, kind="stable")]
            out.append(np.concatenate([rows[:KEEP], rest, rows[depth:]]))
        return out

    def rrf(self, k: int, w: float) -> list[np.ndarray]:
        out = []
        for i, rows in enumerate(self.ranked):
            fused = np.zeros(len(self.ids))
            fused[rows] += 1.0 / (k + np.arange(1, len(rows) + 1))
            by_cosine = np.argsort(-self.cosine[i], kind="stable")[:DEPTH]
            fused[by_cosine] += w / (k + np.arange(1, len(by_cosine) + 1))
            fused[rows[:KEEP]] = np.inf
            order = np.argsort(-fused, kind="stable")
            out.append(np.concatenate([rows[:KEEP], order[len(rows[:KEEP]) :]]))
        return out


def variants(runs: Runs) -> dict[str, list[np.ndarray]]:
    found = {"no lift": runs.unlifted()}
    for w in (0.2, 0.3, 0.4):
        found[f"blend w={w} depth=300"] = runs.blend(w, 300)
    for m in (10, 20):
        for mu in (0.1, 0.2, 0.3, 0.5):
            found[f"lift m={m} mu={mu} depth=300"] = runs.lift(m, mu, 300)
    for k in (30, 60):
        for w in (0.5, 1.0):
            found[f"rrf k={k} w={w}"] = runs.rrf(k, w)
    return found


def study(folder: Path) -> dict[str, Any]:
    settings = Settings()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        eval_settings = settings.model_copy(update={"data_dir": data_dir})
        everything = evaluate.load_collection(folder, "test")
        evaluate.publish_collection(data_dir, everything, eval_settings)
        view = LiveView.open(data_dir)
        try:
            for split in ("train", "test"):
                runs = Runs(view, evaluate.load_collection(folder, split), eval_settings)
                results[split] = {name: runs.score(o) for name, o in variants(runs).items()}
        finally:
            view.snapshot.close()
    return results


def table(results: dict[str, Any]) -> str:
    names = list(results["train"])
    lines = [
        (
            "| variant | train nDCG@10 | train recall@100 | train MAP | test nDCG@10 "
            "| test recall@100 | test MAP |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        cells = [
            f"{results[split][name][str(m)]:.4f}" for split in ("train", "test") for m in MEASURES
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    def run(folder: Path) -> StudyResult:
        results = study(folder)
        return f"{table(results)}\n", results

    heading = "SciFact recall@100: reordering with the related engine (a study)"
    run_study("bench.recall_study", __doc__, "bench/results/recall-study.md", heading, run)


if __name__ == "__main__":
    main()
