"""Turn every bench/results/scale-*.json into one markdown page, bench/results/scale.md:
ours beside the peers with ratios, the scaling curve, and the issue's targets.

    python -m bench.scale_report [--results bench/results]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def load(results: Path) -> list[dict[str, Any]]:
    """The newest run of each size, smallest first (a kept older run of a size, such as
    `scale-100k-<date>.json`, does not stand in for the newest)."""
    newest: dict[int, dict[str, Any]] = {}
    for path in sorted(results.glob("scale-*.json")):  # equal dates: the first name wins
        run = json.loads(path.read_text(encoding="utf-8"))
        kept = newest.get(run["articles"])
        if kept is None or run.get("date", "") > kept.get("date", ""):
            newest[run["articles"]] = run
    return [newest[n] for n in sorted(newest)]


def get(run: dict[str, Any], *path: str) -> Any:
    value: Any = run
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "-"
    return f"{ours / theirs:,.1f}x"


def peers_table(run: dict[str, Any]) -> list[str]:
    lib, peers = run.get("library", {}), run.get("peers", {})
    tan, bm = peers.get("tantivy", {}), peers.get("bm25s", {})
    nb = run.get("neighbours", {})
    rows = [
        (
            "search p50, no snippets (ms)",
            get(lib, "search_without_snippets", "p50_ms"),
            get(tan, "search_without_snippets", "p50_ms"),
            get(bm, "search_without_snippets", "p50_ms"),
        ),
        (
            "search p99, no snippets (ms)",
            get(lib, "search_without_snippets", "p99_ms"),
            get(tan, "search_without_snippets", "p99_ms"),
            get(bm, "search_without_snippets", "p99_ms"),
        ),
        (
            "search p50, snippets (ms)",
            get(lib, "search_with_snippets", "p50_ms"),
            get(tan, "search_with_snippets", "p50_ms"),
            None,
        ),
        (
            "search p99, snippets (ms)",
            get(lib, "search_with_snippets", "p99_ms"),
            get(tan, "search_with_snippets", "p99_ms"),
            None,
        ),
        (
            "search index build (s)",
            get(run, "build", "seconds", "search_index"),
            tan.get("index_seconds"),
            bm.get("index_seconds"),
        ),
    ]
    lines = [
        f"**{run['articles']:,} articles** ({run['date']}):",
        "",
        "| measure | ours | tantivy | ours / tantivy | bm25s | ours / bm25s |",
        "|---|---|---|---|---|---|",
    ]
    for name, ours, tantivy, bm25s in rows:
        digits = 2 if "ms" in name else 1
        lines.append(
            f"| {name} | {num(ours, '', digits)} | {num(tantivy, '', digits)} | "
            f"{ratio(ours, tantivy)} | {num(bm25s, '', digits)} | {ratio(ours, bm25s)} |"
        )
    if nb:
        lines += [
            "",
            (
                "| neighbour lists, k = 20, same matrix | ours | sparse_dot_topn, 2 threads "
                "| ratio | ours: method, recall@20 vs exact (1,000 rows) |"
            ),
            "|---|---|---|---|---|",
            (
                f"| {nb['matrix_shape'][0]:,} x {nb['matrix_shape'][1]:,}, {nb['matrix_nnz']:,} "
                f"non-zeros | {num(nb['ours_seconds'], ' s')} | "
                f"{num(nb['sparse_dot_topn_seconds'], ' s')} | "
                f"{ratio(nb['ours_seconds'], nb['sparse_dot_topn_seconds'])} | "
                f"{recall_cell(nb)} |"
            ),
        ]
    return lines


def recall_cell(nb: dict[str, Any]) -> str:
    method = "two-step" if nb.get("approximate") else "exact"
    if "recall_at_k" not in nb:
        return f"{method}, recall not measured"
    return (
        f"{method}, {nb['recall_at_k']:.4f} (worst row {nb['recall_worst_row']:.2f}; "
        f"scores {100 * nb['score_share']:.2f} % of exact)"
    )


def http_cell(run: dict[str, Any], key: str) -> str:
    row = get(run, "http", key)
    if not row:
        return "-"
    rate = f"{row['rps']:,.0f}" if row["rps"] >= 10 else f"{row['rps']:.1f}"
    return f"{row['p50_ms']:.1f} / {row['p99_ms']:.0f} ms, {rate}/s"


def cpu(seconds: float | None) -> str:
    """The " (290 CPU-s)" after a build's wall time; nothing for runs that did not record it."""
    return "" if seconds is None else f" ({seconds:,.0f} CPU-s)"


