"""Full rebuilds as a separate process, so readers keep their CPU and a crash harms no one.

`start_rebuild` records a job and spawns `python -m index_data.rebuild`, which builds and
publishes a snapshot and reports progress into the job row. The parent reaps the child in a
thread; a child that dies leaves the job marked failed and the build lock free (flock).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from index_data.build import BuildConfig, build_snapshot
from index_data.errors import BuildInProgress, IndexDataError, SnapshotError
from index_data.jobs import Job, JobStore
from index_data.snapshots import SnapshotDir
from recommend.model import RelatedConfig
from recommend.vectorize import VectorizerConfig

PROGRESS_EVERY_SECONDS = 0.5


def config_to_json(config: BuildConfig) -> str:
    return json.dumps(asdict(config))


def config_from_json(text: str) -> BuildConfig:
    raw = json.loads(text)
    related = raw.pop("related")
    vectorizer = VectorizerConfig(**related.pop("vectorizer"))
    return BuildConfig(related=RelatedConfig(vectorizer=vectorizer, **related), **raw)


def start_rebuild(data_dir: str | Path, config: BuildConfig) -> Job:
    """Record a job and start the build process; BuildInProgress if one is already live."""
    holder = SnapshotDir(data_dir).lock_holder()
    if holder is not None:
        raise BuildInProgress(f"a build is already running ({holder})")
    jobs = JobStore(data_dir)
    try:
        job = jobs.create()
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "index_data.rebuild",
                    "--data-dir",
                    str(Path(data_dir).resolve()),
                    "--job",
                    job.id,
                    "--config",
                    config_to_json(config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C to the server does not kill a build half-way
            )
        except OSError as exc:
            jobs.fail(job.id, f"could not start the build process: {exc}")
            raise SnapshotError(f"could not start the build process: {exc}") from exc
        jobs.started(job.id, process.pid)
        threading.Thread(target=_reap, args=(data_dir, job.id, process), daemon=True).start()
        started = jobs.get(job.id)
        assert started is not None
        return started
    finally:
        jobs.close()


def _reap(data_dir: str | Path, job_id: str, process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate()
    if process.returncode != 0:
        jobs = JobStore(data_dir)
        try:
            job = jobs.get(job_id)
            if job is not None and job.state != "failed":
                tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
                jobs.fail(job_id, f"build process exited with {process.returncode}: {tail[0]}")
        finally:
            jobs.close()


def run_job(data_dir: str | Path, job_id: str, config: BuildConfig) -> int:
    """The child's side: build, publish, and keep the job row up to date."""
    jobs = JobStore(data_dir)
    jobs.started(job_id, os.getpid())
    counts: dict[str, int] = {}
    started: dict[str, str] = {}
    last = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        started.setdefault(stage, datetime.now(UTC).isoformat(timespec="milliseconds"))
        counts[stage] = counts.get(stage, 0) + done
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_SECONDS or counts[stage] >= total:
            jobs.progress(job_id, stage, counts[stage], total, started[stage])
            last = now

    try:
        result = build_snapshot(data_dir, config, publish=True, progress=progress, holder=job_id)
    except IndexDataError as exc:
        jobs.fail(job_id, str(exc))
        return 1
    jobs.succeed(job_id, result.snapshot_id)
    jobs.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one rebuild job (started by the API).")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    sys.exit(run_job(args.data_dir, args.job, config_from_json(args.config)))


if __name__ == "__main__":
    main()
