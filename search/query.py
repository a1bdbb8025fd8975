"""Turn what a reader types into Whoosh queries; never raises on odd input.

Plain words, `"quoted phrases"`, `-exclusions` and `field:value` are understood. Anything else
(an unbalanced quote, a `field:` with no value, an unknown field, `*`, `~`, operators) falls
back to plain words: a search box must not answer a typo with an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from whoosh import query as wq
from whoosh.analysis import Analyzer

from search.aliases import MAX_VARIANT_WORDS, AliasGroup, AliasTable
from search.analysis import CONTRACTION_PARTS, name_analyzer, news_analyzer, tokens
from search.schema import category_key, key

# Query-time field weights. Each field's BM25 is added up, and the body field indexes the
# headline too (search/schema.py), so the title's weight is only the extra a headline word
# earns; on SciFact (train split) lowering it from 2.5 to 0.3 raised nDCG@10 from 0.599 to
# 0.687, and 0.3 stayed best once the body included the headline (0.6 gave 0.683; README,
# Quality). These are the served defaults.
FIELD_WEIGHTS: dict[str, float] = {"title": 0.3, "body": 1.0, "tags": 1.5, "author": 1.0}
FIELD_ALIASES = {
    "title": "title",
    "body": "body",
    "text": "body",
    "tag": "tags",
    "tags": "tags",
    "author": "author",
    "by": "author",
    "category": "category",
    "section": "category",
    "id": "id",
    "lang": "lang",
}
EXACT_FIELDS = {"category", "id", "lang"}
MAX_CLAUSES = 32

_NEWS = news_analyzer()
_NAMES = name_analyzer()
_TOKEN = re.compile(r'(-?)(?:([A-Za-z_]+):)?("([^"]*)"|\S+)')


@dataclass(frozen=True)
class Clause:
    """One unit of a reader's query: a word or phrase, maybe tied to a field, maybe negated."""

    text: str
    field: str | None = None
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Filters:
    """Exact filters from the request (not from the query text)."""

    category: str | None = None
    author: str | None = None
    tag: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


def parse(text: str) -> list[Clause]:
    """Split a query string into clauses; malformed syntax degrades to plain words."""
    if text.count('"') % 2:
        text = text.replace('"', " ")
    clauses: list[Clause] = []
    for match in _TOKEN.finditer(text):
        negated, field_name, whole, quoted = match.groups()
        field = FIELD_ALIASES.get(field_name.lower()) if field_name else None
        value = quoted if quoted is not None else whole
        if field_name and field is None:
            # Unknown field: the reader meant words ("re:union" -> "re union").
            clauses.append(Clause(field_name, negated=bool(negated)))
            field_name = None
        if not value.strip(' "'):
            if field_name:
                clauses.append(Clause(field_name))
            continue
        clauses.append(
            Clause(value.strip(), field=field, phrase=quoted is not None, negated=bool(negated))
        )
    return clauses[:MAX_CLAUSES]


def render(clauses: list[Clause]) -> str:
    """Clauses back as query text (what "did you mean" shows and links to)."""
    field_names = {v: k for k, v in FIELD_ALIASES.items() if k == v}
    parts = []
    for clause in clauses:
        text = f'"{clause.text}"' if clause.phrase or " " in clause.text else clause.text
        prefix = f"{field_names.get(clause.field, clause.field)}:" if clause.field else ""
        parts.append(("-" if clause.negated else "") + prefix + text)
    return " ".join(parts)


def _field_query(field: str, text: str, boost: float, phrase: bool) -> wq.Query | None:
    if field in EXACT_FIELDS:
        return wq.Term(field, category_key(text) if field == "category" else text.strip())
    analyzer: Analyzer = _NAMES if field == "author" else _NEWS
    terms = tokens(analyzer, text)
    if not terms:
        return None
    if len(terms) == 1:
        return wq.Term(field, terms[0], boost=boost)
    if phrase:
        return wq.Phrase(field, terms, boost=boost)
    # An unquoted word that splits ("spider-man", "9/11") wants its parts near each other,
    # but a Phrase would be too strict for the search box: require all parts (the loose tier
    # takes them one by one: _positive_queries).
    return wq.And([wq.Term(field, t) for t in terms], boost=boost)


def clause_query(clause: Clause) -> wq.Query | None:
    """The Whoosh query for one clause (ignoring its negation), or None if it has no terms."""
    if clause.field is not None:
        return _field_query(clause.field, clause.text, 1.0, clause.phrase)
    # A word that is only stop words in the text fields carries no meaning: drop it, or the
    # author field (which keeps stop words) would make "the" a required term.
    if not tokens(_NEWS, clause.text):
        return None
    parts = [
        q
        for f, w in FIELD_WEIGHTS.items()
        if (q := _field_query(f, clause.text, w, clause.phrase)) is not None
    ]
    return wq.Or(parts) if len(parts) > 1 else (parts[0] if parts else None)


@dataclass(frozen=True)
class QueryPlan:
    """The tiers of a search-box query: `strict` (every clause) ranks above `loose` (any)."""

    strict: wq.Query | None
    loose: wq.Query | None
    exclude: wq.Query | None
    body_terms: frozenset[str] = frozenset()  # what a snippet marks
    respelt: bool = False  # some word was given spelling variants (see `plan`)

    @property
    def tiered(self) -> bool:
        return self.strict is not None and self.loose is not None and self.strict != self.loose


Respell = Callable[[str], Sequence[str]]


def _clause_words(clause: Clause) -> list[str]:
    words = tokens(_NAMES, clause.text)
    # "SRK's" is SRK as far as aliases go.
    return [w for w in words if w not in CONTRACTION_PARTS] if len(words) > 1 else words


