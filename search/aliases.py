"""Name aliases: groups of spellings readers use for one person, film or term.

A group is written on one line as variants separated by `=`:

    SRK = Shah Rukh Khan = Shahrukh Khan = शाहरुख़ ख़ान

A query that contains any variant (as whole words, in order) searches for every variant of the
group, each scored as if the reader had typed it (an OR of the variants as phrases), so an
article that only says "SRK" ranks as it would for a reader who typed "SRK".

Errors: `AliasError` (a malformed alias file or group, with its line).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from search import SearchError
from search.analysis import NUKTA, name_analyzer, tokens

MAX_GROUPS = 5_000
MAX_VARIANTS = 20  # per group
MAX_VARIANT_WORDS = 6
MAX_VARIANT_CHARS = 100
_WORDS = name_analyzer()


class AliasError(SearchError):
    """An alias file or group that cannot be used; the message names the line and why."""


@dataclass(frozen=True)
class AliasGroup:
    variants: tuple[str, ...]  # as written; the first is the one shown in suggestions
    keys: tuple[tuple[str, ...], ...]  # each variant as folded, lowercase words


def _group(variants: Sequence[str], where: str) -> AliasGroup:
    cleaned = [" ".join(v.split()) for v in variants]
    if any(not v for v in cleaned):
        raise AliasError(f"{where}: an empty variant (two '=' in a row, or one at an end)")
    if len(cleaned) < 2:
        raise AliasError(f"{where}: a group needs at least two variants separated by '='")
    if len(cleaned) > MAX_VARIANTS:
        raise AliasError(f"{where}: more than {MAX_VARIANTS} variants")
    keys = []
    for variant in cleaned:
        if len(variant) > MAX_VARIANT_CHARS:
            raise AliasError(f"{where}: variant longer than {MAX_VARIANT_CHARS} characters")
        # (A nukta alone is an empty token: a variant of nothing but nuktas has no words,
        # and as a key it matched the empty text between any two words.)
        key = tuple(word for word in tokens(_WORDS, variant) if word)
        if not key:
            raise AliasError(f"{where}: variant {variant!r} has no words")
        if len(key) > MAX_VARIANT_WORDS:
            raise AliasError(
                f"{where}: variant {variant!r} has more than {MAX_VARIANT_WORDS} words"
            )
        keys.append(key)
    # Variants that fold to the same words ("Shahrukh" and "shahrukh") are one, written as
    # the first of them (a later one replaced it: "Café Coffee Day = CCD = Cafe Coffee Day"
    # showed "Cafe Coffee Day" as the group's first spelling).
    unique: dict[tuple[str, ...], str] = {}
    for key, variant in zip(keys, cleaned, strict=True):
        unique.setdefault(key, variant)
    if len(unique) < 2:
        raise AliasError(f"{where}: all variants are the same words")
    return AliasGroup(tuple(unique.values()), tuple(unique))


@dataclass(frozen=True)
class AliasTable:
    groups: tuple[AliasGroup, ...] = ()

    @property
    def by_key(self) -> dict[tuple[str, ...], AliasGroup]:
        """Each variant's words to its group (a later group wins a variant two groups share)."""
        found = self.__dict__.get("_by_key")
        if found is None:
            found = {key: g for g in self.groups for key in g.keys}
            object.__setattr__(self, "_by_key", found)
        return found

    @classmethod
    def from_groups(cls, groups: Iterable[Sequence[str]]) -> AliasTable:
        built = [_group(list(g), f"group {n}") for n, g in enumerate(groups, start=1)]
        return cls._checked(built)

    @classmethod
    def parse(cls, text: str, source: str = "aliases") -> AliasTable:
        built = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                built.append(_group(line.split("="), f"{source}:{number}"))
        return cls._checked(built)

    @classmethod
    def _checked(cls, groups: list[AliasGroup]) -> AliasTable:
        if len(groups) > MAX_GROUPS:
            raise AliasError(f"more than {MAX_GROUPS} alias groups")
        return cls(tuple(groups))

    def canonical(self, text: str) -> str:
        """`text` with every variant written as its group's first spelling ("SRK" and
        "शाहरुख़ ख़ान" become "Shah Rukh Khan"): how related-article vectors see aliases, so
        stories that name a star differently share the name's terms. Nukta-insensitive and
        case-insensitive (`fold_case`); whole words only; the longest variant wins."""
        if not self.groups:
            return text
        pattern, first = self._canonical_pattern()
        written = unicodedata.normalize("NFC", text).replace(NUKTA, "")
        folded = fold_case(written)  # letter for letter: a match's place is the same in both
        parts: list[str] = []
        end = 0
        for match in pattern.finditer(folded):
            parts += (written[end : match.start()], first[" ".join(match.group(0).split())])
            end = match.end()
        return "".join(parts) + written[end:] if parts else written

    def _canonical_pattern(self) -> tuple[re.Pattern[str], dict[str, str]]:
        found = self.__dict__.get("_canonical")
        if found is None:
            first = {_variant_key(v): g.variants[0] for g in self.groups for v in g.variants}
            body = _trie_pattern(first)
            pattern = re.compile(rf"(?<![\w\u0900-\u097F])(?:{body})(?![\w\u0900-\u097F])")
            found = (pattern, first)
            object.__setattr__(self, "_canonical", found)
        return found

    def to_text(self) -> str:
        return "".join(" = ".join(g.variants) + "\n" for g in self.groups)

    def as_lists(self) -> list[list[str]]:
        return [list(g.variants) for g in self.groups]

    def completions(self, typed: Sequence[str], partial: str) -> list[str]:
        """Variants (and their group's first spelling) that the words typed so far begin."""
        found: list[str] = []
        for group in self.groups:
            for key, variant in zip(group.keys, group.variants, strict=True):
                prefix = [*typed, partial] if partial else list(typed)
                if len(prefix) > len(key) or not prefix:
                    continue
                head, last = key[: len(prefix) - 1], key[len(prefix) - 1]
                if list(head) == prefix[:-1] and last.startswith(prefix[-1]):
                    # Lowercase, like the completions drawn from the index.
                    for shown in (variant.lower(), group.variants[0].lower()):
                        if shown not in found:
                            found.append(shown)
        return found


