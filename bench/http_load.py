"""HTTP latency and throughput of `gupshup serve` under wrk, on one corpus.

    python -m bench.http_load --corpus ../shared/data/bbc-news/articles.jsonl --name bbc-news \
        --workers 2 --clients 1 8 --seconds 20 --out bench/results/http-bbc-news.json

Builds the corpus into a temporary data dir, starts a real `gupshup serve --workers N`, and
drives it with Debian's `wrk` (a Lua script cycling through request paths: 1-3 word queries
drawn from titles, seeded, and random article ids), reporting p50/p90/p99 latency and
requests/second per endpoint and client count. Needs `wrk` on PATH (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from bench.core_latency import title_queries
from bench.report import emit
from index_data.build import build_snapshot
from index_data.readers import read_paths
from index_data.store import ArticleStore

LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
-- Each wrk thread has its own Lua state: start them at different places in the list, so two
-- threads do not send the same request at the same moment (a result cache would flatter it).
local threads = 0
setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
init = function(args)
  i = (offset or 0) * math.floor(#paths / 2)
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local out = io.open("%s", "w")
  out:write(string.format('{"requests": %%d, "seconds": %%f, "errors": %%d, "non2xx": %%d, ',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  out:write(string.format('"p50_ms": %%f, "p90_ms": %%f, "p99_ms": %%f, "max_ms": %%f}',
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  out:close()
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server not ready")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the uvicorn workers), in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return round(total / 1024, 1)


def run_wrk(
    port: int, paths: list[str], clients: int, seconds: int, work: Path
) -> dict[str, float]:
    path_file = work / "paths.txt"
    path_file.write_text("\n".join(paths) + "\n")
    out = work / "wrk.json"
    script = work / "script.lua"
    script.write_text(LUA % (path_file, out))
    threads = min(2, clients)
    subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    result = json.loads(out.read_text())
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, work = Path(tmp) / "data", Path(tmp)
        with ArticleStore(data_dir / "articles.db") as store:
            for read in read_paths(list(args.corpus)):
                store.upsert_many(read.articles)
        build_snapshot(data_dir, publish=True)
        records = [
            json.loads(line)
            for path in args.corpus
            if path.suffix == ".jsonl"
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        rng = random.Random(args.seed)
        queries = title_queries([r["title"] for r in records], 2000, args.seed)
        ids = [r["id"] for r in records]
        endpoints = {
            "search": [f"/api/search?q={quote(q)}" for q in queries],
            "related": [
                f"/api/articles/{quote(rng.choice(ids), safe='')}/related" for _ in range(2000)
            ],
        }
        port = free_port()
        env = {**os.environ, "GUPSHUP_LOG_LEVEL": "warning", "GUPSHUP_ACCESS_LOG": "false"}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "--data-dir",
                str(data_dir),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(port, proc)
            memory_start = rss_mb(proc.pid)
            results: dict[str, dict[str, object]] = {}
            for endpoint, paths in endpoints.items():
                run_wrk(port, paths, 2, 3, work)  # warm-up
                for clients in args.clients:
                    results[f"{endpoint}@{clients}"] = run_wrk(
                        port, paths, clients, args.seconds, work
                    )
            memory_end = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    report = {
        "name": args.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.http_load "
        + " ".join(
            [
                "--corpus",
                *map(str, args.corpus),
                "--name",
                args.name,
                "--workers",
                str(args.workers),
                "--clients",
                *map(str, args.clients),
                "--seconds",
                str(args.seconds),
            ]
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "articles": len(ids),
        "workers": args.workers,
        "server_rss_mb_start": memory_start,
        "server_rss_mb_end": memory_end,
        "results": results,
    }
    emit(report, args.out)


if __name__ == "__main__":
    main()
