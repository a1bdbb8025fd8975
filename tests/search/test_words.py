"""The word list beside the index: every unstemmed title/body word and how many articles
use it, as "did you mean" and the spelling variants read it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import IndexUnavailable
from search.analysis import news_chain
from search.build import build_index
from search.index import SearchIndex
from search.schema import SearchDoc
from search.words import FILE_NAME, WordCounts, spelling_words
from tests.search.conftest import DOCS, RARE, WORDS, _doc


def test_words_are_unstemmed_folded_and_without_stop_words() -> None:
    assert spelling_words("The Movies of Café Society and SRK's hits") == {
        "movies",
        "cafe",
        "society",
        "srk",
        "hits",
    }


def test_counts_are_articles_not_occurrences(generated: SearchIndex) -> None:
    rng = random.Random(20261129)
    docs = [_doc(n, rng) for n in range(DOCS)]
    for word in [*WORDS[:5], *RARE]:
        having = sum(1 for d in docs if word in d.title.lower().split() or word in d.body.split())
        assert generated.words.frequency(word) == having, word
    assert generated.words.frequency("zzz") == 0
    used_rare = set(RARE) & {w for d in docs for w in d.body.split()}
    assert len(generated.words) == len(set(WORDS) | used_rare)


def test_the_list_round_trips_and_a_damaged_one_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "search"
    docs = [SearchDoc(id="a", title="Pathaan returns", body="Pathaan, again.")]
    build_index(folder, docs)
    opened = SearchIndex.open(folder)
    try:
        assert dict(opened.words.items()) == {"pathaan": 1, "returns": 1, "again": 1}
    finally:
        opened.close()
    (folder / FILE_NAME).write_text("pathaan\tmany\n", encoding="utf-8")
    with pytest.raises(IndexUnavailable, match=r"words.tsv:1: not a word and a count"):
        SearchIndex.open(folder)
    (folder / FILE_NAME).unlink()
    with pytest.raises(IndexUnavailable, match="cannot read the word list"):
        SearchIndex.open(folder)


def test_counts_of_changed_articles_come_from_their_own_text(generated: SearchIndex) -> None:
    extra = SearchIndex.in_memory(
        [SearchDoc(id="x", title="Tabla night", body="A tabla and a veena.")], generated
    )
    try:
        assert dict(extra.words.items()) == {"tabla": 1, "night": 1, "veena": 1}
    finally:
        extra.close()
    assert WordCounts.of([("a b", "b c")]).frequency("b") == 1


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_words_are_what_the_unstemmed_news_chain_makes(text: str) -> None:
    """What Whoosh's spell_ fields held: the news chain's tokens with `no_morph`."""
    want = {t.text for t in news_chain()(text, no_morph=True)}
    assert spelling_words(text) == want
    assert "" not in spelling_words(text)


def test_a_token_that_folds_to_nothing_is_no_word(tmp_path: Path) -> None:
    """A nukta alone (after a space, a bracket or a zero-width joiner) folds to an empty
    token: the chain's stop filter drops it, and so must the word list, or its file would
    hold an empty word and no snapshot built from that article could be opened."""
    text = "Shah Rukh Khan (\u093c) spoke, \u0915\u200d\u093c too"
    assert spelling_words(text) == {"shah", "rukh", "khan", "spoke", "\u0915", "too"}
    folder = tmp_path / "search"
    build_index(folder, [SearchDoc(id="a", title="Interview", body=text)])
    opened = SearchIndex.open(folder)
    try:
        assert opened.words.frequency("khan") == 1
        assert opened.words.frequency("") == 0
    finally:
        opened.close()
