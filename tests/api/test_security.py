"""Security headers on every answer, and the optional per-client rate limit (api/security.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import TokenBuckets, client_key
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


def test_a_429_carries_cors_headers(built_dir: Path) -> None:
    origin = "https://news.example"
    settings = Settings(
        data_dir=built_dir, rate_limit=0.01, rate_limit_burst=1, cors_origins=[origin]
    )
    with TestClient(create_app(settings)) as limited:
        headers = {"Origin": origin}
        assert limited.get("/api/search?q=spy", headers=headers).status_code == 200
        answer = limited.get("/api/search?q=spy", headers=headers)
        assert answer.status_code == 429
        assert answer.headers["access-control-allow-origin"] == origin  # the page can read it


def test_ipv6_clients_share_a_bucket_per_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("testclient") == "testclient"


def test_guessing_the_admin_token_is_slowed_down(built_dir: Path) -> None:
    settings = Settings(data_dir=built_dir, admin_token="the-real-token")
    with TestClient(create_app(settings)) as admin:
        wrong = {"Authorization": "Bearer a-guess"}
        statuses = [admin.get("/api/admin/snapshots", headers=wrong).status_code for _ in range(11)]
        assert statuses == [401] * 10 + [429]
        answer = admin.get("/api/admin/snapshots", headers=wrong)
        assert answer.status_code == 429 and 1 <= int(answer.headers["retry-after"]) <= 6
        assert answer.json()["error"]["code"] == "rate_limited"
        # The right token still works: only failures are counted.
        right = {"Authorization": "Bearer the-real-token"}
        assert admin.get("/api/admin/snapshots", headers=right).status_code == 200


def test_article_ids_that_look_like_paths_reach_no_file(
    built_dir: Path, client: TestClient
) -> None:
    for article_id in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd"):
        for path in (f"/api/articles/{article_id}", f"/api/articles/{article_id}/related"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["error"]["code"] == "not_found"
    settings = Settings(data_dir=built_dir, admin_token="t")
    with TestClient(create_app(settings)) as admin:
        answer = admin.put(
            "/api/admin/articles/..%2F..%2Fetc%2Fpasswd",
            json={"title": "x", "body": "y"},
            headers={"Authorization": "Bearer t"},
        )
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "id"


def test_blank_means_the_same_to_the_schema_and_the_server(client: TestClient) -> None:
    """The fuzzer found the schema allowing a blank q the server refused; `\\S` also differs
    between JSON Schema's, pydantic's and Python's regexes (U+001C, U+0085, U+FEFF)."""
    pattern = client.get("/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]
    q_pattern = next(p for p in pattern if p["name"] == "q")["schema"]["pattern"]
    for blank in ("\x1c", "\x85", "\ufeff", " \t\u3000"):
        assert re.search(q_pattern, blank) is None
        answer = client.get("/api/search", params={"q": blank})
        assert answer.status_code == 422, repr(blank)
        assert answer.json()["error"]["message"] == "q must not be empty"
    assert client.get("/api/search", params={"q": " \x1cspy "}).status_code == 200
