"""Fit and apply the article encoder: TF-IDF (Devanagari-aware tokens, words and word pairs)
blended with a small LSA embedding, as one unit vector per article.

The blend is built so that a dot product of two encoded articles is
`(1 - lsa_weight) * tfidf_cosine + lsa_weight * lsa_cosine`: the TF-IDF part finds the same
story told again, the LSA part (a truncated SVD of the TF-IDF matrix) pulls in stories on the
same subject in other words. Measured on BBC News (README, Quality): same-category P@10 0.919
for TF-IDF alone, 0.961 blended (10 LSA dimensions at weight 0.4).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from numbers import Integral
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import normalize

# scikit-learn's default pattern (\b\w\w+\b) splits Hindi words at vowel signs; the
# Devanagari block (minus the dandas, which are punctuation) is added explicitly.
TOKEN_PATTERN = r"[\w\u0900-\u0963\u0966-\u097F]{2,}"
NUKTA = "\u093c"
# Frequent Hindi function words, written for this project; they say nothing about a story.
# fmt: off
HINDI_STOP_WORDS = frozenset(
    (
        "का के की को में से पर ने है हैं था थी "
        "थे हो होगा होगी होंगे और या भी ही तो कि एक "
        "यह वह ये वे इस उस इन उन इसे उसे जो जब "
        "तक बाद लिए साथ कर किया किए गया गई गए रहा रही "
        "रहे अपने अपनी अपना नहीं हुआ हुई हुए कहा बताया वाले वाली "
        "वाला जा दिया दी कुछ सब सबसे बहुत अब फिर साल "
    ).split()
)
# fmt: on


def normalize_text(text: str) -> str:
    """Lowercase, NFC, nukta removed (ख़ and ख are the same letter to a reader)."""
    return unicodedata.normalize("NFC", text.lower()).replace(NUKTA, "")


_LATIN_WORD = re.compile(r"(?<!\w)[a-z]{4,}(?!\w)")


def singular(word: str) -> str:
    """Harman's "S" stemmer: English plurals to singular ("films" -> "film", "stories" ->
    "story"), leaving "actress" and "status" alone. Lighter than Porter, so the shared terms
    shown with a related story stay mostly readable words (its rules do make "movies" and
    "movie" "movy" and "movie": a known price of three suffix rules)."""
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def _singular_match(match: re.Match[str]) -> str:
    return singular(match.group(0))


def normalize_singular(text: str) -> str:
    """`normalize_text`, then Latin words of four letters or more made singular. On short
    texts (AG News) folding plurals raised same-category P@10 from 0.787 to 0.793."""
    return _LATIN_WORD.sub(_singular_match, normalize_text(text))


@dataclass(frozen=True)
class VectorizerConfig:
    """How article text becomes a vector; saved with the model so drafts are treated alike."""

    sublinear_tf: bool = True
    min_df: int = 2
    max_df: float = 0.5
    ngram_max: int = 2
    max_features: int = 300_000
    lsa_dims: int = 10
    lsa_weight: float = 0.4
    singular: bool = True
    # A run of capitalised words making this many terms or more ("Sanjay Leela Bhansali")
    # is also one term (TermAnalyzer.names); 0 turns it off (and is how a model saved
    # before it is read).
    name_words: int = 3

    def to_json(self) -> dict[str, float | int | bool]:
        return asdict(self)


def stop_words(config: VectorizerConfig) -> list[str]:
    """Stop words as the vectorizer sees them: normalised, and made singular when the text is
    (so "others" is stopped as "other" too, and scikit-learn's consistency check holds)."""
    words = {normalize_text(w) for w in ENGLISH_STOP_WORDS | HINDI_STOP_WORDS}
    if config.singular:
        words |= {normalize_singular(w) for w in words}
    return sorted(words)


_TOKEN = re.compile(TOKEN_PATTERN)
# Two or more words in a row, each starting with a capital (ASCII or Latin-1), separated by
# spaces or tabs only: a line break or any punctuation between words ends the run, a full
# stop too ("... Shah Rukh Khan. Deepika Padukone ..." is two runs; the first version let a
# word end in a full stop and joined them, a quarter of BBC's name terms). The pattern opens
# with the capital (so the regex engine skips to capitals) and only then looks behind it for
# a word character (a capital inside a word starts nothing): twice as fast as looking
# behind first.
_CAPITAL = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_IN_WORD = "\\w'\u2019-"
_NAME_RUN = re.compile(rf"[{_CAPITAL}](?<!\w.)[{_IN_WORD}]*(?:[ \t]+[{_CAPITAL}][{_IN_WORD}]*)+")
_DROPPED = ""  # a cached token that is a stop word (no term is empty)
FIT_CACHE = 500_000  # distinct tokens remembered while fitting (then it starts over)
SERVING_CACHE = 20_000  # and by a serving worker's encoder (drafts, edits)


class TermAnalyzer:
    """Text to the vectorizer's terms, one pass: the terms scikit-learn's word analyzer makes
    with `preprocessor=normalize_singular` (or `normalize_text`), `token_pattern=TOKEN_PATTERN`,
    the config's stop words and word n-grams up to `ngram_max` (unigrams, then pairs), then
    the names of `name_words` terms or more (`names`, not scikit-learn's), with
    each distinct token's fate (its singular form, or dropped) cached. Making words singular
    token by token is the same as on the whole text: a plural the rule changes is a run of
    letters a-z between characters that are not word characters, so it never crosses a
    token's edge (tests hold the two equal). Profiled on 10,000 articles, preprocessing the
    whole text (a regular-expression callback per word for plurals) was two thirds of the
    analysis."""

    def __init__(self, config: VectorizerConfig, cache_limit: int = FIT_CACHE) -> None:
        self.singular = config.singular
        self.ngram_max = config.ngram_max
        self.name_words = config.name_words
        self.stop = frozenset(stop_words(config))
        self.cache_limit = cache_limit
        self._cache: dict[str, str] = {}

    def _term(self, token: str) -> str:
        term = _LATIN_WORD.sub(_singular_match, token) if self.singular else token
        if term in self.stop:
            term = _DROPPED
        if len(self._cache) >= self.cache_limit:
            self._cache.clear()
        self._cache[token] = term
        return term

    def _terms(self, text: str) -> list[str]:
        tokens = _TOKEN.findall(normalize_text(text))
        found = list(map(self._cache.get, tokens))  # one C-level pass when all are known
        if None in found:
            found = [self._term(t) if f is None else f for t, f in zip(tokens, found, strict=True)]
        return [term for term in found if term]  # stop words are cached as ""

    def __call__(self, text: str) -> list[str]:
        terms = self._terms(text)
        grams = list(terms)
        if self.ngram_max >= 2:
            grams += [f"{a} {b}" for a, b in itertools.pairwise(terms)]
        for size in range(3, min(self.ngram_max, len(terms)) + 1):
            grams += [" ".join(terms[i : i + size]) for i in range(len(terms) - size + 1)]
        if self.name_words > 0:
            grams += self.names(text)
        return grams

    def names(self, text: str) -> list[str]:
        """Each run of capitalised words that makes `name_words` terms or more, as one term
        of those terms ("Sanjay Leela Bhansali" -> "sanjay leela bhansali"; stop words and
        single letters left out and hyphens splitting words, as everywhere: "The Bank Of
        England" makes two terms, "Coca-Cola Company" three). A full name then counts as one
        term of its own beside its words and pairs, which a story that shares only "leela"
        or "sanjay leela" does not have. Devanagari has no capitals: Hindi names get no
        such term. A capitalised word opening a sentence joins the run ("Director Sanjay
        Leela Bhansali"); such terms, like a headline in Title Case, are mostly seen once
        and `min_df` drops them."""
        found = []  # (with `ngram_max` 3 a three-word name adds to its trigram's count)
        # NFC first: a draft may spell "É" as "E" and a combining accent (articles are
        # stored NFC-normalised), which would end the capital's word at the accent.
        for run in _NAME_RUN.findall(unicodedata.normalize("NFC", text)):
            words = self._terms(run)
            if len(words) >= self.name_words:
                found.append(" ".join(words))
        return found


class _CountingVectorizer(TfidfVectorizer):  # type: ignore[misc]
    """scikit-learn's TfidfVectorizer with the counting of its fit done without a Python
    operation per term: each text's terms become column numbers in one C-level `map` over
    the growing vocabulary, appended to one array; the matrix sums a row's repeats in
    scipy's C++; and the terms in fewer texts than `min_df` are dropped before scikit-learn
    sorts the vocabulary by name (it sorts every distinct term, most of them word pairs
    seen once, and drops them after). The same vocabulary, idf and matrix as scikit-learn's
    own counting (tests compare them, `max_features` ties included: the terms kept are
    sorted in the same order, so its ranking sees the same array). Transforming (drafts,
    edits: a fixed vocabulary) is scikit-learn's."""

    def _count_vocab(self, raw_documents: Any, fixed_vocab: bool) -> tuple[dict[str, int], Any]:
        if fixed_vocab:
            return super()._count_vocab(raw_documents, fixed_vocab)  # type: ignore[no-any-return]
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__
        number = vocabulary.__getitem__
        analyze = self.build_analyzer()
        columns = array("i")  # column numbers as C ints (scikit-learn's own index type)
        indptr = [0]
        for doc in raw_documents:
            columns.extend(map(number, analyze(doc)))
            indptr.append(len(columns))
        if not vocabulary:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        # As scikit-learn chooses: 32-bit row offsets unless the entries need 64.
        offsets = np.int32 if indptr[-1] <= np.iinfo(np.int32).max else np.int64
        counts = sparse.csr_matrix(
            (
                np.ones(len(columns), dtype=self.dtype),
                np.frombuffer(columns, dtype=np.intc) if columns else np.zeros(0, np.intc),
                np.asarray(indptr, dtype=offsets),
            ),
            shape=(len(indptr) - 1, len(vocabulary)),
            copy=True,  # the occurrences' buffer (some 180 MB at 100,000 articles) goes now
        )
        del columns, indptr
        counts.sum_duplicates()  # sorts each row's columns and adds up repeats
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * counts.shape[0]
        frequent = np.asarray(np.bincount(counts.indices, minlength=counts.shape[1]) >= low)
        if frequent.all() or not frequent.any():  # nothing to drop, or let sklearn say why
            return dict(vocabulary), counts
        terms = list(vocabulary)  # in column order: numbers were given as terms arrived
        kept = np.flatnonzero(frequent)
        counts = counts[:, kept]
        return {terms[i]: n for n, i in enumerate(kept.tolist())}, counts


def make_vectorizer(
    config: VectorizerConfig, vocabulary: Sequence[str] | None = None
) -> TfidfVectorizer:
    return _CountingVectorizer(
        analyzer=TermAnalyzer(config, FIT_CACHE if vocabulary is None else SERVING_CACHE),
        sublinear_tf=config.sublinear_tf,
        min_df=config.min_df if vocabulary is None else 1,
        max_df=config.max_df if vocabulary is None else 1.0,
        max_features=config.max_features if vocabulary is None else None,
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def article_texts(titles: Sequence[str], bodies: Sequence[str]) -> list[str]:
    return [f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)]


@dataclass(frozen=True)
class Encoder:
    """A fitted TF-IDF vectorizer and LSA components: turns articles into unit vectors."""

    vectorizer: TfidfVectorizer
    components: np.ndarray  # (lsa dims, vocabulary size); zero rows when LSA is off
    config: VectorizerConfig

    @property
    def vocabulary_size(self) -> int:
        return int(self.components.shape[1])

    def encode(self, titles: Sequence[str], bodies: Sequence[str]) -> sparse.csr_matrix:
        tfidf = normalize(self.vectorizer.transform(article_texts(titles, bodies)))
        return self._blend(tfidf)

    def _blend(self, tfidf: sparse.csr_matrix) -> sparse.csr_matrix:
        if self.components.shape[0] == 0:
            return tfidf.astype(np.float32).tocsr()
        weight = self.config.lsa_weight
        dense = normalize(np.asarray(tfidf @ self.components.T))
        parts = [np.sqrt(1 - weight) * tfidf, sparse.csr_matrix(np.sqrt(weight) * dense)]
        blended = sparse.hstack(parts, format="csr", dtype=np.float32)
        # Rows with no term at all stay zero (they are related to nothing).
        return blended


def fit_encoder(
    titles: Sequence[str], bodies: Sequence[str], config: VectorizerConfig
) -> tuple[Encoder, sparse.csr_matrix] | None:
    """Learn vocabulary, idf and LSA components from whole articles, and encode them; None
    when the articles hold no term at all (nothing can be related then)."""
    texts = article_texts(titles, bodies)
    vectorizer = make_vectorizer(config)
    # Document-frequency cut-offs need enough documents to mean anything.
    if len(texts) < 20:
        vectorizer.set_params(min_df=1, max_df=1.0)
    try:
        tfidf = vectorizer.fit_transform(texts)
    except ValueError:
        # Every term was pruned (e.g. 25 copies of one template): keep them all rather than
        # fail the build; a corpus with no terms at all gets no encoder.
        vectorizer.set_params(max_df=1.0, min_df=1)
        try:
            tfidf = vectorizer.fit_transform(texts)
        except ValueError:
            return None
    tfidf = normalize(tfidf)
    dims = min(config.lsa_dims, tfidf.shape[0] - 1, tfidf.shape[1] - 1)
    if dims >= 2 and config.lsa_weight > 0:
        svd = TruncatedSVD(n_components=dims, n_iter=7, random_state=0)
        # A corpus of one text repeated has no variance to explain (0/0 in the ratio).
        with np.errstate(divide="ignore", invalid="ignore"):
            svd.fit(tfidf)
        components = svd.components_.astype(np.float32)
        if not np.isfinite(components).all():
            components = np.zeros((0, tfidf.shape[1]), dtype=np.float32)
    else:
        components = np.zeros((0, tfidf.shape[1]), dtype=np.float32)
    encoder = Encoder(vectorizer, components, config)
    return encoder, encoder._blend(tfidf)


def restore_encoder(
    vocabulary: Sequence[str], idf: np.ndarray, components: np.ndarray, config: VectorizerConfig
) -> Encoder:
    """A fitted encoder rebuilt from saved arrays (no pickle)."""
    vectorizer = make_vectorizer(config, vocabulary=list(vocabulary))
    vectorizer.idf_ = idf
    return Encoder(vectorizer, components, config)
