"""Snippets: the best passage of a body with matched words in <mark>, everything else escaped.

Whoosh's highlighter runs the full analyzer (stemming included) over every word of every
hit's body, which measured at over half the time of a search on BBC News. This one scans the
body with the tokenizer's pattern and analyzes only words that could match (same first two
letters as a query term), then picks the window holding the most distinct query terms.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import lru_cache

from whoosh.analysis import Analyzer

from search.analysis import fold, fold_term, news_analyzer, tokens, word_spans

SNIPPET_CHARS = 220
_NEWS = news_analyzer()


def lead_snippet(body: str, limit: int = SNIPPET_CHARS) -> str:
    """The escaped opening of a body, cut at a word boundary (when nothing in it matched)."""
    text = " ".join(body.split())
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit] + " …"
    return html.escape(text, quote=False)


def find_matches(
    body: str, terms: Iterable[str], analyzer: Analyzer = _NEWS
) -> list[tuple[int, int, str]]:
    """(start, end, term) of every word of `body` that analyzes to one of `terms`."""
    wanted = set(terms)
    heads = {t[:2] for t in wanted}
    found = []
    for word, start, end in word_spans(body):
        # Folding cannot change an ASCII word, so most words skip it (it normalises Unicode).
        if word.isascii():
            if word[:2].lower() not in heads:
                continue
        elif fold(word[:2].lower()) not in heads and fold_term(word.lower())[:2] not in heads:
            continue  # (fold_term: "γ" is "gamma")
        term = _news_term(word) if analyzer is _NEWS else _first_term(analyzer, word)
        if term is not None and term in wanted:
            found.append((start, end, term))
    return found


def _first_term(analyzer: Analyzer, word: str) -> str | None:
    analyzed = tokens(analyzer, word)
    return analyzed[0] if analyzed else None


@lru_cache(maxsize=65_536)
def _news_term(word: str) -> str | None:
    """A word's term under the news analyzer: the same few thousand words recur in every
    body, and stemming each again was most of a snippet's time (with the fold above, half of
    it went: 0.30 s to 0.15 s CPU for 3,000 snippets, identical output)."""
    return _first_term(_NEWS, word)


def _best_window(matches: list[tuple[int, int, str]], width: int) -> tuple[int, int]:
    """Indices [i, j) of the run of matches within `width` chars with most distinct terms."""
    best = (0, 0, 1)  # (distinct, count, -start) compared as a tuple
    best_span = (0, 1)
    j = 0
    for i in range(len(matches)):
        j = max(j, i + 1)
        while j < len(matches) and matches[j][1] - matches[i][0] <= width:
            j += 1
        run = matches[i:j]
        score = (len({m[2] for m in run}), len(run), -i)
        if score > best:
            best, best_span = score, (i, j)
    return best_span


def snippet(body: str, terms: Iterable[str], limit: int = SNIPPET_CHARS) -> str:
    """A passage of about `limit` characters around the densest matches, as safe HTML."""
    text = " ".join(body.split())
    matches = find_matches(text, terms)
    if not matches:
        return lead_snippet(text, limit)
    i, j = _best_window(matches, limit)
    run = matches[i:j]
    covered = run[-1][1] - run[0][0]
    start = max(0, run[0][0] - (limit - covered) // 2)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < run[0][0] else start
    end = min(len(text), start + limit)
    end = max(end, run[-1][1])
    if end < len(text):
        space = text.rfind(" ", run[-1][1], end)
        end = space if space > 0 else end
    out = ["… "] if start > 0 else []
    position = start
    for m_start, m_end, _ in matches:
        if m_start < start or m_end > end:
            continue
        out.append(html.escape(text[position:m_start], quote=False))
        out.append(f"<mark>{html.escape(text[m_start:m_end], quote=False)}</mark>")
        position = m_end
    out.append(html.escape(text[position:end], quote=False))
    if end < len(text):
        out.append(" …")
    return "".join(out)
