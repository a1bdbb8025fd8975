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
