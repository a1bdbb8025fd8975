"""The HTTP API through TestClient (lifespan running) on the fixture snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.fixture(scope="module")
def client(built_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=built_dir))) as test_client:
        yield test_client


def error_of(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]  # type: ignore[no-any-return]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["article_count"] == 14
    assert ready.headers["X-Snapshot-Id"] == ready.json()["snapshot_id"]


def test_search(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "tom cruise train", "per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "query",
        "corrected_query",
        "total",
        "page",
        "per_page",
        "took_ms",
        "snapshot_id",
        "hits",
        "facets",
    }
    assert body["total"] == 5 and len(body["hits"]) == 2
    assert {h["id"] for h in body["hits"]} == {"cruise-train-stunt", "cruise-train-stunt-wire"}
    assert body["facets"]["category"] == {"hollywood": 3, "bollywood": 1, "tv-streaming": 1}
    assert response.headers["X-Snapshot-Id"] == body["snapshot_id"]
    hit = body["hits"][0]
    assert set(hit) == {
        "id",
        "title",
        "url",
        "category",
        "author",
        "published_at",
        "score",
        "snippet",
    }
    assert "<mark>" in hit["snippet"]


def test_search_filters_and_sort(client: TestClient) -> None:
    body = client.get(
        "/api/search",
        params={
            "q": "spy",
            "category": "bollywood",
            "from": "2025-09-01",
            "to": "2025-09-01",
            "sort": "newest",
        },
    ).json()
    assert [h["id"] for h in body["hits"]] == ["pathaan-2-trailer"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "spy", "per_page": 51}, "per_page"),
        ({"q": "spy", "page": 0}, "page"),
        ({"q": "spy", "page": 101, "per_page": 10}, "page"),
        ({"q": "spy", "from": "yesterday"}, "from"),
        ({"q": "spy", "sort": "oldest"}, "sort"),
    ],
)
def test_search_errors(client: TestClient, params: dict[str, object], field: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    assert error_of(response)["field"] == field


def test_missing_q_and_page_past_the_end(client: TestClient) -> None:
    assert error_of(client.get("/api/search"))["field"] == "q"
    past = client.get("/api/search", params={"q": "spy", "page": 5}).json()
    assert past["total"] == 7 and past["hits"] == []


def test_article(client: TestClient) -> None:
    body = client.get("/api/articles/pathaan-2-trailer").json()
    assert body["title"] == "Pathaan 2 trailer shows Shah Rukh Khan in a desert chase"
    assert body["tags"] == ["shah rukh khan", "pathaan 2", "trailer"]
    assert body["published_at"] == "2025-09-01T00:05:00+05:30"
    missing = client.get("/api/articles/no-such-story")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_related(client: TestClient) -> None:
    response = client.get("/api/articles/pathaan-2-announced/related", params={"limit": 2})
    body = response.json()
    assert body["id"] == "pathaan-2-announced"
    assert {i["id"] for i in body["items"]} == {"pathaan-2-trailer", "pathaan-2-box-office"}
    assert set(body["items"][0]) == {
        "id",
        "title",
        "url",
        "category",
        "published_at",
        "score",
        "shared_terms",
    }
    assert client.get("/api/articles/no-such/related").status_code == 404
    too_many = client.get("/api/articles/pathaan-2-announced/related", params={"limit": 51})
    assert too_many.status_code == 422 and error_of(too_many)["field"] == "limit"


def test_related_to_draft(client: TestClient) -> None:
    body = client.post(
        "/api/related",
        json={"title": "Pathaan sequel news", "body": "Shah Rukh Khan returns as the spy."},
    ).json()
    assert body["id"] is None and body["items"][0]["id"].startswith("pathaan-2")
    empty = client.post("/api/related", json={"title": " ", "body": ""})
    assert empty.status_code == 422


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_no_snapshot_published(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path))) as empty:
        assert empty.get("/healthz").status_code == 200
        assert empty.get("/readyz").status_code == 503
        response = empty.get("/api/search", params={"q": "spy"})
        assert response.status_code == 503 and error_of(response)["code"] == "not_ready"
