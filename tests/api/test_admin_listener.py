"""The admin API on a listener of its own (GUPSHUP_ADMIN_PORT), or off, on a real server."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

from tests.api.server import Server, free_port

TOKEN = "listener-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            conn.close()


def test_admin_api_answers_only_on_its_own_port(built_dir: Path) -> None:
    admin_port = free_port()
    env = {"GUPSHUP_ADMIN_TOKEN": TOKEN, "GUPSHUP_ADMIN_PORT": str(admin_port)}
    server = Server(built_dir, workers=1, env=env).start()
    try:
        # The public port: readers' API, no admin.
        assert server.request("GET", "/api/search?q=spy")[0] == 200
        assert server.request("GET", "/api/admin/snapshots", headers=AUTH)[0] == 404
        # The admin port: admin (token still required) and health, no readers' API.
        status, body = _get(admin_port, "/api/admin/snapshots", AUTH)
        assert status == 200 and json.loads(body)
        assert _get(admin_port, "/api/admin/snapshots")[0] == 401
        assert _get(admin_port, "/readyz")[0] == 200
        assert _get(admin_port, "/api/search?q=spy")[0] == 404
        assert _get(admin_port, "/")[0] == 404
    finally:
        server.stop()
    # Stopping the server stops the admin listener too (within a few seconds).
    deadline = time.monotonic() + 15
    while not _refused(admin_port):
        assert time.monotonic() < deadline, "the admin listener outlived the server"
        time.sleep(0.2)


def _refused(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/readyz")
        conn.getresponse().read()
        return False
    except OSError:
        return True
    finally:
        conn.close()


def test_without_a_token_the_admin_api_is_not_there(built_dir: Path) -> None:
    server = Server(built_dir, workers=1, env={"GUPSHUP_ADMIN_TOKEN": ""}).start()
    try:
        assert server.request("GET", "/api/admin/snapshots", headers=AUTH)[0] == 404
        assert server.request("GET", "/api/search?q=spy")[0] == 200
    finally:
        server.stop()
