"""The README's screenshots: the demo pages over the bundled sample corpus, in Debian's Chromium.

    .venv/bin/python -m tests.browser.screenshots [--out docs]

A tool beside the browser tests (it shares their server helper), not a test itself.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from index_data.build import build_snapshot
from tests.api.server import Server
from tests.browser.conftest import CHROMIUM
from tests.conftest import ingest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample"


def shoot(page: Page, base: str, out: Path) -> list[Path]:
    written = [
        out / "search-page.png",
        out / "search-suggestions.png",
        out / "article-page.png",
        out / "search-phone.png",
    ]
    page.goto(f"{base}/?q=tom+cruise+train")
    page.locator(".hit mark").first.wait_for()
    page.screenshot(path=str(written[0]))
    # Typing again: the suggestions open over the results.
    search = page.get_by_role("combobox", name="Search stories")
    search.fill("")
    search.press_sequentially("iron mer", delay=20)
    page.get_by_role("option").first.wait_for()
    search.press("ArrowDown")
    page.screenshot(path=str(written[1]), clip={"x": 0, "y": 0, "width": 1100, "height": 400})

    page.goto(f"{base}/article/iron-meridian-trailer")
    page.locator("#related .gupshup-related-item").first.wait_for()
    page.screenshot(path=str(written[2]))

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/?q=shah+rukh+khan&category=bollywood")
    page.locator(".hit").first.wait_for()
    page.screenshot(path=str(written[3]))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ingest(data_dir, SAMPLE / "articles.jsonl", SAMPLE / "pages")
        build_snapshot(data_dir, publish=True)
        server = Server(data_dir, workers=1).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
                page = browser.new_page(viewport={"width": 1100, "height": 760})
                for path in shoot(page, f"http://127.0.0.1:{server.port}", args.out):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
