"""Arbitrary input against the query parser, the search, the snippet highlighter and every
ingest reader (hypothesis): only the documented errors, and no markup through a snippet.

Bounded (EXAMPLES each, derandomized) so the suite stays fast and a failure reproduces."""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index_data.live import LiveView
from index_data.readers import read_file
from search.highlight import snippet
from search.index import SearchRequest
from search.query import MAX_CLAUSES, parse, plan, render

EXAMPLES = 300
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text a reader might paste: any Unicode (control characters, surrogates excluded by
# hypothesis's default), quotes, field prefixes, markup, Devanagari, long runs.
QUOTY = st.sampled_from(['"', "'", "-", ":", "title:", '-"', "<script>", "&amp;", "\\", "*"])
WORDS = st.sampled_from(["shah", "rukh", "खान", "pathaan", "tom", "cruise", "premiere", "x"])
HOSTILE = st.lists(st.one_of(st.text(max_size=40), QUOTY, WORDS), max_size=30).map(" ".join)
MARK = re.compile(r"</?mark>")


@BOUNDED
@given(text=st.one_of(HOSTILE, st.text(max_size=5000)))
def test_the_parser_takes_anything(text: str) -> None:
    clauses = parse(text)
    plan(text)
    plan(render(clauses))  # what "did you mean" would show parses again


@BOUNDED
@given(text=HOSTILE, page=st.integers(1, 5), sort=st.sampled_from(["relevance", "newest"]))
def test_search_takes_anything(snapshot: LiveView, text: str, page: int, sort: str) -> None:
    found = snapshot.search(SearchRequest(text, page=page, sort=sort))  # type: ignore[arg-type]
    assert found.total >= len(found.hits)
    for hit in found.hits:
        _assert_safe(hit.snippet)
    snapshot.suggest(text, 8)


@BOUNDED
@given(
    body=st.one_of(HOSTILE, st.text(max_size=3000)),
    terms=st.lists(st.one_of(WORDS, st.text(min_size=1, max_size=12)), max_size=6),
)
def test_snippets_never_carry_markup(body: str, terms: list[str]) -> None:
    _assert_safe(snippet(body, terms))


def _assert_safe(found: str) -> None:
    """Only <mark> and </mark> are tags; everything else is escaped text."""
    text = MARK.sub("", found)
    assert "<" not in text and ">" not in text, found
    assert html.escape(html.unescape(text), quote=False) == text.replace("&quot;", '"').replace(
        "&#x27;", "'"
    ), found


SUFFIXES = [".jsonl", ".csv", ".txt", ".html"]
LINES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b'{"id": "a", "title": "T", "body": "B"}',
            b'{"id": "../../etc/passwd", "title": "T", "body": "B"}',
            b'{"title": "\\ud800", "body": "x"}',
            b"[" * 5000,
            b'{"id": 1, "title": ["x"], "body": {"a": 1}}',
            b'"just a string"',
            b"\xff\xfe\x00",
        ]
    ),
)


@BOUNDED
@given(
    lines=st.lists(LINES, max_size=8), suffix=st.sampled_from([".jsonl", ".csv", ".txt", ".html"])
)
def test_readers_report_problems_never_raise(lines: list[bytes], suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(b"\n".join(lines))
        read = read_file(path)
    for problem in read.problems:
        # Each problem names the file, and the line when it is about one record.
        assert str(problem).startswith(str(path)), problem
        assert problem.message
    for article in read.articles:
        assert article.id and "\x00" not in article.id


def test_a_query_searches_at_most_its_first_32_words() -> None:
    words = [f"word{i}" for i in range(40)]
    clauses = parse(" ".join(words))
    assert [c.text for c in clauses] == words[:MAX_CLAUSES] and MAX_CLAUSES == 32
