"""Soak: mixed search, related and suggest traffic at 8 clients for 10 minutes against
`gupshup serve --workers 2` on a composed corpus, with a full rebuild (admin API) and 100
incremental updates in the middle.

    python -m bench.soak --articles 30000 --minutes 10 --out bench/results/soak-30k.json

The rebuild starts a fifth of the way in; the traffic goes on for the minutes asked, and past
them if need be until it has run 2 minutes after the rebuild and updates are done (a rebuild
under this load takes several minutes). Traffic runs under Debian's `wrk` in back-to-back
windows (15 s each) over one shuffled list
of paths (60 % search from the Zipf query log, 25 % related by random id, 15 % suggest
prefixes). Each window is labelled by what the server was doing: before the rebuild, during it
(the job running, the updates arriving), after it. Reported per phase: requests, errors
(connect, read, timeouts), non-2xx answers, p50/p99 (the median and the worst window's), and
worker memory at every window, so a growth trend shows. Not a test: figures, with the date,
command and machine, go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.http_load import free_port, run_wrk, wait_ready
from bench.querylog import read_records
from bench.report import emit
from bench.scale import build, ingest, inputs, machine, serve, suggest_prefix, worker_rss_mb
from index_data.jobs import JobStore

TOKEN = "soak-token"
WINDOW_SECONDS = 15
UPDATES = 100


def traffic(records: list[dict[str, Any]], log: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    ids = [r["id"] for r in records]
    paths = [f"/api/search?q={quote(q)}" for q in log[:12_000]]
    paths += [f"/api/articles/{quote(rng.choice(ids), safe='')}/related" for _ in range(5_000)]
    paths += [f"/api/suggest?q={quote(suggest_prefix(q))}" for q in log[12_000:15_000]]
    rng.shuffle(paths)
    return paths


def admin(port: int, method: str, path: str, body: object = None) -> tuple[int, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        answer = conn.getresponse()
        raw = answer.read()
        return answer.status, json.loads(raw) if raw else None
    finally:
        conn.close()


class Disturbance:
    """The rebuild and the updates, started at a moment and watched from a thread."""

    def __init__(self, port: int, data_dir: Path, records: list[dict[str, Any]]) -> None:
        self.port = port
        self.data_dir = data_dir
        self.records = records
        self.started = 0.0
        self.finished = 0.0
        self.job: dict[str, Any] = {}
        self.updates_ok = 0
        self.update_failures: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        status, accepted = admin(self.port, "POST", "/api/admin/reindex")
        assert status == 202, accepted
        rng = random.Random(3)
        for n in range(UPDATES):
            source = rng.choice(self.records)
            story = {
                "title": f"Soak update {n}: {source['title']}",
                "body": source["body"],
                "category": source.get("category") or "news",
            }
            status, body = admin(self.port, "PUT", f"/api/admin/articles/soak-{n}", story)
            if status == 200:
                self.updates_ok += 1
            else:
                self.update_failures.append(f"{status} {body}")
            time.sleep(1.0)
        while True:
            jobs = JobStore(self.data_dir)
            try:
                job = jobs.get(accepted["job_id"])
            finally:
                jobs.close()
            if job is not None and job.state in ("succeeded", "failed"):
                self.job = job.to_json()
                break
            time.sleep(1.0)
        self.finished = time.monotonic()


def summarize(windows: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for phase in ("before", "during", "after"):
        mine = [w for w in windows if w["phase"] == phase]
        if not mine:
            continue
        found[phase] = {
            "windows": len(mine),
            "requests": sum(w["requests"] for w in mine),
            "errors": sum(w["errors"] for w in mine),
            "non2xx": sum(w["non2xx"] for w in mine),
            "p50_ms_median": round(statistics.median(w["p50_ms"] for w in mine), 2),
            "p99_ms_median": round(statistics.median(w["p99_ms"] for w in mine), 2),
            "p99_ms_worst": round(max(w["p99_ms"] for w in mine), 2),
            "rps": round(sum(w["requests"] for w in mine) / sum(w["seconds"] for w in mine), 1),
        }
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus, _, long_log = inputs(args.articles, args.seed, 1000)
    records = read_records(corpus)
    paths = traffic(records, long_log, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="gupshup-soak-"))
    try:
        data_dir = tmp / "data"
        data_dir.mkdir()
        report: dict[str, Any] = {"articles": len(records)}
        report["ingest"] = ingest(corpus, data_dir)
        report["build"] = build(data_dir, 0)
        port = free_port()
        proc = serve(data_dir, port, 2, {"GUPSHUP_ADMIN_TOKEN": TOKEN})
        windows: list[dict[str, Any]] = []
        disturbance = Disturbance(port, data_dir, records)
        try:
            wait_ready(port, proc)
            report["worker_rss_mb_start"] = worker_rss_mb(proc.pid)
            began = time.monotonic()
            total = args.minutes * 60
            after = args.after_minutes * 60

            def going() -> bool:
                # The set length, and then as long as it takes to see `after` seconds of
                # traffic once the rebuild and the updates are done.
                if time.monotonic() - began < total:
                    return True
                if not disturbance.started or disturbance.running():
                    return True
                return time.monotonic() - disturbance.finished < after

            while going():
                elapsed = time.monotonic() - began
                if not disturbance.started and elapsed >= total * args.disturb_at:
                    disturbance.start()
                phase = (
                    "before"
                    if not disturbance.started
                    else ("during" if disturbance.running() else "after")
                )
                seconds = WINDOW_SECONDS
                result = run_wrk(port, paths, args.clients, seconds, tmp)
                result.update(
                    phase=phase,
                    at_s=round(elapsed, 1),
                    worker_rss_mb=worker_rss_mb(proc.pid),
                    worker_anon_mb=worker_rss_mb(proc.pid, "RssAnon"),
                )
                windows.append(result)
                print(
                    f"[{elapsed:6.0f} s] {phase}: {result['requests']} requests, "
                    f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}, "
                    f"non-2xx {result['non2xx']}",
                    flush=True,
                )
            # The run ends when the traffic does, but the updates and the rebuild are waited
            # for, so every acknowledged update can be looked for.
            disturbance.join(timeout=1800)
            report["worker_rss_mb_end"] = worker_rss_mb(proc.pid)
            report["worker_anon_mb_end"] = worker_rss_mb(proc.pid, "RssAnon")
            # Every acknowledged update is searchable at the end.
            visible = 0
            for n in range(disturbance.updates_ok):
                status, _body = admin(port, "GET", f"/api/articles/soak-{n}")
                visible += status == 200
            report["updates"] = {
                "sent": UPDATES,
                "acknowledged": disturbance.updates_ok,
                "failures": disturbance.update_failures[:5],
                "visible_at_end": visible,
            }
            report["rebuild"] = {
                "job": disturbance.job,
                "seconds": round(disturbance.finished - disturbance.started, 1)
                if disturbance.finished
                else None,
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        report["windows"] = windows
        report["phases"] = summarize(windows)
        report["totals"] = {
            "requests": sum(w["requests"] for w in windows),
            "errors": sum(w["errors"] for w in windows),
            "non2xx": sum(w["non2xx"] for w in windows),
        }
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def markdown(report: dict[str, Any]) -> str:
    windows = report["windows"]
    ran = (windows[-1]["at_s"] + windows[-1]["seconds"]) / 60 if windows else 0.0
    lines = [
        (
            f"# Soak: {report['articles']:,} articles, {report['clients']} clients, 2 workers, "
            f"{report['minutes']:g} minutes asked, {ran:.1f} minutes of traffic"
        ),
        "",
        f"Measured {report['date']} with `{report['command']}` on {report['machine']}.",
        (
            "The traffic goes on past the minutes asked until it has run 2 minutes after the "
            "rebuild and the updates are done."
        ),
        "",
        (
            "| phase | windows | requests | errors | non-2xx | req/s | p50 (median window) "
            "| p99 (median window) | p99 (worst window) |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for phase, row in report["phases"].items():
        lines.append(
            f"| {phase} | {row['windows']} | {row['requests']:,} | {row['errors']} | "
            f"{row['non2xx']} | {row['rps']} | {row['p50_ms_median']} ms | "
            f"{row['p99_ms_median']} ms | {row['p99_ms_worst']} ms |"
        )
    totals, updates, rebuild = report["totals"], report["updates"], report["rebuild"]
    rss = [w["worker_rss_mb"][:2] for w in windows]
    anon = [w["worker_anon_mb"][:2] for w in windows]
    lines += [
        "",
        (
            f"Totals: {totals['requests']:,} requests, {totals['errors']} errors, "
            f"{totals['non2xx']} non-2xx."
        ),
        (
            f"Rebuild through the admin API: {rebuild['job'].get('state')} in "
            f"{rebuild['seconds']} s. Updates: {updates['acknowledged']} of {updates['sent']} "
            f"acknowledged, {updates['visible_at_end']} readable at the end."
        ),
        f"Worker memory (RSS, MB) at start {report['worker_rss_mb_start'][:2]}, end "
        f"{report['worker_rss_mb_end'][:2]}; private (RssAnon) per window: "
        + ", ".join(f"{a[0]:.0f}/{a[1]:.0f}" for a in anon if len(a) >= 2),
        "",
        "RSS per window: " + ", ".join(f"{r[0]:.0f}/{r[1]:.0f}" for r in rss if len(r) >= 2),
        "",
        (
            "(Runs before 2026-11-29 09:00 UTC counted the two largest processes under the server, "
            "so while the rebuild ran one of the pair was the rebuild job; the bench now counts "
            "the server's own children.)"
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=30_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--disturb-at", type=float, default=0.2, help="share of the run")
    parser.add_argument(
        "--after-minutes", type=float, default=2, help="traffic kept up after the rebuild"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    report = run(args)
    report.update(
        date=started,
        command=f"python -m bench.soak --articles {args.articles} --minutes {args.minutes:g} "
        f"--out {args.out}",
        machine=machine(),
        minutes=args.minutes,
        clients=args.clients,
    )
    emit(report, args.out)
    args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")


def rewrite_markdown(json_path: Path) -> None:
    """The markdown of a saved run again (after a change to this report's layout)."""
    report = json.loads(json_path.read_text(encoding="utf-8"))
    json_path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")


if __name__ == "__main__":
    main()
