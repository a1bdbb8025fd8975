"""BM25F's k1 and b against SciFact recall@100 (a study, not a product path).

    python -m bench.bm25_sweep --data ../shared/data --out bench/results/bm25-sweep.md

Issue 5 asks for recall@100 >= 0.93 on SciFact (test); the served search gives 0.911 with
k1 1.2 and b 0.75 (title b 0.5, tags b 0.3). This study indexes SciFact once through the
product's own ingest and build, then ranks every query of both splits with each (k1, b) of a
grid (per-field b of titles and tags as served) through `SearchIndex.search` to depth 100,
the served defaults otherwise. Settings are chosen on the train split; the test split is
reported for the train's best recall and best nDCG@10. Scores: ir-measures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import AP, R, nDCG

import search.index
from api import evaluate
from api.queries import _aliases
from api.settings import Settings
from bench.report import StudyResult, run_study
from index_data.live import LiveView
from search.index import SearchRequest

MEASURES = [nDCG @ 10, R @ 100, AP @ 100]
K1S = (0.6, 0.9, 1.2, 1.5, 2.0)
BS = (0.3, 0.4, 0.5, 0.6, 0.75, 0.9)
_SERVED_MODEL = search.index.weighting()
SERVED = (float(_SERVED_MODEL.K1), float(_SERVED_MODEL.B))


@contextmanager
def bm25(k1: float, b: float) -> Iterator[None]:
    """Searchers opened inside use k1 and b: the served model with those two changed (its
    per-field b of titles and tags kept)."""
    served = search.index.weighting

    def weighting(stats: Any = None) -> Any:
        model = served(stats)
        model.K1, model.B = k1, b
        return model

    search.index.weighting = weighting
    try:
        yield
    finally:
        search.index.weighting = served


def score(view: LiveView, collection: evaluate.Collection, aliases: Any) -> dict[str, float]:
    run = []
    for query_id, text in collection.queries.items():
        request = SearchRequest(text=text, per_page=100, snippets=False, aliases=aliases)
        hits = view.snapshot.search_index.search(request).hits
        run += [ir_measures.ScoredDoc(query_id, h.id, -float(r)) for r, h in enumerate(hits)]
    found = ir_measures.calc_aggregate(MEASURES, collection.qrels, run)
    return {str(m): round(float(found[m]), 4) for m in MEASURES}


def sweep(folder: Path) -> dict[str, Any]:
    settings = Settings()
    splits = {s: evaluate.load_collection(folder, s) for s in ("train", "test")}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        eval_settings = settings.model_copy(update={"data_dir": data_dir})
        evaluate.publish_collection(data_dir, splits["test"], eval_settings)
        aliases = _aliases(eval_settings)
        for k1 in K1S:
            for b in BS:
                # A fresh view per setting: a view caches each word's scored postings.
                with bm25(k1, b):
                    view = LiveView.open(data_dir)
                    try:
                        results[f"{k1} {b}"] = {
                            name: score(view, split, aliases) for name, split in splits.items()
                        }
                    finally:
                        view.snapshot.close()
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        (
            "| k1 | b | train nDCG@10 | train recall@100 | train MAP | test nDCG@10 "
            "| test recall@100 | test MAP |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, splits in results.items():
        k1, b = key.split()
        served = " (served)" if (float(k1), float(b)) == SERVED else ""
        cells = [f"{splits[s][str(m)]:.4f}" for s in ("train", "test") for m in MEASURES]
        lines.append(f"| {k1} | {b}{served} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def best(results: dict[str, Any], measure: str) -> str:
    return max(results, key=lambda key: results[key]["train"][measure])


def report(folder: Path) -> StudyResult:
    results = sweep(folder)
    picks = []
    for measure in (str(R @ 100), str(nDCG @ 10)):
        key = best(results, measure)
        k1, b = key.split()
        picks.append(
            f"- train's best {measure}: k1 {k1}, b {b}: test "
            + ", ".join(f"{m} {v:.4f}" for m, v in results[key]["test"].items())
        )
    return f"{table(results)}\n\n" + "\n".join(picks) + "\n", results


def main() -> None:
    heading = "SciFact: BM25F k1 and b (a study)"
    run_study("bench.bm25_sweep", __doc__, "bench/results/bm25-sweep.md", heading, report)


if __name__ == "__main__":
    main()
