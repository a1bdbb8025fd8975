"""Related articles: TF-IDF vectors (scikit-learn), precomputed top-k neighbour lists, cosine.

Knows nothing of storage, settings, HTTP or the search package: it takes `(id, title, body)`
triples and paths, and returns small frozen dataclasses. Artefacts are plain `.npy` and `.json`
files (no pickle), loaded with mmap.

Exception tree::

    RecommendError
    ├── ModelUnavailable   the model folder is missing or incomplete
    └── UnknownArticle     an id the model has no vector for
"""


class RecommendError(Exception):
    """Base of every error the recommend package raises on purpose."""


class ModelUnavailable(RecommendError):
    """The model folder is missing or incomplete."""


class UnknownArticle(RecommendError):
    """An id that the model has no vector for."""
