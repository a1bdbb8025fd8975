"""Relevance you can measure: `gupshup eval search` and `gupshup eval related`.

Both run the product's real pipeline in a temporary data dir: articles go through
`article_from_record` into an ArticleStore, `build_snapshot` builds and publishes, and every
query or lookup goes through `api.queries` (the functions behind /api/search and
/api/articles/{id}/related) with the served defaults. Metrics come from ir-measures.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ir_measures
from ir_measures import AP, P, R, nDCG

from api import queries
from api.settings import Settings, build_config
from index_data.article import article_from_record
from index_data.build import build_snapshot
from index_data.errors import ReaderError
from index_data.live import LiveView
from index_data.store import ArticleStore

SEARCH_MEASURES = (nDCG @ 10, R @ 100, AP @ 100)
PAGE = 50  # hits fetched per call, as the API pages them (100 = two pages)


@dataclass(frozen=True)
class Collection:
    docs: list[dict[str, Any]]
    queries: dict[str, str]
    qrels: list[ir_measures.Qrel]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_collection(folder: Path, split: str) -> Collection:
    """A BEIR-style collection: corpus.jsonl, queries[_train].jsonl, qrels[_train].tsv."""
    suffix = "" if split == "test" else f"_{split}"
    docs = _jsonl(folder / "corpus.jsonl")
    queries_by_id = {str(q["id"]): q["text"] for q in _jsonl(folder / f"queries{suffix}.jsonl")}
    qrels_path = folder / f"qrels{suffix}.tsv"
    if not qrels_path.is_file():
        raise ReaderError(f"{qrels_path}: no such file")
    with qrels_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    qrels = [
        ir_measures.Qrel(str(r["query-id"]), str(r["corpus-id"]), int(r["score"]))
        for r in rows
        if str(r["query-id"]) in queries_by_id
    ]
    judged = {q.query_id for q in qrels}
    return Collection(docs, {k: v for k, v in queries_by_id.items() if k in judged}, qrels)


def _publish(data_dir: Path, records: Iterable[dict[str, Any]], settings: Settings) -> None:
    with ArticleStore(data_dir / "articles.db") as store:
        store.upsert_many(article_from_record(r) for r in records)
    build_snapshot(data_dir, build_config(settings), publish=True)


def publish_collection(data_dir: Path, collection: Collection, settings: Settings) -> None:
    """A BEIR collection's documents (title and text) ingested, built and published."""
    docs = (
        {"id": str(d["id"]), "title": d.get("title") or "", "body": d.get("text") or ""}
        for d in collection.docs
    )
    _publish(data_dir, docs, settings)


def eval_search(folder: Path, split: str, settings: Settings) -> dict[str, Any]:
    """nDCG@10, recall@100 and MAP (AP@100) of every judged query, and queries/second."""
    collection = load_collection(folder, split)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        eval_settings = settings.model_copy(update={"data_dir": data_dir})
        publish_collection(data_dir, collection, eval_settings)
        view = LiveView.open(data_dir)
        try:
            run: list[ir_measures.ScoredDoc] = []
            started = time.perf_counter()
            for query_id, text in collection.queries.items():
                for page in (1, 2):
                    answer = queries.search(view, eval_settings, text, page=page, per_page=PAGE)
                    for rank, hit in enumerate(answer.hits):
                        # The run must say the order we ranked in, whatever the scores.
                        position = (page - 1) * PAGE + rank
                        run.append(ir_measures.ScoredDoc(query_id, hit.id, -float(position)))
            seconds = time.perf_counter() - started
        finally:
            view.snapshot.close()
    scores = ir_measures.calc_aggregate(SEARCH_MEASURES, collection.qrels, run)
    return {
        "collection": str(folder),
        "split": split,
        "documents": len(collection.docs),
        "queries": len(collection.queries),
        "ndcg@10": round(float(scores[nDCG @ 10]), 4),
        "recall@100": round(float(scores[R @ 100]), 4),
        "map@100": round(float(scores[AP @ 100]), 4),
        "queries_per_second": round(2 * len(collection.queries) / seconds, 1),
    }


