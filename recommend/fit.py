"""Fitting the article encoder (recommend/vectorize.py) with scikit-learn: vocabulary, idf
and LSA components learnt from whole articles. Only a build imports this module (and
scikit-learn with it); serving encodes with what the build saved."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from recommend.vectorize import (
    FIT_CACHE,
    SERVING_CACHE,
    Encoder,
    TermAnalyzer,
    VectorizerConfig,
    article_texts,
)


class _CountingVectorizer(TfidfVectorizer):  # type: ignore[misc]
    """scikit-learn's TfidfVectorizer with the counting of its fit done without a Python
    operation per term: each text's terms become column numbers in one C-level `map` over
    the growing vocabulary, appended to one array; the matrix sums a row's repeats in
    scipy's C++; and the terms in fewer texts than `min_df` are dropped before scikit-learn
    sorts the vocabulary by name (it sorts every distinct term, most of them word pairs
    seen once, and drops them after). The same vocabulary, idf and matrix as scikit-learn's
    own counting (tests compare them, `max_features` ties included: the terms kept are
    sorted in the same order, so its ranking sees the same array). Transforming (drafts,
    edits: a fixed vocabulary) is scikit-learn's.

    Word pairs are counted as pairs of numbers (`_count_with_pairs`): the same entries, in
    another order within a row than scikit-learn's (pairs are numbered after the single
    words), so what sums over a row (the LSA's products, the blend's norms) may differ in
    the last bits: at 10,000 bench articles the blended vectors moved by 5e-6 at most, 9,998
    of 10,000 neighbour lists stayed the same (every first ten the same set), BBC and AG
    News P@10 unchanged (0.9615, 0.8001). The fit at 100,000 articles: 35.2, 38.8 s ->
    25.9, 28.5 s (runs alternated)."""

    def _count_vocab(self, raw_documents: Any, fixed_vocab: bool) -> tuple[dict[str, int], Any]:
        if fixed_vocab:
            return super()._count_vocab(raw_documents, fixed_vocab)  # type: ignore[no-any-return]
        analyzer = self.analyzer
        if (
            isinstance(analyzer, TermAnalyzer)
            and analyzer.ngram_max == 2
            and analyzer.name_words != 2  # a two-word name is the same string as its pair
        ):
            return self._count_with_pairs(raw_documents, analyzer)
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__
        number = vocabulary.__getitem__
        analyze = self.build_analyzer()
        columns = array("i")  # column numbers as C ints (scikit-learn's own index type)
        indptr = [0]
        for doc in raw_documents:
            columns.extend(map(number, analyze(doc)))
            indptr.append(len(columns))
        terms = list(vocabulary)
        return self._counted(terms, _rows(self.dtype, columns, indptr, len(terms)))

    def _count_with_pairs(
        self, raw_documents: Any, analyzer: TermAnalyzer
    ) -> tuple[dict[str, int], Any]:
        """The same counting, with each word pair a pair of numbers instead of a string made
        for a dictionary lookup (at 100,000 articles, 22 million pairs, most seen once): a
        text's words and names get their numbers as before; its pairs are coded from the
        numbers of neighbouring words, numbered by `np.unique`, and spelt only if kept. The
        single words, the pairs and the names are counted as three matrices, added up."""
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__
        number = vocabulary.__getitem__
        words = array("i")  # each text's single words, in order
        word_ptr = [0]
        names = array("i")
        name_ptr = [0]
        for doc in raw_documents:
            text = self.decode(doc)
            words.extend(map(number, analyzer._terms(text)))
            word_ptr.append(len(words))
            if analyzer.name_words > 0:
                names.extend(map(number, analyzer.names(text)))
            name_ptr.append(len(names))
        singles = len(vocabulary)
        unit = np.frombuffer(words, dtype=np.intc) if words else np.zeros(0, np.intc)
        word_counts = np.diff(np.asarray(word_ptr, dtype=np.int64))
        # A pair at each place but a text's last word.
        last = np.asarray(word_ptr[1:], dtype=np.int64)[word_counts > 0] - 1
        is_pair = np.ones(len(unit), dtype=bool)
        is_pair[last] = False
        firsts = np.flatnonzero(is_pair)
        codes = unit[firsts].astype(np.int64) * singles + unit[firsts + 1]
        del firsts, is_pair
        coded, pair_columns = np.unique(codes, return_inverse=True)
        del codes
        pair_ptr = np.zeros(len(word_counts) + 1, dtype=np.int64)
        np.cumsum(np.maximum(word_counts - 1, 0), out=pair_ptr[1:])
        terms = _Spelt(list(vocabulary), coded, singles)
        width = len(terms)
        counts = (
            _rows(self.dtype, unit, word_ptr, width)
            + _rows(self.dtype, (pair_columns + singles).astype(np.intc), pair_ptr, width)
            + _rows(self.dtype, names, name_ptr, width)
        )
        return self._counted(terms, counts)

    def _counted(self, terms: Any, counts: sparse.csr_matrix) -> tuple[dict[str, int], Any]:
        """The count matrix with each row's repeats summed, as scikit-learn makes it, and
        the vocabulary of its columns that `min_df` keeps (`terms[n]` spells column n)."""
        if not len(terms):
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        counts.sum_duplicates()  # sorts each row's columns and adds up repeats
        # As scikit-learn chooses: 32-bit row offsets unless the entries need 64.
        offsets = np.int32 if counts.nnz <= np.iinfo(np.int32).max else np.int64
        counts.indptr = counts.indptr.astype(offsets, copy=False)
        counts.indices = counts.indices.astype(np.intc, copy=False)
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * counts.shape[0]
        frequent = np.asarray(np.bincount(counts.indices, minlength=counts.shape[1]) >= low)
        if frequent.all() or not frequent.any():  # nothing to drop, or let sklearn say why
            return {terms[i]: i for i in range(len(terms))}, counts
        kept = np.flatnonzero(frequent)
        counts = counts[:, kept]
        return {terms[i]: n for n, i in enumerate(kept.tolist())}, counts


def _rows(dtype: Any, columns: Any, indptr: Any, width: int) -> sparse.csr_matrix:
    """A count matrix whose row i holds a 1 at each of columns[indptr[i]:indptr[i + 1]]
    (repeats not yet summed); its own copy of `columns` (the occurrences' buffer, some 180 MB
    at 100,000 articles, can go)."""
    indptr = np.asarray(indptr)
    return sparse.csr_matrix(
        (
            np.ones(len(columns), dtype=dtype),
            np.frombuffer(columns, dtype=np.intc) if len(columns) else np.zeros(0, np.intc),
            indptr,
        ),
        shape=(len(indptr) - 1, width),
        copy=True,
    )


class _Spelt:
    """Column n's term, for the columns `_count_with_pairs` made: the single words and
    names by their number (`singles` of them), then the pairs in the order of their codes
    (first word's number x singles + the second's), spelt when asked."""

    def __init__(self, terms: list[str], coded: np.ndarray, singles: int) -> None:
        self._terms = terms
        self._coded = coded
        self._singles = singles

    def __len__(self) -> int:
        return self._singles + len(self._coded)

    def __getitem__(self, column: int) -> str:
        if column < self._singles:
            return self._terms[column]
        first, second = divmod(int(self._coded[column - self._singles]), self._singles)
        return f"{self._terms[first]} {self._terms[second]}"


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
        # A corpus of one text repeated has no variance to explain (0/0 in the ratio). BLAS on
        # one thread: large builds fit beside the index's processes, and OpenBLAS's own
        # threads spin while they wait (100k, alternated: 46.8, 48.4 s with a thread per core,
        # 38.0, 45.7 s with one).
        with np.errstate(divide="ignore", invalid="ignore"), threadpool_limits(1, "blas"):
            svd.fit(tfidf)
        components = svd.components_.astype(np.float32)
        if not np.isfinite(components).all():
            components = np.zeros((0, tfidf.shape[1]), dtype=np.float32)
    else:
        components = np.zeros((0, tfidf.shape[1]), dtype=np.float32)
    encoder = Encoder(
        vectorizer.vocabulary_,
        vectorizer.idf_.astype(np.float32),
        components,
        config,
        TermAnalyzer(config, SERVING_CACHE),
    )
    return encoder, encoder._blend(tfidf)
