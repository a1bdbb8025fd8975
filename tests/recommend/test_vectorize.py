"""The related-article text analysis: plurals folded, stop words consistent, Hindi untouched."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as sk_normalize

from recommend.fit import fit_encoder, make_vectorizer
from recommend.model import RelatedConfig, RelatedModel, build_related
from recommend.vectorize import (
    TOKEN_PATTERN,
    TermAnalyzer,
    VectorizerConfig,
    article_texts,
    l2_dense_rows,
    l2_rows,
    normalize_singular,
    normalize_text,
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
    vocabulary = set(encoder.terms())
    assert {"film", "premiere"} <= vocabulary and "films" not in vocabulary
    sims = (matrix @ matrix.T).toarray()
    assert sims[0, 1] > 0.5 > sims[0, 2]


def test_stop_words_agree_with_the_preprocessor() -> None:
    # "others" preprocessed is "other", "always" is "alway": each must be a stop word too, or
    # the plural of a stop word would become a feature (scikit-learn warns of the same).
    config = VectorizerConfig()
    vectorizer = make_vectorizer(config)
    stops = set(stop_words(config))
    analyze = vectorizer.build_analyzer()
    leaks = {t for w in stops for t in analyze(w)}
    assert leaks == set()
    assert {"other", "alway"} <= stops
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectorizer.build_analyzer()
    assert [str(w.message) for w in caught] == []


def _sklearn_analyzer(config: VectorizerConfig):  # type: ignore[no-untyped-def]
    """scikit-learn's own word analyzer with the settings TermAnalyzer stands for (names
    aside: `name_words` is ours, tested on its own below)."""
    return TfidfVectorizer(
        preprocessor=normalize_singular if config.singular else normalize_text,
        token_pattern=TOKEN_PATTERN,
        stop_words=stop_words(config),
        ngram_range=(1, config.ngram_max),
    ).build_analyzer()


TEXTS = [
    "SRK's Films: bus, gas, फ़िल्में, 3Ds and the others' premieres",
    "Stories of actresses\nand their Movies; the series ends",
    "filmsा films\u093c ख़बरें क्रिकेट-मैच Match_Days matches",  # Latin beside vowel signs, nukta
    "the and of",  # nothing but stop words
    "",
    "Ünïcödé naïve cafés, A.B.C. x y z 2024 rs 500-crore",
]


@pytest.mark.parametrize("ngram_max", [1, 2, 3])
@pytest.mark.parametrize("make_singular", [True, False])
def test_term_analyzer_is_scikit_learns_word_analyzer(ngram_max: int, make_singular: bool) -> None:
    config = VectorizerConfig(ngram_max=ngram_max, singular=make_singular, name_words=0)
    ours, theirs = TermAnalyzer(config), _sklearn_analyzer(config)
    for text in TEXTS * 2:  # the second time from the cache
        assert ours(text) == theirs(text), text


_ALPHABET = st.sampled_from(
    [
        *"abcdefghijklmnopqrstuvwxyzSIEAB019 _'-.,\n",
        "ies",
        "es",
        "ss",
        "us",
        "the ",
        "others ",
        "films ",
        "\u093c",
        "\u093e",
        "\u0915",
        "\u0916\u093c",
        "\u0964",
        "\u0966",
        "é",
        "ß",
        "\u200d",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_term_analyzer_matches_on_generated_text(text: str) -> None:
    config = VectorizerConfig(name_words=0)
    assert TermAnalyzer(config)(text) == _sklearn_analyzer(config)(text)
    # With names on, the same terms come first and only names follow.
    named = TermAnalyzer(VectorizerConfig())
    assert named(text) == _sklearn_analyzer(config)(text) + named.names(text)


def test_term_analyzer_cache_is_bounded_and_answers_alike() -> None:
    config = VectorizerConfig()
    small = TermAnalyzer(config, cache_limit=3)
    text = "films premieres stories actresses movies series the others"
    assert small(text) == TermAnalyzer(config)(text) == _sklearn_analyzer(config)(text)
    assert len(small._cache) <= 3


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("A film by Sanjay Leela Bhansali opens", ["sanjay leela bhansali"]),
        # Two capitalised words are left to the word pairs.
        ("The star Shah Rukh Khan met Karan Johar", ["shah rukh khan"]),
        # Stop words and single letters are no part of a name's term ("of" ends the run).
        ("at the Bank of England and The Walt Disney Company.", ["walt disney company"]),
        ("Mr. A. B. Rao", []),  # "mr" and "rao" only
        # A capital inside a word starts nothing; quotes around a name are no part of it.
        ("the new iPhone Pro Max Ultra", ["pro max ultra"]),
        (
            "'Sanjay Leela Bhansali' and \u2018Alia Bhatt Kapoor\u2019",
            ["sanjay leela bhansali", "alia bhatt kapoor"],
        ),
        # Plurals are folded as in every term; Latin-1 capitals start a word.
        ("the Émile Zola Awards Night", ["émile zola award night"]),
        # A line break or punctuation ends a run.
        ("Sanjay Leela\nBhansali, Alia Bhatt", []),
        # A full stop ends a run: two names, not one of five words.
        (
            "The film stars Shah Rukh Khan. Deepika Padukone Sharma plays his wife.",
            ["shah rukh khan", "deepika padukone sharma"],
        ),
        # An accent written as a letter and a combining mark (NFD) is read as one letter.
        ("the E\u0301mile Zola Awards Night", ["\u00e9mile zola award night"]),
        ("सलमान ख़ान ने कहा", []),  # no capitals in Devanagari
        ("Sanjay Leela Bhansali and Sanjay Leela Bhansali", ["sanjay leela bhansali"] * 2),
    ],
)
def test_names_of_three_capitalised_words_or_more_become_one_term(
    text: str, names: list[str]
) -> None:
    analyzer = TermAnalyzer(VectorizerConfig())
    assert analyzer.names(text) == names
    # The names follow every term the analysis makes without them.
    assert analyzer(text) == TermAnalyzer(VectorizerConfig(name_words=0))(text) + names
    assert TermAnalyzer(VectorizerConfig(name_words=4)).names(text) == [
        n for n in names if len(n.split()) >= 4
    ]


def test_a_shared_full_name_counts_for_more_than_the_same_words_uncapitalised() -> None:
    # The two candidates have the very same words and word pairs; only one writes the name
    # with capitals. Without name terms they are one vector; with them the full name is a
    # term the story and that candidate share.
    titles = ["Bhansali's next film", "Casting news", "Casting news"]
    bodies = [
        "A period drama by Sanjay Leela Bhansali starts shooting in Mumbai.",
        "Sanjay Leela Bhansali picks his lead for a drama.",
        "sanjay leela bhansali picks his lead for a drama.",
    ]
    for name_words, better in ((3, True), (0, False)):
        encoded = fit_encoder(titles, bodies, VectorizerConfig(lsa_dims=0, name_words=name_words))
        assert encoded is not None
        sims = (encoded[1] @ encoded[1].T).toarray()
        if better:
            assert sims[0, 1] > sims[0, 2]
        else:
            assert sims[0, 1] == pytest.approx(sims[0, 2], abs=1e-6)


def test_a_model_saved_before_names_reads_drafts_without_them(tmp_path: Path) -> None:
    docs = [
        ("a", "Casting", "Sanjay Leela Bhansali picks a lead for his drama"),
        ("b", "Casting", "Sanjay Leela Bhansali picks a lead for a drama"),
        ("c", "Cricket", "A test match in Mumbai"),
    ]
    config = RelatedConfig(vectorizer=VectorizerConfig(lsa_dims=0))
    build_related(tmp_path, docs, config)
    assert RelatedModel(tmp_path).config.vectorizer.name_words == 3
    assert "sanjay leela bhansali" in RelatedModel(tmp_path).vocabulary
    params = json.loads((tmp_path / "params.json").read_text())
    del params["vectorizer"]["name_words"]  # as the models of earlier releases were saved
    (tmp_path / "params.json").write_text(json.dumps(params))
    old = RelatedModel(tmp_path)
    assert old.config.vectorizer.name_words == 0
    assert old.encoder is not None
    assert old.encoder.analyzer("Sanjay Leela Bhansali") == [
        "sanjay",
        "leela",
        "bhansali",
        "sanjay leela",
        "leela bhansali",
    ]


def _generated_texts(count: int, seed: int) -> list[str]:
    """Texts over a small vocabulary (word pairs repeat, many terms are seen once or twice,
    several have the same total count: `max_features` must break ties)."""
    rng = random.Random(seed)
    words = "star film song box office record rain kite saffron tabla Priya Menon".split()
    rare = [f"word{n}" for n in range(300)]
    return [
        " ".join(
            rng.choice(words) if rng.random() < 0.8 else rng.choice(rare)
            for _ in range(rng.randint(0, 40))
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("ngram_max", [2, 1, 3])
@pytest.mark.parametrize(
    ("min_df", "max_df", "max_features"),
    [(2, 0.5, 300_000), (2, 0.5, 40), (1, 1.0, None), (3, 0.9, 7), (0.01, 0.6, None)],
)
def test_the_fit_counts_as_scikit_learns_vectorizer(
    min_df: float, max_df: float, max_features: int | None, ngram_max: int
) -> None:
    """The fit's own counting (`make_vectorizer`) against scikit-learn's TfidfVectorizer with
    the same analyzer: the same vocabulary, idf and matrix, entry for entry. With word pairs
    (the served 2) pairs are counted as pairs of numbers; without, or with triples, every
    term is a string looked up (both paths of `_count_vocab`)."""
    texts = _generated_texts(400, seed=int(min_df * 100) + (max_features or 0))
    texts[5] = ""  # an article with no term at all
    config = VectorizerConfig(ngram_max=ngram_max)
    ours = make_vectorizer(config).set_params(
        min_df=min_df, max_df=max_df, max_features=max_features
    )
    theirs = TfidfVectorizer(
        analyzer=TermAnalyzer(config),
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        dtype=np.float32,
    )
    ours_matrix, their_matrix = ours.fit_transform(texts), theirs.fit_transform(texts)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert np.array_equal(ours.idf_, theirs.idf_)
    assert ours_matrix.shape == their_matrix.shape
    assert (ours_matrix != their_matrix).nnz == 0
    assert ours_matrix.dtype == their_matrix.dtype
    assert ours_matrix.indices.dtype == their_matrix.indices.dtype
    assert ours_matrix.indptr.dtype == their_matrix.indptr.dtype
    # Transforming a draft with the fitted vocabulary: scikit-learn's own path.
    assert (ours.transform(texts[:20]) != theirs.transform(texts[:20])).nnz == 0


def test_word_pairs_are_counted_within_a_text() -> None:
    """The fit numbers word pairs from neighbouring words' numbers across all texts at once:
    a text's last word never pairs with the next text's first, empty and one-word texts
    make no pair, and names keep their own terms."""
    texts = ["Alpha beta", "", "gamma", "the", "delta epsilon Sanjay Leela Bhansali", "zeta"]
    config = VectorizerConfig()
    ours = make_vectorizer(config).set_params(min_df=1, max_df=1.0).fit(texts)
    theirs = TfidfVectorizer(analyzer=TermAnalyzer(config), min_df=1, dtype=np.float32).fit(texts)
    assert ours.vocabulary_ == theirs.vocabulary_
    pairs = {term for term in ours.vocabulary_ if term.count(" ") == 1}
    assert pairs == {
        "alpha beta",
        "delta epsilon",
        "epsilon sanjay",
        "sanjay leela",
        "leela bhansali",
    }
    assert "sanjay leela bhansali" in ours.vocabulary_


def test_the_fit_fails_as_scikit_learns_when_nothing_is_left() -> None:
    texts = ["the and of", "of the"]  # stop words only
    config = VectorizerConfig()
    with pytest.raises(ValueError, match="empty vocabulary"):
        make_vectorizer(config).fit_transform(texts)
    # Every term in one text only, with min_df 2: scikit-learn's own message.
    with pytest.raises(ValueError, match="no terms remain"):
        make_vectorizer(config).fit_transform(["star film", "song rain", "kite tabla", "box"])


def _bits(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)


def _same_to_the_bit(ours: sparse.csr_matrix, theirs: sparse.csr_matrix) -> None:
    ours, theirs = ours.tocsr(), theirs.tocsr()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(_bits(ours.data), _bits(theirs.data))


@pytest.mark.parametrize("lsa_dims", [0, 10])
def test_encoding_is_scikit_learns_to_the_bit(lsa_dims: int) -> None:
    """Drafts and edited articles are encoded without scikit-learn (so a server never imports
    it): the same vectors, bit for bit, as its TfidfVectorizer.transform, normalize, and the
    LSA blend over its normalize, as they were encoded before."""
    config = VectorizerConfig(lsa_dims=lsa_dims)
    corpus = _generated_texts(300, seed=11)
    encoded = fit_encoder(corpus, _generated_texts(300, seed=12), config)
    assert encoded is not None
    encoder = encoded[0]
    drafts = [*_generated_texts(40, seed=13), *TEXTS, "Priya Menon Star Film", "word7 " * 9]
    titles = [t[:30] for t in drafts]

    theirs_vectorizer = make_vectorizer(config, vocabulary=encoder.terms())
    theirs_vectorizer.idf_ = encoder.idf
    tfidf = sk_normalize(theirs_vectorizer.transform(article_texts(titles, drafts)))
    if lsa_dims:
        weight = config.lsa_weight
        dense = sk_normalize(np.asarray(tfidf @ encoder.components.T))
        expected = sparse.hstack(
            [np.sqrt(1 - weight) * tfidf, sparse.csr_matrix(np.sqrt(weight) * dense)],
            format="csr",
            dtype=np.float32,
        )
    else:
        expected = tfidf.astype(np.float32).tocsr()
    ours = encoder.encode(titles, drafts)
    _same_to_the_bit(ours, expected)
    assert ours[len(drafts) - len(TEXTS) - 2 + 3].nnz == 0  # "the and of": nothing to weigh


def test_row_lengths_are_scikit_learns_to_the_bit() -> None:
    rng = np.random.default_rng(5)
    matrix = sparse.random(60, 500, density=0.05, format="csr", dtype=np.float32, rng=rng)
    matrix.data *= rng.choice([1e-30, 1e-3, 1.0, 1e3], size=matrix.nnz).astype(np.float32)
    matrix.data[:5] = 0.0  # a row may hold explicit zeros
    _same_to_the_bit(l2_rows(matrix.copy()), sk_normalize(matrix))
    dense = rng.standard_normal((50, 10)).astype(np.float32)
    dense[3] = 0.0
    dense[4] = 1e-9  # shorter than 10 epsilon: left as it is, as scikit-learn leaves it
    assert np.array_equal(_bits(l2_dense_rows(dense)), _bits(sk_normalize(dense)))
    assert not np.shares_memory(l2_dense_rows(dense), dense)


def test_a_server_never_imports_scikit_learn(tmp_path: Path) -> None:
    """The API, the snapshot reader and a draft's encoding, in a fresh interpreter: no
    scikit-learn module (about 40 MB per worker). A build imports it (recommend.fit)."""
    build_related(
        tmp_path, [("a", "Star film", "A film star"), ("b", "Box", "Office")], RelatedConfig()
    )
    script = (
        "import sys, api.app, index_data.live, recommend.overlay\n"
        "from recommend.model import RelatedModel\n"
        f"model = RelatedModel.open({str(tmp_path)!r})\n"
        "assert model.encoder.encode(['Star'], ['film news']).nnz\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_the_lsa_fit_runs_blas_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Large builds fit beside the index's processes; BLAS threads of their own spun there.
    from sklearn.decomposition import TruncatedSVD
    from threadpoolctl import threadpool_info, threadpool_limits

    seen: list[list[int]] = []
    fit = TruncatedSVD.fit

    def watched(self: TruncatedSVD, *args: object, **kwargs: object) -> TruncatedSVD:
        seen.append([p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(TruncatedSVD, "fit", watched)
    words = "film star award music director song box office cricket match trailer".split()
    titles = [f"Story {words[i % 11]}" for i in range(40)]
    bodies = [" ".join(words[(i * j) % 11] for j in range(1, 6)) for i in range(40)]
    with threadpool_limits(2, "blas"):  # above one, whatever the machine's default
        fitted = fit_encoder(titles, bodies, VectorizerConfig(lsa_dims=4))
    assert fitted is not None and fitted[0].components.shape[0] == 4
    assert len(seen) == 1
    if not seen[0]:
        pytest.skip("numpy reports no BLAS library to threadpoolctl")
    assert seen[0] == [1] * len(seen[0])
