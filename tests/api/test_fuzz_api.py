"""Property-based fuzzing of the whole public and admin API from its own OpenAPI schema
(schemathesis), against a real `gupshup serve`: no 5xx, answers as the schema says, and every
4xx in the one JSON error shape. Bounded (EXAMPLES per operation, derandomized) so the suite
stays fast and a failure reproduces."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from index_data.build import build_snapshot
from index_data.jobs import JobStore
from tests.api.server import Server
from tests.conftest import ARTICLES, PAGES, ingest

TOKEN = "fuzz-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 25
FUZZED: dict[str, int] = {}  # requests sent per operation and mode (README figures)
# Every check schemathesis has, but one: "schema-valid data is accepted" cannot hold for
# limits a schema cannot state (page x per_page <= GUPSHUP_MAX_RESULT_DEPTH, dates that must
# parse, an article id that must exist); those answers are 4xx in the error shape, which the
# other checks and `error_shape` still hold them to.
NOT_CHECKED = [checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    ingest(data_dir, ARTICLES, PAGES)
    build_snapshot(data_dir, publish=True)
    env = {
        "GUPSHUP_ADMIN_TOKEN": TOKEN,
        "GUPSHUP_ACCESS_LOG": "false",
        # schemathesis sends a wrong token to every admin operation, many times, and checks
        # for 401: the throttle of failed logins (tests/api/test_security.py) would say 429.
        "GUPSHUP_ADMIN_LOGIN_FAILURES": "0",
    }
    running = Server(data_dir, workers=1, env=env).start()
    try:
        yield running
    finally:
        # Rebuilds the fuzzer started run in processes of their own: let them end first.
        deadline = time.monotonic() + 120
        while _live_job(data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        running.stop()


def _live_job(data_dir: Path) -> bool:
    jobs = JobStore(data_dir)
    try:
        return jobs.live() is not None
    finally:
        jobs.close()


def error_shape(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx carries {"error": {"code", "message", "field"}}, with a readable message."""
    if 400 <= response.status_code < 500:
        body = json.loads(response.content)
        error = body["error"]
        assert set(error) >= {"code", "message", "field"}, body
        assert isinstance(error["message"], str) and error["message"], body
        assert "Traceback" not in error["message"], body


def test_api_holds_up_to_generated_requests(fuzzed_server: Server) -> None:
    # schemathesis's own pytest plugin does not run under this pytest; its strategies are
    # driven by hypothesis directly, one operation at a time.
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{fuzzed_server.port}/openapi.json")
    sent: dict[str, int] = {}
    for found in schema.get_all_operations():
        operation = found.ok()
        for mode in GenerationMode:  # requests the schema allows, then ones it forbids
            label = f"{operation.label} ({mode.value})"
            sent[label] = 0
            try:
                _fuzz(operation.as_strategy(generation_mode=mode), label, sent)()
            except Unsatisfiable:
                # Nothing to break in a request without parameters or body (/healthz).
                assert mode is GenerationMode.NEGATIVE, label
                del sent[label]
    FUZZED.update(sent)
    assert len(sent) >= 28 and all(sent.values()), sent  # every operation was exercised
    assert sum(sent.values()) >= 650, sent  # the README's figure (678)


def _fuzz(cases: Any, label: str, sent: dict[str, int]) -> Any:
    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        sent[label] += 1
        case.call_and_validate(
            headers=AUTH, additional_checks=[error_shape], excluded_checks=NOT_CHECKED
        )

    return call


def test_the_fuzzed_server_still_serves_its_articles(fuzzed_server: Server) -> None:
    print(f"fuzzed: {sum(FUZZED.values())} requests", FUZZED)
    """Whatever the fuzzer sent, the published snapshot still answers (ordering: pytest
    runs this after the generated requests, in file order)."""
    status, body = fuzzed_server.json("GET", "/api/search?q=cruise")
    assert status == 200 and body["total"] >= 1  # type: ignore[index]
