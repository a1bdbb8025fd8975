"""Fit and apply the TF-IDF vectorizer: Devanagari-aware tokens, title weighted above body."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse
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


@dataclass(frozen=True)
class VectorizerConfig:
    """How article text becomes a vector; saved with the model so drafts are treated alike."""

    title_weight: float = 2.0
    sublinear_tf: bool = True
    min_df: int = 1
    max_df: float = 0.8
    ngram_max: int = 1

    def to_json(self) -> dict[str, float | int | bool]:
        return asdict(self)


def stop_words() -> list[str]:
    return sorted({normalize_text(w) for w in ENGLISH_STOP_WORDS | HINDI_STOP_WORDS})


def make_vectorizer(
    config: VectorizerConfig, vocabulary: Sequence[str] | None = None
) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=normalize_text,
        token_pattern=TOKEN_PATTERN,
        stop_words=stop_words(),
        sublinear_tf=config.sublinear_tf,
        min_df=config.min_df if vocabulary is None else 1,
        max_df=config.max_df if vocabulary is None else 1.0,
        ngram_range=(1, config.ngram_max),
        dtype=np.float32,
        vocabulary=vocabulary,
    )


def fit_vectorizer(
    titles: Sequence[str], bodies: Sequence[str], config: VectorizerConfig
) -> TfidfVectorizer | None:
    """Learn vocabulary and idf from whole articles (title and body together); None when the
    articles hold no term at all (nothing can be related then)."""
    vectorizer = make_vectorizer(config)
    texts = [f"{t}\n{b}" for t, b in zip(titles, bodies, strict=True)]
    # max_df as a share needs enough documents to mean anything; tiny corpora keep every term.
    if len(titles) < 20:
        vectorizer.set_params(max_df=1.0)
    try:
        vectorizer.fit(texts)
    except ValueError:
        # Every term was pruned (e.g. 25 copies of one template): keep them all rather than
        # fail the build; a corpus with no terms at all gets an empty vocabulary.
        vectorizer.set_params(max_df=1.0, min_df=1)
        try:
            vectorizer.fit(texts)
        except ValueError:
            return None
    return vectorizer


def restore_vectorizer(
    vocabulary: Sequence[str], idf: np.ndarray, config: VectorizerConfig
) -> TfidfVectorizer:
    """A fitted vectorizer rebuilt from saved arrays (no pickle)."""
    vectorizer = make_vectorizer(config, vocabulary=list(vocabulary))
    vectorizer.idf_ = idf
    return vectorizer


def transform(
    vectorizer: TfidfVectorizer,
    titles: Sequence[str],
    bodies: Sequence[str],
    config: VectorizerConfig,
) -> sparse.csr_matrix:
    """Unit-length rows: title vector times `title_weight` plus body vector, l2-normalised,
    so the dot product of two rows is their cosine."""
    title_vectors = vectorizer.transform(titles)
    body_vectors = vectorizer.transform(bodies)
    combined = (config.title_weight * title_vectors + body_vectors).tocsr()
    return normalize(combined, norm="l2", copy=False).astype(np.float32)
