"""Snippets: the best passages of a body with matched words in <mark>, everything else escaped."""

from __future__ import annotations

import html
from typing import Any

from whoosh import highlight

SNIPPET_CHARS = 200


class MarkFormatter(highlight.Formatter):  # type: ignore[misc]
    """Wraps matches in <mark> and HTML-escapes every other character, so a snippet is safe
    to insert as HTML whatever the article contains."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return f"<mark>{html.escape(highlight.get_text(text, token, replace), quote=False)}</mark>"


def make_highlighter() -> highlight.Highlighter:
    return highlight.Highlighter(
        fragmenter=highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
        formatter=MarkFormatter(),
    )


def lead_snippet(body: str, limit: int = SNIPPET_CHARS) -> str:
    """The escaped opening of a body, cut at a word boundary (when nothing in it matched)."""
    text = " ".join(body.split())
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit] + " …"
    return html.escape(text, quote=False)
