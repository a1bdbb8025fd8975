"""gupshup.js on somebody else's page: another origin, calling the API across origins."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, api_json

# A news site's page: the two-line embed, plus a listener that records picks (and keeps the
# browser from following links to the fixture's made-up hosts).
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A news site</title>
<script src="{api}/static/gupshup.js" defer></script></head>
<body>
<form action="/results.html"><label>Search <input name="q" data-gupshup-search></label></form>
<div id="related" data-gupshup-related="{article_id}" data-gupshup-limit="3"></div>
<script>
window.picked = [];
document.addEventListener("gupshup:pick", (event) => {{
  window.picked.push(event.detail);
  if (event.detail.kind === "article") event.preventDefault();
}});
</script>
</body></html>
"""


def host_page(site: Site, name: str, article_id: str) -> str:
    (site.folder / name).write_text(
        HOST_PAGE.format(api=site.api, article_id=article_id), encoding="utf-8"
    )
    return name


def test_widget_fills_related_and_suggests_from_another_origin(page: Page, site: Site) -> None:
    page.goto(f"{site.allowed}/{host_page(site, 'story.html', 'cruise-premiere')}")
    assert page.evaluate("window.Gupshup.api") == site.api

    related = page.locator("#related")
    expect(related).to_have_attribute("data-gupshup-state", "ready")
    expect(related.get_by_role("heading")).to_have_text("Related Articles")
    items = related.locator(".gupshup-related-item")
    expect(items).to_have_count(3)
    expected = api_json(site, "/api/articles/cruise-premiere/related", limit=3)["items"]
    # Without a link template an item links to the story's own url; a story without an
    # http(s) one is listed as plain text.
    for n, item in enumerate(expected):
        title = items.nth(n).locator(".gupshup-related-title")
        expect(title).to_have_text(item["title"])
        if (item["url"] or "").startswith("https://"):
            expect(title).to_have_attribute("href", item["url"])
        else:
            expect(title).not_to_have_attribute("href", re.compile("."))

    search = page.get_by_role("combobox", name="Search")
    search.press_sequentially("pathaan", delay=30)
    story = page.locator(".gupshup-option-article").first
    expect(story).to_be_visible()
    story.click()
    picked = page.evaluate("window.picked")
    assert picked[0]["kind"] == "article" and picked[0]["id"].startswith("pathaan-2-")
    assert picked[0]["href"].startswith("https://fixture.example/")

    # A completion fills the box and submits the host's own form.
    search.fill("")
    search.press_sequentially("shah r", delay=30)
    expect(page.locator(".gupshup-option-query").first).to_be_visible()
    search.press("ArrowDown")
    search.press("Enter")
    # The first completion is the alias list's full name for what is typed.
    expect(page).to_have_url(re.compile(r"/results\.html\?q=shah\+rukh\+khan$"))


def test_an_origin_not_in_the_cors_list_gets_nothing(page: Page, site: Site) -> None:
    page.goto(f"{site.refused}/{host_page(site, 'refused.html', 'cruise-premiere')}")
    related = page.locator("#related")
    expect(related).to_have_attribute("data-gupshup-state", "error")
    expect(related).to_be_empty()
    search = page.get_by_role("combobox", name="Search")
    search.press_sequentially("pathaan", delay=30)
    page.wait_for_timeout(500)  # well past the debounce and a local answer
    expect(page.get_by_role("listbox")).to_be_hidden()
