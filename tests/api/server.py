"""A real `gupshup serve` process for tests: start, wait until ready, stop or kill -9."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, workers: int = 2, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.workers = workers
        self.env = {**os.environ, "GUPSHUP_LOG_LEVEL": "warning", **(env or {})}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def start(self) -> Server:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from api.cli import main; main()",
                "--data-dir",
                str(self.data_dir),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group, so kill -9 reaches every worker
        )
        log.close()
        # Ready when every worker has answered /readyz with 200: a test that changes the
        # data dir right after start must not race a worker still loading its first
        # snapshot (it would load the changed one instead; a test once saw one worker only).
        deadline = time.monotonic() + 60
        ready: set[int] = set()
        while True:
            try:
                status, _, raw = self.request("GET", "/readyz")
                if status == 200:
                    ready.add(json.loads(raw)["worker_pid"])
                    if len(ready) >= self.workers:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                self.kill9()  # a server that never got ready is not left running
                raise RuntimeError(f"server did not start ({len(ready)} workers ready): {tail}")
            time.sleep(0.05 if ready else 0.2)

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection, so the kernel may hand it to either worker."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            sent = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers={**sent, **(headers or {})})
            response = conn.getresponse()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()

    def json(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, object]:
        status, _, raw = self.request(method, path, body, headers)
        return status, json.loads(raw) if raw else None

    def workers_at(self, predicate: object, timeout: float) -> tuple[float, set[int]]:
        """Seconds until every worker's /readyz satisfies `predicate` (or the timeout)."""
        started = time.monotonic()
        done: set[int] = set()
        while time.monotonic() - started < timeout and len(done) < self.workers:
            _, body = self.json("GET", "/readyz")
            assert isinstance(body, dict)
            if predicate(body):  # type: ignore[operator]
                done.add(body["worker_pid"])
        return time.monotonic() - started, done

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()

    def kill9(self) -> None:
        """SIGKILL to the whole process group: supervisor and workers die mid-flight."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):  # nothing of the group left
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
