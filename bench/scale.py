"""Speed at scale: build, library and HTTP figures on a composed corpus of N articles, with
peers (tantivy, bm25s, sparse_dot_topn) measured in the same run on the same data.

    python -m bench.scale --articles 10000 --out bench/results/scale-10k.json

Composes the corpus and its query log if `bench/corpora/` lacks them (bench.corpus,
bench.querylog), ingests it into a temporary data dir through the product's readers and
ArticleStore, builds and publishes a snapshot in a child process (stage timings as the build
reports them; peak memory of the child's process tree), then times, through the same objects
the server uses: search with and without snippets, suggest, related-by-id and
related-to-text; a real `gupshup serve --workers 2` under `wrk` at 1 and 8 clients; and the
peers. Ends by rewriting bench/results/scale.md from every scale-*.json there. Not a test:
the machine is shared, so peers run in the same process minutes apart and the report gives
ratios; read single figures as +-20 %.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from scipy import sparse

from bench import peers
from bench.core_latency import percentiles, timed
from bench.corpus import corpus_path, write_corpus
from bench.http_load import free_port, run_wrk, wait_ready
from bench.querylog import query_log, read_records
from bench.report import emit
from bench.scale_report import write_markdown
from index_data.build import BuildConfig, build_snapshot
from index_data.live import LiveView
from index_data.readers import read_paths
from index_data.store import ArticleStore
from recommend.neighbours import APPROX_MIN_ROWS, Neighbours, build_neighbours
from search.index import SearchRequest

RESULTS = Path(__file__).resolve().parent / "results"
K = 20
HTTP_LOG_ENTRIES = 20_000
DISTINCT_QUERIES = 1_000  # the query log's vocabulary of searches, drawn Zipf-like


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem_kb / 2**20:.1f} GB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()} "
        "(shared with two other engineers' work)"
    )


def label(articles: int) -> str:
    return f"{articles // 1000}k" if articles % 1000 == 0 else str(articles)


# ---- memory of process trees (/proc, Linux) -------------------------------------------


def tree_pids(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue += [int(p) for p in task.read_text().split()]
            except OSError:
                continue
    return pids


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of one process; `RssAnon` is its private heap alone, without the
    memory-mapped snapshot files (shared by every worker, and the OS's to drop); `Pss`
    (proportional set size) counts a page shared by n processes as 1/n to each."""
    source = "smaps_rollup" if field == "Pss" else "status"
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakSampler:
    """Samples the summed RSS of a process tree until stopped (a build's helpers included)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(rss_mb(p) for p in tree_pids(self.pid)))
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak, 1)


# ---- the product ----------------------------------------------------------------------


def ingest(corpus: Path, data_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with ArticleStore(data_dir / "articles.db") as store:
        for read in read_paths([corpus]):
            store.upsert_many(read.articles)
        count = store.count()
    return {"articles": count, "seconds": round(time.perf_counter() - started, 3)}


def build_child(data_dir: Path, index_procs: int) -> None:
    """Runs in the child process: build and publish, print the result as JSON."""
    result = build_snapshot(data_dir, BuildConfig(index_procs=index_procs), publish=True)
    print(json.dumps({"seconds": result.seconds, "size_bytes": result.size_bytes}))


def build(data_dir: Path, index_procs: int) -> dict[str, Any]:
    """Build in a child process, so its peak memory is the build's alone. Its CPU time
    (every process of the build: the index's forked writers and the related process are
    waited for, so theirs counts too) is steadier than the wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "bench.scale", "--build-child", str(data_dir)]
    proc = subprocess.Popen(
        [*command, "--index-procs", str(index_procs)], stdout=subprocess.PIPE, text=True
    )
    sampler = PeakSampler(proc.pid)
    out, _ = proc.communicate()
    tree_peak = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode})")
    found = json.loads(out.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    largest = after.ru_maxrss / 1024
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "seconds": {k: round(v, 3) for k, v in found["seconds"].items()},
        "cpu_seconds": round(cpu, 1),
        "snapshot_bytes": found["size_bytes"],
        "peak_rss_mb_tree": tree_peak,
        "peak_rss_mb_largest_process": round(largest, 1),
        "index_procs": index_procs,
    }


