"""Search-as-you-type: completions of the last word, and titles that match what is typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search.aliases import AliasTable
from search.analysis import CONTRACTION_PARTS, fold, name_analyzer, phonetic_key, tokens
from search.docsets import DocSets, top, whoosh_top

FIELD = "suggest"  # unstemmed words of titles and tags (see schema)
MAX_EXPANSIONS = 500  # words sharing the prefix that are looked at
MAX_RERANKED = 20  # most frequent of those, re-ranked by co-occurrence
# Titles are looked for under at most this many of those words, the most frequent: a prefix
# of one or two letters matches thousands of words, and Whoosh's prefix query joined them
# all (30,000 articles: suggest p99 6.5 s, for one letter typed).
MAX_TITLE_WORDS = 50
_WORDS = name_analyzer()


@dataclass(frozen=True)
class TitleMatch:
    id: str
    title: str
    url: str | None


@dataclass(frozen=True)
class Suggestions:
    completions: tuple[str, ...]
    titles: tuple[TitleMatch, ...]


def suggest(
    searcher: Searcher,
    sets: DocSets,
    text: str,
    limit: int,
    hidden: frozenset[int] = frozenset(),
    aliases: AliasTable | None = None,
    sounds: dict[str, list[str]] | None = None,
) -> Suggestions:
    """Complete the last (partial) word from title words, preferring words that occur with
    the words before it; list titles containing the earlier words and the partial one.
    Names come first when what is typed begins an alias variant ("srk" -> "Shah Rukh Khan"),
    and a word typed whole also completes to its indexed spelling variants ("pathan" ->
    "pathaan")."""
    words = [w for w in tokens(_WORDS, text) if w not in CONTRACTION_PARTS]  # "srk's f"
    if not words:
        return Suggestions((), ())
    if text[-1:].isspace():
        words.append("")  # "tom " asks for the next word, not a longer "tom"
    *before, partial = words
    reader = searcher.reader()
    candidates: list[tuple[int, str]] = []
    if partial:
        for raw in reader.expand_prefix(FIELD, partial):
            word = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if word in before:
                continue
            candidates.append((-int(reader.doc_frequency(FIELD, word)), word))
            if len(candidates) >= MAX_EXPANSIONS:
                break
    candidates.sort()
    context = [wq.Term(FIELD, w) for w in before]
    together = sets.of(searcher, wq.And(context)) if context else None
    ranked = []
    for minus_df, word in candidates[:MAX_RERANKED]:
        # With earlier words, rank by how many titles hold them together ("tom cru" -> cruise).
        weight = (
            len(sets.intersection([together, sets.term(searcher, FIELD, word).ids]))
            if together is not None
            else -minus_df
        )
        if weight:
            ranked.append((-weight, word))
    ranked.sort()
    prefix = " ".join(before)
    named = [
        name
        for name in (aliases.completions(before, partial) if aliases is not None else [])
        if _indexed(reader, name)
    ]
    sound = phonetic_key(partial) if sounds is not None and partial else None
    alike = [w for w in (sounds or {}).get(sound or "", ()) if w != partial][:2]
    words_after = [w for _, w in ranked] + alike
    found = [*named, *(f"{prefix} {w}".strip() for w in words_after)]
    # One completion per spelling once folded ("शाहरुख़" and "शाहरुख" are one).
    unique: dict[str, str] = {}
    for completion in found:
        unique.setdefault(fold(completion), completion)
    completions = tuple(unique.values())[:limit]
    title_query: wq.Query | None = None
    clauses: list[wq.Query] = list(context)
    if partial and len(candidates) > MAX_TITLE_WORDS:
        clauses.append(wq.Or([wq.Term(FIELD, w) for _, w in candidates[:MAX_TITLE_WORDS]]))
    elif partial:
        clauses.append(wq.Prefix(FIELD, partial))
    if clauses:
        title_query = clauses[0] if len(clauses) == 1 else wq.And(clauses)
    titles: tuple[TitleMatch, ...] = ()
    if title_query is not None:
        titles = tuple(
            TitleMatch(stored["id"], stored["title"], stored.get("url"))
            for stored in map(
                searcher.stored_fields, _best(searcher, sets, title_query, limit, hidden)
            )
        )
    return Suggestions(completions, titles)


def _indexed(reader: Any, name: str) -> bool:
    """Whether some title or tag has every word of `name` (an alias nobody writes about
    would only lead to an empty page)."""
    return all(reader.doc_frequency(FIELD, word) for word in tokens(_WORDS, name))


def _best(
    searcher: Searcher, sets: DocSets, query: wq.Query, limit: int, hidden: frozenset[int]
) -> list[int]:
    """The `limit` best-scoring documents of `query`, less `hidden`."""
    found = sets.scores(searcher, query)
    if found is not None:
        left_out = np.fromiter(sorted(hidden), dtype=np.int64, count=len(hidden))
        return [docnum for docnum, _ in top(found, sets.difference(found.ids, left_out), limit)]
    # A prefix is ranked by Whoosh's collector.
    return [docnum for docnum, _ in whoosh_top(searcher, query, limit, restrict=set(hidden))]
