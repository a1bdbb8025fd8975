"""Did you mean: the respelling chosen from the vocabulary agrees with brute force over it."""

from __future__ import annotations

import pytest

from search.index import SearchIndex
from search.spelling import (
    MIN_GAIN,
    _swaps,
    best_replacement,
    edit_distance,
    max_distance,
)
from tests.search.conftest import RARE, WORDS


def _brute_force(generated: SearchIndex, word: str, *, known_too: bool) -> str | None:
    """Every indexed word within the distance (first letter as typed, or the first two
    swapped), the nearest and then the commonest; a known word only for a far commoner one."""
    vocabulary = {w for words in generated.words_by_initial().values() for w in words}
    own = generated.words.frequency(word)
    if own and (not known_too or own > 3):
        return None
    limit = 1 if own else max_distance(word)
    best = []
    for other in vocabulary - {word}:
        if other[:1] != word[:1] and other not in _swaps(word):
            continue
        distance = edit_distance(word, other)
        frequency = generated.words.frequency(other)
        if distance <= limit and frequency >= (own * MIN_GAIN if own else 1):
            best.append((distance, -frequency, other))
    return min(best)[2] if best else None


def _typos() -> list[str]:
    found = []
    for word in (WORDS + RARE)[::3]:
        found.append(word[:2] + word[3:])  # a letter dropped
        found.append(word[1] + word[0] + word[2:])  # the first two swapped
        found.append(word[:-1] + "x" + word[-1])  # one added
        found.append(word[:2] + "zq" + word[4:])  # two replaced
    return found


@pytest.mark.parametrize("typo", _typos())
def test_respelling_is_the_nearest_commonest_vocabulary_word(
    generated: SearchIndex, typo: str
) -> None:
    vocabulary = generated.words_by_initial()
    found = best_replacement(generated.words, typo, vocabulary, known_too=False)
    assert found == _brute_force(generated, typo, known_too=False)


def test_a_dropped_letter_is_put_back(generated: SearchIndex) -> None:
    fixed = best_replacement(
        generated.words, "premere", generated.words_by_initial(), known_too=False
    )
    assert fixed == "premiere"