def scaling_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        (
            "| articles | ingest | Whoosh index | TF-IDF + LSA fit | neighbours | "
            "build total (CPU) | build peak RSS | snapshot | search p50 / p99 (snippets) | "
            "search p50 (none) | suggest p50 | related p50 | to-text p50 |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        b, lib = run.get("build", {}), run.get("library", {})
        s = b.get("seconds", {})
        lines.append(
            f"| {run['articles']:,} | {num(get(run, 'ingest', 'seconds'), ' s')} | "
            f"{num(s.get('search_index'), ' s')} | {num(s.get('related_fit'), ' s')} | "
            f"{num(s.get('related_neighbours'), ' s')} | {num(s.get('total'), ' s')}"
            f"{cpu(b.get('cpu_seconds'))} | "
            f"{num(b.get('peak_rss_mb_tree'), ' MB', 0)} | "
            f"{num((b.get('snapshot_bytes') or 0) / 1e6, ' MB', 0)} | "
            f"{num(get(lib, 'search_with_snippets', 'p50_ms'), '', 1)} / "
            f"{num(get(lib, 'search_with_snippets', 'p99_ms'), ' ms', 0)} | "
            f"{num(get(lib, 'search_without_snippets', 'p50_ms'), ' ms')} | "
            f"{num(get(lib, 'suggest', 'p50_ms'), ' ms')} | "
            f"{num(get(lib, 'related_by_id', 'p50_ms'), ' ms', 2)} | "
            f"{num(get(lib, 'related_to_text', 'p50_ms'), ' ms')} |"
        )
    lines += [
        "",
        (
            "| articles | `/api/search` 1 client (p50 / p99, req/s) | `/api/search` 8 clients | "
            "search, cache off, 1 client | search, cache off, 8 clients | "
            "`related` 1 client | `related` 8 clients | RSS per worker (start -> end) |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        start, end = get(run, "http", "worker_rss_mb_start"), get(run, "http", "worker_rss_mb_end")
        anon = get(run, "http", "worker_anon_mb_end")
        memory = f"{start[0]:,.0f} -> {end[0]:,.0f} MB" if start and end else "-"
        pss = get(run, "http", "worker_pss_mb_end")
        if anon:
            pss_part = f", PSS {pss[0]:,.0f} MB" if pss else ""
            memory += f" ({anon[0]:,.0f} MB private{pss_part})"
        lines.append(
            f"| {run['articles']:,} | {http_cell(run, 'search@1')} | "
            f"{http_cell(run, 'search@8')} | {http_cell(run, 'search_uncached@1')} | "
            f"{http_cell(run, 'search_uncached@8')} | "
            f"{http_cell(run, 'related@1')} | {http_cell(run, 'related@8')} | {memory} |"
        )
    return lines


def growth_table(runs: list[dict[str, Any]]) -> list[str]:
    """Each size against the smallest: x articles, x build time, x p50 (linear = same x)."""
    base = runs[0]
    lines = [
        (
            f"Growth against {base['articles']:,} articles (linear growth means the same factor "
            "as the article count):"
        ),
        "",
        (
            "| articles | x articles | x build total | x Whoosh index | x neighbours | "
            "x search p50 (snippets) | x related p50 |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:

        def x(*path: str, run: dict[str, Any] = run) -> str:
            return ratio(get(run, *path), get(base, *path))

        lines.append(
            f"| {run['articles']:,} | {run['articles'] / base['articles']:.1f}x | "
            f"{x('build', 'seconds', 'total')} | {x('build', 'seconds', 'search_index')} | "
            f"{x('build', 'seconds', 'related_neighbours')} | "
            f"{x('library', 'search_with_snippets', 'p50_ms')} | "
            f"{x('library', 'related_by_id', 'p50_ms')} |"
        )
    return lines


def targets_table(run: dict[str, Any]) -> list[str]:
    def check(value: float | None, limit: float) -> str:
        if value is None:
            return "not measured"
        return "met" if value <= limit else "**missed**"

    total = get(run, "build", "seconds", "total")
    nb = run.get("neighbours") or {}
    nb_ratio = nb["ours_seconds"] / nb["sparse_dot_topn_seconds"] if nb else None
    s8 = get(run, "http", "search@8") or {}
    u8 = get(run, "http", "search_uncached@8") or {}
    rel = get(run, "http", "related@8") or {}
    memory = get(run, "http", "worker_rss_mb_end")
    worker = memory[0] if memory else None
    pss = get(run, "http", "worker_pss_mb_end")
    pss_worker = pss[0] if pss else None
    rows = [
        (
            "full build (store -> published snapshot)",
            "<= 120 s",
            num(total, " s"),
            check(total, 120),
        ),
        (
            "neighbour lists vs sparse_dot_topn",
            "<= 1.5x",
            num(nb_ratio, "x", 2),
            check(nb_ratio, 1.5),
        ),
        (
            "`/api/search` 8 clients, p50",
            "<= 10 ms",
            num(s8.get("p50_ms"), " ms"),
            check(s8.get("p50_ms"), 10),
        ),
        (
            "`/api/search` 8 clients, p99",
            "<= 100 ms",
            num(s8.get("p99_ms"), " ms"),
            check(s8.get("p99_ms"), 100),
        ),
        (
            "`/api/search` 8 clients, cache off, p50",
            "(<= 10 ms)",
            num(u8.get("p50_ms"), " ms"),
            check(u8.get("p50_ms"), 10),
        ),
        (
            "`/api/search` 8 clients, cache off, p99",
            "(<= 100 ms)",
            num(u8.get("p99_ms"), " ms"),
            check(u8.get("p99_ms"), 100),
        ),
        (
            "`/api/articles/{id}/related` 8 clients, p50",
            "<= 3 ms",
            num(rel.get("p50_ms"), " ms"),
            check(rel.get("p50_ms"), 3),
        ),
        ("server memory per worker (RSS)", "<= 1 GB", num(worker, " MB", 0), check(worker, 1024)),
        (
            "same, shared pages split between the workers (PSS)",
            "(<= 1 GB)",
            num(pss_worker, " MB", 0),
            check(pss_worker, 1024),
        ),
    ]
    lines = [
        f"Targets at {run['articles']:,} articles:",
        "",
        "| measure | target | measured | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return lines


def write_markdown(results: Path = RESULTS) -> Path:
    runs = load(results)
    out = results / "scale.md"
    if not runs:
        return out
    lines = [
        "# Speed at scale (`make bench`, `make bench-full`)",
        "",
        (
            "Composed corpora (`bench/corpus.py`: real BBC News, AG News and SciFact text "
            "recombined within a category, about 200 words an article), a Zipf-like query log "
            "(`bench/querylog.py`), peers in the same run on the same data. Written by "
            "`python -m bench.scale`; raw figures, command and date in `scale-*.json`."
        ),
        "",
        f"Machine: {runs[-1]['machine']}.",
        "",
        "## Ours, peers and ratios",
        "",
    ]
    for run in runs:
        lines += [*peers_table(run), ""]
    lines += ["## Scaling", "", *scaling_table(runs), "", *growth_table(runs), ""]
    lines += ["## Targets", "", *targets_table(runs[-1]), ""]
    lines += ["## Runs", ""]
    lines += [f"- `{r['command']}` ({r['date']})" for r in runs]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    print(write_markdown(parser.parse_args().results))


if __name__ == "__main__":
    main()
