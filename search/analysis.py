"""Analyzers: Unicode-aware tokenizing that keeps Devanagari words whole, folding, stemming."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang import stemmer_for_language

# A token is one of:
# - an English contraction or possessive ending, apostrophe included ("SRK's" gives "SRK" and
#   "'s", "don't" gives "don" and "'t"); these are stop words, so the bare letters "s", "t",
#   "d" or "m" stay searchable ("T20", "3D");
# - a run of Greek letters ("TNF-α", "PPARγ" give "tnf", "alpha"; "ppar", "gamma": a single
#   Greek letter is indexed by its English name, so it matches the spelt-out word);
# - a run of digits ("COVID19" and "COVID-19" both give "covid", "19"; "Pathaan2" matches
#   "Pathaan 2");
# - a run of other word characters. `\w` alone splits Hindi words at vowel signs and virama
#   (they are combining marks, not letters), so the Devanagari block is added explicitly,
#   minus the dandas (U+0964/U+0965), which are sentence punctuation, and its digits, which
#   are digits.
# On SciFact these rules took test recall@100 from 0.911 to 0.924 and nDCG@10 from 0.692 to
# 0.702, and train from 0.9215 / 0.6973 to 0.9295 / 0.6994 (README, Quality).
GREEK = "\u00b5\u0370-\u03ff\u1f00-\u1fff"
APOSTROPHES = "'\u2019"
CONTRACTION_ENDINGS = ("s", "t", "d", "ll", "re", "ve", "m")
# An ending: an apostrophe after a word character, then one of CONTRACTION_ENDINGS as a whole.
ENDING = rf"[{APOSTROPHES}](?<=\w[{APOSTROPHES}])(?i:{'|'.join(CONTRACTION_ENDINGS)})(?!\w)"
TOKEN_PATTERN = "|".join(
    (
        ENDING,
        rf"(?:(?=\w)[{GREEK}])+",  # the Greek blocks' letters (the blocks hold marks too)
        r"\d+",
        rf"(?:[^\W\d{GREEK}]|[\u0900-\u0963\u0970-\u097F])+",
    )
)
# A lone Greek letter, lowercased (and the micro sign, which is a mu), as its English name.
GREEK_NAMES = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψωµ",
        (
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
            "pi rho sigma sigma tau upsilon phi chi psi omega mu"
        ).split(),
        strict=True,
    )
)
NUKTA = "\u093c"
# The contraction and possessive endings as tokens ("'s", "’s"): stop words of the text
# fields, and left out of the words an alias is looked up by.
CONTRACTION_PARTS = frozenset(a + e for a in APOSTROPHES for e in CONTRACTION_ENDINGS)
ENGLISH_STOP_WORDS = frozenset(STOP_WORDS) | CONTRACTION_PARTS


def fold(text: str) -> str:
    """NFC, Devanagari nukta removed (ख़ matches ख), Latin accents removed (é matches e)."""
    text = unicodedata.normalize("NFC", text).replace(NUKTA, "")
    if text.isascii():
        return text
    out = []
    for ch in text:
        if "\u00c0" <= ch <= "\u024f":
            ch = unicodedata.normalize("NFD", ch)[0]
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out).replace(NUKTA, ""))


def abbreviation_singular(word: str) -> str:
    """`word` without the plural "s" of a capitalised abbreviation ("RNAs": "RNA")."""
    return word[:-1] if len(word) > 2 and word[-1] == "s" and word[-2].isupper() else word


def fold_term(text: str) -> str:
    """`fold`, then a lone Greek letter as its English name (`GREEK_NAMES`)."""
    folded = fold(text)
    return GREEK_NAMES.get(folded, folded)


class AcronymPluralFilter(Filter):  # type: ignore[misc]
    """Drops the plural "s" of a capitalised abbreviation ("RNAs", "RXRs", "MPs", "DVDs"):
    Porter2 keeps it after a vowel or when the word has none ("rnas", "rxrs"), so the plural
    never met the singular. A stemming step: it stays out of the unstemmed words (no_morph).
    On SciFact (train) recall@100 0.9295 -> 0.9307, nDCG@10 0.6994 -> 0.6999."""

    is_morph = True

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = abbreviation_singular(token.text)
            yield token


class FoldFilter(Filter):  # type: ignore[misc]
    """Applies `fold_term` to every token's text."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = fold_term(token.text)
            yield token


SERVING_CACHE = 20_000
BUILD_CACHE = 500_000


# TOKEN_PATTERN in two steps, as the analyzer and the snippets find words: its alternation
# made finding the words of 10,000 articles 3.6 times slower than one character class (1.22
# against 0.34 s; step one's pattern takes 0.35-0.49 s), and the words it splits are few.
# Step one finds the endings and runs of word characters (one class); step two cuts the rare
# run with a digit or a Greek letter beside other characters.
_RUNS = re.compile(ENDING + r"|[\w\u0900-\u0963\u0966-\u097F]+")
_CUTS = re.compile(rf"[\d{GREEK}]")
_PARTS = re.compile(rf"\d+|[{GREEK}]+|[^\d{GREEK}]+")


