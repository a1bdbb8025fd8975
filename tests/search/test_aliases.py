"""Alias lists, romanised spelling keys, and how both shape a query."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.aliases import AliasError, AliasTable, fold_case, starter_aliases
from search.analysis import phonetic_key
from search.query import plan

TABLE = AliasTable.parse("SRK = Shah Rukh Khan = शाहरुख़ ख़ान\nDDLJ = Dilwale Dulhania Le Jayenge\n")


def test_parse_folds_variants_to_words() -> None:
    group = TABLE.groups[0]
    assert group.variants == ("SRK", "Shah Rukh Khan", "शाहरुख़ ख़ान")
    # Nukta folded, lowercase: a query typed without the nukta finds the group.
    assert group.keys == (("srk",), ("shah", "rukh", "khan"), ("शाहरुख", "खान"))
    assert TABLE.by_key[("शाहरुख", "खान")] is group


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SRK", "aliases:1: a group needs at least two variants"),
        # A nukta alone is no word: as a key it matched the empty text between words and
        # wrote the group's first spelling everywhere.
        ("SRK = Shah Rukh Khan = \u093c", "aliases:1: variant '\u093c' has no words"),
        ("SRK = = Shah Rukh Khan", "aliases:1: an empty variant"),
        ("# comment\nSRK = srk", "aliases:2: all variants are the same words"),
        ("a = b c d e f g h", "aliases:1: variant 'b c d e f g h' has more than 6 words"),
        ("SRK = ...", "aliases:1: variant '...' has no words"),
    ],
)
def test_bad_lines_are_reported_with_their_line(text: str, message: str) -> None:
    with pytest.raises(AliasError) as caught:
        AliasTable.parse(text)
    assert str(caught.value).startswith(message)


def test_the_starter_list_parses_and_round_trips() -> None:
    starter = starter_aliases()
    assert len(starter.groups) >= 20
    assert AliasTable.parse(starter.to_text()) == starter
    assert AliasTable.from_groups(starter.as_lists()) == starter


def test_an_alias_in_a_query_searches_every_variant_as_typed() -> None:
    query_plan = plan("srk spain", TABLE)
    assert query_plan.strict is not None
    terms = {
        (f, t.decode() if isinstance(t, bytes) else t)
        for f, t in query_plan.strict.iter_all_terms()
    }
    # Every variant's words, in the body field (the title/tags/author fields get them too).
    assert {("body", "srk"), ("body", "shah"), ("body", "rukh"), ("body", "khan")} <= terms
    assert ("body", "spain") in terms
    assert {"srk", "shah", "rukh", "khan", "spain"} <= query_plan.body_terms


def test_without_a_match_the_plan_is_unchanged() -> None:
    assert plan("tom cruise train", TABLE) == plan("tom cruise train")
    # Part of a variant is not the variant.
    assert plan("shah rukh", TABLE) == plan("shah rukh")


def test_the_longest_variant_wins_and_phrases_match_whole() -> None:
    longer = AliasTable.parse("Khan = Big K\nShah Rukh Khan = SRK\n")
    terms = {t for _, t in plan("shah rukh khan", longer).strict.iter_all_terms()}  # type: ignore[union-attr]
    assert b"srk" in terms or "srk" in terms
    assert not ({b"big", "big"} & terms)
    quoted = {t for _, t in plan('"shah rukh khan"', longer).strict.iter_all_terms()}  # type: ignore[union-attr]
    assert b"srk" in quoted or "srk" in quoted


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("pathan", "pathaan"),
        ("kapur", "kapoor"),
        ("dilwale", "dilwaale"),
        ("deepika", "dipika"),
        ("padukon", "padukone"),
        ("vikram", "wikram"),
        ("bhatt", "bhat"),
        ("Pathaan", "PATHAN"),
    ],
)
def test_romanised_variants_share_a_key(a: str, b: str) -> None:
    assert phonetic_key(a) == phonetic_key(b) is not None


def test_keys_keep_different_words_apart_and_skip_non_latin() -> None:
    assert phonetic_key("pathan") != phonetic_key("patna")
    assert phonetic_key("kapur") != phonetic_key("kaur")
    assert phonetic_key("पठान") is None and phonetic_key("srk") is None  # too short to mean much


def test_variants_of_the_same_words_keep_the_first_spelling() -> None:
    group = AliasTable.from_groups([["Caf\u00e9 Coffee Day", "CCD", "Cafe Coffee Day"]]).groups[0]
    assert group.variants == ("Caf\u00e9 Coffee Day", "CCD")
    assert group.keys == (("cafe", "coffee", "day"), ("ccd",))


def test_canonical_writes_every_variant_as_the_first_spelling() -> None:
    text = "SRK met Shahrukh  KHAN; शाहरुख ख़ान waved. Srkx and shah are not names here."
    table = AliasTable.parse("Shah Rukh Khan = SRK = Shahrukh Khan = शाहरुख़ ख़ान")
    assert table.canonical(text) == (
        "Shah Rukh Khan met Shah Rukh Khan; Shah Rukh Khan waved. Srkx and shah are not names here."
    )
    assert AliasTable().canonical(text) == text


def _alternation_canonical(table: AliasTable, text: str) -> str:
    """`canonical` as first written: one alternative per variant, longest first."""
    import re
    import unicodedata

    from search.aliases import _variant_key

    first = {_variant_key(v): g.variants[0] for g in table.groups for v in g.variants}
    body = "|".join(
        r"\s+".join(map(re.escape, v.split(" "))) for v in sorted(first, key=len, reverse=True)
    )
    pattern = re.compile(rf"(?<![\w\u0900-\u097F])(?:{body})(?![\w\u0900-\u097F])", re.I)
    folded = unicodedata.normalize("NFC", text).replace("\u093c", "")
    return pattern.sub(lambda m: first[_variant_key(m.group(0))], folded)


# Variants that share beginnings, end inside one another and span words.
PREFIXES = AliasTable.parse(
    "Amitabh Bachchan = Big B = Amitabh = AB\n"
    "Aamir Khan = Amir Khan = Mr Perfectionist\n"
    "Amit = Ami\n"
    "B Praak = Bpraak\n"
    "शाहरुख़ ख़ान = SRK = Shah Rukh Khan = Shah Rukh\n"
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Ami",
                "amit",
                "abh",
                "Amitabh",
                " ",
                "  ",
                "\n",
                "Bachchan",
                "big",
                "B",
                "b",
                "praak",
                "Khan",
                "khan",
                "Amir",
                "aamir",
                "Mr",
                "Perfectionist",
                "Shah",
                "Rukh",
                "शाहरुख",
                "ख़ान",
                "\u093c",
                "SRK",
                "x",
                "-",
                ",",
                "ा",
                "AB",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_canonical_matches_the_plain_alternation(text: str) -> None:
    assert PREFIXES.canonical(text) == _alternation_canonical(PREFIXES, text)
    assert starter_aliases().canonical(text) == _alternation_canonical(starter_aliases(), text)


def test_letters_that_read_as_one_match_as_one() -> None:
    # The first trie matched with re.IGNORECASE, which takes the dotless i (U+0131) and the
    # long s (U+017F) for "i" and "s" while lowercasing keeps them apart: its branches for
    # "ki" and "k\u0131" both matched, and the first in sorted order won even when the other
    # was the longer variant; the long s raised KeyError (looked up as written).
    table = AliasTable.parse("KT = K\u0131vanc Tatlitug\nKiv = Kivanc\nAkshay Kumar = Akki")
    assert table.canonical("K\u0131vanc Tatlitug") == "KT"
    assert table.canonical("KIVANC TATLITUG and kivanc") == "KT and Kiv"
    assert table.canonical("\u0130VANC") == "\u0130VANC"  # not a variant
    assert table.canonical("Ak\u017fhay Kumar met AKKI") == "Akshay Kumar met Akshay Kumar"
    # The capital dotted I lowercases to two characters; the text keeps its length in the
    # fold, so what follows it is replaced in place.
    assert table.canonical("\u0130 met Akki") == "\u0130 met Akshay Kumar"
    assert fold_case("\u0130stanbul K\u0131vanc \u03a3\u03bf\u03c6\u03bf\u03c2") == (
        "istanbul kivanc \u03c3\u03bf\u03c6\u03bf\u03c3"
    )


def test_longer_variants_win_over_their_beginnings() -> None:
    assert PREFIXES.canonical("Amitabh Bachchan, Amitabh and Amitabh  BACHCHAN fans") == (
        "Amitabh Bachchan, Amitabh Bachchan and Amitabh Bachchan fans"
    )
    assert PREFIXES.canonical("Ami, Amit, Amir Khan, Big B, B Praak, Bpraak, Shah Rukh") == (
        "Amit, Amit, Aamir Khan, Amitabh Bachchan, B Praak, B Praak, शाहरुख़ ख़ान"
    )


_VARIANTS = [v for group in PREFIXES.groups for v in group.variants]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_VARIANTS),
            st.sampled_from([str.lower, str.upper, str.title, str]),
            st.booleans(),
            st.sampled_from([" ", "  ", "\t", ", ", ". ", "-", "", "x "]),
        ),
        max_size=8,
    )
)
def test_canonical_matches_the_alternation_on_whole_variants(
    parts: list[tuple[str, Callable[[str], str], bool, str]],
) -> None:
    """Variants written whole, in any case, some with their words two spaces apart: where a
    variant is the beginning of another across a space, the longest must win."""
    text = "".join(
        case(variant.replace(" ", "  ") if wide else variant) + gap
        for variant, case, wide, gap in parts
    )
    assert PREFIXES.canonical(text) == _alternation_canonical(PREFIXES, text)
