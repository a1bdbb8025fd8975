"""The related-article text analysis: plurals folded, stop words consistent, Hindi untouched."""

from __future__ import annotations

import warnings

import pytest

from recommend.vectorize import (
    VectorizerConfig,
    fit_encoder,
    make_vectorizer,
    normalize_singular,
    singular,
    stop_words,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("movies", "movy"),  # rule 1 ("ies" -> "y") is blind to "movie"
        ("stories", "story"),
        ("films", "film"),
        ("actresses", "actresse"),  # Harman's rule 2 keeps the "e": "actresse" for both plurals
        ("actress", "actress"),
        ("status", "status"),
        ("shoes", "shoe"),
        ("series", "sery"),  # the known price of a rule-based stemmer
        ("film", "film"),
    ],
)
def test_singular_follows_harmans_rules(word: str, expected: str) -> None:
    assert singular(word) == expected


def test_only_latin_words_of_four_letters_or_more_change() -> None:
    got = normalize_singular("SRK's Films: bus, gas, फ़िल्में, 3Ds")
    assert got == "srk's film: bus, gas, फिल्में, 3ds"


def test_plural_and_singular_stories_share_their_terms() -> None:
    encoded = fit_encoder(
        ["Premiere", "Premieres", "Cricket"],
        ["The film premiere in Mumbai", "Two films premieres in Mumbai", "A test match"],
        VectorizerConfig(lsa_dims=0),
    )
    assert encoded is not None
    encoder, matrix = encoded
    vocabulary = set(encoder.vectorizer.get_feature_names_out())
    assert {"film", "premiere"} <= vocabulary and "films" not in vocabulary
    sims = (matrix @ matrix.T).toarray()
    assert sims[0, 1] > 0.5 > sims[0, 2]


def test_stop_words_agree_with_the_preprocessor() -> None:
    # "others" preprocessed is "other", "always" is "alway": each must be a stop word too, or
    # the plural of a stop word would become a feature (scikit-learn warns of the same).
    config = VectorizerConfig()
    vectorizer = make_vectorizer(config)
    stops = set(stop_words(config))
    tokenize = vectorizer.build_tokenizer()
    leaks = {t for w in stops for t in tokenize(normalize_singular(w)) if t not in stops}
    assert leaks == set()
    assert {"other", "alway"} <= stops
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectorizer.build_analyzer()
    assert [str(w.message) for w in caught] == []
