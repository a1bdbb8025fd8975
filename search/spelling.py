"""Did you mean: swap likely typos for frequent indexed words a small edit distance away."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis import TOKEN_PATTERN, fold
from search.query import Clause
from search.words import WordCounts

# The words of the word list (search/words.py) are the analyzer's tokens: "KGF2" is "kgf" and
# "2", so that is how a query's words are looked up too.
WORD = re.compile(TOKEN_PATTERN)
MIN_WORD_CHARS = 4
MAX_WORD_CHARS = 30  # longer "words" are pasted junk, not typos
# A query with more unknown words than this is not a typo to fix; each respelling costs a
# fuzzy walk of the term dictionary, so a public endpoint must bound them.
MAX_RESPELT = 4
# A known word is respelt only if at most RARE articles have it, and only
# into a word at least MIN_GAIN times more frequent.
RARE = 3
MIN_GAIN = 3


def max_distance(word: str) -> int:
    return 1 if len(word) < 8 else 2


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (adjacent swaps count once: "pathana" -> "pathaan" is one edit)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, start=1):
        row = [i]
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def _swaps(word: str) -> set[str]:
    return {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}


Vocabulary = Mapping[str, Sequence[str]]  # the index's words by their first letter


def best_replacement(
    words: WordCounts, word: str, vocabulary: Vocabulary, *, known_too: bool
) -> str | None:
    """The most frequent indexed word nearest to `word`, if it is clearly more common.
    A word the index knows is only replaced when `known_too` (a second, bolder pass), and
    only if it is rare."""
    own = words.frequency(word)
    if own and (not known_too or own > RARE):
        return None
    # A known word is only respelt by one edit ("pathan" -> "pathaan"), never by two
    # ("concert" -> "content"): known words are more often right than wrong.
    limit = 1 if own else max_distance(word)
    # The first letter is taken as typed (readers rarely get it wrong, and it leaves a
    # twenty-sixth of the vocabulary to compare); a swap of the first two is tried directly.
    # Every word of those within the distance is a candidate (rapidfuzz's optimal string
    # alignment distance, in C: an adjacent swap is one edit, as in `edit_distance`).
    # Whoosh's own corrector computed each distance in Python: 100 ms and more per word at
    # 30,000 articles.
    choices = vocabulary.get(word[:1], ())
    near = process.extract(word, choices, scorer=OSA.distance, score_cutoff=limit, limit=None)
    candidates = _swaps(word) | {choice for choice, _, _ in near}
    scored = []
    for candidate in candidates - {word}:
        distance = edit_distance(word, candidate)
        if distance > limit:
            continue
        frequency = words.frequency(candidate)
        # An unknown word takes any indexed neighbour; a known one only a far commoner word.
        if frequency >= (own * MIN_GAIN if own else 1):
            scored.append((distance, -frequency, candidate))
    return min(scored)[2] if scored else None


def correct(
    counts: WordCounts,
    clauses: list[Clause],
    vocabulary: Vocabulary,
    *,
    known_too: bool = False,
    also: WordCounts | None = None,
) -> list[Clause] | None:
    """The clauses with likely typos in their words replaced, or None when none look misspelt.
    Words the index has never seen are replaced; with `known_too`, rare known words are too
    (a caller tries that only when the first pass found nothing better). Field-bound clauses
    (`author:...`, `category:...`) are left alone: they are not prose. At most MAX_RESPELT
    words are looked up; a query with more unknown words than that is left as it is."""
    words = [
        fold(m.group().lower()) for c in clauses if c.field is None for m in WORD.finditer(c.text)
    ]
    candidates = [w for w in words if MIN_WORD_CHARS <= len(w) <= MAX_WORD_CHARS]

    def known(word: str) -> bool:
        # `also` is the index of articles changed since the build: their words are real too.
        return bool(counts.frequency(word)) or (also is not None and bool(also.frequency(word)))

    unknown = [w for w in candidates if not w.isdigit() and not known(w)]
    if len(unknown) > MAX_RESPELT or (known_too and len(candidates) > MAX_RESPELT):
        return None
    changed = False
    fixed: list[Clause] = []
    for clause in clauses:
        if clause.field is not None:
            fixed.append(clause)
            continue
        text = WORD.sub(
            lambda m: (
                m.group()
                if known(fold(m.group().lower())) and not known_too
                else _fix_word(counts, m.group(), vocabulary, known_too)
            ),
            clause.text,
        )
        changed = changed or text != clause.text
        fixed.append(replace(clause, text=text))
    return fixed if changed else None


def _fix_word(counts: WordCounts, typed: str, vocabulary: Vocabulary, known_too: bool) -> str:
    word = fold(typed.lower())
    if not MIN_WORD_CHARS <= len(word) <= MAX_WORD_CHARS or word.isdigit():
        return typed
    return best_replacement(counts, word, vocabulary, known_too=known_too) or typed
