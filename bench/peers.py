"""The peers we measure ourselves against, on the same articles and queries: tantivy and bm25s
for search, sparse_dot_topn for all-pairs neighbour lists. Installed by the `bench` extra
(`pip install -e '.[bench]'`), never by the product.

Each is used as its documentation recommends for a search box: one index built once, one
searcher reused, top 10 per query, the ids of the hits read back (as we return them).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from bench.core_latency import percentiles

TOP = 10


def snapshot_matrix(data_dir: Path) -> sparse.csr_matrix:
    """The unit-length article vectors of the published snapshot (what neighbours used)."""
    current = (data_dir / "CURRENT").read_text().strip()
    folder = data_dir / "snapshots" / current / "related"
    params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    parts = [np.load(folder / f"matrix_{p}.npy") for p in ("data", "indices", "indptr")]
    return sparse.csr_matrix(tuple(parts), shape=tuple(params["shape"]))


def sparse_dot_topn_seconds(matrix: sparse.csr_matrix, k: int, threads: int = 2) -> float:
    """All-pairs top-(k + 1) (each row finds itself too) with sparse_dot_topn's threads."""
    from sparse_dot_topn import sp_matmul_topn

    transposed = matrix.T.tocsr()
    started = time.perf_counter()
    sp_matmul_topn(matrix, transposed, top_n=k + 1, n_threads=threads, sort=True)
    return time.perf_counter() - started


def tantivy_search(records: list[dict[str, Any]], log: list[str], folder: Path) -> dict[str, Any]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
    schema = builder.build()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(folder))
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for record in records:
        writer.add_document(
            tantivy.Document(id=record["id"], title=record["title"], body=record["body"])
        )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    index_seconds = time.perf_counter() - started
    searcher = index.searcher()

    def parse(text: str) -> Any:
        query, _errors = index.parse_query_lenient(text, ["title", "body"])
        return query

    def search(text: str, snippets: bool) -> list[str]:
        query = parse(text)
        hits = searcher.search(query, TOP).hits
        docs = [searcher.doc(address) for _score, address in hits]
        if snippets:
            generator = tantivy.SnippetGenerator.create(searcher, query, schema, "body")
            for doc in docs:
                generator.snippet_from_doc(doc).to_html()
        return [doc["id"][0] for doc in docs]

    for text in log[:50]:
        search(text, True)
    return {
        "index_seconds": round(index_seconds, 3),
        "search_with_snippets": percentiles(_timed(lambda q: search(q, True), log)),
        "search_without_snippets": percentiles(_timed(lambda q: search(q, False), log)),
    }


def bm25s_search(records: list[dict[str, Any]], log: list[str]) -> dict[str, Any]:
    import bm25s

    # bm25s's own tokenizer (English stop words; no stemmer: PyStemmer is not installed).
    started = time.perf_counter()
    tokens = bm25s.tokenize(
        [f"{r['title']}\n{r['body']}" for r in records], stopwords="en", show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - started
    ids = [r["id"] for r in records]

    def search(text: str) -> list[str]:
        words = bm25s.tokenize([text], stopwords="en", return_ids=False, show_progress=False)
        if not words[0]:
            return []
        found, _scores = retriever.retrieve(words, k=TOP, show_progress=False, n_threads=1)
        return [ids[int(i)] for i in found[0]]

    for text in log[:50]:
        search(text)
    return {
        "index_seconds": round(index_seconds, 3),
        "search_without_snippets": percentiles(_timed(search, log)),
    }


def search_peers(records: list[dict[str, Any]], log: list[str], work: Path) -> dict[str, Any]:
    return {
        "tantivy": tantivy_search(records, log, work / "tantivy"),
        "bm25s": bm25s_search(records, log),
    }


def _timed(fn: Any, items: list[str]) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - started)
    return samples
