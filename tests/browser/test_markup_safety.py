"""Markup in titles, bodies, tags, urls and queries is shown as text and never runs."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import HOSTILE, Site

MARKUP_TITLE = "<script>alert('x')</script> & the coding quiz show"  # from the fixture corpus


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img, main script, main b, main i").count() == 0


def test_search_page_shows_markup_as_text(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/")
    search = page.get_by_role("combobox", name="Search stories")
    search.press_sequentially("cruise sh", delay=30)
    expect(page.get_by_role("option", name=f"{HOSTILE['title']} story")).to_be_visible()
    assert_nothing_ran(page)

    page.goto("/?q=show")
    expect(page.locator(".hit-title")).to_contain_text([MARKUP_TITLE, str(HOSTILE["title"])])
    hostile = page.locator(".hit", has_text="Cruise ship spoilers")
    expect(hostile.locator(".meta")).to_contain_text("<b>Nobody</b>")
    expect(hostile.locator(".snippet")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(hostile.locator(".snippet")).to_contain_text("<b>couple</b>")
    assert {m.lower() for m in page.locator(".snippet mark").all_inner_texts()} == {"show", "shows"}
    assert_nothing_ran(page)

    # A query full of markup is echoed as text too.
    page.goto("/?q=%3Cimg+src%3Dx+onerror%3D%22window.__pwned%3D1%22%3E+quiz")
    expect(page.locator("#status")).to_contain_text('<img src=x onerror="window.__pwned=1"> quiz')
    assert_nothing_ran(page)
    assert dialogs == []


def test_article_page_shows_markup_as_text_and_drops_a_javascript_url(page: Page) -> None:
    page.goto(f"/article/{HOSTILE['id']}")
    expect(page.locator("h1")).to_have_text(str(HOSTILE["title"]))
    expect(page.locator("#story-body")).to_contain_text("the <b>couple</b> in")
    expect(page.locator("#story-tags")).to_have_text("<i>quiz</i>")
    expect(page.locator("#story-source")).to_be_hidden()
    related = page.locator("#related .gupshup-related-item")
    expect(related.filter(has_text=MARKUP_TITLE)).to_have_count(1)
    expect(related.first).to_contain_text("Dating reality show moves to a luxury cruise ship")
    assert page.title().startswith(str(HOSTILE["title"]))
    assert_nothing_ran(page)


def test_widget_never_links_to_a_javascript_url(page: Page, site: Site) -> None:
    (site.folder / "quiz.html").write_text(
        f'<!doctype html><script src="{site.api}/static/gupshup.js" defer></script>'
        '<div id="related" data-gupshup-related="markup-title"></div>',
        encoding="utf-8",
    )
    page.goto(f"{site.allowed}/quiz.html")
    hostile = page.locator("#related .gupshup-related-item", has_text=str(HOSTILE["title"]))
    expect(hostile).to_have_count(1)
    expect(hostile.locator("a")).to_have_count(0)  # shown, but not as a link
    assert page.evaluate("window.__pwned") is None
