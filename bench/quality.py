"""`make eval`: the relevance figures of the served defaults, as a markdown table.

    python -m bench.quality --data ../shared/data --out bench/results/quality.md

Runs `gupshup eval search` on SciFact (test split) and `gupshup eval related` on BBC News and
AG News, through the same functions, and writes the table (with date and command) and the
raw JSON beside it.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from api.evaluate import eval_related, eval_search, eval_variants
from api.settings import Settings

SAMPLE = [Path("sample/articles.jsonl"), Path("sample/pages")]
SAMPLE_QUERIES = Path("sample/variant_queries.jsonl")

ROWS = [
    (
        "SciFact nDCG@10 (test, 300 queries)",
        "scifact",
        "ndcg@10",
        (
            "Lucene BM25 (Anserini, one field) 0.679; BEIR paper BM25 0.665; "
            "plain Whoosh BM25F about 0.664"
        ),
        0.69,
    ),
    ("SciFact recall@100", "scifact", "recall@100", "Anserini 0.925", 0.93),
    ("SciFact MAP@100", "scifact", "map@100", "plain Whoosh BM25F (MAP) 0.622", None),
    (
        "BBC News same-category P@10 (deduplicated)",
        "bbc",
        "same_category_p@10",
        "plain TF-IDF cosine about 0.92",
        0.95,
    ),
    (
        "AG News same-category P@10",
        "ag",
        "same_category_p@10",
        "plain TF-IDF cosine about 0.76",
        0.80,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/quality.md"))
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} is absent: the evaluation needs ../shared/data")
    settings = Settings(max_query_chars=10_000)
    results = {
        "scifact": eval_search(args.data / "scifact", "test", settings),
        "bbc": eval_related(args.data / "bbc-news", 10, settings),
        "ag": eval_related(args.data / "ag-news-test", 10, settings),
        # The same SciFact run with the name-variant features off: they must cost plain
        # English relevance nothing (at most 0.005 nDCG@10).
        "scifact_variants_off": eval_search(
            args.data / "scifact",
            "test",
            settings.model_copy(update={"aliases": False, "phonetic": False, "fuzzy": False}),
        ),
        "variants": eval_variants(SAMPLE, SAMPLE_QUERIES, Settings()),
    }
    date = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        "# Relevance of the served defaults",
        "",
        f"Measured {date} with `python -m bench.quality --data {args.data}` (`make eval`).",
        "",
        "| measure | published or reference baseline | target | ours |",
        "|---|---|---|---|",
    ]
    for label, source, key, baseline, target in ROWS:
        value = results[source][key]
        goal = f">= {target}" if target is not None else ""
        met = "" if target is None else (" (met)" if value >= target else " (not met)")
        lines.append(f"| {label} | {baseline} | {goal} | **{value:.4f}**{met} |")
    sf, bbc, ag = results["scifact"], results["bbc"], results["ag"]
    lines += [
        "",
        (
            f"SciFact: {sf['documents']} documents, {sf['queries']} queries, "
            f"{sf['queries_per_second']} queries/s (two pages of 50 per query, snippets included)."
        ),
    ]
    for name, found in (("BBC News", bbc), ("AG News", ag)):
        lines.append(
            f"{name}: {found['articles']} articles after removing "
            f"{found['exact_duplicates_removed']} exact duplicates; coverage {found['coverage']}, "
            f"duplicate rate {found['duplicate_rate']}."
        )
    off = results["scifact_variants_off"]
    lines += [
        "",
        "## Name variants (aliases, romanised spellings, typos, Hindi)",
        "",
        (
            f"`gupshup eval variants`: {results['variants']['queries']} queries of "
            "`sample/variant_queries.jsonl` over the sample corpus, success@5."
        ),
        "",
        "| features | success@5 | alias | phonetic | typo | hindi |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results["variants"]["configs"].items():
        kinds = row["by_kind"]
        lines.append(
            f"| {name} | **{row['success@5']:.3f}** | {kinds['alias']:.3f} | "
            f"{kinds['phonetic']:.3f} | {kinds['typo']:.3f} | {kinds['hindi']:.3f} |"
        )
    lines += [
        "",
        (
            f"SciFact nDCG@10 with these features on (served): {sf['ndcg@10']:.4f}; all off: "
            f"{off['ndcg@10']:.4f} (recall@100 {sf['recall@100']:.4f} / "
            f"{off['recall@100']:.4f})."
        ),
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps({"date": date, **results}, indent=2) + "\n", encoding="utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