def starter_aliases() -> AliasTable:
    """The list shipped with Gupshup (film-industry names and terms, written by us)."""
    text = resources.files("search").joinpath("starter_aliases.txt").read_text(encoding="utf-8")
    return AliasTable.parse(text, "starter_aliases.txt")


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regular expression for all `keys` (folded words joined by single spaces, a space
    matching any run of white space), written as a trie: "amir khan" and "amitabh" share
    "ami", so the engine reads each character of the text once per position instead of once
    per variant. It matches what an alternation of the keys, longest first, matches at a
    position (the deepest variant the text completes is tried first, and shorter ones on the
    way back), tested equal on generated text (starter list, the 10k bench corpus's bodies:
    1.52 s with the alternation, 0.59 s with the trie and `fold_case`). Matched
    against text folded as the keys are (`fold_case`), so no two branches of a node can
    match one character: the first version matched with `re.IGNORECASE`, under which the
    dotless i (U+0131) also matches "i", and the trie's order could then pick a shorter
    variant."""
    trie: dict[str, Any] = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [
            (r"\s+" if char == " " else re.escape(char)) + emit(child)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a key ends here: the longer ones are tried first, then none
            body = f"(?:{body})?" if len(branches) == 1 else f"{body}?"
        return body

    return emit(trie)


def _variant_key(text: str) -> str:
    """A variant as `canonical` matches it: NFC, no nukta, folded, single spaces."""
    return " ".join(fold_case(unicodedata.normalize("NFC", text).replace(NUKTA, "")).split())


# Letters that lowercase apart but read as one letter (the classes Python's case-insensitive
# matching merges, `re._casefix`, written out here), and the Turkish capital dotted I, whose
# lowercase is two characters: each becomes one chosen letter of its class.
_ONE_LETTER = {
    0x131: 0x69,  # dotless i
    0x130: 0x69,  # capital dotted I
    0x17F: 0x73,  # long s
    0xB5: 0x3BC,  # micro sign, mu
    0x345: 0x3B9,  # iota subscript, iota
    0x1FBE: 0x3B9,
    0x1FD3: 0x390,
    0x1FE3: 0x3B0,
    0x3D0: 0x3B2,  # beta
    0x3F5: 0x3B5,  # epsilon
    0x3D1: 0x3B8,  # theta
    0x3F0: 0x3BA,  # kappa
    0x3D6: 0x3C0,  # pi
    0x3F1: 0x3C1,  # rho
    0x3C2: 0x3C3,  # final sigma
    0x3D5: 0x3C6,  # phi
    0x1C80: 0x432,  # old Cyrillic letter forms
    0x1C81: 0x434,
    0x1C82: 0x43E,
    0x1C83: 0x441,
    0x1C84: 0x442,
    0x1C85: 0x442,
    0x1C86: 0x44A,
    0x1C87: 0x463,
    0xA64B: 0x1C88,
    0x1E9B: 0x1E61,  # long s with dot above
    0xFB05: 0xFB06,  # the st ligatures
}


def fold_case(text: str) -> str:
    """`text` lowercase, letter for letter (the result is as long as the text, so a place in
    one is the same place in the other), with the letters of `_ONE_LETTER` made one."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lowercase is longer ("İ"): kept as one
        lowered = "".join(low if len(low := c.lower()) == 1 else c for c in text)
    return lowered.translate(_ONE_LETTER)