def _alias_at(
    clauses: list[Clause], start: int, aliases: AliasTable
) -> tuple[AliasGroup, int] | None:
    """The alias group whose variant the plain clauses from `start` spell (longest first),
    and where the match ends. A quoted phrase matches only as a whole."""
    found: tuple[AliasGroup, int] | None = None
    words: list[str] = []
    for end in range(start, min(len(clauses), start + MAX_VARIANT_WORDS)):
        if clauses[end].phrase and end > start:
            break
        words.extend(_clause_words(clauses[end]))
        group = aliases.by_key.get(tuple(words))
        if group is not None:
            found = (group, end + 1)
        if clauses[end].phrase or len(words) >= MAX_VARIANT_WORDS:
            break
    return found


def _alias_queries(group: AliasGroup, typed: list[Clause]) -> tuple[wq.Query, list[wq.Query]]:
    """The strict clause and loose parts for a run of words that spells an alias variant:
    the words as typed (all of them, or any for the loose tier, as without aliases) or any
    other variant of the group, each queried as if typed alone, so an article scores as it
    would for a reader who had used its own spelling."""
    words = [q for c in typed if (q := clause_query(c)) is not None]
    typed_key = tuple(w for c in typed for w in _clause_words(c))
    others = [
        q
        for key, variant in zip(group.keys, group.variants, strict=True)
        if key != typed_key
        and (q := clause_query(Clause(variant, phrase=" " in variant))) is not None
    ]
    together = wq.And(words) if len(words) > 1 else (words[0] if words else None)
    strict_parts = ([together] if together is not None else []) + others
    strict = wq.Or(strict_parts) if len(strict_parts) > 1 else strict_parts[0]
    return strict, words + others


def _respelt_query(clause: Clause, respell: Respell) -> tuple[wq.Query | None, bool]:
    query = clause_query(clause)
    if query is None or clause.phrase or " " in clause.text.strip():
        return query, False
    others = [q for word in respell(clause.text) if (q := clause_query(Clause(word))) is not None]
    return (wq.Or([query, *others]), True) if others else (query, False)


def _positive_queries(
    clauses: list[Clause], aliases: AliasTable | None, respell: Respell | None
) -> tuple[list[wq.Query], list[wq.Query], bool]:
    """The strict clauses (all required) and loose parts (any) of the plain words."""
    stricts: list[wq.Query] = []
    looses: list[wq.Query] = []
    respelt = False
    at = 0
    while at < len(clauses):
        match = _alias_at(clauses, at, aliases) if aliases is not None else None
        if match is not None:
            group, end = match
            strict, parts = _alias_queries(group, clauses[at:end])
            stricts.append(strict)
            looses.extend(parts)
            at = end
            continue
        clause = clauses[at]
        at += 1
        if respell is not None:
            query, changed = _respelt_query(clause, respell)
            respelt = respelt or changed
        else:
            query = clause_query(clause)
        if query is None:
            continue
        stricts.append(query)
        # A word that splits ("IL-6", "T20", "spider-man") needs all its parts in the strict
        # tier, and counts as its words in the loose one, as if typed with spaces: on SciFact
        # (train) recall@100 0.9307 -> 0.9351, nDCG@10 0.6999 -> 0.7036 (README, Quality).
        pieces = [] if clause.phrase else _pieces(clause.text)
        if len(pieces) <= 1:
            looses.append(query)
            continue
        # Not respelt: spelling variants make tiers of their own from the strict query only.
        looses.extend(q for piece in pieces if (q := clause_query(Clause(piece))) is not None)
    return stricts, looses, respelt


def _pieces(text: str) -> list[str]:
    """The words of a clause as written that analyze to terms ("IL-6": "IL", "6";
    "Kapur's": "Kapur", its ending being a stop word)."""
    return [text[t.startchar : t.endchar] for t in _NEWS(text, chars=True)]


def plan(text: str, aliases: AliasTable | None = None, respell: Respell | None = None) -> QueryPlan:
    """Build the strict and loose queries for a reader's text. A run of words that spells an
    alias variant becomes one clause matching any variant of its group; with `respell`, each
    other plain word also matches the words `respell` offers for it (spelling variants)."""
    plain: list[Clause] = []
    required: list[wq.Query] = []
    negatives: list[wq.Query] = []
    for clause in parse(text):
        if clause.negated or clause.field is not None:
            query = clause_query(clause)
            if query is not None:
                (negatives if clause.negated else required).append(query)
        else:
            plain.append(clause)
    positives, parts, respelt = _positive_queries(plain, aliases, respell)
    exclude = wq.Or(negatives) if negatives else None
    body_terms = frozenset(
        text.decode("utf-8") if isinstance(text, bytes) else text
        for q in positives + required
        for field, text in q.iter_all_terms()
        if field in ("body", "title")
    )
    if not positives and not required:
        return QueryPlan(None, None, exclude)
    strict = (
        wq.And(required + positives) if len(required + positives) > 1 else (required + positives)[0]
    )
    if len(parts) <= 1:
        return QueryPlan(strict, strict, exclude, body_terms, respelt)
    loose: wq.Query = wq.Or(parts)
    if required:
        loose = wq.And([*required, loose])
    return QueryPlan(strict, loose, exclude, body_terms, respelt)


def filter_query(filters: Filters) -> wq.Query | None:
    """The exact filters of a request as one Whoosh query (None when there are none)."""
    parts: list[wq.Query] = []
    if filters.category:
        parts.append(wq.Term("category", category_key(filters.category)))
    if filters.author:
        parts.append(wq.Term("author_key", key(filters.author)))
    if filters.tag:
        parts.append(wq.Term("tag_key", key(filters.tag)))
    if filters.date_from or filters.date_to:
        parts.append(wq.DateRange("published_at", filters.date_from, filters.date_to))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)