def dedupe(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Drop exact duplicates (same title and body after whitespace folding); keep the first."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for record in records:
        fingerprint = (
            " ".join(str(record.get("title", "")).split()).lower(),
            " ".join(str(record.get("body", "")).split()).lower(),
        )
        if fingerprint not in seen:
            seen.add(fingerprint)
            kept.append(record)
    return kept, len(records) - len(kept)


def eval_related(folder: Path, k: int, settings: Settings) -> dict[str, Any]:
    """Same-category precision@k of the served related lists, coverage and duplicate rate.
    The engine never sees a category: records are ingested without one."""
    records, removed = dedupe(_jsonl(folder / "articles.jsonl"))
    category = {str(r["id"]): str(r["category"]).lower() for r in records}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        eval_settings = settings.model_copy(update={"data_dir": data_dir})
        blind = ({"id": str(r["id"]), "title": r["title"], "body": r["body"]} for r in records)
        _publish(data_dir, blind, eval_settings)
        view = LiveView.open(data_dir)
        try:
            lists = {
                article_id: queries.related(view, eval_settings, article_id, limit=k).items
                for article_id in category
            }
        finally:
            view.snapshot.close()
    run = [
        ir_measures.ScoredDoc(source, item.id, -float(rank))
        for source, items in lists.items()
        for rank, item in enumerate(items)
    ]
    by_category: dict[str, list[str]] = {}
    for article_id, name in category.items():
        by_category.setdefault(name, []).append(article_id)
    qrels = [
        ir_measures.Qrel(source, other, 1)
        for source, name in category.items()
        for other in by_category[name]
        if other != source
    ]
    precision = ir_measures.calc_aggregate([P @ k], qrels, run)[P @ k]
    texts = {str(r["id"]): " ".join(str(r["body"]).split()).lower() for r in records}
    listed = sum(len(items) for items in lists.values())
    repeats = sum(len(items) - len({texts[i.id] for i in items}) for items in lists.values())
    return {
        "corpus": str(folder),
        "articles": len(records),
        "exact_duplicates_removed": removed,
        "k": k,
        f"same_category_p@{k}": round(float(precision), 4),
        "coverage": round(sum(len(i) == k for i in lists.values()) / len(lists), 4),
        "duplicate_rate": round(repeats / listed, 4) if listed else 0.0,
    }


@dataclass(frozen=True)
class VariantQuery:
    kind: str
    query: str
    expected: tuple[str, ...]


def load_variant_queries(path: Path) -> list[VariantQuery]:
    """The name-variant test set: one JSON object per line with kind, query and expected ids
    (at least one of which a reader expects in the first five results)."""
    found = []
    for number, record in enumerate(_jsonl(path), start=1):
        try:
            found.append(
                VariantQuery(
                    str(record["kind"]), str(record["query"]), tuple(map(str, record["expected"]))
                )
            )
        except (KeyError, TypeError) as exc:
            raise ReaderError(f"{path}:{number}: needs kind, query and expected ({exc})") from None
    return found


# Each feature alone, then all: the rows `eval variants` reports.
VARIANT_CONFIGS: dict[str, dict[str, bool]] = {
    "all off": {"aliases": False, "phonetic": False, "fuzzy": False},
    "aliases only": {"aliases": True, "phonetic": False, "fuzzy": False},
    "phonetic only": {"aliases": False, "phonetic": True, "fuzzy": False},
    "fuzzy only": {"aliases": False, "phonetic": False, "fuzzy": True},
    "all on (served)": {"aliases": True, "phonetic": True, "fuzzy": True},
}


def success_at(
    view: LiveView, settings: Settings, items: list[VariantQuery], k: int
) -> dict[str, Any]:
    """Success@k (share of queries with an expected id in the first k), overall and by kind,
    and the queries that missed."""
    hits: dict[str, list[bool]] = {}
    missed = []
    for item in items:
        answer = queries.search(view, settings, item.query, per_page=k)
        ok = any(hit.id in item.expected for hit in answer.hits)
        hits.setdefault(item.kind, []).append(ok)
        if not ok:
            missed.append(item.query)
    every = [ok for oks in hits.values() for ok in oks]
    return {
        f"success@{k}": round(sum(every) / len(every), 4) if every else 0.0,
        "by_kind": {kind: round(sum(oks) / len(oks), 4) for kind, oks in sorted(hits.items())},
        "missed": missed,
    }


def eval_variants(
    corpus: list[Path], query_file: Path, settings: Settings, k: int = 5
) -> dict[str, Any]:
    """Success@k of the variant test set over `corpus`, with each feature off and on. The
    corpus is built once; the alias list is the starter list (or the data dir's, when the
    settings point at one)."""
    from index_data.readers import read_paths

    items = load_variant_queries(query_file)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        base = settings.model_copy(update={"data_dir": data_dir})
        with ArticleStore(data_dir / "articles.db") as store:
            for read in read_paths(list[str | Path](corpus)):
                if not read.ok:
                    raise ReaderError("; ".join(str(p) for p in read.problems))
                store.upsert_many(read.articles)
        build_snapshot(data_dir, build_config(base), publish=True)
        view = LiveView.open(data_dir)
        try:
            rows = {
                name: success_at(view, base.model_copy(update=flags), items, k)
                for name, flags in VARIANT_CONFIGS.items()
            }
        finally:
            view.snapshot.close()
    return {"queries": len(items), "k": k, "configs": rows}


def table(result: dict[str, Any]) -> str:
    width = max(len(key) for key in result)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in result.items())
