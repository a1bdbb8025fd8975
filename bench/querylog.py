"""A search-box query log for a composed corpus: 1-4 word queries repeated with Zipf-like
frequency, as real traffic is (a few hot stories take most of the searches).

    python -m bench.querylog --corpus bench/corpora/news-10000-s7.jsonl --out queries.txt

Distinct queries are drawn from the corpus itself: headline words (two or three in a row),
single salient words, names (mid-sentence capitalised words), quoted phrases, a few four-word
queries, and about one in fourteen with a typo (a swapped, dropped or doubled letter). The
log is then `--entries` draws from those with probability proportional to 1 / rank^s, so the
top queries repeat often (what a result cache would see). One query per line, traffic order.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.corpus import PREFIXES, PROPER_NAME, SUFFIXES

# Short words a reader leaves out of a search box (the engine drops them anyway).
SKIP = frozenset(
    "the a an and or of in on at to for with from by as is are was were be has have had it its "
    "after over into new says say said will not but this that than what we know full story you "
    "update analysis explained live opinion pictures one year reaction latest".split()
)
FRAMES = re.compile(
    "|".join(re.escape(f.strip(" :-(),")) for f in (*PREFIXES, *SUFFIXES) if f.strip())
)


def salient(title: str) -> list[str]:
    title = FRAMES.sub(" ", title)
    words = re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", title)
    return [w for w in words if len(w) >= 3 and w.lower() not in SKIP]


def typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    return word[:at] + word[at] + word[at:]


def distinct_queries(records: list[dict[str, str]], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    titles = [w for w in (salient(r["title"]) for r in records) if w]
    found = Counter(PROPER_NAME.findall(" ".join(r["body"] for r in records[:5000])))
    names = sorted(n for n, c in found.items() if c >= 3)

    def run(size: int) -> Callable[[], str]:
        def make() -> str:
            words = rng.choice(titles)
            start = rng.randrange(0, max(1, len(words) - size + 1))
            return " ".join(words[start : start + size])

        return make

    makers: list[tuple[float, Callable[[], str]]] = [
        (0.22, run(2)),
        (0.20, run(3)),
        (0.15, run(1)),
        (0.20, lambda: rng.choice(names) if names else run(2)()),
        (0.08, lambda: f'"{run(2)()}"'),
        (0.05, run(4)),
    ]
    weights = [w for w, _ in makers]
    seen: dict[str, None] = {}
    while len(seen) < count:
        text = rng.choices([m for _, m in makers], weights)[0]().lower()
        if rng.random() < 0.07:
            words = text.split()
            long = [i for i, w in enumerate(words) if len(w.strip('"')) >= 5]
            if long:
                i = rng.choice(long)
                words[i] = typo(words[i], rng)
                text = " ".join(words)
        if text.strip('" '):
            seen[text] = None
    return list(seen)


def query_log(
    records: list[dict[str, str]], distinct: int, entries: int, seed: int, s: float = 0.9
) -> list[str]:
    pool = distinct_queries(records, distinct, seed)
    rng = random.Random(seed + 1)
    weights = [1.0 / (rank + 1) ** s for rank in range(len(pool))]
    return rng.choices(pool, weights, k=entries)


def read_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    log = query_log(read_records(args.corpus), args.distinct, args.entries, args.seed)
    args.out.write_text("\n".join(log) + "\n", encoding="utf-8")
    top = Counter(log).most_common(10)
    print(
        f"{len(log)} queries, {len(set(log))} distinct; top 10 take "
        f"{sum(c for _, c in top) / len(log):.0%}: {[q for q, _ in top[:5]]}"
    )


if __name__ == "__main__":
    main()
