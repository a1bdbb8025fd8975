"""Browser fixtures: one real `gupshup serve`, one headless Debian Chromium, and two plain page
servers on other origins, all shared by the session. Each test gets a fresh browser context
(no cookies or cache carried over) and leaves a screenshot in test-artifacts/ if it fails."""

from __future__ import annotations

import functools
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from index_data.build import build_snapshot
from tests.api.server import Server
from tests.conftest import ARTICLES, PAGES, ingest

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Markup in every text field a page shows; any of it running sets window.__pwned.
HOSTILE = {
    "id": "hostile-cruise-spoilers",
    "title": '<img src=x onerror="window.__pwned=1"> Cruise ship spoilers '
    "<script>window.__pwned=1</script>",
    "body": "Spoilers from the dating reality show on the luxury cruise ship leaked before "
    '<img src=x onerror="window.__pwned=1"> the finale: fans say the <b>couple</b> in the '
    "final episode split up on the ship's last night at sea.",
    "url": "javascript:window.__pwned=1",
    "category": "tv-streaming",
    "tags": ["<i>quiz</i>"],
    "author": "<b>Nobody</b>",
    "published_at": "2025-06-01",
}


def monsoon_fillers(count: int = 11) -> list[dict[str, object]]:
    """Enough stories on one word for two pages of results."""
    return [
        {
            "id": f"monsoon-box-office-week-{n}",
            "title": f"Monsoon box office report, week {n}",
            "body": f"Week {n} of the monsoon season brought {n * 7} crore to cinemas, "
            f"with {n + 2} new releases and rain in {n} cities.",
            "category": "box-office" if n % 2 else "bollywood",
            "published_at": f"2025-08-{n:02d}",
        }
        for n in range(1, count + 1)
    ]


@dataclass(frozen=True)
class Site:
    """Where things are: the API (which also serves the demo pages) and two other origins."""

    api: str
    allowed: str  # an origin in GUPSHUP_CORS_ORIGINS
    refused: str  # an origin that is not
    folder: Path  # what both other origins serve: tests write their host pages here


def api_json(site: Site, path: str, **params: object) -> dict[str, Any]:
    """The oracle: what the public API answers, read without a browser."""
    with urllib.request.urlopen(f"{site.api}{path}?{urlencode(params)}", timeout=10) as answer:
        body: dict[str, Any] = json.loads(answer.read())
    return body


def _serve_folder(folder: Path) -> ThreadingHTTPServer:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _origin(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    extra = data_dir / "extra.jsonl"
    records = [HOSTILE, *monsoon_fillers()]
    extra.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest(data_dir, ARTICLES, PAGES, extra)
    build_snapshot(data_dir, publish=True)
    # The other origins serve a folder the widget tests write their pages into; they must
    # be listening before the API starts, since its CORS list names one of them.
    pages = tmp_path_factory.mktemp("other-origin")
    allowed, refused = _serve_folder(pages), _serve_folder(pages)
    api = Server(
        data_dir,
        workers=1,
        env={"GUPSHUP_CORS_ORIGINS": _origin(allowed), "GUPSHUP_RECENCY_WEIGHT": "0"},
    ).start()
    try:
        yield Site(f"http://127.0.0.1:{api.port}", _origin(allowed), _origin(refused), pages)
    finally:
        api.stop()
        for server in (allowed, refused):
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


OUTCOMES = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(OUTCOMES, {})[report.when] = report
    return report


@pytest.fixture()
def page(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context and page at desktop width; fails the test on any uncaught script
    error, and saves a full-page screenshot when the test failed."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, base_url=site.api)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    outcome = request.node.stash.get(OUTCOMES, {}).get("call")
    if outcome is not None and outcome.failed:
        ARTEFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for number, each in enumerate(context.pages):
            each.screenshot(path=str(ARTEFACTS / f"{name}-{number}.png"), full_page=True)
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
