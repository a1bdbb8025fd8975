"""Background jobs (full rebuilds) recorded in the store's database, readable by every worker.

A job row is created atomically only when no other rebuild is live, so two admins asking at
once get one job and one refusal. A job whose process died (`kill -9`, a crash) is reported as
failed the next time anyone looks at it: its pid is gone.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index_data.errors import BuildInProgress, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    stage TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    snapshot_id TEXT,
    stage_started_at TEXT,
    pid INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
LIVE_STATES = ("queued", "running")
STARTUP_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    state: str  # queued | running | succeeded | failed
    stage: str | None
    done: int
    total: int
    error: str | None
    snapshot_id: str | None
    pid: int | None
    stage_started_at: str | None
    created_at: str
    updated_at: str

    def rate(self) -> float | None:
        """Items per second in the current stage, as the CLI's progress bar shows it."""
        if not self.stage_started_at or not self.done:
            return None
        started = datetime.fromisoformat(self.stage_started_at)
        seconds = (datetime.fromisoformat(self.updated_at) - started).total_seconds()
        return round(self.done / seconds, 1) if seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": {
                "stage": self.stage,
                "done": self.done,
                "total": self.total,
                "per_second": self.rate(),
            },
            "error": self.error,
            "snapshot_id": self.snapshot_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but was not yet reaped is a zombie: dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


class JobStore:
    def __init__(self, data_dir: str | Path) -> None:
        path = Path(data_dir) / "articles.db"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            if "stage_started_at" not in columns:  # a data dir from before the column
                self._db.execute("ALTER TABLE jobs ADD COLUMN stage_started_at TEXT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the job table in {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def _row(self, job_id: str) -> Job | None:
        self._db.row_factory = sqlite3.Row
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        self._db.row_factory = None
        return Job(**dict(row)) if row else None

    def get(self, job_id: str) -> Job | None:
        job = self._row(job_id)
        if job is not None and job.state in LIVE_STATES and self._dead(job):
            self.fail(job.id, "the build process exited before finishing (killed or crashed)")
            job = self._row(job_id)
        return job

    @staticmethod
    def _dead(job: Job) -> bool:
        if job.pid is not None:
            return not pid_alive(job.pid)
        # Queued but never started: the server died between recording and starting it.
        created = datetime.fromisoformat(job.created_at)
        return (datetime.now(UTC) - created).total_seconds() > STARTUP_GRACE_SECONDS

    def live(self) -> Job | None:
        """The rebuild that is queued or running, if any (dead ones are marked failed)."""
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at"
            )
        ]
        for job_id in ids:
            job = self.get(job_id)
            if job is not None and job.state in LIVE_STATES:
                return job
        return None

    def create(self, kind: str = "rebuild") -> Job:
        """A new queued job, unless one is live (then BuildInProgress names it)."""
        self.live()  # mark dead ones failed first
        job_id = f"job-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        now = _now()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            running = self._db.execute(
                "SELECT id FROM jobs WHERE state IN ('queued', 'running')"
            ).fetchone()
            if running is not None:
                raise BuildInProgress(f"a rebuild is already running (job {running[0]})")
            self._db.execute(
                "INSERT INTO jobs (id, kind, state, created_at, updated_at) "
                "VALUES (?, ?, 'queued', ?, ?)",
                (job_id, kind, now, now),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        job = self._row(job_id)
        assert job is not None
        return job

    def _set(self, job_id: str, **fields: object) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(
            f"UPDATE jobs SET {names}, updated_at = ? WHERE id = ?",
            (*fields.values(), _now(), job_id),
        )

    def started(self, job_id: str, pid: int) -> None:
        self._set(job_id, state="running", pid=pid)

    def progress(
        self, job_id: str, stage: str, done: int, total: int, stage_started_at: str
    ) -> None:
        self._set(job_id, stage=stage, done=done, total=total, stage_started_at=stage_started_at)

    def succeed(self, job_id: str, snapshot_id: str) -> None:
        self._set(job_id, state="succeeded", snapshot_id=snapshot_id)

    def fail(self, job_id: str, error: str) -> None:
        self._set(job_id, state="failed", error=error[:2000])
