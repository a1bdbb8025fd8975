"""The demo pages and the widget as files the server sends (the browser tests drive them):
types and caching, no inline script, nothing loaded from elsewhere, and their weight."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages import STATIC_DIR
from api.settings import Settings

# Budgets with room to spare (the README gives the measured figures): a reader on a slow
# phone connection should have the whole page, uncompressed, in one or two round trips.
PAGE_BUDGET = 45_000
WIDGET_BUDGET = 16_000


@pytest.fixture(scope="module")
def client(built_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=built_dir))) as test_client:
        yield test_client


class Audit(HTMLParser):
    """What a page loads, and anything a strict script-src 'self' policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.inline += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        self.inline += [f"{tag} style" for name, _ in attrs if name == "style"]
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.inline.append("script without src")
        for name in ("src", "href"):
            if (tag, name) in {("script", "src"), ("link", "href"), ("img", "src")}:
                self.loads.append(values.get(name) or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline script text")


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", ["/", "/article/cruise-premiere", "/article/a/b:c@d"])
def test_pages_are_html_revalidated_on_every_visit(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"


def test_assets_are_served_with_types_validators_and_a_short_cache(client: TestClient) -> None:
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for file in STATIC_DIR.iterdir():
        if file.suffix not in types:
            continue
        answer = client.get(f"/static/{file.name}")
        assert answer.status_code == 200, file.name
        assert answer.headers["content-type"].startswith(types[file.suffix])
        assert answer.headers["cache-control"] == "public, max-age=300"
        again = client.get(
            f"/static/{file.name}", headers={"If-None-Match": answer.headers["etag"]}
        )
        assert again.status_code == 304
    assert client.get("/static/nothing-here.js").status_code == 404
    assert client.get("/static/%2e%2e/pages.py").status_code == 404


def test_pages_stay_out_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert [p for p in paths if p == "/" or p.startswith(("/article/", "/static"))] == []


@pytest.mark.parametrize("name", ["index.html", "article.html"])
def test_html_has_no_inline_script_and_loads_only_its_own_files(name: str) -> None:
    found = audit((STATIC_DIR / name).read_text(encoding="utf-8"))
    assert found.inline == []
    assert found.loads and all(url.startswith("/static/") for url in found.loads), found.loads
    for url in found.loads:
        assert (STATIC_DIR / url.removeprefix("/static/")).is_file(), url


def test_no_asset_names_another_host() -> None:
    for file in STATIC_DIR.iterdir():
        text = file.read_text(encoding="utf-8")
        if file.suffix == ".js":
            # Comments may show an embed snippet with a placeholder host.
            text = re.sub(r"/\*.*?\*/|^\s*//.*$", "", text, flags=re.S | re.M)
        hosts = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text)
        assert hosts in ([], ["http://www.w3.org"]), (file.name, hosts)


def test_page_and_widget_weights_stay_within_budget(client: TestClient) -> None:
    html = client.get("/").content
    assets = audit(html.decode()).loads
    page = len(html) + sum(len(client.get(url).content) for url in assets)
    widget = len(client.get("/static/gupshup.js").content)
    assert page <= PAGE_BUDGET, page
    assert widget <= WIDGET_BUDGET, widget


def test_static_files_ship_with_the_package() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.search(r'\[tool\.setuptools\.package-data\]\s*\napi = \["static/\*"\]', pyproject)
    assert {"index.html", "article.html", "gupshup.js"} <= {f.name for f in STATIC_DIR.iterdir()}


def test_static_files_count_under_one_route_in_the_metrics(client: TestClient) -> None:
    client.get("/static/style.css")
    client.get("/static/gupshup.js")
    metrics = client.get("/metrics").text
    assert 'gupshup_http_requests_total{method="GET",route="/static",status="200"}' in metrics


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    css = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    colour = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6});", css))
    # (text, background) pairs the stylesheet uses for text.
    pairs = [
        ("ink", "paper"),
        ("muted", "paper"),
        ("muted", "wash"),
        ("accent", "paper"),
        ("accent", "wash"),
        ("accent-ink", "accent"),
        ("ink", "mark"),
    ]
    ratios = {(t, b): round(contrast(colour[t], colour[b]), 2) for t, b in pairs}
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