def _parts(run: str) -> list[tuple[str, int, int]] | None:
    """Where TOKEN_PATTERN cuts a run of step one: (part, start, end), or None if it does
    not (a run of letters, of digits or of Greek letters, or an ending)."""
    if (run.isascii() and run.isalpha()) or _CUTS.search(run) is None:
        return None
    found = [(m.group(), m.start(), m.end()) for m in _PARTS.finditer(run)]
    return found if len(found) > 1 else None


def word_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Each token of `text` as written, with its start and end: `TOKEN_PATTERN.finditer`'s
    matches (a test holds them equal), found faster."""
    for match in _RUNS.finditer(text):
        run = match.group()
        parts = _parts(run)
        if parts is None:
            yield run, match.start(), match.end()
        else:
            base = match.start()
            for part, start, end in parts:
                yield part, base + start, base + end


# What the caches map a run of step one to: (term, stopped), or (None, parts) for a run that
# is cut, each part as (term, stopped, start, end) within the run.
Entry = tuple[str | None, Any]


class WordAnalyzer(Analyzer):  # type: ignore[misc]
    """The Whoosh chain `RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | FoldFilter()`,
    then optionally `StopFilter(ENGLISH_STOP_WORDS, minsize=1)` (which renumbers positions)
    and `StemFilter(lang="en")` (with `AcronymPluralFilter()` before the lowercasing), in one
    pass with one cache from the token as written to what the chain makes of it. Same
    tokens, positions, offsets and flags as the chain (a test compares them), at a fraction
    of the cost: the chain ran five generators and a stemmer cache per token, over a fifth
    of the index build (profile of 3,000 articles)."""

    def __init__(self, *, stop: bool, stem: bool, cache_limit: int = SERVING_CACHE) -> None:
        self.stop = stop
        self.stem = stem
        # Distinct tokens each cache holds before it starts over: large for a build (the
        # schema's analyzers meet every word of the corpus once), small for the analyzers a
        # server keeps for its whole life (queries, snippets), whose caches would otherwise
        # grow with every new word a reader types or a snippet shows.
        self.cache_limit = cache_limit
        self._prepare()

    def _prepare(self) -> None:
        self._stemmer = stemmer_for_language("en") if self.stem else None
        # run of step one -> Entry; one cache with stemming, one without (no_morph); and
        # folded word -> stem, so "Film", "film" and "FILM" are stemmed once.
        self._caches: tuple[dict[str, Entry], dict[str, Entry]] = ({}, {})
        self._stems: dict[str, str] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Pickled into the index's schema: the settings, not the caches or the stemmer.
        return {"stop": self.stop, "stem": self.stem, "cache_limit": self.cache_limit}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.stop = state["stop"]
        self.stem = state["stem"]
        self.cache_limit = state["cache_limit"]
        self._prepare()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordAnalyzer) and (self.stop, self.stem) == (
            other.stop,
            other.stem,
        )

    def __hash__(self) -> int:
        return hash((WordAnalyzer, self.stop, self.stem))

    def has_morph(self) -> bool:
        return self.stem

    def _word(self, raw: str, morph: bool) -> tuple[str, bool]:
        """(term, stopped) of one token."""
        text = fold_term((abbreviation_singular(raw) if morph else raw).lower())
        stopped = self.stop and (not text or text in ENGLISH_STOP_WORDS)
        if morph and not stopped and self._stemmer is not None:
            stem = self._stems.get(text)
            if stem is None:
                if len(self._stems) >= self.cache_limit:
                    self._stems.clear()
                stem = self._stems[text] = self._stemmer(text)
            text = stem
        return text, stopped

    def _term(self, run: str, morph: bool) -> Entry:
        cache = self._caches[0 if morph else 1]
        found = cache.get(run)
        if found is None:
            parts = _parts(run)
            if parts is None:
                found = self._word(run, morph)
            else:
                found = (None, [(*self._word(p, morph), a, b) for p, a, b in parts])
            if len(cache) >= self.cache_limit:
                cache.clear()
            cache[run] = found
        return found

    def distinct_words(self, text: str) -> set[str]:
        """`{t.text for t in self(text, no_morph=True)}` without a token object per word."""
        found: set[str] = set()
        cache, term_of = self._caches[1], self._term
        for run in set(_RUNS.findall(text)):  # each distinct run once
            hit = cache.get(run)
            term, stopped = term_of(run, False) if hit is None else hit
            if term is None:
                found.update(t for t, s, _, _ in stopped if not s)
            elif not stopped:
                found.add(term)
        return found

    def term_positions(self, text: str) -> dict[str, list[int]]:
        """Each term of `text` and its positions, in order of first appearance: what
        Whoosh's `Positions.word_values` gathers from `self(text, positions=True)`, without
        a token object per word."""
        found: dict[str, list[int]] = {}
        term_of, morph, renumber = self._term, self.stem, self.stop
        cache = self._caches[0 if morph else 1]  # _term's own cache, read here to save a call
        renumbered = -1
        shift = 0  # the extra tokens of the runs cut so far
        for pos, run in enumerate(_RUNS.findall(text)):
            hit = cache.get(run)
            term, stopped = term_of(run, morph) if hit is None else hit
            if term is None:  # a run cut in parts: each is a token of its own
                for part, part_stopped, _, _ in stopped:
                    if not part_stopped:
                        at = pos + shift
                        if renumber:
                            renumbered = at if renumbered < 0 else renumbered + 1
                            at = renumbered
                        found.setdefault(part, []).append(at)
                    shift += 1
                shift -= 1
                continue
            if stopped:
                continue
            pos += shift
            if renumber:  # StopFilter's renumbering (see __call__)
                renumbered = pos if renumbered < 0 else renumbered + 1
                pos = renumbered
            places = found.get(term)
            if places is None:
                found[term] = [pos]
            else:
                places.append(pos)
        return found

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        no_morph: bool = False,
        **kwargs: Any,
    ) -> Iterator[Token]:
        assert isinstance(value, str), f"{value!r} is not unicode"
        morph = self.stem and not no_morph
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        words: Iterator[tuple[str, bool, str, int, int]]
        if tokenize:
            words = self._words(value, morph)
        else:  # the whole value is one token, cut nowhere
            words = iter(((*self._word(value, morph), value, 0, len(value)),))
        renumbered: int | None = None
        for raw_pos, (text, stopped, raw, start, end) in enumerate(words):
            if stopped and removestops:
                continue
            t.text = text
            t.boost = 1.0
            t.stopped = stopped
            if keeporiginal or not tokenize:
                t.original = raw
            if positions:
                pos = start_pos + raw_pos
                if self.stop and not stopped:
                    # StopFilter's renumbering: the first kept word keeps its place, the
                    # next ones follow it without gaps.
                    renumbered = pos if renumbered is None else renumbered + 1
                    pos = renumbered
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t

    def _words(self, value: str, morph: bool) -> Iterator[tuple[str, bool, str, int, int]]:
        """(term, stopped, token as written, start, end) of each token of `value`."""
        for match in _RUNS.finditer(value):
            run = match.group()
            term, stopped = self._term(run, morph)
            if term is not None:
                yield term, stopped, run, match.start(), match.end()
                continue
            base, parts = match.start(), stopped
            for part, part_stopped, start, end in parts:
                yield part, part_stopped, run[start:end], base + start, base + end


def news_analyzer(cache_limit: int = SERVING_CACHE) -> WordAnalyzer:
    """Stemmed English analysis for titles and bodies; Devanagari words pass through whole.

    The stemmer is Snowball's English (Porter2) rather than the original Porter: on SciFact
    (train split) it raised nDCG@10 from 0.6945 to 0.6973 with recall unchanged (README,
    Quality); it leaves Devanagari and other non-Latin words alone, as Porter did."""
    return WordAnalyzer(stop=True, stem=True, cache_limit=cache_limit)


def news_chain() -> Analyzer:
    """`news_analyzer` as the Whoosh filter chain it stands for (the tests compare them)."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | AcronymPluralFilter()
        | LowercaseFilter()
        | FoldFilter()
        | StopFilter(stoplist=ENGLISH_STOP_WORDS, minsize=1)
        | StemFilter(lang="en")
    )


