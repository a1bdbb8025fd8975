"""The unstemmed words of titles and bodies, with how many articles use each.

"Did you mean" and the romanised-spelling variants need the index's real words (not stems) and
how common each is. Whoosh can keep them as a second indexed copy of every title and body
(`spelling=True`: a `spell_` field with a posting per word per article), but nothing searches
those postings: only their word list and document counts are read. Writing them was over a
third of the index build (3,000 articles: 10.5 s with them, 7.0 s without), so a build counts
the words itself and saves one small file beside the index instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from search.analysis import WordAnalyzer, news_analyzer

FILE_NAME = "words.tsv"


class WordsError(Exception):
    """The word list is missing or unreadable."""


# Unstemmed news analysis: the very tokens, folding and stop words of titles and bodies. A
# build passes its own with a large cache (search/build.py); this one serves the few articles
# changed since a build, for a server's whole life, so its cache stays small.
_ANALYZER = news_analyzer()


def spelling_words(text: str, analyzer: WordAnalyzer = _ANALYZER) -> set[str]:
    """The distinct words of `text` as the news analyzer sees them before stemming (what
    Whoosh's `spell_` fields held: its analyzer with `no_morph`)."""
    return analyzer.distinct_words(text)


class WordCounts:
    """Word -> number of articles whose title or body has it."""

    def __init__(
        self, counts: Counter[str] | None = None, analyzer: WordAnalyzer = _ANALYZER
    ) -> None:
        self._counts: Counter[str] = counts if counts is not None else Counter()
        self._analyzer = analyzer

    def add(self, *texts: str) -> None:
        """Count one article made of `texts` (each word once however often it appears)."""
        words: set[str] = set()
        for text in texts:
            words |= spelling_words(text, self._analyzer)
        self._counts.update(words)

    @property
    def counts(self) -> Counter[str]:
        return self._counts

    def merge(self, counts: Counter[str]) -> None:
        """Add the counts of other articles (another process's share of a build)."""
        self._counts.update(counts)

    def frequency(self, word: str) -> int:
        return self._counts.get(word, 0)

    def items(self) -> Iterator[tuple[str, int]]:
        return iter(self._counts.items())

    def __len__(self) -> int:
        return len(self._counts)

    def save(self, folder: Path) -> None:
        lines = (f"{word}\t{count}\n" for word, count in sorted(self._counts.items()))
        (folder / FILE_NAME).write_text("".join(lines), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> WordCounts:
        path = folder / FILE_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WordsError(f"cannot read the word list {path}: {exc}") from exc
        counts: Counter[str] = Counter()
        for number, line in enumerate(text.splitlines(), start=1):
            word, _, count = line.partition("\t")
            if not word or not count.isdigit():
                raise WordsError(f"{path}:{number}: not a word and a count")
            counts[word] = int(count)
        return cls(counts)

    @classmethod
    def of(cls, texts: Iterable[tuple[str, ...]]) -> WordCounts:
        counts = cls()
        for parts in texts:
            counts.add(*parts)
        return counts
