"""Words are split where letters meet digits or Greek letters, and a lone Greek letter is
indexed by its name: the same tokens whichever way a story or a reader writes the word."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.analysis import name_analyzer, news_analyzer, tokens
from search.build import build_index
from search.highlight import snippet
from search.index import SearchIndex, SearchRequest
from search.query import plan
from search.schema import SearchDoc


@pytest.mark.parametrize(
    ("written", "same_as", "terms"),
    [
        ("COVID19", "COVID-19", ["covid", "19"]),
        ("Pathaan2", "Pathaan 2", ["pathaan", "2"]),
        ("TNF-α", "TNF alpha", ["tnf", "alpha"]),
        ("PPARγ", "PPAR-gamma", ["ppar", "gamma"]),
        ("5 µg", "5 μg", ["5", "mu", "g"]),  # the micro sign is the Greek mu
        # Possessive and contraction endings are stop words with their apostrophe only, so the
        # bare letters of "T20" and "3D" stay.
        ("SRK's T20", "SRK’S T 20", ["srk", "t", "20"]),
        ("3D", "3-D", ["3", "d"]),
        ("don't", "don", ["don"]),
        # The plural of a capitalised abbreviation is its singular (Porter2 keeps "rnas").
        ("mRNAs of MPs", "mRNA of MP", ["mrna", "mp"]),
        ("PPAR-RXRs", "PPAR RXR", ["ppar", "rxr"]),
    ],
)
def test_spellings_that_split_alike(written: str, same_as: str, terms: list[str]) -> None:
    assert tokens(news_analyzer(), written) == terms
    assert tokens(news_analyzer(), same_as) == terms


def test_an_abbreviations_plural_is_a_stemming_step() -> None:
    analyzer = news_analyzer()
    # Unstemmed ("did you mean" counts these), the word stays as written.
    assert [t.text for t in analyzer("RNAs", no_morph=True)] == ["rnas"]
    # Only an "s" after a capital: "Its", "bus" and a capitalised "ITS" are left to the stemmer.
    assert tokens(analyzer, "Its bus ITS") == ["it", "bus", "it"]
    assert tokens(analyzer, "Is it As") == []  # two letters: words, stop words here
    assert tokens(name_analyzer(), "MPs") == ["mps"]


def test_whole_words_stay_whole() -> None:
    analyzer = news_analyzer()
    # A Greek word is a word, not a letter; Devanagari digits are digits of their own.
    assert tokens(analyzer, "Ελληνικά") == ["ελληνικά"]
    assert tokens(analyzer, "पठान२") == ["पठान", "२"]
    # The names field keeps stop words, the possessive ending included (query.py leaves it
    # out of alias lookups).
    assert tokens(name_analyzer(), "SRK's") == ["srk", "'s"]


def _docs() -> list[SearchDoc]:
    return [
        SearchDoc(id="covid", title="Shoots resume", body="Sets reopen after COVID-19 rules ease."),
        SearchDoc(id="t20", title="T20 final tonight", body="Stars turn up for the final."),
        SearchDoc(id="twenty", title="20 films to watch", body="A list of 20 new films."),
        SearchDoc(id="gamma", title="Lab drama", body="The plot turns on an IFN-γ test."),
        SearchDoc(id="sequel", title="Pathaan2 teaser", body="The teaser is out."),
    ]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    folder: Path = tmp_path_factory.mktemp("split") / "search"
    build_index(folder, _docs())
    opened = SearchIndex.open(folder)
    yield opened
    opened.close()


def _ids(index: SearchIndex, text: str) -> list[str]:
    return [h.id for h in index.search(SearchRequest(text)).hits]


def test_searches_find_either_spelling(index: SearchIndex) -> None:
    assert _ids(index, "covid19") == ["covid"]
    assert _ids(index, "covid-19") == ["covid"]
    assert _ids(index, "ifn gamma") == ["gamma"]
    assert _ids(index, "ifn-γ") == ["gamma"]
    assert _ids(index, '"pathaan 2"') == ["sequel"]
    assert set(_ids(index, "20")) == {"t20", "twenty"}


def test_a_word_that_splits_is_its_words_typed_apart(index: SearchIndex) -> None:
    """Every part first (the strict tier), then stories with some of them, as "t 20" would."""
    assert _ids(index, "t20") == ["t20", "twenty"]
    assert _ids(index, "t20") == _ids(index, "t 20")
    assert index.search(SearchRequest("t20")).total == 2
    # Quoted, it is a phrase: only the story with both, side by side.
    assert _ids(index, '"t20"') == ["t20"]
    # An ending is no part of its own: "Pathaan2's" is "pathaan 2".
    assert _ids(index, "Pathaan2's") == _ids(index, "pathaan 2") == ["sequel"]


def test_split_words_and_greek_letters_are_marked_in_snippets() -> None:
    marked = snippet("Sets reopen after COVID19 rules ease.", {"covid", "19"})
    assert marked == "Sets reopen after <mark>COVID</mark><mark>19</mark> rules ease."
    marked = snippet("The plot turns on an IFN-γ test.", {"ifn", "gamma"})
    assert marked == "The plot turns on an <mark>IFN</mark>-<mark>γ</mark> test."


def test_the_loose_parts_of_a_split_word_are_its_words() -> None:
    def respell(word: str) -> list[str]:
        return ["kapoor"] if word.lower() == "kapur" else []

    split = plan("kapur-khan", respell=respell)
    assert split.loose == plan("kapur khan").loose
    assert split.strict != plan("kapur khan").strict  # both parts, as one clause
    # Spelling variants make tiers from the strict query only: the parts are not respelt,
    # so a split word asks for no variant tier it would not use.
    assert not split.respelt
    # A possessive adds no part: the word's own query is its loose part too.
    possessive = plan("kapur's", respell=respell)
    assert possessive.loose == possessive.strict


def test_did_you_mean_reads_a_split_word_as_its_words(tmp_path: Path) -> None:
    """The word list holds "kgf" and "2" for "KGF2": the query's "KGF2" is not a typo."""
    docs = [
        SearchDoc(id="one", title="KGF2 collections soar", body="Records fall."),
        SearchDoc(id="two", title="Pathaan2 teaser and KGF2", body="Both trend."),
    ]
    build_index(tmp_path / "search", docs)
    index = SearchIndex.open(tmp_path / "search")
    try:
        for text in ("KGF2", "Pathaan2 teaser"):
            found = index.search(SearchRequest(text))
            assert found.corrected_query is None, text
            assert found.total >= 1
        # A real typo beside a digit is still corrected, digit kept.
        typo = index.search(SearchRequest("Pathan2 teaser"))
        assert typo.corrected_query == "pathaan2 teaser"
        assert typo.hits[0].id == "two"
    finally:
        index.close()