def name_analyzer(cache_limit: int = SERVING_CACHE) -> WordAnalyzer:
    """Unstemmed analysis for names (authors): folding and lowercase only."""
    return WordAnalyzer(stop=False, stem=False, cache_limit=cache_limit)


def name_chain() -> Analyzer:
    """`name_analyzer` as the Whoosh filter chain it stands for."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | FoldFilter()


def tokens(analyzer: Analyzer, text: str) -> list[str]:
    """The terms `analyzer` makes of `text` (for query building and tests)."""
    return [token.text for token in analyzer(text)]


_DOUBLED = re.compile(r"(.)\1+")
_LATIN = re.compile(r"[a-z]+")


def phonetic_key(word: str) -> str | None:
    """A spelling-insensitive key for a romanised Hindi word: `pathan`/`pathaan`,
    `kapur`/`kapoor`, `dilwale`/`dilwaale`, `deepika`/`dipika`, `padukon`/`padukone` and
    `v`/`w` spellings share one. None for words that are not plain Latin letters, or that are
    too short for the key to mean anything."""
    word = fold(word.lower())
    if len(word) < 4 or not _LATIN.fullmatch(word):
        return None
    for old, new in (("ph", "f"), ("w", "v"), ("q", "k"), ("z", "j"), ("ck", "k")):
        word = word.replace(old, new)
    word = word.replace("ee", "i").replace("oo", "u")
    word = _DOUBLED.sub(r"\1", word)  # aa -> a, tt -> t, ll -> l
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word
