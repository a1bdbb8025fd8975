"""The evaluation plumbing against hand-computed values on tiny collections we write here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.evaluate import dedupe, eval_related, eval_search
from api.settings import Settings
from tests.conftest import SHARED_DATA, fixture_records


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_search_metrics_match_hand_computed_values(tmp_path: Path) -> None:
    docs = [{"id": r["id"], "title": r["title"], "text": r["body"]} for r in fixture_records()]
    write_jsonl(tmp_path / "corpus.jsonl", docs)
    write_jsonl(
        tmp_path / "queries.jsonl",
        [
            {"id": "q1", "text": "tom cruise train"},
            {"id": "q2", "text": "trailer"},
            {"id": "unjudged", "text": "spy"},
        ],
    )
    # q1: the premiere is ranked third (the stunt story and its copy have all three words);
    # q2: the trailer story is the only hit.
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tcruise-premiere\t1\nq2\tpathaan-2-trailer\t1\n"
    )
    result = eval_search(tmp_path, "test", Settings(recency_weight=0))
    assert result["queries"] == 2 and result["documents"] == 12
    # nDCG@10: q1 = 1/log2(3 + 1) = 0.5, q2 = 1; mean 0.75. AP: q1 = 1/3, q2 = 1.
    assert result["ndcg@10"] == pytest.approx(0.75, abs=1e-4)
    assert result["map@100"] == pytest.approx((1 / 3 + 1) / 2, abs=1e-4)
    assert result["recall@100"] == 1.0


def test_related_metrics_match_hand_computed_values(tmp_path: Path) -> None:
    violin = "violin concert orchestra hall"
    rows = [
        {"id": "a1", "title": "Violin night", "body": f"{violin} mumbai", "category": "music"},
        {"id": "a2", "title": "Violin hall", "body": f"{violin} tickets", "category": "music"},
        {
            "id": "b1",
            "title": "Cricket",
            "body": "cricket final stadium mumbai",
            "category": "sport",
        },
        {
            "id": "b2",
            "title": "Cricket",
            "body": "cricket final stadium crowd",
            "category": "sport",
        },
        {
            "id": "a1-copy",
            "title": "violin  NIGHT",
            "body": f"{violin} mumbai",
            "category": "music",
        },
    ]
    write_jsonl(tmp_path / "articles.jsonl", rows)
    result = eval_related(tmp_path, 1, Settings(lsa_weight=0))
    # With TF-IDF alone each story's nearest is the other story of its category (four shared
    # words against one, "mumbai", across): P@1 = 1. The exact copy is removed first.
    assert result["exact_duplicates_removed"] == 1 and result["articles"] == 4
    assert result["same_category_p@1"] == 1.0
    assert result["coverage"] == 1.0 and result["duplicate_rate"] == 0.0
    two = eval_related(tmp_path, 2, Settings(lsa_weight=0))
    # Second places: only a1 and b1 share a word across ("mumbai"), so a1 -> [a2, b1],
    # b1 -> [b2, a1], a2 -> [a1], b2 -> [b1]: P@2 = 4 relevant / (4 lists x 2) = 0.5, and
    # half the lists are full.
    assert two["same_category_p@2"] == 0.5 and two["coverage"] == 0.5


def test_dedupe_folds_whitespace_and_case() -> None:
    kept, removed = dedupe(
        [
            {"title": "A  B", "body": "x"},
            {"title": "a b", "body": "X"},
            {"title": "a b", "body": "y"},
        ]
    )
    assert removed == 1 and [r["body"] for r in kept] == ["x", "y"]


@pytest.mark.skipif(not (SHARED_DATA / "scifact").is_dir(), reason="../shared/data is absent")
def test_shared_collections_load() -> None:
    from api.evaluate import load_collection

    collection = load_collection(SHARED_DATA / "scifact", "test")
    assert len(collection.queries) == 300 and len(collection.qrels) == 339
