"""Security headers on every answer, and the optional per-client rate limit (api/security.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import TokenBuckets
from api.settings import Settings


@pytest.fixture(scope="module")
def client(built_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=built_dir))) as test_client:
        yield test_client


def test_pages_carry_a_strict_policy(client: TestClient) -> None:
    for path in ("/", "/article/cruise-premiere"):
        answer = client.get(path)
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "http" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_api_answers_and_errors_are_nosniff(client: TestClient) -> None:
    for path, status in (("/api/search?q=spy", 200), ("/api/articles/nope", 404), ("/x", 404)):
        answer = client.get(path)
        assert answer.status_code == status
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in answer.headers  # JSON is not rendered


def test_the_api_docs_page_may_load_its_cdn(client: TestClient) -> None:
    policy = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy


def test_token_buckets_refill_at_the_rate() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token needs half a second at 2/s
    assert buckets.take("b") == 0.0  # another client has its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 60
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # never more than the burst saved


def test_rate_limit_answers_429_with_retry_after(built_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=built_dir, rate_limit=0.01, rate_limit_burst=2)
    with TestClient(create_app(settings)) as limited:
        assert [limited.get("/api/search?q=spy").status_code for _ in range(2)] == [200, 200]
        answer = limited.get("/api/suggest?q=sp")
        assert answer.status_code == 429
        assert 1 <= int(answer.headers["retry-after"]) <= 100
        error = answer.json()["error"]
        assert error["code"] == "rate_limited" and "0.01 a second" in error["message"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        # Health, metrics and pages are never limited.
        for path in ("/healthz", "/readyz", "/metrics", "/"):
            assert limited.get(path).status_code == 200, path


def test_pages_answer_head_with_the_same_headers(client: TestClient) -> None:
    for path in ("/", "/article/cruise-premiere"):
        answer = client.head(path)
        assert answer.status_code == 200 and answer.content == b""
        assert "script-src 'self'" in answer.headers["content-security-policy"]