def suggest_prefix(query: str) -> str:
    """What a reader has typed on the way to `query`: the last word cut short."""
    words = query.strip('"').split()
    last = words[-1]
    return " ".join([*words[:-1], last[: max(1, len(last) // 2)]])


def library(data_dir: Path, log: list[str], seed: int) -> dict[str, Any]:
    view = LiveView.open(data_dir)
    try:
        for text in log[:50]:  # warm the searcher and the OS cache
            view.search(SearchRequest(text))
        rng = random.Random(seed)
        ids = list(view.catalog)
        sample_ids = [rng.choice(ids) for _ in range(len(log))]
        drafts = [view.article(i) for i in sample_ids[:200]]
        return {
            "search_with_snippets": percentiles(
                timed(lambda q: view.search(SearchRequest(q)), log)
            ),
            "search_without_snippets": percentiles(
                timed(lambda q: view.search(SearchRequest(q, snippets=False)), log)
            ),
            "suggest": percentiles(timed(lambda q: view.suggest(suggest_prefix(q), 8), log)),
            "related_by_id": percentiles(timed(lambda i: view.related(i, 5), sample_ids)),
            "related_to_text": percentiles(
                timed(lambda a: view.related_to_text(a["title"], a["body"], 5), drafts)
            ),
        }
    finally:
        view.snapshot.close()


def neighbours_side_by_side(data_dir: Path) -> dict[str, Any]:
    """Our neighbour stage and sparse_dot_topn on the very matrix the snapshot saved."""
    matrix = peers.snapshot_matrix(data_dir)
    started = time.perf_counter()
    found = build_neighbours(matrix, K, 0.9, 0.05)
    ours = time.perf_counter() - started
    theirs = peers.sparse_dot_topn_seconds(matrix, K)
    return {
        "matrix_shape": list(matrix.shape),
        "matrix_nnz": int(matrix.nnz),
        "ours_seconds": round(ours, 3),
        "sparse_dot_topn_seconds": round(theirs, 3),
        "ratio": round(ours / theirs, 2),
        "approximate": matrix.shape[0] >= APPROX_MIN_ROWS,
        **neighbour_recall(matrix, found, K, 0.05),
    }


def neighbour_recall(
    matrix: sparse.csr_matrix, found: Neighbours, k: int, min_score: float, sample: int = 1000
) -> dict[str, float | int]:
    """How much of the exact lists the built ones hold, on a seeded sample of rows: each
    sampled row's cosines with every row by brute force, listed under the built lists' own
    rules (not oneself, nor its duplicate group, one member per group, above min_score).
    `score_share` is the mean over those rows of the built list's summed cosines over the
    exact list's. Rows with nothing to list are left out (none at all: only their count)."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(matrix.shape[0], min(sample, matrix.shape[0]), replace=False))
    sims = np.asarray((matrix[rows] @ matrix.T).todense())
    shares, score_shares = [], []
    for at, row in enumerate(rows):
        order = np.argsort(-sims[at], kind="stable")
        seen = {int(found.groups[row])}
        exact: dict[int, float] = {}
        for col in order:
            score = float(sims[at, col])
            if len(exact) == k or score <= min_score:
                break
            group = int(found.groups[col])
            if group in seen:
                continue
            seen.add(group)
            exact[int(col)] = score
        if not exact:
            continue
        built = {int(c) for c in found.indices[row] if c >= 0}
        shares.append(len(built & exact.keys()) / len(exact))
        built_scores = found.scores[row][found.indices[row] >= 0]
        score_shares.append(float(built_scores.sum()) / sum(exact.values()))
    if not shares:
        return {"recall_rows": 0}
    return {
        "recall_at_k": round(float(np.mean(shares)), 5),
        "recall_worst_row": round(float(np.min(shares)), 3),
        "score_share": round(float(np.mean(score_shares)), 5),
        "recall_rows": len(shares),
    }


# ---- HTTP -----------------------------------------------------------------------------


def serve(data_dir: Path, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GUPSHUP_LOG_LEVEL": "warning", "GUPSHUP_ACCESS_LOG": "false", **env}
    command = ["-c", "from api.cli import main; main()", "--data-dir", str(data_dir)]
    return subprocess.Popen(
        [sys.executable, *command, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def worker_rss_mb(pid: int, field: str = "VmRSS") -> list[float]:
    """RSS of each child of the supervisor (the workers, plus multiprocessing's small
    resource tracker), largest first. Only its children: a rebuild job a worker started is
    a grandchild, and is not a worker's memory."""
    children = [
        int(p)
        for task in Path(f"/proc/{pid}/task").glob("*/children")
        for p in task.read_text().split()
    ]
    return sorted((round(rss_mb(p, field), 1) for p in children), reverse=True)


def drive(
    data_dir: Path,
    endpoints: dict[str, list[str]],
    clients: Iterable[int],
    seconds: int,
    workers: int,
    env: dict[str, str],
) -> dict[str, Any]:
    """One `gupshup serve`, each endpoint's paths under wrk at each client count."""
    port = free_port()
    proc = serve(data_dir, port, workers, env)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        try:
            wait_ready(port, proc)
            results["worker_rss_mb_start"] = worker_rss_mb(proc.pid)
            for endpoint, paths in endpoints.items():
                run_wrk(port, paths, 2, 3, Path(work))  # warm-up
                for count in clients:
                    results[f"{endpoint}@{count}"] = run_wrk(
                        port, paths, count, seconds, Path(work)
                    )
            results["worker_rss_mb_end"] = worker_rss_mb(proc.pid)
            results["worker_anon_mb_end"] = worker_rss_mb(proc.pid, "RssAnon")
            results["worker_pss_mb_end"] = worker_rss_mb(proc.pid, "Pss")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    return results


def http(
    data_dir: Path,
    log: list[str],
    ids: list[str],
    clients: list[int],
    seconds: int,
    workers: int,
    seed: int,
) -> dict[str, Any]:
    """Served defaults (search cache on), then search again with the cache off: the log
    repeats hot queries, and the second figure is what a cold or long-tail query costs."""
    rng = random.Random(seed)
    search = [f"/api/search?q={quote(q)}" for q in log]
    related = [f"/api/articles/{quote(rng.choice(ids), safe='')}/related" for _ in log]
    served = drive(data_dir, {"search": search, "related": related}, clients, seconds, workers, {})
    uncached = drive(
        data_dir,
        {"search_uncached": search},
        clients,
        seconds,
        workers,
        {"GUPSHUP_SEARCH_CACHE_SIZE": "0"},
    )
    return {
        **served,
        **{k: v for k, v in uncached.items() if k.startswith("search_uncached")},
        "log_entries": len(log),
        "log_distinct": len(set(log)),
    }


# ---- the run --------------------------------------------------------------------------


def inputs(articles: int, seed: int, queries: int) -> tuple[Path, list[str], list[str]]:
    """The corpus, the log timed in-process, and a longer one for HTTP (wrk cycles through
    its list; a list longer than a run serves keeps the repeats at the log's own rate).
    The shorter log is the longer one's beginning (same seed, same draws)."""
    corpus = corpus_path(articles, seed)
    if not corpus.exists():
        write_corpus(articles, corpus, seed)
    distinct = DISTINCT_QUERIES
    log_path = corpus.with_name(f"queries-{articles}-s{seed}-d{distinct}-{HTTP_LOG_ENTRIES}.txt")
    if not log_path.exists():
        log = query_log(read_records(corpus), distinct, HTTP_LOG_ENTRIES, seed)
        log_path.write_text("\n".join(log) + "\n", encoding="utf-8")
    long_log = log_path.read_text(encoding="utf-8").splitlines()
    return corpus, long_log[:queries], long_log


def stage(name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    print(f"[{datetime.now(UTC):%H:%M:%S}] {name} ...", file=sys.stderr, flush=True)
    value = fn()
    print(f"    {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return value


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus, log, http_log = stage("corpus", lambda: inputs(args.articles, args.seed, args.queries))
    records = read_records(corpus)
    report: dict[str, Any] = {
        "articles": len(records),
        "body_words_mean": round(sum(len(r["body"].split()) for r in records) / len(records), 1),
        "queries": len(log),
        "distinct_queries": len(set(log)),
    }
    tmp = Path(tempfile.mkdtemp(prefix="gupshup-scale-", dir=args.tmp))
    try:
        data_dir = tmp / "data"
        data_dir.mkdir()
        report["ingest"] = stage("ingest", lambda: ingest(corpus, data_dir))
        report["build"] = stage("build", lambda: build(data_dir, args.index_procs))
        report["library"] = stage("library", lambda: library(data_dir, log, args.seed))
        if not args.skip_peers:
            report["neighbours"] = stage("neighbours", lambda: neighbours_side_by_side(data_dir))
            report["peers"] = stage("peers", lambda: peers.search_peers(records, log, tmp))
        if not args.skip_http:
            ids = [r["id"] for r in records]
            report["http"] = stage(
                "http",
                lambda: http(
                    data_dir,
                    http_log,
                    ids,
                    args.clients,
                    args.http_seconds,
                    args.workers,
                    args.seed,
                ),
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=1000, help="query log entries timed")
    parser.add_argument("--index-procs", type=int, default=None, help="default: the build's own")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--http-seconds", type=int, default=10)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--tmp", type=Path, default=None, help="where the data dir goes")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--build-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_child:
        build_child(args.build_child, args.index_procs or BuildConfig().index_procs)
        return
    if args.index_procs is None:
        args.index_procs = BuildConfig().index_procs
    if not args.skip_http and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (or pass --skip-http)")
    command = " ".join(["python -m bench.scale", *sys.argv[1:]])
    report = {
        "name": f"scale-{label(args.articles)}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        **run(args),
    }
    out = args.out or RESULTS / f"scale-{label(args.articles)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    emit(report, out)
    write_markdown(out.parent)


if __name__ == "__main__":
    main()
