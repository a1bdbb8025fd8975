"""Compose N realistic news articles from the real corpora in ../shared/data, deterministically.

    python -m bench.corpus --articles 100000 --out bench/corpora/news-100000.jsonl

An archive of hundreds of thousands of stories is not something we may ship, so benchmarks
build one: each article keeps a real story's headline and lead paragraph (BBC News, AG News,
or a SciFact abstract as a "science" story) and adds one to three paragraphs from other real
stories of the same category, so words, lengths (about 200 words) and topic clusters look
like news and related lists have something to find. A headline reused for a later article
gets a follow-up frame ("Update: ...", "...: what we know") as a newsroom's would. Authors
are invented names (ours), dates spread over 2014-2025, tags are the body's most frequent
proper names. Same seed, same sources: same file, byte for byte. The output goes to the
git-ignored bench/corpora/: never commit it (the sources' licences forbid that).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = Path(__file__).resolve().parent / "corpora"
AG_CATEGORIES = {"World": "world", "Sports": "sport", "Business": "business", "Sci/Tech": "tech"}
# Invented for this project: 24 x 24 = 576 bylines.
FIRST_NAMES = (
    "Aarav Priya Rohan Ananya Vikram Meera Kabir Isha Arjun Kavya Dev Nisha "
    "Daniel Sarah James Emily Oliver Grace Samuel Chloe Thomas Hannah Lucas Ruth"
).split()
LAST_NAMES = (
    "Sharma Iyer Kapoor Mehta Banerjee Nair Reddy Joshi Malhotra Desai Rao Sen "
    "Reyes Walker Hughes Bennett Carter Fischer Okafor Lindqvist Moreau Novak Park Quinn"
).split()
PREFIXES = ("", "Update: ", "Analysis: ", "Explained: ", "Live: ", "Opinion: ", "In pictures: ")
# An entertainment-first news site's mix of sections, not the sources' (SciFact alone would
# make a third of the archive science).
SECTION_SHARE = {
    "entertainment": 0.20,
    "world": 0.16,
    "sport": 0.15,
    "business": 0.15,
    "politics": 0.12,
    "tech": 0.12,
    "science": 0.10,
}
SUFFIXES = ("", ": what we know", " - the reaction", ", one year on", " (full story)", " - latest")
START = datetime(2014, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2026, 1, 1, tzinfo=UTC) - START).total_seconds())
PROPER_NAME = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)")
MIN_WORDS, MAX_WORDS = 150, 320


@dataclass(frozen=True)
class Story:
    title: str
    paragraphs: tuple[str, ...]


def load_sources(data: Path) -> dict[str, list[Story]]:
    """Real stories by category: BBC News (paragraphs), AG News and SciFact (one each)."""
    by_category: dict[str, list[Story]] = {}

    def add(category: str, title: str, paragraphs: list[str]) -> None:
        kept = tuple(p.strip() for p in paragraphs if len(p.split()) >= 8)
        if title.strip() and kept:
            by_category.setdefault(category, []).append(Story(title.strip(), kept))

    for record in _jsonl(data / "bbc-news" / "articles.jsonl"):
        add(record["category"], record["title"], record["body"].split("\n\n"))
    for record in _jsonl(data / "ag-news-test" / "articles.jsonl"):
        add(AG_CATEGORIES.get(record["category"], "world"), record["title"], [record["body"]])
    for record in _jsonl(data / "scifact" / "corpus.jsonl"):
        add("science", record["title"].rstrip("."), [record["text"]])
    if not by_category:
        raise SystemExit(f"no source stories under {data}")
    return by_category


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        raise SystemExit(f"{path} is missing: benchmarks need ../shared/data")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def tags_of(body: str, rng: random.Random) -> list[str]:
    """Two to four of the body's most frequent proper names (mid-sentence capitals)."""
    counts = Counter(PROPER_NAME.findall(body))
    return [name for name, _ in counts.most_common(rng.randint(2, 4))]


def compose(sources: dict[str, list[Story]], count: int, seed: int) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    categories = sorted(sources)
    weights = [SECTION_SHARE.get(c, 0.1) for c in categories]
    # Each category's headlines are used in a shuffled cycle, so all are used before any
    # repeats; a repeat gets the next follow-up frame.
    order = {c: rng.sample(range(len(sources[c])), len(sources[c])) for c in categories}
    used = dict.fromkeys(categories, 0)
    for n in range(count):
        category = rng.choices(categories, weights)[0]
        pool = sources[category]
        turn, at = divmod(used[category], len(pool))
        used[category] += 1
        lead = pool[order[category][at]]
        paragraphs = [lead.paragraphs[0]]
        words = len(paragraphs[0].split())
        while words < MIN_WORDS or len(paragraphs) < 2:
            extra = rng.choice(rng.choice(pool).paragraphs)
            if extra in paragraphs:
                continue
            if words + len(extra.split()) > MAX_WORDS and len(paragraphs) >= 2:
                break
            paragraphs.append(extra)
            words += len(extra.split())
        body = "\n\n".join(paragraphs)
        prefix = PREFIXES[turn % len(PREFIXES)]
        suffix = SUFFIXES[(turn // len(PREFIXES)) % len(SUFFIXES)]
        article_id = f"{category}-{n:07d}"
        published = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        yield {
            "id": article_id,
            "title": f"{prefix}{lead.title}{suffix}",
            "body": body,
            "url": f"https://news.example/{category}/{article_id}",
            "category": category,
            "tags": tags_of(body, rng),
            "author": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "published_at": published.isoformat(timespec="seconds"),
            "source": "Bench Daily",
            "lang": "en",
        }


def write_corpus(count: int, out: Path, seed: int = 7, data: Path = DEFAULT_DATA) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for article in compose(load_sources(data), count, seed):
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
    partial.replace(out)  # a half-written corpus is never mistaken for a whole one
    return out


def corpus_path(count: int, seed: int) -> Path:
    return CORPORA / f"news-{count}-s{seed}.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    out = args.out or corpus_path(args.articles, args.seed)
    print(write_corpus(args.articles, out, args.seed, args.data))


if __name__ == "__main__":
    main()
