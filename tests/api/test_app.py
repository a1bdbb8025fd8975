"""The HTTP API through TestClient (lifespan running) on the fixture snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import NOT_BLANK
from api.settings import Settings

ORIGIN = "https://news.example"


@pytest.fixture(scope="module")
def client(built_dir: Path) -> Iterator[TestClient]:
    # Recency off: these tests check pure BM25F order.
    settings = Settings(data_dir=built_dir, recency_weight=0, cors_origins=[ORIGIN])
    with TestClient(create_app(settings)) as test_client:
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
    ("to", "expected"),
    [("2025-09-01T00:10:00+05:30", ["pathaan-2-trailer"]), ("2025-09-01T00:04:00+05:30", [])],
)
def test_date_bounds_with_an_offset_are_read_on_the_publishers_clock(
    client: TestClient, to: str, expected: list[str]
) -> None:
    """The trailer was published at 00:05 on 1 September, India time (+05:30), and the index
    keeps that wall-clock time: bounds written with the same offset are read the same way
    (converted to UTC, the "to" bound fell on 31 August and nothing was found)."""
    params = {"q": "spy", "category": "bollywood", "from": "2025-09-01T00:00:00+05:30", "to": to}
    body = client.get("/api/search", params=params).json()
    assert [h["id"] for h in body["hits"]] == expected


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
    # The two closest: the trailer and the Hindi review (aliases make पठान "Pathaan").
    assert {i["id"] for i in body["items"]} == {"pathaan-2-trailer", "pathaan-2-review-hi"}
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


def test_suggest(client: TestClient) -> None:
    body = client.get("/api/suggest", params={"q": "tom cr"}).json()
    assert body["completions"][0] == "tom cruise"
    assert {t["id"] for t in body["titles"]} == {
        "cruise-train-stunt",
        "cruise-train-stunt-wire",
        "cruise-premiere",
    }
    assert client.get("/api/suggest", params={"q": "path"}).json()["completions"] == ["pathaan"]
    hindi = client.get("/api/suggest", params={"q": "शाह"}).json()
    # The starter alias list's names come first (both scripts: the fixture corpus writes the
    # name both ways), then the indexed word, which folds to the alias's "शाहरुख़" and so is
    # listed once.
    assert hindi["completions"] == ["शाहरुख़ ख़ान", "shah rukh khan", "शाहरुख़"]
    assert hindi["titles"][0]["id"] == "pathaan-2-review-hi"
    # A word typed whole also completes to its indexed spelling variant.
    assert client.get("/api/suggest", params={"q": "pathan"}).json()["completions"][0] == "pathaan"
    assert client.get("/api/suggest", params={"q": " "}).status_code == 422
    assert client.get("/api/suggest", params={"q": "to", "limit": 21}).status_code == 422


def test_did_you_mean(client: TestClient) -> None:
    typo = client.get("/api/search", params={"q": "tom crusie"}).json()
    assert typo["corrected_query"] == "tom cruise"
    assert client.get("/api/search", params={"q": "trailr"}).json()["corrected_query"] == "trailer"
    assert client.get("/api/search", params={"q": "spy"}).json()["corrected_query"] is None
    # Nothing near enough: no suggestion rather than a wild one.
    assert client.get("/api/search", params={"q": "xylophone"}).json()["corrected_query"] is None


def test_etag_and_304(client: TestClient) -> None:
    first = client.get("/api/search", params={"q": "spy", "page": 1})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get(
        "/api/search", params={"page": 1, "q": "spy"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag and again.headers["X-Snapshot-Id"]
    other = client.get(
        "/api/search", params={"q": "spy", "page": 2}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200 and other.headers["ETag"] != etag
    related = client.get("/api/articles/pathaan-2-trailer/related")
    assert related.headers["ETag"] and related.headers["Cache-Control"] == "public, max-age=60"


def test_cors(client: TestClient) -> None:
    allowed = client.get("/api/search", params={"q": "spy"}, headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-snapshot-id" in allowed.headers["access-control-expose-headers"].lower()
    preflight = client.options(
        "/api/related",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    other = client.get(
        "/api/search", params={"q": "spy"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_errors_carry_the_snapshot_id(client: TestClient) -> None:
    missing = client.get("/api/articles/no-such-story")
    assert missing.status_code == 404 and missing.headers["X-Snapshot-Id"]
    assert "ETag" not in missing.headers


def test_metrics(client: TestClient) -> None:
    client.get("/api/search", params={"q": "spy"})
    client.get("/api/articles/no-such-story")
    text = client.get("/metrics").text
    assert 'gupshup_http_requests_total{method="GET",route="/api/search",status="200"}' in text
    assert (
        'gupshup_http_requests_total{method="GET",route="/api/articles/{article_id:path}",'
        'status="404"}'
    ) in text
    assert 'gupshup_http_request_duration_seconds_bucket{le="0.1",route="/api/search"}' in text
    snapshot_id = client.get("/readyz").json()["snapshot_id"]
    assert f'gupshup_snapshot_info{{snapshot_id="{snapshot_id}"}} 1.0' in text
    assert "gupshup_snapshot_articles 14.0" in text


def test_access_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="gupshup.access"):
        client.get("/api/search", params={"q": "spy"})
    line = json.loads(caplog.records[-1].getMessage())
    assert line["route"] == "/api/search" and line["status"] == 200
    assert line["snapshot_id"] and line["duration_ms"] > 0


@pytest.mark.parametrize(
    "q",
    [
        "AND",
        '"unbalanced',
        "title:",
        "*",
        "~",
        "tom~2",
        "🎬🍿",
        "शाहरुख़ ख़ान",
        "-",
        "(((",
        "x" * 200,
    ],
)
def test_accidental_syntax_is_never_an_error(client: TestClient, q: str) -> None:
    assert client.get("/api/search", params={"q": q}).status_code == 200


def test_ten_thousand_characters_is_the_documented_422(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "a " * 5_000})
    assert response.status_code == 422 and error_of(response)["field"] == "q"


def test_openapi_states_the_limits(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    def params(path: str) -> dict[str, dict[str, object]]:
        return {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}

    search = params("/api/search")
    assert set(search) == {
        "q",
        "page",
        "per_page",
        "category",
        "author",
        "tag",
        "from",
        "to",
        "sort",
    }
    assert search["per_page"]["maximum"] == 50 and search["page"]["minimum"] == 1
    assert search["q"]["maxLength"] == 200
    assert params("/api/articles/{article_id}/related")["limit"]["maximum"] == 50
    assert params("/api/suggest")["limit"]["maximum"] == 20
    draft = schema["components"]["schemas"]["DraftRequest"]["properties"]
    assert draft["limit"]["maximum"] == 50 and draft["body"]["maxLength"] == 50_000


def test_category_filters_take_either_spelling(client: TestClient) -> None:
    for spelling in ("box-office", "Box Office", "BOX  office"):
        body = client.get("/api/search", params={"q": "pathaan", "category": spelling}).json()
        assert [h["id"] for h in body["hits"]] == ["pathaan-2-box-office"], spelling
        related = client.get(
            "/api/articles/pathaan-2-announced/related", params={"category": spelling}
        ).json()
        assert [i["id"] for i in related["items"]] == ["pathaan-2-box-office"], spelling


def test_a_broken_publish_keeps_the_good_snapshot_serving(tmp_path: Path) -> None:
    from index_data.build import build_snapshot
    from index_data.snapshots import SnapshotDir
    from tests.conftest import ARTICLES, ingest

    ingest(tmp_path, ARTICLES)
    good = build_snapshot(tmp_path, publish=True).snapshot_id
    with TestClient(create_app(Settings(data_dir=tmp_path))) as fresh:
        bad = build_snapshot(tmp_path).snapshot_id
        manifest = SnapshotDir(tmp_path).path(bad) / "manifest.json"
        manifest.write_text(manifest.read_text().replace(bad, "20200101T000000000Z-000000"))
        (tmp_path / "CURRENT").write_text(bad + "\n")  # as if published by an older tool
        holder = fresh.app.state.holder  # type: ignore[attr-defined]
        holder.refresh()
        ready = fresh.get("/readyz").json()
        assert ready["snapshot_id"] == good and "manifest names" in ready["problem"]
        assert fresh.get("/api/search", params={"q": "spy"}).status_code == 200
        newer = build_snapshot(tmp_path, publish=True).snapshot_id
        holder.refresh()
        assert fresh.get("/readyz").json()["snapshot_id"] == newer
        text = fresh.get("/metrics").text
        assert f'gupshup_snapshot_info{{snapshot_id="{good}"}} 0.0' in text
        assert f'gupshup_snapshot_info{{snapshot_id="{newer}"}} 1.0' in text


def test_a_body_that_is_not_utf8_json_is_a_clear_400(client: TestClient) -> None:
    for body in (b"\xff\xfe{", b'{"title": "\xc3"}'):
        answer = client.post(
            "/api/related", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, body
        assert answer.json()["error"] == {
            "code": "invalid_body",
            "message": "the request body is not valid UTF-8 JSON",
            "field": "body",
        }
    # JSON that is UTF-8 but does not parse is a 422 naming where it broke.
    answer = client.post(
        "/api/related", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_parameter"


def test_a_blank_query_is_refused_as_the_schema_says(client: TestClient) -> None:
    for q in ("", "   ", "\t"):
        answer = client.get("/api/search", params={"q": q})
        assert answer.status_code == 422
        assert answer.json()["error"]["message"] == "q must not be empty"
    spec = client.get("/openapi.json").json()
    q = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["schema"]["pattern"] == NOT_BLANK
