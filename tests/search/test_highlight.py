from __future__ import annotations

from search.analysis import news_analyzer, tokens
from search.highlight import find_matches, lead_snippet, snippet


def terms(text: str) -> frozenset[str]:
    return frozenset(tokens(news_analyzer(), text))


def test_marks_every_form_of_a_stem_and_escapes_the_rest() -> None:
    body = 'Trains & <b>training</b>: "the train" left.'
    assert snippet(body, terms("train")) == (
        '<mark>Trains</mark> &amp; &lt;b&gt;<mark>training</mark>&lt;/b&gt;: "the '
        '<mark>train</mark>" left.'
    )


def test_window_goes_where_most_distinct_terms_are() -> None:
    filler = " ".join(["word"] * 80)
    body = f"cruise at the start. {filler} Tom Cruise on a train here. {filler} train end"
    out = snippet(body, terms("tom cruise train"), limit=120)
    assert "<mark>Tom</mark> <mark>Cruise</mark> on a <mark>train</mark>" in out
    assert out.startswith("… ") and out.endswith(" …")
    assert len(out.replace("<mark>", "").replace("</mark>", "")) <= 130


def test_no_match_gives_the_escaped_lead() -> None:
    body = "<i>Lead</i> " + "text " * 100
    assert snippet(body, terms("absent")) == lead_snippet(body)
    assert lead_snippet(body).startswith("&lt;i&gt;Lead&lt;/i&gt; text") and lead_snippet(
        body
    ).endswith(" …")


def test_devanagari_and_nukta() -> None:
    body = "पठान 2 में शाहरुख़ ख़ान लौटे। शाहरुख की फ़िल्म"
    found = [body[s:e] for s, e, _ in find_matches(body, terms("शाहरुख"))]
    assert found == ["शाहरुख़", "शाहरुख"]
