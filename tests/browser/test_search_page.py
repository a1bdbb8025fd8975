"""The demo site in Chromium: suggestions, results, facets, paging, sort, article pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, api_json


def state_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def hit_titles(page: Page) -> list[str]:
    return page.locator(".hit-title").all_inner_texts()


def test_suggest_pick_filter_open_article_and_its_related(page: Page, site: Site) -> None:
    page.goto("/")
    search = page.get_by_role("combobox", name="Search stories")
    search.press_sequentially("tom cr", delay=30)
    suggestions = page.get_by_role("listbox")
    expect(suggestions).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    first = suggestions.get_by_role("option").first
    expect(first).to_have_text("tom cruise")

    search.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"\?q=tom\+cruise$"))
    expect(suggestions).to_be_hidden()
    expect(page.locator(".hit mark").first).to_be_visible()
    marked = {text.lower() for text in page.locator(".hit mark").all_inner_texts()}
    assert marked <= {"tom", "cruise"}, marked
    everything = hit_titles(page)

    facet = page.locator("#facets a", has_text="tv-streaming")
    count = int(facet.locator(".count").inner_text())
    assert 0 < count < len(everything)
    facet.click()
    expect(page).to_have_url(re.compile(r"category=tv-streaming"))
    expect(page.locator(".hit")).to_have_count(count)
    expect(page.locator(".hit .meta")).to_contain_text(["tv-streaming"] * count)
    expect(page.locator('#facets a[aria-current="true"]')).to_contain_text("tv-streaming")
    # The other categories stay on offer while one is chosen.
    expect(page.locator("#facets a", has_text="hollywood")).to_be_visible()

    page.go_back()
    expect(page.locator(".hit")).to_have_count(len(everything))
    assert hit_titles(page) == everything

    page.locator(".hit-title a").first.click()
    expect(page).to_have_url(re.compile(r"/article/"))
    expect(page.locator("h1")).to_have_text(everything[0])
    related = page.locator("#related .gupshup-related-item a")
    expect(related.first).to_be_visible()
    article_id = urlsplit(page.url).path.removeprefix("/article/")
    expected = api_json(site, f"/api/articles/{article_id}/related", limit=5)
    titles = [item["title"] for item in expected["items"]]
    assert related.all_inner_texts() == titles

    related.first.click()
    expect(page.locator("h1")).to_have_text(titles[0])
    expect(page.locator("#related .gupshup-related-item").first).to_be_visible()


def test_keyboard_wraps_escape_closes_and_a_title_opens_its_article(page: Page) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/suggest" in r.url else None)
    page.goto("/")
    search = page.get_by_role("combobox", name="Search stories")
    search.press_sequentially("pathaan", delay=30)
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    # Debounced: seven quick keystrokes, one request (a slow machine may let one more out).
    assert 1 <= len(asked) <= 2, asked
    assert asked[-1].endswith("q=pathaan&limit=8")
    count = options.count()
    assert count >= 2

    search.press("ArrowUp")  # from the typed text up to the last option
    expect(options.nth(count - 1)).to_have_attribute("aria-selected", "true")
    search.press("ArrowDown")  # past the last: back to the typed text
    expect(search).not_to_have_attribute("aria-activedescendant", re.compile("."))
    search.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(search).to_have_value("pathaan")
    expect(search).to_have_attribute("aria-expanded", "false")

    search.press("ArrowDown")  # reopens
    story = page.locator(".gupshup-option-article").first
    expect(story).to_be_visible()
    title = story.inner_text().removesuffix("story").strip()
    story.click()
    expect(page).to_have_url(re.compile(r"/article/pathaan-2-"))
    expect(page.locator("h1")).to_have_text(title)


def test_did_you_mean_sort_pages_reload_and_back(page: Page, site: Site) -> None:
    page.goto("/?q=crusie+ship")
    offer = page.locator("#did-you-mean a")
    expect(offer).to_have_text("cruise ship")
    offer.click()
    expect(page).to_have_url(re.compile(r"\?q=cruise\+ship$"))
    expect(page.locator("#did-you-mean")).to_be_hidden()

    page.goto("/?q=monsoon")
    first_page = api_json(site, "/api/search", q="monsoon", per_page=10)
    assert first_page["total"] == 12
    expect(page.locator(".hit")).to_have_count(10)
    expect(page.locator("#status")).to_contain_text("1\u201310 of 12")
    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="2").click()
    expect(page.locator(".hit")).to_have_count(2)
    assert state_of(page)["page"] == ["2"]
    expect(page.locator("#results-heading")).to_be_focused()
    page.reload()
    expect(page.locator(".hit")).to_have_count(2)
    page.go_back()
    expect(page.locator(".hit")).to_have_count(10)

    page.goto("/?q=monsoon&page=5")
    expect(page.locator("#status")).to_contain_text("Page 5 is past the last of 12 stories")
    page.go_back()

    page.get_by_label("Sort by").select_option("newest")
    expect(page).to_have_url(re.compile(r"sort=newest"))
    newest = api_json(site, "/api/search", q="monsoon", per_page=10, sort="newest")
    titles = [hit["title"] for hit in newest["hits"]]
    expect(page.locator(".hit-title")).to_have_text(titles)
    page.go_back()
    expect(page.get_by_label("Sort by")).to_have_value("relevance")


def test_unknown_article_says_so(page: Page) -> None:
    page.goto("/article/no-such-story")
    expect(page.get_by_role("status")).to_contain_text("no story here")
    expect(page.locator("#related")).to_be_hidden()


def test_phone_width_is_one_column_without_sideways_scroll(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/?q=tom+cruise")
    expect(page.locator(".hit").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    facets = page.locator(".facets").bounding_box()
    hits = page.locator(".hits").bounding_box()
    assert facets is not None and hits is not None and facets["y"] < hits["y"]
    page.goto("/article/cruise-premiere")
    expect(page.locator("#related .gupshup-related-item").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_works_under_its_own_csp_and_loads_nothing_from_elsewhere(page: Page, site: Site) -> None:
    """The server sends a strict Content-Security-Policy with its pages (api/security.py):
    the pages must work under it, and every request is logged."""
    requested: list[str] = []
    violations: list[str] = []
    policies: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "response",
        lambda answer: (
            policies.append(answer.headers.get("content-security-policy", ""))
            if answer.request.resource_type == "document"
            else None
        ),
    )
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/")
    search = page.get_by_role("combobox", name="Search stories")
    search.press_sequentially("shah", delay=30)
    expect(page.get_by_role("option").first).to_be_visible()
    search.press("Enter")
    expect(page.locator(".hit mark").first).to_be_visible()
    page.locator(".hit-title a").first.click()
    expect(page.locator("#related .gupshup-related-item").first).to_be_visible()
    assert violations == []
    assert len(policies) == 2 and all("script-src 'self';" in p for p in policies), policies
    assert requested and all(url.startswith(site.api + "/") for url in requested), requested
